"""Regenerate the README's results table from the JSON files in benchmarks/results/.

    python benchmarks/report.py            # rewrites the block between the README's markers
    python benchmarks/report.py --quick    # CI: only checks that every results file parses
"""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
BEGIN, END = "<!-- results:begin -->", "<!-- results:end -->"


def _value(v: object) -> str:
    if isinstance(v, float):
        return f"{v:.4g}"
    return str(v)


def results_table(results_dir: Path) -> str:
    lines = ["| benchmark | dataset | method | baseline | metrics |", "|---|---|---|---|---|"]
    for path in sorted(results_dir.glob("*.json")):
        doc = json.loads(path.read_text())
        for r in doc["results"]:
            metrics = ", ".join(f"{k} {_value(v)}" for k, v in r.get("metrics", {}).items())
            for key in ("fit_seconds", "predict_ms_per_query", "peak_mb"):
                if key in r:
                    metrics += f", {key} {_value(r[key])}"
            if (r.get("machine") or {}).get("gpu"):  # timings from a GPU machine say so
                metrics += f", on {r['machine']['gpu']}"
            lines.append(f"| {doc['benchmark']} | {r.get('dataset', doc['dataset'])} | "
                         f"{r['name']} | {'yes' if r.get('baseline') else ''} | {metrics} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description="README results table from benchmark JSON")
    parser.add_argument("--results", type=Path, default=REPO / "benchmarks" / "results")
    parser.add_argument("--readme", type=Path, default=REPO / "README.md")
    parser.add_argument("--quick", action="store_true", help="check only, write nothing")
    parser.add_argument("--out", help="ignored; accepted like every benchmark's --out")
    args = parser.parse_args()
    table = results_table(args.results)
    if args.quick:
        print(table)
        return
    readme = args.readme.read_text()
    if BEGIN not in readme or END not in readme:
        raise SystemExit(f"{args.readme} has no {BEGIN} … {END} block to fill")
    block = f"{BEGIN}\n{table}\n{END}"
    args.readme.write_text(re.sub(re.escape(BEGIN) + ".*?" + re.escape(END), lambda _: block,
                                  readme, flags=re.S))
    print(f"updated {args.readme}")


if __name__ == "__main__":
    main()
