"""Import speed of the store on Amazon Beauty: shopmind's validated, idempotent import vs a bare
sqlite3 ``executemany`` of the same rows (no validation, no checks) as the floor.

    python benchmarks/store_import.py --data ../shared/data/recsys/amazon-beauty --out FILE.json
    [--runs 3] [--pg postgresql://postgres@127.0.0.1:5432/test] [--quick]
"""

from __future__ import annotations

import argparse
import sqlite3
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import SHARED_DATA, median_seconds, peak_mb, print_table, write_results  # noqa: E402

from shopmind.config import Settings  # noqa: E402
from shopmind.data.importers import read_amazon_seqrec  # noqa: E402
from shopmind.data.importers.amazon_seqrec import read_seqrec_file  # noqa: E402
from shopmind.data.store import Store  # noqa: E402


def _quick_copy(folder: Path, tmp: Path) -> tuple[Path, Path | None]:
    """The first 500 users and the items they touch, for a seconds-long CI run."""
    lines = (folder / "Beauty.txt").read_text().splitlines()[:500]
    seq = tmp / "Beauty.txt"
    seq.write_text("\n".join(lines) + "\n")
    text = folder / "item_text.tsv"
    if not text.exists():
        return seq, None
    wanted = {tok for line in lines for tok in line.split()[1:]}
    rows = text.read_text().splitlines()
    small = tmp / "item_text.tsv"
    small.write_text("\n".join([rows[0]] + [r for r in rows[1:] if r.split("\t")[0] in wanted]))
    return seq, small


def shopmind_import(url: str, seq: Path, text: Path | None, fresh: bool) -> dict:
    store = Store(url, settings=Settings(data_dir=Path(tempfile.mkdtemp())))
    if fresh:
        from shopmind.data import schema

        schema.metadata.drop_all(store.engine)
        schema.metadata.create_all(store.engine)
    report = store.ingest(read_amazon_seqrec(seq, text))
    stats = store.stats()
    store.close()
    return {"report": report.as_dict(), "users": stats["users"], "items": stats["items"],
            "events": stats["events"]}


def bare_sqlite(path: Path, seq: Path) -> None:
    """The floor: the same event rows into a bare table, one executemany, no checks."""
    events = read_seqrec_file(seq)
    con = sqlite3.connect(path)
    con.execute("PRAGMA journal_mode=WAL")
    con.execute("CREATE TABLE events (user_id TEXT, item_id TEXT, ts REAL)")
    con.executemany("INSERT INTO events VALUES (?, ?, ?)",
                    zip(events["user_id"], events["item_id"], events["ts"].tolist()))
    con.commit()
    con.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=SHARED_DATA / "recsys" / "amazon-beauty")
    parser.add_argument("--out", type=Path, default=Path("benchmarks/out/store_import.json"))
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--pg", help="also import into this PostgreSQL URL (tables recreated)")
    parser.add_argument("--quick", action="store_true", help="500 users, 1 run")
    args = parser.parse_args()

    tmp = Path(tempfile.mkdtemp())
    seq, text = (args.data / "Beauty.txt", args.data / "item_text.tsv")
    text = text if text.exists() else None
    runs = args.runs
    if args.quick:
        seq, text = _quick_copy(args.data, tmp)
        runs = 1

    counter = iter(range(10_000))
    results, counts = [], {}

    def fresh_sqlite() -> None:
        counts.update(shopmind_import(f"sqlite:///{tmp}/run{next(counter)}.db", seq, text, False))

    median, times = median_seconds(fresh_sqlite, runs)
    n_events = counts["events"]
    results.append({"name": "shopmind-import-sqlite", "baseline": False, "metrics": {
        "seconds": round(median, 3), "events_per_second": round(n_events / median),
        "users": counts["users"], "items": counts["items"], "events": n_events},
        "times": times})

    reimport_db = f"sqlite:///{tmp}/reimport.db"
    shopmind_import(reimport_db, seq, text, False)
    median_re, times_re = median_seconds(
        lambda: counts.update(shopmind_import(reimport_db, seq, text, False)), runs)
    assert sum(counts["report"]["inserted"].values()) == 0, "re-import must add nothing"
    results.append({"name": "shopmind-reimport-sqlite (idempotent, adds 0)", "baseline": False,
                    "metrics": {"seconds": round(median_re, 3)}, "times": times_re})

    median_floor, times_floor = median_seconds(
        lambda: bare_sqlite(tmp / f"bare{next(counter)}.db", seq), runs)
    results.append({"name": "bare-sqlite3-executemany (events only, no checks)", "baseline": True,
                    "metrics": {"seconds": round(median_floor, 3),
                                "events_per_second": round(n_events / median_floor)},
                    "times": times_floor})
    results[0]["metrics"]["ratio_to_floor"] = round(median / median_floor, 2)

    if args.pg:
        median_pg, times_pg = median_seconds(
            lambda: counts.update(shopmind_import(args.pg, seq, text, True)), runs)
        results.append({"name": "shopmind-import-postgresql", "baseline": False, "metrics": {
            "seconds": round(median_pg, 3), "events_per_second": round(n_events / median_pg),
            "users": counts["users"], "items": counts["items"], "events": counts["events"]},
            "times": times_pg})

    for r in results:
        r["dataset"] = "amazon-beauty" + (" (quick: 500 users)" if args.quick else "")
        r["peak_mb"] = peak_mb()
    write_results(args.out, "store_import", results[0]["dataset"],
                  f"median of {runs} runs, each into a fresh store", results)
    print_table(results, ["seconds", "events_per_second", "ratio_to_floor", "events"])
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
