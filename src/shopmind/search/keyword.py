"""Multi-field BM25 keyword index (bm25s scoring) with character n-grams and incremental segments.

Every field (title, brand, category, attributes, description) is an eager bm25s score matrix:
column ``t`` holds ``idf(t) · tfc(t, d)`` for the documents containing term ``t`` — bm25s's
layout and its Lucene formulas, so a query is a sum of posting lists. The matrices are built
with sparse-matrix arithmetic instead of bm25s's per-document Python loop (same numbers, tested
against ``bm25s.BM25.index``; an order of magnitude faster, which keyword indexing needs).

Typo tolerance lives in one more field, ``chars``: character n-grams of the title and brand
terms (``#mo mow owe wer er#``), so ``mowe`` still meets ``mower``.

Incremental updates follow Lucene: the index is a large *base* segment and a small *delta*
segment. Added items go to the delta, which is rebuilt on each addition (cheap: it is small) with
the collection statistics of base + delta; removed items are tombstoned by the caller. Once the
delta outgrows ``merge_ratio`` of the base, :meth:`KeywordIndex.compact` folds everything into a
new base.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import scipy.sparse as sp
from bm25s.scoring import _select_tfc_scorer

from shopmind.errors import DataError
from shopmind.search.analysis import char_grams

__all__ = ["KeywordIndex", "bm25_matrix", "WORD_FIELDS", "CHAR_FIELD"]

WORD_FIELDS = ("title", "brand", "category", "attributes", "description")
CHAR_FIELD = "chars"
CHAR_SOURCES = ("title", "brand")


def _lucene_idf(df: np.ndarray, n_docs: int) -> np.ndarray:
    """bm25s's Lucene IDF, ``log(1 + (N - df + 0.5) / (df + 0.5))``, vectorised."""
    df = np.asarray(df, dtype=np.float64)
    return np.log1p((n_docs - df + 0.5) / (df + 0.5))


def bm25_matrix(tf: sp.csr_matrix, idf: np.ndarray, avg_len: float, k1: float,
                b: float) -> sp.csc_matrix:
    """Eager BM25 scores ``idf · tfc`` (bm25s's Lucene variant) as a documents × terms CSC matrix.

    >>> tf = sp.csr_matrix(np.array([[2, 0], [1, 1]], dtype=np.float32))
    >>> m = bm25_matrix(tf, np.array([1.0, 2.0]), avg_len=2.0, k1=1.2, b=0.75)
    >>> np.round(m.toarray().astype(float), 4).tolist()
    [[0.625, 0.0], [0.4545, 0.9091]]
    """
    tf = sp.csr_matrix(tf, dtype=np.float32)
    doc_len = np.asarray(tf.sum(axis=1)).ravel()
    rows = np.repeat(np.arange(tf.shape[0]), np.diff(tf.indptr))
    tfc = _select_tfc_scorer("lucene")(tf.data.astype(np.float64), doc_len[rows],
                                        max(avg_len, 1e-9), k1, b)
    data = (idf[tf.indices] * tfc).astype(np.float32)
    return sp.csr_matrix((data, tf.indices, tf.indptr), shape=tf.shape).tocsc()


class _Segment:
    """One segment of one field: term counts (CSR, for features) and BM25 scores (CSC)."""

    __slots__ = ("tf", "scores")

    def __init__(self, tf: sp.csr_matrix, scores: sp.csc_matrix):
        self.tf = tf
        self.scores = scores

    @property
    def n_docs(self) -> int:
        return self.tf.shape[0]


def _csr(rows: Sequence[Sequence[int]], n_cols: int) -> sp.csr_matrix:
    """Documents' term-id lists → documents × terms count matrix."""
    lengths = np.fromiter((len(r) for r in rows), dtype=np.int64, count=len(rows))
    indptr = np.zeros(len(rows) + 1, dtype=np.int64)
    np.cumsum(lengths, out=indptr[1:])
    indices = (np.fromiter((t for r in rows for t in r), dtype=np.int64, count=int(indptr[-1]))
               if indptr[-1] else np.zeros(0, dtype=np.int64))
    m = sp.csr_matrix((np.ones(len(indices), dtype=np.float32), indices, indptr),
                      shape=(len(rows), n_cols))
    m.sum_duplicates()
    return m


