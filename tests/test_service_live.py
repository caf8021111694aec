"""Live learning and retraining: events count at once without retraining; a training run only
replaces the serving model with one that is not worse; a failed one replaces nothing."""

from __future__ import annotations

import numpy as np
import pytest

from shopmind.data.demo import generate_demo_shop
from shopmind.data.store import Store
from shopmind.data.views import Sequences, build_sequences
from shopmind.engine import TrainedModel
from shopmind.live import CAPABILITY, LiveRecommender, RetrainPolicy, registry_for, retrain
from shopmind.recommend import ALS, ItemKNN, Popularity


def _planted() -> Sequences:
    """'a' is always followed by 'b'; 'c' and 'd' go together; nobody else links them."""
    users, items = [], []
    for u in range(30):
        seq = ["a", "b"] if u % 2 else ["c", "d"]
        users += [f"u{u}"] * len(seq)
        items += seq
    users += ["z", "z"]
    items += ["e", "f"]
    return Sequences.from_events(users, items, np.arange(len(users), dtype=float))


def test_an_observed_event_changes_next_items_at_once():
    live = LiveRecommender(ItemKNN().fit(_planted()))
    history, _, _ = live.history("z")
    before = live.rank(live.score(history[-3:]), 1, exclude=history).items
    assert live.item_ids[before].tolist() != ["b"]
    assert live.observe(["z"], ["a"], ["view"], [99.0]) == 1
    history, types, ts = live.history("z")
    assert live.item_ids[history].tolist() == ["e", "f", "a"] and types[-1] == "view"
    assert ts[-1] == 99.0
    ranked = live.rank(live.score(history[-1:]), 1, exclude=history, explain_with=history[-1:])
    assert live.item_ids[ranked.items].tolist() == ["b"]
    assert ranked.anchors.tolist() == [0]  # explained by the 'a' just viewed
    # New users and unknown items: a new user counts at once, an unknown item is skipped.
    assert live.observe(["new", "new"], ["c", "not-in-model"], ["click", "click"], [1, 2]) == 1
    assert live.knows_user("new") and live.item_ids[live.history("new")[0]].tolist() == ["c"]


def test_fold_moves_live_events_into_the_model_with_update_users():
    model = ItemKNN().fit(_planted())
    live = LiveRecommender(model)
    live.observe(["z", "z", "new"], ["a", "c", "a"], ["view", "click", "view"], [97, 98, 99])
    scores_before = live.score(live.history("z")[0])
    assert live.pending == 3
    assert live.fold() == 3
    assert live.pending == 0
    assert live.model is not model  # swapped in, the old object untouched
    assert "new" not in model.history_.user_ids
    folded = live.model.history_
    z = folded.user_index(["z"])[0]
    assert folded.item_ids[folded.sequence(z)].tolist() == ["e", "f", "a", "c"]
    np.testing.assert_allclose(live.score(live.history("z")[0]), scores_before)
    # The folded model answers by id like any recommender.
    assert live.model.recommend("new", k=1).item_ids.tolist() == ["b"]


def test_events_observed_during_a_fold_are_kept(monkeypatch):
    live = LiveRecommender(ItemKNN().fit(_planted()))
    live.observe(["z"], ["a"], ["view"], [101.0])
    original_update = ItemKNN.update_users

    def slow_update(self, seqs):  # an event arrives while update_users runs
        live.observe(["z"], ["c"], ["view"], [102.0])
        return original_update(self, seqs)

    monkeypatch.setattr(ItemKNN, "update_users", slow_update)
    assert live.fold() == 1
    assert live.item_ids[live.history("z")[0]].tolist() == ["e", "f", "a", "c"]
    assert live.pending == 1


@pytest.mark.parametrize("make", [lambda: ALS(factors=16, iterations=5),
                                  lambda: ItemKNN(recency=0.8), lambda: ItemKNN()],
                         ids=["als", "item-knn-recency", "item-knn"])
