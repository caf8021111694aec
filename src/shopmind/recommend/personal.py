"""The model-backed lists — for you, next up, similar items — as one implementation for the
library, the command line and the service: score, apply the shop's rules, give each item the
reason the model's own signals support.

A *scorer* is anything with ``score(history) -> (n_items,)`` scores for one item-position
history, ``similarity(rows)`` (rows × n_items), ``similarity_between(rows, columns)`` and
``model`` (the fitted recommender):
``shopmind.live.LiveRecommender`` in the service, :class:`ModelScorer` around a plain model.

>>> from shopmind.data.views import Sequences
>>> from shopmind.recommend import ItemKNN
>>> from shopmind.recommend.catalog import ItemCatalog
>>> seqs = Sequences.from_events(list("uuvvwwxx"), list("abababcd"), range(8))
>>> scorer = ModelScorer(ItemKNN().fit(seqs))
>>> cat = ItemCatalog(scorer.item_ids, titles=["Phone", "Case", "Tent", "Bag"])
>>> picks = for_you(scorer, cat, history=np.array([0]), types=["view"], k=1)
>>> picks.item_ids.tolist(), picks.reasons[0].text(cat.title)
(['b'], 'because you viewed “Phone”')
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import numpy as np

from shopmind.recommend.catalog import ItemCatalog
from shopmind.recommend.ranking import Ranked, rank
from shopmind.recommend.reasons import Reason, anchors, history_weights
from shopmind.recommend.rules import Rules

__all__ = ["Picks", "ModelScorer", "for_you", "next_up", "similar", "picks_from"]


class Picks(NamedTuple):
    """A finished list: item ids, scores and one :class:`Reason` per item, best first."""

    item_ids: np.ndarray
    scores: np.ndarray
    reasons: list[Reason]


class ModelScorer:
    """A fitted recommender seen as a scorer of one history at a time."""

    def __init__(self, model):
        self.model = model
        self.item_ids = np.asarray(model.item_ids_, dtype=object)

    def score(self, history: np.ndarray) -> np.ndarray:
        history = np.asarray(history, dtype=np.int64)
        return np.asarray(self.model.score_histories([history])[0], dtype=np.float32)

    def similarity(self, rows: np.ndarray) -> np.ndarray:
        return np.asarray(self.model.item_similarity(np.asarray(rows, dtype=np.int64)),
                          dtype=np.float32)

    def similarity_between(self, rows: np.ndarray, columns: np.ndarray) -> np.ndarray:
        return self.similarity(rows)[:, np.asarray(columns, dtype=np.int64)]


def picks_from(ranked: Ranked, catalog: ItemCatalog, reasons: Sequence[Reason]) -> Picks:
    return Picks(catalog.item_ids[ranked.items], np.asarray(ranked.scores, np.float32),
                 list(reasons))


def _pin_reason(reason: Reason, pinned: bool) -> Reason:
    return Reason("popular", note="featured by the shop") if pinned else reason


def for_you(scorer, catalog: ItemCatalog, history: np.ndarray, types: Sequence[str],
            rules: Rules | None = None, k: int = 10, exclude_seen: bool = True) -> Picks:
    """A personal list from a history (item positions, oldest first, with their event types);
    each item's reason names the history item that drives its score."""
    history = np.asarray(history, dtype=np.int64)
    ranked = rank(scorer.score(history), catalog, rules, k,
                  np.unique(history) if exclude_seen else None, scorer.similarity_between)
    weights = history_weights(scorer.model, len(history))
    where = anchors(history, ranked.items, scorer.similarity_between, weights)
    reasons = [_pin_reason(Reason("history", item_id=catalog.item_ids[history[a]],
                                  event=str(types[a])) if a >= 0 else Reason("taste"), p)
               for a, p in zip(where.tolist(), ranked.pinned.tolist())]
    return picks_from(ranked, catalog, reasons)


def next_up(scorer, catalog: ItemCatalog, window: np.ndarray, window_types: Sequence[str],
            rules: Rules | None = None, k: int = 10, exclude=()) -> Picks:
    """What comes next after a live session (item positions, oldest first): an item the
    session's latest item drives "often comes next after" it, an earlier one "goes with" it.
    The session's items are never recommended, nor ``exclude`` (e.g. what the user bought)."""
    window = np.asarray(window, dtype=np.int64)
    excluded = np.unique(np.concatenate([window, np.asarray(exclude, dtype=np.int64).ravel()]))
    ranked = rank(scorer.score(window), catalog, rules, k, excluded[excluded >= 0],
                  scorer.similarity_between)
    where = anchors(window, ranked.items, scorer.similarity_between,
                    history_weights(scorer.model, len(window)))
    last = len(window) - 1
    reasons = []
    for a, p in zip(where.tolist(), ranked.pinned.tolist()):
        if a < 0:
            reason = Reason("taste", note="fits what you are browsing now")
        else:
            reason = Reason("next" if a == last else "session",
                            item_id=catalog.item_ids[window[a]], event=str(window_types[a]))
        reasons.append(_pin_reason(reason, p))
    return picks_from(ranked, catalog, reasons)


def similar(scorer, catalog: ItemCatalog, item: int, rules: Rules | None = None,
            k: int = 10) -> Picks:
    """Items most similar to one item (by position) in the model's item similarity."""
    scores = np.asarray(scorer.similarity(np.array([item])), np.float32)[0]
    ranked = rank(scores, catalog, rules, k, [item], scorer.similarity_between)
    category = catalog.categories[item]
    reasons = [_pin_reason(Reason("similar", item_id=catalog.item_ids[item],
                                  category=category if category and
                                  catalog.categories[j] == category else None), p)
               for j, p in zip(ranked.items.tolist(), ranked.pinned.tolist())]
    return picks_from(ranked, catalog, reasons)
