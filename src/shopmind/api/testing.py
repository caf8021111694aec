"""Helpers for testing and benchmarking the service: a trained demo shop on disk, and a copy
of it per test (copying a few megabytes is much faster than training again)."""

from __future__ import annotations

import shutil
from pathlib import Path

from shopmind.config import Settings

__all__ = ["build_demo_shop", "copy_shop", "shop_settings", "demo_shop_template", "free_port",
           "ServerThread"]


def shop_settings(data_dir: str | Path, **overrides) -> Settings:
    """Settings of a shop in ``data_dir`` with the automatic retrain policy off by default."""
    values = {"data_dir": Path(data_dir), "retrain_every_events": 0,
              "retrain_every_minutes": 0.0}
    values.update(overrides)
    return Settings(**values)


def build_demo_shop(data_dir: str | Path, *, n_users: int = 120, seed: int = 0,
                    n_items: int | None = None) -> Settings:
    """Generate the demo shop into ``data_dir`` and train a first serving version of the
    recommenders, the search, the review analyzer, user profiles and propensity."""
    from shopmind.data.demo import generate_demo_shop
    from shopmind.data.store import Store
    from shopmind.engine_profiles import train_profiles_and_propensity
    from shopmind.engine_search_reviews import train_search_and_reviews
    from shopmind.live import retrain

    settings = shop_settings(data_dir)
    store = Store(settings=settings)
    try:
        store.ingest(generate_demo_shop(seed=seed, n_users=n_users, n_items=n_items).batch())
        outcome = retrain(store, settings, reason="demo shop")
        if outcome["status"] != "promoted":
            raise RuntimeError(f"training the demo shop failed: {outcome}")
        # Search (the fast hashing encoder: tests need no transformer) and the review analyzer.
        text = train_search_and_reviews(store, settings, encoder="hashing", reason="demo shop")
        text.update(train_profiles_and_propensity(store, settings, reason="demo shop"))
        failed = {c: o for c, o in text.items() if o["status"] != "promoted"}
        if failed:
            raise RuntimeError(f"training search, reviews, profiles or propensity on the demo "
                               f"shop failed: {failed}")
    finally:
        store.close()
    return settings


def copy_shop(template: str | Path, data_dir: str | Path, **overrides) -> Settings:
    """A copy of a shop built by :func:`build_demo_shop`, with its own settings."""
    shutil.copytree(template, data_dir)
    return shop_settings(data_dir, **overrides)


def demo_shop_template(root: str | Path, *, n_users: int = 120, seed: int = 0) -> Path:
    """A trained demo shop under ``root``, built on first use and reused after (tests pass
    pytest's session temp dir, so every test file shares one)."""
    folder = Path(root) / f"demo-shop-{n_users}-{seed}"
    if not (folder / ".ready").exists():
        if folder.exists():
            shutil.rmtree(folder)
        build_demo_shop(folder, n_users=n_users, seed=seed)
        (folder / ".ready").touch()
    return folder


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class ServerThread:
    """Run an app with uvicorn on a free loopback port in a background thread::

        with ServerThread(app) as server:
            httpx.get(server.url + "/health")
    """

    def __init__(self, app, port: int | None = None):
        self.app = app
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._server = None
        self._thread = None

    def __enter__(self) -> ServerThread:
        import threading
        import time

        import uvicorn

        config = uvicorn.Config(self.app, host="127.0.0.1", port=self.port, log_level="warning",
                                access_log=False, lifespan="on")
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, daemon=True)
        self._thread.start()
        deadline = time.monotonic() + 30
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError("the test server did not start")
            time.sleep(0.02)
        return self

    def __exit__(self, *exc) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)


def server_process(data_dir: str | Path, port: int, log_path: str | Path,
                   **settings: object):
    """``shopmind serve`` as a child process on ``port`` for the shop in ``data_dir``."""
    import os
    import subprocess
    import sys

    env = dict(os.environ)
    env.update({"SHOPMIND_DATA_DIR": str(data_dir), "SHOPMIND_API_PORT": str(port),
                "SHOPMIND_RETRAIN_EVERY_EVENTS": "0", "SHOPMIND_RETRAIN_EVERY_MINUTES": "0"})
    env.update({f"SHOPMIND_{k.upper()}": str(v) for k, v in settings.items()})
    env.pop("SHOPMIND_DB_URL", None)
    with open(log_path, "ab") as log:  # the child keeps its own copy of the descriptor
        return subprocess.Popen([sys.executable, "-m", "shopmind.cli", "serve"], env=env,
                                stdout=log, stderr=subprocess.STDOUT)


