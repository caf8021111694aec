"""What the service keeps in memory about the shop besides models: the catalog (for business
rules and reasons), trending items, and baskets (items bought together). Each is rebuilt from the
store when ingestion marks it stale, never on every request."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

import numpy as np
import pandas as pd
import scipy.sparse as sp
from sqlalchemy import and_, func, select

from shopmind.data import schema
from shopmind.data.views import DEFAULT_EVENT_WEIGHTS

__all__ = ["Filters", "Catalog", "Trending", "Baskets", "DAY"]

DAY = 86400.0


@dataclass(frozen=True)
class Filters:
    """Business rules a caller can put on any recommendation list.

    ``in_stock``: only items with stock above zero (unknown stock passes); ``min_price`` /
    ``max_price``: items with a known price in the range; ``category``: a category path prefix
    (``Electronics`` or ``Electronics > Phones``) or the name of any level (``Phones``),
    case-insensitive.
    """

    in_stock: bool | None = None
    min_price: float | None = None
    max_price: float | None = None
    category: str | None = None

    @property
    def active(self) -> bool:
        return bool(self.in_stock) or self.min_price is not None or \
            self.max_price is not None or bool(self.category)


def _category_matches(path: str | None, query: str) -> bool:
    if not path:
        return False
    path = path.lower()
    if path == query or path.startswith(query + " > "):
        return True
    return query in (level.strip() for level in path.split(">"))


class Catalog:
    """Item attributes by id, and as arrays aligned to a model's item vocabulary."""

    def __init__(self, store):
        self.store = store
        self._lock = threading.Lock()
        self._generation = 0
        self._built = -1
        self._rows: dict[str, dict] = {}
        self._aligned: dict[int, tuple] = {}
        self._category_masks: dict[tuple, np.ndarray] = {}

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
            rows = {}
            for item_id, title, category, price, stock in frame.itertuples(index=False):
                rows[item_id] = {
                    "title": title, "category": category,
                    "price": None if price is None or price != price else float(price),
                    "stock": None if stock is None or stock != stock else int(stock)}
            self._rows = rows
            self._aligned = {}
            self._category_masks = {}
            self._built = generation

    def get(self, item_id) -> dict | None:
        self._ensure()
        return self._rows.get(item_id)

    def __len__(self) -> int:
        self._ensure()
        return len(self._rows)

    def categories(self) -> list[str]:
        """Top-level categories, most items first."""
        self._ensure()
        tops = pd.Series([(r["category"] or "").split(" > ")[0] for r in self._rows.values()])
        tops = tops[tops != ""]
        return tops.value_counts().index.tolist()

    def _arrays(self, item_ids: np.ndarray) -> tuple:
        self._ensure()
        key = id(item_ids)
        found = self._aligned.get(key)
        if found is not None and found[0] is item_ids:
            return found
        rows = [self._rows.get(i) or {} for i in item_ids.tolist()]
        price = np.array([np.nan if r.get("price") is None else r["price"] for r in rows])
        stock = np.array([np.nan if r.get("stock") is None else r["stock"] for r in rows])
        categories = [r.get("category") for r in rows]
        found = (item_ids, price, stock, categories)
        self._aligned[key] = found
        return found

    def mask(self, item_ids: np.ndarray, filters: Filters) -> np.ndarray | None:
        """Which of ``item_ids`` pass ``filters`` (None: all do)."""
        if not filters.active:
            return None
        _, price, stock, categories = self._arrays(item_ids)
        keep = np.ones(len(item_ids), dtype=bool)
        if filters.in_stock:
            keep &= ~(stock <= 0)
        if filters.min_price is not None:
            keep &= price >= filters.min_price
        if filters.max_price is not None:
            keep &= price <= filters.max_price
        if filters.category:
            query = filters.category.strip().lower()
            cache_key = (id(item_ids), query)
            cat = self._category_masks.get(cache_key)
            if cat is None:
                cat = np.fromiter((_category_matches(c, query) for c in categories), bool,
                                  count=len(categories))
                if len(self._category_masks) > 256:
                    self._category_masks.clear()
                self._category_masks[cache_key] = cat
            keep &= cat
        return keep

    def passes(self, item_id, filters: Filters) -> bool:
        if not filters.active:
            return True
        row = self.get(item_id)
        if row is None:
            return False
        if filters.in_stock and row["stock"] is not None and row["stock"] <= 0:
            return False
        price = row["price"]
        if filters.min_price is not None and (price is None or price < filters.min_price):
            return False
        if filters.max_price is not None and (price is None or price > filters.max_price):
            return False
        if filters.category and not _category_matches(row["category"],
                                                      filters.category.strip().lower()):
            return False
        return True


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
    """Items by weighted interactions in the last ``days`` before the newest event, with the
    same count for the window before (to say whether an item is rising)."""

    def __init__(self, store, min_seconds: float = 5.0):
        super().__init__(min_seconds)
        self.store = store

    def top(self, days: float = 7.0) -> pd.DataFrame:
        """Columns item_id, score, now, before; best first."""
        return self.get(float(days), lambda: self._compute(float(days)))

    def _compute(self, days: float) -> pd.DataFrame:
        ev = schema.events
        with self.store.engine.connect() as conn:
            newest = conn.execute(select(func.max(ev.c.ts))).scalar()
        empty = pd.DataFrame({"item_id": [], "score": [], "now": [], "before": []})
        if newest is None:
            return empty
        since = newest - 2 * days * DAY
        frame = self.store.read_table("events", ["item_id", "type", "ts"],
                                      where=and_(ev.c.ts >= since, ev.c.item_id.is_not(None)))
        if frame.empty:
            return empty
        weight = frame["type"].map(DEFAULT_EVENT_WEIGHTS).fillna(1.0).to_numpy()
        recent = (frame["ts"] >= newest - days * DAY).to_numpy()
        # Newer events weigh more inside the window (half-life: a third of the window).
        decay = 0.5 ** ((newest - frame["ts"].to_numpy()) / (days * DAY / 3))
        table = pd.DataFrame({"item_id": frame["item_id"], "score": weight * decay * recent,
                              "now": recent.astype(int), "before": (~recent).astype(int)})
        out = table.groupby("item_id", sort=False).sum().reset_index()
        out = out[out["now"] > 0].sort_values(["score", "item_id"], ascending=[False, True])
        return out.reset_index(drop=True)


