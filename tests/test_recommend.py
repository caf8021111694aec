"""Every recommender through the same contract, on a shop with a planted structure.

The planted shop: 20 items in 4 "cycles" of 5 (a0 → a1 → … → a4 → a0). Each user walks one
cycle from a random start for 2–4 steps (fewer than a cycle, so every user has unseen items of
their own cycle left), so (1) items of a cycle are bought by the same users (what
co-occurrence models must find) and (2) the next item is fully determined by the last one
(what the sequential model must find).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from shopmind.data.views import Sequences
from shopmind.errors import DataError, NotFittedError, NotFoundError
from shopmind.recommend import ALS, Blend, ItemKNN, Popularity, Recommender, SASRec

CYCLES, CYCLE_LENGTH, USERS = 4, 5, 240


def _item(cycle: int, step: int) -> str:
    return f"{'abcd'[cycle]}{step % CYCLE_LENGTH}"


def planted_shop(seed: int = 0) -> Sequences:
    rng = np.random.default_rng(seed)
    users, items, ts = [], [], []
    for u in range(USERS):
        cycle, start, length = u % CYCLES, rng.integers(CYCLE_LENGTH), rng.integers(2, 5)
        for t in range(length):
            users.append(f"u{u:03d}")
            items.append(_item(cycle, start + t))
            ts.append(float(t))
    return Sequences.from_events(users, items, ts)


def planted_catalog() -> pd.DataFrame:
    """Item titles that name the item's cycle: what a text-aware model can lean on."""
    ids = [_item(c, s) for c in range(CYCLES) for s in range(CYCLE_LENGTH)]
    names = ["garden hose", "lipstick red", "phone case", "dog food"]
    return pd.DataFrame({"item_id": ids, "title": [f"{names[_cycle(i)]} {i}" for i in ids]})


MODELS = {
    "popularity": lambda: Popularity(),
    "trending": lambda: Popularity(half_life=2.0),
    "itemknn": lambda: ItemKNN(neighbours=10, shrink=0.0, recency=1.0),
    "itemknn-recency": lambda: ItemKNN(),
    "als": lambda: ALS(factors=8, iterations=10, regularization=0.1, threads=1),
    "sasrec": lambda: SASRec(hidden=32, blocks=1, heads=2, max_len=10, dropout=0.1, lr=5e-3,
                             batch_size=64, epochs=40, threads=1),
    "sasrec-text": lambda: SASRec(hidden=32, blocks=1, heads=2, max_len=10, dropout=0.1,
                                  lr=5e-3, batch_size=64, epochs=40, threads=1,
                                  text_encoder="hashing"),
    "blend": lambda: Blend([{"kind": "ItemKNN", "params": {"recency": 0.5}},
                            {"kind": "ALS", "params": {"factors": 8, "regularization": 0.1,
                                                       "threads": 1}}]),
}
LEARNS_CLUSTERS = {"itemknn", "itemknn-recency", "als", "sasrec", "sasrec-text", "blend"}


@pytest.fixture(scope="module")
def shop() -> Sequences:
    return planted_shop()


@pytest.fixture(scope="module", params=sorted(MODELS))
def fitted(request, shop) -> tuple[str, Recommender]:
    return request.param, MODELS[request.param]().fit(shop, planted_catalog())


def _cycle(item_id: str) -> int:
    return "abcd".index(item_id[0])


def test_constructor_only_stores_parameters():
    for make in MODELS.values():
        model = make()
        assert not [name for name in vars(model) if name.endswith("_")]
        assert type(model)(**model.get_params()).get_params() == model.get_params()
        with pytest.raises(NotFittedError):
            model.recommend("u000")


def test_learned_state_ends_with_underscore(fitted):
    _, model = fitted
    assert {"history_", "item_ids_"} <= set(vars(model))
    assert all(name.endswith("_") or name.startswith("_") for name in vars(model)
               if name not in model.get_params())


def test_recommend_one_or_many_best_first(fitted, shop):
    _, model = fitted
    one = model.recommend("u000", k=3)
    assert one.item_ids.shape == (3,) and one.scores.shape == (3,)
    many = model.recommend(["u000", "u001"], k=3)
    assert many.item_ids.shape == (2, 3)
    assert many.item_ids[0].tolist() == one.item_ids.tolist()
    np.testing.assert_allclose(many.scores[0], one.scores, rtol=1e-5)
    assert np.all(np.diff(many.scores, axis=1) <= 1e-6)
    assert model.score(shop.user_index(["u000"])).shape == (1, shop.n_items)


def test_exclude_seen(fitted, shop):
    _, model = fitted
    users = shop.user_ids[:20]
    recs = model.recommend(users, k=shop.n_items)
    for user, items in zip(users, recs.item_ids):
        seen = set(shop.item_ids[shop.sequence(shop.user_index([user])[0])])
        kept = [i for i in items if i is not None]
        assert not seen & set(kept)
        assert len(kept) == shop.n_items - len(seen)  # the rest is padding
    everything = model.recommend(users[0], k=shop.n_items, exclude_seen=False)
    assert None not in everything.item_ids.tolist()


