"""Ranking metrics against hand-computed values, tie and exclude rules, and batching."""

import math

import numpy as np
import pytest
import scipy.sparse as sp

from shopmind.errors import DataError
from shopmind.evaluate import (
    catalog_coverage,
    evaluate_scores,
    graded_ndcg_at_k,
    hit_rate_at_k,
    mrr,
    ndcg_at_k,
    ranking_metrics,
    recall_at_k,
    target_ranks,
    top_k,
)

# --- target_ranks -------------------------------------------------------------------------


def test_rank_is_number_of_better_items():
    scores = np.array([[0.1, 0.9, 0.5],
                       [0.7, 0.2, 0.3]])
    assert target_ranks(scores, np.array([2, 0])).tolist() == [1, 0]


def test_three_item_example_ndcg_is_one_over_log2_3():
    # target item 2 is second of three -> rank 1 -> NDCG = 1 / log2(1 + 2)
    ranks = target_ranks(np.array([[0.1, 0.9, 0.5]]), np.array([2]))
    assert ndcg_at_k(ranks, 10) == pytest.approx(1 / math.log2(3))
    assert ndcg_at_k(ranks, 1) == 0.0
    assert hit_rate_at_k(ranks, 2) == 1.0
    assert mrr(ranks) == pytest.approx(0.5)


def test_ties_are_pessimistic():
    # item 0 ties with item 2 and is beaten by item 1: it is placed after both
    scores = np.array([[0.5, 0.9, 0.5, 0.1]])
    assert target_ranks(scores, np.array([0])).tolist() == [2]
    assert target_ranks(scores, np.array([2])).tolist() == [2]


def test_constant_scores_give_the_worst_rank():
    scores = np.zeros((3, 5))
    assert target_ranks(scores, np.array([0, 2, 4])).tolist() == [4, 4, 4]
    assert hit_rate_at_k(target_ranks(scores, np.array([0, 2, 4])), 4) == 0.0


def test_nan_scores_rank_last():
    scores = np.array([[np.nan, 0.2, 0.1]])
    assert target_ranks(scores, np.array([0])).tolist() == [2]
    assert target_ranks(scores, np.array([2])).tolist() == [1]


def test_negative_target_gives_rank_minus_one_and_is_ignored():
    scores = np.array([[0.9, 0.1], [0.1, 0.9]])
    ranks = target_ranks(scores, np.array([0, -1]))
    assert ranks.tolist() == [0, -1]
    assert hit_rate_at_k(ranks, 1) == 1.0
    assert mrr(ranks) == 1.0


def test_exclude_removes_items_but_never_the_target():
    scores = np.array([[0.9, 0.8, 0.7, 0.1]])
    exclude = sp.csr_matrix(np.array([[1, 0, 1, 0]]))
    # target 2 is itself marked seen: it stays ranked; of the better items only 1 still counts
    assert target_ranks(scores, np.array([2]), exclude).tolist() == [1]
    assert target_ranks(scores, np.array([0]), exclude).tolist() == [0]
    assert target_ranks(scores, np.array([3]), exclude).tolist() == [1]
    # excluded tie partners do not push the target down either
    tied = np.array([[0.5, 0.5, 0.5]])
    assert target_ranks(tied, np.array([1]), sp.csr_matrix(np.array([[1, 0, 1]]))).tolist() == [0]


def test_explicit_zeros_and_duplicates_in_exclude():
    scores = np.array([[0.9, 0.8, 0.1]])
    # item 0 is an explicit zero (not excluded); item 1 is stored twice (excluded once)
    exclude = sp.csr_matrix((np.array([0.0, 1.0, 1.0]), np.array([0, 1, 1]), np.array([0, 3])),
                            shape=(1, 3))
    assert target_ranks(scores, np.array([2]), exclude).tolist() == [1]
    assert top_k(scores, 3, exclude).tolist() == [[0, 2, -1]]


def test_exclude_matches_setting_excluded_scores_to_minus_inf():
    rng = np.random.default_rng(0)
    scores = rng.random((50, 30))
    targets = rng.integers(0, 30, 50)
    exclude = sp.random(50, 30, density=0.3, random_state=1, format="csr")
    masked = scores.copy()
    dense = exclude.toarray() != 0
    dense[np.arange(50), targets] = False
    masked[dense] = -np.inf
    expected = (masked > masked[np.arange(50), targets][:, None]).sum(axis=1)
    assert np.array_equal(target_ranks(scores, targets, exclude), expected)


