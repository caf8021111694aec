"""Review intelligence on real data: Chinese review sentiment and aspect-level sentiment.

    python benchmarks/reviews.py --data ../shared/data --out FILE.json [--quick] [--finetune]
        [--finetune-joint] [--recipe JSON] [--encoder-minutes M | --encoder DIR] [--merge]

``--data`` is a folder holding ``reviews-zh/`` and/or ``absa/`` (or one of those folders itself).
Every dataset found there is run with the same settings — nothing is tuned per dataset:

* ``reviews-zh/<name>/{train,dev,test}.csv`` — document sentiment. Protocol: fit on train
  (+ dev when present), evaluate on test. shopmind's calibrated n-gram ensemble (reading the
  product category where the set has one, and once more from the text alone) against a
  character 1–3-gram TF-IDF logistic regression, SnowNLP (pretrained) and the bare lexicon; and
  the full review analyzer's throughput (reviews/second with clause sentiment and aspects).
  With ``--encoder-minutes M`` (or ``--encoder DIR``) also the n-gram ensemble stacked with our
  own encoder, pre-trained for M minutes on the training texts and fine-tuned on them.
* ``absa/<name>/`` — aspect sentiment: train/test files of (sentence, aspect term or aspect
  category, polarity). shopmind's aspect-term classifier against a sentence-only logistic
  regression (blind to the aspect) and the majority class; with ``--finetune`` also the
  packaged all-mpnet-base-v2 fine-tuned as a sentence-pair classifier on English sets (every
  weight, the term quoted in the sentence, mean pooling; the recipe's models with different
  seeds, each learning every train pair for 5 epochs, averaged:
  ``shopmind.reviews.aspect_term_model``).
  ``--finetune-joint`` fits that recipe once on the train files of every English aspect set run,
  together, and scores each set's test file (rows ``shopmind-mpnet-pair-finetuned-joint``,
  ``trained_on`` naming the sets): what a shop gains by adding another domain's labelled pairs.
  ``--recipe JSON`` changes that recipe's parameters (the rows' method then names the changes).

The file shapes each layout may take (separators, encodings, column names, 3-line records,
SemEval XML, aspect-category CSVs) are read by ``benchmarks/review_data.py``.

``--quick`` subsamples every dataset (seconds-long CI check). ``--merge`` keeps, from the file
at ``--out``, the rows of datasets this run did not see (``runs_merged`` says which command made
which dataset's rows), so a run over one folder updates a file that holds them all.
"""

from __future__ import annotations

import argparse
import copy
import json
import re
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import SHARED_DATA, merge_with_earlier, peak_mb, print_table, write_results  # noqa: E402
from review_data import (  # noqa: E402
    UnreadableFile,
    aspect_datasets,
    find_folders,
    read_sentiment,
    sentiment_splits,
)

from shopmind.errors import DataError  # noqa: E402
from shopmind.evaluate import (  # noqa: E402
    classification_metrics,
    detection_metrics,
    expected_calibration_error,
    log_loss,
)
from shopmind.reviews import (  # noqa: E402
    AspectTermClassifier,
    NgramSentimentClassifier,
    ReviewAnalyzer,
    polarity_from_rating,
    to_polarity,
)

_QUICK = {"train": 1500, "test": 300, "absa_train": 400, "absa_test": 120, "snownlp": 150}


# --------------------------------------------------------------------------- sentiment


def subsample(texts, labels, n: int, seed: int, *more: list):
    """``n`` random rows of ``(texts, labels, *more)`` in their original order (all if there
    are fewer)."""
    if len(texts) <= n:
        return (texts, labels, *more)
    rows = np.sort(np.random.default_rng(seed).choice(len(texts), n, replace=False))
    return ([texts[i] for i in rows], labels[rows], *([m[i] for i in rows] for m in more))


def _sentiment_metrics(y, proba: np.ndarray, classes) -> dict:
    classes = np.asarray(classes)
    predicted = classes[np.argmax(proba, axis=1)]
    binary = len(classes) == 2
    metrics = classification_metrics(y, predicted, proba[:, 1] if binary else None)
    if binary:
        positive = (np.asarray(y) == classes[1]).astype(int)
        metrics["ece"] = expected_calibration_error(positive, proba[:, 1])
        metrics["log_loss"] = log_loss(positive, proba[:, 1])
    return {k: round(v, 4) for k, v in metrics.items()}


