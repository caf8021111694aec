"""The Store: every table of a shop behind SQLAlchemy Core, SQLite by default, PostgreSQL by URL.

Writes go through :meth:`Store.ingest`, one transaction per batch: a batch is stored whole or not
at all, and re-sending rows that are already stored changes nothing (idempotent ingestion).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

import numpy as np
import pandas as pd
from sqlalchemy import Connection, Engine, create_engine, event, func, inspect, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError, SQLAlchemyError

from shopmind.config import Settings, get_settings
from shopmind.data import schema
from shopmind.data.batch import Batch, IngestReport
from shopmind.data.validate import LINE, is_missing, plain
from shopmind.errors import ConflictError, StoreError, UnknownReferenceError

__all__ = ["Store", "ProgressFn"]

ProgressFn = Callable[[str, int, int], None]
"""Called as ``progress(table, rows_done, rows_total)`` while inserting."""

_KEY_CHUNK = 900  # below SQLite's bound-parameter limit on every supported version
_CONTENT = {
    "items": ["title", "description", "category", "brand", "price", "currency", "stock",
              "attributes", "language"],
    "users": ["attributes"],
    "events": ["user_id", "item_id", "type", "value", "ts", "session_id", "context"],
    "reviews": ["user_id", "item_id", "rating", "text", "ts", "language", "label", "aspects"],
    "orders": ["user_id", "status", "created_at", "updated_at", "shipping_status",
               "payment_status", "currency"],
}
_KEY = {"items": "item_id", "users": "user_id", "events": "idempotency_key",
        "reviews": "review_id", "orders": "order_id"}


def _normalise_url(url: str) -> str:
    """Let users write ``postgresql://``; we drive PostgreSQL with psycopg 3."""
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


