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


keys_app = typer.Typer(
    help="API keys of the REST service. A key has scopes: read (recommendations, stats, model "
    "status), ingest (writing data), admin (everything, incl. retraining). Keys are stored "
    "hashed; the key itself is printed once, when it is created.",
    no_args_is_help=True,
)
app.add_typer(keys_app, name="keys")


@keys_app.command("create")
def keys_create(
    scope: Annotated[list[str], typer.Option(
        "--scope", "-s", help="admin, ingest or read (repeatable)")],
    name: Annotated[str | None, typer.Option(help="a label, e.g. who uses it")] = None,
    db: DbOption = None,
) -> None:
    """Create an API key and print it (only this once)."""
    from shopmind.api.auth import KeyStore

    with _friendly_errors():
        token, key = KeyStore(_store(db)).create(scope, name)
    console.print(f"key id {key.key_id}, scopes {', '.join(sorted(key.scopes))}")
    print(token)


@keys_app.command("list")
def keys_list(db: DbOption = None) -> None:
    """The keys (ids, scopes, names; never the keys themselves)."""
    from shopmind.api.auth import KeyStore

    with _friendly_errors():
        keys = KeyStore(_store(db)).list()
    table = Table("key id", "scopes", "name", "created", "revoked", title="API keys")
    for k in keys:
        table.add_row(k.key_id, ", ".join(sorted(k.scopes)), k.name or "", _when(k.created_at),
                      _when(k.revoked_at) if k.revoked_at else "")
    console.print(table)


@keys_app.command("revoke")
def keys_revoke(key_id: Annotated[str, typer.Argument(help="the key id from `keys list`")],
                db: DbOption = None) -> None:
    """Revoke a key: requests with it get 401 from then on (within seconds)."""
    from shopmind.api.auth import KeyStore

    with _friendly_errors():
        KeyStore(_store(db)).revoke(key_id)
    console.print(f"revoked {key_id}")


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="address to bind (default 127.0.0.1, "
                                             "SHOPMIND_API_HOST)")] = None,
    port: Annotated[int | None, typer.Option(help="port (default 8000, SHOPMIND_API_PORT)")
                    ] = None,
    dashboard_key: Annotated[bool, typer.Option(
        help="create an admin key for the dashboard and print a link that carries it")] = False,
    db: DbOption = None,
) -> None:
    """Run the REST service and the dashboard (OpenAPI docs at /docs)."""
    import logging
    import sys

    import uvicorn

    from shopmind.api import create_app
    from shopmind.api.auth import KeyStore
    from shopmind.api.redact import RedactingFilter
    from shopmind.config import get_settings

    settings = get_settings()
    host = host or settings.api_host
    port = port or settings.api_port
    with _friendly_errors():
        store = _store(db)
        application = create_app(settings, store)
        if dashboard_key:
            keys = KeyStore(store)
            keys.revoke_named("dashboard")  # one live dashboard key at a time
            token, _ = keys.create(["admin"], name="dashboard")
            # soft_wrap: a link broken over two lines would carry half a key
            console.print(f"[bold]dashboard:[/] http://{host}:{port}/#key={token}",
                          soft_wrap=True)
    console.print(f"dashboard: http://{host}:{port}/   API docs: http://{host}:{port}/docs",
                  soft_wrap=True)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: "
                        "%(message)s")
    for handler in logging.getLogger().handlers:
        handler.addFilter(RedactingFilter())
    # A thread parsing a large ingest batch gives the GIL back every millisecond rather than
    # every five, so recommendation requests on the event loop wait less behind it.
    sys.setswitchinterval(0.001)
    uvicorn.run(application, host=host, port=port, access_log=False, log_config=None,
                timeout_graceful_shutdown=5)


