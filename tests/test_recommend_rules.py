"""Business rules and reasons of the library (shopmind.recommend.rules / ranking / reasons):
each rule does what it says on data where the answer is known."""

from __future__ import annotations

import numpy as np
import pytest

from shopmind.data.demo import generate_demo_shop
from shopmind.data.views import Sequences
from shopmind.errors import DataError
from shopmind.recommend import ItemKNN
from shopmind.recommend.catalog import ItemCatalog
from shopmind.recommend.personal import ModelScorer, for_you, next_up, similar
from shopmind.recommend.ranking import rank, rank_candidates
from shopmind.recommend.reasons import history_weights
from shopmind.recommend.rules import Rules

N = 40


@pytest.fixture
def catalog() -> ItemCatalog:
    """40 items in 4 categories of 10 near-identical items; every 4th item is out of stock;
    price = 10 × position."""
    ids = [f"i{i:02d}" for i in range(N)]
    cats = [f"Top > Group {i // 10}" for i in range(N)]
    stock = [0 if i % 4 == 0 else 5 for i in range(N)]
    return ItemCatalog(ids, titles=ids, categories=cats, prices=np.arange(N) * 10.0, stock=stock)


def _scores() -> np.ndarray:
    return np.linspace(1.0, 0.0, N, dtype=np.float32)  # i00 best … i39 worst


def _ids(catalog, ranked) -> list[str]:
    return catalog.item_ids[ranked.items].tolist()


