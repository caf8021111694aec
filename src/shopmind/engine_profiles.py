"""Training user profiles and propensity models from a shop's store, versioned in the registry.

Three capabilities, each with its own serving version:

* ``profiles`` — :class:`~shopmind.recommend.profiles.UserProfiles` (embeddings, tags,
  segments). A profile describes the shop as it is now, so the newest build always serves.
* ``propensity-purchase`` and ``propensity-click`` —
  :class:`~shopmind.recommend.propensity.Propensity` for each target. Each is first measured
  on a temporal split (fit before a cut, score the horizon after it) next to a popularity-only
  model in the same run, then refitted on every event; it serves when its ROC-AUC beats the
  popularity-only one (a model that learned nothing beyond popularity is not worth serving).
"""

from __future__ import annotations

import shutil
import tempfile
import time
import uuid
from pathlib import Path

from shopmind.config import Settings
from shopmind.registry import ModelRegistry

__all__ = ["PROFILES", "PROPENSITY", "train_profiles", "train_propensity",
           "train_profiles_and_propensity"]

PROFILES = "profiles"
PROPENSITY = {"purchase": "propensity-purchase", "click": "propensity-click"}
"""Propensity target -> registry capability."""
POPULARITY_FEATURES = ("i_events", "i_purchases")


def _record(registry: ModelRegistry, capability: str, version, promoted: bool, reason: str,
            decision: str, run_id: str) -> dict:
    outcome = {"run_id": run_id, "status": "promoted" if promoted else "kept",
               "reason": reason, "decision": decision, "versions": [version.version],
               "metrics": version.metrics, "serving": registry.serving_version(capability),
               "finished_at": time.time()}
    registry.record_run(capability, outcome)
    registry.prune(capability)
    return outcome


def train_profiles(events, items, folder: Path, registry: ModelRegistry, *, seed: int = 0,
                   reason: str = "", run_id: str = "") -> dict:
    """Build and serve user profiles."""
    from shopmind.recommend.profiles import UserProfiles

    start = time.perf_counter()
    profiles = UserProfiles(seed=seed).fit(events, items)
    seconds = time.perf_counter() - start
    path = profiles.save(folder / "profiles.npz")
    metrics = {"users": len(profiles.user_ids_), "segments": len(profiles.centers_)}
    version = registry.add(PROFILES, "user-profiles", path, metrics, fit_seconds=seconds,
                           protocol="descriptive (no held-out metric)", run_id=run_id)
    registry.promote(PROFILES, version.version, reason or "newest profiles")
    return _record(registry, PROFILES, version, True, reason, "the newest profiles serve",
                   run_id)


def train_propensity(events, items, folder: Path, registry: ModelRegistry, target: str, *,
                     seed: int = 0, reason: str = "", run_id: str = "") -> dict:
    """Measure, refit and (if it beats popularity) serve the propensity model of ``target``."""
    from shopmind.recommend.propensity import Propensity, temporal_evaluation

    capability = PROPENSITY[target]
    measured = temporal_evaluation(Propensity(target=target, seed=seed), events, items)
    baseline = temporal_evaluation(Propensity(target=target, seed=seed,
                                              features=POPULARITY_FEATURES), events, items)
    start = time.perf_counter()
    model = Propensity(target=target, seed=seed).fit(events, items)
    seconds = time.perf_counter() - start
    path = model.save(folder / f"{capability}.npz")
    metrics = {"auc": measured["auc"], "ece": measured["ece"], "log_loss": measured["log_loss"],
               "positive_rate": measured["positive_rate"], "pairs": measured["pairs"],
               "baseline_auc": baseline["auc"], "baseline_log_loss": baseline["log_loss"]}
    protocol = (f"temporal split: fit before the last {model.horizon_days:g} days, score "
                f"candidate pairs against the {target} events in them")
    version = registry.add(capability, f"propensity-{target}", path, metrics,
                           fit_seconds=seconds, protocol=protocol, run_id=run_id)
    promoted = measured["auc"] > baseline["auc"]
    decision = (f"auc {measured['auc']:.4f} "
                f"{'>' if promoted else '<='} popularity-only {baseline['auc']:.4f}")
    if promoted:
        registry.promote(capability, version.version, decision)
    return _record(registry, capability, version, promoted, reason, decision, run_id)


def train_profiles_and_propensity(store, settings: Settings, *,
                                  registry: ModelRegistry | None = None, reason: str = "",
                                  console=None) -> dict[str, dict]:
    """Train every capability of this module from the store; one outcome per capability.
    A failure of one (e.g. too few purchases for a propensity model) is its outcome, not an
    exception, and leaves the others and the serving versions as they were."""
    from shopmind.live import registry_for

    registry = registry or registry_for(settings)
    run_id = uuid.uuid4().hex[:12]
    events = store.events_frame()
    items = store.items_frame()
    staging = Path(tempfile.mkdtemp(prefix=".train-profiles-", dir=registry.root))
    jobs = {PROFILES: lambda: train_profiles(events, items, staging, registry,
                                             seed=settings.seed, reason=reason, run_id=run_id)}
    for target, capability in PROPENSITY.items():
        jobs[capability] = (lambda t=target: train_propensity(
            events, items, staging, registry, t, seed=settings.seed, reason=reason,
            run_id=run_id))
    outcomes = {}
    try:
        for capability, job in jobs.items():
            try:
                if console is not None:
                    with console.status(f"training {capability}"):
                        outcomes[capability] = job()
                else:
                    outcomes[capability] = job()
            except Exception as exc:  # noqa: BLE001 - one capability failing is an outcome
                outcomes[capability] = {"run_id": run_id, "status": "failed", "reason": reason,
                                        "error": f"{type(exc).__name__}: {exc}",
                                        "finished_at": time.time()}
                registry.record_run(capability, outcomes[capability])
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return outcomes
