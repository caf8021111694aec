"""The recommend endpoints take the library's ordering rules as query parameters: pin, boost,
bury, diversity and a per-category cap, on every list."""

from __future__ import annotations

import numpy as np
import pytest
from fastapi.testclient import TestClient

from shopmind.api import create_app
from shopmind.api.testing import copy_shop, demo_shop_template
from shopmind.data.store import Store

USER = "u-00005"


@pytest.fixture
def client(tmp_path_factory, tmp_path):
    settings = copy_shop(demo_shop_template(tmp_path_factory.getbasetemp()), tmp_path / "shop")
    store = Store(settings=settings)
    app = create_app(settings, store, trainer="inline", background=False)
    token = app.state.service.keys.create(["read"], name="test")[0]
    with TestClient(app) as c:
        c.headers.update({"Authorization": f"Bearer {token}"})
        yield c
    store.close()


def _ids(r) -> list[str]:
    assert r.status_code == 200, r.text
    return [i["item_id"] for i in r.json()["items"]]


def test_pin_bury_and_boost_on_a_personal_list(client):
    base = {"user_id": USER, "k": 10}
    plain = _ids(client.get("/v1/recommend/for-you", params=base))
    pinned = _ids(client.get("/v1/recommend/for-you",
                             params={**base, "pin": [f"{plain[-1]}@1", "sku-00002@3"]}))
    assert pinned[0] == plain[-1] and pinned[2] == "sku-00002" and len(set(pinned)) == 10
    buried = _ids(client.get("/v1/recommend/for-you", params={**base, "bury": plain[0]}))
    assert plain[0] not in buried and buried[0] == plain[1]
    boosted = _ids(client.get("/v1/recommend/for-you",
                              params={**base, "boost": f"{plain[5]}=100"}))
    assert boosted[0] == plain[5]


def test_diversity_and_category_cap_spread_a_list(client):
    def similar(params):
        r = client.get("/v1/recommend/similar", params={"item_id": "sku-00007", "k": 10, **params})
        assert r.status_code == 200, r.text
        return r.json()["items"]

    live = client.app.state.service.live

    def redundancy(items) -> float:  # mean pairwise similarity under the serving model
        idx = np.array([live.item_index(i["item_id"]) for i in items])
        sim = live.similarity_between(idx, idx)
        return float((sim.sum() - np.trace(sim)) / (len(idx) * (len(idx) - 1)))

    plain = similar({})
    diverse = similar({"diversity": 0.8})
    assert len(diverse) == len(plain) == 10
    assert redundancy(diverse) < 0.8 * redundancy(plain)
    assert diverse[0]["item_id"] == plain[0]["item_id"]  # the closest item still leads
    before = [i["category"] for i in plain[:5]]
    assert len(set(before)) < 5  # a category repeats in the plain top 5 …
    capped = [i["category"] for i in similar({"max_per_category": 1, "k": 5})]
    assert len(set(capped)) == 5  # … and not with the cap


def test_trending_without_what_the_user_bought_and_bad_rules(client):
    read = client.get("/v1/recommend/buy-again", params={"user_id": USER, "k": 100})
    bought = set(_ids(read))
    trend = _ids(client.get("/v1/recommend/trending", params={"k": 50, "days": 60}))
    mine = _ids(client.get("/v1/recommend/trending",
                           params={"k": 50, "days": 60, "user_id": USER}))
    assert bought & set(trend), "the test needs a user who bought a trending item"
    assert not bought & set(mine)
    r = client.get("/v1/recommend/for-you", params={"user_id": USER, "pin": "sku-1"})
    assert r.status_code == 422 and "ITEM@POSITION" in r.text
    r = client.get("/v1/recommend/for-you", params={"user_id": USER, "diversity": 3})
    assert r.status_code == 422