def run_sentiment(folder: Path, quick: bool, encoder: Path | None = None,
                  encoder_minutes: float = 0.0) -> list[dict]:
    name = folder.name
    fit_files, test_file = sentiment_splits(folder)
    parts = [read_sentiment(path, True) for path in fit_files]
    train_texts = [t for texts, _, _ in parts for t in texts]
    train_labels = np.concatenate([labels for _, labels, _ in parts])
    train_cats = [c for _, _, cats in parts for c in cats]
    test_texts, test_labels, test_cats = read_sentiment(test_file, True)
    if quick:
        train_texts, train_labels, train_cats = subsample(train_texts, train_labels,
                                                          _QUICK["train"], 0, train_cats)
        test_texts, test_labels, test_cats = subsample(test_texts, test_labels, _QUICK["test"],
                                                       1, test_cats)
    with_categories = any(c is not None for c in train_cats)
    print(f"== {name}: {len(train_texts):,} train, {len(test_texts):,} test"
          + (f", {len(set(train_cats))} product categories" if with_categories else ""),
          flush=True)
    results = []

    train, test = (train_texts, train_labels), (test_texts, test_labels)

    # shopmind: the calibrated n-gram ensemble, reading the product categories where the set
    # has them (and once more without, to show what they bring)
    model = NgramSentimentClassifier()
    row = _fitted_sentiment_row("shopmind-ngram-ensemble", False, name, model,
                                (*train, train_cats), (*test, test_cats))
    results.append({**row, "n_train": len(train_texts), "n_test": len(test_texts),
                    "peak_mb": peak_mb(), "categories": with_categories})
    print(f"   ngram ensemble: {results[-1]['metrics']}", flush=True)
    if with_categories:
        text_only = _fitted_sentiment_row("shopmind-ngram-ensemble-text-only", False, name,
                                          NgramSentimentClassifier(), train, test)
        results.append({**text_only, "categories": False})
        print(f"   ngram ensemble, text only: {text_only['metrics']}", flush=True)

    # the whole analyzer with that model: document sentiment (calibrated, by the model), clause
    # sentiment and aspect opinions (lexicon); one process, then one per core. The analyzer
    # speaks in polarities: labels that are not (star ratings) are read as polarities first.
    analyzer = ReviewAnalyzer(sentiment=model)
    if not _are_polarities(model.classes_):
        analyzer = ReviewAnalyzer(NgramSentimentClassifier()).fit(
            train_texts, _as_polarity(train_labels), categories=train_cats)
    sample = test_texts[:2000]
    speeds = {}
    for jobs in (1, 2):
        start = time.perf_counter()
        analyses = analyzer.analyze(sample, n_jobs=jobs, categories=test_cats[:2000])
        speeds[jobs] = round(len(sample) / (time.perf_counter() - start), 1)
    results.append({"name": "shopmind-review-analyzer", "baseline": False, "dataset": name,
                    "task": "analysis throughput: document + clause sentiment + aspects",
                    "metrics": {"reviews_per_second": max(speeds.values()),
                                "reviews_per_second_1_process": speeds[1],
                                "reviews_per_second_2_processes": speeds[2],
                                "aspect_mentions_per_review": round(
                                    np.mean([len(a.aspects) for a in analyses]), 3)},
                    "reviews_per_second": max(speeds.values()), "n_test": len(sample)})
    lexicon = ReviewAnalyzer()
    start = time.perf_counter()
    lexicon_results = lexicon.analyze(test_texts)
    lex_seconds = time.perf_counter() - start
    lexicon_row = _lexicon_row(name, test_labels, model.classes_, lexicon_results, lex_seconds)
    results += [lexicon_row] if lexicon_row else []

    # baselines, same split, same process
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.multiclass import OneVsRestClassifier
    from sklearn.pipeline import make_pipeline

    # liblinear fits two classes directly and more one-vs-rest (star ratings)
    baseline = make_pipeline(TfidfVectorizer(analyzer="char", ngram_range=(1, 3), sublinear_tf=True,
                                             min_df=2),
                             OneVsRestClassifier(LogisticRegression(C=1.0, max_iter=2000,
                                                                    solver="liblinear")))
    results.append(_fitted_sentiment_row("char-ngram-lr", True, name, baseline, train, test))
    snow = _snownlp_row(name, test_texts, test_labels, model.classes_, quick)
    if snow:
        results.append(snow)
    if encoder is not None or encoder_minutes:
        results.append(_encoder_stack_row(name, train, test, quick, encoder, encoder_minutes))
    return results


