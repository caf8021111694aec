"""Search on a shop's store: fit from its catalog and search logs, personalise from a user's events.

These are the glue the CLI, the engine and the service share; the search itself knows nothing
about the store.
"""

from __future__ import annotations

import json
from collections import Counter

import numpy as np
import pandas as pd

from shopmind.search.engine import ProductSearch
from shopmind.search.judgments import judgments_from_events

__all__ = ["fit_from_store", "past_queries", "user_taste"]

# How much each kind of event says about a user's taste.
TASTE_WEIGHTS = {"view": 1.0, "click": 1.5, "wishlist": 2.0, "add_to_cart": 3.0,
                 "purchase": 4.0, "rating": 2.0, "share": 1.5}


def past_queries(events: pd.DataFrame) -> Counter:
    """How often each query was searched (from ``search`` events' ``context``)."""
    counts: Counter = Counter()
    if events is None or not len(events) or "context" not in events:
        return counts
    for kind, ctx in zip(events["type"], events["context"]):
        if kind != "search" or ctx is None:
            continue
        if isinstance(ctx, str):
            try:
                ctx = json.loads(ctx)
            except ValueError:
                continue
        if isinstance(ctx, dict) and ctx.get("query"):
            counts[str(ctx["query"])] += 1
    return counts


def fit_from_store(store, **params) -> ProductSearch:
    """A :class:`ProductSearch` over the store's items, its ranker and synonyms learned from the
    store's search sessions, autocomplete fed by its past queries."""
    items = store.items_frame()
    events = store.read_table("events", ["user_id", "item_id", "type", "session_id", "context"])
    judgments = judgments_from_events(events)
    return ProductSearch(**params).fit(items, judgments=judgments if len(judgments) else None,
                                       past_queries=past_queries(events))


def user_taste(search: ProductSearch, events: pd.DataFrame, user_id) -> np.ndarray | None:
    """The user's taste vector (weighted mean embedding of the items they interacted with), or
    ``None`` when the user has no item events or the search has no encoder."""
    if search.vectors_ is None or events is None or not len(events):
        return None
    mine = events[(events["user_id"] == user_id) & events["item_id"].notna()]
    if not len(mine):
        return None
    weights = mine["type"].map(TASTE_WEIGHTS).fillna(1.0).to_numpy(dtype=np.float64)
    return search.taste_vector(mine["item_id"].tolist(), weights)
