"""Item text for text-aware recommenders: one string per item, encoded once per process.

Encoding a catalog is the slow part of a text-aware fit (a minute for ~10k titles on two
cores), and refits see the same catalog (several seeds, a retrain policy), so the vectors are
kept per (encoder, texts) for the life of the process.
"""

from __future__ import annotations

import hashlib
import html

import numpy as np
import pandas as pd

from shopmind.errors import DataError

__all__ = ["TEXT_COLUMNS", "item_texts", "item_text_vectors"]

TEXT_COLUMNS = ("title", "brand", "category", "categories")
"""Columns joined (in this order, when present) into an item's text."""

_CACHE: dict[tuple[str, str], np.ndarray] = {}
_CACHE_LIMIT = 4


def item_texts(items: pd.DataFrame, item_ids: np.ndarray) -> list[str]:
    """The text of each of ``item_ids`` ('' where an item has none), matched by id as a string
    so that integer ids read from a file meet the string ids of sequences.

    >>> frame = pd.DataFrame({"item_id": [1, 2], "title": ["Red &amp; lipstick", None],
    ...                       "category": ["Makeup", "Nails"]})
    >>> item_texts(frame, np.array(["2", "1", "3"], dtype=object))
    ['Nails', 'Red & lipstick | Makeup', '']
    """
    if "item_id" not in items.columns:
        raise DataError("the items table needs an 'item_id' column")
    columns = [c for c in TEXT_COLUMNS if c in items.columns]
    if not columns:
        raise DataError(f"the items table has no text column; give it one of {TEXT_COLUMNS}")
    parts = items[columns].astype("string").fillna("")
    joined = parts.apply(lambda row: " | ".join(v for v in row if v), axis=1)
    by_id = dict(zip(items["item_id"].astype(str), joined.map(html.unescape)))
    return [by_id.get(str(i), "") for i in item_ids]


def item_text_vectors(items: pd.DataFrame, item_ids: np.ndarray, encoder: str) -> np.ndarray:
    """(len(item_ids) × dim) float32 text vectors, zero rows for items without text."""
    texts = item_texts(items, item_ids)
    key = (encoder, hashlib.sha256("\x00".join(texts).encode()).hexdigest())
    if key not in _CACHE:
        from shopmind.text.encoders import load_encoder

        has_text = np.array([bool(t) for t in texts])
        if not has_text.any():
            raise DataError("no item of the sequences has text in the items table; check "
                            "that its item_id values match the sequences' item ids")
        encoded = load_encoder(encoder).encode([t for t in texts if t])
        vectors = np.zeros((len(texts), encoded.shape[1]), dtype=np.float32)
        vectors[has_text] = encoded
        if len(_CACHE) >= _CACHE_LIMIT:
            _CACHE.pop(next(iter(_CACHE)))
        _CACHE[key] = vectors
    return _CACHE[key]
