"""Propensity on the demo shop, whose planted tastes decide what users buy and look at.

About 80 % of a user's sessions stay in their planted top-level categories, so a model that
learned anything must give a user's taste items a higher purchase probability than other items,
rank the pairs that really happened in the horizon after a cut above those that did not, and
stay calibrated (its mean prediction near the observed rate).
"""

from __future__ import annotations

import numpy as np
import pytest

from shopmind.data.demo import generate_demo_shop
from shopmind.errors import DataError, NotFittedError, NotFoundError
from shopmind.recommend.propensity import Propensity, temporal_evaluation
from shopmind.recommend.propensity_features import FEATURE_NAMES


@pytest.fixture(scope="module")
def shop():
    return generate_demo_shop(seed=0, n_users=800)


@pytest.fixture(scope="module")
def fitted(shop):
    return Propensity().fit(shop.events, shop.items)


def test_constructor_only_stores_parameters():
    model = Propensity(target="click", horizon_days=3)
    assert model.get_params()["target"] == "click" and not hasattr(model, "coef_")
    with pytest.raises(NotFittedError, match="fit"):
        model.predict_proba("u", ["i"])


def test_taste_items_are_more_likely_bought(fitted, shop):
    truth = shop.truth
    items = shop.items["item_id"].to_numpy(dtype=object)
    users = [u for u, taste in truth.user_taste.items() if len(taste) == 1][:150]
    top = np.array([truth.item_top_category[i] for i in items])
    wins = []
    for user in users:
        p = fitted.predict_proba(user, items)
        taste = top == truth.user_taste[user][0]
        wins.append(p[taste].mean() > p[~taste].mean())
    assert np.mean(wins) > 0.9


def test_temporal_split_auc_well_above_chance_and_calibrated(shop):
    full = temporal_evaluation(Propensity(), shop.events, shop.items)
    popular = temporal_evaluation(Propensity(features=("i_events", "i_purchases")),
                                  shop.events, shop.items)
    assert full["positives"] >= 50
    assert full["auc"] > 0.7 and full["auc"] > popular["auc"] + 0.05
    assert full["log_loss"] < popular["log_loss"]
    # Calibration: the error is a small fraction of the base rate, and the mean prediction
    # is within a factor of two of the observed rate.
    assert full["ece"] < 0.5 * full["positive_rate"]
    assert 0.5 < full["mean_probability"] / full["positive_rate"] < 2.0


def test_click_propensity_is_its_own_model(shop):
    result = temporal_evaluation(Propensity(target="click"), shop.events, shop.items)
    assert result["auc"] > 0.7
    assert result["positive_rate"] > 0


def test_batch_api_and_new_users(fitted, shop):
    items = shop.items["item_id"].head(5).tolist()
    one_user = fitted.predict_proba("u-00001", items)
    pairs = fitted.predict_proba(["u-00001"] * 5, items)
    np.testing.assert_allclose(one_user, pairs)
    new_user = fitted.predict_proba("never-seen", items)
    assert np.all((new_user >= 0) & (new_user <= 1))
    with pytest.raises(NotFoundError, match="retrain"):
        fitted.predict_proba("u-00001", ["no-such-item"])
    with pytest.raises(DataError, match="one user per item"):
        fitted.predict_proba(["u-00001", "u-00002"], items)
    assert set(fitted.feature_weights()) == set(FEATURE_NAMES)


def test_save_load_round_trip(fitted, shop, tmp_path):
    items = shop.items["item_id"].head(20).tolist()
    path = fitted.save(tmp_path / "propensity.npz")
    loaded = Propensity.load(path)
    np.testing.assert_allclose(loaded.predict_proba("u-00003", items),
                               fitted.predict_proba("u-00003", items))


def test_matches_scikit_learn_calibrated_probabilities(shop):
    """The exported arrays reproduce CalibratedClassifierCV.predict_proba exactly."""
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.linear_model import LogisticRegression

    model = Propensity(horizon_days=14).fit(shop.events, shop.items)
    snapshot = model.snapshot_
    rows, cols = model.population(snapshot, np.arange(50))
    X = snapshot.features(rows, cols)
    y = (np.arange(len(X)) % 7 == 0).astype(int)  # any labels: only the arithmetic is tested
    reference = CalibratedClassifierCV(LogisticRegression(max_iter=2000), cv=3,
                                       method="isotonic").fit((X - model.mean_) / model.scale_, y)
    model._export(reference)
    np.testing.assert_allclose(model.probability(X),
                               reference.predict_proba((X - model.mean_) / model.scale_)[:, 1],
                               atol=1e-9)


def test_bad_input_says_what_is_wrong(shop):
    with pytest.raises(DataError, match="target must be"):
        Propensity(target="teleport").fit(shop.events, shop.items)
    with pytest.raises(DataError, match="subset"):
        Propensity(features=("shoe_size",)).fit(shop.events, shop.items)
    with pytest.raises(DataError, match="more"):
        Propensity(horizon_days=0.001).fit(shop.events, shop.items)
