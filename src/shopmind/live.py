"""Live learning and the retrain policy: how a served model keeps up with a shop between trainings.

* :class:`LiveRecommender` wraps a fitted recommender. Events that arrive after it was trained
  are appended to their users' histories at once (:meth:`LiveRecommender.observe`), so the very
  next request for that user is scored on the new history; every few seconds they are folded
  into the model itself with ``update_users`` (:meth:`LiveRecommender.fold`). No retraining.
* :func:`retrain` is one training run: train every recommender on a consistent snapshot of the
  store, put each into the :class:`~shopmind.registry.ModelRegistry` with its offline metrics,
  and serve the best one only if it is not worse than the serving version. A run that fails
  records the failure and leaves the serving version alone.
* :class:`RetrainPolicy` says when a run is due: every N new events or T minutes.

``python -m shopmind.live`` runs :func:`retrain` once and prints its outcome as JSON; the service
starts it as a child process, so a crash or a hog in training cannot take the server down.
"""

from __future__ import annotations

import copy
import io
import json
import logging
import shutil
import sys
import tempfile
import threading
import time
import traceback
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from shopmind.config import Settings
from shopmind.data.views import Sequences
from shopmind.registry import ModelRegistry, ModelVersion, decide_promotion

__all__ = ["LiveRecommender", "Ranked", "RetrainPolicy", "retrain", "register_trained", "last_event_id",
           "registry_for", "CAPABILITY"]

log = logging.getLogger("shopmind.live")

CAPABILITY = "recommend"


def registry_for(settings: Settings) -> ModelRegistry:
    """The registry of a shop: ``<model_dir>/registry``."""
    return ModelRegistry(settings.resolved_model_dir() / "registry")


# --------------------------------------------------------------------------- scoring


class _ALSFoldIn:
    """ALS user fold-in in closed form: one 64×64 solve per history, no thread-pool juggling.

    The same least-squares problem ``implicit`` solves (confidence ``alpha × count``), computed
    with numpy; :func:`_fast_scorer` checks it against the model's own scores before using it.
    """

    def __init__(self, model):
        y = np.asarray(model.item_factors_, dtype=np.float64)
        self.y = y
        self.alpha = float(model.alpha)
        self.base = y.T @ y + float(model.regularization) * np.eye(y.shape[1])
        factors = np.asarray(model.item_factors_, dtype=np.float32)
        self.unit = factors / np.maximum(np.linalg.norm(factors, axis=1), 1e-12)[:, None]

    def similarity(self, item_indices: np.ndarray) -> np.ndarray:
        """Cosine of item factors, as ``ALS.item_similarity`` (norms computed once here)."""
        return self.unit[np.asarray(item_indices)] @ self.unit.T

    def between(self, rows: np.ndarray, columns: np.ndarray) -> np.ndarray:
        return self.unit[rows] @ self.unit[columns].T

    def __call__(self, history: np.ndarray) -> np.ndarray:
        if len(history) == 0:
            return np.zeros(len(self.y), dtype=np.float32)
        items, counts = np.unique(history, return_counts=True)
        confidence = self.alpha * counts
        yh = self.y[items]
        a = self.base + (yh.T * (confidence - 1.0)) @ yh
        b = yh.T @ confidence
        return (self.y @ np.linalg.solve(a, b)).astype(np.float32)


