"""Item-kNN: items that appear in the same users' histories, cosine-normalised."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import scipy.sparse as sp

from shopmind.errors import DataError
from shopmind.recommend.base import Recommender, histories_matrix

__all__ = ["ItemKNN"]


def _keep_largest_per_row(matrix: sp.csr_matrix, k: int) -> sp.csr_matrix:
    """Each row's ``k`` largest entries (one lexsort over all rows, no loop per row)."""
    rows = np.repeat(np.arange(matrix.shape[0]), np.diff(matrix.indptr))
    order = np.lexsort((-matrix.data, rows))
    rank = np.arange(len(order)) - matrix.indptr[rows[order]]
    keep = order[rank < k]
    return sp.csr_matrix((matrix.data[keep], (rows[keep], matrix.indices[keep])),
                         shape=matrix.shape, dtype=np.float32)


class ItemKNN(Recommender):
    """Co-occurrence cosine item-kNN.

    ``sim(i, j) = |U_i ∩ U_j| / (sqrt(|U_i| |U_j|) + shrink)`` over the sets of users who touched
    each item; each item keeps its ``neighbours`` most similar items. A history scores item
    ``j`` with the sum of ``sim(i, j)`` over its items ``i``; with ``recency < 1`` the item ``d``
    steps before the newest one weighs ``recency ** d``, so the latest interest leads.
    ``shrink`` damps similarities resting on a handful of shared users. The defaults were
    chosen on Amazon Beauty's validation split (benchmarks/results/recommend-tuning.md).

    >>> from shopmind.data.views import Sequences
    >>> seqs = Sequences.from_events(list("uuvvww"), list("ababab"), range(6))
    >>> ItemKNN().fit(seqs).similar_items("a", k=1).item_ids.tolist()
    ['b']
    """

    def __init__(self, neighbours: int = 100, shrink: float = 30.0, recency: float = 0.5):
        self.neighbours = neighbours
        self.shrink = shrink
        self.recency = recency

    def _fit(self, interactions, items, valid_targets) -> None:
        if self.neighbours < 1:
            raise DataError(f"neighbours must be at least 1, got {self.neighbours}")
        if not 0 < self.recency <= 1:
            raise DataError(f"recency must be in (0, 1], got {self.recency}")
        users = interactions.to_interactions().matrix
        users.data[:] = 1.0  # who touched the item, not how often
        cooccur = (users.T @ users).tocsr()
        cooccur.setdiag(0)
        cooccur.eliminate_zeros()
        support = np.sqrt(np.asarray(users.sum(axis=0)).ravel())
        rows = np.repeat(np.arange(cooccur.shape[0]), np.diff(cooccur.indptr))
        cooccur.data = cooccur.data / (support[rows] * support[cooccur.indices] + self.shrink)
        self.similarity_ = _keep_largest_per_row(cooccur, self.neighbours)

    def _weights(self, histories: Sequence[np.ndarray]) -> list[np.ndarray]:
        return [self.recency ** np.arange(len(h) - 1, -1, -1, dtype=np.float64)
                for h in histories]

    def score_histories(self, histories: Sequence[np.ndarray]) -> np.ndarray:
        weights = None if self.recency == 1 else self._weights(histories)
        user_items = histories_matrix(histories, self.n_items, weights)
        return (user_items @ self.similarity_).toarray().astype(np.float32)

    def item_similarity(self, item_indices: np.ndarray) -> np.ndarray:
        return self.similarity_[np.asarray(item_indices)].toarray()

    def _state(self) -> dict[str, np.ndarray]:
        s = self.similarity_
        return {"data": s.data, "indices": s.indices, "indptr": s.indptr}

    def _set_state(self, state: dict[str, np.ndarray]) -> None:
        n = len(self.item_ids_)
        self.similarity_ = sp.csr_matrix((state["data"], state["indices"], state["indptr"]),
                                         shape=(n, n))
