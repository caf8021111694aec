"""The ``shopmind`` command-line tool.

Every command works on the store named by ``--db`` or ``SHOPMIND_DB_URL`` (default: a SQLite
file under ./shopmind-data). Errors print one readable line and exit with status 2.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from shopmind.errors import ShopmindError

app = typer.Typer(
    help="shopmind: a self-hosted AI engine for online shops.\n\n"
    "Start with `shopmind demo` (generate and train a demo shop), or import your data with "
    "`shopmind import --help`, then look at it with `shopmind stats`.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
import_app = typer.Typer(
    help="Import data into the store. Every import is all-or-nothing and idempotent: "
    "re-importing the same file adds nothing, a bad line stops the import and names the "
    "file, line, field and reason.",
    no_args_is_help=True,
)
app.add_typer(import_app, name="import")
console = Console()
err_console = Console(stderr=True)

DbOption = Annotated[str | None, typer.Option(
    "--db", help="Store URL (sqlite:///path.db or postgresql://user@host/db); "
    "default SHOPMIND_DB_URL or ./shopmind-data/shopmind.db")]
MapOption = Annotated[list[str] | None, typer.Option(
    "--map", "-m", help="FIELD=COLUMN: read our FIELD from the file's COLUMN (repeatable), "
    "e.g. --map text=review --map item_id=sku")]
FormatOption = Annotated[str | None, typer.Option(
    "--format", help="csv, tsv, jsonl or parquet (default: from the file extension)")]


def _store(db: str | None):
    from shopmind.data.store import Store

    return Store(db)


@contextmanager
def _friendly_errors():
    try:
        yield
    except ShopmindError as exc:
        err_console.print(f"[bold red]error:[/] {exc}")
        raise typer.Exit(2) from None


def _ingest(db: str | None, read, update: bool = False) -> None:
    """Read (validate) with a spinner, then store with a progress bar, and print the report."""
    started = time.perf_counter()
    with console.status("reading and validating"):
        batch = read()
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                  TimeElapsedColumn(), console=console, transient=True) as progress:
        bars: dict[str, int] = {}

        def on_progress(table: str, done: int, total: int) -> None:
            if table not in bars:
                bars[table] = progress.add_task(f"storing {table}", total=total)
            progress.update(bars[table], completed=done)

        report = _store(db).ingest(batch, on_conflict="update" if update else "error",
                                   progress=on_progress)
    elapsed = time.perf_counter() - started
    table = Table("table", "inserted", "updated", "unchanged", title="import")
    for name in report.inserted:
        table.add_row(name, f"{report.inserted[name]:,}", f"{report.updated.get(name, 0):,}",
                      f"{report.unchanged.get(name, 0):,}")
    console.print(table)
    console.print(f"done in {elapsed:.1f} s")


@import_app.command("amazon-seqrec")
def import_amazon_seqrec(
    sequences: Annotated[Path, typer.Option(help="Beauty.txt-style file: 'user item item …'")],
    items: Annotated[Path | None, typer.Option(
        help="item_text.tsv: item_id, asin, title, categories")] = None,
    event_type: Annotated[str, typer.Option(help="event type of each position")] = "purchase",
    db: DbOption = None,
) -> None:
    """Import a sequential-recommendation file (Amazon Beauty etc.); positions become timestamps."""
    from shopmind.data.importers import read_amazon_seqrec

    with _friendly_errors():
        _ingest(db, lambda: read_amazon_seqrec(sequences, items, event_type))


@import_app.command("movielens-100k")
def import_movielens(
    directory: Annotated[Path, typer.Argument(help="folder with u.data, u.item, u.user, u.genre")],
    db: DbOption = None,
) -> None:
    """Import MovieLens 100k (movies, users, ratings)."""
    from shopmind.data.importers import read_movielens_100k

    with _friendly_errors():
        _ingest(db, lambda: read_movielens_100k(directory))


@import_app.command("reviews")
def import_reviews(
    file: Annotated[Path, typer.Argument(help="CSV, TSV, JSONL or Parquet file of reviews")],
    map: MapOption = None,
    format: FormatOption = None,
    create_items: Annotated[bool, typer.Option(
        help="add an item for each unknown item id (for labelled corpora without a catalog)")
    ] = False,
    default_item: Annotated[str | None, typer.Option(
        help="item id for every review when the file has no item column")] = None,
    update: Annotated[bool, typer.Option(help="replace stored reviews that changed")] = False,
    db: DbOption = None,
) -> None:
    """Import reviews. Fields: review_id, user_id, item_id, rating, text, ts, language, label.

    Example (online_shopping_10_cats): shopmind import reviews train.csv
    --map text=review --map item_id=cat --create-items
    """
    from shopmind.data.importers import read_reviews_file
    from shopmind.data.readers import parse_mapping

    with _friendly_errors():
        mapping = parse_mapping(map)
        _ingest(db, lambda: read_reviews_file(file, mapping, format, create_items, default_item),
                update)


def _generic(entity: str):
    from shopmind.data.schema import ENTITY_FIELDS

    fields = ", ".join(f.name + ("*" if f.required else "") for f in ENTITY_FIELDS[entity])

    def command(
        file: Annotated[Path, typer.Argument(help="CSV, TSV, JSONL or Parquet file")],
        map: MapOption = None,
        format: FormatOption = None,
        update: Annotated[bool, typer.Option(
            help="replace stored rows whose content changed (default: that is an error)")
        ] = False,
        db: DbOption = None,
    ) -> None:
        from shopmind.data.importers import read_entity_file
        from shopmind.data.readers import parse_mapping

        with _friendly_errors():
            mapping = parse_mapping(map)
            _ingest(db, lambda: read_entity_file(entity, file, mapping, format), update)

    command.__doc__ = f"Import {entity}. Fields (* required): {fields}."
    if entity == "orders":
        command.__doc__ += " One row per order line; order fields repeat on each line."
    return command


for _entity in ("items", "users", "events", "orders"):
    import_app.command(_entity)(_generic(_entity))


def _when(ts: float | None) -> str:
    if ts is None:
        return "-"
    return dt.datetime.fromtimestamp(ts, dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


@app.command()
def stats(
    db: DbOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="print JSON instead of a table")] = False,
) -> None:
    """Counts of users, items, events by type, reviews and orders, and the events' date range."""
    with _friendly_errors():
        s = _store(db).stats()
    if as_json:
        console.print_json(json.dumps(s))
        return
    table = Table("what", "count", title="shop", show_header=False)
    table.add_row("users", f"{s['users']:,}")
    table.add_row("items", f"{s['items']:,}")
    table.add_row("events", f"{s['events']:,}")
    for kind, n in s["events_by_type"].items():
        table.add_row(f"  {kind}", f"{n:,}")
    table.add_row("reviews", f"{s['reviews']:,}")
    table.add_row("orders", f"{s['orders']:,}")
    for status, n in s["orders_by_status"].items():
        table.add_row(f"  {status}", f"{n:,}")
    table.add_row("first event", _when(s["first_event"]))
    table.add_row("last event", _when(s["last_event"]))
    console.print(table)


@app.command()
def demo(
    seed: Annotated[int, typer.Option(help="random seed of the generated shop")] = 0,
    users: Annotated[int, typer.Option(help="number of users")] = 800,
    db: DbOption = None,
) -> None:
    """Generate the bilingual demo shop into the store and train everything on it."""
    from shopmind.engine import run_demo

    with _friendly_errors():
        run_demo(_store(db), seed=seed, n_users=users, console=console)


if __name__ == "__main__":  # pragma: no cover
    app()