def _encoder_stack_row(name: str, train, test, quick: bool, encoder: Path | None,
                       minutes: float) -> dict:
    """The n-gram ensemble stacked with our own encoder fine-tuned on the same reviews.

    The encoder is ``encoder`` (pre-trained earlier) or pre-trained here for ``minutes`` on the
    training texts, with the settings of benchmarks/finetune.py; it is fine-tuned once, on the
    90 % of train the stack does not hold out (only the n-gram ensemble is refitted on all)."""
    from finetune import finetune_settings, pretrain_encoder

    from shopmind.reviews import StackedSentimentClassifier, TransformerClassifier

    if encoder is not None:
        pretraining = {"path": str(encoder), "reused": True}
    else:
        encoder = Path(tempfile.mkdtemp(prefix="shopmind-zh-encoder-"))
        pretraining = pretrain_encoder(train[0], encoder, minutes, quick)
        pretraining.pop("loss_curve")
    fine_tuning = finetune_settings(quick)
    if quick:
        fine_tuning["epochs"] = 1
    stack = StackedSentimentClassifier(
        {"ngram": NgramSentimentClassifier(),
         # read through its [CLS] head, as benchmarks/finetune.py fine-tunes it
         "encoder": TransformerClassifier(model=str(encoder), pooling="cls", **fine_tuning)},
        holdout=0.1, refit=["ngram"])
    print(f"   stacking the n-gram ensemble with the encoder fine-tuned {fine_tuning}", flush=True)
    row = _fitted_sentiment_row("shopmind-ngram+encoder-stack", False, name, stack, train, test)
    row.update(holdout_accuracy={k: round(v, 4) for k, v in stack.holdout_accuracy_.items()},
               encoder_pretraining=pretraining, encoder_fine_tuning=fine_tuning)
    print(f"   n-gram + encoder stack: {row['metrics']} (held out: {row['holdout_accuracy']})",
          flush=True)
    return row


def _fitted_sentiment_row(name: str, baseline: bool, dataset: str, model, train, test) -> dict:
    """Fit ``model`` on ``train`` and score it on ``test`` (each a (texts, labels) pair, or
    (texts, labels, categories) for a model that reads categories), each step timed on its
    own: a document-sentiment result row."""
    (train_texts, train_labels, *train_cats), (test_texts, test_labels, *test_cats) = train, test
    start = time.perf_counter()
    model.fit(train_texts, train_labels, *train_cats)
    fit_seconds = time.perf_counter() - start
    start = time.perf_counter()
    proba = model.predict_proba(test_texts, *test_cats)
    seconds = time.perf_counter() - start
    row = {"name": name, "baseline": baseline, "dataset": dataset, "task": "document sentiment",
           "metrics": _sentiment_metrics(test_labels, proba, model.classes_),
           "fit_seconds": round(fit_seconds, 1)}
    if hasattr(model, "fit_seconds_"):  # the ensemble also says where its fit time went
        row["fit_seconds_by_part"] = {k: round(v, 1) for k, v in model.fit_seconds_.items()}
    row["reviews_per_second"] = round(len(test_texts) / seconds, 1)
    return row


def _positive_index(classes) -> int | None:
    """Which of two classes is the positive one (None when the labels do not say)."""
    try:
        polarity = to_polarity(classes, binary=True).tolist()
    except DataError:
        return None
    return polarity.index("positive") if sorted(polarity) == ["negative", "positive"] else None


def _are_polarities(classes) -> bool:
    try:
        to_polarity(classes, binary=len(classes) == 2)
        return True
    except DataError:
        return False


def _as_polarity(labels) -> np.ndarray | None:
    """Three-class labels as polarities; star ratings (numbers beyond -1..1) by
    :func:`polarity_from_rating`; None when they are neither."""
    try:
        return to_polarity(labels)
    except DataError:
        numbers = pd.to_numeric(pd.Series(labels), errors="coerce")
        return None if numbers.isna().any() else polarity_from_rating(numbers.to_numpy())


