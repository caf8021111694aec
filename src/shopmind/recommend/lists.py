"""The lists that need no personal model — trending, buy again, bought together — from their
tables to finished :class:`~shopmind.recommend.personal.Picks` under the shop's rules, each item
with the reason its own numbers give.

>>> import pandas as pd
>>> from shopmind.recommend.catalog import ItemCatalog
>>> cat = ItemCatalog(["beans", "mug"], titles=["Beans", "Mug"], stock=[5, 0])
>>> table = pd.DataFrame({"item_id": ["mug", "beans"], "times": [4, 3], "last": [0.0, 0.0],
...                       "every_days": [7.0, None], "score": [4.0, 3.0]})
>>> picks = buy_again_list(table, cat, Rules(in_stock=True), k=5)
>>> picks.item_ids.tolist(), picks.reasons[0].text()
(['beans'], 'you bought this 3 times, last on 1970-01-01')
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from shopmind.recommend.catalog import ItemCatalog
from shopmind.recommend.personal import Picks, picks_from
from shopmind.recommend.ranking import rank_candidates
from shopmind.recommend.reasons import Reason
from shopmind.recommend.rules import Rules

__all__ = ["trending_list", "buy_again_list", "together_list"]

_FEATURED = Reason("popular", note="featured by the shop")  # a pinned item


def trending_list(table: pd.DataFrame, catalog: ItemCatalog, rules: Rules | None = None,
                  k: int = 10, exclude: Sequence = (), days: float = 7.0,
                  note: str | None = None) -> Picks:
    """Items of a :func:`~shopmind.recommend.trending.trending` table; reasons give the
    window's count, the change on the window before and the place in the top category (or
    ``note``, when the list stands in for a personal one)."""
    ranked = rank_candidates(table["item_id"].tolist(), table["score"].to_numpy(), catalog,
                             rules, k, exclude)
    row_of = pd.Index(table["item_id"]).get_indexer(catalog.item_ids[ranked.items])
    reasons = []
    for row, pinned in zip(row_of.tolist(), ranked.pinned.tolist()):
        if pinned or row < 0:
            reasons.append(_FEATURED)
        elif note:
            reasons.append(Reason("popular", note=note))
        else:
            r = table.iloc[row]
            place = int(r["rank_in_category"]) if "rank_in_category" in table else 0
            reasons.append(Reason("trending", count=int(r["now"]), before=int(r["before"]),
                                  days=days, category=r.get("category"), rank=place or None))
    return picks_from(ranked, catalog, reasons)


def buy_again_list(table: pd.DataFrame, catalog: ItemCatalog, rules: Rules | None = None,
                   k: int = 10) -> Picks:
    """A user's rows of :func:`~shopmind.recommend.buy_again.repeat_purchases`: how often and
    when they bought each item."""
    ranked = rank_candidates(table["item_id"].tolist(), table["score"].to_numpy(), catalog,
                             rules, k)
    row_of = pd.Index(table["item_id"]).get_indexer(catalog.item_ids[ranked.items])
    reasons = []
    for row, pinned in zip(row_of.tolist(), ranked.pinned.tolist()):
        if pinned or row < 0:
            reasons.append(_FEATURED)
            continue
        r = table.iloc[row]
        every = r["every_days"]
        reasons.append(Reason("again", count=int(r["times"]), when=float(r["last"]),
                              every_days=None if pd.isna(every) else float(every)))
    return picks_from(ranked, catalog, reasons)


def together_list(item_id, pairs: Sequence[tuple], catalog: ItemCatalog,
                  rules: Rules | None = None, k: int = 10, exclude: Sequence = ()) -> Picks:
    """Partners of ``item_id`` from :meth:`BoughtTogether.with_item
    <shopmind.recommend.together.BoughtTogether.with_item>`: the count of shared baskets is the
    score (a fraction keeps the given order among equal counts)."""
    n = max(len(pairs), 1)
    scores = np.array([c + 0.5 * (n - r) / n for r, (_, c, _) in enumerate(pairs)])
    ranked = rank_candidates([p for p, _, _ in pairs], scores, catalog, rules, k,
                             [item_id, *exclude])
    found = {p: (c, kind) for p, c, kind in pairs}
    reasons = []
    for other, pinned in zip(catalog.item_ids[ranked.items].tolist(), ranked.pinned.tolist()):
        if pinned or other not in found:
            reasons.append(_FEATURED)
        else:
            count, kind = found[other]
            reasons.append(Reason(kind, item_id=item_id, count=count))
    return picks_from(ranked, catalog, reasons)
