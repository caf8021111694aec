"""The running service: store, serving models, live learning, caches and the retrain policy.

One :class:`Service` per app. Requests read ``service.live`` once and use that object to the
end, so when a retrain swaps in a new model (a single reference assignment) requests already
running finish on the old one and none is dropped.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable

import numpy as np
import pandas as pd
from sqlalchemy import and_, func, select

from shopmind.api.auth import KeyStore
from shopmind.api.catalog import DAY, Baskets, Catalog, Trending
from shopmind.api.intelligence import Intelligence
from shopmind.config import Settings
from shopmind.data import schema
from shopmind.data.batch import Batch
from shopmind.errors import NotFoundError
from shopmind.live import (
    CAPABILITY,
    LiveRecommender,
    RetrainPolicy,
    last_event_id,
    registry_for,
    retrain,
)
from shopmind.recommend import lists, personal
from shopmind.recommend.buy_again import repeat_purchases
from shopmind.recommend.personal import Picks
from shopmind.recommend.rules import Rules
from shopmind.registry import ModelRegistry

__all__ = ["Service"]

log = logging.getLogger("shopmind.api")

_SESSION_EVENTS = 20  # the "live session" of a user: at most their last 20 events …
_SESSION_GAP = 1800.0  # … no older than half an hour before the newest one
_CANCELLED = ("cancelled", "returned", "refunded")
_FOLD_AT_PENDING = 50_000  # fold sooner when this many live events wait (bounds memory)


def _day(ts: float) -> str:
    return dt.datetime.fromtimestamp(ts, dt.UTC).strftime("%Y-%m-%d")


class Service:
    """Everything the routers need. ``trainer``: ``"process"`` (a child process per training
    run, the default), ``"inline"`` (a thread of this process), or a callable used in place of
    ``engine.train_recommenders`` (tests)."""

    def __init__(self, settings: Settings, store, registry: ModelRegistry | None = None, *,
                 trainer: str | Callable = "process", background: bool = True):
        self.settings = settings
        self.store = store
        self.registry = registry or registry_for(settings)
        self.keys = KeyStore(store)
        self.policy = RetrainPolicy.from_settings(settings)
        self.trainer = trainer
        self.background = background
        self.catalog = Catalog(store)
        self.trending_cache = Trending(store, self.catalog)
        self.baskets = Baskets(store)
        self.live: LiveRecommender | None = None
        self.cursor = 0  # the last event id live learning has seen
        self._catch_lock = threading.Lock()
        self._ingest_lock = threading.Lock()
        self._swap_lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.job: dict = {"running": False, "last": None, "failures": 0}
        self._job_lock = threading.Lock()
        self._last_run_event_id = 0
        self._last_run_at = time.time()
        self._stats_cache: tuple[float, dict] | None = None
        self.floor_list: list[dict] = []
        self.intelligence = Intelligence(self)  # search and review insight

    # ------------------------------------------------------------------ lifecycle
    def start(self) -> None:
        version = self.registry.serving(CAPABILITY)
        # The cursor marks events already counted: those the serving model was trained on, or
        # (with no model yet) everything stored; the first model replays what it has not seen.
        self.cursor = int(version.data.get("max_event_id", 0)) if version is not None \
            else last_event_id(self.store)
        self.load_serving()
        self.intelligence.load_serving()
        self.catch_up()
        serving = self.live.version if self.live else None
        if serving is not None:
            self._last_run_event_id = int(serving.data.get("max_event_id", 0))
            self._last_run_at = serving.trained_at
        items = self.store.read_table("items", ["item_id"], order_by=["item_id"])["item_id"]
        self.floor_list = [self._item(i, 1.0 / (r + 1), "a fixed list (the benchmark floor)")
                           for r, i in enumerate(items.head(10))]
        if self.background:
            self._thread = threading.Thread(target=self._loop, name="shopmind-live", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        job = self.job.get("thread")
        if job is not None:
            job.join(timeout=1)

    def _loop(self) -> None:
        last_fold = last_reload = time.monotonic()
        while not self._stop.wait(0.5):
            try:
                self.catch_up()
                now = time.monotonic()
                live = self.live
                pending = live.pending if live is not None else 0
                if pending and (now - last_fold >= self.settings.live_fold_seconds
                                or pending >= _FOLD_AT_PENDING):
                    last_fold = now
                    live.fold()
                if now - last_reload >= 2.0:
                    last_reload = now
                    self.load_serving()
                    self.intelligence.load_serving()
                reason = self.retrain_due()
                if reason:
                    self.request_retrain(reason)
            except Exception:  # noqa: BLE001 - the loop must survive anything and say so
                log.exception("live-learning loop error")

    # ------------------------------------------------------------------ models
    def load_serving(self) -> bool:
        """Serve the registry's serving version if it is not the one served; True if swapped."""
        version = self.registry.serving(CAPABILITY)
        current = self.live
        if version is None or (current is not None and current.version is not None
                               and current.version.version == version.version):
            return False
        with self._swap_lock:
            from shopmind.recommend import Recommender

            try:
                model = Recommender.load(version.path)
                live = LiveRecommender(model, version)
            except Exception:  # noqa: BLE001 - a broken artifact never replaces a working one
                log.exception("cannot load %s version %s; still serving the previous one",
                              CAPABILITY, version.version)
                return False
            # Events the new model has not seen: replay them, then swap under the catch-up lock
            # so no event is applied to the old model only.
            seen = int(version.data.get("max_event_id", 0))
            upto = self.cursor
            self._replay(live, seen, upto)
            with self._catch_lock:
                self._replay(live, upto, self.cursor)
                self.live = live
        self.catalog.refresh()
        log.info("serving %s version %s (%s)", CAPABILITY, version.version, version.model)
        return True

    def _replay(self, live: LiveRecommender, after: int, upto: int) -> None:
        if upto <= after:
            return
        ev = schema.events
        frame = self.store.read_table(
            "events", ["user_id", "item_id", "type", "ts"],
            where=and_(ev.c.event_id > after, ev.c.event_id <= upto, ev.c.item_id.is_not(None)),
            order_by=["event_id"])
        live.observe(frame["user_id"], frame["item_id"], frame["type"], frame["ts"])

    def catch_up(self) -> int:
        """Apply events stored since the last call to live learning; returns how many."""
        ev = schema.events
        with self._catch_lock:
            with self.store.engine.connect() as conn:  # plain rows: this runs on every ingest
                rows = conn.execute(
                    select(ev.c.event_id, ev.c.user_id, ev.c.item_id, ev.c.type, ev.c.ts)
                    .where(ev.c.event_id > self.cursor).order_by(ev.c.event_id)).all()
            if not rows:
                return 0
            self.cursor = int(rows[-1][0])
            live = self.live
            applied = 0
            if live is not None:
                with_item = [r for r in rows if r[2] is not None]
                applied = live.observe([r[1] for r in with_item], [r[2] for r in with_item],
                                       [r[3] for r in with_item], [r[4] for r in with_item])
        self.trending_cache.invalidate()
        if any(r[3] == "purchase" for r in rows):
            self.baskets.invalidate()
        return applied

    def retrain_due(self) -> str | None:
        if self.job["running"]:
            return None
        backoff = min(60.0 * 2 ** self.job["failures"], 1800.0) if self.job["failures"] else 0
        since = time.time() - self._last_run_at
        if backoff and since < backoff:
            return None
        if self.live is None and self.registry.serving(CAPABILITY) is None and self.cursor > 0:
            return "no model serving yet"
        return self.policy.due(self.cursor - self._last_run_event_id, since)

    def request_retrain(self, reason: str) -> tuple[bool, str]:
        """Start a training run in the background unless one is running."""
        with self._job_lock:
            if self.job["running"]:
                return False, f"a training run is already running (since " \
                              f"{_day(self.job['started_at'])}, reason: {self.job['reason']})"
            self.job.update(running=True, reason=reason, started_at=time.time())
            self._last_run_event_id = self.cursor
            self._last_run_at = time.time()
            thread = threading.Thread(target=self._run_retrain, args=(reason,),
                                      name="shopmind-retrain", daemon=True)
            self.job["thread"] = thread
            thread.start()
        return True, f"training started ({reason})"

    def _run_retrain(self, reason: str) -> None:
        outcome: dict = {"status": "failed", "reason": reason, "error": "did not finish"}
        try:
            if self.trainer == "process":
                outcome = self._retrain_in_child(reason)
            else:
                trainer = None if self.trainer == "inline" else self.trainer
                outcome = retrain(self.store, self.settings, registry=self.registry,
                                  reason=reason, trainer=trainer)
            outcome.pop("traceback", None)
            if outcome.get("status") == "failed":
                self.job["failures"] += 1
            else:
                self.job["failures"] = 0
            self.load_serving()
            self.intelligence.load_serving()
        except Exception as exc:  # noqa: BLE001
            log.exception("training run failed to start")
            outcome = {"status": "failed", "reason": reason,
                       "error": f"{type(exc).__name__}: {exc}"}
            self.job["failures"] += 1
        finally:
            self.job.update(running=False, last=outcome)

    def _retrain_in_child(self, reason: str) -> dict:
        env = dict(os.environ)
        for name, value in self.settings.model_dump().items():
            if value is not None:
                env[f"SHOPMIND_{name.upper()}"] = str(value)
        env["SHOPMIND_DB_URL"] = self.store.url
        env["SHOPMIND_MODEL_DIR"] = str(self.registry.root.parent)
        timeout = self.settings.retrain_timeout_minutes * 60
        try:
            done = subprocess.run([sys.executable, "-m", "shopmind.live", reason], env=env,
                                  capture_output=True, text=True, timeout=timeout)
        except subprocess.TimeoutExpired:
            outcome = {"status": "failed", "reason": reason,
                       "error": f"training took longer than {timeout:.0f} s and was stopped"}
            self.registry.record_run(CAPABILITY, {**outcome, "finished_at": time.time()})
            return outcome
        lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
        if lines:
            return json.loads(lines[-1])
        tail = (done.stderr or "").strip().splitlines()[-3:]
        outcome = {"status": "failed", "reason": reason,
                   "error": f"training process exited with {done.returncode}: {' | '.join(tail)}"}
        self.registry.record_run(CAPABILITY, {**outcome, "finished_at": time.time()})
        return outcome

    def models_status(self) -> dict:
        serving = self.registry.serving(CAPABILITY)
        live = self.live
        versions = self.registry.versions(CAPABILITY)
        job = {k: v for k, v in self.job.items() if k != "thread"}
        return {"capabilities": [{
            "capability": CAPABILITY,
            "serving": None if serving is None else {**serving.as_dict(), "serving": True},
            "versions": len(versions),
            "live": {"served_version": live.version.version if live and live.version else None,
                     "events_applied": live.observed if live else 0,
                     "events_pending_fold": live.pending if live else 0,
                     "last_event_id": self.cursor},
            "retrain": {**job, "policy": {"every_events": self.policy.every_events,
                                          "every_minutes": self.policy.every_minutes},
                        "new_events": max(0, self.cursor - self._last_run_event_id),
                        "runs": self.registry.runs(CAPABILITY, last=20)},
        }, *self.intelligence.models_status()]}

    # ------------------------------------------------------------------ ingestion
    def ingest(self, frames: dict[str, pd.DataFrame], on_conflict: str = "error") -> dict:
        """Validate and store frames (one transaction), then let live learning see them."""
        with self._ingest_lock:  # SQLite has one writer; serialising here avoids busy retries
            if "events" in frames:
                frames["events"] = self._reuse_stored_ts(frames["events"])
            batch = Batch.from_frames(sources={k: k for k in frames}, **frames)
            report = self.store.ingest(batch, on_conflict=on_conflict)
        applied = self.catch_up() if "events" in frames else 0
        if "items" in frames:
            self.catalog.refresh()
            self.intelligence.items_changed(frames["items"]["item_id"].tolist())
        if "reviews" in frames:
            self.intelligence.reviews_changed()
        if "orders" in frames:
            self.baskets.invalidate()
        self._stats_cache = None
        return {**report.as_dict(), "live_events": applied}

    def _reuse_stored_ts(self, events: pd.DataFrame) -> pd.DataFrame:
        """A retried event without ``ts`` would get a new "now" and so differ from the stored
        one; an event whose idempotency key is stored takes the stored time instead."""
        if "ts" not in events or "idempotency_key" not in events:
            return events
        open_ts = events["ts"].isna() & events["idempotency_key"].notna()
        if not open_ts.any():
            return events
        ev = schema.events
        keys = events.loc[open_ts, "idempotency_key"].astype(str).unique().tolist()
        stored: dict = {}
        with self.store.engine.connect() as conn:
            for start in range(0, len(keys), 900):
                stored.update(conn.execute(
                    select(ev.c.idempotency_key, ev.c.ts)
                    .where(ev.c.idempotency_key.in_(keys[start:start + 900]))).all())
        if not stored:
            return events
        events = events.copy()
        events["ts"] = events["ts"].astype(object)
        fill = open_ts & events["idempotency_key"].isin(list(stored))
        events.loc[fill, "ts"] = events.loc[fill, "idempotency_key"].map(stored)
        return events

    # ------------------------------------------------------------------ recommendations
    # The lists and rules live in the library (shopmind.recommend); here they meet the
    # serving model, the live histories and the store.
    def _item(self, item_id, score: float, reason: str) -> dict:
        row = self.catalog.get(item_id) or {}
        return {"item_id": item_id, "score": round(float(score), 6), "reason": reason,
                "title": row.get("title"), "category": row.get("category"),
                "price": row.get("price"), "stock": row.get("stock")}

    def _entries(self, picks: Picks) -> list[dict]:
        title = self.catalog.all.title
        return [self._item(i, s, r.text(title))
                for i, s, r in zip(picks.item_ids.tolist(), picks.scores.tolist(), picks.reasons)]

    def _model_ref(self, live: LiveRecommender | None) -> dict | None:
        if live is None or live.version is None:
            return None
        v = live.version
        return {"capability": v.capability, "version": v.version, "name": v.model,
                "trained_at": v.trained_at}

    def _result(self, strategy: str, items: list[dict], live=None, user_id=None,
                fallback=False, ignored=()) -> dict:
        return {"strategy": strategy, "items": items, "user_id": user_id,
                "model": self._model_ref(live), "fallback": fallback,
                "ignored_items": list(ignored)}

    def _popular(self, strategy: str, k: int, rules: Rules, note: str, user_id=None,
                 exclude=()) -> dict:
        items = self._trending_items(k, rules, 7.0, note, exclude=exclude)
        return self._result(strategy, items, self.live, user_id, fallback=True)

    def _bought_live(self, live: LiveRecommender | None, user_id) -> list:
        """Items a user bought, from the live history (no store query: async endpoints)."""
        if live is None or user_id is None:
            return []
        history, types, _ = live.history(user_id)
        return live.item_ids[np.unique(history[types == "purchase"])].tolist()

    def for_you(self, user_id: str, k: int, rules: Rules, exclude_seen: bool = True) -> dict:
        live = self.live
        if live is None:
            return self._popular("for-you", k, rules, "popular right now (no personal model "
                                 "is trained yet)", user_id)
        history, types, _ = live.history(user_id)
        if len(history) == 0:
            return self._popular("for-you", k, rules, "popular right now — we do not know "
                                 "your taste yet", user_id)
        picks = personal.for_you(live, self.catalog.aligned(live.item_ids), history, types,
                                 rules, k, exclude_seen)
        return self._result("for-you", self._entries(picks), live, user_id)

    def next_for_user(self, user_id: str, k: int, rules: Rules) -> dict:
        """What this user will want next, from their latest events (live ones included)."""
        live = self.live
        if live is None:
            return self._popular("next", k, rules, "popular right now (no model trained yet)",
                                 user_id)
        history, types, ts = live.history(user_id)
        if len(history) == 0:
            return self._popular("next", k, rules, "popular right now — no activity of "
                                 "yours yet", user_id)
        # The live session: the latest events, up to half an hour before the newest one.
        recent = ts[-_SESSION_EVENTS:]
        start = len(history) - len(recent) + int(np.argmax(recent >= recent[-1] - _SESSION_GAP))
        bought = np.unique(history[types == "purchase"])  # never suggest what they bought
        picks = personal.next_up(live, self.catalog.aligned(live.item_ids), history[start:],
                                 types[start:], rules, k, exclude=bought)
        return self._result("next", self._entries(picks), live, user_id)

    def next_for_session(self, item_ids: list[str], k: int, rules: Rules,
                         user_id: str | None = None) -> dict:
        live = self.live
        if live is None:
            return self._popular("next", k, rules, "popular right now (no model trained yet)",
                                 user_id, exclude=item_ids)
        known = [live.item_index(i) for i in item_ids]
        ignored = [i for i, x in zip(item_ids, known) if x is None]
        window = np.array([x for x in known if x is not None], dtype=np.int64)
        bought = self._bought_live(live, user_id)
        if len(window) == 0:
            out = self._popular("next", k, rules, "popular right now — start browsing and "
                                "this follows you", user_id, exclude=[*item_ids, *bought])
            out["ignored_items"] = ignored
            return out
        catalog = self.catalog.aligned(live.item_ids)
        picks = personal.next_up(live, catalog, window, ["view"] * len(window), rules, k,
                                 exclude=catalog.index(bought))
        return self._result("next", self._entries(picks), live, user_id, ignored=ignored)

    def similar(self, item_id: str, k: int, rules: Rules) -> dict:
        if self.catalog.get(item_id) is None:
            raise NotFoundError(f"unknown item {item_id!r}")
        live = self.live
        index = live.item_index(item_id) if live is not None else None
        if index is None:
            category = (self.catalog.get(item_id) or {}).get("category")
            return self._popular("similar", k, rules.with_category(rules.category or category),
                                 "popular in the same category (this item is newer than the "
                                 "model)", exclude=[item_id])
        picks = personal.similar(live, self.catalog.aligned(live.item_ids), index, rules, k)
        return self._result("similar", self._entries(picks), live)

    def _trending_items(self, k: int, rules: Rules, days: float, note: str | None = None,
                        exclude=()) -> list[dict]:
        table, _ = self.trending_cache.top(days)
        return self._entries(lists.trending_list(table, self.catalog.all, rules, k, exclude,
                                                 days, note))

    def trending(self, k: int, rules: Rules, days: float = 7.0, user_id: str | None = None
                 ) -> dict:
        """Trending items; with ``user_id``, without what that user bought."""
        bought = self._purchases(user_id)["item_id"].tolist() if user_id else []
        return self._result("trending", self._trending_items(k, rules, days, exclude=bought),
                            user_id=user_id)

    def _purchases(self, user_id: str):
        """The library's repeat-purchase table of one user: orders (not cancelled) and purchase
        events, each purchase counted once."""
        ev, od, ol = schema.events, schema.orders, schema.order_lines
        with self.store.engine.connect() as conn:
            from_events = conn.execute(
                select(ev.c.user_id, ev.c.item_id, ev.c.ts)
                .where(ev.c.user_id == user_id, ev.c.type == "purchase",
                       ev.c.item_id.is_not(None))).all()
            from_orders = conn.execute(
                select(od.c.user_id, ol.c.item_id, od.c.created_at)
                .select_from(ol.join(od, ol.c.order_id == od.c.order_id))
                .where(od.c.user_id == user_id, od.c.status.not_in(_CANCELLED))).all()
        columns = ["user_id", "item_id", "ts"]
        return repeat_purchases(pd.DataFrame(from_events, columns=columns),
                                pd.DataFrame(from_orders, columns=columns))

    def buy_again(self, user_id: str, k: int, rules: Rules) -> dict:
        """Items this user bought before, most often and latest first."""
        picks = lists.buy_again_list(self._purchases(user_id), self.catalog.all, rules, k)
        return self._result("buy-again", self._entries(picks), user_id=user_id)

    def bought_together(self, item_id: str, k: int, rules: Rules,
                        user_id: str | None = None) -> dict:
        """Items bought in the same orders (else carted in the same sessions) as this one;
        with ``user_id``, without what that user bought."""
        if self.catalog.get(item_id) is None:
            raise NotFoundError(f"unknown item {item_id!r}")
        bought = self._purchases(user_id)["item_id"].tolist() if user_id else []
        picks = lists.together_list(item_id, self.baskets.with_item(item_id), self.catalog.all,
                                    rules, k, bought)
        return self._result("bought-together", self._entries(picks), user_id=user_id)

    # ------------------------------------------------------------------ the shop
    def stats(self) -> dict:
        cached = self._stats_cache
        if cached is not None and time.monotonic() - cached[0] < 2.0:
            return cached[1]
        stats = self.store.stats()
        self._stats_cache = (time.monotonic(), stats)
        return stats

    def activity(self, days: int) -> dict:
        """Events per day and type over the last ``days`` days before the newest event."""
        ev = schema.events
        with self.store.engine.connect() as conn:
            newest = conn.execute(select(func.max(ev.c.ts))).scalar()
        if newest is None:
            return {"days": [], "series": {}}
        last_day = int(newest // DAY)
        first_day = last_day - days + 1
        frame = self.store.read_table("events", ["type", "ts"],
                                      where=ev.c.ts >= first_day * DAY)
        day_index = (frame["ts"].to_numpy() // DAY).astype(np.int64) - first_day
        series = {}
        for kind, positions in frame.groupby("type").indices.items():
            series[kind] = np.bincount(day_index[positions], minlength=days)[:days].tolist()
        labels = [_day((first_day + d) * DAY) for d in range(days)]
        return {"days": labels, "series": series}

    def active_users(self, limit: int, prefix: str | None = None) -> list[dict]:
        ev = schema.events
        stmt = select(ev.c.user_id, func.count().label("n"), func.max(ev.c.ts)) \
            .group_by(ev.c.user_id).order_by(func.count().desc(), ev.c.user_id).limit(limit)
        if prefix:
            stmt = stmt.where(ev.c.user_id.startswith(prefix, autoescape=True))
        with self.store.engine.connect() as conn:
            rows = conn.execute(stmt).all()
        return [{"user_id": u, "events": int(n), "last_event": last} for u, n, last in rows]

    def recent_events(self, user_id: str, limit: int) -> list[dict]:
        ev = schema.events
        with self.store.engine.connect() as conn:
            rows = conn.execute(
                select(ev.c.item_id, ev.c.type, ev.c.ts).where(ev.c.user_id == user_id)
                .order_by(ev.c.ts.desc(), ev.c.event_id.desc()).limit(limit)).all()
        return [{"item_id": i, "type": t, "ts": ts,
                 "title": (self.catalog.get(i) or {}).get("title") if i else None}
                for i, t, ts in rows]
