"""Turn raw rows into clean, typed columns, or stop at the first bad value with its location.

Input is a pandas DataFrame whose columns already carry the canonical field names (see
:data:`shopmind.data.schema.ENTITY_FIELDS`) plus a ``_line`` column with the source line number.
Every check is vectorised over the column; only JSON parsing and key hashing touch rows one by one.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Mapping

import numpy as np
import pandas as pd

from shopmind.data.schema import ENTITY_FIELDS, FieldSpec
from shopmind.errors import ConflictError, InputError, SchemaError
from shopmind.text.language import detect_language

__all__ = ["validate_entity", "split_orders", "drop_identical_duplicates", "canonical_json"]

LINE = "_line"


def canonical_json(value: object) -> str:
    """One text per JSON object, so equal content compares equal as text."""
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def _present(raw: pd.Series) -> np.ndarray:
    """True where a value was given (not null and not a blank string)."""
    mask = raw.notna().to_numpy()
    if raw.dtype == object:
        blank = raw.map(lambda v: isinstance(v, str) and not v.strip()).to_numpy(dtype=bool)
        mask &= ~blank
    return mask


def _fail(frame: pd.DataFrame, bad: np.ndarray, source: str, field: str, reason_of) -> None:
    if bad.any():
        pos = int(np.flatnonzero(bad)[0])
        raise InputError(source, int(frame[LINE].iloc[pos]), field, reason_of(pos))


def _as_float(raw: pd.Series, present: np.ndarray, frame, source, spec: FieldSpec) -> np.ndarray:
    if pd.api.types.is_bool_dtype(raw):
        values = np.full(len(raw), np.nan)
    elif pd.api.types.is_numeric_dtype(raw):
        values = raw.to_numpy(dtype=float, na_value=np.nan)
    else:
        values = pd.to_numeric(raw.where(present), errors="coerce").to_numpy(dtype=float)
    bad = present & ~np.isfinite(values)
    _fail(frame, bad, source, spec.name, lambda i: f"{raw.iloc[i]!r} is not a number")
    if spec.kind == "int":
        bad = present & (np.mod(np.nan_to_num(values), 1) != 0)
        _fail(frame, bad, source, spec.name, lambda i: f"{raw.iloc[i]!r} is not a whole number")
    if spec.min_value is not None:
        bad = present & (np.nan_to_num(values, nan=spec.min_value) < spec.min_value)
        _fail(frame, bad, source, spec.name,
              lambda i: f"{values[i]:g} is below the minimum {spec.min_value:g}")
    if spec.max_value is not None:
        bad = present & (np.nan_to_num(values, nan=spec.max_value) > spec.max_value)
        _fail(frame, bad, source, spec.name,
              lambda i: f"{values[i]:g} is above the maximum {spec.max_value:g}")
    return values


def _as_timestamp(raw: pd.Series, present: np.ndarray, frame, source, spec) -> np.ndarray:
    """Seconds since the epoch from numbers (taken as seconds) or ISO-8601 text."""
    if pd.api.types.is_datetime64_any_dtype(raw):
        values = raw.astype("datetime64[ns, UTC]" if raw.dt.tz is None else raw.dtype)
        secs = values.astype("int64").to_numpy() / 1e9
        return np.where(present, secs, np.nan)
    if pd.api.types.is_numeric_dtype(raw) and not pd.api.types.is_bool_dtype(raw):
        secs = raw.to_numpy(dtype=float, na_value=np.nan)
    else:
        text = raw.where(present)
        secs = pd.to_numeric(text, errors="coerce").to_numpy(dtype=float)
        need_parse = present & np.isnan(secs)
        if need_parse.any():
            parsed = pd.to_datetime(
                text[need_parse].astype(str), errors="coerce", utc=True, format="ISO8601"
            )
            ok = parsed.notna().to_numpy()
            idx = np.flatnonzero(need_parse)
            secs[idx[ok]] = parsed[ok].astype("int64").to_numpy() / 1e9
    bad = present & ~np.isfinite(secs)
    _fail(frame, bad, source, spec.name,
          lambda i: f"{raw.iloc[i]!r} is not a timestamp (use ISO-8601 text or epoch seconds)")
    return secs


def _as_json(raw: pd.Series, present: np.ndarray, frame, source, spec) -> np.ndarray:
    out = np.full(len(raw), None, dtype=object)
    for pos in np.flatnonzero(present):
        value = raw.iloc[pos]
        if isinstance(value, str):
            try:
                value = json.loads(value)
            except json.JSONDecodeError as exc:
                raise InputError(source, int(frame[LINE].iloc[pos]), spec.name,
                                 f"is not valid JSON ({exc.msg})") from None
        if not isinstance(value, Mapping):
            raise InputError(source, int(frame[LINE].iloc[pos]), spec.name,
                             f"must be a JSON object, got {type(value).__name__}")
        out[pos] = canonical_json(dict(value)) if value else None
    return out


def _as_text(raw: pd.Series, present: np.ndarray) -> np.ndarray:
    out = np.full(len(raw), None, dtype=object)
    values = raw.to_numpy(dtype=object)
    for pos in np.flatnonzero(present):  # str() of ints from typed readers, e.g. Parquet ids
        v = values[pos]
        if isinstance(v, float) and v.is_integer():
            v = int(v)
        out[pos] = v.strip() if isinstance(v, str) else str(v)
    return out


def validate_entity(frame: pd.DataFrame, entity: str, source: str) -> pd.DataFrame:
    """Check and convert ``frame`` to the canonical columns of ``entity``.

    Raises :class:`SchemaError` for a missing required column and :class:`InputError` for the
    first bad value, naming ``source``, its line and the field.
    """
    specs = ENTITY_FIELDS[entity]
    if LINE not in frame.columns:
        frame = frame.assign(**{LINE: np.arange(1, len(frame) + 1)})
    frame = frame.reset_index(drop=True)
    for spec in specs:
        if spec.required and spec.name not in frame.columns:
            found = ", ".join(c for c in frame.columns if c != LINE) or "none"
            raise SchemaError(source, None, spec.name,
                              f"required column is missing (columns found: {found})")
    out = {LINE: frame[LINE].to_numpy(dtype=np.int64)}
    n = len(frame)
    for spec in specs:
        raw = frame[spec.name] if spec.name in frame.columns else pd.Series([None] * n)
        present = _present(raw) if n else np.zeros(0, dtype=bool)
        if spec.required:
            _fail(frame, ~present, source, spec.name, lambda i: "is required but empty")
        if spec.kind in ("float", "int"):
            values = _as_float(raw, present, frame, source, spec)
            if spec.kind == "int":
                values = pd.array(np.where(present, values, 0).astype(np.int64), dtype="Int64")
                values[~present] = pd.NA
        elif spec.kind == "ts":
            values = _as_timestamp(raw, present, frame, source, spec)
        elif spec.kind == "json":
            values = _as_json(raw, present, frame, source, spec)
        else:
            values = _as_text(raw, present)
            if spec.choices is not None:
                allowed = np.isin(values[present].astype(str), spec.choices)
                bad = np.zeros(n, dtype=bool)
                bad[np.flatnonzero(present)[~allowed]] = True
                _fail(frame, bad, source, spec.name,
                      lambda i: f"{values[i]!r} is not one of {', '.join(spec.choices)}")
        out[spec.name] = values
    clean = pd.DataFrame(out)
    return _complete(clean, entity, source)


def _complete(clean: pd.DataFrame, entity: str, source: str) -> pd.DataFrame:
    """Derived fields: languages, event types, default timestamps, idempotency keys."""
    if entity in ("items", "reviews"):
        text_cols = ["title", "description"] if entity == "items" else ["text"]
        missing = clean["language"].isna().to_numpy()
        if missing.any():
            joined = clean.loc[missing, text_cols].fillna("").agg(" ".join, axis=1)
            clean.loc[missing, "language"] = [detect_language(t) for t in joined]
    if entity == "events":
        types = clean["type"].astype(str).str.lower()
        bad = ~types.str.fullmatch(r"[a-z][a-z0-9_]{0,31}").to_numpy()
        _fail(clean, bad, source, "type",
              lambda i: f"{clean['type'].iloc[i]!r} is not an event type "
              "(lower-case letters, digits and '_', e.g. view, add_to_cart, purchase)")
        clean["type"] = types.to_numpy(dtype=object)
        needs_item = clean["item_id"].isna().to_numpy() & (types != "search").to_numpy()
        _fail(clean, needs_item, source, "item_id",
              lambda i: f"a '{types.iloc[i]}' event needs an item_id")
        no_ts = np.isnan(clean["ts"].to_numpy(dtype=float))
        if no_ts.any():
            clean.loc[no_ts, "ts"] = pd.Timestamp.now(tz="UTC").timestamp()
        _derive_keys(clean, "idempotency_key",
                     ["user_id", "item_id", "type", "value", "ts", "session_id", "context"])
    if entity == "reviews":
        _derive_keys(clean, "review_id", ["user_id", "item_id", "text", "ts"])
        _check_aspects(clean, source)
    return clean


# the analyzer's polarities (shopmind.reviews.POLARITIES), spelt out so that ingestion does not
# import the model package; a test keeps the two the same
ASPECT_POLARITIES = ("positive", "neutral", "negative")
_MAX_TERM = 200


def _check_aspects(clean: pd.DataFrame, source: str) -> None:
    """A review's aspect annotation maps each term (or category) to one of
    :data:`ASPECT_POLARITIES`; stored with stripped terms and lower-case polarities."""
    column = clean["aspects"].to_numpy(dtype=object)
    for pos in np.flatnonzero(pd.notna(column)):
        fixed = {}
        for term, polarity in json.loads(column[pos]).items():
            problem = _aspect_problem(term, polarity)
            if problem:
                raise InputError(source, int(clean[LINE].iloc[pos]), "aspects", problem)
            fixed[term.strip()] = str(polarity).strip().lower()
        column[pos] = canonical_json(fixed)
    clean["aspects"] = column


def _aspect_problem(term: str, polarity: object) -> str | None:
    name = term.strip()
    if not name:
        return "an aspect has an empty name"
    if len(name) > _MAX_TERM:
        return f"the aspect {name[:40]!r}… is longer than {_MAX_TERM} characters"
    if str(polarity).strip().lower() not in ASPECT_POLARITIES:
        return f"the aspect {name!r} has polarity {polarity!r}; use one of {', '.join(ASPECT_POLARITIES)}"
    return None


def _derive_keys(clean: pd.DataFrame, key: str, cols: list[str]) -> None:
    """Fill a missing key from the row's content, so re-sending the same row is recognised."""
    missing = clean[key].isna().to_numpy()
    if missing.any():
        clean.loc[missing, key] = _content_keys(clean.loc[missing, cols])


