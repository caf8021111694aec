"""Diversity: keep a list from being ten near-identical items.

>>> import numpy as np
>>> sim = np.array([[1, .99, 0], [.99, 1, 0], [0, 0, 1]], dtype=np.float32)
>>> mmr(np.array([10, 11, 12]), np.array([0.9, 0.89, 0.5]), sim, 2, 0.5).tolist()
[10, 12]
>>> cap_per_category(np.array([1, 2, 3, 4]), np.array(["A", "A", "B", "A"], dtype=object), 1)
array([1, 3, 2, 4])
"""

from __future__ import annotations

import numpy as np

__all__ = ["mmr", "cap_per_category"]


def mmr(candidates: np.ndarray, scores: np.ndarray, similarity: np.ndarray, k: int,
        weight: float) -> np.ndarray:
    """Maximal marginal relevance: pick, one at a time, the candidate with the best
    ``(1 - weight) * relevance - weight * (max similarity to the items already picked)``.

    ``candidates`` best first with their ``scores``; ``similarity`` is candidates ×
    candidates; relevance is the score rescaled to [0, 1] over the candidates and similarity
    is divided by its largest value between two different candidates, so ``weight`` means the
    same for every model (item-kNN cosines of 0.1 and ALS cosines of 0.9 alike). Returns ``k``
    candidates (fewer if there are fewer).
    """
    n = len(candidates)
    k = min(k, n)
    if n == 0 or k == 0:
        return candidates[:0]
    scores = np.asarray(scores, dtype=np.float64)
    span = scores.max() - scores.min()
    relevance = (scores - scores.min()) / span if span > 0 else np.ones(n)
    sim = np.array(similarity, dtype=np.float64)
    np.fill_diagonal(sim, 0.0)
    scale = np.abs(sim).max()
    if scale > 0:
        sim /= scale
    closest = np.full(n, -np.inf)  # max similarity to what is picked so far
    free = np.ones(n, dtype=bool)
    picked = []
    for _ in range(k):
        value = (1 - weight) * relevance - weight * np.where(np.isfinite(closest), closest, 0.0)
        value[~free] = -np.inf
        best = int(np.argmax(value))
        picked.append(best)
        free[best] = False
        closest = np.maximum(closest, sim[best])
    return candidates[np.asarray(picked)]


def cap_per_category(candidates: np.ndarray, categories: np.ndarray, cap: int) -> np.ndarray:
    """The candidates (best first) with at most ``cap`` per category at the top; the overflow
    keeps its order after them. Items without a category are never capped."""
    seen: dict = {}
    head, tail = [], []
    for item, category in zip(candidates.tolist(), categories.tolist()):
        if category is None:
            head.append(item)
            continue
        seen[category] = seen.get(category, 0) + 1
        (head if seen[category] <= cap else tail).append(item)
    return np.asarray(head + tail, dtype=candidates.dtype)
