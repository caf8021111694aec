"""Any entity (items, users, events, reviews, orders) from CSV, TSV, JSONL or Parquet."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from shopmind.data.batch import Batch
from shopmind.data.readers import read_table_file
from shopmind.data.schema import ENTITY_FIELDS

__all__ = ["read_entity_file", "ENTITIES"]

ENTITIES = tuple(ENTITY_FIELDS)


def read_entity_file(entity: str, path: str | Path, mapping: Mapping[str, str] | None = None,
                     fmt: str | None = None) -> Batch:
    """A validated batch of one entity from a file; ``mapping`` is our field → their column.

    Orders come one row per order line (order columns repeated on each line).
    """
    if entity not in ENTITIES:
        raise ValueError(f"entity must be one of {', '.join(ENTITIES)}, not {entity!r}")
    frame = read_table_file(path, mapping, fmt)
    return Batch.from_frames(sources={entity: str(path)}, **{entity: frame})
