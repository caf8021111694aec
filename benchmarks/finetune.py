"""Fine-tuning on real data: MiniLM full vs LoRA on SemEval-2014, and our own Chinese encoder.

    python benchmarks/finetune.py --data ../shared/data --out FILE.json [--quick]
        [--tasks semeval chinese] [--threads N] [--pretrain-minutes M] [--finetune-minutes M]

* ``semeval`` — aspect-term sentiment on ``absa/semeval14`` (laptops, restaurants; read by
  ``benchmarks/reviews.py``'s readers) as BERT-SPC pairs (sentence, aspect term): the packaged
  MiniLM fine-tuned in full and with LoRA, same data, same epochs and early stopping on a dev
  split carved from train (10 %, seed 0); accuracy and macro-F1 on the test file, trainable
  parameters, seconds per epoch.
* ``chinese`` — ``reviews-zh/online_shopping_10_cats``: a tokenizer and a BERT encoder
  pre-trained from scratch (masked LM, wall-clock budget) on the texts of train and dev (never
  test), then fine-tuned on train and dev less 1,500 dev reviews that choose the checkpoint
  (time budget), evaluated on test; against the character 1-3-gram TF-IDF logistic regression of
  ``benchmarks/reviews.py`` (fit on train + dev, as there) on the same test split. The encoder is
  fine-tuned twice from the same checkpoint: on the labels alone, and distilled — half its loss
  on the out-of-fold probabilities (4 folds) of shopmind's n-gram ensemble, the teacher.

``--tasks`` runs a part; results of the other parts already in ``--out`` are kept (their
commands in ``runs_merged``), so parts run separately end in one JSON. Models are written
under ``--work`` (default a folder in /tmp).
``--pretrain-only`` writes the Chinese encoder to ``--work``/zh-encoder and stops; ``--encoder``
fine-tunes such a folder (its ``pretrain.json`` goes into the results) instead of pre-training.
``--quick``: tiny subsets and tiny models, seconds to a minute.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import (  # noqa: E402
    SHARED_DATA,
    merge_with_earlier,
    peak_mb_during,
    print_table,
    write_results,
)
from review_data import aspect_datasets, read_sentiment  # noqa: E402
from reviews import subsample  # noqa: E402

from shopmind.evaluate import classification_metrics  # noqa: E402
from shopmind.finetune import FineTunedClassifier, MaskedLMPretrainer  # noqa: E402
from shopmind.reviews import NgramSentimentClassifier, distillation_set  # noqa: E402

# Epochs end by early stopping on the dev split (with bfloat16 an epoch takes ~35-50 s). LoRA's
# learning rate was chosen on the dev splits (best dev accuracy, laptops / restaurants):
# 5e-4 0.769 / 0.806, 1e-3 0.761 / 0.772, 2e-3 0.697 / not run.
SEMEVAL = {"max_length": 96, "batch_size": 32, "epochs": 10, "patience": 2,
           "full_lr": 5e-5, "lora_lr": 5e-4, "lora_r": 16, "lora_alpha": 32, "minutes": 10.0}
# Chinese as learned multi-character pieces: the same network fine-tuned from random weights
# reached 0.934 dev accuracy with them, 0.917 with single characters (2 epochs each)
CHINESE_ENCODER = {"vocab_size": 16000, "cjk": "pieces", "hidden_size": 256, "layers": 4,
                   "heads": 4, "seq_len": 128, "batch_size": 32, "lr": 7e-4, "warmup": 0.05}
# "epochs": the recipe on labels alone, also the review stack's (benchmarks/reviews.py). Here both
# runs get "budget_epochs" of steps (on the labels alone the best dev accuracy comes at ~1.5
# epochs; the best checkpoint is the one kept). Distilled: half the loss on the teacher's
# probabilities (cross-fitted in "teacher_folds"), 4 augmented variants per review (more than 2
# helped in a probe).
CHINESE_FINETUNE = {"lr": 3e-4, "batch_size": 32, "max_length": 128, "epochs": 4, "warmup": 0.06,
                    "eval_every": 250, "dev_rows": 1500, "budget_epochs": 5, "distill": 0.5,
                    "variants": 4, "teacher_folds": 4}
QUICK = {"semeval_train": 64, "semeval_test": 48, "zh_train": 600, "zh_test": 200,
         "minutes": 0.1}


def _round(metrics: dict) -> dict:
    return {k: round(float(v), 4) for k, v in metrics.items()}


def _log(every: int = 50):
    started = time.perf_counter()

    def progress(event: dict) -> None:
        if event["step"] % every == 0:
            print(f"      step {event['step']:>5}  {event['progress']:5.1%}  loss "
                  f"{event['loss']:.4f}  lr {event['lr']:.2e}  "
                  f"{time.perf_counter() - started:6.0f} s", flush=True)
    return progress


# --------------------------------------------------------------------------- SemEval


def _pairs(frame) -> tuple[list[str], list[str], np.ndarray]:
    """BERT-SPC inputs: the sentence with its ``$T$`` filled in, and the aspect term."""
    texts = [t.replace("$T$", a) for t, a in zip(frame["text"], frame["term"])]
    return texts, frame["term"].astype(str).tolist(), frame["label"].astype(str).to_numpy()


def run_semeval(folder: Path, quick: bool, threads: int | None) -> list[dict]:
    results = []
    for name, train, test in aspect_datasets(folder):
        if quick:
            train = train.sample(min(len(train), QUICK["semeval_train"]), random_state=0)
            test = test.sample(min(len(test), QUICK["semeval_test"]), random_state=1)
        dev_mask = np.random.default_rng(0).random(len(train)) < 0.1
        fit, dev = train[~dev_mask], train[dev_mask]
        x, p, y = _pairs(fit)
        dx, dp, dy = _pairs(dev)
        tx, tp, ty = _pairs(test)
        print(f"== {name}: {len(fit):,} train, {len(dev):,} dev, {len(test):,} test pairs",
              flush=True)
        for lora in (False, True):
            method = "minilm-lora" if lora else "minilm-full"
            params = dict(lora=lora, lr=SEMEVAL["lora_lr" if lora else "full_lr"],
                          epochs=1 if quick else SEMEVAL["epochs"],
                          batch_size=SEMEVAL["batch_size"],
                          max_length=32 if quick else SEMEVAL["max_length"],
                          patience=SEMEVAL["patience"], lora_r=SEMEVAL["lora_r"],
                          lora_alpha=SEMEVAL["lora_alpha"],
                          max_minutes=QUICK["minutes"] if quick else SEMEVAL["minutes"],
                          threads=threads)
            print(f"   {method}: {params}", flush=True)
            with peak_mb_during() as memory:
                clf = FineTunedClassifier(**params)
                start = time.perf_counter()
                clf.fit(x, y, pairs=p, dev=(dx, dy, dp), progress=_log())
                fit_seconds = time.perf_counter() - start
                start = time.perf_counter()
                predicted = clf.predict(tx, tp)
                seconds = time.perf_counter() - start
            report = clf.report_
            full_epochs = report.epoch_seconds[:int(report.steps // max(1, np.ceil(
                len(x) / SEMEVAL["batch_size"])))] or report.epoch_seconds
            results.append({
                "name": method, "baseline": False, "group": "semeval", "dataset": name,
                "task": "aspect-term sentiment (sentence + aspect -> polarity), BERT-SPC",
                "metrics": _round(classification_metrics(ty, predicted.astype(str))),
                "trainable_parameters": clf.trainable_parameters_,
                "total_parameters": clf.total_parameters_,
                "trainable_share": round(clf.trainable_parameters_ / clf.total_parameters_, 4),
                "seconds_per_epoch": round(float(np.mean(full_epochs)), 1),
                "epoch_seconds": [round(s, 1) for s in report.epoch_seconds],
                "fit_seconds": round(fit_seconds, 1),
                "pairs_per_second": round(len(tx) / max(seconds, 1e-9), 1),
                "steps": report.steps, "best_step": report.best_step,
                "stopped_by": report.stopped_by,
                "loss_curve": [round(v, 4) for v in report.loss_curve],
                "dev_history": report.dev_history, "params": clf.get_params(),
                "n_train": len(x), "n_dev": len(dx), "n_test": len(tx),
                "peak_mb": memory["peak_mb"]})
            print(f"   {method}: {results[-1]['metrics']}, {clf.trainable_parameters_:,} "
                  f"trainable, {results[-1]['seconds_per_epoch']} s/epoch", flush=True)
    return results


# --------------------------------------------------------------------------- Chinese


def encoder_size(quick: bool) -> dict:
    """The Chinese encoder's size and pre-training settings (tiny with ``--quick``)."""
    size = dict(CHINESE_ENCODER)
    if quick:
        size.update(vocab_size=2000, hidden_size=32, layers=1, heads=2, seq_len=64)
    return size


