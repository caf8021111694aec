"""What a shop knew at one moment, as features of (user, item) pairs for the propensity model.

A :class:`Snapshot` is built from the events before a point in time (nothing later leaks in)
and the catalog: per-user activity, recency and frequency; per-item popularity, trend, price
and conversion; per-pair history (viewed, carted, bought, how long ago), the user's affinity to
the item's category, brand, language and price, and a recommender's score and rank of the item
for the user. Everything is arrays, so a snapshot saves without pickle.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import scipy.sparse as sp

from shopmind.data.views import DEFAULT_EVENT_WEIGHTS, Sequences
from shopmind.errors import DataError
from shopmind.recommend.base import Recommender

__all__ = ["Snapshot", "FEATURE_NAMES", "DAY"]

DAY = 86400.0
SCORE_CHUNK = 512
"""Distinct users scored per recommender call when computing features."""
_ABSENT_DAYS = 1000.0
"""Days-since value of something that never happened (large, so log1p keeps it finite)."""

USER_FEATURES = ("u_events", "u_purchases", "u_active_days", "u_events_7d", "u_events_30d",
                 "u_recency_days", "u_tenure_days")
ITEM_FEATURES = ("i_events", "i_purchases", "i_events_7d", "i_purchases_30d", "i_conversion",
                 "i_price")
PAIR_FEATURES = ("rec_score", "rec_rank", "ui_views", "ui_carts", "ui_purchases",
                 "ui_recency_days", "category_share", "top_category_share", "brand_share",
                 "language_share", "price_gap")
FEATURE_NAMES = USER_FEATURES + ITEM_FEATURES + PAIR_FEATURES
"""Columns of :meth:`Snapshot.features`, in order; counts and days enter as ``log1p``."""

_VIEWS = ("view", "click")
_CARTS = ("add_to_cart",)
_PURCHASES = ("purchase",)


def _codes(values: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """(integer code per row, -1 for missing; the distinct values)."""
    codes, names = pd.factorize(values.astype("string"), use_na_sentinel=True)
    return codes.astype(np.int64), np.asarray(names, dtype=object)


def _top_level(category: pd.Series) -> pd.Series:
    return category.astype("string").str.split(" > ").str[0].str.strip()


def _row_shares(rows: np.ndarray, cols: np.ndarray, weights: np.ndarray, n_rows: int,
                n_cols: int) -> sp.csr_matrix:
    """users × values matrix of each user's weighted share of events on each value."""
    ok = cols >= 0
    matrix = sp.csr_matrix((weights[ok], (rows[ok], cols[ok])), shape=(n_rows, max(n_cols, 1)),
                           dtype=np.float64)
    matrix.sum_duplicates()
    totals = np.asarray(matrix.sum(axis=1)).ravel()
    matrix = sp.diags(1.0 / np.maximum(totals, 1e-12)) @ matrix
    return matrix.tocsr()


