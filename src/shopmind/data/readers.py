"""Read CSV, JSONL or Parquet into a raw frame with canonical column names and line numbers.

Nothing here judges values; :mod:`shopmind.data.validate` does. A reader only maps the user's
column names to ours (``mapping``: our field → their column) and records each row's line.
"""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Mapping
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from shopmind.data.validate import LINE
from shopmind.errors import InputError, SchemaError

__all__ = ["read_table_file", "parse_mapping", "FORMATS"]

FORMATS = ("csv", "tsv", "jsonl", "parquet")


def parse_mapping(pairs: list[str] | None) -> dict[str, str]:
    """``["item_id=sku", "title=name"]`` → ``{"item_id": "sku", "title": "name"}``.

    >>> parse_mapping(["item_id=sku", "title = name"])
    {'item_id': 'sku', 'title': 'name'}
    """
    mapping: dict[str, str] = {}
    for pair in pairs or []:
        if "=" not in pair:
            raise SchemaError("--map", None, None,
                              f"{pair!r} is not FIELD=COLUMN (e.g. --map item_id=sku)")
        ours, theirs = (p.strip() for p in pair.split("=", 1))
        mapping[ours] = theirs
    return mapping


def _format_of(path: Path, fmt: str | None) -> str:
    if fmt:
        return fmt
    suffix = path.suffix.lower().lstrip(".")
    if suffix in ("jsonl", "ndjson", "json"):
        return "jsonl"
    if suffix in FORMATS:
        return suffix
    raise SchemaError(str(path), None, None,
                      f"cannot tell the format from '{path.suffix}'; pass one of {FORMATS}")


def _read_csv(path: Path, delimiter: str) -> pd.DataFrame:
    # Every column as text: types are decided by validation, which can then name the bad line.
    with path.open(encoding="utf-8", errors="replace", newline="") as fh:
        header = next(csv.reader([fh.readline()], delimiter=delimiter), [])
    try:
        table = pacsv.read_csv(
            path,
            parse_options=pacsv.ParseOptions(delimiter=delimiter, newlines_in_values=True),
            convert_options=pacsv.ConvertOptions(
                column_types={c: pa.string() for c in header}, strings_can_be_null=True),
        )
    except pa.ArrowInvalid as exc:
        raise InputError(str(path), _line_of(str(exc)), None, f"malformed CSV ({exc})") from None
    frame = table.to_pandas()
    frame[LINE] = range(2, len(frame) + 2)  # line 1 is the header
    return frame


def _line_of(message: str) -> int | None:
    """pyarrow says 'Row #N' (1-based, header included) for the row it could not parse."""
    m = re.search(r"[Rr]ow #(\d+)", message)
    return int(m.group(1)) if m else None


def _read_jsonl(path: Path) -> pd.DataFrame:
    rows, lines = [], []
    with path.open(encoding="utf-8") as fh:
        for n, text in enumerate(fh, start=1):
            if not text.strip():
                continue
            try:
                row = json.loads(text)
            except json.JSONDecodeError as exc:
                raise InputError(str(path), n, None, f"malformed JSON ({exc.msg})") from None
            if not isinstance(row, dict):
                raise InputError(str(path), n, None, "each line must be a JSON object")
            rows.append(row)
            lines.append(n)
    frame = pd.DataFrame(rows)
    frame[LINE] = lines
    return frame


def read_table_file(path: str | Path, mapping: Mapping[str, str] | None = None,
                    fmt: str | None = None) -> pd.DataFrame:
    """Read a file into a frame whose columns are our field names plus ``_line``.

    Columns named in ``mapping`` are renamed to our names; other columns keep their names
    (so a file that already uses our names needs no mapping). A mapped column that the file
    does not have is an error naming the columns it does have.
    """
    path = Path(path)
    if not path.is_file():
        raise SchemaError(str(path), None, None, "file not found")
    kind = _format_of(path, fmt)
    if kind == "csv":
        frame = _read_csv(path, ",")
    elif kind == "tsv":
        frame = _read_csv(path, "\t")
    elif kind == "jsonl":
        frame = _read_jsonl(path)
    else:
        frame = pq.read_table(path).to_pandas()
        frame[LINE] = range(1, len(frame) + 1)  # Parquet has rows, not lines: row number
    mapping = dict(mapping or {})
    missing = [col for col in mapping.values() if col not in frame.columns]
    if missing:
        found = ", ".join(c for c in frame.columns if c != LINE)
        field = next(k for k, v in mapping.items() if v == missing[0])
        raise SchemaError(str(path), None, field,
                          f"mapped column '{missing[0]}' is not in the file (columns: {found})")
    return frame.rename(columns={theirs: ours for ours, theirs in mapping.items()})