def finetune_settings(quick: bool) -> dict:
    """How the Chinese encoder is fine-tuned (shorter inputs with ``--quick``)."""
    return {"lr": CHINESE_FINETUNE["lr"], "batch_size": CHINESE_FINETUNE["batch_size"],
            "max_length": 64 if quick else CHINESE_FINETUNE["max_length"],
            "epochs": CHINESE_FINETUNE["epochs"], "warmup": CHINESE_FINETUNE["warmup"]}


def pretrain_encoder(texts, out: Path, minutes: float, quick: bool,
                     threads: int | None = None) -> dict:
    """Pre-train the Chinese encoder on ``texts`` for ``minutes`` into ``out``; what happened."""
    size = encoder_size(quick)
    corpus = [t for t in texts if t.strip()]
    pretrainer = MaskedLMPretrainer(**size, epochs=1000, max_minutes=minutes,
                                    eval_every=50 if quick else 200, threads=threads)
    print(f"   pre-training {size} for {minutes} min on {len(corpus):,} reviews", flush=True)
    with peak_mb_during() as memory:
        pretrainer.fit(corpus, out, progress=_log(100))
    held = [e for e in pretrainer.loss_curve_ if "heldout_loss" in e]
    return {"corpus": pretrainer.corpus_, "parameters": pretrainer.parameters_,
            "steps": pretrainer.steps_, "minutes": round(pretrainer.seconds_ / 60, 2),
            "best_step": pretrainer.best_step_, "config": size,
            "loss_curve": pretrainer.loss_curve_,
            "heldout_mlm_loss_first": held[0]["heldout_loss"] if held else None,
            "heldout_mlm_loss_best": pretrainer.best_heldout_loss_,
            "peak_mb": memory["peak_mb"], "path": str(out)}