def _gather(matrix: sp.csr_matrix, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    """matrix[rows[k], cols[k]] for every k (0 where absent or where a column is -1)."""
    out = np.zeros(len(rows), dtype=np.float64)
    ok = (cols >= 0) & (rows >= 0)
    if ok.any():
        out[ok] = np.asarray(matrix[rows[ok], cols[ok]]).ravel()
    return out


class Snapshot:
    """The state of the shop at ``as_of`` (epoch seconds), from the events before it.

    ``recommender`` is a *fitted* recommender trained on the same events (it gives the
    user–item affinity); its item vocabulary must be the catalog's item ids.
    """

    def __init__(self, arrays: dict[str, np.ndarray], recommender: Recommender):
        self.arrays = arrays
        self.recommender = recommender
        self.user_ids = arrays["user_ids"]
        self.item_ids = arrays["item_ids"]
        self._user_pos = pd.Index(self.user_ids)
        self._item_pos = pd.Index(self.item_ids)

    @property
    def as_of(self) -> float:
        return float(self.arrays["as_of"])

    # -- building -----------------------------------------------------------------------

    @classmethod
    def build(cls, events: pd.DataFrame, items: pd.DataFrame, as_of: float,
              recommender: Recommender) -> Snapshot:
        """From the ``events`` (user_id, item_id, type, ts[, value]) strictly before ``as_of``;
        ``recommender`` is fitted here on the same events (pass a fresh estimator)."""
        for column in ("user_id", "item_id", "type", "ts"):
            if column not in events.columns:
                raise DataError(f"the events table needs a {column!r} column")
        if "item_id" not in items.columns:
            raise DataError("the items table needs an 'item_id' column")
        catalog = items.drop_duplicates("item_id").sort_values("item_id").reset_index(drop=True)
        item_ids = catalog["item_id"].to_numpy(dtype=object)
        past = events[(events["ts"] < as_of) & events["item_id"].notna()]
        past = past[past["item_id"].isin(pd.Index(item_ids))]
        if past.empty:
            raise DataError("no event with a catalog item happened before the snapshot time; "
                            "the propensity model needs history to learn from")
        user_ids = np.asarray(sorted(past["user_id"].unique()), dtype=object)
        u = pd.Index(user_ids).get_indexer(past["user_id"])
        i = pd.Index(item_ids).get_indexer(past["item_id"])
        kind = past["type"].to_numpy(dtype=object)
        ts = past["ts"].to_numpy(dtype=np.float64)
        age_days = (as_of - ts) / DAY
        n_users, n_items = len(user_ids), len(item_ids)
        is_purchase = np.isin(kind, _PURCHASES)

        def per(index, n, mask=None, weights=None):
            mask = np.ones(len(index), bool) if mask is None else mask
            w = None if weights is None else weights[mask]
            return np.bincount(index[mask], weights=w, minlength=n).astype(np.float64)

        day = np.floor(ts / DAY).astype(np.int64)
        active_days = pd.Series(day).groupby(u).nunique().reindex(range(n_users), fill_value=0)
        last = pd.Series(ts).groupby(u).max().reindex(range(n_users)).to_numpy()
        first = pd.Series(ts).groupby(u).min().reindex(range(n_users)).to_numpy()
        user_stats = np.column_stack([
            per(u, n_users), per(u, n_users, is_purchase), active_days.to_numpy(np.float64),
            per(u, n_users, age_days < 7), per(u, n_users, age_days < 30),
            (as_of - last) / DAY, (as_of - first) / DAY])

        price = pd.to_numeric(catalog["price"], errors="coerce").to_numpy(np.float64) \
            if "price" in catalog.columns else np.full(n_items, np.nan)
        log_price = np.log1p(np.where(np.isfinite(price) & (price > 0), price, np.nan))
        views = per(i, n_items, np.isin(kind, _VIEWS))
        purchases = per(i, n_items, is_purchase)
        item_stats = np.column_stack([
            per(i, n_items), purchases, per(i, n_items, age_days < 7),
            per(i, n_items, is_purchase & (age_days < 30)),
            (purchases + 0.01) / (views + 10.0),  # smoothed towards a 0.1 % conversion
            log_price])

        def pair(mask=None, values=None, reduce="sum"):
            mask = np.ones(len(u), bool) if mask is None else mask
            data = np.ones(mask.sum()) if values is None else values[mask]
            if reduce == "max":  # latest time per pair: sort so the last write wins
                order = np.argsort(data, kind="stable")
                keys = u[mask][order] * n_items + i[mask][order]
                uniq, last_pos = np.unique(keys[::-1], return_index=True)
                vals = data[order][::-1][last_pos]
                return sp.csr_matrix((vals, (uniq // n_items, uniq % n_items)),
                                     shape=(n_users, n_items))
            m = sp.csr_matrix((data, (u[mask], i[mask])), shape=(n_users, n_items))
            m.sum_duplicates()
            return m

        weights = np.array([DEFAULT_EVENT_WEIGHTS.get(k, 1.0) for k in kind], dtype=np.float64)
        category = catalog["category"] if "category" in catalog.columns \
            else pd.Series([None] * n_items)
        brand = catalog["brand"] if "brand" in catalog.columns else pd.Series([None] * n_items)
        language = catalog["language"] if "language" in catalog.columns \
            else pd.Series([None] * n_items)
        cat_code, cat_names = _codes(category)
        top_code, top_names = _codes(_top_level(category))
        brand_code, brand_names = _codes(brand)
        lang_code, lang_names = _codes(language)
        touched_price = np.where(np.isfinite(log_price[i]), weights, 0.0)
        price_sum = np.bincount(u, np.nan_to_num(log_price[i]) * touched_price, n_users)
        price_weight = np.bincount(u, touched_price, n_users)
        mean_price = np.where(price_weight > 0, price_sum / np.maximum(price_weight, 1e-12),
                              np.nan)

        arrays = {
            "as_of": np.array(float(as_of)), "user_ids": user_ids, "item_ids": item_ids,
            "user_stats": user_stats, "item_stats": item_stats, "user_mean_log_price": mean_price,
            "item_category": cat_code, "item_top_category": top_code, "item_brand": brand_code,
            "item_language": lang_code,
        }
        for name, matrix in (("ui_views", pair(np.isin(kind, _VIEWS))),
                             ("ui_carts", pair(np.isin(kind, _CARTS))),
                             ("ui_purchases", pair(is_purchase)),
                             ("ui_last", pair(values=ts, reduce="max")),
                             ("share_category", _row_shares(u, cat_code[i], weights, n_users,
                                                            len(cat_names))),
                             ("share_top", _row_shares(u, top_code[i], weights, n_users,
                                                       len(top_names))),
                             ("share_brand", _row_shares(u, brand_code[i], weights, n_users,
                                                         len(brand_names))),
                             ("share_language", _row_shares(u, lang_code[i], weights, n_users,
                                                            len(lang_names)))):
            arrays.update(_csr_arrays(name, matrix.tocsr()))
        seqs = Sequences.from_events(past["user_id"].to_numpy(dtype=object),
                                     past["item_id"].to_numpy(dtype=object), ts, kind,
                                     item_ids=item_ids)
        recommender.fit(seqs)
        return cls(arrays, recommender)

    # -- lookups ------------------------------------------------------------------------

    def user_index(self, user_ids) -> np.ndarray:
        """Row of each user, -1 for users with no events before the snapshot (new users)."""
        return self._user_pos.get_indexer(pd.Index(np.asarray(user_ids, dtype=object)))

    def item_index(self, item_ids) -> np.ndarray:
        """Column of each item, -1 for items not in the snapshot's catalog."""
        return self._item_pos.get_indexer(pd.Index(np.asarray(item_ids, dtype=object)))

    def matrix(self, name: str) -> sp.csr_matrix:
        """A sparse matrix of the snapshot (built once: every feature call reads several)."""
        cache = self.__dict__.setdefault("_matrices", {})
        if name not in cache:
            a = self.arrays
            cache[name] = sp.csr_matrix(
                (a[f"{name}.data"], a[f"{name}.indices"], a[f"{name}.indptr"]),
                shape=tuple(a[f"{name}.shape"]))
        return cache[name]

    def seen(self, user_rows: np.ndarray) -> list[np.ndarray]:
        """Item columns each user touched before the snapshot."""
        views = self.matrix("ui_last")
        return [views.indices[views.indptr[r]:views.indptr[r + 1]] if r >= 0
                else np.zeros(0, np.int64) for r in user_rows]

    def recommender_scores(self, user_rows: np.ndarray) -> np.ndarray:
        """(len(user_rows) × n_items) recommender scores; new users (-1) score all zero."""
        out = np.zeros((len(user_rows), len(self.item_ids)), dtype=np.float32)
        known = np.flatnonzero(user_rows >= 0)
        if len(known):
            out[known] = self.recommender.score(user_rows[known])
        return out

    # -- features -----------------------------------------------------------------------

    def _scores_and_ranks(self, user_rows: np.ndarray,
                          item_cols: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The recommender's score of each pair and how many items score strictly higher for
        the user (ties share a rank, so items the recommender knows nothing about are not
        ordered by their position in the catalog). One scoring call per chunk of distinct
        users, so memory stays chunk × catalog. New users (-1) rank every item last."""
        unique_rows, inverse = np.unique(user_rows, return_inverse=True)
        score = np.zeros(len(user_rows), dtype=np.float64)
        rank = np.full(len(user_rows), float(len(self.item_ids)))
        order = np.argsort(inverse, kind="stable")
        bounds = np.searchsorted(inverse[order], np.arange(len(unique_rows) + 1))
        for start in range(0, len(unique_rows), SCORE_CHUNK):
            stop = min(start + SCORE_CHUNK, len(unique_rows))
            scores = self.recommender_scores(unique_rows[start:stop])
            descending = -np.sort(scores, axis=1)[:, ::-1]  # ascending negated scores
            for k in range(stop - start):
                picked = order[bounds[start + k]:bounds[start + k + 1]]
                score[picked] = scores[k, item_cols[picked]]
                if unique_rows[start + k] >= 0:
                    rank[picked] = np.searchsorted(descending[k], -score[picked], side="left")
        return score, rank

    def features(self, user_rows: np.ndarray, item_cols: np.ndarray) -> np.ndarray:
        """(n_pairs × len(FEATURE_NAMES)) features; ``user_rows`` may hold -1 (new users)."""
        user_rows = np.asarray(user_rows, dtype=np.int64)
        item_cols = np.asarray(item_cols, dtype=np.int64)
        if np.any(item_cols < 0):
            raise DataError("every item must be in the snapshot's catalog")
        a = self.arrays
        known = user_rows >= 0
        rows = np.where(known, user_rows, 0)
        user = np.where(known[:, None], a["user_stats"][rows], 0.0)
        user[~known, 5:] = _ABSENT_DAYS  # recency and tenure of someone never seen
        item = a["item_stats"][item_cols]

        pair_score, rank = self._scores_and_ranks(user_rows, item_cols)
        last = _gather(self.matrix("ui_last"), user_rows, item_cols)
        since = np.where(last > 0, (self.as_of - last) / DAY, _ABSENT_DAYS)
        user_price = np.where(known, a["user_mean_log_price"][rows], np.nan)
        gap = np.abs(item[:, 5] - user_price)
        pairs = np.column_stack([
            pair_score, rank,
            _gather(self.matrix("ui_views"), user_rows, item_cols),
            _gather(self.matrix("ui_carts"), user_rows, item_cols),
            _gather(self.matrix("ui_purchases"), user_rows, item_cols),
            since,
            _gather(self.matrix("share_category"), user_rows, a["item_category"][item_cols]),
            _gather(self.matrix("share_top"), user_rows, a["item_top_category"][item_cols]),
            _gather(self.matrix("share_brand"), user_rows, a["item_brand"][item_cols]),
            _gather(self.matrix("share_language"), user_rows, a["item_language"][item_cols]),
            np.where(np.isfinite(gap), gap, 0.0)])
        # Counts and days are heavy-tailed: log1p keeps a linear model's view of them sane.
        user = np.log1p(np.maximum(user, 0.0))
        item = item.copy()
        item[:, [0, 1, 2, 3]] = np.log1p(item[:, [0, 1, 2, 3]])
        item[:, 5] = np.nan_to_num(item[:, 5], nan=float(np.nanmedian(a["item_stats"][:, 5]))
                                   if np.isfinite(a["item_stats"][:, 5]).any() else 0.0)
        pairs[:, [1, 2, 3, 4, 5]] = np.log1p(pairs[:, [1, 2, 3, 4, 5]])
        return np.column_stack([user, item, pairs])


def _csr_arrays(name: str, matrix: sp.csr_matrix) -> dict[str, np.ndarray]:
    return {f"{name}.data": matrix.data.astype(np.float64), f"{name}.indices": matrix.indices,
            f"{name}.indptr": matrix.indptr, f"{name}.shape": np.array(matrix.shape)}
