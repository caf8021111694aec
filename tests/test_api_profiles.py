"""The profile, segment and propensity endpoints on a trained demo shop.

The demo plants each user's taste (top-level categories they mostly browse), so a served
profile must name it, and the served purchase propensity must favour it.
"""

from __future__ import annotations

import shutil

import numpy as np
import pytest
from fastapi.testclient import TestClient

from shopmind.api import create_app
from shopmind.api.testing import copy_shop, demo_shop_template, shop_settings
from shopmind.data.demo import generate_demo_shop
from shopmind.data.store import Store
from shopmind.engine_profiles import PROFILES, PROPENSITY, train_profiles_and_propensity
from shopmind.live import registry_for


@pytest.fixture(scope="session")
def demo_template(tmp_path_factory):
    return demo_shop_template(tmp_path_factory.getbasetemp())


@pytest.fixture(scope="module")
def truth():
    return generate_demo_shop(seed=0, n_users=120).truth


def _client(template, path, copied: bool = False):
    settings = shop_settings(path) if copied else copy_shop(template, path)
    store = Store(settings=settings)
    app = create_app(settings, store, trainer="inline", background=False)
    token = app.state.service.keys.create(["read"], name="test-read")[0]
    client = TestClient(app)
    client.store, client.settings = store, settings
    client.read = {"Authorization": f"Bearer {token}"}
    return client


@pytest.fixture(scope="module")
def client(demo_template, tmp_path_factory):
    c = _client(demo_template, tmp_path_factory.mktemp("profiles") / "shop")
    outcomes = train_profiles_and_propensity(c.store, c.settings, reason="test")
    assert outcomes[PROFILES]["status"] == "promoted"
    assert outcomes[PROPENSITY["click"]]["status"] in ("promoted", "kept")
    with c:
        yield c
    c.store.close()


def test_untrained_shop_answers_503_with_what_to_do(demo_template, tmp_path):
    settings = copy_shop(demo_template, tmp_path / "shop")
    registry = registry_for(settings)
    for capability in (PROFILES, *PROPENSITY.values()):  # as if never trained
        shutil.rmtree(registry.root / capability)
    c = _client(demo_template, tmp_path / "shop", copied=True)
    with c:
        r = c.get("/v1/segments", headers=c.read)
        assert r.status_code == 503 and "shopmind demo" in r.json()["detail"]
        r = c.get("/v1/propensity", params={"user_id": "u-00001", "item_ids": "sku-00001"},
                  headers=c.read)
        assert r.status_code == 503
    c.store.close()


def test_profile_names_the_planted_taste(client, truth):
    zh_to_en = {zh: en for en, zh in truth.top_categories.items()}
    hits = []
    for user, taste in list(truth.user_taste.items())[:60]:
        r = client.get(f"/v1/users/{user}/profile", headers=client.read)
        if r.status_code == 404:  # a user with no events has no profile
            continue
        assert r.status_code == 200, r.text
        body = r.json()
        assert body["lifecycle"] in ("new", "active", "at-risk", "churned")
        assert body["embedding"] is None and body["model"]["capability"] == "profiles"
        favourite = body["favourite_categories"][0]["name"]
        hits.append(zh_to_en.get(favourite, favourite) in taste)
    assert len(hits) > 40 and np.mean(hits) > 0.8
    r = client.get("/v1/users/u-00001/profile", params={"include_embedding": "true"},
                   headers=client.read)
    assert len(r.json()["embedding"]) == 32
    assert client.get("/v1/users/nobody/profile", headers=client.read).status_code == 404
    assert client.get("/v1/users/u-00001/profile").status_code == 401


def test_segments_cover_every_profiled_user(client):
    r = client.get("/v1/segments", headers=client.read)
    assert r.status_code == 200
    segments = r.json()["segments"]
    assert len(segments) == 8 and all(s["name"] and s["favourite_categories"] for s in segments)
    profiled = client.store.events_frame()["user_id"].nunique()
    assert sum(s["size"] for s in segments) == profiled


def test_propensity_batch_of_items(client, truth):
    items = sorted(truth.item_top_category)
    user = next(u for u, t in truth.user_taste.items() if len(t) == 1)
    taste = [i for i in items if truth.item_top_category[i] == truth.user_taste[user][0]][:20]
    other = [i for i in items if truth.item_top_category[i] != truth.user_taste[user][0]][:20]
    r = client.get("/v1/propensity", params={"user_id": user, "item_ids": ",".join(taste + other),
                                             "target": "click"}, headers=client.read)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["known_user"] and body["target"] == "click" and len(body["items"]) == 40
    p = np.array([row["probability"] for row in body["items"]])
    assert ((p >= 0) & (p <= 1)).all() and p[:20].mean() > p[20:].mean()
    # Repeated parameters work too; a new user is scored as one.
    r = client.get("/v1/propensity", params=[("user_id", "someone-new"), ("item_ids", taste[0]),
                                             ("item_ids", taste[1]), ("target", "click")],
                   headers=client.read)
    assert r.status_code == 200 and not r.json()["known_user"] and len(r.json()["items"]) == 2


def test_propensity_bad_input(client):
    r = client.get("/v1/propensity", params={"user_id": "u-00001", "item_ids": "no-such-item",
                                             "target": "click"}, headers=client.read)
    assert r.status_code == 404 and "retrain" in r.json()["detail"]
    r = client.get("/v1/propensity", params={"user_id": "u-00001", "item_ids": ",",
                                             "target": "click"}, headers=client.read)
    assert r.status_code == 422 and r.json()["detail"][0]["field"] == "item_ids"
    r = client.get("/v1/propensity", params={"user_id": "u-00001", "item_ids": "sku-00001",
                                             "target": "teleport"}, headers=client.read)
    assert r.status_code == 422


@pytest.mark.slow
def test_generated_requests_never_get_a_server_error(client):
    """Schemathesis on these three operations, with trained models behind them."""
    import schemathesis
    from hypothesis import HealthCheck, given, settings
    from schemathesis.checks import not_a_server_error, response_schema_conformance

    schema = schemathesis.openapi.from_asgi("/openapi.json", client.app)
    failures, operations = [], 0
    for result in schema.get_all_operations():
        operation = result.ok()
        if not any(p in operation.path for p in ("/profile", "/segments", "/propensity")):
            continue
        operations += 1

        @given(case=operation.as_strategy())
        @settings(max_examples=15, deadline=None, database=None, derandomize=True,
                  suppress_health_check=list(HealthCheck))
        def run(case):
            case.call_and_validate(headers=client.read,
                                   checks=[not_a_server_error, response_schema_conformance])

        try:
            run()
        except Exception as exc:  # noqa: BLE001 - collect every operation's failure
            failures.append(f"{operation.label}: {str(exc)[:1500]}")
    assert operations == 3
    assert not failures, "\n\n".join(failures)
