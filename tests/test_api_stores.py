"""The service on both stores (SQLite, and PostgreSQL when SHOPMIND_TEST_PG_URL is set): keys,
ingestion with idempotency, live learning, every recommendation list, model status."""

from __future__ import annotations

from fastapi.testclient import TestClient

from shopmind.api import create_app
from shopmind.data.demo import generate_demo_shop
from shopmind.live import retrain


def test_the_service_on_each_store(store, settings):
    store.ingest(generate_demo_shop(seed=4, n_users=40, n_items=150, days=30).batch())
    assert retrain(store, settings)["status"] == "promoted"
    app = create_app(settings, store, trainer="inline", background=False)
    token, _ = app.state.service.keys.create(["admin"])
    auth = {"Authorization": f"Bearer {token}"}
    user = store.read_table("events", ["user_id"])["user_id"].iloc[0]
    item = store.read_table("items", ["item_id"])["item_id"].iloc[0]
    with TestClient(app) as client:
        assert client.get("/v1/floor").status_code == 401
        event = {"user_id": user, "item_id": item, "type": "view"}
        idem = {**auth, "Idempotency-Key": "same-request"}
        assert client.post("/v1/events", json=event, headers=idem).json()["live_events"] == 1
        assert client.post("/v1/events", json=event, headers=idem).json()["unchanged"] == {
            "users": 0, "events": 1}
        for path, params in [("/v1/recommend/for-you", {"user_id": user}),
                             ("/v1/recommend/next", {"user_id": user}),
                             ("/v1/recommend/similar", {"item_id": item}),
                             ("/v1/recommend/trending", {"days": 30}),
                             ("/v1/recommend/buy-again", {"user_id": user}),
                             ("/v1/recommend/bought-together", {"item_id": item}),
                             ("/v1/shop/users", {"prefix": "u-"}),
                             ("/v1/shop/activity", {"days": 7}),
                             ("/v1/models", {})]:
            r = client.get(path, params=params, headers=auth)
            assert r.status_code == 200, (path, r.text)
        assert client.get("/v1/recommend/for-you", params={"user_id": user},
                          headers=auth).json()["items"]
        bad = {"events": [event, {**event, "item_id": "missing"}]}
        r = client.post("/v1/events/batch", json=bad, headers=auth)
        assert r.status_code == 422 and r.json()["detail"][0]["field"] == "events[1].item_id"
