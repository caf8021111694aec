"""Semantic retrieval: item embeddings in a faiss index, and a fast query-side encoder.

* :class:`VectorIndex` — inner-product search over unit vectors; exhaustive up to
  ``exact_max_items`` items (every vector scored; stored as float16), HNSW above. Items are
  addressed by position; removed items are tombstoned by the caller and filtered here
  (``allowed`` mask), with the index over-fetching so a filter still returns ``k`` results, and
  a brute-force pass over the allowed rows when a filter leaves only a small part of the
  catalog.
* :class:`StaticQueryEncoder` — the sentence encoder distilled into a table of sub-word vectors
  (each sub-word's embedding on its own); a query is the weighted mean of its sub-words' rows.
  Items are still embedded by the full model; queries cost microseconds instead of a transformer
  forward pass, which is what a 20 ms latency budget on two shared cores needs.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import numpy as np

from shopmind.errors import DataError, MissingDependencyError

__all__ = ["VectorIndex", "StaticQueryEncoder"]


def _faiss():
    try:
        import faiss
    except ImportError as exc:  # pragma: no cover - a declared dependency
        raise MissingDependencyError("faiss-cpu", "Semantic search") from exc
    return faiss


class VectorIndex:
    """Unit vectors in faiss; exact below ``exact_max_items``, approximate (HNSW) above.

    >>> v = np.eye(4, dtype=np.float32)
    >>> idx = VectorIndex().build(v)
    >>> scores, pos = idx.search(v[1:2], k=2)
    >>> pos.tolist(), scores[0, 0].item()
    ([[1, 0]], 1.0)
    >>> idx.search(v[1:2], k=1, allowed=np.array([True, False, True, True]))[1].tolist()
    [[0]]
    """

    def __init__(self, exact_max_items: int = 100_000, hnsw_m: int = 32,
                 ef_construction: int = 80, ef_search: int = 128):
        self.exact_max_items = exact_max_items
        self.hnsw_m = hnsw_m
        self.ef_construction = ef_construction
        self.ef_search = ef_search
        self.vectors_ = np.zeros((0, 0), dtype=np.float32)
        self._index = None

    @property
    def exact(self) -> bool:
        return len(self.vectors_) <= self.exact_max_items

    @property
    def dim(self) -> int:
        return self.vectors_.shape[1]

    def _new_index(self, dim: int):
        faiss = _faiss()
        if self.exact:
            # Exhaustive search over vectors stored as float16: the same candidates as float32
            # up to ~1e-3 in cosine, and 5x faster per query (half the memory to stream).
            # Candidate features use the float32 vectors.
            return faiss.IndexScalarQuantizer(dim, faiss.ScalarQuantizer.QT_fp16,
                                              faiss.METRIC_INNER_PRODUCT)
        index = faiss.IndexHNSWFlat(dim, self.hnsw_m, faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = self.ef_construction
        index.hnsw.efSearch = self.ef_search
        return index

    def build(self, vectors: np.ndarray) -> VectorIndex:
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        if vectors.ndim != 2:
            raise DataError(f"item vectors must be 2-D, got shape {vectors.shape}")
        self.vectors_ = vectors
        self._index = self._new_index(vectors.shape[1])
        if len(vectors):
            self._index.add(vectors)
        return self

    def add(self, vectors: np.ndarray) -> None:
        """Append vectors (positions continue after the existing ones); crossing
        ``exact_max_items`` switches to HNSW by rebuilding once."""
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        if len(self.vectors_) and vectors.shape[1] != self.dim:
            raise DataError(f"vectors have {vectors.shape[1]} dimensions, the index {self.dim}")
        was_exact = self.exact
        self.vectors_ = np.concatenate([self.vectors_, vectors]) if len(self.vectors_) \
            else vectors
        if was_exact and not self.exact:
            self.build(self.vectors_)
        elif len(vectors):
            self._index.add(vectors)

    def keep(self, alive: np.ndarray) -> None:
        """Drop the rows not ``alive`` (compaction: positions are renumbered)."""
        self.build(self.vectors_[np.asarray(alive, dtype=bool)])

    def search(self, queries: np.ndarray, k: int, allowed: np.ndarray | None = None
               ) -> tuple[np.ndarray, np.ndarray]:
        """(scores, positions), best first; rows padded with ``-inf`` / ``-1``."""
        queries = np.ascontiguousarray(np.atleast_2d(queries), dtype=np.float32)
        n = len(self.vectors_)
        k = int(min(k, n))
        out_s = np.full((len(queries), max(k, 0)), -np.inf, dtype=np.float32)
        out_p = np.full((len(queries), max(k, 0)), -1, dtype=np.int64)
        if k <= 0:
            return out_s, out_p
        n_allowed = n if allowed is None else int(allowed.sum())
        if n_allowed == 0:
            return out_s, out_p
        if allowed is not None and (n_allowed < 0.2 * n or n_allowed <= 4 * k):
            # A narrow filter: score just the allowed rows (cheaper and exact).
            rows = np.flatnonzero(allowed)
            sims = queries @ self.vectors_[rows].T
            kk = min(k, len(rows))
            part = np.argpartition(-sims, kk - 1, axis=1)[:, :kk]
            part_s = np.take_along_axis(sims, part, axis=1)
            order = np.argsort(-part_s, axis=1, kind="stable")
            out_s[:, :kk] = np.take_along_axis(part_s, order, axis=1)
            out_p[:, :kk] = rows[np.take_along_axis(part, order, axis=1)]
            return out_s, out_p
        fetch = k if allowed is None else min(n, int(np.ceil(k * n / n_allowed * 1.5)) + 8)
        scores, pos = self._faiss_search(queries, fetch)
        for r in range(len(queries)):
            p, s = pos[r], scores[r]
            keep = p >= 0
            if allowed is not None:
                keep &= allowed[np.where(keep, p, 0)]
            p, s = p[keep][:k], s[keep][:k]
            out_s[r, :len(p)] = s
            out_p[r, :len(p)] = p
        return out_s, out_p

    def _faiss_search(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """One query runs on one thread: OpenMP workers spin-waiting on a busy machine made a
        single search 5x slower; batches keep every thread."""
        if len(queries) >= 16:
            return self._index.search(queries, k)
        faiss = _faiss()
        threads = faiss.omp_get_max_threads()
        faiss.omp_set_num_threads(1)
        try:
            return self._index.search(queries, k)
        finally:
            faiss.omp_set_num_threads(threads)

    def similarity(self, query: np.ndarray, positions: np.ndarray) -> np.ndarray:
        """Cosine of one query vector with the items at ``positions``."""
        return self.vectors_[positions] @ np.asarray(query, dtype=np.float32)

    def to_arrays(self) -> tuple[dict, dict[str, np.ndarray]]:
        meta = {"exact_max_items": self.exact_max_items, "hnsw_m": self.hnsw_m,
                "ef_construction": self.ef_construction, "ef_search": self.ef_search}
        arrays = {"vec.vectors": self.vectors_}
        # The index is saved as built (an HNSW graph depends on insertion order and threads),
        # so a reload answers exactly the same.
        arrays["vec.faiss"] = _faiss().serialize_index(self._index)
        return meta, arrays

    @classmethod
    def from_arrays(cls, meta: dict, arrays) -> VectorIndex:
        idx = cls(meta["exact_max_items"], meta["hnsw_m"], meta["ef_construction"],
                  meta["ef_search"])
        idx.vectors_ = np.ascontiguousarray(arrays["vec.vectors"], dtype=np.float32)
        idx._index = _faiss().deserialize_index(arrays["vec.faiss"])
        if not idx.exact:
            idx._index.hnsw.efSearch = idx.ef_search
        return idx


class StaticQueryEncoder:
    """A sentence-transformers encoder distilled into one vector per sub-word token.

    ``table[t]`` is the model's (un-normalised) mean-pooled output for the input
    ``[CLS] t [SEP]``; a text is the weighted mean of its tokens' rows, L2-normalised, with the
    weight ``a / (a + p(t))`` (smooth inverse frequency; ``p`` from the catalog text), so frequent
    filler sub-words count less.
    """

    def __init__(self, sif_a: float = 1e-3):
        self.sif_a = sif_a

    @classmethod
    def distill(cls, encoder, corpus: list[str] | None = None, batch_size: int = 512,
                sif_a: float = 1e-3, cache_dir: str | os.PathLike | None = None,
                token_ids: np.ndarray | None = None) -> StaticQueryEncoder:
        """Build the table from a :class:`~shopmind.text.encoders.SentenceEncoder` (or any object
        with a sentence-transformers model behind ``_loaded()``). The table depends only on the
        model, so with ``cache_dir`` it is computed once per model and read back after.
        ``token_ids`` limits the table to those sub-words (the others stay zero; for tests)."""
        model = encoder._loaded() if hasattr(encoder, "_loaded") else encoder
        tokenizer = model.tokenizer
        cache = None
        if cache_dir is not None and token_ids is None:
            name = hashlib.sha1(str(getattr(encoder, "model", "")).encode()
                                + str(getattr(model, "model_card_data", "")).encode()
                                ).hexdigest()[:12]
            cache = Path(cache_dir) / f"static-query-table-{name}-{tokenizer.vocab_size}.npy"
        if cache is not None and cache.is_file():
            table = np.load(cache, allow_pickle=False)
        else:
            table = cls._table(model, batch_size, token_ids)
            if cache is not None:
                cache.parent.mkdir(parents=True, exist_ok=True)
                np.save(cache, table)
        enc = cls(sif_a)
        enc.tokenizer_ = tokenizer
        enc.table_ = table
        enc.set_frequencies(corpus or [])
        return enc

    @staticmethod
    def _table(model, batch_size: int, token_ids: np.ndarray | None = None) -> np.ndarray:
        import torch

        tokenizer = model.tokenizer
        transformer = model[0].auto_model
        vocab_size = tokenizer.vocab_size
        cls_id, sep_id = tokenizer.cls_token_id, tokenizer.sep_token_id
        if cls_id is None or sep_id is None:
            raise DataError("the static query encoder needs a BERT-style tokenizer ([CLS]/[SEP])")
        table = np.zeros((vocab_size, transformer.config.hidden_size), dtype=np.float32)
        todo = torch.arange(vocab_size) if token_ids is None else \
            torch.as_tensor(np.unique(np.asarray(token_ids, dtype=np.int64)))
        with torch.inference_mode():
            for start in range(0, len(todo), batch_size):
                ids = todo[start:start + batch_size]
                inputs = torch.stack([torch.full_like(ids, cls_id), ids,
                                      torch.full_like(ids, sep_id)], dim=1)
                hidden = transformer(input_ids=inputs,
                                     attention_mask=torch.ones_like(inputs)).last_hidden_state
                table[ids.numpy()] = hidden.mean(dim=1).float().numpy()
        # Stored as float16 in saved searches; rounding here keeps a reload identical.
        return table.astype(np.float16).astype(np.float32)

    @staticmethod
    def tokenizer_of(encoder):
        """Just the tokenizer of a sentence encoder, without loading the whole model."""
        resolve = getattr(encoder, "_resolve", None)
        if resolve is not None:
            try:
                from transformers import AutoTokenizer

                return AutoTokenizer.from_pretrained(str(resolve()))
            except (OSError, ValueError):
                pass
        return encoder._loaded().tokenizer

    def set_frequencies(self, corpus: list[str]) -> None:
        counts = np.ones(len(self.table_), dtype=np.float64)
        if corpus:
            ids = self.tokenizer_(corpus, add_special_tokens=False)["input_ids"]
            flat = np.fromiter((t for row in ids for t in row), dtype=np.int64)
            counts += np.bincount(flat, minlength=len(counts))[:len(counts)]
        p = counts / counts.sum()
        self.weights_ = (self.sif_a / (self.sif_a + p)).astype(np.float32)

    @property
    def dim(self) -> int:
        return self.table_.shape[1]

    def encode(self, texts: list[str], batch_size: int = 0) -> np.ndarray:
        ids = self.tokenizer_([t or "" for t in texts], add_special_tokens=False)["input_ids"]
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for r, row in enumerate(ids):
            if row:
                w = self.weights_[row]
                out[r] = w @ self.table_[row]
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        return out / np.maximum(norms, 1e-12)
