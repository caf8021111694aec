"""Soft labels for distillation: cross-fitted, never from a teacher that saw the row, and
augmented variants scored by the fold teacher that did not see their source."""

from __future__ import annotations

import numpy as np
import pytest

from shopmind.errors import DataError
from shopmind.reviews import (
    NgramSentimentClassifier,
    augment_reviews,
    distillation_set,
    out_of_fold_proba,
)


def _order_matters(n: int, seed: int) -> tuple[list[str], np.ndarray, np.ndarray]:
    """Polarity is the order of two characters ("甲乙" good, "乙甲" bad) among filler clauses,
    10 % of the labels flipped; returns texts, labels and the true polarity."""
    rng = np.random.default_rng(seed)
    filler = list("今天收到这个商品我们家里朋友价格")
    texts, labels, truth = [], [], []
    for i in range(n):
        positive = rng.random() < 0.5
        words = ["".join(rng.choice(filler, 2)) for _ in range(3)] + ["甲乙" if positive else "乙甲"]
        texts.append("，".join(rng.permutation(words)) + f"。{i}")  # all distinct
        truth.append(int(positive))
        labels.append(int(positive) if rng.random() > 0.1 else int(not positive))
    return texts, np.array(labels), np.array(truth)


def _pairs():
    return NgramSentimentClassifier(char_ngrams=(1, 2), word_ngrams=None, members=("lr",),
                                    calibration=0.0)


class _Memorizer:
    """Knows exactly the texts it was fitted on (and the variants made of them), nothing else."""

    def fit(self, texts, labels):
        self.classes_ = np.unique(np.asarray(labels))
        self.seen = dict(zip(texts, labels))
        return self

    def predict_proba(self, texts):
        return np.array([(self.classes_ == self.seen[t]).astype(float) if t in self.seen
                         else np.full(len(self.classes_), 1 / len(self.classes_)) for t in texts])


def test_out_of_fold_probabilities_never_come_from_a_model_that_saw_the_row():
    texts, labels, truth = _order_matters(600, 3)
    assert np.allclose(out_of_fold_proba(_Memorizer, texts, labels, folds=3), 0.5)
    proba = out_of_fold_proba(_pairs, texts, labels, folds=3)
    assert proba.shape == (600, 2) and np.allclose(proba.sum(axis=1), 1)
    assert np.mean(proba.argmax(axis=1) == truth) >= 0.85
    flipped = labels != truth  # a row's own wrong label did not teach its probability
    assert np.mean(proba[flipped].argmax(axis=1) == truth[flipped]) >= 0.8
    # a copy of a training text, derived from row i, is scored by the fold that did not see row i
    _, copies = out_of_fold_proba(_Memorizer, texts, labels, folds=3,
                                  derived=(np.arange(600), texts))
    assert np.allclose(copies, 0.5)
    with pytest.raises(DataError, match="folds"):
        out_of_fold_proba(_Memorizer, texts[:5], [0, 0, 0, 0, 1], folds=2)
    with pytest.raises(DataError, match="derived"):
        out_of_fold_proba(_Memorizer, texts, labels, derived=([600], ["x"]))


def test_variants_are_clause_runs_or_word_drops_of_their_source():
    texts = ["质量很好，物流很慢，客服一般。", "很好"]
    rows, variants = augment_reviews(texts, per_text=30, seed=0)
    assert rows.tolist() == [0] * 30 + [1] * 30
    first = [v for r, v in zip(rows, variants) if r == 0]
    assert "物流很慢，" in first and "质量很好，物流很慢，" in first  # clause runs
    assert all(set(v) <= set(texts[r]) and v for r, v in zip(rows, variants))
    with pytest.raises(DataError, match="word_drop"):
        augment_reviews(texts, word_drop=1.0)


def test_distillation_set_labels_variants_with_the_fold_teacher():
    texts, labels, truth = _order_matters(400, 4)
    all_texts, all_labels, proba = distillation_set(_pairs, texts, labels, per_text=2, folds=4)
    assert len(all_texts) == len(all_labels) == len(proba) == 1200
    assert all_texts[:400] == texts and (all_labels[:400] == labels).all()
    assert (all_labels[400:] == proba[400:].argmax(axis=1)).all()  # the teacher's class
    # a variant keeps the decisive pair most of the time, and the teacher reads it
    variant_truth = np.repeat(truth, 2)
    keeps = np.array(["甲乙" in t or "乙甲" in t for t in all_texts[400:]])
    assert keeps.mean() > 0.5
    assert np.mean(all_labels[400:][keeps] == variant_truth[keeps]) >= 0.85
