"""Buy again: what a user bought before, most often and most recently first, with how often
and when.

>>> import pandas as pd
>>> day = 86400.0
>>> bought = pd.DataFrame({"user_id": ["u"] * 4, "item_id": ["beans", "beans", "beans", "mug"],
...                        "ts": [0, 10 * day, 20 * day, 5 * day]})
>>> repeat_purchases(bought)[["item_id", "times", "every_days"]].values.tolist()
[['beans', 3, 10.0], ['mug', 1, nan]]
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["repeat_purchases"]

_DAY = 86400.0


def repeat_purchases(*sources: pd.DataFrame) -> pd.DataFrame:
    """Per (user, item): ``times`` bought, ``last`` purchase time and ``every_days`` (the mean
    days between purchases, ``nan`` when bought once), most times then latest first.

    Each source has ``user_id``, ``item_id``, ``ts``, one row per purchase. When the same
    purchases are recorded twice (an order and its purchase events), pass them as separate
    sources: per item the source that saw more purchases counts, so none is counted twice.
    """
    tables = []
    for frame in sources:
        frame = frame[frame["item_id"].notna()]
        if frame.empty:
            continue
        ts = frame.sort_values("ts").groupby(["user_id", "item_id"], sort=False)["ts"]
        table = pd.DataFrame({"times": ts.size(), "last": ts.max(), "first": ts.min()})
        tables.append(table.reset_index())
    if not tables:
        return pd.DataFrame({c: [] for c in ("user_id", "item_id", "times", "last", "every_days",
                                             "score")})
    both = pd.concat(tables, ignore_index=True)
    # per (user, item) the fuller source; the latest purchase from any
    both = both.sort_values("times", ascending=False)
    out = both.groupby(["user_id", "item_id"], sort=False).agg(
        times=("times", "max"), last=("last", "max"), first=("first", "min")).reset_index()
    spans = (out["last"] - out["first"]) / _DAY
    out["every_days"] = np.where(out["times"] > 1, spans / (out["times"] - 1).clip(lower=1),
                                 np.nan)
    out["times"] = out["times"].astype(np.int64)
    # the score orders by times, then recency (ts / 1e11 < 1 for any date before 5138)
    out["score"] = out["times"] + out["last"] / 1e11
    out = out.sort_values(["user_id", "score", "item_id"], ascending=[True, False, True])
    return out.drop(columns="first").reset_index(drop=True)
