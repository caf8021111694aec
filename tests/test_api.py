"""The REST API on a trained demo shop: auth, ingestion (validation, idempotency, all-or-nothing,
limits), recommendations with reasons and business rules, live learning, model status."""

from __future__ import annotations

import logging
import time

import pytest
from fastapi.testclient import TestClient

from shopmind.api import create_app
from shopmind.api.testing import copy_shop, demo_shop_template
from shopmind.data.demo import generate_demo_shop
from shopmind.data.store import Store

USER = "u-00005"


@pytest.fixture(scope="session")
def demo_template(tmp_path_factory):
    return demo_shop_template(tmp_path_factory.getbasetemp())


@pytest.fixture(scope="session")
def truth():
    return generate_demo_shop(seed=0, n_users=120).truth


def _client(template, path, trainer="inline", **overrides):
    settings = copy_shop(template, path, **overrides)
    store = Store(settings=settings)
    app = create_app(settings, store, trainer=trainer, background=False)
    keys = {scope: app.state.service.keys.create([scope], name=f"test-{scope}")[0]
            for scope in ("admin", "ingest", "read")}
    client = TestClient(app)
    client.store = store
    client.service = app.state.service
    client.keys_h = {scope: {"Authorization": f"Bearer {token}"} for scope, token in keys.items()}
    client.tokens = keys
    return client


@pytest.fixture
def client(demo_template, tmp_path):
    c = _client(demo_template, tmp_path / "shop")
    with c:
        yield c
    c.store.close()


def _events(client) -> int:
    return client.store.counts()["events"]


# --------------------------------------------------------------------------- security


def test_keys_scopes_401_403(client):
    r = client.get("/v1/recommend/trending")
    assert r.status_code == 401 and r.headers["www-authenticate"] == "Bearer"
    assert "shopmind keys create" in r.json()["detail"]
    bad = {"Authorization": "Bearer sm_nope_nope"}
    assert client.get("/v1/recommend/trending", headers=bad).status_code == 401
    assert client.get("/v1/recommend/trending",
                      headers={"X-API-Key": client.tokens["read"]}).status_code == 200
    event = {"user_id": USER, "item_id": "sku-00001", "type": "view", "ts": 1.77e9}
    r = client.post("/v1/events", json=event, headers=client.keys_h["read"])
    assert r.status_code == 403 and "needs 'ingest'" in r.json()["detail"]
    assert client.get("/v1/recommend/trending", headers=client.keys_h["ingest"]).status_code == 403
    assert client.post("/v1/models/retrain", headers=client.keys_h["read"]).status_code == 403
    assert client.post("/v1/events", json=event, headers=client.keys_h["admin"]).status_code == 200
    assert client.get("/v1/me", headers=client.keys_h["ingest"]).json()["scopes"] == ["ingest"]
    # Keys are stored hashed: the key itself is nowhere in the table.
    table = client.store.read_table("api_keys")
    assert client.tokens["read"] not in table.to_string()
    assert (table["secret_hash"].str.len() == 64).all()
    # A revoked key stops working.
    key_id = client.get("/v1/me", headers=client.keys_h["read"]).json()["key_id"]
    client.service.keys.revoke(key_id)
    assert client.get("/v1/recommend/trending", headers=client.keys_h["read"]).status_code == 401


def test_health_docs_and_dashboard_need_no_key_and_no_cdn(client):
    assert client.get("/health").json()["serving"]["capability"] == "recommend"
    spec = client.get("/openapi.json").json()
    assert "/v1/recommend/for-you" in spec["paths"] and "/v1/events/batch" in spec["paths"]
    docs = client.get("/docs").text
    assert "/docs-assets/swagger-ui-bundle.js" in docs and "cdn" not in docs.lower()
    assert client.get("/docs-assets/swagger-ui-bundle.js").status_code == 200
    page = client.get("/")
    assert page.status_code == 200 and "<html" in page.text.lower()
    assert "http" not in page.text.split("<body", 1)[0].replace("http-equiv", "")


# --------------------------------------------------------------------------- ingestion


