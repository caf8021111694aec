"""Propensity benchmark: calibrated purchase / click probabilities on a temporal split.

    python benchmarks/propensity.py --out benchmarks/results/propensity-demo.json [--quick]
    python benchmarks/propensity.py --data SHOP_DATA_DIR --out FILE.json

By default the data is the demo shop, generated in-process for each seed (its users have
planted tastes, price sensitivities and follow-up purchases). ``--data`` points at a shopmind
data directory (a store built with ``shopmind import``) instead; without one there, the demo
is used.

Protocol: the cut is one horizon (7 days) before the newest event. Each model is fitted on the
events before the cut only (it learns from the horizon before *its* newest event), then scores
the candidate pairs at the cut — for every user with history, the item-kNN top 50 plus the
items they touched — and is judged on which pairs had a target event in the horizon after the
cut. Metrics: ROC-AUC, expected calibration error (10 equal-width bins, and 1000 bins, since
the probabilities are small), log-loss; the popularity-only model (item event and purchase
counts, calibrated the same way) is the baseline, run in the same process on the same split.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import REPO, median_seconds, peak_mb_during, print_table, write_results  # noqa: E402

from shopmind.evaluate import expected_calibration_error  # noqa: E402
from shopmind.recommend.propensity import Propensity, temporal_evaluation  # noqa: E402

POPULARITY = ("i_events", "i_purchases")
MODELS = {"propensity-logistic": (None, False), "popularity-only": (POPULARITY, True)}
"""name -> (feature subset, baseline?)"""


def load_data(args, seed: int):
    """(events, items, dataset name) of one run."""
    if args.data is not None and (Path(args.data) / "shopmind.db").is_file():
        from shopmind.config import Settings
        from shopmind.data.store import Store

        store = Store(settings=Settings(data_dir=Path(args.data)))
        try:
            return store.events_frame(), store.items_frame(), Path(args.data).name
        finally:
            store.close()
    if args.data is not None:
        print(f"no shopmind store in {args.data}; using the demo shop", file=sys.stderr)
    from shopmind.data.demo import generate_demo_shop

    shop = generate_demo_shop(seed=seed, n_users=args.users, days=args.days)
    return shop.events, shop.items, f"demo-shop ({args.users} users, {args.days} days)"


def run(args) -> list[dict]:
    results: dict[tuple[str, str], dict] = {}
    dataset = ""
    for seed in args.seeds:
        events, items, dataset = load_data(args, seed)
        for target in args.targets:
            for name, (features, baseline) in MODELS.items():
                model = Propensity(target=target, features=features, seed=seed,
                                   horizon_days=args.horizon)
                with peak_mb_during() as memory:
                    start = time.perf_counter()
                    measured = temporal_evaluation(model, events, items)
                    seconds = time.perf_counter() - start
                # The same pairs again, for the ECE on fine bins (the metric is binned on
                # [0, 1]; with probabilities of a few percent 10 bins collapse into one).
                snapshot = model.snapshot_
                rows, cols = model.population(snapshot)
                y = model.labels(snapshot, events, rows, cols, start=measured["cutoff"])
                p = model.probability(snapshot.features(rows, cols))
                fine = expected_calibration_error(y, p, n_bins=1000)
                user = snapshot.user_ids[0]
                some = snapshot.item_ids[:100]
                one_call, _ = median_seconds(lambda m=model, u=user, i=some: m.predict_proba(u, i), 5)
                row = results.setdefault((target, name), {
                    "name": f"{name} ({target})", "baseline": baseline, "dataset": dataset,
                    "target": target, "per_seed": [], "seeds": []})
                row["seeds"].append(seed)
                row["per_seed"].append({
                    "seed": seed, "auc": measured["auc"], "ece": measured["ece"],
                    "ece_1000_bins": fine, "log_loss": measured["log_loss"],
                    "positives": measured["positives"], "pairs": measured["pairs"],
                    "positive_rate": measured["positive_rate"],
                    "mean_probability": measured["mean_probability"],
                    "candidate_recall": measured["candidate_recall"],
                    "fit_and_score_seconds": round(seconds, 2),
                    "predict_ms_per_100_items": round(one_call * 1000, 2),
                    "peak_mb": memory["peak_mb"]})
                print(f"seed {seed} {target:8s} {name:20s} auc {measured['auc']:.4f} "
                      f"ece {measured['ece']:.5f} ece@1000 {fine:.5f} "
                      f"log-loss {measured['log_loss']:.5f} positives {measured['positives']} "
                      f"({seconds:.1f} s)", flush=True)
    out = []
    for row in results.values():
        per_seed = row["per_seed"]
        mean = {k: float(np.mean([r[k] for r in per_seed])) for k in (
            "auc", "ece", "ece_1000_bins", "log_loss", "positive_rate", "mean_probability",
            "candidate_recall")}
        row["metrics"] = {k: round(v, 6) for k, v in mean.items()}
        row["fit_seconds"] = round(float(np.mean([r["fit_and_score_seconds"]
                                                  for r in per_seed])), 2)
        row["predict_ms_per_query"] = round(float(np.mean([r["predict_ms_per_100_items"]
                                                           for r in per_seed])), 2)
        row["peak_mb"] = max(r["peak_mb"] for r in per_seed)
        out.append(row)
    return out


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=None,
                        help="a shopmind data directory with a store (default: the demo shop)")
    parser.add_argument("--out", type=Path,
                        default=REPO / "benchmarks" / "results" / "propensity-demo.json")
    parser.add_argument("--quick", action="store_true", help="a seconds-long smoke run")
    parser.add_argument("--users", type=int, default=3000)
    parser.add_argument("--days", type=int, default=120)
    parser.add_argument("--horizon", type=float, default=7.0)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--targets", nargs="+", default=["purchase", "click"])
    args = parser.parse_args(argv)
    if args.quick:
        args.users, args.days, args.seeds, args.horizon = 300, 60, [0], 14.0
    results = run(args)
    print_table(results, ["auc", "ece", "ece_1000_bins", "log_loss", "positive_rate",
                          "candidate_recall", "fit_seconds", "predict_ms_per_query"])
    write_results(args.out, "propensity", results[0]["dataset"],
                  f"temporal split: fit on events before a cut {args.horizon:g} days before the "
                  f"newest event; score (user, candidate item) pairs at the cut (item-kNN top "
                  f"50 + items the user touched); label = target event in the {args.horizon:g} "
                  f"days after the cut", results,
                  horizon_days=args.horizon, quick=args.quick)
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