def test_target_ranks_rejects_bad_input():
    with pytest.raises(DataError, match="out of range"):
        target_ranks(np.zeros((1, 3)), np.array([3]))
    with pytest.raises(DataError, match="targets"):
        target_ranks(np.zeros((2, 3)), np.array([0]))
    with pytest.raises(DataError, match="2-D"):
        target_ranks(np.zeros(3), np.array([0]))
    with pytest.raises(DataError, match="exclude"):
        target_ranks(np.zeros((1, 3)), np.array([0]), sp.csr_matrix((1, 4)))


# --- top_k --------------------------------------------------------------------------------


def test_top_k_best_first_with_lower_index_winning_ties():
    scores = np.array([[0.1, 0.9, 0.5, 0.9, 0.3]])
    assert top_k(scores, 3).tolist() == [[1, 3, 2]]
    assert top_k(scores, 10).tolist() == [[1, 3, 2, 4, 0]]


def test_top_k_never_returns_excluded_items_and_pads():
    scores = np.array([[0.1, 0.9, 0.5], [-np.inf, 0.2, 0.3]])
    exclude = sp.csr_matrix(np.array([[0, 1, 1], [0, 0, 1]]))
    assert top_k(scores, 3, exclude).tolist() == [[0, -1, -1], [1, 0, -1]]


def test_top_k_matches_full_sort():
    rng = np.random.default_rng(3)
    scores = rng.random((20, 100))
    expected = np.argsort(-scores, axis=1, kind="stable")[:, :7]
    assert np.array_equal(top_k(scores, 7), expected)
    assert top_k(scores, 0).shape == (20, 0)


# --- point metrics ------------------------------------------------------------------------


def test_point_metrics_hand_computed():
    ranks = np.array([0, 1, 2, 15, -1])
    assert hit_rate_at_k(ranks, 3) == pytest.approx(3 / 4)
    assert ndcg_at_k(ranks, 3) == pytest.approx((1 + 1 / math.log2(3) + 1 / 2 + 0) / 4)
    assert mrr(ranks) == pytest.approx((1 + 1 / 2 + 1 / 3 + 1 / 16) / 4)


def test_metrics_over_no_valid_rows_are_nan():
    ranks = np.array([-1, -1])
    assert math.isnan(hit_rate_at_k(ranks, 10))
    assert math.isnan(ndcg_at_k(ranks, 10))
    assert math.isnan(mrr(np.array([], dtype=np.int64)))


def test_catalog_coverage_ignores_padding():
    assert catalog_coverage(np.array([[0, 1], [1, -1]]), 4) == 0.5
    with pytest.raises(DataError):
        catalog_coverage(np.array([[0]]), 0)


def test_ranking_metrics_keys_and_values():
    ranks = np.array([0, 4, -1])
    topk = np.array([[0, 1, 2], [3, 0, 1], [5, 6, 7]])  # the -1 row's list is not counted
    metrics = ranking_metrics(ranks, ks=(3, 1), topk=topk, n_items=10)
    assert list(metrics) == ["hr@1", "ndcg@1", "hr@3", "ndcg@3", "mrr",
                             "coverage@1", "coverage@3"]
    assert metrics["hr@3"] == 0.5
    assert metrics["ndcg@1"] == 0.5
    assert metrics["mrr"] == pytest.approx((1 + 1 / 5) / 2)
    assert metrics["coverage@1"] == pytest.approx(2 / 10)
    assert metrics["coverage@3"] == pytest.approx(4 / 10)
    with pytest.raises(DataError, match="n_items"):
        ranking_metrics(ranks, topk=topk)


# --- graded NDCG and recall (search) ------------------------------------------------------


