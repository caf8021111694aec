"""Relevance judgments from search behaviour: what a shop's own searchers chose.

A search event carries the query (``context["query"]``); the item views it led to carry
``context = {"source": "search", "query": …}``. Each (query, item) the searcher opened is a
judgment on the 1–3 scale of :func:`~shopmind.search.engine.default_gain`: opened 2, clicked 2.5,
added to cart or bought in the same session 3.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd

__all__ = ["judgments_from_events"]

_LATER = {"click": 2.5, "add_to_cart": 3.0, "purchase": 3.0}


def _context(value) -> dict:
    if isinstance(value, dict):
        return value
    if isinstance(value, str) and value.strip().startswith("{"):
        try:
            return json.loads(value)
        except ValueError:
            return {}
    return {}


def judgments_from_events(events: pd.DataFrame) -> pd.DataFrame:
    """``query, item_id, relevance`` (one row per pair, the best outcome seen) from events with
    ``item_id, type, session_id, context`` columns.

    >>> ev = pd.DataFrame({"item_id": ["a", "a", "b", "b"], "session_id": ["s1"] * 2 + ["s2"] * 2,
    ...     "type": ["view", "purchase", "view", "view"],
    ...     "context": [{"source": "search", "query": "hose"}, None,
    ...                 {"source": "search", "query": "hose"}, None]})
    >>> judgments_from_events(ev).to_dict("records")
    [{'query': 'hose', 'item_id': 'a', 'relevance': 3.0}, {'query': 'hose', 'item_id': 'b', 'relevance': 2.0}]
    """
    cols = ["query", "item_id", "relevance"]
    if events is None or not len(events) or "context" not in events:
        return pd.DataFrame(columns=cols)
    ctx = [_context(c) for c in events["context"]]
    from_search = np.array([c.get("source") == "search" and bool(c.get("query")) for c in ctx])
    if not from_search.any():
        return pd.DataFrame(columns=cols)
    views = events.loc[from_search, ["item_id", "session_id"]].copy()
    views["query"] = [ctx[i]["query"] for i in np.flatnonzero(from_search)]
    views["relevance"] = 2.0
    later = events[events["type"].isin(list(_LATER))][["item_id", "session_id", "type"]]
    later = later.assign(relevance=later["type"].map(_LATER)).drop(columns="type")
    best_later = later.groupby(["session_id", "item_id"], as_index=False)["relevance"].max()
    out = views.merge(best_later, on=["session_id", "item_id"], how="left",
                      suffixes=("", "_later"))
    out["relevance"] = np.fmax(out["relevance"], out["relevance_later"].fillna(0.0))
    out = out.groupby(["query", "item_id"], as_index=False, sort=False)["relevance"].max()
    return out[cols].reset_index(drop=True)
