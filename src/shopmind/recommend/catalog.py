"""Item attributes as arrays aligned to a list of item ids (a model's vocabulary or the whole
catalog): what business rules filter on and what reasons name.

Masks computed from it are cached per rule (a category query, a boost list), so a request
that repeats a rule pays only array indexing.

>>> import pandas as pd
>>> items = pd.DataFrame({"item_id": ["a", "b", "c"], "title": ["Phone", "Case", "Tent"],
...                       "category": ["Electronics > Phones", "Electronics > Phones > Cases",
...                                    "Outdoor > Tents"], "price": [500.0, 20.0, 80.0],
...                       "stock": [3, 0, None]})
>>> cat = ItemCatalog.from_frame(items)
>>> cat.category_mask("phones").tolist()  # a level's name, any depth
[True, True, False]
>>> cat.category_mask("Electronics > Phones > Cases").tolist()  # a path prefix
[False, True, False]
>>> cat.align(["c", "zzz"]).titles.tolist()
['Tent', None]
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Sequence

import numpy as np
import pandas as pd

__all__ = ["ItemCatalog", "category_matches", "top_category"]

_SEP = " > "
_CACHE_LIMIT = 256


def category_matches(path: str | None, query: str) -> bool:
    """Whether a category path matches a query: a path prefix (``Electronics > Phones``) or the
    name of any level (``Phones``), case-insensitive.

    >>> category_matches("Electronics > Phones > Cases", "electronics > phones")
    True
    >>> category_matches("Electronics > Phones", "Elec")
    False
    """
    if not path:
        return False
    path, query = path.lower(), query.strip().lower()
    if path == query or path.startswith(query + _SEP):
        return True
    return query in (level.strip() for level in path.split(">"))


def top_category(path: str | None) -> str | None:
    """The first level of a category path.

    >>> top_category("Electronics > Phones")
    'Electronics'
    """
    if not path:
        return None
    return path.split(">")[0].strip() or None


def _floats(values, n: int) -> np.ndarray:
    if values is None:
        return np.full(n, np.nan)
    return pd.to_numeric(pd.Series(values, dtype=object), errors="coerce").to_numpy(np.float64)


def _objects(values, n: int) -> np.ndarray:
    out = np.empty(n, dtype=object)  # filled one by one: numpy must not split strings
    if values is not None:
        out[:] = [None if v is None or (isinstance(v, float) and v != v) else v for v in values]
    return out


class ItemCatalog:
    """Titles, category paths, prices and stock of ``item_ids`` (unknown: ``None`` / ``nan``;
    unknown stock counts as in stock, unknown price fails any price rule)."""

    def __init__(self, item_ids: Sequence, titles=None, categories=None, prices=None,
                 stock=None):
        item_ids = list(item_ids)
        n = len(item_ids)
        self.item_ids = _objects(item_ids, n)
        self.titles = _objects(titles, n)
        self.categories = _objects(categories, n)
        self.prices = _floats(prices, n)
        self.stock = _floats(stock, n)
        self._position = {iid: i for i, iid in enumerate(self.item_ids.tolist())}
        self._masks: dict = {}
        self._lock = threading.Lock()

    @classmethod
    def from_frame(cls, items: pd.DataFrame, item_ids: Iterable | None = None) -> ItemCatalog:
        """From an items frame (``item_id`` and any of ``title``, ``category``, ``price``,
        ``stock``); with ``item_ids`` the rows follow that order (e.g. a model's vocabulary)."""
        columns = {c: items[c].tolist() if c in items else None
                   for c in ("title", "category", "price", "stock")}
        catalog = cls(items["item_id"].tolist(), columns["title"], columns["category"],
                      columns["price"], columns["stock"])
        return catalog if item_ids is None else catalog.align(item_ids)

    def __len__(self) -> int:
        return len(self.item_ids)

    def align(self, item_ids: Iterable) -> ItemCatalog:
        """The same attributes for ``item_ids``, in that order (unknown ids get blanks)."""
        item_ids = list(item_ids)
        where = self.index(item_ids)
        known = where >= 0
        safe = np.where(known, where, 0)

        def pick(values: np.ndarray, blank):
            out = values[safe].copy() if len(values) else np.full(len(item_ids), blank,
                                                                   dtype=values.dtype)
            out[~known] = blank
            return out

        return ItemCatalog(item_ids, pick(self.titles, None), pick(self.categories, None),
                           pick(self.prices, np.nan), pick(self.stock, np.nan))

    def index(self, item_ids: Iterable) -> np.ndarray:
        """Positions of ``item_ids`` (``-1`` for ids not in this catalog)."""
        get = self._position.get
        return np.fromiter((get(i, -1) for i in item_ids), dtype=np.int64)

    def position(self, item_id) -> int | None:
        return self._position.get(item_id)

    def row(self, i: int) -> dict:
        """One item as a dict: item_id, title, category, price, stock (``None`` if unknown)."""
        price, stock = self.prices[i], self.stock[i]
        return {"item_id": self.item_ids[i], "title": self.titles[i],
                "category": self.categories[i],
                "price": None if np.isnan(price) else float(price),
                "stock": None if np.isnan(stock) else int(stock)}

    def title(self, item_id) -> str:
        """A readable name for reasons: the quoted title, else the id."""
        i = self._position.get(item_id)
        title = self.titles[i] if i is not None else None
        return f"“{title}”" if title else str(item_id)

    # -- cached masks --------------------------------------------------------------------

    def _cached(self, key, compute) -> np.ndarray:
        found = self._masks.get(key)
        if found is None:
            found = compute()
            with self._lock:
                if len(self._masks) > _CACHE_LIMIT:
                    self._masks.clear()
                self._masks[key] = found
        return found

    def category_mask(self, query: str) -> np.ndarray:
        """Items whose category matches ``query`` (see :func:`category_matches`)."""
        query = query.strip().lower()
        return self._cached(("category", query), lambda: np.fromiter(
            (category_matches(c, query) for c in self.categories), bool, count=len(self)))

    def targets_mask(self, targets: Sequence[str]) -> np.ndarray:
        """Items named by rule targets: an item id, or ``category:<query>``."""
        def compute() -> np.ndarray:
            mask = np.zeros(len(self), dtype=bool)
            for target in targets:
                if target.startswith("category:"):
                    mask |= self.category_mask(target.removeprefix("category:"))
                else:
                    i = self._position.get(target)
                    if i is not None:
                        mask[i] = True
            return mask

        return self._cached(("targets", tuple(targets)), compute)

    def filter_mask(self, in_stock: bool, min_price, max_price, category) -> np.ndarray | None:
        """Items passing the hard filters (``None``: every item does)."""
        if not (in_stock or min_price is not None or max_price is not None or category):
            return None

        def compute() -> np.ndarray:
            keep = np.ones(len(self), dtype=bool)
            if in_stock:
                keep &= ~(self.stock <= 0)
            with np.errstate(invalid="ignore"):
                if min_price is not None:
                    keep &= self.prices >= min_price
                if max_price is not None:
                    keep &= self.prices <= max_price
            if category:
                keep &= self.category_mask(category)
            return keep

        return self._cached(("filter", bool(in_stock), min_price, max_price, category), compute)

    def same_category(self, rows: np.ndarray, columns: np.ndarray) -> np.ndarray:
        """A similarity from the catalog alone, for diversity when no model gives one: 1 for
        the same category path, 0.5 for the same top level, else 0."""
        cats = self.categories
        tops = _objects([top_category(c) for c in cats[rows]], len(rows))
        col_tops = _objects([top_category(c) for c in cats[columns]], len(columns))
        same_path = (cats[rows][:, None] == cats[columns][None, :]) & \
            (cats[rows] != None)[:, None]  # noqa: E711 - elementwise on an object array
        same_top = (tops[:, None] == col_tops[None, :]) & (tops != None)[:, None]  # noqa: E711
        return np.where(same_path, 1.0, np.where(same_top, 0.5, 0.0)).astype(np.float32)
