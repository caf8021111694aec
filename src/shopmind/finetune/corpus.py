"""Reading training tables and pre-training corpora from files.

A table is CSV, TSV, JSON Lines or Parquet (by extension). A corpus is any number of such
tables (their text column) and plain-text files (one document per non-empty line).
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

import pandas as pd

from shopmind.errors import DataError, SchemaError

__all__ = ["TEXT_COLUMNS", "read_table", "read_corpus", "text_column"]

TEXT_COLUMNS = ("text", "review", "content", "sentence", "comment", "title", "description")
"""Columns tried, in order, when a corpus table's text column is not named."""


def read_table(path: str | os.PathLike) -> pd.DataFrame:
    """A CSV/TSV/JSONL/Parquet file as a DataFrame."""
    path = Path(path)
    if not path.is_file():
        raise DataError(f"no file at {path}")
    suffix = path.suffix.lower()
    try:
        if suffix == ".tsv":
            return pd.read_csv(path, sep="\t")
        if suffix in (".jsonl", ".ndjson"):
            return pd.read_json(path, lines=True)
        if suffix == ".parquet":
            return pd.read_parquet(path)
        return pd.read_csv(path)
    except (ValueError, pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise SchemaError(str(path), None, None, f"cannot be read as a table ({exc})") from exc


def text_column(frame: pd.DataFrame, source: str, name: str | None = None) -> str:
    """``name`` when the table has it, else the first of :data:`TEXT_COLUMNS` it has."""
    if name is not None:
        if name not in frame.columns:
            raise SchemaError(source, None, name, f"no such column; the columns are "
                              f"{', '.join(map(str, frame.columns))}")
        return name
    lower = {str(c).lower().lstrip("\ufeff"): c for c in frame.columns}
    for candidate in TEXT_COLUMNS:
        if candidate in lower:
            return lower[candidate]
    raise SchemaError(source, None, None, f"no text column found (looked for "
                      f"{', '.join(TEXT_COLUMNS)}); name it with --text-col")


def read_corpus(files: Iterable[str | os.PathLike], text_col: str | None = None) -> list[str]:
    """Every non-empty document of ``files``: lines of ``.txt`` files, the text column of
    tables."""
    texts: list[str] = []
    for file in files:
        path = Path(file)
        if path.suffix.lower() in (".txt", ".text", ""):
            if not path.is_file():
                raise DataError(f"no file at {path}")
            lines = path.read_text(encoding="utf-8").splitlines()
            texts += [line.strip() for line in lines if line.strip()]
            continue
        frame = read_table(path)
        column = text_column(frame, str(path), text_col)
        values = frame[column].dropna().astype(str).str.strip()
        texts += values[values != ""].tolist()
    return texts
