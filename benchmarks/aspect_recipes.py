"""Which fine-tuning recipe serves aspect-term sentiment: chosen on dev splits, never on test.

    python benchmarks/aspect_recipes.py --data ../shared/data --out FILE.json [--quick]
        [--seeds N | --folds K] [--workers W] [--recipes NAME ...] [--only SET ...]

For every English aspect set under ``--data`` (``absa/<name>/``, read as ``benchmarks/reviews.py``
reads them) a stratified 15 % of the train file (seed 777) is set aside as the dev split. Each
recipe — :func:`shopmind.reviews.aspect_term_model` with a few parameters changed (LoRA or every
weight, the learning rate, how the encoder is read, the patience) — fine-tunes ``--seeds`` single
models on the rest of train (each stopping early on its own tenth, as the recipe does), which then
score the dev split and the test file; the recipe "full 1e-4 joint" instead fits each model on
the rest of every set's train together (another domain's labelled pairs as extra data)
and scores each set. Reported per recipe and set: dev and test accuracy and
macro-F1 of the models averaged, the mean accuracy of a single model, seconds per model.
``chosen`` names the recipe with the best dev accuracy of the averaged models, over the sets
together; test scores are printed only to see how far dev predicted them.

``--folds K`` measures on the whole train file instead (a 15 % dev split of a few thousand pairs
cannot tell recipes a point apart): K-fold cross-validation, the K fold models being the seeds;
the dev scores are then out of fold — each train row scored by the one model that did not learn
from it — and the test scores those of the K models averaged.

Dev split and folds hold whole sentences: SemEval-14 has several aspects per sentence (laptops
2,328 pairs from 1,482 sentences), and a dev pair whose sentence was trained on under another
aspect is easier than a test pair (restaurants out of fold: 0.8065 with folds of pairs,
``aspect-recipes-cv.json``; 0.7733 for the same recipe with folds of sentences,
``aspect-recipes-cv-sentences.json``).

A run is a few hundred fine-tunings: minutes on a GPU (``--workers`` runs that many at once on
it), many hours on a CPU. ``--quick``: tiny subsets, one epoch, every fourth recipe, seconds.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import sys
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import SHARED_DATA, print_table, write_results  # noqa: E402
from review_data import aspect_datasets, find_folders  # noqa: E402
from reviews import _mostly_latin  # noqa: E402

from shopmind.evaluate import classification_metrics  # noqa: E402
from shopmind.reviews.absa import locate_term  # noqa: E402
from shopmind.reviews.base import stratified_holdout  # noqa: E402
from shopmind.text.encoders import PACKAGED_MINILM, PACKAGED_MPNET  # noqa: E402

# each a change to the MiniLM recipe aspect_term_model served until 2026-12-06 (every weight at
# 1e-4, batch 32, each model stopping on its own tenth of the rows within 15 epochs, no R-Drop):
# pinned here so that every recipe keeps the meaning it was measured with
BASE = {"model": PACKAGED_MINILM, "dev_share": 0.1, "patience": 2, "epochs": 15, "rdrop": 0.0}
RECIPES = {
    "full 1e-4": {},
    "full 5e-5": {"lr": 5e-5, "batch_size": 16},
    "full 2e-5": {"lr": 2e-5, "batch_size": 16},
    "full 2e-4": {"lr": 2e-4},
    "lora 5e-4": {"lora": True, "lr": 5e-4},
    "lora 1e-3": {"lora": True, "lr": 1e-3},
    "full 1e-4 patience 3": {"patience": 3, "epochs": 20},
    "full 1e-4 pair-pooled": {"pooling": "mean+pair"},
    "full 1e-4 pair-pooled patience 3": {"pooling": "mean+pair", "patience": 3, "epochs": 20},
    "full 1e-4 averaged": {"average": 0.5},
    "full 1e-4 unaveraged": {"average": 0.0},
    # the dev rows each model stops on are whole sentences, not rows
    "full 1e-4 averaged sentence-dev": {"average": 0.5, "group_dev": True},
    # no dev rows, no early stopping: every row learned from, the rate decaying to 0 over E epochs
    "full 1e-4 averaged 5 epochs": {"average": 0.5, "dev_share": 0.0, "epochs": 5},
    "full 1e-4 averaged 8 epochs": {"average": 0.5, "dev_share": 0.0, "epochs": 8},
    # the encoder's masked-LM pre-training continued on the fit rows' sentences first
    "full 1e-4 averaged adapted": {"average": 0.5, "adapt": 30},
    # the term asked about as a question (an auxiliary sentence, as in QA-M)
    "full 1e-4 averaged question": {"average": 0.5,
                                    "pair_template": "what do you think of the {term} ?"},
    # R-Drop: two dropout masks' predictions kept together
    "full 1e-4 averaged r-drop": {"average": 0.5, "rdrop": 1.0},
    "full 1e-4 averaged r-drop 8 epochs": {"average": 0.5, "rdrop": 1.0, "dev_share": 0.0,
                                           "epochs": 8},
    # the same, R-Drop's slower fit given half as long again
    "full 1e-4 averaged r-drop 12 epochs": {"average": 0.5, "rdrop": 1.0, "dev_share": 0.0,
                                            "epochs": 12},
    # the served recipe with the head also reading the term's tokens (judged before on a dev
    # split of pairs, where a dev sentence trained on under another aspect favours the sentence)
    "full 1e-4 averaged r-drop 8 epochs pair-pooled": {"average": 0.5, "rdrop": 1.0,
                                                       "dev_share": 0.0, "epochs": 8,
                                                       "pooling": "mean+pair"},
    # the same 8 epochs, the weights averaged over their last 2 (a flatter point) not half of one
    "full 1e-4 r-drop 8 epochs averaged over 2": {"average": 2.0, "rdrop": 1.0, "dev_share": 0.0,
                                                  "epochs": 8},
    # each layer's rate 0.85 times the one above (the embeddings' 0.85 ** 7 = 0.32)
    "full 1e-4 averaged layer-decay": {"average": 0.5, "layer_decay": 0.85},
    # all-mpnet-base-v2 (110 M parameters, 5x MiniLM-L6's) at a base model's usual rate, no R-Drop
    "mpnet 3e-5 averaged 5 epochs": {"model": PACKAGED_MPNET, "lr": 3e-5,
                                     "batch_size": 16, "average": 0.5, "dev_share": 0.0,
                                     "epochs": 5},
    # not a parameter: each model learns from every set's fit rows at once and scores each set
    "full 1e-4 joint": {"joint": True},
}
DEV_SHARE, DEV_SEED = 0.15, 777


def english_sets(data: Path, quick: bool, only: list[str] | None = None) -> dict[str, tuple]:
    """name -> (train rows, test rows) of every English aspect set under ``data`` (of those
    named in ``only``, when given)."""
    sets = {}
    for folder in find_folders(data)[1]:
        for name, train, test in aspect_datasets(folder):
            if not _mostly_latin(train["text"]) or (only and name not in only):
                continue  # the packaged MiniLM reads English
            if quick:
                train, test = train.iloc[:60], test.iloc[:30]
            sets[name] = (train.reset_index(drop=True), test)
    return sets


def dev_rows(train: pd.DataFrame, seed: int, folds: int) -> np.ndarray:
    """The dev rows (positions in ``train``) of the model with ``seed``: the stratified 15 %
    every model shares, or with ``folds`` the seed-th of that many stratified folds. Whole
    sentences either way: a sentence's other aspects trained on would make its dev pair easy."""
    codes = np.unique(train["label"].astype(str), return_inverse=True)[1]
    sentences = [locate_term(t, a)[0] for t, a in zip(train["text"], train["term"])]
    if not folds:
        return stratified_holdout(codes, DEV_SHARE, DEV_SEED, sentences)
    from sklearn.model_selection import StratifiedGroupKFold

    splits = StratifiedGroupKFold(folds, shuffle=True, random_state=DEV_SEED).split(
        codes, codes, sentences)
    return sorted(list(splits)[seed][1])


