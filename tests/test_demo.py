"""The demo shop: deterministic, accepted by the store, and its planted structure is visible."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from shopmind.data import demo_catalog
from shopmind.data.demo import DEMO_START, generate_demo_shop
from shopmind.data.schema import ENTITY_FIELDS, ORDER_STATUSES
from shopmind.data.store import Store

DAY = 86400.0
FRAMES = ("items", "users", "events", "reviews", "orders")
CJK = re.compile(r"[\u4e00-\u9fff]")


@pytest.fixture(scope="module")
def shop():
    return generate_demo_shop(seed=0)


@pytest.fixture(scope="module")
def item_events(shop) -> pd.DataFrame:
    ev = shop.events[shop.events["item_id"].notna()].copy()
    ev["top"] = ev["item_id"].map(shop.truth.item_top_category)
    return ev


# ------------------------------------------------------------------ determinism and format


def test_same_seed_gives_the_same_shop(shop):
    again = generate_demo_shop(seed=0)
    for name in FRAMES:
        pd.testing.assert_frame_equal(getattr(again, name), getattr(shop, name))
    assert again.truth == shop.truth


def test_another_seed_gives_another_shop(shop):
    other = generate_demo_shop(seed=1, n_users=200)
    assert not other.items["title"].equals(shop.items["title"])
    assert not other.events.head(200).equals(shop.events.head(200))


def test_default_sizes_and_time_range(shop):
    assert len(shop.items) == 500
    assert len(shop.users) == 800
    assert 30_000 <= len(shop.events) <= 60_000
    assert len(shop.orders["order_id"].unique()) > 1000
    assert len(shop.reviews) > 500
    assert shop.items["item_id"].str.fullmatch(r"sku-\d{5}").all()
    assert shop.users["user_id"].str.fullmatch(r"u-\d{5}").all()
    ts = shop.events["ts"]
    assert ts.min() >= DEMO_START and ts.max() <= DEMO_START + 120 * DAY
    assert ts.is_monotonic_increasing


def test_frames_use_canonical_columns(shop):
    for name in FRAMES:
        allowed = {spec.name for spec in ENTITY_FIELDS[name]}
        required = {spec.name for spec in ENTITY_FIELDS[name] if spec.required}
        columns = set(getattr(shop, name).columns)
        assert required <= columns <= allowed, name


def test_catalog_is_bilingual_with_a_category_tree(shop):
    items = shop.items
    counts = items["language"].value_counts()
    assert set(counts.index) == {"zh", "en"} and counts.min() > 0.35 * len(items)
    zh, en = items[items["language"] == "zh"], items[items["language"] == "en"]
    assert zh["category"].map(lambda c: bool(CJK.search(c))).all()
    assert not en["category"].map(lambda c: bool(CJK.search(c))).any()
    assert items["category"].str.count(" > ").between(1, 2).all()
    assert 8 <= len(set(shop.truth.item_top_category.values())) <= 10
    # mixed titles such as "iPhone 15 透明防摔手机壳"
    assert zh["title"].str.contains(r"[A-Za-z]{3}", regex=True).sum() >= 10
    assert (items["currency"] == "CNY").all()
    assert (items["price"] > 0).all() and (items["stock"] == 0).any()
    phones = items[items["category"].str.endswith(("智能手机", "Smartphones"))]
    cables = items[items["category"].str.endswith(("数据线", "Cables"))]
    assert phones["price"].median() > 20 * cables["price"].median()
    assert items["description"].str.len().min() > 20
    assert all(isinstance(a, dict) and a for a in items["attributes"])


def test_store_accepts_the_whole_shop(shop, tmp_path):
    store = Store(f"sqlite:///{tmp_path}/s.db")
    report = store.ingest(shop.batch())
    counts = store.counts()
    assert counts["items"] == len(shop.items)
    assert counts["users"] == len(shop.users)
    assert counts["events"] == len(shop.events)
    assert counts["reviews"] == len(shop.reviews)
    assert counts["orders"] == shop.orders["order_id"].nunique()
    assert counts["order_lines"] == len(shop.orders)
    assert report.inserted["events"] == len(shop.events)
    stats = store.stats()
    assert set(stats["orders_by_status"]) == set(ORDER_STATUSES)
    assert set(store.reviews_frame()["language"]) == {"zh", "en"}
    assert set(store.items_frame()["language"]) == {"zh", "en"}
    again = store.ingest(shop.batch())  # idempotent
    assert sum(again.inserted.values()) == 0 and sum(again.updated.values()) == 0
    store.close()


def test_small_shops_work_and_tiny_catalogs_are_refused():
    small = generate_demo_shop(seed=5, n_users=30, n_items=120, days=10, scale=0.5)
    small.batch()
    assert len(small.items) == 120 and len(small.users) == 30
    with pytest.raises(ValueError, match="n_items"):
        generate_demo_shop(n_items=50)


def test_orders_come_from_purchases(shop):
    orders = shop.orders
    assert set(orders["status"]) == set(ORDER_STATUSES)
    assert (orders["updated_at"] >= orders["created_at"]).all()
    assert (orders["quantity"] >= 1).all()
    price = orders["item_id"].map(shop.items.set_index("item_id")["price"])
    assert (orders["unit_price"] <= price + 1e-9).all()
    assert (orders["unit_price"] < price).any()  # promotions
    purchases = shop.events[shop.events["type"] == "purchase"]
    assert len(purchases) == len(orders)
    first = purchases.groupby("session_id").agg(user_id=("user_id", "first"), ts=("ts", "min"))
    assert sorted(first["ts"]) == sorted(orders.drop_duplicates("order_id")["created_at"])
    delivered = orders.drop_duplicates("order_id")
    delivered = delivered[delivered["status"] == "delivered"]
    assert (delivered[["shipping_status", "payment_status"]] == ["delivered", "paid"]).all().all()


def test_searches_carry_bilingual_queries(shop):
    searches = shop.events[shop.events["type"] == "search"]
    assert searches["item_id"].isna().all()
    queries = searches["context"].map(lambda c: c["query"])
    has_cjk = queries.map(lambda q: bool(CJK.search(q)))
    assert 0.2 < has_cjk.mean() < 0.9
    ratings = shop.events[shop.events["type"] == "rating"]["value"]
    assert ratings.between(1, 5).all() and len(ratings) > 100


# ------------------------------------------------------------------ planted structure


def test_users_browse_mostly_their_taste_categories(shop, item_events):
    taste = shop.truth.user_taste
    assert all(1 <= len(t) <= 2 for t in taste.values())
    in_taste = [top in taste[u] for u, top in zip(item_events["user_id"], item_events["top"],
                                                   strict=True)]
    users = list(taste)
    shuffled = dict(zip(users, np.random.default_rng(0).permutation(users), strict=True))
    by_chance = [top in taste[shuffled[u]]
                 for u, top in zip(item_events["user_id"], item_events["top"], strict=True)]
    assert np.mean(in_taste) > 0.65
    assert np.mean(in_taste) > 3 * np.mean(by_chance)


def test_next_item_rules_show_in_sequences(shop, item_events):
    rules = dict(shop.truth.next_item_rules)
    assert len(rules) >= 30
    acts = item_events[item_events["type"].isin(["view", "click", "add_to_cart", "purchase"])]
    acts = acts.sort_values(["user_id", "ts"], kind="stable")
    same_user = acts["user_id"].to_numpy()[1:] == acts["user_id"].to_numpy()[:-1]
    items = acts["item_id"].to_numpy()
    moves = (same_user & (items[1:] != items[:-1]))
    prev, nxt = items[:-1][moves], items[1:][moves]
    from_antecedent = np.array([p in rules for p in prev])
    hits = np.array([rules.get(p) == n for p, n in zip(prev, nxt, strict=True)])
    hit_rate = hits[from_antecedent].mean()
    share = acts["item_id"].value_counts(normalize=True)
    base_rate = np.mean([share.get(c, 0.0) for c in rules.values()])
    assert from_antecedent.sum() > 300
    assert hit_rate > 0.2
    assert hit_rate > 50 * base_rate
    # the chain phone -> case -> charger: the consequent of a consequent is an antecedent too
    assert any(c in rules for c in rules.values())


def test_complements_are_bought_together(shop):
    complements = shop.truth.complements
    assert all(a in complements[b] for a, bs in complements.items() for b in bs)
    baskets = shop.orders.groupby("order_id")["item_id"].apply(set)
    with_one = [b for b in baskets for a in b if a in complements]
    together = [bool(set(complements[a]) & b) for b in baskets for a in b if a in complements]
    assert len(with_one) > 100
    assert np.mean(together) > 0.3


def test_review_ratings_follow_planted_aspects(shop):
    truth, reviews = shop.truth, shop.reviews
    assert set(truth.review_aspects) == set(reviews["review_id"])
    sign = {"positive": 1.0, "neutral": 0.0, "negative": -1.0}
    expressed = [np.mean([sign[p] for p in truth.review_aspects[r].values()])
                 for r in reviews["review_id"]]
    planted = [np.mean([truth.item_aspects[i][a] for a in truth.review_aspects[r]])
               for r, i in zip(reviews["review_id"], reviews["item_id"], strict=True)]
    assert np.corrcoef(reviews["rating"], expressed)[0, 1] > 0.6
    assert np.corrcoef(reviews["rating"], planted)[0, 1] > 0.5
    polarities = {p for aspects in truth.review_aspects.values() for p in aspects.values()}
    assert polarities == {"positive", "neutral", "negative"}
    aspects = {a for aspects in truth.review_aspects.values() for a in aspects}
    assert {"quality", "logistics", "service", "price", "packaging", "fit", "appearance",
            "performance", "authenticity"} <= aspects


def test_review_texts_say_what_the_truth_says(shop):
    lang_index = {"zh": 0, "en": 1}
    for row in shop.reviews.itertuples():
        text = row.text.lower()
        assert CJK.search(text) if row.language == "zh" else not CJK.search(text)
        for aspect, polarity in shop.truth.review_aspects[row.review_id].items():
            options = demo_catalog.ASPECT_PHRASES[aspect][polarity][lang_index[row.language]]
            assert any(o.lower() in text for o in options), (row.text, aspect, polarity)


def test_item_aspects_include_contrasting_products(shop):
    item_aspects = shop.truth.item_aspects
    assert set(item_aspects) == set(shop.items["item_id"])
    assert all(-1 <= v <= 1 for means in item_aspects.values() for v in means.values())
    good_but_slow = [i for i, m in item_aspects.items()
                     if m["quality"] > 0.5 and m["logistics"] < -0.4]
    assert good_but_slow


def test_demand_has_weekly_profile_trend_and_elasticity(shop, item_events):
    demand = shop.truth.demand
    day = ((item_events["ts"] - demand.start) // DAY).astype(int)
    weekday = ((demand.start // DAY + day + 3) % 7).astype(int)
    days_per_weekday = np.bincount(((demand.start // DAY + np.arange(demand.days) + 3) % 7)
                                   .astype(int), minlength=7)
    for category in ("Clothing", "Computers & Office", "Food & Drinks"):
        sel = (item_events["top"] == category).to_numpy()
        rate = np.bincount(weekday[sel], minlength=7) / days_per_weekday
        assert np.corrcoef(rate, demand.weekly[category])[0, 1] > 0.7, category
    sports = (item_events["top"] == "Sports & Outdoors").to_numpy()
    first_half = (sports & (day < demand.days // 2).to_numpy()).sum()
    second_half = (sports & (day >= demand.days // 2).to_numpy()).sum()
    assert demand.trend["Sports & Outdoors"] > 0 and second_half > 1.1 * first_half
    # promotions lift views of elastic items
    views = item_events[item_events["type"] == "view"]
    views = views[views["item_id"].isin(list(demand.elasticity))]
    in_promo = np.zeros(len(views), dtype=bool)
    for p in demand.promotions:
        in_promo |= ((views["item_id"] == p.item_id) & (views["ts"] >= p.start)
                     & (views["ts"] < p.end)).to_numpy()
    promo_days = sum((p.end - p.start) / DAY for p in demand.promotions)
    other_days = len(demand.elasticity) * demand.days - promo_days
    lift = (in_promo.sum() / promo_days) / ((~in_promo).sum() / other_days)
    assert all(e < 0 for e in demand.elasticity.values())
    assert lift > 1.2
