"""Search and review intelligence through the REST API, on the trained demo shop: planted
bilingual products are found, filters and facets are exact, an item ingested through the API is
searchable at once, the issue's review example is analysed aspect by aspect, and an item's
insight recovers the aspect sentiments planted in its reviews."""

from __future__ import annotations

import numpy as np
import pytest
from fastapi.testclient import TestClient

from shopmind.api import create_app
from shopmind.api.testing import copy_shop, demo_shop_template
from shopmind.data.demo import generate_demo_shop
from shopmind.data.store import Store

EXAMPLE = "商品质量不错，物流速度很快，但客服服务态度一般"


@pytest.fixture(scope="module")
def demo():
    return generate_demo_shop(seed=0, n_users=120)  # the shop the template holds


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    """One service over a copy of the trained demo shop for the whole module (the tests that
    write use item ids of their own)."""
    template = demo_shop_template(tmp_path_factory.getbasetemp())
    settings = copy_shop(template, tmp_path_factory.mktemp("search-reviews") / "shop")
    store = Store(settings=settings)
    app = create_app(settings, store, trainer="inline", background=False)
    keys = {scope: app.state.service.keys.create([scope], name=f"test-{scope}")[0]
            for scope in ("ingest", "read")}
    with TestClient(app) as c:
        c.store = store
        c.service = app.state.service
        c.read = {"Authorization": f"Bearer {keys['read']}"}
        c.ingest = {"Authorization": f"Bearer {keys['ingest']}"}
        yield c
    store.close()


def _search(client, **params) -> dict:
    r = client.get("/v1/search", params=params, headers=client.read)
    assert r.status_code == 200, r.text
    return r.json()


def _cases(demo):
    """Phone cases and the phone model each fits, by language."""
    items = demo.items
    is_case = items["category"].str.contains("手机壳|Cases") & \
        items["attributes"].map(lambda a: "compatible_model" in a)
    return items[is_case]


# --------------------------------------------------------------------------- search


def test_search_serves_the_registry_version_with_its_metrics(client):
    status = client.get("/v1/models", headers=client.read).json()
    by_cap = {c["capability"]: c for c in status["capabilities"]}
    assert set(by_cap) >= {"recommend", "search", "reviews"}
    search = by_cap["search"]["serving"]
    assert search["model"] == "product-search" and 0 < search["metrics"]["ndcg@10"] <= 1
    assert "query-disjoint" in search["protocol"]
    reviews = by_cap["reviews"]["serving"]
    assert 0 < reviews["metrics"]["macro_f1"] <= 1 and 0 < reviews["metrics"]["accuracy"] <= 1
    assert by_cap["search"]["live"]["served_version"] == search["version"]
    body = _search(client, q="耳机", k=3)
    assert body["model"]["version"] == search["version"]


@pytest.mark.parametrize("lang", ["zh", "en", "mixed"])
def test_search_finds_the_planted_case_for_a_phone_model(client, demo, lang):
    """"<phone model> 手机壳" / "<phone model> case": the top result is a case for that model —
    in Chinese, English and mixed Chinese-English queries."""
    cases = _cases(demo)
    want_lang = "en" if lang == "en" else "zh"
    rows = cases[cases["language"] == want_lang]
    assert len(rows) >= 3
    compat = dict(zip(demo.items["item_id"], demo.items["attributes"].map(
        lambda a: str(a.get("compatible_model", "")).lower())))
    for _, row in rows.iterrows():
        model = row["attributes"]["compatible_model"]
        query = f"{model} case" if lang == "en" else f"{model} 手机壳"
        if lang == "mixed":
            query = f"{model.lower()} 手机壳"  # Latin model name + Chinese noun, as typed
        body = _search(client, q=query, k=5)
        top = body["items"][0]
        assert set(model.lower().split()) <= set(compat[top["item_id"]].split()), (query, top)
        assert "手机壳" in top["category"] or "Cases" in top["category"]
        assert body["intent"][0]["category"] in ("手机配件 > 手机壳", "Phone Accessories > Cases")