@app.command()
def search(
    query: Annotated[str, typer.Argument(help="what to search for (Chinese, English or mixed)")],
    user: Annotated[str | None, typer.Option(
        "--user", help="personalise for this user id (from their events in the store)")] = None,
    category: Annotated[str | None, typer.Option(
        help="category path prefix, e.g. 'Electronics' or '数码 > 影音'")] = None,
    brand: Annotated[list[str] | None, typer.Option(help="brand (repeatable)")] = None,
    min_price: Annotated[float | None, typer.Option(help="lowest price")] = None,
    max_price: Annotated[float | None, typer.Option(help="highest price")] = None,
    in_stock: Annotated[bool, typer.Option(help="only items in stock")] = False,
    k: Annotated[int, typer.Option("-k", help="number of results")] = 10,
    encoder: Annotated[str | None, typer.Option(
        help="encoder when fitting on the fly: 'hashing' (fast), the packaged MiniLM name or "
        "a local model directory (default SHOPMIND_ENCODER)")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print JSON instead of a table")] = False,
    db: DbOption = None,
) -> None:
    """Search the catalog: hybrid keyword + semantic ranking, filters, facets, personalisation.

    Uses the search model serving in the registry (`shopmind demo` trains one); without one it
    fits a search on the store's items and search sessions first.
    """
    from shopmind.config import get_settings
    from shopmind.search import ProductSearch
    from shopmind.search.store_io import fit_from_store, user_taste

    with _friendly_errors():
        store = _store(db)
        settings = get_settings()
        ps = None
        try:
            from shopmind.live import registry_for
            from shopmind.registry import ModelRegistry

            # the service's registry (what `shopmind demo` fills), else one at the model dir
            serving = registry_for(settings).serving("search") or \
                ModelRegistry(settings.resolved_model_dir()).serving("search")
            if serving is not None:
                ps = ProductSearch.load(serving.path)
        except (ImportError, OSError, ShopmindError):
            ps = None
        if ps is None:
            with console.status("fitting search on the store (no search model serving)"):
                ps = fit_from_store(store, encoder=encoder or settings.encoder,
                                    cache_dir=settings.data_dir / "cache")
        affinity = None
        if user is not None:
            events = store.read_table("events", ["user_id", "item_id", "type"])
            affinity = user_taste(ps, events, user)
        filters = {"category": category, "brand": brand or None,
                   "price": (min_price, max_price), "in_stock": in_stock}
        res = ps.search(query, k=k, filters=filters, user_affinity=affinity)
    if as_json:
        console.print_json(json.dumps({
            "query": res.query, "corrected": res.corrected, "stage": res.stage,
            "total": res.total, "intent": res.intent, "facets": res.facets,
            "results": [{"item_id": i, "title": t, "score": round(float(s), 4)}
                        for i, t, s in zip(res.item_ids.tolist(), res.titles, res.scores)]},
            ensure_ascii=False, default=str))
        return
    title = f"search: {res.query}" + (f"  (showing results for: {res.corrected})"
                                      if res.corrected else "")
    table = Table("#", "item", "title", "score", title=title)
    for rank, (i, t, s) in enumerate(zip(res.item_ids.tolist(), res.titles, res.scores), 1):
        table.add_row(str(rank), str(i), t, f"{s:.3f}")
    console.print(table)
    intent = ", ".join(f"{c} ({p:.0%})" for c, p in res.intent) or "-"
    console.print(f"{res.total:,} matching items; found by {res.stage}; category intent: {intent}")


reviews_app = typer.Typer(
    help="Review intelligence: sentiment and aspect-level customer needs (quality, logistics, "
    "service, price, packaging, fit, ...) in Chinese and English, and per-product insight. "
    "(Training lives here as `shopmind reviews train`: there is no `shopmind train` group yet.)",
    no_args_is_help=True,
)
app.add_typer(reviews_app, name="reviews")


def _reviews_model_dir(out: Path | None) -> Path:
    from shopmind.config import get_settings

    return out or get_settings().resolved_model_dir() / "reviews" / "analyzer"


def _review_analyzer(model: Path | None):
    """The trained analyzer (``--model`` or the default place), else the lexicon-only one."""
    from shopmind.reviews import ReviewAnalyzer

    path = _reviews_model_dir(model)
    if (path / "analyzer.json").exists():
        return ReviewAnalyzer.load(path)
    if model is not None:
        raise typer.BadParameter(f"no trained review analyzer at {model}")
    from shopmind.config import get_settings
    from shopmind.engine_search_reviews import unpack_analyzer
    from shopmind.live import registry_for

    serving = registry_for(get_settings()).serving("reviews")  # what `shopmind demo` trains
    return unpack_analyzer(serving.path) if serving is not None else ReviewAnalyzer()


@reviews_app.command("train")
def reviews_train(
    out: Annotated[Path | None, typer.Option(
        help="where to save the analyzer (default: <model dir>/reviews/analyzer)")] = None,
    holdout: Annotated[float, typer.Option(help="share of reviews held out to report accuracy")
                       ] = 0.1,
    db: DbOption = None,
) -> None:
    """Train the review analyzer as `shopmind train reviews` does (sentiment from labels, else
    star ratings; the aspect-term model from reviews annotated with aspects; each measured on
    the held-out share, then refitted on all) and save it in a folder instead of the registry."""
    import tempfile

    from shopmind.engine_search_reviews import extract_analyzer, train_reviews

    with _friendly_errors(), tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        with console.status("training the review analyzer"):
            store = _store(db)
            trained = train_reviews(store, store.settings, holdout=holdout, out_dir=tmp)
        if trained is None:
            raise typer.BadParameter("fewer than 20 usable reviews in the store; import reviews "
                                     "with text and a label or rating first")
        path = extract_analyzer(trained.path, _reviews_model_dir(out))
        elapsed = time.perf_counter() - started
        metrics = trained.metrics
        summary = {"held_out_metrics": metrics, "protocol": trained.extra["protocol"],
                   "seconds": round(elapsed, 1), "path": str(path)}
        (path / "metrics.json").write_text(json.dumps(summary, indent=2))
    if "accuracy" in metrics:
        console.print(f"held-out accuracy {metrics['accuracy']:.3f}, macro-F1 "
                      f"{metrics['macro_f1']:.3f} ({metrics['held_out']:,} reviews)")
    if "aspect_model_accuracy" in metrics:
        console.print(f"aspect terms: held-out accuracy {metrics['aspect_model_accuracy']:.3f} "
                      f"by the trained model, {metrics['aspect_lexicon_accuracy']:.3f} by the "
                      f"lexicon ({metrics['aspect_held_out']:,} terms); judged by the "
                      f"{'trained model' if trained.extra['terms_fitted'] else 'lexicon'}")
    if "aspect_mention_f1" in metrics:
        console.print(f"aspect categories: held-out mention F1 {metrics['aspect_mention_f1']:.3f} "
                      f"(precision {metrics['aspect_mention_precision']:.3f}, recall "
                      f"{metrics['aspect_mention_recall']:.3f}); "
                      f"{metrics.get('aspect_categories_detected', 0)} categories detected")
    console.print(f"saved the review analyzer to {path} ({elapsed:.0f} s)")


@reviews_app.command("analyze")
def reviews_analyze(
    texts: Annotated[list[str], typer.Argument(help="one or more reviews (Chinese or English)")],
    model: Annotated[Path | None, typer.Option(
        help="a saved analyzer (default: the trained one, else the lexicon alone)")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print JSON instead of tables")] = False,
    category: Annotated[str | None, typer.Option(
        help="the reviewed product's category, e.g. '手机' or 'Home > Kitchen' (a trained "
        "model reads words in its light)")] = None,
    term: Annotated[list[str] | None, typer.Option(
        help="an aspect term to judge in every review, e.g. 'battery' or '电池', or an aspect "
        "by name, e.g. 'quality' (repeatable): by the aspect model trained on annotated reviews "
        "where it judged them better, else the sentiment of the clause that holds it")] = None,
) -> None:
    """Sentiment and aspect opinions of reviews, each with the words that justify it."""
    with _friendly_errors():
        results = _review_analyzer(model).analyze(
            texts, categories=None if category is None else [category] * len(texts), terms=term)
    if as_json:
        console.print_json(json.dumps([r.to_dict() for r in results], ensure_ascii=False))
        return
    for r in results:
        table = Table("aspect", "polarity", "strength", "evidence", "opinion words",
                      title=f"{r.text}\n{r.polarity} (score {r.score:+.2f})")
        for m in r.aspects:
            table.add_row(m.aspect, m.polarity, f"{m.strength:.2f}", m.evidence,
                          ", ".join(m.opinions))
        for t in r.terms:
            table.add_row(f"term: {t.term}", t.polarity, f"{abs(t.score):.2f}", t.evidence, "")
        console.print(table)


@reviews_app.command("insight")
def reviews_insight(
    item: Annotated[str | None, typer.Option("--item", help="an item id")] = None,
    category: Annotated[str | None, typer.Option(
        help="a category path prefix, e.g. '服装' or 'Electronics > Phones'")] = None,
    model: Annotated[Path | None, typer.Option(help="a saved analyzer (default: the trained "
                                               "one, else the lexicon alone)")] = None,
    period: Annotated[str, typer.Option(help="trend buckets: day, week, month or quarter")
                      ] = "month",
    as_json: Annotated[bool, typer.Option("--json", help="print the whole report as JSON")
                       ] = False,
    db: DbOption = None,
) -> None:
    """What customers praise and complain about for one product or category, how it changes
    over time, and what they need."""
    from shopmind.reviews import ReviewInsights

    if (item is None) == (category is None):
        raise typer.BadParameter("give exactly one of --item or --category")
    with _friendly_errors():
        store = _store(db)
        reviews = store.reviews_frame(with_categories=True)
        if item is not None:
            reviews = reviews[reviews["item_id"] == item]
            scope = {"item_id": item}
        else:
            items = store.items_frame()
            wanted = items.loc[items["category"].fillna("").str.startswith(category), "item_id"]
            reviews = reviews[reviews["item_id"].isin(set(wanted))]
            scope = {"category": category}
        if reviews.empty:
            raise typer.BadParameter(f"no reviews for {scope}")
        report = ReviewInsights(_review_analyzer(model), period=period).build(
            reviews.reset_index(drop=True), scope)
    if as_json:
        console.print_json(ReviewInsights.to_json(report))
        return
    console.print(f"[bold]{scope}[/]: {report['n_reviews']} reviews — {report['summary']}")
    table = Table("aspect", "mentions", "positive", "neutral", "negative", "net",
                  title="aspects")
    for a in report["aspects"]:
        table.add_row(a["label"], str(a["mentions"]), str(a["positive"]), str(a["neutral"]),
                      str(a["negative"]), f"{a['net']:+.2f}")
    console.print(table)
    for kind in ("praises", "complaints"):
        for entry in report[kind]:
            quotes = " / ".join(q["text"] for q in entry["quotes"])
            console.print(f"{kind[:-1]}: {entry['label']} ({entry['share']:.0%} of "
                          f"{entry['mentions']}) — {quotes}")


# fine-tuning and domain pre-training: the command bodies live in shopmind.finetune.commands
def _register_finetune() -> None:
    from shopmind.finetune.commands import finetune_command, pretrain_command

    app.command("finetune")(finetune_command)
    app.command("pretrain")(pretrain_command)


_register_finetune()


# recommendations (train / evaluate recommend, recommend, similar): bodies in shopmind.cli_recommend;
# train search / reviews into the registry: shopmind.cli_train_text
def _register_recommend() -> None:
    from shopmind.cli_recommend import register, train_app
    from shopmind.cli_train_text import register as register_text

    register_text(train_app)
    register(app)


_register_recommend()


if __name__ == "__main__":  # pragma: no cover
    app()
