"""Classification metrics (sentiment, intents, moderation, propensity), written with numpy.

Labels may be any sortable values (ints, strings, bools). Where a metric needs a label order it
is the sorted union of the labels seen, as in scikit-learn, so results can be compared with it.
"""

from __future__ import annotations

import numpy as np
from scipy.stats import rankdata

from shopmind.errors import DataError

__all__ = [
    "accuracy",
    "confusion_matrix",
    "macro_f1",
    "detection_metrics",
    "roc_auc",
    "log_loss",
    "expected_calibration_error",
    "classification_metrics",
]

PROBABILITY_CLIP = 1e-15
"""log_loss clips probabilities to [clip, 1 - clip] so one confident mistake costs ~34.5 nats,
not infinity."""


def _vector(name: str, values) -> np.ndarray:
    values = np.asarray(values)
    if values.ndim != 1:
        raise DataError(f"{name} must be 1-D, got shape {values.shape}")
    return values


def _pair(y_true, y_pred, pred_name: str = "y_pred") -> tuple[np.ndarray, np.ndarray]:
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    if y_true.ndim != 1:
        raise DataError(f"y_true must be 1-D, got shape {y_true.shape}")
    if len(y_true) != len(y_pred):
        raise DataError(f"y_true has {len(y_true)} values but {pred_name} has {len(y_pred)}")
    if len(y_true) == 0:
        raise DataError("cannot compute a metric on zero samples")
    return y_true, y_pred