class Baskets(_Cached):
    """Item co-occurrence in baskets: the lines of one order, or the purchases of one session."""

    def __init__(self, store, min_seconds: float = 5.0):
        super().__init__(min_seconds)
        self.store = store

    def matrix(self) -> tuple[sp.csr_matrix, dict[str, int], np.ndarray]:
        return self.get("all", self._compute)

    def _compute(self):
        lines = self.store.read_table("order_lines", ["order_id", "item_id"])
        ev = schema.events
        purchases = self.store.read_table(
            "events", ["session_id", "item_id"],
            where=and_(ev.c.type == "purchase", ev.c.session_id.is_not(None),
                       ev.c.item_id.is_not(None)))
        baskets = pd.concat([
            pd.DataFrame({"basket": "o:" + lines["order_id"].astype(str),
                          "item_id": lines["item_id"]}),
            pd.DataFrame({"basket": "s:" + purchases["session_id"].astype(str),
                          "item_id": purchases["item_id"]}),
        ], ignore_index=True).drop_duplicates()
        item_ids = np.array(sorted(baskets["item_id"].unique()), dtype=object)
        index = {iid: i for i, iid in enumerate(item_ids.tolist())}
        if baskets.empty:
            return sp.csr_matrix((0, 0), dtype=np.float32), index, item_ids
        b_codes, _ = pd.factorize(baskets["basket"])
        i_codes = baskets["item_id"].map(index).to_numpy()
        incidence = sp.csr_matrix((np.ones(len(baskets), np.float32), (b_codes, i_codes)),
                                  shape=(b_codes.max() + 1, len(item_ids)))
        together = (incidence.T @ incidence).tocsr()
        return together, index, item_ids

    def with_item(self, item_id) -> list[tuple[str, int]]:
        """(other item, number of baskets with both), most first."""
        together, index, item_ids = self.matrix()
        i = index.get(item_id)
        if i is None:
            return []
        row = together.getrow(i)
        pairs = [(item_ids[j], int(c)) for j, c in zip(row.indices, row.data) if j != i]
        pairs.sort(key=lambda p: (-p[1], p[0]))
        return pairs
