"""User profiles on the demo shop, whose planted structure they must recover.

Planted: every user has one or two taste categories (about 80 % of their sessions), a price
sensitivity (higher: cheaper items within a category), and a language (Chinese users mostly
see Chinese items, whose categories are named in Chinese).
"""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest
from scipy.stats import spearmanr

from shopmind.data.demo import generate_demo_shop
from shopmind.errors import DataError, NotFoundError
from shopmind.recommend.profiles import LIFECYCLE_STAGES, UserProfiles

DAY = 86400.0


@pytest.fixture(scope="module")
def shop():
    return generate_demo_shop(seed=0, n_users=800)


@pytest.fixture(scope="module")
def aliases(shop):
    return {zh: en for en, zh in shop.truth.top_categories.items()}


@pytest.fixture(scope="module")
def profiles(shop, aliases):
    return UserProfiles(n_segments=9, category_aliases=aliases).fit(shop.events, shop.items)


def _single_taste(shop, profiles) -> list[str]:
    return [u for u in profiles.user_ids_ if len(shop.truth.user_taste[u]) == 1]


def test_favourite_category_is_the_planted_taste(profiles, shop):
    users = _single_taste(shop, profiles)
    hits = [profiles.profile(u)["favourite_categories"][0]["name"] == shop.truth.user_taste[u][0]
            for u in users]
    assert np.mean(hits) > 0.85


def test_chinese_category_names_without_aliases(shop):
    plain = UserProfiles(n_segments=3, dim=16).fit(shop.events, shop.items)
    zh_names = set(shop.truth.top_categories.values())
    chinese_users = [u for u in plain.user_ids_ if shop.truth.user_language[u] == "zh"]
    favourite = [plain.profile(u)["favourite_categories"][0]["name"] for u in chinese_users]
    assert np.mean([name in zh_names for name in favourite]) > 0.6


def test_segments_recover_the_planted_taste_groups(profiles, shop):
    users = _single_taste(shop, profiles)
    rows = np.searchsorted(profiles.user_ids_, users)
    segment = profiles.segment_[rows]
    taste = [shop.truth.user_taste[u][0] for u in users]
    majority = sum(Counter(t for t, s in zip(taste, segment) if s == k).most_common(1)[0][1]
                   for k in set(segment))
    assert majority / len(users) > 0.7  # purity; 9 equal random groups would give ~0.2
    # Each segment is described by its members' dominant taste.
    described = {s["segment"]: s["favourite_categories"][0]["name"] for s in profiles.segments()}
    agree = [described[s] == t for s, t in zip(segment, taste)]
    assert np.mean(agree) > 0.7


def test_price_band_follows_planted_price_sensitivity(profiles, shop):
    sensitivity = [shop.truth.user_price_sensitivity[u] for u in profiles.user_ids_]
    rho = spearmanr(profiles.price_index_, sensitivity, nan_policy="omit").statistic
    assert rho < -0.4
    bands = Counter(profiles.profile(u)["price_band"] for u in profiles.user_ids_[:200])
    assert set(bands) <= {"budget", "mid", "premium"}


def test_lifecycle_follows_recency(shop):
    events = shop.events.copy()
    newest = events["ts"].max()
    # Cut every event of two users early: one stops 45 days before the end, one 90 days.
    at_risk = events["user_id"] == "u-00001"
    churned = events["user_id"] == "u-00002"
    keep = ~((at_risk & (events["ts"] > newest - 45 * DAY))
             | (churned & (events["ts"] > newest - 90 * DAY)))
    late = events["user_id"] == "u-00003"
    keep &= ~(late & (events["ts"] < newest - 5 * DAY))
    profiles = UserProfiles(n_segments=2, dim=8).fit(events[keep], shop.items)
    stage = {u: profiles.profile(u)["lifecycle"] for u in ("u-00001", "u-00002")}
    assert stage == {"u-00001": "at-risk", "u-00002": "churned"}
    if "u-00003" in set(profiles.user_ids_):
        assert profiles.profile("u-00003")["lifecycle"] == "new"
    counts = Counter(profiles.profile(u)["lifecycle"] for u in profiles.user_ids_)
    assert set(counts) <= set(LIFECYCLE_STAGES) and counts["active"] > len(profiles.user_ids_) / 2


def test_profile_content_and_save_load(profiles, tmp_path):
    p = profiles.profile("u-00005")
    assert len(p["embedding"]) == 32 and abs(np.linalg.norm(p["embedding"]) - 1) < 1e-3
    assert p["activity"] in ("low", "medium", "high") and p["lifecycle"] in LIFECYCLE_STAGES
    assert p["favourite_brands"] and 0 < p["favourite_brands"][0]["share"] <= 1
    loaded = UserProfiles.load(profiles.save(tmp_path / "profiles.npz"))
    assert loaded.profile("u-00005") == p
    assert loaded.segments() == profiles.segments()
    assert len(profiles.profiles(["u-00005", "u-00006"])) == 2
    with pytest.raises(NotFoundError, match="rebuild"):
        profiles.profile("nobody")


def test_text_embeddings_work_too(shop):
    profiles = UserProfiles(n_segments=4, embedding="text", text_encoder="hashing").fit(
        shop.events, shop.items)
    assert profiles.embeddings_.shape[1] == 512


def test_bad_input_says_what_is_wrong(shop):
    with pytest.raises(DataError, match="embedding must be"):
        UserProfiles(embedding="magic").fit(shop.events, shop.items)
    with pytest.raises(DataError, match="churn_days"):
        UserProfiles(active_days=90, churn_days=60).fit(shop.events, shop.items)
    with pytest.raises(DataError, match="nothing to profile"):
        UserProfiles().fit(shop.events.assign(item_id="nope"), shop.items)
