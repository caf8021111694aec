"""The contracts every review model follows, and the polarity vocabulary they share.

* :class:`TextClassifier` — ``fit(texts, labels)``, ``predict``, ``predict_proba``,
  ``classes_``, ``save(path)`` / ``load(path)``: document or clause sentiment. The n-gram model
  here implements it; so does any fine-tuned transformer (``shopmind.finetune`` or
  :class:`~shopmind.reviews.transformer.TransformerClassifier`), which is how a better model is
  plugged into :class:`~shopmind.reviews.analyzer.ReviewAnalyzer`.
* :class:`PairClassifier` — the same with a second text per row: ``fit(texts, pairs, labels)``,
  for aspect-term sentiment (sentence + aspect term).

Polarity is always one of :data:`POLARITIES`; :func:`to_polarity` maps the labels datasets use
(1/0/-1, "Positive", 0/1 binary, ratings through :func:`polarity_from_rating`).

>>> to_polarity([1, 0, -1, "Negative", "pos", True]).tolist()
['positive', 'neutral', 'negative', 'negative', 'positive', 'positive']
>>> to_polarity([0, 1], binary=True).tolist()
['negative', 'positive']
>>> polarity_from_rating([5, 3, 1]).tolist()
['positive', 'neutral', 'negative']
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Protocol, Self, runtime_checkable

import numpy as np

from shopmind.errors import DataError

__all__ = ["POLARITIES", "TextClassifier", "PairClassifier", "to_polarity", "polarity_from_rating",
           "polarity_proba", "polarity_of_score", "as_texts", "stratified_holdout"]

POLARITIES = ("negative", "neutral", "positive")
"""Column order of every three-class probability array in this package."""

_NAMES = {
    "positive": "positive", "pos": "positive", "p": "positive", "1": "positive", "+1": "positive",
    "true": "positive", "good": "positive",
    "neutral": "neutral", "neu": "neutral", "0": "neutral", "conflict": "neutral",
    "negative": "negative", "neg": "negative", "n": "negative", "-1": "negative",
    "false": "negative", "bad": "negative",
    # Chinese datasets and shops label in words too
    "正面": "positive", "正向": "positive", "积极": "positive", "好评": "positive",
    "中性": "neutral", "中评": "neutral",
    "负面": "negative", "负向": "negative", "消极": "negative", "差评": "negative",
}


def to_polarity(labels, binary: bool = False) -> np.ndarray:
    """Labels as ``"negative" | "neutral" | "positive"``.

    ``binary=True`` reads 0 as negative (datasets labelled 1 positive / 0 negative).
    """
    out = np.empty(len(labels), dtype=object)
    for i, label in enumerate(labels):
        key = str(label).strip().lower()
        if isinstance(label, bool | np.bool_):
            key = "true" if label else "false"
        elif isinstance(label, float | np.floating) and float(label).is_integer():
            key = str(int(label))
        if binary and key == "0":
            key = "negative"
        name = _NAMES.get(key)
        if name is None:
            raise DataError(f"label {label!r} at row {i} is not a polarity; use positive/neutral/"
                            f"negative (or 正面/中性/负面), 1/0/-1, or 1/0 with binary=True")
        out[i] = name
    return out


def polarity_from_rating(ratings, low: float = 2, high: float = 4) -> np.ndarray:
    """Star ratings as polarity: ``<= low`` negative, ``>= high`` positive, else neutral."""
    r = np.asarray(ratings, dtype=float)
    if np.isnan(r).any():
        raise DataError("a rating is missing; drop unrated reviews before deriving labels")
    return np.where(r >= high, "positive", np.where(r <= low, "negative", "neutral")).astype(object)


def polarity_of_score(score: float, band: float = 0.3) -> str:
    """A score in [-1, 1] as a polarity; ``|score| < band`` is neutral."""
    return "positive" if score >= band else "negative" if score <= -band else "neutral"


def as_texts(texts, name: str = "texts") -> list[str]:
    """One text or many, as a list of strings (missing values become "")."""
    if isinstance(texts, str):
        return [texts]
    if texts is None:
        raise DataError(f"{name} is None; pass a string or a list of strings")
    out = []
    for t in texts:
        out.append("" if t is None or (isinstance(t, float) and np.isnan(t)) else str(t))
    return out


@runtime_checkable
class TextClassifier(Protocol):
    """What :class:`~shopmind.reviews.analyzer.ReviewAnalyzer` needs from a sentiment model."""

    classes_: np.ndarray

    def fit(self, texts: Sequence[str], labels: Sequence) -> Self: ...

    def predict(self, texts: Sequence[str]) -> np.ndarray: ...

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray: ...

    def save(self, path: str | Path) -> Path: ...


@runtime_checkable
class PairClassifier(Protocol):
    """Sentence-pair classification: (text, pair) -> label; for aspect-term sentiment."""

    classes_: np.ndarray

    def fit(self, texts: Sequence[str], pairs: Sequence[str], labels: Sequence) -> Self: ...

    def predict(self, texts: Sequence[str], pairs: Sequence[str]) -> np.ndarray: ...

    def predict_proba(self, texts: Sequence[str], pairs: Sequence[str]) -> np.ndarray: ...

    def save(self, path: str | Path) -> Path: ...


def polarity_proba(classes, proba: np.ndarray) -> np.ndarray:
    """Reorder a model's ``predict_proba`` columns into :data:`POLARITIES` order.

    A class the model does not know (a binary model has no neutral) gets probability 0.

    >>> polarity_proba(["negative", "positive"], np.array([[0.2, 0.8]])).tolist()
    [[0.2, 0.0, 0.8]]
    """
    proba = np.asarray(proba, dtype=np.float64)
    names = to_polarity(list(classes), binary=len(classes) == 2 and
                        {str(c) for c in classes} == {"0", "1"})
    out = np.zeros((proba.shape[0], len(POLARITIES)))
    for j, name in enumerate(names):
        out[:, POLARITIES.index(name)] += proba[:, j]
    return out


def stratified_holdout(y: np.ndarray, share: float, seed: int,
                       groups: Sequence | None = None) -> np.ndarray:
    """Sorted row indices of about ``share`` of each class of ``y``, drawn with ``seed``; a class
    too small to give a row and keep one gives none.

    With ``groups`` (a key per row) whole groups are held out, never part of one: the aspect
    pairs of one sentence share nearly every word, so a dev row whose sentence is also trained on
    scores memory, not judgement (SemEval-14 laptops: 2,328 pairs from 1,482 sentences). A group
    counts in the class of its first row.

    >>> stratified_holdout(np.array([0, 0, 0, 0, 1, 1, 1, 1]), 0.25, 0).size
    2
    >>> stratified_holdout(np.array([0, 1, 0, 1]), 0.5, 0, groups=["a", "a", "b", "b"]).size
    2
    """
    y = np.asarray(y)
    if groups is None:  # every row its own group
        keys, first = np.arange(len(y)), np.arange(len(y))
    else:  # keys: each row's group code; first: each group's first row
        _, first, keys = np.unique(np.asarray(groups).astype(str), return_index=True,
                                   return_inverse=True)
    group_class = y[first]
    rng = np.random.default_rng(seed)
    held = []
    for c in np.unique(group_class):
        members = np.flatnonzero(group_class == c)
        take = int(round(share * len(members)))
        if 0 < take < len(members):
            held.append(rng.choice(members, take, replace=False))
    if not held:
        return np.array([], dtype=np.int64)
    return np.flatnonzero(np.isin(keys, np.concatenate(held)))