def _split(texts, labels, n, seed):
    """``n`` random rows of ``(texts, labels)`` and the rest, each in the original order."""
    chosen = np.zeros(len(texts), dtype=bool)
    chosen[np.random.default_rng(seed).choice(len(texts), min(n, len(texts)), replace=False)] = True
    return tuple(([t for t, c in zip(texts, chosen) if c == side], labels[chosen == side])
                 for side in (True, False))


def read_chinese(folder: Path, quick: bool):
    """(train, dev, test) of online_shopping_10_cats, each (texts, labels); tiny with --quick."""
    splits = [read_sentiment(folder / f"{part}.csv") for part in ("train", "dev", "test")]
    if quick:
        splits = [subsample(x, y, QUICK["zh_train" if i == 0 else "zh_test"], seed)
                  for i, ((x, y), seed) in enumerate(zip(splits, (0, 2, 1)))]
    return splits


def run_chinese(folder: Path, quick: bool, threads: int | None, work: Path,
                pretrain_minutes: float, finetune_minutes: float,
                finetune_threads: int | None, encoder: Path | None = None) -> list[dict]:
    name = folder.name
    (train_x, train_y), (dev_x, dev_y), (test_x, test_y) = read_chinese(folder, quick)
    print(f"== {name}: {len(train_x):,} train, {len(dev_x):,} dev, {len(test_x):,} test",
          flush=True)
    results = []

    # 1. pre-training on the texts of train and dev, which the n-gram baseline also learns from
    #    (or an encoder an earlier run left)
    size = encoder_size(quick)
    if encoder is not None:
        encoder_dir = encoder
        log = json.loads((encoder / "pretrain.json").read_text())
        pretraining = {k: log[k] for k in ("corpus", "parameters", "steps", "minutes",
                                           "best_step", "loss_curve")}
        pretraining["config"] = {k: log["params"][k] for k in size if k in log["params"]}
        held = [e for e in log["loss_curve"] if "heldout_loss" in e]
        pretraining["heldout_mlm_loss_first"] = held[0]["heldout_loss"] if held else None
        pretraining["heldout_mlm_loss_best"] = log["best_heldout_loss"]
        pretraining["path"] = str(encoder)
        pretraining["reused"] = True
        print(f"   reusing the encoder at {encoder}: {log['steps']} steps, {log['minutes']} min",
              flush=True)
    else:
        encoder_dir = work / "zh-encoder"
        pretraining = pretrain_encoder(train_x + dev_x, encoder_dir, pretrain_minutes, quick,
                                       threads)
    pretrain_seconds = pretraining["minutes"] * 60
    pretraining["tokens_seen"] = pretraining["steps"] * size["batch_size"] * size["seq_len"]
    print(f"   pre-trained: {pretraining['steps']} steps, {pretraining['minutes']} min, held-out "
          f"MLM loss {pretraining['heldout_mlm_loss_first']} -> "
          f"{pretraining['heldout_mlm_loss_best']}", flush=True)

    # 2. the teacher: shopmind's n-gram ensemble (benchmarks/reviews.py's shopmind-ngram-ensemble),
    #    each fine-tuning row, and each of its augmented variants, scored by the folds that did
    #    not learn from that row
    (sel_x, sel_y), (rest_x, rest_y) = _split(dev_x, dev_y, CHINESE_FINETUNE["dev_rows"], 3)
    fit_x, fit_y = train_x + rest_x, np.concatenate([train_y, rest_y])
    start = time.perf_counter()
    taught_x, taught_y, teacher = distillation_set(
        NgramSentimentClassifier, fit_x, fit_y, per_text=CHINESE_FINETUNE["variants"],
        folds=CHINESE_FINETUNE["teacher_folds"])
    teacher_seconds = time.perf_counter() - start
    teacher_accuracy = float(np.mean(teacher[:len(fit_y)].argmax(axis=1) == fit_y))
    print(f"   teacher: out-of-fold accuracy {teacher_accuracy:.4f}, {len(taught_x):,} texts "
          f"with augmented variants, {teacher_seconds:.0f} s", flush=True)

    # 3. fine-tuning from the best checkpoint on train and most of dev (the baseline fits on both),
    #    on the labels alone and distilled from the teacher; the other dev rows choose the checkpoint
    params = dict(finetune_settings(quick), epochs=CHINESE_FINETUNE["budget_epochs"],
                  max_minutes=finetune_minutes,
                  eval_every=20 if quick else CHINESE_FINETUNE["eval_every"], patience=None,
                  threads=finetune_threads or threads)
    runs = (("shopmind-zh-encoder-finetuned", 0.0, fit_x, fit_y, None),
            ("shopmind-zh-encoder-distilled", CHINESE_FINETUNE["distill"], taught_x, taught_y,
             teacher))
    for row_name, distill, texts, labels, soft in runs:
        # as many steps as the plain run: the variants replace epochs, they do not add any
        run_params = {**params, "epochs": round(params["epochs"] * len(fit_x) / len(texts), 4)}
        print(f"   fine-tuning {row_name} on {len(texts):,} texts: {run_params}", flush=True)
        with peak_mb_during() as memory:
            clf = FineTunedClassifier(model=encoder_dir, distill=distill, **run_params)
            start = time.perf_counter()
            clf.fit(texts, labels, dev=(sel_x, sel_y), progress=_log(100), teacher_proba=soft)
            fit_seconds = time.perf_counter() - start
            start = time.perf_counter()
            encoder_proba = clf.predict_proba(test_x)
            seconds = time.perf_counter() - start
        predicted = clf.classes_[np.argmax(encoder_proba, axis=1)]
        report = clf.report_
        results.append({
            "name": row_name, "baseline": False, "group": "chinese",
            "dataset": name, "task": "document sentiment",
            "metrics": _round(classification_metrics(test_y, predicted.astype(test_y.dtype),
                                                     encoder_proba[:, 1])),
            "pretraining": pretraining,
            "teacher": None if not distill else {
                "model": "NgramSentimentClassifier()", "folds": CHINESE_FINETUNE["teacher_folds"],
                "variants_per_review": CHINESE_FINETUNE["variants"],
                "out_of_fold_accuracy": round(teacher_accuracy, 4),
                "seconds": round(teacher_seconds, 1)},
            "fit_seconds": round(fit_seconds, 1), "steps": report.steps,
            "epochs_done": round(report.steps / np.ceil(len(texts) / params["batch_size"]), 3),
            "best_step": report.best_step, "stopped_by": report.stopped_by,
            "dev_history": report.dev_history, "epoch_seconds": [round(s, 1) for s in
                                                                 report.epoch_seconds],
            "trainable_parameters": clf.trainable_parameters_, "params": clf.get_params(),
            "reviews_per_second": round(len(test_x) / max(seconds, 1e-9), 1),
            "n_train": len(fit_x), "n_texts": len(texts), "n_dev_used": len(sel_x),
            "n_test": len(test_x),
            "total_minutes_pretrain_plus_finetune": round(
                (pretrain_seconds + fit_seconds + (teacher_seconds if distill else 0)) / 60, 1),
            "peak_mb": memory["peak_mb"]})
        print(f"   {row_name}: {results[-1]['metrics']}", flush=True)

    # 4. the baseline of benchmarks/reviews.py, same test split (fit on train + dev, as there)
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    start = time.perf_counter()
    baseline = make_pipeline(TfidfVectorizer(analyzer="char", ngram_range=(1, 3),
                                             sublinear_tf=True, min_df=2),
                             LogisticRegression(C=1.0, max_iter=2000, solver="liblinear"))
    baseline.fit(train_x + dev_x, np.concatenate([train_y, dev_y]))
    fit_seconds = time.perf_counter() - start
    lr_proba = baseline.predict_proba(test_x)
    results.append({
        "name": "char-ngram-lr", "baseline": True, "group": "chinese", "dataset": name,
        "task": "document sentiment",
        "metrics": _round(classification_metrics(
            test_y, baseline.classes_[np.argmax(lr_proba, axis=1)], lr_proba[:, 1])),
        "fit_seconds": round(fit_seconds, 1), "n_train": len(train_x) + len(dev_x),
        "n_test": len(test_x)})
    print(f"   char n-gram LR: {results[-1]['metrics']}", flush=True)
    # for the review-intelligence issue: the distilled encoder's and the LR's mean probability
    mean = (encoder_proba[:, 1] + lr_proba[:, 1]) / 2
    results.append({
        "name": "zh-encoder+char-ngram-lr-mean", "baseline": False, "group": "chinese",
        "dataset": name, "task": "document sentiment (mean of the two models' probabilities)",
        "metrics": _round(classification_metrics(
            test_y, np.where(mean >= 0.5, clf.classes_[1], clf.classes_[0]).astype(test_y.dtype),
            mean)),
        "n_test": len(test_x)})
    return results