def test_single_and_batch_ingestion_is_idempotent(client):
    before = _events(client)
    event = {"user_id": USER, "item_id": "sku-00001", "type": "click"}  # no ts, no key
    retry = {**client.keys_h["ingest"], "Idempotency-Key": "req-1"}
    first = client.post("/v1/events", json=event, headers=retry).json()
    again = client.post("/v1/events", json=event, headers=retry).json()
    assert first["inserted"]["events"] == 1 and first["live_events"] == 1
    assert again["inserted"]["events"] == 0 and again["unchanged"]["events"] == 1
    batch = {"events": [{"user_id": "new-user", "item_id": "sku-00002", "type": "view"},
                        {"user_id": "new-user", "item_id": "sku-00003", "type": "add_to_cart",
                         "ts": "2026-04-01T10:00:00Z"}]}
    retry = {**client.keys_h["ingest"], "Idempotency-Key": "req-2"}
    assert client.post("/v1/events/batch", json=batch, headers=retry).json()["inserted"] == {
        "users": 1, "events": 2}
    replay = client.post("/v1/events/batch", json=batch, headers=retry).json()
    assert replay["unchanged"]["events"] == 2 and replay["inserted"]["events"] == 0
    assert _events(client) == before + 3
    stored = client.store.read_table("events").tail(3)
    assert stored["idempotency_key"].tolist() == ["req-1", "req-2:0", "req-2:1"]
    # Items, users, reviews, orders, and a mixed batch.
    auth = client.keys_h["ingest"]
    item = {"item_id": "sku-new", "title": "Desk lamp", "category": "Home > Lighting",
            "price": 99.0, "stock": 5, "attributes": {"colour": "white"}}
    assert client.post("/v1/items", json=item, headers=auth).json()["inserted"]["items"] == 1
    assert client.post("/v1/items", json=item, headers=auth).json()["unchanged"]["items"] == 1
    assert client.post("/v1/users", json={"user_id": "u-x", "attributes": {"tier": "gold"}},
                       headers=auth).status_code == 200
    review = {"item_id": "sku-new", "user_id": "u-x", "rating": 5, "text": "Bright and calm."}
    assert client.post("/v1/reviews", json=review, headers=auth).json()["inserted"]["reviews"] == 1
    assert client.post("/v1/reviews", json=review, headers=auth).json()["inserted"][
        "reviews"] == 0
    annotated = {**review, "text": "Bright, but the switch is flimsy.",
                 "aspects": {"switch": "negative", " light ": "positive"}}
    assert client.post("/v1/reviews", json=annotated, headers=auth).status_code == 200
    stored = client.store.read_table("reviews").set_index("text")["aspects"]
    assert stored[annotated["text"]] == '{"light":"positive","switch":"negative"}'
    for aspects in ({"switch": "bad"}, {" ": "positive"}, ["switch"]):
        r = client.post("/v1/reviews", json={**annotated, "aspects": aspects}, headers=auth)
        assert r.status_code == 422, aspects
    order = {"order_id": "o-x", "user_id": "u-x", "status": "paid", "created_at": 1.77e9,
             "lines": [{"item_id": "sku-new", "quantity": 2, "unit_price": 99.0},
                       {"item_id": "sku-00001", "quantity": 1}]}
    assert client.post("/v1/orders", json=order, headers=auth).json()["inserted"][
        "order_lines"] == 2
    shipped = {**order, "status": "shipped"}
    assert client.post("/v1/orders", json=shipped, headers=auth).status_code == 409
    assert client.post("/v1/orders", json=shipped, params={"update": True},
                       headers=auth).json()["updated"]["orders"] == 1
    mixed = {"items": [{"item_id": "sku-mixed", "title": "Mug"}],
             "events": [{"user_id": "u-x", "item_id": "sku-mixed", "type": "view", "ts": 5.0}]}
    assert client.post("/v1/batch", json=mixed, headers=auth).json()["inserted"]["events"] == 1


