"""ALS matrix factorisation for implicit feedback, trained by the ``implicit`` library (CPU)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from threadpoolctl import threadpool_limits

from shopmind.recommend.base import Recommender, histories_matrix

__all__ = ["ALS"]


class ALS(Recommender):
    """Implicit-feedback ALS (Hu, Koren & Volinsky 2008) with confidence ``1 + alpha * count``.

    Users are folded in at scoring time (one least-squares solve against the item factors), so
    a history updated with :meth:`update_users` or passed to ``next_items`` is used at once.
    ``threads=0`` lets implicit use every core. The defaults were chosen on Amazon Beauty's
    validation split (benchmarks/results/recommend-tuning.md).

    >>> from shopmind.data.views import Sequences
    >>> seqs = Sequences.from_events(list("uuvvwwxx"), list("abababcd"), range(8))
    >>> ALS(factors=2, iterations=5).fit(seqs).similar_items("a", k=1).item_ids.tolist()
    ['b']
    """

    def __init__(self, factors: int = 64, regularization: float = 0.1, alpha: float = 10.0,
                 iterations: int = 15, seed: int = 0, threads: int = 0):
        self.factors = factors
        self.regularization = regularization
        self.alpha = alpha
        self.iterations = iterations
        self.seed = seed
        self.threads = threads

    def _solver(self):
        from implicit.cpu.als import AlternatingLeastSquares

        # implicit runs its own OpenMP threads; a multi-threaded BLAS underneath would
        # oversubscribe the cores (implicit warns about it, and is ~10x slower).
        with threadpool_limits(1, "blas"):
            return AlternatingLeastSquares(
                factors=self.factors, regularization=self.regularization, alpha=self.alpha,
                iterations=self.iterations, random_state=self.seed, num_threads=self.threads)

    def _fit(self, interactions, items, valid_targets) -> None:
        solver = self._solver()
        with threadpool_limits(1, "blas"):
            solver.fit(interactions.to_interactions().matrix, show_progress=False)
        self.item_factors_ = np.ascontiguousarray(solver.item_factors, dtype=np.float32)
        self._fold_in = solver

    def _fold_in_solver(self):
        if getattr(self, "_fold_in", None) is None:  # after load: a solver around saved factors
            self._fold_in = self._solver()
            self._fold_in.item_factors = self.item_factors_
        return self._fold_in

    def score_histories(self, histories: Sequence[np.ndarray]) -> np.ndarray:
        user_items = histories_matrix(histories, self.n_items)
        # No threadpool_limits here: the fold-in solve runs implicit's own loops, and
        # threadpoolctl's library scan would cost ~100 ms per call.
        users = self._fold_in_solver().recalculate_user(np.arange(len(histories)), user_items)
        return users @ self.item_factors_.T

    def item_similarity(self, item_indices: np.ndarray) -> np.ndarray:
        norms = np.linalg.norm(self.item_factors_, axis=1)
        unit = self.item_factors_ / np.maximum(norms, 1e-12)[:, None]
        return unit[np.asarray(item_indices)] @ unit.T

    def _state(self) -> dict[str, np.ndarray]:
        return {"item_factors": self.item_factors_}

    def _set_state(self, state: dict[str, np.ndarray]) -> None:
        self.item_factors_ = state["item_factors"]
        self._fold_in = None
