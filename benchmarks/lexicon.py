"""The review lexicon alone, no training, on real reviews: document polarity in Chinese and English.

    python benchmarks/lexicon.py --data ../shared/data --out FILE.json [--quick]

What a shop gets before it has trained anything. A review is called positive when the lexicon's
document score is above zero (a review without any opinion word scores zero: negative). Speed
is measured with the whole analyzer in ``benchmarks/reviews.py``.

* Chinese: the dev and test splits of every ``reviews-zh/<name>/`` with a binary label (nothing
  is fitted, so both splits are held-out data).
* English: ``moderation/ott-op-spam/`` — 1,600 hotel reviews written as positive or negative
  (truthful and deceptive alike), read from its ``positive_polarity`` / ``negative_polarity``
  folders.

Each set is scored by the default analyzer (a complaint weighs 1.5 times a compliment in the
document score) and, in the same process, with complaints and compliments weighed evenly.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import SHARED_DATA, print_table, write_results  # noqa: E402
from review_data import read_sentiment  # noqa: E402

from shopmind.evaluate import classification_metrics  # noqa: E402
from shopmind.reviews import ReviewAnalyzer  # noqa: E402

METHODS = {"shopmind-lexicon": 1.5, "shopmind-lexicon-even-weights": 1.0}
_QUICK = 300


def chinese_sets(data: Path) -> list[tuple[str, list[str], np.ndarray]]:
    out = []
    for folder in sorted((data / "reviews-zh").glob("*/")):
        for split in ("dev", "test"):
            if (folder / f"{split}.csv").is_file():
                texts, labels = read_sentiment(folder / f"{split}.csv")
                if set(np.unique(labels)) <= {0, 1}:
                    out.append((f"{folder.name}/{split}", texts, labels))
    return out


def ott_set(data: Path) -> list[tuple[str, list[str], np.ndarray]]:
    root = data / "moderation" / "ott-op-spam"
    texts, labels = [], []
    for polarity, label in (("negative_polarity", 0), ("positive_polarity", 1)):
        for path in sorted((root / polarity).rglob("*.txt")):
            texts.append(path.read_text(encoding="utf-8", errors="replace").strip())
            labels.append(label)
    return [("ott-op-spam", texts, np.array(labels))] if texts else []


def run(name: str, texts: list[str], labels: np.ndarray, quick: bool) -> list[dict]:
    if quick and len(texts) > _QUICK:
        keep = np.random.default_rng(0).choice(len(texts), _QUICK, replace=False)
        texts, labels = [texts[i] for i in keep], labels[keep]
    rows = []
    for method, weight in METHODS.items():
        scores = np.array([a.score for a in ReviewAnalyzer(negative_weight=weight).analyze(texts)])
        metrics = classification_metrics(labels, (scores > 0).astype(int), scores)
        # no opinion word found (or opinions that cancel exactly)
        metrics["zero_score_share"] = float(np.mean(scores == 0))
        rows.append({"name": method, "baseline": weight == 1.0, "dataset": name,
                     "task": "document sentiment (no training)", "negative_weight": weight,
                     "metrics": {k: round(v, 4) for k, v in metrics.items()},
                     "n_test": len(texts)})
    return rows


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=SHARED_DATA,
                        help="folder with reviews-zh/ and/or moderation/ott-op-spam/")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--quick", action="store_true", help="subsampled, seconds-long run")
    args = parser.parse_args(argv)
    sets = chinese_sets(args.data) + ott_set(args.data)
    if not sets:
        sys.exit(f"no reviews-zh/ or moderation/ott-op-spam/ data under {args.data}")
    started = time.perf_counter()
    results = [row for name, texts, labels in sets for row in run(name, texts, labels, args.quick)]
    write_results(args.out, "lexicon", ", ".join(name for name, _, _ in sets),
                  "no training: a review is positive when the lexicon's document score is > 0"
                  + (" (quick: subsampled)" if args.quick else ""),
                  results, quick=args.quick,
                  wall_seconds=round(time.perf_counter() - started, 1))
    print_table(results, ["dataset", "accuracy", "macro_f1", "auc", "zero_score_share"])


if __name__ == "__main__":
    main()
