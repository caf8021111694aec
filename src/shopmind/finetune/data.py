"""Turning texts and labels into model input: label codes, class weights, length-bucketed batches.

>>> classes, y = encode_labels(["pos", "neg", "pos"])
>>> list(classes), y.tolist()
(['neg', 'pos'], [1, 0, 1])
>>> balanced_class_weights(np.array([0, 0, 0, 1]), 2).round(3).tolist()
[0.667, 2.0]
>>> [b.tolist() for b in length_batches(np.array([5, 1, 9, 2]), 2)]
[[1, 3], [0, 2]]
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from shopmind.errors import DataError

__all__ = ["as_text_list", "encode_labels", "balanced_class_weights", "length_batches",
           "tokenize_rows", "input_lengths"]


def as_text_list(texts, name: str = "texts") -> list[str]:
    """``texts`` as a list of str; a single string is one text."""
    if isinstance(texts, str):
        return [texts]
    out = []
    for i, t in enumerate(texts):
        if t is None or (isinstance(t, float) and np.isnan(t)):
            raise DataError(f"{name}[{i}] is missing; drop or fill empty rows first")
        out.append(str(t))
    return out


def encode_labels(labels) -> tuple[np.ndarray, np.ndarray]:
    """(classes in sorted order keeping their original values, integer code of each label)."""
    labels = np.asarray(labels, dtype=object)
    if labels.ndim != 1:
        raise DataError(f"labels must be 1-D, got shape {labels.shape}")
    for i, v in enumerate(labels):
        if v is None or (isinstance(v, float) and np.isnan(v)):
            raise DataError(f"label at row {i} is missing; drop unlabelled rows first")
    keys, y = np.unique(labels.astype(str), return_inverse=True)
    if len(keys) < 2:
        raise DataError("the labels hold a single class; a classifier needs two or more")
    first = {str(v): v for v in labels}
    classes = np.array([first[k] for k in keys], dtype=object)
    return classes, y.astype(np.int64)


def balanced_class_weights(y: np.ndarray, n_classes: int) -> np.ndarray:
    """scikit-learn's "balanced" weights: n / (k * count); a class never seen weighs 1."""
    counts = np.bincount(y, minlength=n_classes).astype(float)
    return np.where(counts > 0, len(y) / (n_classes * np.maximum(counts, 1)), 1.0)


def input_lengths(texts: Sequence[str], pairs: Sequence[str] | None) -> np.ndarray:
    """A cheap proxy for token counts (characters), used only to group similar lengths."""
    return np.array([len(t) + (len(pairs[i]) if pairs is not None else 0)
                     for i, t in enumerate(texts)])


def length_batches(lengths: np.ndarray, batch_size: int,
                   rng: np.random.Generator | None = None) -> list[np.ndarray]:
    """Row indices grouped by similar length, so batches carry little padding.

    With ``rng`` (training) lengths are jittered and the batch order shuffled, so batches
    differ between epochs; without it the grouping is deterministic (inference).
    """
    noise = rng.random(len(lengths)) * 4 if rng is not None else 0
    order = np.argsort(lengths + noise, kind="stable")
    batches = [order[i:i + batch_size] for i in range(0, len(order), batch_size)]
    if rng is not None:
        rng.shuffle(batches)
    return batches


def tokenize_rows(tokenizer, texts: Sequence[str], pairs: Sequence[str] | None,
                  rows: np.ndarray, max_length: int) -> dict:
    """Padded tensors for ``rows``; pairs are encoded as ``[CLS] text [SEP] pair [SEP]``."""
    args = ([texts[i] for i in rows],)
    if pairs is not None:
        args += ([pairs[i] for i in rows],)
    return dict(tokenizer(*args, padding=True, truncation=True, max_length=max_length,
                          return_tensors="pt"))