class _ItemKNNSum:
    """Item-kNN scores as one ``bincount`` over the history items' neighbour lists: what
    ``ItemKNN.score_histories`` computes with a sparse product, without building matrices."""

    def __init__(self, model):
        sim = model.similarity_.tocsr()
        self.indptr, self.indices = sim.indptr, sim.indices
        self.data = sim.data.astype(np.float64)
        self.n_items = sim.shape[1]
        self.recency = float(model.recency)
        self.matrix = sim

    def _gather(self, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        starts, ends = self.indptr[rows], self.indptr[rows + 1]
        counts = ends - starts
        positions = np.repeat(ends - counts.cumsum(), counts) + np.arange(counts.sum())
        return positions, counts

    def __call__(self, history: np.ndarray) -> np.ndarray:
        history = np.asarray(history, dtype=np.int64)
        if len(history) == 0:
            return np.zeros(self.n_items, dtype=np.float32)
        positions, counts = self._gather(history)
        weights = self.data[positions]
        if self.recency != 1.0:
            weights = weights * np.repeat(
                self.recency ** np.arange(len(history) - 1, -1, -1, dtype=np.float64), counts)
        return np.bincount(self.indices[positions], weights,
                           minlength=self.n_items).astype(np.float32)

    def similarity(self, item_indices: np.ndarray) -> np.ndarray:
        return self.matrix[np.asarray(item_indices)].toarray()

    def between(self, rows: np.ndarray, columns: np.ndarray) -> np.ndarray:
        out = np.zeros((len(rows), len(columns)), dtype=np.float32)
        where = {int(c): j for j, c in enumerate(columns)}
        for i, r in enumerate(rows):
            lo, hi = self.indptr[r], self.indptr[r + 1]
            for c, v in zip(self.indices[lo:hi].tolist(), self.data[lo:hi].tolist()):
                j = where.get(c)
                if j is not None:
                    out[i, j] = v
        return out


_FAST = {"ALS": (_ALSFoldIn, "item_factors_"), "ItemKNN": (_ItemKNNSum, "similarity_")}


def _fast_scorer(model):
    """A faster exact scorer for one history where we have one (checked against the model's
    own answers on probe histories), else None."""
    kind = type(model).__name__
    if kind not in _FAST or not hasattr(model, _FAST[kind][1]):
        return None
    try:
        fast = _FAST[kind][0](model)
        rng = np.random.default_rng(0)
        n = len(model.item_ids_)
        probe = rng.integers(0, n, size=min(8, n))
        probe = np.concatenate([probe, probe[:2]])
        expected = model.score_histories([probe])[0]
        got = fast(probe)
        scale = float(np.abs(expected).max()) or 1.0
        rows, columns = probe[:3], np.arange(min(n, 50))
        reference = np.asarray(model.item_similarity(rows), dtype=np.float32)
        same_similarity = (np.allclose(fast.similarity(rows), reference, atol=1e-4)
                           and np.allclose(fast.between(rows, columns), reference[:, columns],
                                           atol=1e-4))
        if np.allclose(got, expected, atol=1e-3 * scale, rtol=1e-3) and same_similarity:
            return fast
        log.warning("%s fast path disagrees with the model; using the model's own scoring", kind)
    except Exception:  # noqa: BLE001 - any surprise here just means "use the slow path"
        log.exception("%s fast path unavailable", kind)
    return None


@dataclass
class Ranked:
    """Top items for one query: item indices, scores, and per item the history position that
    explains it best (``-1`` when nothing in the history does)."""

    items: np.ndarray
    scores: np.ndarray
    anchors: np.ndarray


class LiveRecommender:
    """A fitted recommender plus the events that arrived after it was trained.

    ``observe`` makes an event count for its user immediately (the next ``history`` includes
    it); ``fold`` moves those events into the model with ``update_users`` in the background and
    swaps the updated model in under a lock, so readers never see an event twice or not at all.
    """

    def __init__(self, model, version: ModelVersion | None = None):
        self.model = model
        self.version = version
        self.item_ids = np.asarray(model.item_ids_, dtype=object)
        self.n_items = len(self.item_ids)
        self._item_index = {iid: i for i, iid in enumerate(self.item_ids.tolist())}
        self._lock = threading.Lock()
        self._overlay: dict[str, list[tuple[int, str, float]]] = {}
        self._set_base(model)
        self._fast = _fast_scorer(model)
        self.observed = 0

    def _set_base(self, model) -> None:
        history: Sequences = model.history_
        self._base = history
        self._user_row = {u: r for r, u in enumerate(history.user_ids.tolist())}

    # -- what we know --------------------------------------------------------------------
    def item_index(self, item_id) -> int | None:
        return self._item_index.get(item_id)

    def knows_user(self, user_id) -> bool:
        with self._lock:
            return user_id in self._user_row or user_id in self._overlay

    @property
    def pending(self) -> int:
        """Live events not folded into the model yet."""
        with self._lock:
            return sum(len(v) for v in self._overlay.values())

    def history(self, user_id) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(item indices, event type names, timestamps) of a user, oldest first, live events
        included (in the order they arrived, after the trained history)."""
        with self._lock:
            base, row, extra = self._base, self._user_row.get(user_id), self._overlay.get(user_id)
            extra = list(extra) if extra else []
        if row is None:
            items = np.zeros(0, np.int64)
            types = np.zeros(0, object)
            ts = np.zeros(0, np.float64)
        else:
            start, end = base.indptr[row], base.indptr[row + 1]
            items = base.items[start:end]
            types = base.type_names[base.types[start:end]]
            ts = base.ts[start:end]
        if extra:
            items = np.concatenate([items, np.fromiter((e[0] for e in extra), np.int64)])
            types = np.concatenate([types, np.array([e[1] for e in extra], dtype=object)])
            ts = np.concatenate([ts, np.fromiter((e[2] for e in extra), np.float64)])
        return items, types, ts

    # -- learning live -------------------------------------------------------------------
    def observe(self, user_ids: Iterable, item_ids: Iterable, types: Iterable,
                ts: Iterable) -> int:
        """Append events to their users' histories; items the model does not know are skipped
        (they count from the next training). Returns how many were applied."""
        applied = 0
        rows = []
        for user, item, kind, when in zip(user_ids, item_ids, types, ts):
            index = self._item_index.get(item)
            if index is not None and user is not None:
                rows.append((user, (index, str(kind), float(when))))
        with self._lock:
            for user, entry in rows:
                self._overlay.setdefault(user, []).append(entry)
                applied += 1
            self.observed += applied
        return applied

    def fold(self) -> int:
        """Move live events into the model with ``update_users``; returns how many moved."""
        with self._lock:
            if not self._overlay:
                return 0
            snapshot = {u: list(v) for u, v in self._overlay.items()}
            model, base, user_row = self.model, self._base, dict(self._user_row)
        users: list = []
        items: list = []
        ts: list = []
        types: list = []
        for user, extra in snapshot.items():
            row = user_row.get(user)
            if row is not None:
                start, end = base.indptr[row], base.indptr[row + 1]
                users.extend([user] * int(end - start))
                items.extend(base.items[start:end].tolist())
                ts.extend(base.ts[start:end].tolist())
                types.extend(base.type_names[base.types[start:end]].tolist())
            for index, kind, when in extra:
                users.append(user)
                items.append(index)
                ts.append(when)
                types.append(kind)
        seqs = Sequences.from_events(users, self.item_ids[np.asarray(items, dtype=np.int64)], ts,
                                     types, order=np.arange(len(users)), item_ids=self.item_ids)
        updated = copy.copy(model)
        updated.update_users(seqs)
        moved = 0
        with self._lock:
            self.model = updated
            self._set_base(updated)
            for user, extra in snapshot.items():
                rest = self._overlay.get(user, [])[len(extra):]
                moved += len(extra)
                if rest:
                    self._overlay[user] = rest
                else:
                    self._overlay.pop(user, None)
        return moved

    # -- answers -------------------------------------------------------------------------
    def score(self, history: np.ndarray) -> np.ndarray:
        """Scores of every item for one history of item indices (oldest first)."""
        history = np.asarray(history, dtype=np.int64)
        if self._fast is not None:
            return self._fast(history)
        with self._lock:
            model = self.model
        return np.asarray(model.score_histories([history])[0], dtype=np.float32)

    def similarity(self, item_indices: Sequence[int]) -> np.ndarray:
        """(len(item_indices) × n_items) similarity of every item to each given item."""
        if self._fast is not None:
            return self._fast.similarity(item_indices)
        with self._lock:
            model = self.model
        return np.asarray(model.item_similarity(np.asarray(item_indices, dtype=np.int64)),
                          dtype=np.float32)

    def _similarity_between(self, rows: np.ndarray, columns: np.ndarray) -> np.ndarray:
        if self._fast is not None:  # only the pairs needed, not rows × n_items
            return self._fast.between(rows, columns)
        return self.similarity(rows)[:, columns]

    def similarity_between(self, rows: np.ndarray, columns: np.ndarray) -> np.ndarray:
        """(len(rows) × len(columns)) item similarity (what reasons and diversity need)."""
        return self._similarity_between(np.asarray(rows, dtype=np.int64),
                                        np.asarray(columns, dtype=np.int64))

    def rank(self, scores: np.ndarray, k: int, allowed: np.ndarray | None = None,
             exclude: Iterable[int] = (), explain_with: np.ndarray | None = None) -> Ranked:
        """The ``k`` best items by ``scores`` among ``allowed`` (a boolean mask) and not in
        ``exclude``; with ``explain_with`` (history item indices) each gets the position of the
        history item most similar to it as its anchor."""
        keys = np.array(scores, dtype=np.float32, copy=True)
        keys[~np.isfinite(keys)] = -np.inf
        if allowed is not None:
            keys[~allowed] = -np.inf
        excluded = np.fromiter(exclude, dtype=np.int64)
        if len(excluded):
            keys[excluded] = -np.inf
        k = min(int(k), self.n_items)
        if k <= 0:
            empty = np.zeros(0, np.int64)
            return Ranked(empty, np.zeros(0, np.float32), empty)
        top = np.argpartition(-keys, k - 1)[:k] if k < self.n_items else np.arange(self.n_items)
        top = top[np.lexsort((top, -keys[top]))]
        top = top[np.isfinite(keys[top])]
        anchors = np.full(len(top), -1, dtype=np.int64)
        if explain_with is not None and len(explain_with) and len(top):
            recent = np.asarray(explain_with[-20:], dtype=np.int64)
            offset = len(explain_with) - len(recent)
            uniq = np.unique(recent)
            # latest position of each distinct history item, to name the most recent event
            last_pos = {int(i): offset + int(np.flatnonzero(recent == i)[-1]) for i in uniq}
            best = self._similarity_between(uniq, top)
            which = np.argmax(best, axis=0)
            has = best[which, np.arange(len(top))] > 0
            anchors[has] = [last_pos[int(uniq[w])] for w in which[has]]
        return Ranked(top.astype(np.int64), np.asarray(scores, dtype=np.float32)[top], anchors)


# --------------------------------------------------------------------------- retraining


@dataclass
class RetrainPolicy:
    """When a training run is due: after ``every_events`` new events, or when the serving
    model is ``every_minutes`` old and at least one new event arrived (0 turns either off)."""

    every_events: int = 5_000
    every_minutes: float = 60.0

    @classmethod
    def from_settings(cls, settings: Settings) -> RetrainPolicy:
        return cls(settings.retrain_every_events, settings.retrain_every_minutes)

    def due(self, new_events: int, seconds_since_training: float) -> str | None:
        """Why a run is due now, or None.

        >>> RetrainPolicy(100, 10).due(150, 5.0)
        '150 new events (policy: every 100)'
        >>> RetrainPolicy(100, 10).due(3, 700.0)
        'model is 12 minutes old (policy: every 10 minutes)'
        >>> RetrainPolicy(100, 10).due(0, 7000.0) is None
        True
        """
        if self.every_events and new_events >= self.every_events:
            return f"{new_events} new events (policy: every {self.every_events})"
        if self.every_minutes and new_events > 0 and \
                seconds_since_training >= self.every_minutes * 60:
            return (f"model is {seconds_since_training / 60:.0f} minutes old "
                    f"(policy: every {self.every_minutes:g} minutes)")
        return None


class _StoreAsOf:
    """A store seen as of one event id: training reads a consistent snapshot while ingestion
    goes on, and the server knows exactly which events the new model has not seen."""

    def __init__(self, store, max_event_id: int):
        self._store = store
        self.max_event_id = max_event_id

    def events_frame(self, types=None):
        frame = self._store.events_frame(types)
        return frame[frame["event_id"] <= self.max_event_id].reset_index(drop=True)

    def __getattr__(self, name):
        return getattr(self._store, name)


def last_event_id(store) -> int:
    from sqlalchemy import func, select

    from shopmind.data import schema

    with store.engine.connect() as conn:
        return int(conn.execute(select(func.max(schema.events.c.event_id))).scalar() or 0)


def register_trained(registry: ModelRegistry, trained: Sequence, *, run_id: str = "",
                     data: dict | None = None, tolerance: float = 0.0,
                     reason: str = "", move: bool = True) -> dict:
    """Put trained models (``engine.TrainedModel``) into the registry as new versions, serve
    the best if it is not worse than the serving one, and record the run. Returns the outcome.
    ``move=False`` copies the artifacts and leaves the originals where they are.
    """
    run_id = run_id or uuid.uuid4().hex[:12]
    versions = []
    for t in trained:
        metrics_file = Path(t.path).parent / f"{t.name}.metrics.json"
        protocol = ""
        if metrics_file.is_file():
            protocol = json.loads(metrics_file.read_text()).get("protocol", "")
        versions.append(registry.add(
            CAPABILITY, t.name, t.path, t.metrics, protocol=protocol,
            fit_seconds=t.fit_seconds, run_id=run_id, data=data, move=move,
            curve=list((getattr(t, "extra", None) or {}).get("curve", []))))
    decision = decide_promotion(registry, CAPABILITY, versions, tolerance=tolerance)
    outcome = {
        "run_id": run_id, "status": "promoted" if decision.promoted else "kept",
        "reason": reason, "decision": decision.reason, "metric": decision.metric,
        "versions": [v.version for v in versions],
        "candidate": decision.candidate.version if decision.candidate else None,
        "serving": registry.serving_version(CAPABILITY), "finished_at": time.time(),
        "data": data or {},
    }
    registry.record_run(CAPABILITY, outcome)
    registry.prune(CAPABILITY)
    return outcome


def retrain(store, settings: Settings, *, registry: ModelRegistry | None = None,
            reason: str = "manual", console=None, trainer=None) -> dict:
    """One training run (see the module docstring). Never raises for a failed training: the
    outcome says ``status: failed`` with the error, and the serving version stays."""
    from rich.console import Console

    registry = registry or registry_for(settings)
    console = console or Console(file=io.StringIO())
    run_id = uuid.uuid4().hex[:12]
    started = time.time()
    staging = Path(tempfile.mkdtemp(prefix=".train-", dir=registry.root))
    try:
        if trainer is None:
            from shopmind.engine import train_recommenders as trainer
        last_event = last_event_id(store)
        snapshot = _StoreAsOf(store, last_event)
        counts = store.counts()
        data = {"max_event_id": last_event, "events": counts.get("events", 0),
                "users": counts.get("users", 0), "items": counts.get("items", 0)}
        trained = trainer(snapshot, settings.model_copy(update={"model_dir": staging}), console)
        outcome = register_trained(registry, trained, run_id=run_id, data=data,
                                   tolerance=settings.promote_tolerance, reason=reason)
    except Exception as exc:  # noqa: BLE001 - a failed training is an outcome, not a crash
        outcome = {"run_id": run_id, "status": "failed", "reason": reason,
                   "error": f"{type(exc).__name__}: {exc}", "finished_at": time.time(),
                   "serving": registry.serving_version(CAPABILITY),
                   "traceback": traceback.format_exc(limit=8)}
        registry.record_run(CAPABILITY, {k: v for k, v in outcome.items() if k != "traceback"})
        log.error("training run %s failed: %s", run_id, outcome["error"])
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    outcome["started_at"] = started
    outcome["seconds"] = round(time.time() - started, 3)
    return outcome


def _main(argv: list[str]) -> int:
    """``python -m shopmind.live [reason]``: one training run on the store of the environment's
    settings; prints the outcome as one JSON line; exit 0 unless the run failed."""
    import os

    from shopmind.config import get_settings
    from shopmind.data.store import Store

    try:
        os.nice(10)  # training yields the CPU to the server that started it
    except OSError:
        pass
    settings = get_settings()
    store = Store(settings=settings)
    outcome = retrain(store, settings, reason=argv[0] if argv else "manual")
    outcome.pop("traceback", None)
    print(json.dumps(outcome, default=str))
    return 0 if outcome["status"] != "failed" else 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(_main(sys.argv[1:]))
