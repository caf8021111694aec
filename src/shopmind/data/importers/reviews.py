"""Review files (CSV/TSV/JSONL/Parquet) with a column mapping, e.g. online_shopping_10_cats."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import pandas as pd

from shopmind.data.batch import Batch
from shopmind.data.readers import read_table_file

__all__ = ["read_reviews_file"]


def read_reviews_file(path: str | Path, mapping: Mapping[str, str] | None = None,
                      fmt: str | None = None, create_items: bool = False,
                      default_item: str | None = None) -> Batch:
    """Reviews from a file; ``mapping`` maps our fields (text, item_id, label, rating…) to columns.

    Labelled corpora often have no product id: ``default_item`` files every review under one
    item, and ``create_items`` adds an item (titled by its id) for each item id not yet known,
    e.g. the category column of online_shopping_10_cats mapped to ``item_id``.
    A missing ``review_id`` is derived from the content, so re-importing adds nothing.
    """
    raw = read_table_file(path, mapping, fmt)
    if default_item is not None and "item_id" not in raw.columns:
        raw["item_id"] = default_item
    items = None
    if create_items and "item_id" in raw.columns:
        ids = pd.unique(raw["item_id"].dropna())
        items = pd.DataFrame({"item_id": ids, "title": ids, "category": ids,
                              "_line": range(1, len(ids) + 1)})
    return Batch.from_frames(sources={"reviews": str(path), "items": f"{path} (item ids)"},
                             items=items, reviews=raw)