def test_graded_ndcg_hand_computed():
    # returned gains 0, 2, 1; judged gains 2, 1, 0, 0
    dcg = 0 + 2 / math.log2(3) + 1 / math.log2(4)
    ideal = 2 / math.log2(2) + 1 / math.log2(3)
    assert graded_ndcg_at_k([[0, 2, 1]], [[2, 1, 0, 0]], 3) == pytest.approx(dcg / ideal)
    # k = 2 cuts the third result off and the ideal too
    assert graded_ndcg_at_k([[0, 2, 1]], [[2, 1, 0, 0]], 2) == pytest.approx(
        (2 / math.log2(3)) / ideal)


def test_graded_ndcg_perfect_short_and_empty_queries():
    ranked = [np.array([3, 2, 1]), np.array([1]), np.array([0, 0]), np.array([])]
    judged = [np.array([1, 2, 3]), np.array([0, 1, 1]), np.array([0, 0]), np.array([])]
    per_query = [1.0, 1 / (1 + 1 / math.log2(3)), 0.0, 0.0]  # no-relevant queries count as 0
    assert graded_ndcg_at_k(ranked, judged, 3) == pytest.approx(np.mean(per_query))


def test_graded_ndcg_accepts_a_2d_array():
    ranked = np.array([[1.0, 0.0], [0.0, 1.0]])
    expected = (1 + 1 / math.log2(3)) / 2
    assert graded_ndcg_at_k(ranked, [[1.0], [1.0]], 5) == pytest.approx(expected)


def test_recall_at_k():
    flags = [[1, 0, 1], [0, 1], [0, 0]]
    assert recall_at_k(flags, [2, 1, 0], 2) == pytest.approx((1 / 2 + 1 + 0) / 3)
    assert recall_at_k(flags, [2, 1, 0], 3) == pytest.approx((1 + 1 + 0) / 3)
    with pytest.raises(DataError, match="n_relevant"):
        recall_at_k([[1, 1]], [1], 2)


# --- evaluate_scores ----------------------------------------------------------------------


def _planted(n_users=37, n_items=25, seed=0):
    rng = np.random.default_rng(seed)
    scores = rng.random((n_users, n_items))
    scores[:, :3] = 0.5  # some ties
    targets = rng.integers(0, n_items, n_users)
    targets[::7] = -1
    exclude = sp.random(n_users, n_items, density=0.2, random_state=seed, format="csr")
    return scores, targets, exclude


def test_batched_evaluation_equals_unbatched():
    scores, targets, exclude = _planted()
    rows = np.arange(len(scores))
    calls = []

    def score_fn(batch):
        calls.append(len(batch))
        return scores[batch]

    batched = evaluate_scores(score_fn, rows, targets, 25, k=10, exclude=exclude,
                              batch_size=4, ks=(5, 10))
    assert max(calls) <= 4
    whole = evaluate_scores(score_fn, rows, targets, 25, k=10, exclude=exclude,
                            batch_size=10_000, ks=(5, 10))
    assert batched == pytest.approx(whole)

    valid = targets >= 0
    ranks = target_ranks(scores[valid], targets[valid], exclude[valid])
    topk = top_k(scores[valid], 10, exclude[valid])
    direct = ranking_metrics(ranks, ks=(5, 10), topk=topk, n_items=25)
    assert {name: value for name, value in batched.items() if name != "n"} == pytest.approx(direct)
    assert batched["n"] == valid.sum()


def test_evaluate_scores_uses_rows_to_index_exclude_and_skips_missing_targets():
    user_scores = np.array([[0.9, 0.5, 0.1],
                            [0.1, 0.5, 0.9]])
    exclude = sp.csr_matrix(np.array([[1, 0, 0],
                                      [0, 0, 1]]))
    seen = []

    def score_fn(batch):
        seen.extend(batch.tolist())
        return user_scores[batch]

    # row order reversed; the third row has no target and must not be scored
    metrics = evaluate_scores(score_fn, np.array([1, 0, 0]), np.array([1, 1, -1]), 3, k=1,
                              exclude=exclude, ks=(1,))
    assert seen == [1, 0]
    assert metrics == {"hr@1": 1.0, "ndcg@1": 1.0, "mrr": 1.0, "coverage@1": 1 / 3, "n": 2}


def test_evaluate_scores_checks_the_score_shape():
    with pytest.raises(DataError, match="score_fn returned shape"):
        evaluate_scores(lambda batch: np.zeros((len(batch), 2)), np.arange(2), np.zeros(2), 3)
