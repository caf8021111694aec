"""The recommendation commands of the ``shopmind`` tool: ``train recommend``, ``recommend``,
``similar`` and ``evaluate recommend``. :func:`register` adds them to the app in ``cli.py``.

They use the same library calls as the REST service (:mod:`shopmind.recommend.personal`,
:mod:`shopmind.recommend.lists`), on the model serving in the registry, so a list printed here
is the list the service returns for the same store and rules.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from shopmind.errors import NotFoundError, ShopmindError

__all__ = ["register", "train_app", "evaluate_app"]

console = Console()
err_console = Console(stderr=True)

train_app = typer.Typer(help="Train models from the store and version them in the registry.",
                        no_args_is_help=True)
evaluate_app = typer.Typer(help="Measure models on the store's data, without saving anything.",
                           no_args_is_help=True)

DbOption = Annotated[str | None, typer.Option(
    "--db", help="Store URL (sqlite:///path.db or postgresql://user@host/db); "
    "default SHOPMIND_DB_URL or ./shopmind-data/shopmind.db")]
ModelDirOption = Annotated[Path | None, typer.Option(
    "--model-dir", help="where model versions live (default SHOPMIND_MODEL_DIR or "
    "<data dir>/models)")]
ModelsOption = Annotated[list[str] | None, typer.Option(
    "--models", help="recommenders to use (repeatable or comma-separated): popularity, "
    "item-knn, als (default: all)")]
JsonOption = Annotated[bool, typer.Option("--json", help="print JSON instead of a table")]
K = Annotated[int, typer.Option("-k", "--k", min=1, max=1000, help="how many items")]
InStock = Annotated[bool, typer.Option("--in-stock", help="only items in stock")]
Category = Annotated[str | None, typer.Option(
    help="category path prefix ('Electronics > Phones') or any level's name")]
MinPrice = Annotated[float | None, typer.Option(help="lowest price")]
MaxPrice = Annotated[float | None, typer.Option(help="highest price")]
Pin = Annotated[list[str] | None, typer.Option(
    help="ITEM@POSITION: this item at this place, 1 is the top (repeatable)")]
Boost = Annotated[list[str] | None, typer.Option(
    help="TARGET=FACTOR: multiply the score of an item id or 'category:<name>' (repeatable)")]
Bury = Annotated[list[str] | None, typer.Option(
    help="TARGET: an item id or 'category:<name>' listed only after everything else "
    "(repeatable)")]
Diversity = Annotated[float, typer.Option(
    min=0.0, max=1.0, help="0 (off) to 1: favour items unlike those already listed")]
PerCategory = Annotated[int | None, typer.Option(
    min=1, help="at most this many items of one category at the top")]


def _fail(message: str) -> typer.Exit:
    err_console.print(f"[bold red]error:[/] {message}", soft_wrap=True)
    return typer.Exit(2)


def _names(models: list[str] | None) -> list[str] | None:
    if not models:
        return None
    return [m.strip() for text in models for m in text.split(",") if m.strip()]


def _open(db: str | None, model_dir: Path | None):
    """The store and settings (with ``--model-dir`` applied)."""
    from shopmind.data.store import Store

    store = Store(db)
    settings = store.settings
    if model_dir is not None:
        settings = settings.model_copy(update={"model_dir": model_dir})
    return store, settings


def _rules(in_stock, min_price, max_price, category, pin, boost, bury, diversity, per_category):
    from shopmind.recommend.rules import Rules

    return Rules.parse(pin=pin or (), boost=boost or (), bury=bury or (), in_stock=in_stock,
                       min_price=min_price, max_price=max_price, category=category,
                       diversity=diversity, max_per_category=per_category)


# --------------------------------------------------------------------------- training


def train_recommend(models: ModelsOption = None, db: DbOption = None,
                    model_dir: ModelDirOption = None, as_json: JsonOption = False) -> None:
    """Train recommenders on the store's events: each is measured by leave-one-out, refit on
    everything and added to the registry as a new version; the best serves if it is not worse
    than the serving version."""
    from shopmind.engine import PROTOCOL, train_recommenders
    from shopmind.live import CAPABILITY, registry_for, retrain

    try:
        store, settings = _open(db, model_dir)
        registry = registry_for(settings)
        names = _names(models)
        outcome = retrain(store, settings, registry=registry, reason="shopmind train recommend",
                          console=console, trainer=partial(train_recommenders, models=names))
    except ShopmindError as exc:
        raise _fail(str(exc)) from None
    if outcome["status"] == "failed":
        raise _fail(f"training failed: {outcome['error']}")
    versions = [registry.get(CAPABILITY, v) for v in outcome["versions"]]
    if as_json:
        print(json.dumps({**{k: v for k, v in outcome.items() if k != "traceback"},
                          "models": [v.as_dict() for v in versions]}, default=str))
        return
    table = Table("version", "model", "hr@10", "ndcg@10", "mrr", "fit s", "serving",
                  title=f"recommenders trained ({PROTOCOL})")
    serving = outcome["serving"]
    for v in versions:
        table.add_row(str(v.version), v.model, f"{v.metrics['hr@10']:.4f}",
                      f"{v.metrics['ndcg@10']:.4f}", f"{v.metrics['mrr']:.4f}",
                      f"{v.fit_seconds:.1f}", "yes" if v.version == serving else "")
    console.print(table)
    console.print(f"{outcome['status']}: {outcome['decision']}")


def evaluate_recommend(models: ModelsOption = None, db: DbOption = None,
                       as_json: JsonOption = False) -> None:
    """Leave-one-out evaluation of the recommenders on the store's events (full ranking over
    every item, items the user already touched excluded); nothing is saved."""
    from shopmind.engine import PROTOCOL, evaluate_recommenders

    try:
        store, settings = _open(db, None)
        results = evaluate_recommenders(store, settings, _names(models), console)
    except ShopmindError as exc:
        raise _fail(str(exc)) from None
    if as_json:
        print(json.dumps({"protocol": PROTOCOL, "results": results}))
        return
    table = Table("model", "hr@10", "ndcg@10", "mrr", "users", "fit s",
                  title=f"recommenders on the store ({PROTOCOL})")
    for name, m in results.items():
        table.add_row(name, f"{m['hr@10']:.4f}", f"{m['ndcg@10']:.4f}", f"{m['mrr']:.4f}",
                      str(m.get("n", "")), f"{m['fit_seconds']:.1f}")
    console.print(table)


# --------------------------------------------------------------------------- serving


@dataclass
class _Serving:
    store: object
    live: object  # shopmind.live.LiveRecommender
    catalog: object  # ItemCatalog aligned to the model's items
    all_items: object  # ItemCatalog of the whole shop


def _serving(db: str | None, model_dir: Path | None) -> _Serving:
    """The serving recommender with the events stored since it was trained (as the service
    sees them), and the catalog."""
    from shopmind.data import schema
    from shopmind.live import CAPABILITY, LiveRecommender, registry_for
    from shopmind.recommend import Recommender
    from shopmind.recommend.catalog import ItemCatalog

    store, settings = _open(db, model_dir)
    version = registry_for(settings).serving(CAPABILITY)
    if version is None:
        raise _fail(f"no recommender is serving in {settings.resolved_model_dir()}; run "
                    f"`shopmind train recommend` (or `shopmind demo`) first")
    live = LiveRecommender(Recommender.load(version.path), version)
    seen = int(version.data.get("max_event_id", 0))
    newer = store.read_table("events", ["user_id", "item_id", "type", "ts"],
                             where=(schema.events.c.event_id > seen)
                             & schema.events.c.item_id.is_not(None),
                             order_by=["event_id"])
    live.observe(newer["user_id"], newer["item_id"], newer["type"], newer["ts"])
    everything = ItemCatalog.from_frame(store.items_frame())
    return _Serving(store, live, everything.align(live.item_ids), everything)


def _popular(s: _Serving, rules, k: int, note: str, exclude=()):
    from shopmind.recommend.lists import trending_list
    from shopmind.recommend.trending import trending

    events = s.store.read_table("events", ["item_id", "type", "ts"])
    return trending_list(trending(events, 7.0), s.all_items, rules, k, exclude, 7.0, note)


def _show(picks, all_items, title: str, as_json: bool, header: dict) -> None:
    rows = []
    for item_id, score, reason in zip(picks.item_ids.tolist(), picks.scores.tolist(),
                                      picks.reasons):
        i = all_items.position(item_id)
        row = all_items.row(i) if i is not None else {"item_id": item_id}
        rows.append({**row, "score": round(float(score), 6),
                     "reason": reason.text(all_items.title), "because": reason.as_dict()})
    if as_json:
        print(json.dumps({**header, "items": rows}, ensure_ascii=False, default=str))
        return
    table = Table("#", "item", "title", "price", "score", "reason", title=title)
    for rank, r in enumerate(rows, 1):
        price = "" if r.get("price") is None else f"{r['price']:g}"
        table.add_row(str(rank), str(r["item_id"]), r.get("title") or "", price,
                      f"{r['score']:.4f}", r["reason"])
    console.print(table)


def recommend(
    user: Annotated[str, typer.Option("--user", help="the shop's user id")],
    k: K = 10, in_stock: InStock = False, category: Category = None,
    min_price: MinPrice = None, max_price: MaxPrice = None, pin: Pin = None,
    boost: Boost = None, bury: Bury = None, diversity: Diversity = 0.0,
    max_per_category: PerCategory = None,
    include_seen: Annotated[bool, typer.Option(
        "--include-seen", help="also items the user already interacted with")] = False,
    db: DbOption = None, model_dir: ModelDirOption = None, as_json: JsonOption = False,
) -> None:
    """Items for one user from the serving recommender, each with its score and the reason
    (the item of their history that drives it). Unknown users get trending items."""
    from shopmind.recommend.personal import for_you

    try:
        rules = _rules(in_stock, min_price, max_price, category, pin, boost, bury, diversity,
                       max_per_category)
        s = _serving(db, model_dir)
        history, types, _ = s.live.history(user)
        fallback = len(history) == 0
        if fallback:
            picks = _popular(s, rules, k, "popular right now — no activity of this user yet")
        else:
            picks = for_you(s.live, s.catalog, history, types, rules, k, not include_seen)
    except ShopmindError as exc:
        raise _fail(str(exc)) from None
    v = s.live.version
    _show(picks, s.all_items, f"for {user} (model {v.model} v{v.version})", as_json,
          {"user_id": user, "model": {"name": v.model, "version": v.version},
           "fallback": fallback})


def similar(
    item: Annotated[str, typer.Option("--item", help="the shop's item id")],
    k: K = 10, in_stock: InStock = False, category: Category = None,
    min_price: MinPrice = None, max_price: MaxPrice = None, pin: Pin = None,
    boost: Boost = None, bury: Bury = None, diversity: Diversity = 0.0,
    max_per_category: PerCategory = None,
    db: DbOption = None, model_dir: ModelDirOption = None, as_json: JsonOption = False,
) -> None:
    """Items most similar to one item in the serving recommender's item similarity. An item
    newer than the model gets the trending items of its category."""
    from shopmind.recommend.personal import similar as similar_items

    try:
        rules = _rules(in_stock, min_price, max_price, category, pin, boost, bury, diversity,
                       max_per_category)
        s = _serving(db, model_dir)
        where = s.all_items.position(item)
        if where is None:
            raise NotFoundError(f"unknown item {item!r}; `shopmind stats` shows what the store "
                                f"holds")
        index = s.live.item_index(item)
        fallback = index is None
        if fallback:
            scoped = rules.with_category(rules.category or s.all_items.categories[where])
            picks = _popular(s, scoped, k, "popular in the same category (this item is newer "
                             "than the model)", exclude=[item])
        else:
            picks = similar_items(s.live, s.catalog, index, rules, k)
    except ShopmindError as exc:
        raise _fail(str(exc)) from None
    v = s.live.version
    _show(picks, s.all_items, f"similar to {s.all_items.title(item)} (model {v.model} "
          f"v{v.version})", as_json,
          {"item_id": item, "model": {"name": v.model, "version": v.version},
           "fallback": fallback})


def register(app: typer.Typer) -> None:
    """Add the commands to the ``shopmind`` app."""
    train_app.command("recommend")(train_recommend)
    evaluate_app.command("recommend")(evaluate_recommend)
    app.add_typer(train_app, name="train")
    app.add_typer(evaluate_app, name="evaluate")
    app.command("recommend")(recommend)
    app.command("similar")(similar)