def fit_one(names: list[str], rows: list[tuple], recipe: str, seed: int, quick: bool) -> dict:
    """One model of ``recipe`` fitted on the fit rows of every set in ``names`` (their (fit,
    dev, test) ``rows``): its probabilities on each set's dev and test rows."""
    import torch

    from shopmind.reviews import aspect_term_model

    if multiprocessing.parent_process():  # one of several fine-tunings sharing the machine
        torch.set_num_threads(1)
    fit = pd.concat([fit for fit, _, _ in rows])
    start = time.perf_counter()
    settings = {**BASE, **RECIPES[recipe], **({"epochs": 1} if quick else {})}  # quick: 1 epoch
    settings.pop("joint", None)
    model = aspect_term_model(ensemble=1, seed=seed, **settings).fit(
        fit["text"], fit["term"], fit["label"].astype(str))
    scored = {split: {name: model.predict_proba(part["text"], part["term"])
                      for name, part in zip(names, parts)}
              for split, parts in (("dev", [r[1] for r in rows]), ("test", [r[2] for r in rows]))}
    return {"name": " + ".join(names), "recipe": recipe, "seed": seed,
            "dev_rows": {name: r[1].index.tolist() for name, r in zip(names, rows)},
            "classes": list(map(str, model.classes_)), "seconds": time.perf_counter() - start,
            "epochs": len(model.reports_[0].epoch_seconds), **scored}