class Store:
    """A shop's data.

    >>> import tempfile, pandas as pd
    >>> store = Store(f"sqlite:///{tempfile.mkdtemp()}/shop.db")
    >>> report = store.ingest(Batch.from_frames(
    ...     items=pd.DataFrame({"item_id": ["a", "b"], "title": ["Phone", "Case"]}),
    ...     events=pd.DataFrame({"user_id": ["u1"], "item_id": ["a"], "type": ["view"], "ts": [1.0]})))
    >>> report.inserted
    {'items': 2, 'users': 1, 'events': 1}
    >>> store.counts()["items"]
    2
    """

    def __init__(self, url: str | None = None, *, settings: Settings | None = None,
                 echo: bool = False):
        settings = settings or get_settings()
        self.settings = settings
        self.url = _normalise_url(url or settings.resolved_db_url())
        parsed = make_url(self.url)
        self.dialect = parsed.get_backend_name()
        if self.dialect == "sqlite" and parsed.database not in (None, "", ":memory:"):
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        try:
            self.engine: Engine = create_engine(self.url, echo=echo, future=True)
        except (SQLAlchemyError, ImportError) as exc:
            raise StoreError(f"cannot use the store URL {self._safe_url()}: {exc}") from exc
        if self.dialect == "sqlite":
            event.listen(self.engine, "connect", _sqlite_pragmas)
        try:
            schema.metadata.create_all(self.engine)
            _add_missing_columns(self.engine)
        except OperationalError as exc:
            raise StoreError(
                f"cannot open the store at {self._safe_url()}: {exc.orig}. "
                "Check SHOPMIND_DB_URL and that the database server is running."
            ) from exc

    def _safe_url(self) -> str:
        return make_url(self.url).render_as_string(hide_password=True)

    def __repr__(self) -> str:
        return f"Store({self._safe_url()!r})"

    def close(self) -> None:
        self.engine.dispose()

    # ------------------------------------------------------------------ writes
    def ingest(self, batch: Batch, *, on_conflict: str = "error",
               progress: ProgressFn | None = None) -> IngestReport:
        """Store a validated batch in one transaction.

        Rows already stored with the same content are skipped. A row whose key is stored with
        different content raises :class:`ConflictError` (``on_conflict="error"``, the default for
        imports) or replaces it (``on_conflict="update"``, for catalog and order-status updates;
        events are immutable and always raise). Users referenced by events, reviews or orders
        are created when unknown; an unknown item is an error.
        """
        if on_conflict not in ("error", "update"):
            raise ValueError("on_conflict must be 'error' or 'update'")
        report = IngestReport()
        try:
            with self.engine.begin() as conn:
                self._write_keyed(conn, batch, "items", batch.items, on_conflict, report, progress)
                self._write_users(conn, batch, on_conflict, report, progress)
                self._check_items_exist(conn, batch)
                for entity in ("events", "reviews"):
                    mode = "error" if entity == "events" else on_conflict
                    self._write_keyed(conn, batch, entity, getattr(batch, entity), mode,
                                      report, progress)
                self._write_orders(conn, batch, on_conflict, report, progress)
        except OperationalError as exc:
            raise StoreError(f"the store rejected the write: {exc.orig}") from exc
        return report

    def _existing(self, conn: Connection, entity: str, keys: Sequence[str]) -> pd.DataFrame:
        table = schema.metadata.tables[entity]
        key_col = table.c[_KEY[entity]]
        cols = [key_col] + [table.c[c] for c in _CONTENT[entity]]
        rows: list = []
        for start in range(0, len(keys), _KEY_CHUNK):
            chunk = list(keys[start:start + _KEY_CHUNK])
            rows.extend(conn.execute(select(*cols).where(key_col.in_(chunk))).all())
        return pd.DataFrame(rows, columns=[c.name for c in cols])

    def _write_keyed(self, conn, batch: Batch, entity: str, frame: pd.DataFrame | None,
                     on_conflict: str, report: IngestReport, progress) -> None:
        if frame is None or frame.empty:
            return
        key = _KEY[entity]
        stored = self._existing(conn, entity, frame[key].tolist())
        new, changed, same = _diff(frame, stored, key, _CONTENT[entity])
        if len(changed) and on_conflict == "error":
            row = changed.iloc[0]
            field = row["_field"]
            raise ConflictError(
                batch.source(entity), int(row[LINE]), field,
                f"{key} {row[key]!r} is already stored with {field}={plain(row['_stored'])!r}, "
                f"not {plain(row[field])!r} (use update mode to replace stored rows)",
            )
        table = schema.metadata.tables[entity]
        columns = [key] + _CONTENT[entity]
        if entity in ("items", "users"):
            new = new.assign(created_at=time.time())
            columns = columns + ["created_at"]
        self._insert(conn, entity, _records(new, columns), progress)
        for rec in _records(changed, columns=[key] + _CONTENT[entity]):
            conn.execute(table.update().where(table.c[key] == rec[key]).values(**rec))
        report.add(entity, inserted=len(new), updated=len(changed), unchanged=same)

    def _write_users(self, conn, batch: Batch, on_conflict, report, progress) -> None:
        explicit = batch.users
        self._write_keyed(conn, batch, "users", explicit, on_conflict, report, progress)
        referenced = [f["user_id"] for f in (batch.events, batch.reviews, batch.orders)
                      if f is not None and not f.empty]
        if not referenced:
            return
        ids = pd.unique(pd.concat(referenced, ignore_index=True).dropna())
        if explicit is not None:
            ids = ids[~np.isin(ids, explicit["user_id"].to_numpy())]
        known = set(self._existing(conn, "users", ids.tolist())["user_id"])
        missing = [u for u in ids.tolist() if u not in known]
        now = time.time()
        self._insert(conn, "users",
                     [{"user_id": u, "attributes": None, "created_at": now} for u in missing],
                     progress)
        report.add("users", inserted=len(missing))

    def _check_items_exist(self, conn, batch: Batch) -> None:
        """Every item an event, review or order line names must be stored (or in this batch)."""
        for entity, frame in (("events", batch.events), ("reviews", batch.reviews),
                              ("orders", batch.order_lines)):
            if frame is None or frame.empty:
                continue
            ids = pd.unique(frame["item_id"].dropna())
            known = set(self._existing(conn, "items", ids.tolist())["item_id"])
            missing = np.array([i not in known for i in frame["item_id"]]) & frame[
                "item_id"].notna().to_numpy()
            if missing.any():
                pos = int(np.flatnonzero(missing)[0])
                raise UnknownReferenceError(
                    batch.source(entity), int(frame[LINE].iloc[pos]), "item_id",
                    f"item {frame['item_id'].iloc[pos]!r} is not in the catalog "
                    f"({int(missing.sum())} rows name unknown items); import the items first",
                )

    def _write_orders(self, conn, batch: Batch, on_conflict, report, progress) -> None:
        if batch.orders is None or batch.orders.empty:
            return
        lines = batch.order_lines
        stored_lines = self._order_lines(conn, batch.orders["order_id"].tolist())
        # An order whose lines differ from the stored ones is a changed order too.
        line_cols = ["item_id", "quantity", "unit_price"]
        incoming = lines.groupby("order_id")[line_cols].apply(_line_signature)
        stored_sig = (stored_lines.groupby("order_id")[line_cols].apply(_line_signature)
                      if len(stored_lines) else pd.Series(dtype=object))
        differs = [oid for oid, sig in incoming.items()
                   if oid in stored_sig.index and stored_sig[oid] != sig]
        if differs and on_conflict == "error":
            first = lines[lines["order_id"] == differs[0]].iloc[0]
            raise ConflictError(batch.source("orders"), int(first[LINE]), "item_id",
                                f"order {differs[0]!r} is already stored with other lines "
                                "(use update mode to replace stored orders)")
        self._write_keyed(conn, batch, "orders", batch.orders, on_conflict, report, progress)
        replace = set(differs) | (set(batch.orders["order_id"]) - set(stored_lines["order_id"]))
        if replace:
            ol = schema.order_lines
            ids = list(replace)
            for start in range(0, len(ids), _KEY_CHUNK):
                conn.execute(ol.delete().where(ol.c.order_id.in_(ids[start:start + _KEY_CHUNK])))
            todo = lines[lines["order_id"].isin(replace)]
            self._insert(conn, "order_lines",
                         _records(todo, ["order_id", "line_no"] + line_cols), progress)
            report.add("order_lines", inserted=len(todo))

    def _order_lines(self, conn, order_ids: list[str]) -> pd.DataFrame:
        ol = schema.order_lines
        rows: list = []
        for start in range(0, len(order_ids), _KEY_CHUNK):
            chunk = order_ids[start:start + _KEY_CHUNK]
            rows.extend(conn.execute(
                select(ol.c.order_id, ol.c.line_no, ol.c.item_id, ol.c.quantity, ol.c.unit_price)
                .where(ol.c.order_id.in_(chunk))).all())
        return pd.DataFrame(rows, columns=["order_id", "line_no", "item_id", "quantity",
                                           "unit_price"])

    def _insert(self, conn, table_name: str, records: list[dict], progress) -> None:
        if not records:
            return
        table = schema.metadata.tables[table_name]
        step = self.settings.import_chunk_rows
        for start in range(0, len(records), step):
            conn.execute(table.insert(), records[start:start + step])
            if progress is not None:
                progress(table_name, min(start + step, len(records)), len(records))

    # ------------------------------------------------------------------ reads
    def counts(self) -> dict[str, int]:
        """Row counts per table."""
        with self.engine.connect() as conn:
            return {name: conn.execute(select(func.count()).select_from(t)).scalar_one()
                    for name, t in schema.metadata.tables.items()}

    def stats(self) -> dict:
        """Counts of users, items, events by type, reviews, orders by status, and the date range."""
        ev, od = schema.events, schema.orders
        with self.engine.connect() as conn:
            by_type = dict(conn.execute(
                select(ev.c.type, func.count()).group_by(ev.c.type).order_by(ev.c.type)).all())
            by_status = dict(conn.execute(
                select(od.c.status, func.count()).group_by(od.c.status).order_by(od.c.status)
            ).all())
            first, last = conn.execute(select(func.min(ev.c.ts), func.max(ev.c.ts))).one()
        counts = self.counts()
        return {
            "users": counts["users"],
            "items": counts["items"],
            "events": counts["events"],
            "events_by_type": by_type,
            "reviews": counts["reviews"],
            "orders": counts["orders"],
            "orders_by_status": by_status,
            "first_event": first,
            "last_event": last,
        }

    def read_table(self, name: str, columns: Iterable[str] | None = None,
                   where=None, order_by: Iterable[str] | None = None) -> pd.DataFrame:
        """A whole table (or some columns of it) as a DataFrame."""
        table = schema.metadata.tables[name]
        cols = [table.c[c] for c in columns] if columns else list(table.c)
        stmt = select(*cols)
        if where is not None:
            stmt = stmt.where(where)
        if order_by:
            stmt = stmt.order_by(*[table.c[c] for c in order_by])
        with self.engine.connect() as conn:
            result = conn.execute(stmt)
            return pd.DataFrame(result.all(), columns=list(result.keys()))

    def events_frame(self, types: Iterable[str] | None = None) -> pd.DataFrame:
        """Events with an item, in the order they were stored (ts ties keep arrival order)."""
        ev = schema.events
        where = ev.c.item_id.is_not(None)
        if types is not None:
            where = where & ev.c.type.in_(list(types))
        return self.read_table("events", ["event_id", "user_id", "item_id", "type", "value", "ts",
                                          "session_id"], where=where, order_by=["event_id"])

    def items_frame(self) -> pd.DataFrame:
        return self.read_table("items", order_by=["item_id"])

    def users_frame(self) -> pd.DataFrame:
        return self.read_table("users", order_by=["user_id"])

    def reviews_frame(self, with_categories: bool = False) -> pd.DataFrame:
        """Every review; ``with_categories`` adds the reviewed item's ``category`` (the review
        models read it: a word's polarity can depend on what was bought)."""
        reviews = self.read_table("reviews", order_by=["review_id"])
        if with_categories:
            reviews = reviews.merge(self.read_table("items", ["item_id", "category"]),
                                    on="item_id", how="left")
        return reviews

    def orders_frame(self) -> pd.DataFrame:
        """Order lines joined with their orders, one row per line."""
        lines = self.read_table("order_lines", order_by=["order_id", "line_no"])
        return self.read_table("orders").merge(lines, on="order_id", how="left")

    def ping(self) -> None:
        with self.engine.connect() as conn:
            conn.execute(text("SELECT 1"))


