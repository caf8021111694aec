"""Category-specific copies of n-gram features, so a linear model learns what a word means where.

「小」 praises a phone and blames a hotel room; "quiet" praises a fridge and blames a party
speaker. Each review keeps its shared features and also gets a copy of them in its product
category's own block (Daumé III 2007, "frustratingly easy domain adaptation"): the shared
weights learn what holds everywhere, a category's block what differs there. A review of a
category never seen in training (or of none) has only its shared features, which is exactly
what a model trained without categories reads.

Only a category with at least ``min_reviews`` training reviews gets a block (a block learned
from a handful of reviews is noise that takes weight from the shared features, and a review
read without its category then loses it), and a block keeps only the n-grams found in at least
``min_df`` of the category's reviews.

>>> import scipy.sparse as sp
>>> x = sp.csr_matrix(np.array([[1.0, 0.5], [1.0, 0.0], [0.0, 1.0]], dtype=np.float32))
>>> copies = CategoryCopies(min_df=1, min_reviews=1).fit(x, ["phone", "phone", "hotel"])
>>> copies.names, [c.tolist() for c in copies.columns]  # hotel's reviews only use n-gram 1
(['hotel', 'phone'], [[1], [0, 1]])
>>> copies.transform(x, ["phone", "hotel", None]).toarray().tolist()
[[1.0, 0.5, 0.0, 1.0, 0.5], [1.0, 0.0, 0.0, 0.0, 0.0], [0.0, 1.0, 0.0, 0.0, 0.0]]
"""

from __future__ import annotations

from collections import Counter

import numpy as np
import scipy.sparse as sp

from shopmind.data.model_files import strings_from_array, strings_to_array
from shopmind.errors import DataError

__all__ = ["CategoryCopies", "as_categories"]


def as_categories(categories, n: int) -> list[str | None] | None:
    """One category per text (None if none are given).

    A category path 「数码 > 手机 > 配件」 counts as its top level: the level with enough
    reviews to learn from, and the same one in training and in serving. None, "" and NaN
    mean unknown.

    >>> as_categories(["数码 > 手机", "Books", None, ""], 4)
    ['数码', 'Books', None, None]
    """
    if categories is None:
        return None
    if isinstance(categories, str):
        categories = [categories]
    out = []
    for c in categories:
        top = "" if c is None or (isinstance(c, float) and np.isnan(c)) else \
            str(c).split(">")[0].strip()
        out.append(top or None)
    if len(out) != n:
        raise DataError(f"{n} texts but {len(out)} categories; pass one category per text "
                        f"(None where it is unknown)")
    return out


class CategoryCopies:
    """Maps shared features to shared + per-category copies (see the module doc)."""

    def __init__(self, min_df: int = 2, min_reviews: int = 100):
        self.min_df = min_df
        self.min_reviews = min_reviews

    def fit(self, x: sp.csr_matrix, categories: list[str | None]) -> CategoryCopies:
        self.n_shared = x.shape[1]
        counts = Counter(c for c in categories if c is not None)
        self.names: list[str] = sorted(c for c, n in counts.items() if n >= self.min_reviews)
        cats = np.asarray(categories, dtype=object)
        self.columns: list[np.ndarray] = []
        for name in self.names:
            rows = x[np.flatnonzero(cats == name)]
            df = np.bincount(rows.indices, minlength=self.n_shared)
            self.columns.append(np.flatnonzero(df >= self.min_df).astype(np.int32))
        self._maps = None
        return self

    @property
    def n_features(self) -> int:
        return self.n_shared + sum(len(c) for c in self.columns)

    def _column_maps(self) -> dict[str, np.ndarray]:
        """Per category: shared column -> its copy's column (-1 where it has none)."""
        if self._maps is None:
            self._maps, offset = {}, self.n_shared
            for name, cols in zip(self.names, self.columns):
                m = np.full(self.n_shared, -1, dtype=np.int64)
                m[cols] = offset + np.arange(len(cols))
                self._maps[name] = m
                offset += len(cols)
        return self._maps

    def transform(self, x: sp.csr_matrix, categories: list[str | None]) -> sp.csr_matrix:
        coo = x.tocoo()
        rows, cols, vals = [coo.row], [coo.col.astype(np.int64)], [coo.data]
        cats = np.asarray(categories, dtype=object)
        for name, column_map in self._column_maps().items():
            mine = np.flatnonzero(cats == name)
            if not len(mine):
                continue
            part = x[mine].tocoo()
            copied = column_map[part.col]
            keep = copied >= 0
            rows.append(mine[part.row[keep]])
            cols.append(copied[keep])
            vals.append(part.data[keep])
        return sp.csr_matrix((np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))),
                             shape=(x.shape[0], self.n_features), dtype=np.float32)

    # -- persistence, as arrays beside the model's own
    def to_arrays(self) -> dict[str, np.ndarray]:
        return {"category_names": strings_to_array(self.names),
                "category_sizes": np.array([len(c) for c in self.columns], dtype=np.int64),
                "category_columns": np.concatenate(self.columns or [np.zeros(0, np.int32)]),
                "category_shared": np.array([self.n_shared, self.min_df, self.min_reviews],
                                            dtype=np.int64)}

    @classmethod
    def from_arrays(cls, arrays: dict[str, np.ndarray]) -> CategoryCopies:
        n_shared, min_df, min_reviews = (int(v) for v in arrays["category_shared"])
        out = cls(min_df, min_reviews)
        out.n_shared = n_shared
        out.names = strings_from_array(arrays["category_names"])
        bounds = np.cumsum([0, *arrays["category_sizes"].tolist()])
        out.columns = [arrays["category_columns"][a:b] for a, b in zip(bounds[:-1], bounds[1:])]
        out._maps = None
        return out