def test_a_batch_is_all_or_nothing_and_errors_name_field_index_reason(client, snapshot):
    auth = client.keys_h["ingest"]
    before = snapshot(client.store)
    bad_ref = {"events": [{"user_id": "a", "item_id": "sku-00001", "type": "view", "ts": 1.0},
                          {"user_id": "b", "item_id": "sku-00002", "type": "view", "ts": 2.0},
                          {"user_id": "c", "item_id": "no-such-item", "type": "view", "ts": 3.0}]}
    r = client.post("/v1/events/batch", json=bad_ref, headers=auth)
    assert r.status_code == 422
    problem = r.json()["detail"][0]
    assert problem["field"] == "events[2].item_id" and problem["index"] == 2
    assert "not in the catalog" in problem["reason"]
    assert snapshot(client.store) == before
    bad_value = {"items": [{"item_id": "ok"}, {"item_id": "x", "price": "cheap"}]}
    problem = client.post("/v1/items/batch", json=bad_value, headers=auth).json()["detail"][0]
    assert (problem["field"], problem["index"]) == ("items[1].price", 1)
    assert "valid number" in problem["reason"]
    problem = client.post("/v1/events", json={"user_id": "a", "item_id": "sku-00001",
                                              "type": "view", "colour": "red"},
                          headers=auth).json()["detail"][0]
    assert problem["field"] == "colour" and "not permitted" in problem["reason"]
    problem = client.post("/v1/events", json={"user_id": "a", "item_id": "sku-00001",
                                              "type": "view", "ts": 1.77e12},
                          headers=auth).json()["detail"][0]
    assert problem["field"].startswith("ts")
    problem = client.post("/v1/events", json={"user_id": "a", "type": "view"},
                          headers=auth).json()["detail"][0]
    assert problem["field"] == "item_id" and "needs an item_id" in problem["reason"]
    assert client.post("/v1/items", json={"item_id": "a\u0000b"}, headers=auth).status_code == 422
    changed = {"item_id": "sku-00001", "title": "Renamed"}
    r = client.post("/v1/items", json=changed, headers=auth)
    assert r.status_code == 409 and r.json()["detail"][0]["field"] == "title"
    assert snapshot(client.store) == before
    r = client.post("/v1/items", json=changed, params={"update": True}, headers=auth)
    assert r.json()["updated"]["items"] == 1


def test_request_size_limits(demo_template, tmp_path):
    c = _client(demo_template, tmp_path / "shop", api_max_body_bytes=4096, api_max_batch_rows=5)
    with c:
        auth = c.keys_h["ingest"]
        big = {"items": [{"item_id": "big", "description": "x" * 5000}]}
        r = c.post("/v1/items/batch", json=big, headers=auth)
        assert r.status_code == 413 and "limit" in r.json()["detail"]
        many = {"users": [{"user_id": f"n{i}"} for i in range(6)]}
        r = c.post("/v1/users/batch", json=many, headers=auth)
        assert r.status_code == 413 and "SHOPMIND_API_MAX_BATCH_ROWS" in r.json()["detail"]

        def chunks():  # a chunked body has no Content-Length: counted while it streams
            for _ in range(10):
                yield b" " * 1000

        r = c.post("/v1/users/batch", content=chunks(),
                   headers={**auth, "Content-Type": "application/json"})
        assert r.status_code == 413
    c.store.close()


# --------------------------------------------------------------------------- recommendations


def _items(r):
    assert r.status_code == 200, r.text
    return r.json()["items"]


def test_every_list_has_scores_reasons_and_the_business_rules(client, truth):
    read = client.keys_h["read"]
    lists = {
        "for-you": client.get("/v1/recommend/for-you", params={"user_id": USER}, headers=read),
        "next": client.get("/v1/recommend/next", params={"user_id": USER}, headers=read),
        "session": client.post("/v1/recommend/next", json={"items": ["sku-00001"]},
                               headers=read),
        "similar": client.get("/v1/recommend/similar", params={"item_id": "sku-00001"},
                              headers=read),
        "trending": client.get("/v1/recommend/trending", headers=read),
    }
    for name, r in lists.items():
        items = _items(r)
        assert len(items) == 10, name
        assert all(i["reason"] and isinstance(i["score"], float) and i["title"] for i in items)
        scores = [i["score"] for i in items]
        assert scores == sorted(scores, reverse=True), name
    assert lists["for-you"].json()["model"]["name"]
    assert lists["trending"].json()["items"][0]["reason"].startswith("trending: ")
    for_you = _items(lists["for-you"])
    assert any(i["reason"].startswith("because you ") for i in for_you)

    rules = {"in_stock": True, "max_price": 100, "category": "Clothing"}
    for path, params in [("/v1/recommend/for-you", {"user_id": USER}),
                         ("/v1/recommend/trending", {"days": 60}),
                         ("/v1/recommend/similar", {"item_id": "sku-00007"})]:
        items = _items(client.get(path, params={**params, **rules, "k": 20}, headers=read))
        assert items, path
        for i in items:
            assert i["stock"] != 0 and i["price"] <= 100
            assert i["category"].lower().startswith("clothing"), i
    pricey = _items(client.get("/v1/recommend/trending",
                              params={"min_price": 3_000, "days": 60, "k": 5}, headers=read))
    assert pricey
    assert all(i["price"] >= 3_000 for i in pricey)
    # A level name matches too: "Phones" finds "Electronics > Phones > …".
    level = _items(client.get("/v1/recommend/trending",
                              params={"category": "cases", "k": 5, "days": 60},
                              headers=read))
    assert level and all("cases" in i["category"].lower() for i in level)


