"""Business filters (category, brand, price range, in stock) and facet counts.

A category filter matches a path prefix on level boundaries: ``"Electronics"`` matches
``"Electronics > Audio > Earbuds"`` but not ``"Electronics Recycling"``. Several values of one
filter are alternatives (OR); different filters must all hold (AND).

Facets are *disjunctive*, as shops show them: the brand counts are computed with every filter
except the brand filter, so choosing one brand still shows how many items the other brands have.
The category facet drills down: with no category filter it counts top-level categories, with
one it counts the next level below it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields

import numpy as np
import pandas as pd

from shopmind.errors import DataError

__all__ = ["Filters", "CatalogColumns", "price_buckets", "SEP"]

SEP = " > "


def _as_list(value) -> list | None:
    if value is None:
        return None
    if isinstance(value, str):
        return [value]
    return list(value)


@dataclass(frozen=True)
class Filters:
    """What a result must satisfy; ``None`` means no constraint.

    >>> Filters.of({"brand": "Acme", "price": (10, 50), "in_stock": True})
    Filters(category=None, brand=('Acme',), price_min=10.0, price_max=50.0, in_stock=True)
    """

    category: tuple[str, ...] | None = None
    brand: tuple[str, ...] | None = None
    price_min: float | None = None
    price_max: float | None = None
    in_stock: bool = False

    @classmethod
    def of(cls, value: Filters | Mapping | None) -> Filters:
        if value is None:
            return cls()
        if isinstance(value, Filters):
            return value
        if not isinstance(value, Mapping):
            raise DataError(f"filters must be a Filters or a dict, got {type(value).__name__}")
        known = {f.name for f in fields(cls)} | {"price"}
        unknown = set(value) - known
        if unknown:
            raise DataError(f"unknown filter(s) {sorted(unknown)}; use {sorted(known)}")
        price = value.get("price")
        lo, hi = (price if price is not None else (value.get("price_min"), value.get("price_max")))
        cat, brand = _as_list(value.get("category")), _as_list(value.get("brand"))
        return cls(category=tuple(cat) if cat else None, brand=tuple(brand) if brand else None,
                   price_min=None if lo is None else float(lo),
                   price_max=None if hi is None else float(hi),
                   in_stock=bool(value.get("in_stock", False)))

    def is_empty(self) -> bool:
        return self == Filters()


def price_buckets(prices: np.ndarray, n: int = 5) -> np.ndarray:
    """``n - 1`` round price edges at catalog quantiles (facet buckets ``[edge_i, edge_i+1)``).

    >>> price_buckets(np.array([5, 12, 18, 33, 47, 80, 150, 420, 999, 1500.0]), n=4).tolist()
    [20.0, 50.0, 500.0]
    """
    prices = np.asarray(prices, dtype=np.float64)
    prices = prices[np.isfinite(prices)]
    if not len(prices):
        return np.zeros(0)
    raw = np.quantile(prices, np.linspace(0, 1, n + 1)[1:-1])
    edges = []
    for x in raw:
        if x <= 0:
            continue
        mag = 10 ** np.floor(np.log10(x))
        nice = min((m * mag for m in (1, 2, 5, 10)), key=lambda v: abs(np.log(v / x)))
        edges.append(float(nice))
    return np.unique(edges)


class CatalogColumns:
    """The catalog's filterable columns as arrays, growing with the catalog."""

    def __init__(self):
        self.category = np.zeros(0, dtype=object)
        self.brand = np.zeros(0, dtype=object)
        self.price = np.zeros(0)
        self.stock = np.zeros(0)
        self.price_edges = np.zeros(0)
        self._codes: dict[str, tuple[np.ndarray, list[str]]] = {}  # facet codes, per state

    def append(self, items: pd.DataFrame) -> None:
        def col(name, default):
            if name in items:
                return items[name].to_numpy()
            return np.full(len(items), default, dtype=object)

        cat = np.array([c if isinstance(c, str) else "" for c in col("category", "")],
                       dtype=object)
        brand = np.array([b if isinstance(b, str) else "" for b in col("brand", "")],
                         dtype=object)
        price = pd.to_numeric(pd.Series(col("price", np.nan)), errors="coerce").to_numpy(float)
        stock = pd.to_numeric(pd.Series(col("stock", np.nan)), errors="coerce").to_numpy(float)
        self.category = np.concatenate([self.category, cat])
        self.brand = np.concatenate([self.brand, brand])
        self.price = np.concatenate([self.price, price])
        self.stock = np.concatenate([self.stock, stock])
        self._codes = {}

    def keep(self, alive: np.ndarray) -> None:
        for name in ("category", "brand", "price", "stock"):
            setattr(self, name, getattr(self, name)[alive])
        self._codes = {}

    # ------------------------------------------------------------------ masks

    def _category_mask(self, prefixes: Sequence[str]) -> np.ndarray:
        mask = np.zeros(len(self.category), dtype=bool)
        for p in prefixes:
            p = p.strip()
            mask |= np.fromiter((c == p or c.startswith(p + SEP) for c in self.category),
                                dtype=bool, count=len(self.category))
        return mask

    def masks(self, f: Filters) -> dict[str, np.ndarray]:
        """One boolean mask per active filter."""
        out = {}
        if f.category:
            out["category"] = self._category_mask(f.category)
        if f.brand:
            wanted = {b.casefold() for b in f.brand}
            out["brand"] = np.fromiter((b.casefold() in wanted for b in self.brand), dtype=bool,
                                       count=len(self.brand))
        if f.price_min is not None or f.price_max is not None:
            m = np.isfinite(self.price)
            if f.price_min is not None:
                m &= self.price >= f.price_min
            if f.price_max is not None:
                m &= self.price <= f.price_max
            out["price"] = m
        if f.in_stock:
            # Unknown stock counts as available: a catalog without stock data is not sold out.
            out["in_stock"] = ~(self.stock <= 0)
        return out

    @staticmethod
    def combine(masks: Mapping[str, np.ndarray], base: np.ndarray,
                skip: str | None = None) -> np.ndarray:
        out = base.copy()
        for name, m in masks.items():
            if name != skip:
                out &= m
        return out

    # ------------------------------------------------------------------ facets

    def _path_codes(self, depth: int) -> tuple[np.ndarray, list[str]]:
        """Per item, a code for its category path cut to ``depth`` levels (-1 when the path is
        shorter), and the paths the codes stand for; computed once per catalog state."""
        key = f"category:{depth}"
        if key not in self._codes:
            cut = []
            for c in self.category:
                parts = c.split(SEP) if c else []
                cut.append(SEP.join(parts[:depth]) if len(parts) >= depth else None)
            labels = sorted({x for x in cut if x is not None})
            index = {label: i for i, label in enumerate(labels)}
            codes = np.array([index[x] if x is not None else -1 for x in cut], dtype=np.int64)
            self._codes[key] = (codes, labels)
        return self._codes[key]

    def _brand_codes(self) -> tuple[np.ndarray, list[str]]:
        if "brand" not in self._codes:
            labels, codes = np.unique(self.brand.astype(str), return_inverse=True)
            self._codes["brand"] = (codes.astype(np.int64), labels.tolist())
        return self._codes["brand"]

    @staticmethod
    def _counted(codes: np.ndarray, labels: list[str], skip: str | None = None
                 ) -> dict[str, int]:
        codes = codes[codes >= 0]
        counts = np.bincount(codes, minlength=len(labels)) if len(codes) else np.zeros(0, int)
        pairs = [(labels[i], int(n)) for i, n in enumerate(counts) if n and labels[i] != skip]
        return dict(sorted(pairs, key=lambda kv: (-kv[1], kv[0])))

    def facets(self, matched: np.ndarray, f: Filters, masks: Mapping[str, np.ndarray]
               ) -> dict[str, dict[str, int]]:
        """Disjunctive facet counts over the ``matched`` items (a boolean mask)."""
        out: dict[str, dict[str, int]] = {}
        rows = np.flatnonzero(self.combine(masks, matched, skip="category"))
        parents = f.category or ()
        level = len(parents[0].split(SEP)) if len(parents) == 1 else 0
        if level:
            parent_codes, parent_labels = self._path_codes(level)
            wanted = parents[0].strip()
            code = parent_labels.index(wanted) if wanted in parent_labels else -2
            rows = rows[parent_codes[rows] == code]
        codes, labels = self._path_codes(level + 1)
        out["category"] = self._counted(codes[rows], labels)
        rows = np.flatnonzero(self.combine(masks, matched, skip="brand"))
        codes, labels = self._brand_codes()
        out["brand"] = self._counted(codes[rows], labels, skip="")
        rows = np.flatnonzero(self.combine(masks, matched, skip="price"))
        prices = self.price[rows]
        prices = prices[np.isfinite(prices)]
        edges = self.price_edges
        if len(edges):
            bins = np.searchsorted(edges, prices, side="right")
            labels = ([f"< {edges[0]:g}"] + [f"{a:g} - {b:g}" for a, b in zip(edges, edges[1:])]
                      + [f">= {edges[-1]:g}"])
            counts_p = np.bincount(bins, minlength=len(labels))
            out["price"] = {lab: int(n) for lab, n in zip(labels, counts_p) if n}
        rows = np.flatnonzero(self.combine(masks, matched, skip="in_stock"))
        stock = self.stock[rows]
        out["in_stock"] = {"in stock": int((~(stock <= 0)).sum()),
                           "out of stock": int((stock <= 0).sum())}
        return out

    def to_arrays(self) -> dict[str, np.ndarray]:
        return {"cols.price": self.price, "cols.stock": self.stock,
                "cols.price_edges": self.price_edges}

    def to_json(self) -> dict:
        return {"category": self.category.tolist(), "brand": self.brand.tolist()}

    @classmethod
    def from_saved(cls, blob: dict, arrays) -> CatalogColumns:
        c = cls()
        c.category = np.array(blob["category"], dtype=object)
        c.brand = np.array(blob["brand"], dtype=object)
        c.price = np.asarray(arrays["cols.price"], dtype=np.float64)
        c.stock = np.asarray(arrays["cols.stock"], dtype=np.float64)
        c.price_edges = np.asarray(arrays["cols.price_edges"], dtype=np.float64)
        return c