def _lexicon_row(name, labels, classes, analyses, seconds) -> dict | None:
    """The lexicon alone, no training: polarity of the summed clause opinions."""
    scores = np.array([a.score for a in analyses])
    positive = _positive_index(classes) if len(classes) == 2 else None
    if positive is not None:
        predicted = np.where(scores > 0, classes[positive], classes[1 - positive])
        metrics = classification_metrics(labels, predicted, scores if positive else -scores)
    else:
        truth = _as_polarity(labels)
        if truth is None:
            print("   the labels are not polarities: no lexicon row", flush=True)
            return None
        polarity = np.array([a.polarity for a in analyses], dtype=object)
        metrics = classification_metrics(truth, polarity)
    return {"name": "shopmind-lexicon-only", "baseline": True, "dataset": name,
            "task": "document sentiment (no training)",
            "metrics": {k: round(v, 4) for k, v in metrics.items()},
            "reviews_per_second": round(len(analyses) / seconds, 1)}


def _snownlp_row(name, texts, labels, classes, quick) -> dict | None:
    """SnowNLP's pretrained shopping-review sentiment (binary sets whose labels say which class
    is positive)."""
    try:
        from snownlp import SnowNLP
    except ImportError:
        print("   snownlp is not installed: pip install snownlp (skipped)")
        return None
    positive = _positive_index(classes) if len(classes) == 2 else None
    if positive is None:
        return None
    if quick:
        texts, labels = texts[:_QUICK["snownlp"]], labels[:_QUICK["snownlp"]]
    start = time.perf_counter()
    p = np.array([SnowNLP(t).sentiments if t.strip() else 0.5 for t in texts])
    seconds = time.perf_counter() - start
    proba = np.column_stack([p, 1 - p] if positive == 0 else [1 - p, p])
    return {"name": "snownlp", "baseline": True, "dataset": name, "task": "document sentiment",
            "metrics": _sentiment_metrics(labels, proba, classes), "fit_seconds": 0.0,
            "reviews_per_second": round(len(texts) / seconds, 1), "n_test": len(texts)}


# --------------------------------------------------------------------------- aspects


def _asked_terms_row(row, method: str, analyzer: ReviewAnalyzer, test: pd.DataFrame,
                     truth: np.ndarray, fit_seconds: float, **extra) -> dict:
    two_classes = "neutral" not in set(truth)
    start = time.perf_counter()
    predicted = []
    for text, term in zip(test["text"], test["term"]):
        [analysis] = analyzer.analyze([text.replace("$T$", term)], terms=[term])
        said = analysis.terms[0] if analysis.terms else analysis
        predicted.append(("positive" if said.score > 0 else "negative") if two_classes
                         else said.polarity)
    return row(method, False, predicted, fit_seconds, time.perf_counter() - start, truth=truth,
               **extra)


def _category_rows(name: str, train: pd.DataFrame, test: pd.DataFrame,
                   analyzer: ReviewAnalyzer) -> list[dict]:
    """Aspect categories end to end (a dataset whose terms are categories, as ASAP's): every
    test review asked about every category the train file annotates (``analyze(terms=…)``),
    scored as polarity or "not mentioned" — with the analyzer's category detector, then
    without it (every category judged in every review, as before the detector)."""
    truth_of = {(t, c): p for t, c, p in zip(test["text"], test["term"],
                                              _as_polarity(test["label"].to_numpy()))}
    reviews = list(dict.fromkeys(test["text"]))
    categories = sorted(set(train["term"]))
    asked = [(r, c) for r in reviews for c in categories]
    truth = np.array([truth_of.get(pair, "not mentioned") for pair in asked], dtype=object)
    rows = []
    for method, detector in (("shopmind-analyzer-categories", analyzer.mention_model),
                             ("shopmind-analyzer-categories-undetected", None)):
        judge = copy.copy(analyzer)
        judge.mention_model = detector
        start = time.perf_counter()
        said = {(a.text, o.term): o.polarity for a in judge.analyze(reviews, terms=categories)
                for o in a.terms}  # as the service and the CLI ask
        seconds = time.perf_counter() - start
        predicted = np.array([said.get(pair, "not mentioned") for pair in asked], dtype=object)
        mention = detection_metrics(truth != "not mentioned", predicted != "not mentioned")
        metrics = classification_metrics(truth.astype(str), predicted.astype(str))
        rows.append({
            "name": method, "baseline": detector is None, "dataset": name,
            "task": "aspect categories: each review x each category -> polarity or not mentioned",
            "metrics": {**{k: round(v, 4) for k, v in metrics.items()},
                        **{f"mention_{k}": round(v, 4) for k, v in mention.items()}},
            "pairs_per_second": round(len(asked) / max(seconds, 1e-9), 1),
            "n_test_reviews": len(reviews), "n_categories": len(categories),
            "n_detected_categories": len(analyzer.mention_model.categories_)})
        print(f"   {method}: {rows[-1]['metrics']}", flush=True)
    return rows


