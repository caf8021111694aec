"""What the service keeps in memory about the shop besides models, loaded from the store: the
catalog (for business rules and reasons), trending items, and baskets (items bought together).
Each is rebuilt when ingestion marks it stale, never on every request; the lists themselves
are computed by the library (:mod:`shopmind.recommend`)."""

from __future__ import annotations

import threading
import time

import numpy as np
import pandas as pd
from sqlalchemy import and_, func, select

from shopmind.data import schema
from shopmind.recommend.catalog import ItemCatalog
from shopmind.recommend.together import BoughtTogether
from shopmind.recommend.trending import DAY, trending

__all__ = ["Catalog", "Trending", "Baskets", "DAY"]


class Catalog:
    """The shop's items as an :class:`ItemCatalog`, and aligned to a model's vocabulary."""

    def __init__(self, store):
        self.store = store
        self._lock = threading.Lock()
        self._generation = 0
        self._built = -1
        self._all = ItemCatalog([])
        self._aligned: dict[int, tuple[np.ndarray, ItemCatalog]] = {}

    def invalidate(self) -> None:
        with self._lock:
            self._generation += 1

    def refresh(self) -> None:
        """Rebuild now (after items were written), so no request has to."""
        self.invalidate()
        self._ensure()

    def _ensure(self) -> None:
        if self._built == self._generation:
            return
        with self._lock:
            if self._built == self._generation:
                return
            generation = self._generation
            frame = self.store.read_table(
                "items", ["item_id", "title", "category", "price", "stock"])
            self._all = ItemCatalog.from_frame(frame)
            self._aligned = {}
            self._built = generation

    @property
    def all(self) -> ItemCatalog:
        """Every item of the shop."""
        self._ensure()
        return self._all

    def aligned(self, item_ids: np.ndarray) -> ItemCatalog:
        """The catalog in the order of ``item_ids`` (a model's vocabulary; cached per array)."""
        self._ensure()
        found = self._aligned.get(id(item_ids))
        if found is not None and found[0] is item_ids:
            return found[1]
        catalog = self._all.align(item_ids)
        self._aligned[id(item_ids)] = (item_ids, catalog)
        return catalog

    def get(self, item_id) -> dict | None:
        catalog = self.all
        i = catalog.position(item_id)
        return None if i is None else catalog.row(i)

    def __len__(self) -> int:
        return len(self.all)

    def categories(self) -> list[str]:
        """Top-level categories, most items first."""
        tops = pd.Series([(c or "").split(" > ")[0] for c in self.all.categories])
        tops = tops[tops != ""]
        return tops.value_counts().index.tolist()


class _Cached:
    """A value recomputed when stale (invalidated) but at most every ``min_seconds``."""

    def __init__(self, min_seconds: float):
        self.min_seconds = min_seconds
        self._lock = threading.Lock()
        self._values: dict = {}
        self._generation = 0

    def invalidate(self) -> None:
        self._generation += 1

    def get(self, key, compute):
        now = time.monotonic()
        hit = self._values.get(key)
        if hit is not None and (hit[1] == self._generation or now - hit[0] < self.min_seconds):
            return hit[2]
        with self._lock:
            hit = self._values.get(key)
            if hit is not None and (hit[1] == self._generation or now - hit[0] < self.min_seconds):
                return hit[2]
            generation = self._generation
            value = compute()
            self._values[key] = (time.monotonic(), generation, value)
            return value


class Trending(_Cached):
    """The library's :func:`~shopmind.recommend.trending.trending` table over the store's
    events of the last two windows before the newest event."""

    def __init__(self, store, catalog: Catalog, min_seconds: float = 5.0):
        super().__init__(min_seconds)
        self.store = store
        self.catalog = catalog

    def top(self, days: float = 7.0) -> tuple[pd.DataFrame, dict]:
        """(the table, best first; its row number by item id)."""
        return self.get(float(days), lambda: self._compute(float(days)))

    def _compute(self, days: float) -> tuple[pd.DataFrame, dict]:
        ev = schema.events
        with self.store.engine.connect() as conn:
            newest = conn.execute(select(func.max(ev.c.ts))).scalar()
        if newest is None:
            return trending(pd.DataFrame({"item_id": [], "type": [], "ts": []}), days), {}
        frame = self.store.read_table(
            "events", ["item_id", "type", "ts"],
            where=and_(ev.c.ts > newest - 2 * days * DAY, ev.c.item_id.is_not(None)))
        catalog = self.catalog.all
        categories = dict(zip(catalog.item_ids.tolist(), catalog.categories.tolist()))
        table = trending(frame, days, now=newest, categories=categories)
        return table, {item_id: r for r, item_id in enumerate(table["item_id"].tolist())}


class Baskets(_Cached):
    """The library's :class:`~shopmind.recommend.together.BoughtTogether` fitted on the
    store's orders, with same-session purchases and add-to-carts as the fallback."""

    def __init__(self, store, min_seconds: float = 5.0):
        super().__init__(min_seconds)
        self.store = store

    def model(self) -> BoughtTogether:
        return self.get("all", self._compute)

    def _compute(self) -> BoughtTogether:
        lines = self.store.read_table("order_lines", ["order_id", "item_id"])
        ev = schema.events
        carts = self.store.read_table(
            "events", ["session_id", "item_id"],
            where=and_(ev.c.type.in_(["purchase", "add_to_cart"]), ev.c.session_id.is_not(None),
                       ev.c.item_id.is_not(None)))
        return BoughtTogether().fit(
            pd.DataFrame({"basket": lines["order_id"], "item_id": lines["item_id"]}),
            pd.DataFrame({"basket": carts["session_id"], "item_id": carts["item_id"]}))

    def with_item(self, item_id) -> list[tuple]:
        """(other item, baskets with both, kind), best first."""
        return self.model().with_item(item_id)