def summarise(name: str, recipe: str, fits: list[dict], sets: dict) -> dict:
    """The recipe's scores on one set: its models averaged on the shared dev split (or, with
    folds, each dev row scored by the one model that did not learn from it) and on test."""
    classes = np.array(fits[0]["classes"])
    row = {"name": recipe, "dataset": name, "n_models": len(fits),
           "seconds_per_model": round(float(np.mean([f["seconds"] for f in fits])), 1),
           "epochs": [f["epochs"] for f in fits], "metrics": {}}
    train_labels, test_labels = (rows["label"].astype(str).to_numpy() for rows in sets[name])
    shared_dev = all(f["dev_rows"][name] == fits[0]["dev_rows"][name] for f in fits)
    for split in ("dev", "test"):
        if split == "dev" and not shared_dev:  # folds: out-of-fold, one model per row
            truth = np.concatenate([train_labels[f["dev_rows"][name]] for f in fits])
            proba = [np.concatenate([f["dev"][name] for f in fits])]
        else:
            truth = train_labels[fits[0]["dev_rows"][name]] if split == "dev" else test_labels
            proba = [f[split][name] for f in fits]
        metrics = classification_metrics(truth, classes[np.mean(proba, axis=0).argmax(1)])
        row["metrics"][f"{split}_accuracy"] = round(metrics["accuracy"], 4)
        row["metrics"][f"{split}_macro_f1"] = round(metrics["macro_f1"], 4)
        row["metrics"][f"{split}_single_accuracy"] = round(float(np.mean(
            [np.mean(classes[p.argmax(1)] == truth) for p in proba])), 4)
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=SHARED_DATA)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--recipes", nargs="+", choices=list(RECIPES), default=list(RECIPES),
                        help="run only these recipes (a CPU has time for few)")
    parser.add_argument("--only", nargs="+", help="run only these sets (e.g. semeval14/laptops)")
    parser.add_argument("--folds", type=int, default=0,
                        help="score by K-fold cross-validation over each train file (the K "
                             "fold models are the seeds) instead of the shared 15%% dev split")
    parser.add_argument("--workers", type=int, default=1,
                        help="fine-tunings at once (separate processes; for a GPU)")
    args = parser.parse_args()
    started = time.perf_counter()
    if not args.data.is_dir():
        sys.exit(f"no data folder at {args.data}")
    sets = english_sets(args.data, args.quick, args.only)
    if not sets:
        sys.exit(f"no English aspect sets (absa/<name>/ train and test files) under {args.data}")
    recipes = args.recipes[::4] if args.quick else args.recipes
    seeds = args.folds or (1 if args.quick else args.seeds)

    def rows(name: str, seed: int) -> tuple:
        train, test = sets[name]
        dev = dev_rows(train, seed, args.folds)
        return train.drop(train.index[dev]), train.iloc[dev], test

    jobs = [(names, [rows(n, s) for n in names], r, s, args.quick)
            for s in range(seeds) for r in recipes
            for names in ([list(sets)] if RECIPES[r].get("joint") else [[n] for n in sets])]
    print(f"{len(jobs)} fine-tunings: {len(recipes)} recipes x {seeds} seeds x {sorted(sets)}",
          flush=True)
    fits = []

    def done(fit: dict) -> None:  # hours on a CPU: say how far it is
        fits.append(fit)
        print(f"{len(fits)}/{len(jobs)} {fit['name']} {fit['recipe']} seed {fit['seed']}: "
              f"{fit['epochs']} epochs, {fit['seconds']:.0f} s", flush=True)

    if args.workers > 1:
        with ProcessPoolExecutor(args.workers, mp_context=multiprocessing.get_context("spawn")) as pool:
            for future in as_completed([pool.submit(fit_one, *job) for job in jobs]):
                done(future.result())
    else:
        for job in jobs:
            done(fit_one(*job))
    results = [summarise(n, r, [f for f in fits if f["recipe"] == r and n in f["dev"]], sets)
               for n in sets for r in recipes]
    dev = {r: np.mean([row["metrics"]["dev_accuracy"] for row in results if row["name"] == r])
           for r in recipes}
    chosen = max(dev, key=dev.get)
    print_table(results, ["dataset", "dev_accuracy", "dev_single_accuracy", "test_accuracy",
                          "seconds_per_model"])
    print(f"chosen on dev: {chosen} (mean dev accuracy {dev[chosen]:.4f})")
    protocol = (f"{args.folds}-fold cross-validation over each set's train file (stratified, "
                f"whole sentences in one fold, seed "
                f"{DEV_SEED}): dev scores are out of fold, every train row scored by the one model "
                f"that did not learn from it; test by the {seeds} fold models averaged"
                if args.folds else
                f"each set's train less a stratified {DEV_SHARE:.0%} dev split of whole sentences "
                f"(seed {DEV_SEED}): "
                f"{seeds} models per recipe, averaged")
    write_results(args.out, "aspect-recipes", ", ".join(sorted(sets)),
                  f"{protocol}; chosen by dev accuracy over the sets",
                  results, quick=args.quick, chosen=chosen,
                  recipes={r: RECIPES[r] for r in recipes},
                  wall_seconds=round(time.perf_counter() - started, 1))
    print(json.dumps({"chosen": chosen, "wall_seconds": round(time.perf_counter() - started, 1)}))


if __name__ == "__main__":
    main()