def _codes(values: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Position of each value in ``labels``; -1 where the value is not a label."""
    if len(labels) == 0:
        return np.full(len(values), -1, dtype=np.int64)
    order = np.argsort(labels, kind="stable")
    pos = np.minimum(np.searchsorted(labels[order], values), len(labels) - 1)
    found = labels[order][pos] == values
    return np.where(found, order[pos], -1)


def accuracy(y_true, y_pred) -> float:
    """Share of exact matches.

    >>> accuracy([0, 1, 2, 2], [0, 2, 2, 2])
    0.75
    """
    y_true, y_pred = _pair(y_true, y_pred)
    return float(np.mean(y_true == _vector("y_pred", y_pred)))


def confusion_matrix(y_true, y_pred, labels=None) -> np.ndarray:
    """Counts ``C[i, j]`` of samples with true label ``labels[i]`` predicted as ``labels[j]``.

    ``labels`` defaults to the sorted union of both arrays; samples whose true or predicted
    label is not in ``labels`` are left out.

    >>> confusion_matrix(["a", "b", "b", "c"], ["a", "b", "c", "c"]).tolist()
    [[1, 0, 0], [0, 1, 1], [0, 0, 1]]
    """
    y_true, y_pred = _pair(y_true, y_pred)
    y_pred = _vector("y_pred", y_pred)
    labels = np.unique(np.concatenate([y_true, y_pred])) if labels is None else np.asarray(labels)
    if len(labels) == 0:
        raise DataError("confusion_matrix needs at least one label")
    true_codes, pred_codes = _codes(y_true, labels), _codes(y_pred, labels)
    both = (true_codes >= 0) & (pred_codes >= 0)
    n = len(labels)
    flat = np.bincount(true_codes[both] * n + pred_codes[both], minlength=n * n)
    return flat.reshape(n, n)


def macro_f1(y_true, y_pred, labels=None) -> float:
    """Unweighted mean of per-class F1 over the labels in ``y_true`` ∪ ``y_pred`` (or ``labels``).

    A class never true and never predicted (only possible with explicit ``labels``) has F1 0,
    as in scikit-learn's ``zero_division=0``.

    >>> macro_f1([0, 0, 1, 1], [0, 1, 1, 1])  # F1 = 2/3 for class 0, 4/5 for class 1
    0.7333333333333334
    """
    matrix = confusion_matrix(y_true, y_pred, labels)
    true_positive = np.diag(matrix).astype(np.float64)
    # 2TP + FP + FN = (#predicted as c) + (#truly c)
    denominator = matrix.sum(axis=0) + matrix.sum(axis=1)
    f1 = np.divide(2 * true_positive, denominator, out=np.zeros_like(true_positive),
                   where=denominator > 0)
    return float(f1.mean())


def detection_metrics(truth, found) -> dict[str, float]:
    """Micro ``precision``, ``recall`` and ``f1`` of what was ``found`` against the ``truth``
    (boolean arrays of one shape: is each thing there, was it found); 0 where nothing was found
    or nothing is there.

    >>> detection_metrics([[True, False], [True, True]], [[True, True], [False, True]])
    {'precision': 0.6666666666666666, 'recall': 0.6666666666666666, 'f1': 0.6666666666666666}
    """
    truth, found = np.asarray(truth, dtype=bool), np.asarray(found, dtype=bool)
    if truth.shape != found.shape:
        raise DataError(f"truth has shape {truth.shape} but found {found.shape}")
    hits = float((truth & found).sum())
    precision, recall = hits / max(int(found.sum()), 1), hits / max(int(truth.sum()), 1)
    return {"precision": precision, "recall": recall,
            "f1": 2 * precision * recall / max(precision + recall, 1e-12)}


def _binary_auc(is_positive: np.ndarray, ranks: np.ndarray) -> np.ndarray:
    """Mann–Whitney AUC per column from average ranks (ties count one half)."""
    n_pos = is_positive.sum(axis=0).astype(np.float64)
    n_neg = len(is_positive) - n_pos
    rank_sum = (ranks * is_positive).sum(axis=0)
    return (rank_sum - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg)


def roc_auc(y_true, y_score) -> float:
    """Area under the ROC curve: binary, or one-vs-rest macro when ``y_score`` is 2-D.

    Binary: ``y_score`` is 1-D and scores the greater of the two labels. Multi-class:
    ``y_score[:, j]`` scores the j-th of the sorted labels, and every label must occur in
    ``y_true``. Tied scores count one half (average ranks).

    >>> roc_auc([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8])
    0.75
    >>> roc_auc([0, 1, 2], [[0.8, 0.1, 0.1], [0.2, 0.7, 0.1], [0.3, 0.3, 0.4]])
    1.0
    """
    y_true, y_score = _pair(y_true, y_score, "y_score")
    labels = np.unique(y_true)
    if len(labels) < 2:
        raise DataError(f"roc_auc needs both positive and negative samples, but y_true holds "
                        f"only {labels.tolist()}; evaluate on a sample with at least two classes")
    y_score = y_score.astype(np.float64)
    if y_score.ndim == 1:
        if len(labels) > 2:
            raise DataError(f"y_true has {len(labels)} classes; pass y_score as a 2-D array with "
                            f"one column per class for one-vs-rest AUC")
        return float(_binary_auc(y_true == labels[1], rankdata(y_score))[()])
    if y_score.ndim != 2 or y_score.shape[1] != len(labels):
        raise DataError(f"y_score must have one column per class in y_true ({len(labels)}), "
                        f"got shape {y_score.shape}")
    is_positive = _codes(y_true, labels)[:, None] == np.arange(len(labels))
    return float(_binary_auc(is_positive, rankdata(y_score, axis=0)).mean())


def log_loss(y_true, prob, labels=None) -> float:
    """Mean negative log-likelihood (natural log) of the true labels.

    Binary: ``prob`` is 1-D, the probability of ``labels[1]`` (default labels ``(0, 1)``).
    Multi-class: ``prob[:, j]`` is the probability of ``labels[j]`` (default ``0 .. C-1``).
    Probabilities are clipped to ``[1e-15, 1 - 1e-15]`` and not renormalised.

    >>> round(log_loss([1, 0], [0.8, 0.4]), 4)  # -(ln 0.8 + ln 0.6) / 2
    0.367
    """
    y_true, prob = _pair(y_true, prob, "prob")
    prob = np.clip(prob.astype(np.float64), PROBABILITY_CLIP, 1 - PROBABILITY_CLIP)
    if prob.ndim == 1:
        prob = np.column_stack([1 - prob, prob])
    elif prob.ndim != 2:
        raise DataError(f"prob must be 1-D or 2-D, got shape {prob.shape}")
    labels = np.arange(prob.shape[1]) if labels is None else np.asarray(labels)
    if len(labels) != prob.shape[1]:
        raise DataError(f"prob has {prob.shape[1]} columns but there are {len(labels)} labels")
    codes = _codes(y_true, labels)
    if np.any(codes < 0):
        unknown = y_true[codes < 0][0]
        raise DataError(f"y_true holds {unknown!r}, which is not one of the labels "
                        f"{labels.tolist()}; pass labels= in the column order of prob")
    return float(-np.log(prob[np.arange(len(codes)), codes]).mean())


def expected_calibration_error(y_true, prob, n_bins: int = 10) -> float:
    """Binary ECE: sample-weighted mean gap between accuracy and confidence per bin.

    ``prob`` is P(y = 1) and ``y_true`` is 0/1. Bins are equal-width on [0, 1], closed on the
    left (``[0, 0.1), [0.1, 0.2), … [0.9, 1]`` for 10 bins); empty bins add nothing.

    >>> round(expected_calibration_error([0, 1, 1, 1], [0.2, 0.3, 0.8, 0.9], n_bins=2), 4)
    0.2
    """
    y_true, prob = _pair(y_true, prob, "prob")
    prob = _vector("prob", prob).astype(np.float64)
    if n_bins <= 0:
        raise DataError(f"n_bins must be positive, got {n_bins}")
    if not np.all((prob >= 0) & (prob <= 1)):
        raise DataError("prob must hold probabilities in [0, 1]")
    outcome = y_true.astype(np.float64)
    if not np.all((outcome == 0) | (outcome == 1)):
        raise DataError("expected_calibration_error needs binary y_true (0/1)")
    bins = np.minimum((prob * n_bins).astype(np.int64), n_bins - 1)
    count = np.bincount(bins, minlength=n_bins)
    gap = np.abs(np.bincount(bins, outcome, n_bins) - np.bincount(bins, prob, n_bins))
    # sum_b (n_b / n) * |mean_y_b - mean_p_b| = sum_b |sum_y_b - sum_p_b| / n
    return float(gap.sum() / count.sum())


def classification_metrics(y_true, y_pred, y_score=None) -> dict[str, float]:
    """``accuracy`` and ``macro_f1``, plus ``auc`` (see :func:`roc_auc`) when scores are given.

    >>> classification_metrics([0, 0, 1, 1], [0, 1, 1, 1], y_score=[0.1, 0.6, 0.7, 0.9])
    {'accuracy': 0.75, 'macro_f1': 0.7333333333333334, 'auc': 1.0}
    """
    metrics = {"accuracy": accuracy(y_true, y_pred), "macro_f1": macro_f1(y_true, y_pred)}
    if y_score is not None:
        metrics["auc"] = roc_auc(y_true, y_score)
    return metrics
