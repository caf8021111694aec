"""The lists without a personal model (trending, buy again, bought together) recover what was
planted, and their reasons carry the numbers behind them."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from shopmind.data.demo import generate_demo_shop
from shopmind.recommend.buy_again import repeat_purchases
from shopmind.recommend.catalog import ItemCatalog
from shopmind.recommend.lists import buy_again_list, together_list, trending_list
from shopmind.recommend.rules import Rules
from shopmind.recommend.together import BoughtTogether
from shopmind.recommend.trending import DAY, trending


@pytest.fixture(scope="module")
def shop():
    return generate_demo_shop(seed=0, n_users=300)


def _steady_shop_with_a_spike(seed=0) -> pd.DataFrame:
    """30 days: 20 items viewed at a steady rate (item s00 the most), one item ('spike')
    barely seen for 26 days and then heavily in the last 4; one ('faded') hot only long ago."""
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(20):
        n = 300 - 10 * i
        rows += [(f"s{i:02d}", "view", t) for t in rng.uniform(0, 30, n)]
    rows += [("spike", "view", t) for t in rng.uniform(0, 26, 8)]
    rows += [("spike", "add_to_cart", t) for t in rng.uniform(26, 30, 60)]
    rows += [("faded", "purchase", t) for t in rng.uniform(0, 10, 200)]
    frame = pd.DataFrame(rows, columns=["item_id", "type", "ts"])
    frame["ts"] *= DAY
    return frame


def test_trending_recovers_a_planted_spike_and_its_change():
    events = _steady_shop_with_a_spike()
    table = trending(events, days=7, now=30 * DAY,
                     categories={"spike": "Toys > Kites", "s00": "Toys > Balls"})
    assert table["item_id"].iloc[0] == "spike"
    spike = table.iloc[0]
    assert spike["now"] == 60 + (events.query("item_id == 'spike' and ts > 23 * @DAY "
                                              "and ts <= 26 * @DAY").shape[0])
    assert spike["change"] > 5  # many times the week before
    steady = table.set_index("item_id").loc["s00"]
    assert abs(steady["change"]) < 0.5  # a steady item: about no change
    assert "faded" not in set(table["item_id"])  # all-time popular, not trending
    assert spike["category"] == "Toys" and spike["rank_in_category"] == 1
    cat = ItemCatalog(["spike", "s00", "s01"], categories=["Toys > Kites", "Toys > Balls", None])
    picks = trending_list(table, cat, Rules(), k=2, days=7)
    assert picks.item_ids.tolist() == ["spike", "s00"]
    assert picks.reasons[0].text().startswith("trending: #1 in Toys, ")
    assert picks.reasons[1].text().startswith("trending: #2 in Toys, ")


def test_trending_is_robust_to_the_seed():
    for seed in range(3):
        assert trending(_steady_shop_with_a_spike(seed), days=7)["item_id"].iloc[0] == "spike"


def test_bought_together_recovers_the_planted_complements(shop):
    orders = pd.DataFrame({"basket": shop.orders["order_id"], "item_id": shop.orders["item_id"]})
    fbt = BoughtTogether().fit(orders)
    hits, asked = 0, 0
    for item, partners in shop.truth.complements.items():
        found = fbt.with_item(item, 1)
        if not found:
            continue
        asked += 1
        hits += found[0][0] in partners
        assert found[0][2] == "together"
    assert asked >= 20
    assert hits / asked >= 0.75
    # the most bought items are no such partners: the pairs are not just popularity
    popular = shop.orders["item_id"].value_counts().index[0]
    share = np.mean([popular in p for p in shop.truth.complements.values()])
    assert share < 0.1


def test_bought_together_falls_back_to_same_session_carts():
    orders = pd.DataFrame({"basket": ["o1", "o1"], "item_id": ["tent", "bag"]})
    sessions = pd.DataFrame({"basket": ["s1", "s1", "s2", "s2", "s3", "s3"],
                             "item_id": ["lamp", "tent", "lamp", "stove", "lamp", "stove"]})
    fbt = BoughtTogether().fit(orders, sessions)
    assert fbt.with_item("tent") == [("bag", 1, "together")]  # orders win where they exist
    assert fbt.with_item("lamp") == [("stove", 2, "cart_together"), ("tent", 1, "cart_together")]
    cat = ItemCatalog(["tent", "bag", "lamp", "stove"], titles=["Tent", "Bag", "Lamp", "Stove"],
                      stock=[1, 1, 1, 0])
    picks = together_list("lamp", fbt.with_item("lamp"), cat, Rules(in_stock=True), k=5)
    assert picks.item_ids.tolist() == ["tent"]
    assert picks.reasons[0].text(cat.title).startswith("often bought with “Lamp”")
    assert picks.scores[0] == pytest.approx(1, abs=0.5)


def test_buy_again_finds_repeat_purchases_once_each():
    day = DAY
    events = pd.DataFrame({"user_id": ["u"] * 5 + ["v"],
                           "item_id": ["beans", "beans", "beans", "mug", "filter", "beans"],
                           "ts": [0, 14 * day, 28 * day, 3 * day, 20 * day, 1 * day]})
    # the same orders recorded again as order lines: counted once, not twice
    orders = events[events["user_id"] == "u"].copy()
    table = repeat_purchases(events, orders)
    mine = table[table["user_id"] == "u"].reset_index(drop=True)
    assert mine["item_id"].tolist() == ["beans", "filter", "mug"]  # most times, then latest
    assert mine["times"].tolist() == [3, 1, 1]
    assert mine.loc[0, "every_days"] == pytest.approx(14.0)
    cat = ItemCatalog(["beans", "mug", "filter"], stock=[3, 3, 0])
    picks = buy_again_list(mine, cat, Rules(in_stock=True), k=5)
    assert picks.item_ids.tolist() == ["beans", "mug"]
    assert picks.reasons[0].text() == ("you bought this 3 times, last on 1970-01-29, "
                                       "about every 14 days")


def test_buy_again_on_the_demo_shop_lists_exactly_what_was_bought(shop):
    purchases = shop.events[shop.events["type"] == "purchase"][["user_id", "item_id", "ts"]]
    table = repeat_purchases(purchases)
    user = purchases["user_id"].value_counts().index[0]
    mine = table[table["user_id"] == user]
    bought = purchases[purchases["user_id"] == user]["item_id"].value_counts()
    assert set(mine["item_id"]) == set(bought.index)
    assert mine.set_index("item_id")["times"].to_dict() == bought.to_dict()
    assert mine["times"].is_monotonic_decreasing