def _sqlite_pragmas(dbapi_conn, _record) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=10000")
    cur.close()


def _add_missing_columns(engine: Engine) -> None:
    """Bring a store made by an older shopmind up to date: the columns added since (all of
    them nullable) are added to its tables, empty; nothing stored is touched."""
    inspector = inspect(engine)
    with engine.begin() as conn:
        for table in schema.metadata.sorted_tables:
            have = {c["name"] for c in inspector.get_columns(table.name)}
            for column in table.columns:
                if column.name not in have:
                    kind = column.type.compile(dialect=engine.dialect)
                    conn.execute(text(f'ALTER TABLE {table.name} ADD COLUMN "{column.name}" {kind}'))


def _records(frame: pd.DataFrame, columns: list[str]) -> list[dict]:
    """Rows as dicts of plain Python values (None for missing), column by column for speed."""
    if frame.empty:
        return []
    lists = []
    for c in columns:
        values = frame[c].astype(object).tolist()
        lists.append([None if is_missing(v) else plain(v) for v in values])
    return [dict(zip(columns, row)) for row in zip(*lists)]


def _diff(frame: pd.DataFrame, stored: pd.DataFrame, key: str, content: list[str]):
    """Split incoming rows into new, changed (with the first differing field) and unchanged."""
    if stored.empty:
        return frame, frame.iloc[0:0].assign(_field=None, _stored=None), 0
    merged = frame.merge(stored, on=key, how="left", suffixes=("", "__stored"), indicator=True)
    is_new = (merged["_merge"] == "left_only").to_numpy()
    differs = np.zeros(len(merged), dtype=bool)
    first_field = np.full(len(merged), None, dtype=object)
    stored_value = np.full(len(merged), None, dtype=object)
    for c in content:
        a, b = merged[c], merged[c + "__stored"]
        same = a.eq(b).fillna(False).to_numpy(dtype=bool) | (a.isna() & b.isna()).to_numpy()
        neq = ~same & ~is_new
        fresh = neq & ~differs
        first_field[fresh] = c
        stored_value[fresh] = b.to_numpy(dtype=object)[fresh]
        differs |= neq
    new = frame[is_new].reset_index(drop=True)
    changed = frame[differs].reset_index(drop=True).assign(
        _field=first_field[differs], _stored=stored_value[differs])
    return new, changed, int((~is_new & ~differs).sum())


def _line_signature(lines: pd.DataFrame) -> tuple:
    return tuple((r[0], int(r[1]), None if is_missing(r[2]) else float(r[2]))
                 for r in lines.itertuples(index=False))