def wait_healthy(url: str, timeout: float = 60.0, process=None) -> None:
    import time

    import httpx

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"the server exited with {process.returncode}")
        try:
            if httpx.get(url + "/health", timeout=1.0).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"{url} did not become healthy in {timeout:.0f} s")


def durability_check(data_dir: str | Path, *, ingest_seconds: float = 1.5, workers: int = 2,
                     log_path: str | Path | None = None) -> dict:
    """Kill -9 a server while clients ingest events one by one; restart it; check that every
    acknowledged event is stored exactly once, then retry everything that was sent and check
    again that nothing is duplicated. Returns the counts (``lost`` and ``duplicates`` must be 0).
    """
    import os
    import signal
    import threading
    import time

    import httpx
    from sqlalchemy import func, select

    from shopmind.api.auth import KeyStore
    from shopmind.data import schema
    from shopmind.data.store import Store

    data_dir = Path(data_dir)
    log_path = Path(log_path or data_dir / "server.log")
    store = Store(settings=shop_settings(data_dir))
    token, _ = KeyStore(store).create(["ingest"], name="durability")
    items = store.read_table("items", ["item_id"])["item_id"].head(50).tolist()
    store.close()
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    headers = {"Authorization": f"Bearer {token}"}

    def event(worker: int, n: int) -> dict:
        return {"user_id": f"durability-{worker}", "item_id": items[n % len(items)],
                "type": "view", "ts": 1.7e9 + n, "idempotency_key": f"dur-{worker}-{n}"}

    sent: dict[str, dict] = {}
    acked: set[str] = set()
    lock = threading.Lock()
    stop = threading.Event()

    def client(worker: int) -> None:
        with httpx.Client(base_url=url, headers=headers, timeout=5.0) as http:
            n = 0
            while not stop.is_set():
                body = event(worker, n)
                with lock:
                    sent[body["idempotency_key"]] = body
                try:
                    r = http.post("/v1/events", json=body)
                except httpx.HTTPError:
                    return  # the server is gone
                if r.status_code == 200:
                    with lock:
                        acked.add(body["idempotency_key"])
                n += 1

    server = server_process(data_dir, port, log_path)
    try:
        wait_healthy(url, process=server)
        threads = [threading.Thread(target=client, args=(w,)) for w in range(workers)]
        for t in threads:
            t.start()
        time.sleep(ingest_seconds)
        os.kill(server.pid, signal.SIGKILL)
        server.wait(timeout=10)
        stop.set()
        for t in threads:
            t.join(timeout=10)
    finally:
        if server.poll() is None:
            server.kill()
    acknowledged = set(acked)

    def stored() -> tuple[dict[str, int], int]:
        s = Store(settings=shop_settings(data_dir))
        ev = schema.events
        with s.engine.connect() as conn:
            rows = dict(conn.execute(
                select(ev.c.idempotency_key, func.count()).where(
                    ev.c.user_id.like("durability-%")).group_by(ev.c.idempotency_key)).all())
            dupes = conn.execute(select(func.count()).select_from(
                select(ev.c.idempotency_key).group_by(ev.c.idempotency_key)
                .having(func.count() > 1).subquery())).scalar_one()
        s.close()
        return rows, dupes

    server = server_process(data_dir, port, log_path)
    try:
        wait_healthy(url, process=server)
        after_restart, dupes_after_restart = stored()
        retried = 0
        with httpx.Client(base_url=url, headers=headers, timeout=10.0) as http:
            for body in sent.values():  # a client retries everything it is unsure of
                retried += http.post("/v1/events", json=body).status_code == 200
    finally:
        server.terminate()
        server.wait(timeout=15)
    after_retry, dupes_after_retry = stored()
    return {
        "sent": len(sent),
        "acknowledged": len(acknowledged),
        "in_flight_at_kill": len(sent) - len(acknowledged),
        "stored_after_restart": len(after_restart),
        "lost": len(acknowledged - set(after_restart)),
        "duplicates": dupes_after_restart + dupes_after_retry
        + sum(n - 1 for n in after_retry.values() if n > 1),
        "retried_ok": retried,
        "stored_after_retry": len(after_retry),
        "missing_after_retry": len(set(sent) - set(after_retry)),
    }