def _aspect_row(name: str, n_train: int, test: pd.DataFrame, method: str, baseline: bool,
                predicted, fit_seconds: float, seconds: float, truth=None, **extra) -> dict:
    expected = test["label"].to_numpy() if truth is None else truth
    metrics = classification_metrics(expected.astype(str), np.asarray(predicted).astype(str))
    return {"name": method, "baseline": baseline, "dataset": name,
            "task": "aspect sentiment (sentence + aspect -> polarity)",
            "metrics": {k: round(v, 4) for k, v in metrics.items()},
            "fit_seconds": round(fit_seconds, 1),
            "pairs_per_second": round(len(test) / max(seconds, 1e-9), 1),
            "n_train": n_train, "n_test": len(test), **extra}


def _quick_sample(train: pd.DataFrame, test: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    return (train.sample(min(len(train), _QUICK["absa_train"]), random_state=0),
            test.sample(min(len(test), _QUICK["absa_test"]), random_state=1))


def run_aspects(name: str, train: pd.DataFrame, test: pd.DataFrame, quick: bool,
                finetune: bool, threads: int | None = None,
                recipe: dict | None = None) -> list[dict]:
    print(f"== {name}: {len(train):,} train pairs, {len(test):,} test pairs", flush=True)
    results = []

    def row(method: str, baseline: bool, predicted, fit_seconds, seconds, truth=None,
            **extra) -> dict:
        return _aspect_row(name, len(train), test, method, baseline, predicted, fit_seconds,
                           seconds, truth, **extra)

    start = time.perf_counter()
    model = AspectTermClassifier().fit(train["text"], train["term"], train["label"])
    fit_seconds = time.perf_counter() - start
    start = time.perf_counter()
    predicted = model.predict(test["text"], test["term"])
    results.append(row("shopmind-aspect-term-lr", False, predicted, fit_seconds,
                       time.perf_counter() - start))
    print(f"   aspect-term LR: {results[-1]['metrics']}", flush=True)

    # the review analyzer asked about each term, as the service is: untrained (the sentiment
    # of the clause that holds it, by the lexicon; the review's own where the term is not in
    # it), then with the aspect-term model fitted on the train pairs. Where the labels know no
    # neutral, the sign of the score decides, as in the lexicon's document row.
    truth = _as_polarity(test["label"].to_numpy())
    if truth is not None:
        analyzer = ReviewAnalyzer()
        results.append(_asked_terms_row(row, "shopmind-analyzer-terms-untrained", analyzer,
                                        test, truth, 0.0))
        print(f"   analyzer, untrained: {results[-1]['metrics']}", flush=True)
        start = time.perf_counter()
        analyzer.fit_terms([t.replace("$T$", a) for t, a in zip(train["text"], train["term"])],
                           train["term"], _as_polarity(train["label"].to_numpy()))
        results.append(_asked_terms_row(row, "shopmind-analyzer-terms-trained", analyzer, test,
                                        truth, time.perf_counter() - start))
        print(f"   analyzer, trained: {results[-1]['metrics']}", flush=True)
        if analyzer.mention_model is not None:
            results += _category_rows(name, train, test, analyzer)

    if finetune and _mostly_latin(train["text"]):
        results += run_finetuned([(name, train, test)], quick, threads, recipe=recipe)

    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.multiclass import OneVsRestClassifier
    from sklearn.pipeline import make_pipeline

    sentences = [t.replace("$T$", a) for t, a in zip(train["text"], train["term"])]
    start = time.perf_counter()
    blind = make_pipeline(TfidfVectorizer(analyzer="char_wb", ngram_range=(1, 4),
                                          sublinear_tf=True),
                          OneVsRestClassifier(LogisticRegression(C=4.0, solver="liblinear")))
    blind.fit(sentences, train["label"].astype(str))
    fit_seconds = time.perf_counter() - start
    start = time.perf_counter()
    predicted = blind.predict([t.replace("$T$", a) for t, a in zip(test["text"], test["term"])])
    results.append(row("sentence-only-lr", True, predicted, fit_seconds,
                       time.perf_counter() - start))
    majority = train["label"].astype(str).value_counts().idxmax()
    results.append(row("majority-class", True, [majority] * len(test), 0.0, 1e-9))
    return results


def run_finetuned(sets: list[tuple[str, pd.DataFrame, pd.DataFrame]], quick: bool,
                  threads: int | None, joint: bool = False,
                  recipe: dict | None = None) -> list[dict]:
    """shopmind's aspect-term recipe (with ``recipe``'s changes) fitted once on the train pairs
    of every (name, train, test) in ``sets`` together — one set, or with ``--finetune-joint``
    every English one — and scored on each test file: a row per set, its method naming the
    encoder (``shopmind-mpnet-pair-finetuned``)."""
    from shopmind.reviews import aspect_term_model
    from shopmind.text.encoders import PACKAGED_MINILM, PACKAGED_MPNET

    train = pd.concat([train for _, train, _ in sets])
    start = time.perf_counter()
    # shopmind's recipe (every weight fine-tuned; see aspect_term_model for why), the term
    # quoted in the sentence, the encoder read by the mean of its token states, and its
    # models averaged, each learning every train pair for a fixed number of epochs (--quick:
    # 2 models, one epoch)
    recipe = recipe or {}
    net = aspect_term_model(threads=threads, **{**recipe, **({"epochs": 1, "ensemble": 2}
                                                             if quick else {})})
    encoder = {PACKAGED_MPNET: "mpnet", PACKAGED_MINILM: "minilm"}.get(net.model,
                                                                     Path(net.model).name)
    method = f"shopmind-{encoder}-pair-finetuned" + ("-joint" if joint else "")
    if recipe:
        method += " " + json.dumps(recipe, sort_keys=True)
    net.fit(train["text"], train["term"], train["label"].astype(str))
    fit_seconds = time.perf_counter() - start
    models = [{"epoch_seconds": [round(s, 1) for s in r.epoch_seconds],
               "dev_history": r.dev_history, "loss_curve": [round(v, 4) for v in r.loss_curve]}
              for r in net.reports_]
    joint = {"trained_on": [name for name, _, _ in sets]} if len(sets) > 1 else {}
    with tempfile.TemporaryDirectory() as folder:  # what a shop gets served: saved, reloaded
        saved = net.save(Path(folder) / "aspect-model")
        megabytes = sum(f.stat().st_size for f in saved.rglob("*") if f.is_file()) / 1e6
        reloaded = type(net).load(saved)
    results = []
    for name, _, test in sets:
        y = test["label"].to_numpy().astype(str)
        start = time.perf_counter()
        by_model = net.proba_by_model(test["text"], test["term"])
        proba = np.mean(by_model, axis=0)  # what predict_proba returns, without scoring twice
        seconds = time.perf_counter() - start
        again = reloaded.predict_proba(test["text"], test["term"])
        results.append(_aspect_row(
            name, len(train), test, method, False, net.classes_[proba.argmax(1)], fit_seconds,
            seconds, ensemble=net.ensemble, pooling=net.pooling, **joint,
            accuracy_of_each_model=[round(float(np.mean(net.classes_[p.argmax(1)] == y)), 4)
                                    for p in by_model],
            models=models, saved={
                "megabytes": round(megabytes, 1), "save_dtype": net.save_dtype,
                "accuracy": round(float(np.mean(reloaded.classes_[again.argmax(1)] == y)), 4),
                "same_prediction": round(float(np.mean(again.argmax(1) == proba.argmax(1))), 4),
                "max_probability_change": round(float(np.abs(again - proba).max()), 5)}))
        print(f"   {name}, {method}: {results[-1]['metrics']}, saved: {results[-1]['saved']}",
              flush=True)
    return results


def _mostly_latin(texts) -> bool:
    sample = " ".join(list(texts)[:200])
    return len(re.findall(r"[A-Za-z]", sample)) > len(re.findall(r"[\u3400-\u9fff]", sample))


# --------------------------------------------------------------------------- main


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=SHARED_DATA,
                        help="folder with reviews-zh/ and absa/ (default ../shared/data)")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--quick", action="store_true", help="subsampled, seconds-long run")
    parser.add_argument("--finetune", action="store_true",
                        help="also fine-tune the packaged MiniLM on English aspect sets (slow on CPU)")
    parser.add_argument("--finetune-joint", action="store_true",
                        help="also fine-tune it once on the train files of every English aspect set "
                        "run, together, and score each set's test file")
    parser.add_argument("--encoder-minutes", type=float, default=0.0,
                        help="also pre-train our own encoder this long on each sentiment set's "
                        "training texts and stack it, fine-tuned, with the n-gram ensemble")
    parser.add_argument("--encoder", type=Path, default=None,
                        help="stack this pre-trained encoder (a `shopmind pretrain` folder) "
                        "instead of pre-training one")
    parser.add_argument("--only", nargs="+", default=None, metavar="DATASET",
                        help="run only these datasets (names as in the results, e.g. "
                        "semeval14/laptops)")
    parser.add_argument("--threads", type=int, default=None,
                        help="CPU threads of each fine-tuning run (default: torch's choice)")
    parser.add_argument("--recipe", type=json.loads, default=None, metavar="JSON",
                        help="changes to the fine-tuning recipe of --finetune, e.g. "
                        "'{\"rdrop\": 1.0}' (parameters of shopmind.reviews.aspect_term_model)")
    parser.add_argument("--merge", action="store_true",
                        help="keep the rows of datasets not run now from the file at --out")
    args = parser.parse_args(argv)
    if not args.data.is_dir():
        sys.exit(f"no data folder at {args.data}")
    sentiment, aspect = find_folders(args.data)
    if not sentiment and not aspect:
        sys.exit(f"no reviews-zh/ or absa/ datasets under {args.data}")
    started = time.perf_counter()
    results: list[dict] = []
    def chosen(name: str) -> bool:
        return args.only is None or name in args.only

    for folder in sentiment:
        if chosen(folder.name):
            try:
                results += run_sentiment(folder, args.quick, args.encoder, args.encoder_minutes)
            except UnreadableFile as error:  # one odd set does not stop the others
                print(f"!! {folder.name} left out: {error}", file=sys.stderr, flush=True)
    english = []
    for folder in aspect:
        for name, train, test in aspect_datasets(folder):
            if chosen(name):
                if args.quick:
                    train, test = _quick_sample(train, test)
                results += run_aspects(name, train, test, args.quick, args.finetune, args.threads,
                                       args.recipe)
                if args.finetune_joint and _mostly_latin(train["text"]):
                    english.append((name, train, test))
    if english:
        print(f"== fine-tuning on {' + '.join(n for n, _, _ in english)} together", flush=True)
        results += run_finetuned(english, args.quick, args.threads, joint=True)
    wall_seconds = time.perf_counter() - started
    extra = {}
    if args.merge:
        results, extra["runs_merged"] = merge_with_earlier(args.out, results,
                                                           lambda r: r["dataset"], args.quick,
                                                           wall_seconds)
    datasets = list(dict.fromkeys(r["dataset"] for r in results))
    write_results(args.out, "reviews", ", ".join(datasets),
                  "document sentiment: fit on train (+dev), evaluate on test; aspect sentiment: "
                  "fit on the train file, evaluate on the test file; one setting for every "
                  "dataset" + ("; the -joint rows: fitted once on the train files of every English "
                               "aspect set run, together" if args.finetune_joint else "")
                  + (" (quick: subsampled)" if args.quick else ""),
                  results, quick=args.quick, wall_seconds=round(wall_seconds, 1), **extra)
    print_table(results, ["dataset", "accuracy", "macro_f1", "fit_seconds",
                          "reviews_per_second"])


if __name__ == "__main__":
    main()
