"""From a score vector to the list a shopper sees: filters, exclusions, boosts, buries,
diversity and pins, in that order, on numpy arrays (one row or a batch of rows).

Only the top of the ranking is ever sorted: a pool of candidates is cut with ``argpartition``
and the rules that reorder (diversity, pins) run on that pool, so a request costs a few passes
over the score vector however many items the shop has.

>>> import numpy as np
>>> from shopmind.recommend.catalog import ItemCatalog
>>> cat = ItemCatalog(["a", "b", "c", "d"], stock=[1, 0, 5, 2])
>>> scores = np.array([0.9, 0.8, 0.5, 0.1], dtype=np.float32)
>>> cat.item_ids[rank(scores, cat, Rules(in_stock=True), 3).items].tolist()
['a', 'c', 'd']
>>> cat.item_ids[rank(scores, cat, Rules(pin=(("d", 1),), bury=("a",)), 3).items].tolist()
['d', 'b', 'c']
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import NamedTuple

import numpy as np

from shopmind.errors import DataError
from shopmind.recommend.catalog import ItemCatalog
from shopmind.recommend.diversity import cap_per_category, mmr
from shopmind.recommend.rules import Rules

__all__ = ["Ranked", "rank", "rank_candidates", "Similarity"]

Similarity = Callable[[np.ndarray, np.ndarray], np.ndarray]
"""``similarity(rows, columns)`` -> (len(rows) × len(columns)) item similarity."""

_POOL = 4  # diversity picks from this many times k candidates


class Ranked(NamedTuple):
    """Item positions (in the score vector's columns) and their scores after boosts, best
    first; ``pinned`` marks the pinned ones. One query: 1-d arrays; a batch: lists of them."""

    items: np.ndarray
    scores: np.ndarray
    pinned: np.ndarray


def _boost_factors(catalog: ItemCatalog, rules: Rules) -> tuple[np.ndarray, np.ndarray] | None:
    """(columns, factor) of every boosted item, factors of overlapping targets multiplied."""
    if not rules.boost:
        return None
    factor = np.ones(len(catalog), dtype=np.float32)
    for target, f in rules.boost:
        factor[catalog.targets_mask((target,))] *= f
    columns = np.flatnonzero(factor != 1.0)
    return columns, factor[columns]


def _top(keys: np.ndarray, n: int) -> np.ndarray:
    """Positions of the ``n`` largest finite keys, best first (ties: lower position first)."""
    n = min(n, len(keys))
    if n <= 0:
        return np.zeros(0, np.int64)
    top = np.argpartition(-keys, n - 1)[:n] if n < len(keys) else np.arange(len(keys))
    top = top[np.lexsort((top, -keys[top]))]
    return top[np.isfinite(keys[top])].astype(np.int64)


def _one(keys: np.ndarray, k: int, catalog: ItemCatalog, rules: Rules, buried: np.ndarray | None,
         pins: list[tuple[int, int]], similarity: Similarity | None) -> tuple[np.ndarray, np.ndarray]:
    """The ordered list for one row of (already filtered and boosted) keys."""
    pin_items = {i for i, _ in pins}
    if pin_items:
        keys[list(pin_items)] = -np.inf  # they come back at their positions
    need = k - len(pins)
    pool = need * _POOL if (rules.diversity or rules.max_per_category) else need
    if buried is not None and buried.any():
        sunk = keys[buried].copy()
        keys[buried] = -np.inf
        top = _top(keys, pool)
        if len(top) < pool:  # buried items fill what is left, in their own order
            sunk_keys = np.full(len(keys), -np.inf, dtype=np.float32)
            sunk_keys[buried] = sunk
            top = np.concatenate([top, _top(sunk_keys, pool - len(top))])
        keys[buried] = sunk
    else:
        top = _top(keys, pool)
    if rules.diversity and len(top) > 1:
        sim = similarity or catalog.same_category
        top = mmr(top, keys[top], sim(top, top), need, rules.diversity)
    if rules.max_per_category:
        top = cap_per_category(top, catalog.categories[top], rules.max_per_category)
    top = top[:max(need, 0)]
    out = top.tolist()
    for item, position in sorted(pins, key=lambda p: p[1]):
        out.insert(min(position - 1, len(out)), item)
    items = np.asarray(out[:k], dtype=np.int64)
    pinned = np.isin(items, list(pin_items)) if pin_items else np.zeros(len(items), bool)
    return items, pinned


def rank(scores: np.ndarray, catalog: ItemCatalog, rules: Rules | None = None, k: int = 10,
         exclude: Sequence | None = None, similarity: Similarity | None = None) -> Ranked:
    """The ``k`` best items by ``scores`` under ``rules``.

    ``scores``: ``(n_items,)`` for one query or ``(n, n_items)`` for a batch, columns aligned
    with ``catalog``; ``exclude``: item positions never to return (one query) or one such
    collection per row (a batch), e.g. what the user already bought; ``similarity``: the model's
    item similarity, for ``rules.diversity`` (the catalog's categories stand in without one).
    Non-finite scores are never returned.
    """
    rules = rules or Rules()
    if k <= 0:
        raise DataError(f"k must be positive, got {k}")
    scores = np.asarray(scores, dtype=np.float32)
    single = scores.ndim == 1
    keys = np.array(scores[None, :] if single else scores, dtype=np.float32, copy=True)
    if keys.shape[1] != len(catalog):
        raise DataError(f"scores have {keys.shape[1]} columns but the catalog has {len(catalog)} "
                        f"items; align the catalog to the model's items (ItemCatalog.align)")
    excludes = [exclude] if single else (exclude if exclude is not None else [None] * len(keys))
    if len(excludes) != len(keys):
        raise DataError(f"exclude needs one entry per row ({len(keys)}), got {len(excludes)}")
    keys[~np.isfinite(keys)] = -np.inf
    allowed = catalog.filter_mask(*rules.filters)
    if allowed is not None:
        keys[:, ~allowed] = -np.inf
    boosts = _boost_factors(catalog, rules)
    if boosts is not None:
        columns, factor = boosts
        block = keys[:, columns]
        keys[:, columns] = np.where(block >= 0, block * factor, block / factor)
    buried = catalog.targets_mask(rules.bury) if rules.bury else None
    pin_positions = [(catalog.position(i), p) for i, p in rules.pin]
    items, out_scores, pinned = [], [], []
    for row, excluded in zip(keys, excludes):
        pins = [(i, p) for i, p in pin_positions
                if i is not None and (allowed is None or allowed[i])]
        adjusted = row.copy() if pins else row
        if excluded is not None and len(excluded):
            gone = excluded if isinstance(excluded, np.ndarray) else list(excluded)
            row[np.asarray(gone, dtype=np.int64)] = -np.inf
        chosen, is_pin = _one(row, min(k, len(catalog)), catalog, rules, buried, pins,
                              similarity)
        picked = adjusted[chosen] if pins else row[chosen]
        picked[is_pin & ~np.isfinite(picked)] = 0.0  # a pin the model cannot score
        items.append(chosen)
        out_scores.append(picked)
        pinned.append(is_pin)
    if single:
        return Ranked(items[0], out_scores[0], pinned[0])
    return Ranked(items, out_scores, pinned)


def rank_candidates(item_ids: Sequence, scores: Sequence[float], catalog: ItemCatalog,
                    rules: Rules | None = None, k: int = 10, exclude_ids=(),
                    similarity: Similarity | None = None) -> Ranked:
    """:func:`rank` for a short list of candidate ids with scores (trending, bought together,
    buy again): every other catalog item is out. Ids missing from ``catalog`` are dropped."""
    where = catalog.index(item_ids)
    known = where >= 0
    full = np.full(len(catalog), -np.inf, dtype=np.float32)
    full[where[known]] = np.asarray(scores, dtype=np.float32)[known]
    exclude = catalog.index(exclude_ids)
    return rank(full, catalog, rules, k, exclude[exclude >= 0], similarity)
