"""Blend: several recommenders' scores, standardised and mixed with weights chosen on validation.

Models see different things — a sequential model the order of recent events, item-kNN which
items share buyers — and their mistakes differ, so a weighted sum of their scores can rank
better than either. Scores live on unrelated scales (logits, similarity sums), so each model's
row of scores is standardised (mean 0, standard deviation 1 over the catalog) before mixing.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import product

import numpy as np

from shopmind.errors import DataError
from shopmind.evaluate.ranking import ndcg_at_k, target_ranks
from shopmind.recommend.base import Recommender, histories_matrix

__all__ = ["Blend"]

WEIGHT_GRID = (0.0, 0.05, 0.1, 0.2, 0.3, 0.5, 1.0)
"""Candidate weights of every member after the first (whose weight is 1)."""
SCORE_BATCH = 1024


def _standardise(scores: np.ndarray) -> np.ndarray:
    scores = scores.astype(np.float32, copy=False)
    spread = scores.std(axis=1, keepdims=True)
    return (scores - scores.mean(axis=1, keepdims=True)) / np.maximum(spread, 1e-12)


class Blend(Recommender):
    """A weighted sum of member models' standardised scores.

    ``members`` are ``{"kind": class name, "params": constructor arguments}`` (plain data, so
    a blend saves and loads like any model). Each member is fitted on the same data; with
    ``weights=None`` and ``valid_targets`` in ``fit``, the weights come from a grid search of
    validation NDCG@10 (the first member's weight fixed at 1), otherwise all weights are 1.

    >>> from shopmind.data.views import Sequences
    >>> seqs = Sequences.from_events(list("uuvvww"), list("ababac"), range(6))
    >>> blend = Blend([{"kind": "ItemKNN", "params": {}}, {"kind": "Popularity", "params": {}}],
    ...               weights=[1.0, 0.1]).fit(seqs)
    >>> blend.recommend("w", k=1).item_ids.tolist()
    ['b']
    """

    def __init__(self, members: list[dict], weights: list[float] | None = None):
        self.members = members
        self.weights = weights

    def _build(self) -> list[Recommender]:
        if not self.members:
            raise DataError("a Blend needs at least one member model")
        built = []
        for spec in self.members:
            kind = Recommender._registry.get(spec.get("kind"))
            if kind is None:
                raise DataError(f"unknown member model {spec.get('kind')!r}; choose from "
                                f"{sorted(Recommender._registry)}")
            built.append(kind(**spec.get("params", {})))
        if self.weights is not None and len(self.weights) != len(built):
            raise DataError(f"got {len(self.weights)} weights for {len(built)} members")
        return built

    def _fit(self, interactions, items, valid_targets) -> None:
        self.models_ = [m.fit(interactions, items, valid_targets) for m in self._build()]
        if self.weights is not None:
            self.weights_ = np.asarray(self.weights, dtype=np.float32)
        elif valid_targets is None or len(self.models_) == 1:
            self.weights_ = np.ones(len(self.models_), dtype=np.float32)
        else:
            self.weights_, self.valid_ndcg_ = self._search_weights(interactions, valid_targets)

    def _search_weights(self, interactions, valid_targets) -> tuple[np.ndarray, float]:
        """Every combination of WEIGHT_GRID for members 2.., scored on the validation users."""
        users = np.flatnonzero(valid_targets >= 0)
        grid = [np.array((1.0, *w), dtype=np.float32)
                for w in product(WEIGHT_GRID, repeat=len(self.models_) - 1)]
        ranks = np.zeros((len(grid), len(users)), dtype=np.int64)
        for start in range(0, len(users), SCORE_BATCH):
            batch = users[start:start + SCORE_BATCH]
            histories = [interactions.sequence(u) for u in batch]
            parts = [_standardise(m.score_histories(histories)) for m in self.models_]
            seen = histories_matrix(histories, interactions.n_items)
            for g, weights in enumerate(grid):
                mixed = sum(w * p for w, p in zip(weights, parts))
                ranks[g, start:start + len(batch)] = target_ranks(mixed, valid_targets[batch],
                                                                  exclude=seen)
        ndcg = [ndcg_at_k(r, 10) for r in ranks]
        best = int(np.argmax(ndcg))
        return grid[best], float(ndcg[best])

    def score_histories(self, histories: Sequence[np.ndarray]) -> np.ndarray:
        mixed = np.zeros((len(histories), self.n_items), dtype=np.float32)
        for weight, model in zip(self.weights_, self.models_):
            if weight:
                mixed += weight * _standardise(model.score_histories(histories))
        return mixed

    def item_similarity(self, item_indices: np.ndarray) -> np.ndarray:
        mixed = np.zeros((len(item_indices), self.n_items), dtype=np.float32)
        for weight, model in zip(self.weights_, self.models_):
            if weight:
                mixed += weight * _standardise(model.item_similarity(item_indices))
        return mixed

    def _state(self) -> dict[str, np.ndarray]:
        state = {"weights": self.weights_}
        for i, model in enumerate(self.models_):
            state.update({f"{i}.{name}": value for name, value in model._state().items()})
        return state

    def _set_state(self, state: dict[str, np.ndarray]) -> None:
        self.weights_ = state["weights"]
        self.models_ = self._build()
        for i, model in enumerate(self.models_):
            model.item_ids_, model.history_ = self.item_ids_, self.history_
            prefix = f"{i}."
            model._set_state({name.removeprefix(prefix): value for name, value in state.items()
                              if name.startswith(prefix)})
