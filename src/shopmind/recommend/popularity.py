"""Popularity: the most interacted-with items overall, or trending now with a time decay."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from shopmind.errors import DataError
from shopmind.recommend.base import Recommender

__all__ = ["Popularity"]


class Popularity(Recommender):
    """Items ranked by how many events they had, the same for everyone.

    With ``half_life`` (in the unit of the events' ``ts``: seconds for a store) an event counts
    ``0.5 ** (age / half_life)``, its age measured from the newest event, so the ranking is what
    is trending now rather than what sold well once. ``similar_items`` has no notion of
    similarity here: it returns the most popular other items.

    >>> from shopmind.data.views import Sequences
    >>> seqs = Sequences.from_events(["u", "u", "v", "w"], ["a", "b", "b", "c"], [0, 1, 0, 9])
    >>> Popularity().fit(seqs).recommend("v", k=2).item_ids.tolist()
    ['a', 'c']
    >>> Popularity(half_life=1.0).fit(seqs).recommend("v", k=2).item_ids.tolist()
    ['c', 'a']
    """

    def __init__(self, half_life: float | None = None):
        self.half_life = half_life

    def _fit(self, interactions, items, valid_targets) -> None:
        if self.half_life is not None and not self.half_life > 0:
            raise DataError(f"half_life must be positive (or None), got {self.half_life}")
        weights = None
        if self.half_life is not None:
            age = interactions.ts.max() - interactions.ts
            weights = 0.5 ** (age / self.half_life)
        self.counts_ = np.bincount(interactions.items, weights,
                                   minlength=interactions.n_items).astype(np.float32)

    def score_histories(self, histories: Sequence[np.ndarray]) -> np.ndarray:
        return np.tile(self.counts_, (len(histories), 1))

    def item_similarity(self, item_indices: np.ndarray) -> np.ndarray:
        return np.tile(self.counts_, (len(item_indices), 1))

    def _state(self) -> dict[str, np.ndarray]:
        return {"counts": self.counts_}

    def _set_state(self, state: dict[str, np.ndarray]) -> None:
        self.counts_ = state["counts"]