def test_buy_again_and_bought_together(client):
    read = client.keys_h["read"]
    lines = client.store.read_table("order_lines")
    orders = client.store.read_table("orders")
    basket = lines.groupby("order_id").filter(lambda g: len(g) >= 2).iloc[:2]
    a, b = basket["item_id"].tolist()
    together = _items(client.get("/v1/recommend/bought-together", params={"item_id": a, "k": 50},
                                 headers=read))
    assert b in [i["item_id"] for i in together]
    assert all(i["reason"].startswith("bought together with ") for i in together)
    buyer = orders[orders["status"] == "delivered"]["user_id"].iloc[0]
    again = _items(client.get("/v1/recommend/buy-again", params={"user_id": buyer},
                              headers=read))
    assert again and all(i["reason"].startswith("you bought this") for i in again)
    assert _items(client.get("/v1/recommend/buy-again", params={"user_id": "nobody"},
                             headers=read)) == []
    r = client.get("/v1/recommend/similar", params={"item_id": "no-such"}, headers=read)
    assert r.status_code == 404


def test_unknown_users_and_items_fall_back_to_popular(client):
    read = client.keys_h["read"]
    r = client.get("/v1/recommend/for-you", params={"user_id": "stranger"}, headers=read).json()
    assert r["fallback"] and len(r["items"]) == 10
    r = client.post("/v1/recommend/next", json={"items": ["not-an-item"]}, headers=read).json()
    assert r["fallback"] and r["ignored_items"] == ["not-an-item"]


def test_an_ingested_event_changes_next_items_on_the_next_request(client, truth):
    read, ingest = client.keys_h["read"], client.keys_h["ingest"]
    item, _ = truth.next_item_rules[0]
    title = client.get(f"/v1/shop/items/{item}", headers=read).json()["title"]
    before = client.get("/v1/recommend/next", params={"user_id": USER}, headers=read).json()
    versions = client.get("/v1/models", headers=read).json()["capabilities"][0]["versions"]
    r = client.post("/v1/events", json={"user_id": USER, "item_id": item, "type": "view"},
                    headers=ingest)
    assert r.json()["live_events"] == 1
    after = client.get("/v1/recommend/next", params={"user_id": USER}, headers=read).json()
    assert [i["item_id"] for i in after["items"]] != [i["item_id"] for i in before["items"]]
    assert any(title in i["reason"] for i in after["items"])
    assert after["model"] == before["model"]  # no retraining happened
    status = client.get("/v1/models", headers=read).json()["capabilities"][0]
    assert status["versions"] == versions and status["live"]["events_pending_fold"] == 1
    # A brand-new user counts at once as well.
    client.post("/v1/events", json={"user_id": "fresh", "item_id": item, "type": "view"},
                headers=ingest)
    fresh = client.get("/v1/recommend/for-you", params={"user_id": "fresh"}, headers=read)
    assert not fresh.json()["fallback"]
    assert client.service.live.fold() == 2  # folded with update_users, answers unchanged
    assert client.get("/v1/recommend/next", params={"user_id": USER},
                      headers=read).json()["items"] == after["items"]


# --------------------------------------------------------------------------- models


def _wait_for_run(client, auth, runs_before, timeout=120):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status = client.get("/v1/models", headers=auth).json()["capabilities"][0]
        if not status["retrain"]["running"] and len(status["retrain"]["runs"]) > runs_before:
            return status
        time.sleep(0.2)
    raise AssertionError("the training run did not finish")