def test_fast_scoring_paths_are_exact(make):
    shop = generate_demo_shop(seed=1, n_users=60, n_items=150, days=20)
    ev = shop.events.dropna(subset=["item_id"])
    seqs = Sequences.from_events(ev["user_id"], ev["item_id"], ev["ts"], ev["type"])
    model = make().fit(seqs)
    live = LiveRecommender(model)
    assert live._fast is not None
    for user in range(5):
        history = np.concatenate([seqs.sequence(user), seqs.sequence(user)[:2]])
        expected = model.score_histories([history])[0]
        np.testing.assert_allclose(live.score(history), expected, rtol=1e-3,
                                   atol=1e-4 * np.abs(expected).max())
    np.testing.assert_allclose(live.similarity([0, 5]), model.item_similarity(np.array([0, 5])),
                               atol=1e-5)
    columns = np.array([3, 1, 40, 7])
    np.testing.assert_allclose(live._similarity_between(np.array([0, 5]), columns),
                               model.item_similarity(np.array([0, 5]))[:, columns], atol=1e-5)


def test_filters_and_exclusions_in_rank():
    live = LiveRecommender(Popularity().fit(_planted()))
    scores = live.score(np.zeros(0, np.int64))
    allowed = np.ones(live.n_items, bool)
    allowed[live.item_index("a")] = False
    got = live.rank(scores, 10, allowed, exclude=[live.item_index("b")])
    assert set(live.item_ids[got.items]) == {"c", "d", "e", "f"}
    assert np.all(np.diff(got.scores) <= 0)


def test_policy():
    policy = RetrainPolicy(every_events=100, every_minutes=30)
    assert policy.due(99, 10) is None and "100 new events" in policy.due(100, 10)
    assert policy.due(1, 1800) is not None and policy.due(0, 10**6) is None
    assert RetrainPolicy(0, 0).due(10**9, 10**9) is None


@pytest.fixture
def small_store(tmp_path, settings):
    store = Store(f"sqlite:///{tmp_path}/shop.db", settings=settings)
    store.ingest(generate_demo_shop(seed=2, n_users=40, n_items=150, days=20).batch())
    yield store
    store.close()


def _fake_trainer(ndcg: float, fail: bool = False):
    def trainer(store, settings, console):
        if fail:
            raise RuntimeError("the GPU caught fire")
        model = Popularity().fit(build_sequences(store))
        path = model.save(settings.resolved_model_dir() / "recommend" / "popularity.npz")
        return [TrainedModel("popularity", path, {"ndcg@10": ndcg, "hr@10": 0.1}, 0.01)]
    return trainer


def test_retrain_serves_only_better_or_equal_and_survives_failure(small_store, settings):
    registry = registry_for(settings)
    first = retrain(small_store, settings, trainer=_fake_trainer(0.2))
    assert first["status"] == "promoted" and registry.serving_version(CAPABILITY) == 1
    assert registry.serving(CAPABILITY).data["max_event_id"] == small_store.counts()["events"]
    worse = retrain(small_store, settings, trainer=_fake_trainer(0.1))
    assert worse["status"] == "kept" and registry.serving_version(CAPABILITY) == 1
    assert "worse than serving" in worse["decision"]
    failed = retrain(small_store, settings, trainer=_fake_trainer(0.9, fail=True))
    assert failed["status"] == "failed" and "GPU caught fire" in failed["error"]
    assert registry.serving_version(CAPABILITY) == 1
    assert [r["status"] for r in registry.runs(CAPABILITY)] == ["promoted", "kept", "failed"]
    better = retrain(small_store, settings, trainer=_fake_trainer(0.3))
    assert better["status"] == "promoted" and registry.serving_version(CAPABILITY) == 3
    # Staging folders of training runs never stay behind.
    assert not [p for p in registry.root.iterdir() if p.name.startswith(".train-")]


def test_retrain_with_the_real_engine(small_store, settings):
    outcome = retrain(small_store, settings)
    assert outcome["status"] == "promoted", outcome
    registry = registry_for(settings)
    models = {v.model for v in registry.versions(CAPABILITY)}
    assert {"popularity", "item-knn", "als"} <= models
    serving = registry.serving(CAPABILITY)
    assert serving.metrics["ndcg@10"] == max(v.metrics["ndcg@10"]
                                             for v in registry.versions(CAPABILITY))
