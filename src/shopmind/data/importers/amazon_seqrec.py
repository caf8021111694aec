"""The sequential-recommendation text format of S3-Rec / P5 / eSASRec (e.g. Amazon ``Beauty.txt``).

``Beauty.txt``: one line per user, ``user item1 item2 …`` in time order. The file has no times,
so an event's position in its user's line becomes its timestamp (0, 1, 2, … seconds).
``item_text.tsv`` (optional): ``item_id, asin, title, categories`` with a header row.
"""

from __future__ import annotations

import html
from pathlib import Path

import numpy as np
import pandas as pd

from shopmind.data.batch import Batch
from shopmind.data.readers import read_table_file
from shopmind.errors import InputError, SchemaError

__all__ = ["read_amazon_seqrec", "read_seqrec_file"]


def read_seqrec_file(path: str | Path) -> pd.DataFrame:
    """Events (user_id, item_id, ts = position, _line) from a sequence file, checking every token."""
    path = Path(path)
    if not path.is_file():
        raise SchemaError(str(path), None, None, "file not found")
    users, counts, lines, tokens = [], [], [], []
    with path.open(encoding="utf-8") as fh:
        for n, text in enumerate(fh, start=1):
            parts = text.split()
            if not parts:
                continue
            if len(parts) < 2:
                raise InputError(str(path), n, "items",
                                 "a line needs a user id followed by at least one item id")
            users.append(parts[0])
            counts.append(len(parts) - 1)
            lines.append(n)
            tokens.extend(parts[1:])
    counts_arr = np.asarray(counts, dtype=np.int64)
    items = np.asarray(tokens, dtype=object)
    _check_integers(path, np.asarray(users, dtype=object), np.asarray(lines), "user")
    _check_integers(path, items, np.repeat(lines, counts_arr), "items")
    starts = np.repeat(np.cumsum(counts_arr) - counts_arr, counts_arr)
    return pd.DataFrame({
        "user_id": np.repeat(np.asarray(users, dtype=object), counts_arr),
        "item_id": items,
        "ts": (np.arange(len(items)) - starts).astype(float),
        "_line": np.repeat(lines, counts_arr),
    })


def _check_integers(path: Path, values: np.ndarray, lines: np.ndarray, field: str) -> None:
    """Ids in this format are positive integers; anything else means a corrupt line."""
    ok = np.char.isdigit(values.astype(str)) if len(values) else np.zeros(0, bool)
    if not ok.all():
        pos = int(np.flatnonzero(~ok)[0])
        raise InputError(str(path), int(lines[pos]), field,
                         f"{values[pos]!r} is not an integer id")


def read_amazon_seqrec(sequences: str | Path, items: str | Path | None = None,
                       event_type: str = "purchase") -> Batch:
    """Batch of items, users and events from a ``Beauty.txt``-style file (+ ``item_text.tsv``).

    Without an items file, every item id in the sequences becomes a catalog item with no text.
    ``event_type`` is what one position means (Amazon's 5-core files are reviewed purchases).
    """
    events = read_seqrec_file(sequences)
    events["type"] = event_type
    # Position within the user's line identifies the event: re-importing is recognised.
    events["idempotency_key"] = ("seqrec:" + events["user_id"].astype(str) + ":"
                                 + events["ts"].astype(int).astype(str))
    if items is not None:
        raw = read_table_file(items, {"category": "categories"}, fmt="tsv")
        for col in ("item_id", "title"):
            if col not in raw.columns:
                raise SchemaError(str(items), None, col, "required column is missing")
        raw["title"] = raw["title"].map(lambda t: html.unescape(t) if isinstance(t, str) else t)
        if "asin" in raw.columns:
            raw["attributes"] = [{"asin": a} if isinstance(a, str) else None for a in raw["asin"]]
        raw["language"] = "en"
        item_frame = raw[["item_id", "title", "category", "attributes", "language", "_line"]]
    else:
        ids = pd.unique(events["item_id"])
        item_frame = pd.DataFrame({"item_id": ids, "_line": np.arange(1, len(ids) + 1)})
    sources = {"events": str(sequences), "items": str(items or sequences)}
    return Batch.from_frames(sources=sources, items=item_frame, events=events)