# --------------------------------------------------------------------------- main


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=SHARED_DATA)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--quick", action="store_true", help="tiny subsets and models")
    parser.add_argument("--tasks", nargs="+", default=["semeval", "chinese"],
                        choices=["semeval", "chinese"])
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads")
    parser.add_argument("--finetune-threads", type=int, default=None,
                        help="threads for the Chinese fine-tuning (default --threads)")
    parser.add_argument("--pretrain-minutes", type=float, default=35.0)
    parser.add_argument("--finetune-minutes", type=float, default=15.0)
    parser.add_argument("--semeval-minutes", type=float, default=SEMEVAL["minutes"],
                        help="wall-clock cap of each SemEval fine-tuning run")
    parser.add_argument("--encoder", type=Path, default=None,
                        help="fine-tune this pre-trained encoder (a folder an earlier run wrote, "
                        "with pretrain.json) instead of pre-training one")
    parser.add_argument("--pretrain-only", action="store_true",
                        help="only pre-train the Chinese encoder into --work (for --encoder)")
    parser.add_argument("--work", type=Path, default=None,
                        help="where models are written (default: a new folder in /tmp)")
    args = parser.parse_args(argv)
    if args.threads:
        import torch

        torch.set_num_threads(args.threads)
    work = args.work or Path(tempfile.mkdtemp(prefix="shopmind-finetune-"))
    semeval = args.data / "absa" / "semeval14"
    chinese = args.data / "reviews-zh" / "online_shopping_10_cats"
    started = time.perf_counter()
    results: list[dict] = []
    notes = []
    SEMEVAL["minutes"] = args.semeval_minutes
    if args.pretrain_only:
        (train_x, _), (dev_x, _), _ = read_chinese(chinese, args.quick)
        pretrain_encoder(train_x + dev_x, work / "zh-encoder", QUICK["minutes"] if args.quick
                         else args.pretrain_minutes, args.quick, args.threads)
        print(f"pre-trained encoder: {work / 'zh-encoder'} (fine-tune it with --encoder)")
        return
    if "semeval" in args.tasks:
        if semeval.is_dir():
            results += run_semeval(semeval, args.quick, args.threads)
        else:
            notes.append(f"no SemEval data at {semeval}: skipped")
    if "chinese" in args.tasks:
        if (chinese / "train.csv").exists():
            minutes = QUICK["minutes"] if args.quick else args.pretrain_minutes
            ft_minutes = QUICK["minutes"] if args.quick else args.finetune_minutes
            results += run_chinese(chinese, args.quick, args.threads, work, minutes,
                                   ft_minutes, args.finetune_threads, args.encoder)
        else:
            notes.append(f"no online_shopping_10_cats data at {chinese}: skipped")
    for note in notes:
        print(note)
    wall_seconds = time.perf_counter() - started
    results, runs = merge_with_earlier(args.out, results, lambda r: r["group"], args.quick,
                                       wall_seconds)
    datasets = list(dict.fromkeys(r["dataset"] for r in results))
    write_results(
        args.out, "finetune", ", ".join(datasets),
        "SemEval-2014 aspect-term sentiment: fine-tune on train minus a 10 % dev split (early "
        "stopping), evaluate on the test file; online_shopping_10_cats: pre-train on the texts "
        "of train + dev, fine-tune on train + dev less 1,500 dev reviews that choose the "
        "checkpoint (on the labels alone, and distilled from the n-gram ensemble's out-of-fold "
        "probabilities on the reviews and 4 augmented variants of each, same steps), evaluate "
        "on test; char n-gram LR fit on train + dev" +
        (" (quick: tiny subsets and models)" if args.quick else ""),
        results, quick=args.quick, tasks_run_now=args.tasks, notes=notes,
        wall_seconds_this_run=round(wall_seconds, 1), work_dir=str(work), runs_merged=runs)
    print_table(results, ["dataset", "accuracy", "macro_f1", "trainable_parameters",
                          "seconds_per_epoch", "fit_seconds"])


if __name__ == "__main__":
    main()
