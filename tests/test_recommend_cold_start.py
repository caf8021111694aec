"""Cold start: a new user from a few session events; a new item from its text alone.

New user: the demo shop plants tastes (about 80 % of a user's sessions stay in one or two
top-level categories), so three items of one category, passed as a live session of a user the
model never saw, must bring recommendations from that category.

New item: a planted shop of 4 item "cycles" whose titles name the cycle ("garden hose …",
"lipstick red …"). Items added after training, known only by a title, must be found similar to
their own cycle's items and be ranked first for users of that cycle.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from shopmind.data.demo import generate_demo_shop
from shopmind.data.views import Sequences
from shopmind.errors import DataError
from shopmind.recommend import ALS, ItemKNN, SASRec

NAMES = ["garden hose", "lipstick red", "phone case", "dog food"]


@pytest.fixture(scope="module")
def demo():
    shop = generate_demo_shop(seed=0, n_users=400)
    events = shop.events[shop.events["item_id"].notna()]
    seqs = Sequences.from_events(events["user_id"].to_numpy(dtype=object),
                                 events["item_id"].to_numpy(dtype=object),
                                 events["ts"].to_numpy(float), events["type"].to_numpy(object),
                                 item_ids=shop.items["item_id"].to_numpy(dtype=object))
    return shop, seqs


@pytest.mark.parametrize("make", [lambda: ItemKNN(), lambda: ALS(factors=32, threads=1)],
                         ids=["item-knn", "als"])
def test_a_new_user_is_recommended_from_three_session_events(demo, make):
    shop, seqs = demo
    model = make().fit(seqs)
    top = shop.truth.item_top_category
    popular = pd.Series(seqs.item_ids[seqs.items]).value_counts()
    rng = np.random.default_rng(0)
    shares = []
    for category in sorted(set(top.values())):
        items = [i for i in popular.index if top[i] == category][:30]
        for _ in range(5):
            session = list(rng.choice(items, 3, replace=False))
            recs = model.next_items(session, k=10).item_ids
            shares.append(np.mean([top[i] == category for i in recs if i is not None]))
    # Without the session a new user would get the same list whatever their taste.
    assert np.mean(shares) > 0.7, np.mean(shares)


def _cycle_shop() -> tuple[Sequences, pd.DataFrame]:
    rng = np.random.default_rng(0)
    users, items, ts = [], [], []
    for u in range(240):
        cycle, start, length = u % 4, rng.integers(5), rng.integers(2, 5)
        for t in range(length):
            users.append(f"u{u:03d}")
            items.append(f"{'abcd'[cycle]}{(start + t) % 5}")
            ts.append(float(t))
    ids = [f"{c}{s}" for c in "abcd" for s in range(5)]
    catalog = pd.DataFrame({"item_id": ids, "title": [f"{NAMES['abcd'.index(i[0])]} {i}"
                                                      for i in ids]})
    return Sequences.from_events(users, items, ts), catalog


@pytest.fixture(scope="module")
def text_model():
    seqs, catalog = _cycle_shop()
    model = SASRec(hidden=32, blocks=1, heads=2, max_len=10, dropout=0.1, lr=5e-3,
                   batch_size=64, epochs=40, threads=1, text_encoder="hashing")
    return model.fit(seqs, catalog), seqs


NEW_ITEMS = pd.DataFrame({"item_id": ["new-a", "new-b", "new-c", "new-d"],
                          "title": [f"{name} deluxe" for name in NAMES]})


def test_a_new_item_is_found_similar_from_its_text(text_model):
    model, _ = text_model
    similar = model.similar_to_new_items(NEW_ITEMS, k=3).item_ids
    for cycle, row in enumerate(similar):
        assert all(i[0] == "abcd"[cycle] for i in row), (cycle, row)
    # Plain strings work as well as an items table.
    assert model.similar_to_new_items(["dog food deluxe"], k=1).item_ids[0][0][0] == "d"


def test_a_new_item_is_recommended_to_the_users_of_its_kind(text_model):
    model, seqs = text_model
    scores = model.score_new_items(seqs.user_ids, NEW_ITEMS)
    assert scores.shape == (seqs.n_users, 4)
    cycles = np.array(["abcd".index(seqs.item_ids[seqs.sequence(u)[0]][0])
                       for u in range(seqs.n_users)])
    assert np.mean(scores.argmax(axis=1) == cycles) > 0.9


def test_new_items_need_a_text_aware_model(text_model):
    seqs, _ = _cycle_shop()
    plain = ItemKNN().fit(seqs)
    assert not hasattr(plain, "embed_new_items")
    id_only = SASRec(hidden=16, epochs=2, threads=1).fit(seqs, valid_targets=np.full(
        seqs.n_users, -1))
    with pytest.raises(DataError, match="text-aware"):
        id_only.embed_new_items(NEW_ITEMS)
    model, _ = text_model
    with pytest.raises(DataError, match="needs some text"):
        model.embed_new_items(["garden hose", ""])


def test_rare_items_lean_on_their_text(tmp_path):
    """``id_shrinkage`` scales an item's ID embedding by n / (n + k) (n: its training events), so
    rare items are mostly their text; the further scaling used for scoring is chosen on the
    validation targets and survives save / load."""
    seqs, catalog = _cycle_shop()
    model = SASRec(hidden=32, blocks=1, heads=2, max_len=10, dropout=0.1, lr=5e-3, batch_size=64,
                   epochs=30, threads=1, text_encoder="hashing", id_shrinkage=2.0).fit(seqs, catalog)
    assert set(model.shrinkage_valid_ndcg_) == {0.0, 1.0, 2.0, 4.0, 8.0}
    assert model.shrinkage_valid_ndcg_[model.score_shrinkage_] == max(
        model.shrinkage_valid_ndcg_.values())
    # The model held out each user's newest event to validate, so it trained on the rest.
    counts = np.bincount(np.concatenate([seqs.sequence(u)[:-1] if len(seqs.sequence(u)) >= 3
                                         else seqs.sequence(u) for u in range(seqs.n_users)]),
                         minlength=seqs.n_items).astype(np.float32)
    k = model.score_shrinkage_
    expected = counts / (counts + 2.0) * (counts / (counts + k) if k else 1.0)
    np.testing.assert_allclose(model.net_.id_gate[1:].numpy(), expected, rtol=1e-5)
    again = SASRec.load(model.save(tmp_path / "sasrec"))
    np.testing.assert_allclose(again.score(np.arange(seqs.n_users)),
                               model.score(np.arange(seqs.n_users)), rtol=1e-5, atol=1e-6)