def _widen(m: sp.csr_matrix, n_cols: int) -> sp.csr_matrix:
    """The same matrix with more (empty) columns: the vocabulary grew."""
    if m.shape[1] == n_cols:
        return m
    return sp.csr_matrix((m.data, m.indices, m.indptr), shape=(m.shape[0], n_cols))


class KeywordIndex:
    """BM25 over several fields plus character n-grams, with base/delta segments.

    Items are addressed by position (0, 1, 2, … in the order they were added).

    >>> idx = KeywordIndex()
    >>> idx.build({"title": [["garden", "hose"], ["lawn", "mower"]], "brand": [["acme"], []]})
    >>> ids = idx.term_ids({"mower": 1.0})
    >>> idx.field_scores("title", ids).round(3).tolist()  # idf log(2) · tfc 1/2.2
    [0.0, 0.315]
    >>> idx.add({"title": [["mower", "blade"]], "brand": [[]]})
    >>> idx.n_docs, idx.delta_docs
    (3, 1)
    """

    def __init__(self, k1: float = 1.2, b: float = 0.75, ngram: int = 3,
                 merge_ratio: float = 0.25):
        self.k1 = k1
        self.b = b
        self.ngram = ngram
        self.merge_ratio = merge_ratio
        self.vocab: dict[str, int] = {}
        self.terms: list[str] = []
        self.grams: dict[str, int] = {}
        self._term_grams = sp.csr_matrix((0, 0), dtype=np.float32)  # terms × grams
        self.fields: tuple[str, ...] = ()
        self.base: dict[str, _Segment] = {}
        self.delta: dict[str, _Segment] = {}
        self.base_stats: dict[str, tuple[int, float]] = {}  # field -> (n_docs, avg length)
        self.version = 0  # bumped on every change, for caches of derived arrays
        self._lengths: dict[str, tuple[int, np.ndarray]] = {}

    # ------------------------------------------------------------------ vocabulary

    def _ids(self, docs: Sequence[Sequence[str]]) -> list[list[int]]:
        vocab, terms = self.vocab, self.terms
        out = []
        for doc in docs:
            row = []
            for t in doc:
                i = vocab.get(t)
                if i is None:
                    i = vocab[t] = len(terms)
                    terms.append(t)
                row.append(i)
            out.append(row)
        return out

    def _extend_term_grams(self) -> None:
        """Character n-grams of terms new to the vocabulary (one row per term)."""
        start = self._term_grams.shape[0]
        if start == len(self.terms):
            return
        rows = []
        for term in self.terms[start:]:
            row = []
            for g in char_grams([term], self.ngram):
                i = self.grams.get(g)
                if i is None:
                    i = self.grams[g] = len(self.grams)
                row.append(i)
            rows.append(row)
        n_grams = len(self.grams)
        new = _csr(rows, n_grams)
        old = _widen(self._term_grams, n_grams) if start else sp.csr_matrix((0, n_grams),
                                                                            dtype=np.float32)
        self._term_grams = sp.vstack([old, new], format="csr")

    def term_ids(self, weights: Mapping[str, float]) -> dict[int, float]:
        """Known terms of a weighted query as ``{term id: weight}`` (unknown terms dropped)."""
        out: dict[int, float] = {}
        for term, w in weights.items():
            i = self.vocab.get(term)
            if i is not None:
                out[i] = out.get(i, 0.0) + w
        return out

    def gram_ids(self, terms: Sequence[str]) -> dict[int, float]:
        out: dict[int, float] = {}
        for g in char_grams(terms, self.ngram):
            i = self.grams.get(g)
            if i is not None:
                out[i] = out.get(i, 0.0) + 1.0
        return out

    def term_counts(self) -> np.ndarray:
        """How often each term occurs over every word field of every document."""
        width = len(self.terms)
        out = np.zeros(width, dtype=np.float64)
        for field in self.fields:
            tf = self.tf(field)
            if tf.nnz:
                out[:tf.shape[1]] += np.bincount(tf.indices, weights=tf.data,
                                                 minlength=tf.shape[1])
        return out.astype(np.int64)

    def doc_freq(self) -> np.ndarray:
        """How many documents hold each term in at least one word field (tombstoned ones
        included)."""
        width = len(self.terms)
        present = None
        for field in self.fields:
            tf = _widen(self.tf(field), width)
            present = tf if present is None else present + tf
        if present is None or not present.nnz:
            return np.zeros(width, dtype=np.int64)
        present = sp.csr_matrix(present)
        present.eliminate_zeros()
        return np.bincount(present.indices, minlength=width).astype(np.int64)

    # ------------------------------------------------------------------ building

    def _field_tf(self, docs: Mapping[str, Sequence[Sequence[str]]], n: int
                  ) -> dict[str, sp.csr_matrix]:
        tf = {}
        for field in self.fields:
            rows = docs.get(field)
            if rows is None:
                rows = [[]] * n
            if len(rows) != n:
                raise DataError(f"field {field!r} has {len(rows)} documents, expected {n}")
            tf[field] = self._ids(rows)
        self._extend_term_grams()
        width = len(self.terms)
        out = {field: _csr(rows, width) for field, rows in tf.items()}
        sources = [out[f] for f in CHAR_SOURCES if f in out]
        if sources:
            out[CHAR_FIELD] = sp.csr_matrix(sum(sources[1:], sources[0]) @ self._term_grams)
        return out

    @property
    def all_fields(self) -> tuple[str, ...]:
        return (*self.fields, CHAR_FIELD) if any(f in self.fields for f in CHAR_SOURCES) \
            else self.fields

    def build(self, docs: Mapping[str, Sequence[Sequence[str]]]) -> None:
        """Index documents given as analyzed terms per field (a fresh base, no delta)."""
        n = len(next(iter(docs.values()))) if docs else 0
        self.fields = tuple(f for f in docs if f != CHAR_FIELD)
        self.vocab, self.terms, self.grams = {}, [], {}
        self._term_grams = sp.csr_matrix((0, 0), dtype=np.float32)
        self.base, self.delta, self.base_stats = {}, {}, {}
        self._set_base(self._field_tf(docs, n))

    def _set_base(self, tfs: dict[str, sp.csr_matrix]) -> None:
        for field, tf in tfs.items():
            n = tf.shape[0]
            avg = float(tf.sum()) / n if n else 0.0
            df = np.bincount(tf.indices, minlength=tf.shape[1])
            idf = _lucene_idf(df, n)
            self.base[field] = _Segment(tf, bm25_matrix(tf, idf, avg, self.k1, self.b))
            self.base_stats[field] = (n, avg)
        self.delta = {}
        self.version += 1

    def _rebuild_delta(self, tfs: dict[str, sp.csr_matrix]) -> None:
        """Score the delta with the collection statistics of base + delta."""
        for field, tf in tfs.items():
            base = self.base[field]
            n_base, avg = self.base_stats[field]
            width = tf.shape[1]
            df = np.bincount(tf.indices, minlength=width)
            df[:base.tf.shape[1]] += np.bincount(base.tf.indices, minlength=base.tf.shape[1])
            idf = _lucene_idf(df, n_base + tf.shape[0])
            self.delta[field] = _Segment(tf, bm25_matrix(tf, idf, avg, self.k1, self.b))
        self.version += 1

    def add(self, docs: Mapping[str, Sequence[Sequence[str]]]) -> None:
        """Append documents (positions ``n_docs, n_docs + 1, …``) to the delta segment."""
        if not self.fields:
            raise DataError("build the index before adding to it")
        n = len(next(iter(docs.values()))) if docs else 0
        new = self._field_tf(docs, n)
        width = len(self.terms)
        grams = len(self.grams)
        merged = {}
        for field, tf in new.items():
            cols = grams if field == CHAR_FIELD else width
            old = self.delta.get(field)
            parts = [_widen(old.tf, cols)] if old is not None else []
            merged[field] = sp.vstack([*parts, _widen(tf, cols)], format="csr")
        self._rebuild_delta(merged)

    def clear(self, positions: np.ndarray) -> None:
        """Empty the documents at ``positions`` (a removed item stops counting in the delta's
        statistics at once; base statistics catch up at the next :meth:`compact`)."""
        positions = np.asarray(positions, dtype=np.int64)
        n_base = self.base_docs
        in_delta = positions[positions >= n_base] - n_base
        if not len(in_delta) or not self.delta:
            return
        keep = np.ones(self.delta_docs, dtype=np.float32)
        keep[in_delta] = 0
        cleared = {}
        for field, seg in self.delta.items():
            tf = sp.csr_matrix(sp.diags(keep) @ seg.tf)
            tf.eliminate_zeros()
            cleared[field] = tf
        self._rebuild_delta(cleared)

    def compact(self, alive: np.ndarray) -> None:
        """Fold base and delta into one base holding only the ``alive`` documents."""
        alive = np.asarray(alive, dtype=bool)
        tfs = {}
        for field in self.all_fields:
            tf = self.tf(field)
            tfs[field] = tf[alive]
        self._set_base(tfs)

    # ------------------------------------------------------------------ queries

    @property
    def base_docs(self) -> int:
        seg = next(iter(self.base.values()), None)
        return seg.n_docs if seg is not None else 0

    @property
    def delta_docs(self) -> int:
        seg = next(iter(self.delta.values()), None)
        return seg.n_docs if seg is not None else 0

    @property
    def n_docs(self) -> int:
        return self.base_docs + self.delta_docs

    def needs_compaction(self) -> bool:
        return self.delta_docs > max(1000, self.merge_ratio * self.base_docs)

    def tf(self, field: str) -> sp.csr_matrix:
        """Term (or n-gram) counts of every document in ``field``, base and delta stacked."""
        base = self.base[field].tf
        delta = self.delta.get(field)
        if delta is None:
            return base
        width = delta.tf.shape[1]
        return sp.vstack([_widen(base, width), delta.tf], format="csr")

    def field_scores(self, field: str, ids: Mapping[int, float], counts: bool = False):
        """BM25 of one field for every document, query terms weighted (a synonym counts less).

        With ``counts=True`` also returns how many of the query's terms each document holds.
        """
        out = np.zeros(self.n_docs, dtype=np.float64)
        hits = np.zeros(self.n_docs, dtype=np.float64) if counts else None
        offset = 0
        for seg in (self.base.get(field), self.delta.get(field)) if ids else ():
            if seg is None:
                continue
            m = seg.scores
            idx, vals = [], []
            for t, w in ids.items():
                if t < m.shape[1]:
                    a, z = m.indptr[t], m.indptr[t + 1]
                    if z > a:
                        idx.append(m.indices[a:z])
                        vals.append(m.data[a:z] * w)
            if idx:
                docs = np.concatenate(idx)
                end = offset + seg.n_docs
                out[offset:end] += np.bincount(docs, weights=np.concatenate(vals),
                                               minlength=seg.n_docs)
                if counts:
                    hits[offset:end] += np.bincount(docs, minlength=seg.n_docs)
            offset += seg.n_docs
        return (out, hits) if counts else out

    def is_empty(self, field: str) -> bool:
        """No document has any term in ``field`` (e.g. a catalog without descriptions)."""
        return all(seg.tf.nnz == 0 for seg in (self.base.get(field), self.delta.get(field))
                   if seg is not None)

    def postings(self, field: str, term: int) -> np.ndarray:
        """Positions of the documents holding ``term`` in ``field``."""
        parts, offset = [], 0
        for seg in (self.base.get(field), self.delta.get(field)):
            if seg is None:
                continue
            m = seg.scores
            if term < m.shape[1]:
                parts.append(m.indices[m.indptr[term]:m.indptr[term + 1]] + offset)
            offset += seg.n_docs
        if not parts:
            return np.zeros(0, dtype=np.int64)
        return np.concatenate(parts) if len(parts) > 1 else parts[0]

    def doc_lengths(self, field: str) -> np.ndarray:
        """Number of terms of every document in ``field`` (cached until the index changes)."""
        cached = self._lengths.get(field)
        if cached is None or cached[0] != self.version:
            cached = self._lengths[field] = (self.version,
                                             np.asarray(self.tf(field).sum(axis=1)).ravel())
        return cached[1]

    def rows(self, field: str, positions: np.ndarray) -> sp.csr_matrix:
        """Term counts of the documents at ``positions`` (in that order)."""
        positions = np.asarray(positions, dtype=np.int64)
        base = self.base[field].tf
        delta = self.delta.get(field)
        if delta is None or not len(positions) or positions.max() < base.shape[0]:
            out = base[positions]
            if delta is not None:
                out = _widen(out, delta.tf.shape[1])
            return out
        return self.tf(field)[positions]

    # ------------------------------------------------------------------ persistence

    def to_arrays(self) -> tuple[dict, dict[str, np.ndarray]]:
        meta = {"k1": self.k1, "b": self.b, "ngram": self.ngram, "merge_ratio": self.merge_ratio,
                "fields": list(self.fields), "terms": self.terms,
                "grams": sorted(self.grams, key=self.grams.get),
                "base_stats": {f: list(v) for f, v in self.base_stats.items()},
                "segments": {"base": sorted(self.base), "delta": sorted(self.delta)}}
        arrays = {}
        for name, segs in (("base", self.base), ("delta", self.delta)):
            for field, seg in segs.items():
                for part, m in (("tf", seg.tf), ("scores", seg.scores)):
                    key = f"kw.{name}.{field}.{part}"
                    arrays[key + ".data"] = m.data
                    arrays[key + ".indices"] = m.indices
                    arrays[key + ".indptr"] = m.indptr
                    arrays[key + ".shape"] = np.array(m.shape, dtype=np.int64)
        arrays["kw.term_grams.data"] = self._term_grams.data
        arrays["kw.term_grams.indices"] = self._term_grams.indices
        arrays["kw.term_grams.indptr"] = self._term_grams.indptr
        arrays["kw.term_grams.shape"] = np.array(self._term_grams.shape, dtype=np.int64)
        return meta, arrays

    @classmethod
    def from_arrays(cls, meta: dict, arrays: Mapping[str, np.ndarray]) -> KeywordIndex:
        idx = cls(meta["k1"], meta["b"], meta["ngram"], meta["merge_ratio"])
        idx.fields = tuple(meta["fields"])
        idx.terms = list(meta["terms"])
        idx.vocab = {t: i for i, t in enumerate(idx.terms)}
        idx.grams = {g: i for i, g in enumerate(meta["grams"])}
        idx.base_stats = {f: (int(v[0]), float(v[1])) for f, v in meta["base_stats"].items()}

        def matrix(key: str, kind):
            return kind((arrays[key + ".data"], arrays[key + ".indices"],
                         arrays[key + ".indptr"]), shape=tuple(arrays[key + ".shape"]))

        for name in ("base", "delta"):
            segs = {}
            for field in meta["segments"][name]:
                key = f"kw.{name}.{field}"
                segs[field] = _Segment(matrix(key + ".tf", sp.csr_matrix),
                                       matrix(key + ".scores", sp.csc_matrix))
            setattr(idx, name, segs)
        idx._term_grams = matrix("kw.term_grams", sp.csr_matrix)
        return idx
