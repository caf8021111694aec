"""The orchestrator: trains every capability from the store and keeps the results in the model
directory. The one module (with the API) that knows every capability.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path

from rich.console import Console
from rich.table import Table

from shopmind.config import Settings
from shopmind.data.store import Store
from shopmind.data.views import build_sequences
from shopmind.evaluate import evaluate_scores, leave_one_out, seen_matrix

__all__ = ["TrainedModel", "recommender_candidates", "train_recommenders", "run_demo"]


PROTOCOL = "leave-one-out on first occurrences, full ranking, seen excluded"


@dataclass
class TrainedModel:
    name: str
    path: Path
    metrics: dict
    fit_seconds: float
    extra: dict = field(default_factory=dict)


def recommender_candidates(seed: int = 0) -> dict:
    """The recommenders the engine trains, by name (fresh, unfitted estimators)."""
    from shopmind.recommend import ALS, ItemKNN, Popularity

    return {
        "popularity": Popularity(),
        "item-knn": ItemKNN(),
        "als": ALS(seed=seed),
    }


def train_recommenders(store: Store, settings: Settings,
                       console: Console | None = None) -> list[TrainedModel]:
    """Evaluate each candidate by leave-one-out on the store's events, then refit it on all
    events and save it under ``model_dir/recommend/``; metrics go next to it as JSON."""
    console = console or Console()
    seqs = build_sequences(store)
    split = leave_one_out(seqs.first_occurrences())
    rows = (split.test_target >= 0).nonzero()[0]
    out_dir = settings.resolved_model_dir() / "recommend"
    trained = []
    for name, model in recommender_candidates(settings.seed).items():
        with console.status(f"training recommender {name}"):
            model.fit(split.train, store.items_frame(), valid_targets=split.valid_target)
            model.update_users(split.test_history)
            metrics = evaluate_scores(model.score, rows, split.test_target[rows], seqs.n_items,
                                      k=10, exclude=seen_matrix(split.test_history))
            start = time.perf_counter()
            final = recommender_candidates(settings.seed)[name].fit(seqs, store.items_frame())
            fit_seconds = time.perf_counter() - start
            path = final.save(out_dir / f"{name}.npz")
            (out_dir / f"{name}.metrics.json").write_text(json.dumps(
                {"metrics": metrics, "protocol": PROTOCOL,
                 "fit_seconds": fit_seconds}, indent=2))
        trained.append(TrainedModel(name, path, metrics, fit_seconds))
    return trained


def run_demo(store: Store, *, seed: int = 0, n_users: int = 800,
             console: Console | None = None) -> list[TrainedModel]:
    """Generate the demo shop into the store (idempotent), train every capability, report."""
    from shopmind.data.demo import generate_demo_shop

    console = console or Console()
    with console.status("generating the demo shop"):
        shop = generate_demo_shop(seed=seed, n_users=n_users)
        report = store.ingest(shop.batch())
    stats = store.stats()
    console.print(f"[bold]demo shop[/] in {store!r}: {stats['users']:,} users, "
                  f"{stats['items']:,} items, {stats['events']:,} events, "
                  f"{stats['orders']:,} orders, {stats['reviews']:,} reviews "
                  f"({sum(report.inserted.values()):,} rows new)")
    trained = train_recommenders(store, store.settings, console)
    _register_demo_models(store, trained)
    table = Table("recommender", "hr@10", "ndcg@10", "mrr", "fit s", "saved to",
                  title=f"trained on the demo shop ({PROTOCOL})")
    for t in trained:
        table.add_row(t.name, f"{t.metrics['hr@10']:.3f}", f"{t.metrics['ndcg@10']:.3f}",
                      f"{t.metrics['mrr']:.3f}", f"{t.fit_seconds:.1f}", str(t.path))
    console.print(table)
    console.print("next: [bold]shopmind stats[/] for the shop's numbers; "
                  "[bold]shopmind import --help[/] to bring your own data.")
    return trained


def _register_demo_models(store: Store, trained: list[TrainedModel]) -> None:
    """Version the demo's models in the registry (copies), so `shopmind serve` serves the best."""
    from shopmind.live import last_event_id, register_trained, registry_for

    counts = store.counts()
    register_trained(registry_for(store.settings), trained, reason="shopmind demo", move=False,
                     data={"max_event_id": last_event_id(store), "events": counts["events"],
                           "users": counts["users"], "items": counts["items"]})
