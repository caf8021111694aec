"""The service as a real server on loopback: a model swap under load drops no request, training
runs in a child process, and a kill -9 during ingestion loses no acknowledged event."""

from __future__ import annotations

import threading
import time

import httpx
import pytest

from shopmind.api import create_app
from shopmind.api.testing import ServerThread, copy_shop, demo_shop_template, durability_check
from shopmind.data.store import Store


@pytest.fixture(scope="session")
def demo_template(tmp_path_factory):
    return demo_shop_template(tmp_path_factory.getbasetemp())


def _app(template, path, trainer):
    settings = copy_shop(template, path)
    store = Store(settings=settings)
    app = create_app(settings, store, trainer=trainer)
    token, _ = app.state.service.keys.create(["admin"])
    return app, store, {"Authorization": f"Bearer {token}"}


def _wait_for_runs(http, n_runs, timeout=120.0) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status = http.get("/v1/models").json()["capabilities"][0]
        if not status["retrain"]["running"] and len(status["retrain"]["runs"]) >= n_runs:
            return status
        time.sleep(0.2)
    raise AssertionError("training did not finish")


@pytest.mark.slow
def test_a_model_swap_under_load_drops_no_request(demo_template, tmp_path):
    app, store, auth = _app(demo_template, tmp_path / "shop", "inline")
    statuses: list[int] = []
    versions: set[int] = set()
    stop = threading.Event()

    with ServerThread(app) as server:
        def load():
            with httpx.Client(base_url=server.url, headers=auth, timeout=10) as http:
                n = 0
                while not stop.is_set():
                    user = f"u-{n % 120 + 1:05d}"
                    r = http.get("/v1/recommend/for-you", params={"user_id": user})
                    statuses.append(r.status_code)
                    if r.status_code == 200 and r.json()["model"]:
                        versions.add(r.json()["model"]["version"])
                    n += 1

        threads = [threading.Thread(target=load) for _ in range(2)]
        for t in threads:
            t.start()
        with httpx.Client(base_url=server.url, headers=auth, timeout=10) as http:
            runs = len(http.get("/v1/models").json()["capabilities"][0]["retrain"]["runs"])
            for i in range(2):
                assert http.post("/v1/models/retrain").status_code == 202
                status = _wait_for_runs(http, runs + i + 1)
                assert status["retrain"]["last"]["status"] == "promoted"
            time.sleep(0.3)
        stop.set()
        for t in threads:
            t.join()
    store.close()
    assert len(statuses) > 50 and set(statuses) == {200}
    assert len(versions) >= 2  # requests were answered by the old and the new versions


@pytest.mark.slow
def test_training_runs_in_a_child_process(demo_template, tmp_path):
    app, store, auth = _app(demo_template, tmp_path / "shop", "process")
    with ServerThread(app) as server, httpx.Client(base_url=server.url, headers=auth,
                                                   timeout=10) as http:
        before = http.get("/v1/models").json()["capabilities"][0]
        assert http.post("/v1/models/retrain").status_code == 202
        assert http.post("/v1/models/retrain").status_code == 409  # one run at a time
        status = _wait_for_runs(http, len(before["retrain"]["runs"]) + 1)
        assert status["retrain"]["last"]["status"] == "promoted", status["retrain"]["last"]
        assert status["serving"]["version"] > before["serving"]["version"]
        assert http.get("/health").json()["serving"]["version"] == status["serving"]["version"]
    store.close()


@pytest.mark.slow
def test_kill_9_during_ingestion_loses_no_acknowledged_event(demo_template, tmp_path):
    copy_shop(demo_template, tmp_path / "shop")
    result = durability_check(tmp_path / "shop", ingest_seconds=1.0)
    assert result["acknowledged"] >= 5, result  # the server was killed mid-stream
    assert result["lost"] == 0 and result["duplicates"] == 0, result
    assert result["missing_after_retry"] == 0, result
    assert result["stored_after_retry"] == result["sent"], result
