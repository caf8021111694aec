"""Training profiles and propensity from a store into the registry (engine_profiles)."""

from __future__ import annotations

from shopmind.data.demo import generate_demo_shop
from shopmind.data.store import Store
from shopmind.engine_profiles import PROFILES, PROPENSITY, train_profiles_and_propensity
from shopmind.live import registry_for
from shopmind.recommend.profiles import UserProfiles
from shopmind.recommend.propensity import Propensity


def test_every_capability_is_versioned_and_served(settings):
    store = Store(settings=settings)
    store.ingest(generate_demo_shop(seed=0, n_users=300).batch())
    outcomes = train_profiles_and_propensity(store, settings, reason="test")
    registry = registry_for(settings)
    assert outcomes[PROFILES]["status"] == "promoted"
    assert isinstance(UserProfiles.load(registry.serving(PROFILES).path), UserProfiles)
    for target, capability in PROPENSITY.items():
        outcome = outcomes[capability]
        assert outcome["status"] == "promoted", outcome
        metrics = outcome["metrics"]
        assert metrics["auc"] > metrics["baseline_auc"]  # the rule that promoted it
        model = Propensity.load(registry.serving(capability).path)
        assert model.target == target
    store.close()


def test_a_failing_capability_is_an_outcome_not_a_crash(settings):
    store = Store(settings=settings)
    # Three days of a tiny shop: too few purchases in the last week to learn a propensity.
    store.ingest(generate_demo_shop(seed=0, n_users=20, days=3).batch())
    outcomes = train_profiles_and_propensity(store, settings, reason="test")
    assert outcomes[PROFILES]["status"] == "promoted"
    failed = outcomes[PROPENSITY["purchase"]]
    assert failed["status"] == "failed" and "history is too short" in failed["error"]
    assert registry_for(settings).serving(PROPENSITY["purchase"]) is None
    store.close()