def test_planted_structure_is_recovered(fitted, shop):
    name, model = fitted
    if name not in LEARNS_CLUSTERS:
        pytest.skip("popularity knows no clusters")
    users = shop.user_ids
    recs = model.recommend(users, k=1)
    cycles = [_cycle(shop.item_ids[shop.sequence(u)[0]]) for u in range(shop.n_users)]
    same = np.mean([_cycle(i) == c for row, c in zip(recs.item_ids, cycles)
                    for i in row if i is not None])
    assert same > 0.9
    similar = model.similar_items(["a0", "c3"], k=2).item_ids
    assert "a0" not in similar[0] and "c3" not in similar[1]
    assert {_cycle(i) for i in similar[0]} == {0} and {_cycle(i) for i in similar[1]} == {2}


def test_sequential_model_predicts_the_next_item_of_a_live_session(shop):
    model = MODELS["sasrec"]().fit(shop)
    sessions = [[_item(c, s), _item(c, s + 1)] for c in range(CYCLES) for s in range(5)]
    predicted = model.next_items(sessions, k=1).item_ids[:, 0]
    expected = [_item(c, s + 2) for c in range(CYCLES) for s in range(5)]
    assert np.mean(predicted == np.array(expected, dtype=object)) >= 0.9
    assert model.next_items(["b1", "b2", "b3"], k=1).item_ids.tolist() == ["b4"]


def test_save_load_round_trip_predicts_identically(fitted, shop, tmp_path):
    name, model = fitted
    path = model.save(tmp_path / f"{name}.model")
    loaded = Recommender.load(path)
    assert type(loaded) is type(model) and loaded.get_params() == model.get_params()
    users = shop.user_index(shop.user_ids[:30])
    np.testing.assert_array_equal(loaded.score(users), model.score(users))
    assert loaded.recommend("u005", k=5).item_ids.tolist() == \
        model.recommend("u005", k=5).item_ids.tolist()
    assert loaded.similar_items("b2", k=4).item_ids.tolist() == \
        model.similar_items("b2", k=4).item_ids.tolist()
    with pytest.raises(DataError):
        (Popularity if type(model) is not Popularity else ItemKNN).load(path)


def test_update_users_changes_recommendations_without_retraining(fitted, shop):
    name, _ = fitted
    # A fresh model: update_users changes the model in place.
    model = MODELS[name]().fit(shop, planted_catalog())
    new = Sequences.from_events(["newcomer", "newcomer"], ["d0", "d1"], [0.0, 1.0])
    model.update_users(new)
    recs = model.recommend("newcomer", k=3)
    assert not {"d0", "d1"} & set(recs.item_ids.tolist())
    if name in LEARNS_CLUSTERS:
        assert _cycle(recs.item_ids[0]) == 3
    assert model.recommend("u000", k=3).item_ids.shape == (3,)  # others are kept
    with pytest.raises(NotFoundError):
        model.update_users(Sequences.from_events(["x"], ["never-sold"], [0.0]))


def test_bad_input_says_what_is_wrong(shop):
    model = Popularity().fit(shop)
    with pytest.raises(NotFoundError, match="nobody"):
        model.recommend("nobody")
    with pytest.raises(NotFoundError, match="zz"):
        model.next_items(["a0", "zz"])
    with pytest.raises(DataError, match="Sequences"):
        Popularity().fit([["a0", "a1"]])
    with pytest.raises(DataError, match="valid_targets"):
        Popularity().fit(shop, valid_targets=np.zeros(3))


def test_text_model_needs_the_items_table(shop):
    with pytest.raises(DataError, match="items table"):
        MODELS["sasrec-text"]().fit(shop)


def test_blend_chooses_weights_on_validation(shop):
    """A useless member (popularity) next to a good one (item-kNN) gets little or no weight."""
    valid = np.array([shop.item_index([_item(_cycle(shop.item_ids[shop.sequence(u)[-1]]),
                                             int(shop.item_ids[shop.sequence(u)[-1]][1]) + 1)])[0]
                      for u in range(shop.n_users)])
    blend = Blend([{"kind": "ItemKNN", "params": {"recency": 0.5}},
                   {"kind": "Popularity", "params": {}}]).fit(shop, valid_targets=valid)
    assert blend.weights_[0] == 1.0 and blend.weights_[1] <= 0.3
    assert blend.valid_ndcg_ > 0.5


@pytest.mark.parametrize("blocks", [1, 2])
def test_last_position_inference_equals_the_full_forward(blocks):
    """Scoring computes the last block at the newest item only; it must give exactly what the
    full forward pass gives there, for histories of every length (padding included)."""
    import torch

    from shopmind.recommend.transformer import SASRecNet

    torch.manual_seed(0)
    net = SASRecNet(n_items=30, hidden=16, blocks=blocks, heads=2, max_len=8, dropout=0.3).eval()
    lengths = torch.tensor([1, 3, 8, 5])
    tokens = torch.zeros(4, 8, dtype=torch.long)
    for row, n in enumerate(lengths.tolist()):
        tokens[row, :n] = torch.randint(1, 31, (n,))
    with torch.inference_mode():
        full = net(tokens, lengths)[torch.arange(4), lengths - 1]
        last = net.forward_last(tokens, lengths)
    np.testing.assert_allclose(last.numpy(), full.numpy(), rtol=1e-5, atol=1e-5)