def _content_keys(rows: pd.DataFrame) -> list[str]:
    rows = rows.astype(object).where(rows.notna(), "").astype(str)
    joined = rows.agg("\x1f".join, axis=1)
    return ["h:" + hashlib.sha1(s.encode()).hexdigest()[:32] for s in joined]


def drop_identical_duplicates(clean: pd.DataFrame, key: list[str], source: str) -> pd.DataFrame:
    """Keep one of each exactly repeated row; a key repeated with other content is an error."""
    content = [c for c in clean.columns if c != LINE]
    dup_key = clean.duplicated(key, keep=False).to_numpy()
    if not dup_key.any():
        return clean
    exact = clean.duplicated(content, keep="first")
    remaining = clean[~exact]
    clash = remaining.duplicated(key, keep=False)
    if clash.any():
        rows = remaining[clash]
        first = rows.iloc[0]
        other = rows[(rows[key] == first[key]).all(axis=1)].iloc[1]
        field = next(c for c in content if not _same(first[c], other[c]))
        raise ConflictError(
            source, int(other[LINE]), field,
            f"{'/'.join(key)} {'/'.join(str(first[k]) for k in key)} appears again with "
            f"different content than on line {int(first[LINE])} "
            f"({plain(first[field])!r} there, {plain(other[field])!r} here)",
        )
    return remaining.reset_index(drop=True)


def plain(v: object) -> object:
    """numpy scalars as Python values, so messages read 29.9 rather than np.float64(29.9)."""
    return v.item() if isinstance(v, np.generic) else v


def is_missing(v: object) -> bool:
    return v is None or v is pd.NA or (isinstance(v, float) and math.isnan(v))


def _same(a: object, b: object) -> bool:
    return is_missing(b) if is_missing(a) else (not is_missing(b) and bool(a == b))


def split_orders(clean: pd.DataFrame, source: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """One row per order line → (orders, order_lines); order fields must agree across lines."""
    order_cols = [LINE, "order_id", "user_id", "status", "created_at", "updated_at",
                  "shipping_status", "payment_status", "currency"]
    orders = drop_identical_duplicates(
        clean[order_cols].drop_duplicates([c for c in order_cols if c != LINE]),
        ["order_id"], source,
    )
    lines = clean[[LINE, "order_id", "item_id", "quantity", "unit_price"]].copy()
    lines.insert(2, "line_no", lines.groupby("order_id").cumcount().to_numpy() + 1)
    return orders.reset_index(drop=True), lines.reset_index(drop=True)
