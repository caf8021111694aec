"""Search and review intelligence in the running service: the serving versions of the ``search``
and ``reviews`` capabilities, kept in step with the registry and with ingestion.

* The search is the registry's serving ``ProductSearch``. Items ingested through the API are
  added to it incrementally (``add_items``: new ids are added, changed ones replaced), so a new
  item is findable at once, without a rebuild; a newly promoted version is loaded, brought up to
  date with items stored after it was trained, and swapped in.
* The review analyzer is the registry's serving one, else the lexicon-only analyzer (which
  needs no training). Insight reports are cached per scope until reviews are ingested or the
  analyzer changes.
* Search is personalised by the recommendation model serving the user (live events included):
  its scores for the candidates reorder close calls, never lift a poor match over a good one.
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict

import numpy as np
import pandas as pd

from shopmind.data import schema
from shopmind.errors import DataError, NotFittedError, NotFoundError
from shopmind.recommend.catalog import category_matches

__all__ = ["Intelligence", "SEARCH", "REVIEWS"]

log = logging.getLogger("shopmind.api")

SEARCH = "search"
REVIEWS = "reviews"
_INSIGHT_CACHE = 64  # reports kept (per scope and period)
PERSONAL_WEIGHT = 0.5  # how far a user's taste may move a result (see _personal_order)


def _version_ref(version) -> dict | None:
    if version is None:
        return None
    return {"capability": version.capability, "version": version.version, "name": version.model,
            "trained_at": version.trained_at}


class Intelligence:
    """The search and the review analyzer a :class:`~shopmind.api.service.Service` serves."""

    def __init__(self, service):
        self.service = service
        self.search_model = None
        self.search_version = None
        self.analyzer = None
        self.reviews_version = None
        self.items_added = 0  # items indexed incrementally since the search version loaded
        self._search_lock = threading.Lock()  # ProductSearch is not safe to read while updated
        self._load_lock = threading.Lock()
        self._insights: OrderedDict = OrderedDict()
        self._insights_lock = threading.Lock()
        self._reviews_generation = 0

    # ------------------------------------------------------------------ loading
    def load_serving(self) -> bool:
        """Load the registry's serving search and analyzer where they changed; True if any did."""
        with self._load_lock:
            swapped = self._load_search()
            swapped = self._load_reviews() or swapped
        return swapped

    def _load_search(self) -> bool:
        from shopmind.search import ProductSearch

        version = self.service.registry.serving(SEARCH)
        if version is None or (self.search_version is not None
                               and self.search_version.version == version.version):
            return False
        try:
            model = ProductSearch.load(version.path)
        except Exception:  # noqa: BLE001 - a broken artifact never replaces a working one
            log.exception("cannot load search version %s; still serving the previous one",
                          version.version)
            return False
        added = self._add_missing_items(model)
        with self._search_lock:
            self.search_model, self.search_version = model, version
            # items ingested while it loaded went to the previous version: add them here too
            self.items_added = added + self._add_missing_items(model)
        log.info("serving search version %s (%s items, %s added since training)",
                 version.version, model.n_items, added)
        return True

    def _add_missing_items(self, model) -> int:
        """Index the stored items the model has not seen (ingested after it was trained)."""
        ids = self.service.store.read_table("items", ["item_id"])["item_id"]
        missing = [i for i in ids.tolist() if i not in model.pos_]
        if missing:
            model.add_items(self._item_rows(missing))
        return len(missing)

    def _item_rows(self, item_ids: list) -> pd.DataFrame:
        it = schema.items
        parts = [self.service.store.read_table("items", where=it.c.item_id.in_(item_ids[s:s + 900]))
                 for s in range(0, len(item_ids), 900)]
        return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()

    def _load_reviews(self) -> bool:
        from shopmind.engine_search_reviews import unpack_analyzer

        version = self.service.registry.serving(REVIEWS)
        if version is None:
            if self.analyzer is None:
                from shopmind.reviews import ReviewAnalyzer

                self.analyzer = ReviewAnalyzer()  # the lexicon alone, until one is trained
                return True
            return False
        if self.reviews_version is not None and self.reviews_version.version == version.version:
            return False
        try:
            analyzer = unpack_analyzer(version.path)
        except Exception:  # noqa: BLE001
            log.exception("cannot load reviews version %s; still serving the previous one",
                          version.version)
            return False
        self.analyzer, self.reviews_version = analyzer, version
        with self._insights_lock:
            self._insights.clear()
        log.info("serving reviews version %s (%s)", version.version, version.model)
        return True

    # ------------------------------------------------------------------ ingestion
    def items_changed(self, item_ids) -> int:
        """Index new or changed items at once (no rebuild); returns how many were indexed."""
        model = self.search_model
        ids = list(dict.fromkeys(i for i in item_ids if i is not None))
        if model is None or not ids:
            return 0
        rows = self._item_rows(ids)
        if rows.empty:
            return 0
        with self._search_lock:
            if self.search_model is model:
                model.add_items(rows)
                self.items_added += len(rows)
        return len(rows)

    def reviews_changed(self) -> None:
        with self._insights_lock:
            self._reviews_generation += 1
            self._insights.clear()

    # ------------------------------------------------------------------ search
    def _require_search(self):
        model = self.search_model
        if model is None:
            raise NotFittedError("no search model serves yet: `shopmind demo` trains one for the "
                                 "demo shop; for your own shop run `python -m "
                                 "shopmind.engine_search_reviews` and it is loaded within "
                                 "seconds")
        return model

    def _affinity(self, user_id: str | None):
        """The recommendation model's scores for this user's history (live events included),
        as a function of item ids; None for an unknown user or with no model serving."""
        live = self.service.live
        if not user_id or live is None:
            return None
        history, _, _ = live.history(user_id)
        if len(history) == 0:
            return None
        scores = live.score(history)

        def affinity(item_ids) -> np.ndarray:
            index = [live.item_index(i) for i in item_ids]
            return np.array([0.0 if j is None else float(scores[j]) for j in index])

        return affinity

    def search(self, query: str, k: int, filters: dict, user_id: str | None = None) -> dict:
        model = self._require_search()
        affinity = self._affinity(user_id)
        fetch = k if affinity is None else min(100, max(3 * k, 30))
        with self._search_lock:
            model = self.search_model
            result = model.search(query, k=fetch, filters=filters)
            brands = [model.columns_.brand[model.pos_[i]] if i in model.pos_ else None
                      for i in result.item_ids.tolist()]
        order, scores = _personal_order(result.scores, affinity, result.item_ids)
        order = order[:k]
        catalog = self.service.catalog
        items = []
        for item_id, title, score, brand in zip(result.item_ids[order].tolist(),
                                                [result.titles[j] for j in order],
                                                scores[order].tolist(),
                                                [brands[j] for j in order]):
            row = catalog.get(item_id) or {}
            items.append({"item_id": item_id, "title": row.get("title") or title,
                          "score": round(float(score), 6), "category": row.get("category"),
                          "brand": brand or None, "price": row.get("price"),
                          "stock": row.get("stock")})
        return {"query": query, "corrected": result.corrected, "stage": result.stage,
                "total": int(result.total), "items": items,
                "intent": [{"category": c, "probability": round(float(p), 4)}
                           for c, p in result.intent],
                "facets": result.facets, "personalised": affinity is not None,
                "user_id": user_id, "model": _version_ref(self.search_version)}

    def suggest(self, prefix: str, k: int) -> dict:
        model = self._require_search()
        with self._search_lock:
            suggestions = model.suggest(prefix, k)
        return {"query": prefix, "suggestions": list(suggestions)}

    # ------------------------------------------------------------------ reviews
    def analyze(self, texts: list[str], categories: list[str | None] | None = None,
                terms: list[str] | None = None) -> dict:
        analyzer = self.analyzer
        if analyzer is None:
            self.load_serving()
            analyzer = self.analyzer
        results = analyzer.analyze(texts, categories=categories, terms=terms)
        return {"results": [r.to_dict() for r in results],
                "model": _version_ref(self.reviews_version)}

    def insight(self, item_id: str | None, category: str | None, period: str) -> dict:
        """The insight report of one item's or one category's reviews (cached)."""
        from shopmind.reviews import ReviewInsights

        if (item_id is None) == (category is None):
            raise DataError("give exactly one of item_id or category")
        analyzer = self.analyzer
        if analyzer is None:
            self.load_serving()
            analyzer = self.analyzer
        key = (item_id, category, period, id(analyzer), self._reviews_generation)
        with self._insights_lock:
            cached = self._insights.get(key)
        if cached is not None:
            return cached
        reviews, scope = self._scoped_reviews(item_id, category)
        report = ReviewInsights(analyzer, period=period).build(reviews, scope)
        report = {**_plain(report), "model": _version_ref(self.reviews_version)}
        with self._insights_lock:
            if key[-1] == self._reviews_generation:  # not stale already
                self._insights[key] = report
            while len(self._insights) > _INSIGHT_CACHE:
                self._insights.popitem(last=False)
        return report

    def reviewed_items(self, limit: int) -> list[dict]:
        """The items with the most reviews, most first (for pickers)."""
        from sqlalchemy import func, select

        rv = schema.reviews
        with self.service.store.engine.connect() as conn:
            rows = conn.execute(select(rv.c.item_id, func.count().label("n"))
                                .group_by(rv.c.item_id)
                                .order_by(func.count().desc(), rv.c.item_id).limit(limit)).all()
        return [{"item_id": i, "title": (self.service.catalog.get(i) or {}).get("title"),
                 "reviews": int(n)} for i, n in rows]

    def _scoped_reviews(self, item_id, category) -> tuple[pd.DataFrame, dict]:
        store, rv = self.service.store, schema.reviews
        columns = ["review_id", "item_id", "user_id", "rating", "text", "ts", "language"]
        if item_id is not None:
            if self.service.catalog.get(item_id) is None:
                raise NotFoundError(f"unknown item {item_id!r}")
            reviews = store.read_table("reviews", columns, where=rv.c.item_id == item_id,
                                       order_by=["review_id"])
            reviews["category"] = self.service.catalog.get(item_id).get("category")
            scope = {"item_id": item_id}
            if reviews.empty:
                raise NotFoundError(f"item {item_id!r} has no reviews yet")
        else:
            wanted = category.strip().lower()
            items = store.read_table("items", ["item_id", "category"])
            items = items[[category_matches(c, wanted) for c in items["category"]]]
            if items.empty:
                raise NotFoundError(f"no items in category {category!r}; GET /v1/shop/categories "
                                    "lists the top-level ones")
            reviews = store.read_table("reviews", columns, order_by=["review_id"])
            reviews = reviews.merge(items, on="item_id", how="inner")  # keeps review order
            scope = {"category": category}
            if reviews.empty:
                raise NotFoundError(f"no reviews in category {category!r} yet")
        reviews = reviews[reviews["text"].fillna("").str.strip() != ""].reset_index(drop=True)
        if reviews.empty:
            raise NotFoundError(f"no review with text for {scope}")
        return reviews, scope

    # ------------------------------------------------------------------ status
    def models_status(self) -> list[dict]:
        """Entries of ``GET /v1/models`` for search and reviews."""
        registry = self.service.registry
        out = []
        for capability, version, extra in (
                (SEARCH, self.search_version, {"items_added_since_training": self.items_added}),
                (REVIEWS, self.reviews_version, {})):
            serving = registry.serving(capability)
            if serving is None and not registry.versions(capability):
                continue
            out.append({
                "capability": capability,
                "serving": None if serving is None else {**serving.as_dict(), "serving": True},
                "versions": len(registry.versions(capability)),
                "live": {"served_version": version.version if version else None, **extra},
                "retrain": {"runs": registry.runs(capability, last=20)},
            })
        return out


def _personal_order(scores: np.ndarray, affinity, item_ids) -> tuple[np.ndarray, np.ndarray]:
    """(order, scores) of search results re-ranked for a user: each result gains up to
    ``PERSONAL_WEIGHT`` × the spread of the top ten relevance scores, by the percentile of the
    recommender's score for it among the results. Close calls reorder; an item far down the
    relevance ranking cannot climb over clearly better matches."""
    from scipy.stats import rankdata

    scores = np.asarray(scores, dtype=np.float64)
    n = len(scores)
    if affinity is None or n < 2:
        return np.arange(n), scores
    values = np.asarray(affinity(item_ids), dtype=np.float64)
    if not np.isfinite(values).all() or values.std() <= 0:
        return np.arange(n), scores
    percentile = (rankdata(values) - 1) / (n - 1)
    spread = scores[0] - scores[min(n, 10) - 1]
    personal = scores + PERSONAL_WEIGHT * spread * percentile
    return np.lexsort((np.arange(n), -personal)), personal


def _plain(value):
    """Numpy scalars to Python ones, for JSON."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    return value
