"""Trending: time-decayed popularity over a recent window, with the change against the window
before it, and each item's place in its top category ("#2 in Electronics").

>>> import pandas as pd
>>> day = 86400.0
>>> events = pd.DataFrame({"item_id": ["old"] * 5 + ["hot"] * 3 + ["old"],
...                        "type": ["view"] * 9, "ts": [0, 1, 2, 3, 4, 9, 9.5, 9.9, 9.2]})
>>> events["ts"] *= day
>>> table = trending(events, days=5)
>>> table[["item_id", "now", "before"]].values.tolist()
[['hot', 3, 0], ['old', 1, 5]]
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from shopmind.data.views import DEFAULT_EVENT_WEIGHTS
from shopmind.recommend.catalog import top_category

__all__ = ["trending", "DAY"]

DAY = 86400.0
_COLUMNS = ["item_id", "score", "now", "before", "change", "category", "rank_in_category"]


def trending(events: pd.DataFrame, days: float = 7.0, now: float | None = None,
             weights: Mapping[str, float] = DEFAULT_EVENT_WEIGHTS,
             categories: Mapping | None = None) -> pd.DataFrame:
    """Items by weighted, time-decayed interactions in the ``days`` before ``now`` (default:
    the newest event), best first.

    ``events``: columns ``item_id``, ``type``, ``ts`` (seconds). Inside the window an event
    weighs its type's weight times ``0.5 ** (age / (days / 3))``: newer interest leads.
    Columns: ``score``; ``now`` and ``before``: interactions in the window and in the window
    before it; ``change``: ``(now - before) / before`` (``nan`` when new); with
    ``categories`` (item id -> category path) also ``category`` (top level) and
    ``rank_in_category`` (1 = the most trending item of its category).
    """
    events = events[events["item_id"].notna()]
    if events.empty:
        return pd.DataFrame({c: [] for c in _COLUMNS})
    ts = events["ts"].to_numpy(np.float64)
    now = float(ts.max()) if now is None else float(now)
    window = days * DAY
    recent = (ts > now - window) & (ts <= now)
    earlier = (ts > now - 2 * window) & (ts <= now - window)
    weight = events["type"].map(weights).fillna(1.0).to_numpy(np.float64)
    decay = 0.5 ** ((now - ts) / (window / 3))
    table = pd.DataFrame({"item_id": events["item_id"].to_numpy(),
                          "score": np.where(recent, weight * decay, 0.0),
                          "now": recent.astype(np.int64), "before": earlier.astype(np.int64)})
    out = table.groupby("item_id", sort=False).sum().reset_index()
    out = out[(out["now"] > 0) & (out["score"] > 0)]
    out = out.sort_values(["score", "item_id"], ascending=[False, True]).reset_index(drop=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        out["change"] = np.where(out["before"] > 0,
                                 (out["now"] - out["before"]) / out["before"].clip(lower=1),
                                 np.nan)
    if categories is not None:
        out["category"] = [top_category(categories.get(i)) for i in out["item_id"]]
        out["rank_in_category"] = out.groupby("category", dropna=False).cumcount() + 1
    else:
        out["category"] = None
        out["rank_in_category"] = 0
    return out