def test_model_status_and_retrain(client):
    admin = client.keys_h["admin"]
    status = client.get("/v1/models", headers=admin).json()["capabilities"][0]
    serving = status["serving"]
    assert serving["metrics"]["ndcg@10"] > 0 and serving["trained_at"] > 0
    assert serving["protocol"] and serving["model"] in ("als", "item-knn", "popularity")
    runs = len(status["retrain"]["runs"])
    r = client.post("/v1/models/retrain", headers=admin)
    assert r.status_code == 202 and r.json()["started"]
    status = _wait_for_run(client, admin, runs)
    assert status["retrain"]["last"]["status"] == "promoted"  # same data: not worse
    versions = client.get("/v1/models/recommend/versions", headers=admin).json()
    assert len(versions) == status["versions"] >= 6
    assert sum(v["serving"] for v in versions) == 1
    assert client.get("/v1/models/nothing/versions", headers=admin).status_code == 404
    assert client.get("/health").json()["serving"]["version"] == status["serving"]["version"]


def test_a_failed_training_never_replaces_the_serving_model(demo_template, tmp_path):
    def broken(store, settings, console):
        raise MemoryError("out of memory while training")

    c = _client(demo_template, tmp_path / "shop", trainer=broken)
    with c:
        admin = c.keys_h["admin"]
        before = c.get("/v1/models", headers=admin).json()["capabilities"][0]
        assert c.post("/v1/models/retrain", headers=admin).status_code == 202
        status = _wait_for_run(c, admin, len(before["retrain"]["runs"]))
        assert status["retrain"]["last"]["status"] == "failed"
        assert "out of memory" in status["retrain"]["runs"][-1]["error"]
        assert status["serving"]["version"] == before["serving"]["version"]
        r = c.get("/v1/recommend/for-you", params={"user_id": USER}, headers=admin)
        assert r.status_code == 200 and not r.json()["fallback"]
        assert c.service.retrain_due() is None  # backs off after a failure
    c.store.close()


def test_a_crashed_training_process_never_replaces_the_serving_model(demo_template, tmp_path,
                                                                     monkeypatch):
    crash = tmp_path / "crash.sh"
    crash.write_text("#!/bin/sh\necho 'Segmentation fault' >&2\nexit 139\n")
    crash.chmod(0o755)
    c = _client(demo_template, tmp_path / "shop", trainer="process")
    with c:
        admin = c.keys_h["admin"]
        before = c.get("/v1/models", headers=admin).json()["capabilities"][0]
        monkeypatch.setattr("shopmind.api.service.sys.executable", str(crash))
        assert c.post("/v1/models/retrain", headers=admin).status_code == 202
        status = _wait_for_run(c, admin, len(before["retrain"]["runs"]))
        last = status["retrain"]["runs"][-1]
        assert last["status"] == "failed" and "exited with 139" in last["error"]
        assert "Segmentation fault" in last["error"]
        assert status["serving"]["version"] == before["serving"]["version"]
    c.store.close()


def test_retrain_policy_starts_a_run_after_n_events(demo_template, tmp_path):
    c = _client(demo_template, tmp_path / "shop", retrain_every_events=3)
    with c:
        assert c.service.retrain_due() is None
        events = [{"user_id": USER, "item_id": f"sku-0000{i}", "type": "view", "ts": 1.77e9 + i}
                  for i in range(1, 4)]
        c.post("/v1/events/batch", json={"events": events}, headers=c.keys_h["ingest"])
        assert c.service.retrain_due() == "3 new events (policy: every 3)"
    c.store.close()


# --------------------------------------------------------------------------- logs


def test_no_personal_data_in_logs(client, caplog):
    caplog.set_level(logging.INFO)
    email, phone = "ann.lee@example.com", "13812345678"
    auth = client.keys_h["admin"]
    client.post("/v1/events", json={"user_id": email, "item_id": "sku-00001", "type": "view",
                                    "context": {"phone": phone}}, headers=auth)
    client.get("/v1/recommend/for-you", params={"user_id": email}, headers=auth)
    client.get(f"/v1/shop/users/{email}/events", headers=auth)
    client.post("/v1/events", json={"user_id": email, "item_id": f"{phone}", "type": "view"},
                headers=auth)  # an error that names the bad value
    logging.getLogger("shopmind.api").error("lookup failed for %s at 221B Baker Street", email)
    assert "GET /v1/shop/users/[email]/events 200" in caplog.text
    assert email not in caplog.text and phone not in caplog.text
    assert "Baker Street" not in caplog.text
