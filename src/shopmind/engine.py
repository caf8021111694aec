"""The orchestrator: trains every capability from the store and keeps the results in the model
directory. The one module (with the API) that knows every capability.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from rich.console import Console
from rich.table import Table

from shopmind.config import Settings
from shopmind.data.store import Store
from shopmind.data.views import build_sequences
from shopmind.errors import DataError
from shopmind.evaluate import evaluate_scores, leave_one_out, seen_matrix

__all__ = ["TrainedModel", "recommender_candidates", "train_recommenders", "evaluate_recommenders",
           "run_demo"]


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


def _candidates(seed: int, models: Sequence[str] | None) -> dict:
    candidates = recommender_candidates(seed)
    if models is None:
        return candidates
    unknown = [m for m in models if m not in candidates]
    if unknown:
        raise DataError(f"unknown recommender {', '.join(map(repr, unknown))}; choose from "
                        f"{', '.join(candidates)}")
    return {name: candidates[name] for name in models}


def _held_out(store: Store):
    """The store's sequences and their leave-one-out split (the engine's one protocol)."""
    seqs = build_sequences(store)
    return seqs, leave_one_out(seqs.first_occurrences())


def _loo_metrics(model, seqs, split, items) -> dict:
    rows = (split.test_target >= 0).nonzero()[0]
    model.fit(split.train, items, valid_targets=split.valid_target)
    model.update_users(split.test_history)
    return evaluate_scores(model.score, rows, split.test_target[rows], seqs.n_items,
                           k=10, exclude=seen_matrix(split.test_history))


def evaluate_recommenders(store: Store, settings: Settings, models: Sequence[str] | None = None,
                          console: Console | None = None) -> dict[str, dict]:
    """Leave-one-out metrics (``PROTOCOL``) of each candidate on the store's events, with its
    fit seconds; nothing is saved."""
    console = console or Console()
    seqs, split = _held_out(store)
    items = store.items_frame()
    out = {}
    for name, model in _candidates(settings.seed, models).items():
        with console.status(f"evaluating recommender {name}"):
            start = time.perf_counter()
            metrics = _loo_metrics(model, seqs, split, items)
            out[name] = {**metrics, "fit_seconds": time.perf_counter() - start}
    return out


def train_recommenders(store: Store, settings: Settings, console: Console | None = None,
                       models: Sequence[str] | None = None) -> list[TrainedModel]:
    """Evaluate each candidate (or those named in ``models``) by leave-one-out on the store's
    events, then refit it on all events and save it under ``model_dir/recommend/``; metrics go
    next to it as JSON."""
    console = console or Console()
    seqs, split = _held_out(store)
    items = store.items_frame()
    out_dir = settings.resolved_model_dir() / "recommend"
    trained = []
    for name, model in _candidates(settings.seed, models).items():
        with console.status(f"training recommender {name}"):
            metrics = _loo_metrics(model, seqs, split, items)
            start = time.perf_counter()
            final = recommender_candidates(settings.seed)[name].fit(seqs, items)
            fit_seconds = time.perf_counter() - start
            path = final.save(out_dir / f"{name}.npz")
            (out_dir / f"{name}.metrics.json").write_text(json.dumps(
                {"metrics": metrics, "protocol": PROTOCOL,
                 "fit_seconds": fit_seconds}, indent=2))
        trained.append(TrainedModel(name, path, metrics, fit_seconds,
                                    extra=_training_curve(model)))
    return trained


def _training_curve(model) -> dict:
    """The per-epoch log (loss, validation ndcg@10) of a model that keeps one — SASRec's
    ``history_log_`` from its validated fit — as ``{"curve": [...]}`` for the registry (the
    dashboard draws it); ``{}`` for models trained in one shot."""
    log = getattr(model, "history_log_", None)
    if not log:
        return {}
    return {"curve": [{k: int(v) if k == "epoch" else round(float(v), 6) for k, v in e.items()}
                      for e in log]}


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
    _train_demo_search_and_reviews(store, console)
    _train_demo_profiles(store, console)
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


def _train_demo_search_and_reviews(store: Store, console: Console) -> None:
    """Search over the demo catalog and the review analyzer, versioned in the registry.

    The demo's search embeds with the hashing encoder (character n-grams, any language): the
    packaged MiniLM is English-only and half the demo is Chinese; on the demo shop (200 users)
    it scored held-out ndcg@10 0.606 against 0.624 for hashing and took ~20× longer to fit.
    """
    from shopmind.engine_search_reviews import train_search_and_reviews

    outcomes = train_search_and_reviews(store, store.settings, encoder="hashing",
                                        reason="shopmind demo", console=console)
    for capability, outcome in outcomes.items():
        shown = ", ".join(f"{k} {v:.3f}" for k, v in (outcome.get("metrics") or {}).items()
                          if isinstance(v, float))
        console.print(f"{capability}: {outcome['status']}"
                      + (f" ({shown})" if shown else "")
                      + (f" — {outcome.get('error') or outcome.get('reason')}"
                         if outcome["status"] in ("failed", "skipped") else ""))


def _train_demo_profiles(store: Store, console: Console) -> None:
    """User profiles and purchase / click propensity, versioned in the registry."""
    from shopmind.engine_profiles import train_profiles_and_propensity

    outcomes = train_profiles_and_propensity(store, store.settings, reason="shopmind demo",
                                             console=console)
    for capability, outcome in outcomes.items():
        metrics = outcome.get("metrics") or {}
        shown = ", ".join(f"{k} {metrics[k]:.3g}" for k in ("auc", "baseline_auc", "ece")
                          if isinstance(metrics.get(k), float))
        console.print(f"{capability}: {outcome['status']}" + (f" ({shown})" if shown else "")
                      + (f" — {outcome.get('error')}" if outcome["status"] == "failed" else ""))