def _group_sim(rows, cols):
    return (np.asarray(rows)[:, None] // 10 == np.asarray(cols)[None, :] // 10).astype(np.float32)


def test_without_rules_the_order_is_the_scores(catalog):
    assert _ids(catalog, rank(_scores(), catalog, Rules(), 5)) == ["i00", "i01", "i02", "i03",
                                                                   "i04"]


def test_out_of_stock_is_never_returned_single_and_batch(catalog):
    rng = np.random.default_rng(0)
    scores = rng.normal(size=(50, N)).astype(np.float32)
    rules = Rules(in_stock=True, pin=(("i04", 1),))  # i04 is out of stock: the pin is dropped
    ranked = rank(scores, catalog, rules, k=N)
    for items in ranked.items:
        assert len(items) == N - N // 4
        assert (catalog.stock[items] > 0).all()
    one = rank(scores[0], catalog, Rules(in_stock=True), k=N)
    assert (catalog.stock[one.items] > 0).all()
    assert one.items.tolist() == ranked.items[0].tolist() or "i04" not in _ids(catalog, one)


def test_price_and_category_filters(catalog):
    ranked = rank(_scores(), catalog, Rules(min_price=50, max_price=150, category="group 1"), 20)
    assert _ids(catalog, ranked) == [f"i{i:02d}" for i in range(10, 16)]


def test_a_pinned_item_sits_at_its_position_once(catalog):
    rules = Rules(pin=(("i30", 3), ("i20", 1)))
    ids = _ids(catalog, rank(_scores(), catalog, rules, 6))
    assert ids == ["i20", "i00", "i30", "i01", "i02", "i03"]
    # pinning an item that would be listed anyway moves it, never repeats it
    ids = _ids(catalog, rank(_scores(), catalog, Rules(pin=(("i01", 4),)), 5))
    assert ids == ["i00", "i02", "i03", "i01", "i04"]
    ranked = rank(_scores(), catalog, rules, 6)
    assert ranked.pinned.tolist() == [True, False, True, False, False, False]


def test_a_buried_item_sinks_below_everything_else(catalog):
    ranked = rank(_scores(), catalog, Rules(bury=("i00", "i01")), N)
    ids = _ids(catalog, ranked)
    assert ids[-2:] == ["i00", "i01"] and ids[0] == "i02"
    assert "i00" not in _ids(catalog, rank(_scores(), catalog, Rules(bury=("i00",)), 10))
    by_category = _ids(catalog, rank(_scores(), catalog, Rules(bury=("category:Group 0",)), N))
    assert by_category[:30] == [f"i{i:02d}" for i in range(10, 40)]
    assert by_category[30:] == [f"i{i:02d}" for i in range(10)]  # still listed, last


def test_boost_multiplies_scores_whatever_their_sign(catalog):
    ids = _ids(catalog, rank(_scores(), catalog, Rules(boost=(("i05", 1.5),)), 3))
    assert ids[0] == "i05"  # 0.87 × 1.5 beats 1.0
    negative = _scores() - 2.0  # every score negative: a factor above 1 must still raise
    assert _ids(catalog, rank(negative, catalog, Rules(boost=(("i05", 2.0),)), 1)) == ["i05"]
    lowered = _ids(catalog, rank(_scores(), catalog, Rules(boost=(("i00", 0.5),)), 40))
    assert lowered.index("i00") > 10
    group = _ids(catalog, rank(_scores(), catalog, Rules(boost=(("category:Group 3", 10),)), 3))
    assert all(i >= "i30" for i in group)


def test_diversity_lowers_near_duplicates(catalog):
    plain = rank(_scores(), catalog, Rules(), 8, similarity=_group_sim)
    diverse = rank(_scores(), catalog, Rules(diversity=0.6), 8, similarity=_group_sim)
    groups = lambda r: [int(i) // 10 for i in r.items]  # noqa: E731
    assert set(groups(plain)) == {0}
    assert set(groups(diverse)) == {0, 1, 2, 3}
    within = lambda r: _group_sim(r.items, r.items).sum() - len(r.items)  # noqa: E731
    assert within(diverse) < within(plain)
    assert diverse.items[0] == 0  # the best item still leads
    # without a model similarity the catalog's categories stand in
    by_catalog = rank(_scores(), catalog, Rules(diversity=0.6), 8)
    assert groups(by_catalog).count(0) < 8 and len(set(groups(by_catalog))) >= 2
    capped = rank(_scores(), catalog, Rules(max_per_category=2), 8)
    assert groups(capped) == [0, 0, 1, 1, 2, 2, 3, 3]


def test_rank_candidates_and_exclusions(catalog):
    ranked = rank_candidates(["i03", "i07", "nope", "i09"], [3.0, 2.0, 9.0, 1.0], catalog,
                             Rules(), 10, exclude_ids=["i07"])
    assert _ids(catalog, ranked) == ["i03", "i09"]


def test_bad_rules_say_what_to_write():
    with pytest.raises(DataError, match="ITEM@POSITION"):
        Rules.parse(pin=["sku-1"])
    with pytest.raises(DataError, match="TARGET=FACTOR"):
        Rules.parse(boost=["sku-1=lots"])
    with pytest.raises(DataError, match="diversity"):
        Rules(diversity=2)
    with pytest.raises(DataError, match="position"):
        Rules(pin=(("a", 0),))
    assert Rules.parse(pin=["a:b@2"], boost=["category:A > B=0.5"]).boost == (
        ("category:A > B", 0.5),)


# --------------------------------------------------------------------------- reasons


def _planted() -> Sequences:
    """Phones lead to cases, tents to sleeping bags; nobody links the two worlds."""
    users, items = [], []
    for u in range(40):
        seq = ["phone", "case"] if u % 2 else ["tent", "bag"]
        users += [f"u{u}"] * 2
        items += seq
    return Sequences.from_events(users, items, np.arange(len(users), dtype=float))


def test_the_reason_names_the_history_item_that_drives_the_score():
    model = ItemKNN().fit(_planted())
    scorer = ModelScorer(model)
    cat = ItemCatalog(scorer.item_ids, titles=[str(i).title() for i in scorer.item_ids])
    history = model.history_.item_index(["tent", "phone"])
    picks = for_you(scorer, cat, history, ["view", "purchase"], k=2)
    why = {i: (r.kind, r.item_id, r.event) for i, r in zip(picks.item_ids, picks.reasons)}
    assert why == {"case": ("history", "phone", "purchase"), "bag": ("history", "tent", "view")}
    assert picks.reasons[0].text(cat.title) in ("because you bought “Phone”",
                                                "because you viewed “Tent”")
    nxt = next_up(scorer, cat, history, ["view", "view"], k=2)
    kinds = {i: r.kind for i, r in zip(nxt.item_ids, nxt.reasons)}
    assert kinds == {"case": "next", "bag": "session"}
    sim = similar(scorer, cat, int(model.history_.item_index(["phone"])[0]), k=1)
    assert sim.item_ids.tolist() == ["case"] and sim.reasons[0].item_id == "phone"


def test_reasons_match_each_history_items_own_contribution_on_the_demo_shop():
    """For item-kNN a history's score is a sum over its items; the named item must be the one
    whose own (recency-weighted) score for the recommended item is largest."""
    shop = generate_demo_shop(seed=1, n_users=150)
    ev = shop.events[shop.events["item_id"].notna()]
    seqs = Sequences.from_events(ev["user_id"], ev["item_id"], ev["ts"], ev["type"])
    model = ItemKNN().fit(seqs)
    scorer = ModelScorer(model)
    cat = ItemCatalog.from_frame(shop.items, scorer.item_ids)
    checked = 0
    for user in range(0, seqs.n_users, 7):
        history = seqs.sequence(user)[-20:]
        if len(np.unique(history)) < 3:
            continue
        types = seqs.type_names[seqs.types[seqs.indptr[user]:seqs.indptr[user + 1]]][-20:]
        picks = for_you(scorer, cat, history, types, k=5)
        alone = model.score_histories([np.array([u]) for u in np.unique(history)])
        weights = history_weights(model, len(history))
        for item, reason in zip(cat.index(picks.item_ids), picks.reasons):
            contribution = {u: sum(w for h, w in zip(history, weights) if h == u) * alone[n, item]
                            for n, u in enumerate(np.unique(history))}
            best = max(contribution, key=contribution.get)
            assert reason.kind == "history"
            assert contribution[int(model.history_.item_index([reason.item_id])[0])] == \
                pytest.approx(contribution[best], rel=1e-5)
            checked += 1
    assert checked >= 50
