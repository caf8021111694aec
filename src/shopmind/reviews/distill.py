"""Soft labels for distilling a sentiment model into a student (usually a fine-tuned encoder).

A teacher — typically the n-gram ensemble — hands the student its probabilities instead of bare
labels: they say which reviews are ambiguous or mislabelled. Two rules keep them honest:

* **cross-fitting** — every training row is scored by a teacher fitted on the other folds
  (:func:`out_of_fold_proba`): a teacher scoring its own training rows is over-confident;
* **augmentation** — :func:`augment_reviews` makes new reviews out of the training ones (a
  contiguous run of their clauses, or the review with some words dropped); the fold teacher that
  did not learn from the source review labels them. The student sees many more texts than there
  are labelled reviews, and learns how parts of a review weigh (「物流很慢」 alone is negative even
  when the whole review was positive).

:func:`distillation_set` does both and returns what ``FineTunedClassifier.fit(texts, labels,
teacher_proba=...)`` takes.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

import numpy as np

from shopmind.errors import DataError
from shopmind.reviews.base import TextClassifier, as_texts

__all__ = ["augment_reviews", "out_of_fold_proba", "distillation_set"]

_CLAUSE_END = re.compile(r"(?<=[，。！？!?,.；;~～\s])")


def _augment(text: str, rng: np.random.Generator, word_drop: float) -> str:
    from shopmind.text.tokenize import segment

    clauses = [c for c in _CLAUSE_END.split(text) if c.strip()]
    if len(clauses) >= 2 and rng.random() < 0.5:
        n = int(rng.integers(1, len(clauses)))
        start = int(rng.integers(0, len(clauses) - n + 1))
        return "".join(clauses[start:start + n])
    words = segment(text)
    kept = [w for w in words if rng.random() >= word_drop]
    return "".join(kept) if kept else text


def augment_reviews(texts, per_text: int = 2, word_drop: float = 0.15,
                    seed: int = 0) -> tuple[np.ndarray, list[str]]:
    """``per_text`` variants of each review: with reviews of two or more clauses, half the
    time a random contiguous run of them (not all), otherwise the review with each word dropped
    with probability ``word_drop``. Returns (source row of each variant, variants).

    >>> rows, variants = augment_reviews(["质量很好，物流很慢。"], per_text=8, seed=1)
    >>> rows.tolist() == [0] * 8 and "质量很好，" in variants and "物流很慢。" in variants
    True
    """
    texts = as_texts(texts)
    if per_text < 0 or not 0 <= word_drop < 1:
        raise DataError(f"per_text must be >= 0 and word_drop in [0, 1); got {per_text}, "
                        f"{word_drop}")
    rng = np.random.default_rng(seed)
    rows = np.repeat(np.arange(len(texts)), per_text)
    return rows, [_augment(texts[i], rng, word_drop) for i in rows]


def _folds(y: np.ndarray, folds: int, seed: int) -> np.ndarray:
    """A stratified fold number per row: each class dealt round the folds in random order."""
    rng = np.random.default_rng(seed)
    fold = np.empty(len(y), dtype=np.int64)
    for c in np.unique(y):
        rows = rng.permutation(np.flatnonzero(y == c))
        fold[rows] = np.arange(len(rows)) % folds
    return fold


def out_of_fold_proba(make_model: Callable[[], TextClassifier], texts, labels, folds: int = 4,
                      seed: int = 0, derived: tuple[Sequence[int], Sequence[str]] | None = None):
    """Each row's class probabilities from a ``make_model()`` fitted on the other ``folds - 1``
    folds (stratified), columns in sorted label order (as ``classes_``).

    ``derived`` = (source rows, texts): texts made from training rows (augmentations), each
    scored by the fold model that did not learn from its source row; then the result is
    ``(proba, derived_proba)``.
    """
    texts = as_texts(texts)
    labels = np.asarray(labels, dtype=object)
    if len(labels) != len(texts):
        raise DataError(f"{len(texts)} texts but {len(labels)} labels")
    names, y = np.unique(labels.astype(str), return_inverse=True)
    counts = np.bincount(y)
    if folds < 2 or counts.min() < folds:
        raise DataError(f"{folds} folds need folds >= 2 and every class at least {folds} times "
                        f"(class counts {dict(zip(names.tolist(), counts.tolist()))})")
    sources, derived_texts = (np.asarray(derived[0], dtype=np.int64), as_texts(derived[1])) \
        if derived is not None else (np.zeros(0, dtype=np.int64), [])
    if len(sources) != len(derived_texts) or (len(sources) and not
                                              0 <= sources.min() <= sources.max() < len(texts)):
        raise DataError("derived must be (source rows, texts) of one length, with rows that "
                        f"index the {len(texts)} training texts")
    fold = _folds(y, folds, seed)
    out = np.zeros((len(y), len(names)))
    derived_out = np.zeros((len(sources), len(names)))
    for f in range(folds):
        inside, outside = np.flatnonzero(fold != f), np.flatnonzero(fold == f)
        model = make_model().fit([texts[i] for i in inside], labels[inside])
        if [str(c) for c in model.classes_] != names.tolist():
            raise DataError(f"fold {f}: the model learnt classes {list(model.classes_)}, "
                            f"expected {names.tolist()}")
        out[outside] = model.predict_proba([texts[i] for i in outside])
        mine = np.flatnonzero(fold[sources] == f)
        if len(mine):
            derived_out[mine] = model.predict_proba([derived_texts[i] for i in mine])
    return (out, derived_out) if derived is not None else out


def distillation_set(make_teacher: Callable[[], TextClassifier], texts, labels,
                     per_text: int = 2, folds: int = 4, seed: int = 0):
    """(texts, labels, teacher_proba) to distil from: the training reviews with their own labels
    and out-of-fold teacher probabilities, then ``per_text`` augmented variants of each, labelled
    by the teacher (its most probable class) with its probabilities."""
    texts = as_texts(texts)
    labels = np.asarray(labels, dtype=object)
    rows, variants = augment_reviews(texts, per_text, seed=seed)
    proba, variant_proba = out_of_fold_proba(make_teacher, texts, labels, folds, seed,
                                             derived=(rows, variants))
    classes = np.unique(labels.astype(str))
    first = {str(v): v for v in labels}  # each class as the labels spell it
    variant_labels = np.array([first[classes[i]] for i in variant_proba.argmax(axis=1)],
                              dtype=object)
    return (texts + variants, np.concatenate([labels, variant_labels]),
            np.vstack([proba, variant_proba]))