def test_search_corrects_a_misspelled_english_query(client):
    body = _search(client, q="runing shoes", k=5)
    assert body["items"] and all("Running Shoes" in h["title"] or "跑步鞋" in h["category"]
                                 for h in body["items"][:3])
    assert body["corrected"] and "running" in body["corrected"]


def test_filters_are_exact_and_facets_disjunctive(client):
    everything = _search(client, q="耳机", k=100)
    assert everything["total"] >= 5
    assert sum(everything["facets"]["category"].values()) == everything["total"]
    brands = everything["facets"]["brand"]
    brand = max(brands, key=brands.get)
    one = _search(client, q="耳机", brand=brand, k=100)
    assert one["total"] == brands[brand] == len(one["items"])
    assert all(h["brand"] == brand for h in one["items"])
    assert one["facets"]["brand"] == brands  # the brand facet ignores the brand filter
    prices = sorted(h["price"] for h in everything["items"] if h["price"] is not None)
    lo, hi = prices[len(prices) // 4], prices[3 * len(prices) // 4]
    ranged = _search(client, q="耳机", min_price=lo, max_price=hi, in_stock=True, k=100)
    assert ranged["items"] and all(lo <= h["price"] <= hi and h["stock"] > 0
                                   for h in ranged["items"])
    top = next(iter(everything["facets"]["category"]))
    scoped = _search(client, q="耳机", category=top, k=100)
    assert scoped["items"] and all(h["category"].startswith(top) for h in scoped["items"])
    assert scoped["total"] == everything["facets"]["category"][top]


def test_search_input_errors_and_auth(client):
    r = client.get("/v1/search", params={"q": "tea", "min_price": 50, "max_price": 10},
                   headers=client.read)
    assert r.status_code == 422 and r.json()["detail"][0]["field"] == "min_price"
    assert "swap" in r.json()["detail"][0]["reason"]
    r = client.get("/v1/search", params={"q": "tea", "k": 0}, headers=client.read)
    assert r.status_code == 422 and r.json()["detail"][0]["field"] == "k"
    assert client.get("/v1/search", params={"q": "tea"}).status_code == 401
    assert client.get("/v1/search", params={"q": "tea"}, headers=client.ingest).status_code == 403


def test_a_known_user_gets_a_personalised_search(client):
    user = client.service.active_users(1)[0]["user_id"]
    mine = _search(client, q="手机壳", user_id=user, k=10)
    anonymous = _search(client, q="手机壳", k=10)
    assert mine["personalised"] and not anonymous["personalised"]
    assert _search(client, q="手机壳", user_id="nobody-at-all", k=10)["personalised"] is False
    # Personalisation reorders close calls among relevant items, it does not change the match.
    assert mine["total"] == anonymous["total"]
    assert all("手机壳" in h["category"] or "Cases" in h["category"] for h in mine["items"])
    wide = {h["item_id"] for h in _search(client, q="手机壳", k=30)["items"]}
    assert {h["item_id"] for h in mine["items"]} <= wide
    # The items this user's recommender likes most among the results move up.
    live = client.service.live
    history, _, _ = live.history(user)
    scores = live.score(history)

    def liked(body):
        return np.mean([scores[live.item_index(h["item_id"])] for h in body["items"][:5]])

    assert liked(mine) >= liked(anonymous)


def test_personal_reordering_moves_close_calls_only():
    from shopmind.api.intelligence import PERSONAL_WEIGHT, _personal_order

    scores = np.array([10.0, 9.9, 9.8, 9.7, 9.6, 9.5, 9.4, 9.3, 9.2, 9.1, 5.0, 4.0])
    ids = np.array([f"i{j}" for j in range(len(scores))], dtype=object)
    liked = {"i1": 3.0, "i11": 100.0}  # the user's recommender loves a poor match

    order, personal = _personal_order(scores, lambda items: np.array(
        [liked.get(i, 0.0) for i in items]), ids)
    ranked = ids[order].tolist()
    assert ranked[0] == "i1"  # a close call: 0.1 behind, liked more
    assert ranked[-2:] == ["i10", "i11"]  # a poor match stays below every better one
    assert personal.max() - scores.max() <= PERSONAL_WEIGHT * (10.0 - 9.1) + 1e-9
    order, _ = _personal_order(scores, None, ids)
    assert order.tolist() == list(range(len(ids)))


def test_autocomplete_from_queries_and_catalog(client):
    r = client.get("/v1/search/suggest", params={"q": "iph"}, headers=client.read)
    assert r.status_code == 200
    suggestions = r.json()["suggestions"]
    # a word of each suggestion starts with what was typed; whole-query starts come first
    assert suggestions and all(any(w.startswith("iph") for w in s.lower().split())
                               for s in suggestions)
    assert suggestions[0].lower().startswith("iph")
    zh = client.get("/v1/search/suggest", params={"q": "手机"}, headers=client.read).json()
    assert zh["suggestions"] and all("手机" in s for s in zh["suggestions"])
    r = client.get("/v1/search/suggest", params={"q": "x" * 201}, headers=client.read)
    assert r.status_code == 422 and r.json()["detail"][0]["field"] == "q"


def test_an_ingested_item_is_searchable_at_once_and_updates(client):
    item = {"item_id": "new-mug-1", "title": "星空渐变陶瓷马克杯 Nebula Gradient Mug",
            "category": "家居 > 杯具", "brand": "Zephyrine", "price": 59.0, "stock": 3}
    assert _search(client, q="Zephyrine nebula mug")["items"][0]["item_id"] != "new-mug-1"
    r = client.post("/v1/items", json=item, headers=client.ingest)
    assert r.status_code == 200, r.text
    for query in ("星空渐变马克杯", "nebula gradient mug", "Zephyrine"):
        assert _search(client, q=query, k=3)["items"][0]["item_id"] == "new-mug-1", query
    hit = _search(client, q="nebula mug", brand="Zephyrine")
    assert hit["total"] == 1 and hit["items"][0]["price"] == 59.0
    # A changed title replaces the old one in the index.
    changed = {**item, "title": "极光琉璃保温杯 Aurora Glass Tumbler"}
    r = client.post("/v1/items", params={"update": "true"}, json=changed,
                    headers=client.ingest)
    assert r.status_code == 200, r.text
    assert _search(client, q="aurora tumbler", k=3)["items"][0]["item_id"] == "new-mug-1"
    assert all(h["item_id"] != "new-mug-1" for h in _search(client, q="nebula", k=20)["items"])
    assert client.service.intelligence.items_added >= 2


def test_a_new_search_version_is_served_with_the_items_ingested_since(client):
    """A newly promoted version (trained before these items existed) is loaded and gets every
    item stored after its training, so nothing that was findable disappears."""
    registry = client.service.registry
    old = registry.serving("search")
    item = {"item_id": "late-item-1", "title": "Quokka Plush Toy 短尾矮袋鼠毛绒玩具",
            "category": "Toys", "price": 39.0, "stock": 8}
    assert client.post("/v1/items", json=item, headers=client.ingest).status_code == 200
    new = registry.add("search", old.model, old.path, old.metrics, protocol=old.protocol,
                       data=old.data, move=False)  # the same (older) artifact, a new version
    registry.promote("search", new.version, "test")
    assert client.service.intelligence.load_serving()
    body = _search(client, q="quokka plush", k=3)
    assert body["model"]["version"] == new.version != old.version
    assert body["items"][0]["item_id"] == "late-item-1"
    assert _search(client, q="短尾矮袋鼠", k=3)["items"][0]["item_id"] == "late-item-1"


def test_search_without_a_model_says_what_to_do(tmp_path):
    from shopmind.api.testing import shop_settings

    settings = shop_settings(tmp_path / "empty")
    store = Store(settings=settings)
    app = create_app(settings, store, trainer="inline", background=False)
    token, _ = app.state.service.keys.create(["read"], name="t")
    with TestClient(app) as c:
        r = c.get("/v1/search", params={"q": "tea"}, headers={"Authorization": f"Bearer {token}"})
        assert r.status_code == 503 and "shopmind demo" in r.json()["detail"]
        # Review analysis still answers, from the lexicon alone.
        r = c.post("/v1/reviews/analyze", json={"text": EXAMPLE},
                   headers={"Authorization": f"Bearer {token}"})
        assert r.status_code == 200 and r.json()["model"] is None
    store.close()


# --------------------------------------------------------------------------- reviews


def test_analyze_the_issue_example(client):
    r = client.post("/v1/reviews/analyze", json={"text": EXAMPLE}, headers=client.read)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["model"]["capability"] == "reviews"
    result = body["results"][0]
    got = {a["aspect"]: a for a in result["aspects"]}
    assert got["quality"]["polarity"] == "positive" and "不错" in got["quality"]["opinions"]
    assert got["logistics"]["polarity"] == "positive" and "快" in got["logistics"]["opinions"]
    assert got["service"]["polarity"] in ("neutral", "negative") and got["service"]["score"] < 0
    assert got["service"]["opinions"] == ["一般"]
    for a in result["aspects"]:
        assert EXAMPLE[a["start"]:a["end"]] == a["evidence"]
    assert result["language"] == "zh"


def test_analyze_a_batch_and_bad_bodies(client):
    texts = ["Terrible quality, it broke after two days.", "发货超快，包装也很好"]
    r = client.post("/v1/reviews/analyze", json={"texts": texts}, headers=client.read)
    assert r.status_code == 200
    first, second = r.json()["results"]
    assert first["polarity"] == "negative"
    assert {a["aspect"]: a["polarity"] for a in first["aspects"]}["quality"] == "negative"
    # (the document score comes from a model trained on ~150 demo reviews: only its sign)
    assert second["polarity"] != "negative" and second["score"] > 0
    aspects = {a["aspect"]: a["polarity"] for a in second["aspects"]}
    assert aspects["logistics"] == aspects["packaging"] == "positive"
    r = client.post("/v1/reviews/analyze", json={"texts": texts, "categories": ["数码", None]},
                    headers=client.read)
    assert r.status_code == 200 and len(r.json()["results"]) == 2
    r = client.post("/v1/reviews/analyze", json={"text": "物流很快，但是包装破了", "terms": ["包装", "电池"]},
                    headers=client.read)
    [term] = r.json()["results"][0]["terms"]  # 电池 is not in the review
    assert (term["term"], term["polarity"], term["evidence"]) == ("包装", "negative", "但是包装破了")
    assert "物流很快，但是包装破了"[term["start"]:term["end"]] == "包装"
    r = client.post("/v1/reviews/analyze", json={"text": "做工很好，但是物流太慢了",
                                                 "terms": ["logistics", "价格"]},
                    headers=client.read)
    [term] = r.json()["results"][0]["terms"]  # an aspect asked by name; the price is not said
    assert (term["term"], term["polarity"], term["evidence"]) == ("logistics", "negative",
                                                                 "但是物流太慢了")
    for body in ({}, {"text": "好", "texts": ["好"]}, {"texts": []}, {"text": ""},
                 {"text": "好", "terms": []}, {"text": "好", "terms": [" "]},
                 {"texts": texts, "categories": ["数码"]},
                 {"text": "好", "category": "数码", "categories": ["数码"]}):
        r = client.post("/v1/reviews/analyze", json=body, headers=client.read)
        assert r.status_code == 422, body
    r = client.post("/v1/reviews/analyze", json={"texts": texts, "categories": ["数码"]},
                    headers=client.read)
    assert "'categories' has 1 entries for 2 texts" in r.json()["detail"][0]["reason"]
    r = client.post("/v1/reviews/analyze", json={}, headers=client.read)
    assert "exactly one of 'text'" in r.json()["detail"][0]["reason"]


def test_item_insight_recovers_the_planted_aspect_sentiments(client, demo):
    counts = demo.reviews["item_id"].value_counts()
    agree = checked = 0
    for item_id in counts.index[:8]:
        r = client.get("/v1/reviews/insight", params={"item_id": item_id, "period": "week"},
                       headers=client.read)
        assert r.status_code == 200, r.text
        report = r.json()
        assert report["n_reviews"] == counts[item_id] and report["scope"] == {"item_id": item_id}
        planted = demo.truth.item_aspects[item_id]
        for a in report["aspects"]:
            if a["mentions"] >= 2 and abs(planted.get(a["aspect"], 0.0)) >= 0.5:
                checked += 1
                agree += np.sign(a["net"]) == np.sign(planted[a["aspect"]])
        for kind, sign in (("praises", 1), ("complaints", -1)):
            for entry in report[kind]:
                assert entry["quotes"] and entry["quotes"][0]["text"]
                aspect = next(a for a in report["aspects"] if a["aspect"] == entry["aspect"])
                assert np.sign(aspect["positive"] - aspect["negative"]) in (sign, 0)
        assert report["summary"] and report["trend"]
    assert checked >= 8 and agree / checked >= 0.85, (agree, checked)


def test_category_insight_and_errors(client, demo):
    r = client.get("/v1/reviews/insight", params={"category": "Electronics"},
                   headers=client.read)
    assert r.status_code == 200, r.text
    report = r.json()
    items = demo.items
    in_cat = set(items.loc[items["category"].str.startswith("Electronics"), "item_id"])
    assert report["n_reviews"] == int(demo.reviews["item_id"].isin(in_cat).sum())
    assert report["aspects"] and len(report["trend"]) >= 2
    assert all(p["mean_score"] is None or -1 <= p["mean_score"] <= 1 for p in report["trend"])
    read = client.read
    assert client.get("/v1/reviews/insight", params={"item_id": "nope"},
                      headers=read).status_code == 404
    assert client.get("/v1/reviews/insight", params={"category": "No Such Aisle"},
                      headers=read).status_code == 404
    unreviewed = next(i for i in items["item_id"] if i not in set(demo.reviews["item_id"]))
    r = client.get("/v1/reviews/insight", params={"item_id": unreviewed}, headers=read)
    assert r.status_code == 404 and "no reviews" in r.json()["detail"]
    r = client.get("/v1/reviews/insight", headers=read)
    assert r.status_code == 422 and "exactly one" in r.json()["detail"][0]["reason"]
    r = client.get("/v1/reviews/insight", params={"item_id": "x", "category": "y"}, headers=read)
    assert r.status_code == 422
    r = client.get("/v1/reviews/insight", params={"item_id": unreviewed, "period": "year"},
                   headers=read)
    assert r.status_code == 422 and r.json()["detail"][0]["field"] == "period"


def test_ingested_reviews_reach_the_insight(client, demo):
    item_id = demo.reviews["item_id"].value_counts().index[0]
    before = client.get("/v1/reviews/insight", params={"item_id": item_id},
                        headers=client.read).json()
    review = {"review_id": "api-review-1", "item_id": item_id, "rating": 1,
              "text": "包装破损严重，盒子都压扁了", "ts": 1.7768e9}
    r = client.post("/v1/reviews", json=review, headers=client.ingest)
    assert r.status_code == 200, r.text
    after = client.get("/v1/reviews/insight", params={"item_id": item_id},
                       headers=client.read).json()
    assert after["n_reviews"] == before["n_reviews"] + 1
    packaging = {a["aspect"]: a for a in after["aspects"]}["packaging"]
    old = {a["aspect"]: a for a in before["aspects"]}.get("packaging", {"negative": 0})
    assert packaging["negative"] == old["negative"] + 1
