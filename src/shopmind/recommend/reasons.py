"""Why an item is recommended, from the signals that put it there.

A :class:`Reason` is data (what kind, which item or category, which counts); :meth:`Reason.text`
renders it with the shop's titles. Personal reasons come from :func:`anchors`: the history item
that contributes most to the recommended item's score through the model's item similarity.

>>> import numpy as np
>>> sim = np.array([[0, .9, .1], [.9, 0, .2], [.1, .2, 0]], dtype=np.float32)
>>> anchors(np.array([0, 2]), np.array([1]), lambda r, c: sim[np.ix_(r, c)]).tolist()
[0]
>>> Reason("history", item_id="a", event="view").text(lambda i: "Phone")
'because you viewed Phone'
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import asdict, dataclass

import numpy as np

__all__ = ["Reason", "anchors", "history_weights"]

VERB = {"view": "viewed", "click": "clicked", "add_to_cart": "added to your cart",
        "purchase": "bought", "wishlist": "wished for", "rating": "rated", "share": "shared",
        "remove_from_cart": "took out of your cart"}

_EXPLAIN_LAST = 20  # the newest events considered as anchors (bounds the cost per request)


def _day(ts: float) -> str:
    return dt.datetime.fromtimestamp(ts, dt.UTC).strftime("%Y-%m-%d")


def _times(n: int) -> str:
    return "once" if n == 1 else f"{n} times"


@dataclass(frozen=True)
class Reason:
    """Why one item is in a list.

    ``kind``: ``history`` (an item of the user's history drives it), ``next`` (it follows the
    session's latest item), ``session`` (it goes with an earlier item of the session),
    ``similar``, ``together`` (bought together), ``cart_together`` (added to carts in the same
    sessions), ``trending``, ``again`` (bought before), ``taste`` (the model's overall view of
    the user, no single item stands out), ``popular`` (a fallback; ``note`` says why).
    """

    kind: str
    item_id: object = None  # the anchor item (history, session, similar, together)
    event: str | None = None  # what the user did with the anchor
    count: int | None = None  # baskets, purchases or interactions behind it
    before: int | None = None  # trending: interactions in the window before
    days: float | None = None  # trending: the window
    category: str | None = None  # trending: the top category, same_category: shared one
    rank: int | None = None  # trending: position in its category
    when: float | None = None  # again: last purchase
    every_days: float | None = None  # again: typical days between purchases
    note: str | None = None

    def as_dict(self) -> dict:
        return {k: v for k, v in asdict(self).items() if v is not None}

    def text(self, title: Callable[[object], str] = str) -> str:
        """One readable sentence; ``title(item_id)`` names items."""
        k = self.kind
        if k == "history":
            return f"because you {VERB.get(self.event, 'looked at')} {title(self.item_id)}"
        if k == "next":
            return f"often comes next after {title(self.item_id)}"
        if k == "session":
            return (f"goes with {title(self.item_id)}, which you just "
                    f"{VERB.get(self.event, 'looked at')}")
        if k == "similar":
            same = " in the same category" if self.category else ""
            return f"similar to {title(self.item_id)}{same} — liked by the same shoppers"
        if k == "together":
            return f"bought together with {title(self.item_id)} {_times(self.count or 0)}"
        if k == "cart_together":
            return (f"often bought with {title(self.item_id)}: in the same shopping sessions "
                    f"{_times(self.count or 0)}")
        if k == "trending":
            place = f"#{self.rank} in {self.category}, " if self.category and self.rank else ""
            change = ("" if not self.before else
                      f", {100 * ((self.count or 0) - self.before) / self.before:+.0f}% on the "
                      f"{self.days:g} days before")
            return (f"trending: {place}{self.count} interactions in the last {self.days:g} "
                    f"days{change}")
        if k == "again":
            every = (f", about every {self.every_days:.0f} days" if self.every_days else "")
            return (f"you bought this {_times(self.count or 0)}, last on "
                    f"{_day(self.when or 0.0)}{every}")
        if k == "taste":
            return self.note or "matches what you usually like"
        return self.note or "popular right now"


def history_weights(model, n: int) -> np.ndarray:
    """How much each of the last ``n`` history positions counts in the model's score: the
    model's recency decay where it has one (item-kNN), else equal."""
    recency = float(getattr(model, "recency", 1.0) or 1.0)
    if recency == 1.0:
        return np.ones(n)
    return recency ** np.arange(n - 1, -1, -1, dtype=np.float64)


def anchors(history: np.ndarray, items: np.ndarray,
            similarity: Callable[[np.ndarray, np.ndarray], np.ndarray],
            weights: np.ndarray | None = None) -> np.ndarray:
    """Per recommended item, the history position whose item contributes most to it:
    ``argmax_i weight_i * similarity(history_i, item)`` with repeats of an item adding up
    (the latest position of that item is returned); ``-1`` where no history item relates.

    ``history``: item positions, oldest first; only the newest events are considered.
    """
    out = np.full(len(items), -1, dtype=np.int64)
    history = np.asarray(history, dtype=np.int64)
    if len(history) == 0 or len(items) == 0:
        return out
    start = max(0, len(history) - _EXPLAIN_LAST)
    recent = history[start:]
    w = np.ones(len(recent)) if weights is None else np.asarray(weights, float)[-len(recent):]
    uniq, inverse = np.unique(recent, return_inverse=True)
    weight = np.bincount(inverse, w, minlength=len(uniq))
    last = np.zeros(len(uniq), dtype=np.int64)
    np.maximum.at(last, inverse, np.arange(len(recent)))
    contribution = weight[:, None] * np.asarray(similarity(uniq, np.asarray(items)), np.float64)
    best = np.argmax(contribution, axis=0)
    has = contribution[best, np.arange(len(items))] > 0
    out[has] = start + last[best[has]]
    return out
