"""Classification metrics: hand-computed values, then scikit-learn as a cross-check."""

import math

import numpy as np
import pytest
from sklearn import metrics as skm

from shopmind.errors import DataError
from shopmind.evaluate import (
    accuracy,
    classification_metrics,
    confusion_matrix,
    expected_calibration_error,
    log_loss,
    macro_f1,
    roc_auc,
)


def test_accuracy_and_confusion_matrix_by_hand():
    y_true = ["pos", "neg", "neu", "pos", "neg"]
    y_pred = ["pos", "pos", "neu", "neg", "neg"]
    assert accuracy(y_true, y_pred) == 0.6
    # labels sorted: neg, neu, pos; rows = true, columns = predicted
    assert confusion_matrix(y_true, y_pred).tolist() == [[1, 0, 1],
                                                          [0, 1, 0],
                                                          [1, 0, 1]]
    assert confusion_matrix(y_true, y_pred, labels=["pos", "neg"]).tolist() == [[1, 1],
                                                                               [1, 1]]


def test_macro_f1_by_hand():
    # F1 = 2TP / (2TP + FP + FN). class 0: TP 1, FP 0, FN 1 -> 2/3;
    # class 1: TP 1, FP 1, FN 1 -> 1/2; class 2 is only predicted: TP 0 -> 0
    y_true = [0, 0, 1, 1]
    y_pred = [0, 1, 1, 2]
    assert macro_f1(y_true, y_pred) == pytest.approx((2 / 3 + 1 / 2 + 0) / 3)
    assert macro_f1([0, 0, 1, 1], [0, 1, 1, 1]) == pytest.approx((2 / 3 + 4 / 5) / 2)
    # an explicit label absent from both arrays counts as 0
    assert macro_f1([0, 1], [0, 1], labels=[0, 1, 2]) == pytest.approx(2 / 3)


def test_roc_auc_by_hand_with_ties():
    # positive pairs: (0.35 vs 0.1) win, (0.35 vs 0.4) lose, (0.8 vs both) win -> 3/4
    assert roc_auc([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8]) == 0.75
    # a tie between a positive and a negative counts one half: (1 + 0.5 + 1 + 1) / 4
    assert roc_auc([0, 0, 1, 1], [0.1, 0.5, 0.5, 0.8]) == 0.875
    assert roc_auc([0, 1, 0, 1], np.full(4, 0.3)) == 0.5
    assert roc_auc([True, False], [0.9, 0.1]) == 1.0
    assert roc_auc(["spam", "ham"], [0.9, 0.1]) == 1.0  # greater label "spam" is positive


def test_roc_auc_needs_two_classes():
    with pytest.raises(DataError, match="both positive and negative"):
        roc_auc([1, 1, 1], [0.2, 0.5, 0.9])
    with pytest.raises(DataError, match="2-D"):
        roc_auc([0, 1, 2], [0.1, 0.2, 0.3])
    with pytest.raises(DataError, match="one column per class"):
        roc_auc([0, 1, 2], np.zeros((3, 2)))


def test_log_loss_and_ece_by_hand():
    assert log_loss([1, 0], [0.8, 0.4]) == pytest.approx(-(math.log(0.8) + math.log(0.6)) / 2)
    prob = np.array([[0.7, 0.2, 0.1], [0.1, 0.1, 0.8]])
    assert log_loss([0, 2], prob) == pytest.approx(-(math.log(0.7) + math.log(0.8)) / 2)
    assert log_loss(["a", "c"], prob, labels=["a", "b", "c"]) == pytest.approx(
        -(math.log(0.7) + math.log(0.8)) / 2)
    with pytest.raises(DataError, match="labels"):
        log_loss(["a"], prob[:1])
    # bins of width 0.5: [0.2, 0.3] -> |1 - 0.5| ; [0.8, 0.9] -> |2 - 1.7|; (0.5 + 0.3) / 4
    assert expected_calibration_error([0, 1, 1, 1], [0.2, 0.3, 0.8, 0.9], n_bins=2) == \
        pytest.approx(0.2)
    # perfectly calibrated within each bin
    assert expected_calibration_error([0, 1, 1, 1], [0.5, 0.5, 1.0, 1.0]) == pytest.approx(0.0)
    with pytest.raises(DataError, match="binary"):
        expected_calibration_error([0, 2], [0.1, 0.2])


def test_classification_metrics_keys():
    assert classification_metrics([0, 1, 1], [0, 1, 0]) == pytest.approx(
        {"accuracy": 2 / 3, "macro_f1": 2 / 3})
    with_auc = classification_metrics([0, 1, 1], [0, 1, 0], y_score=[0.1, 0.9, 0.4])
    assert list(with_auc) == ["accuracy", "macro_f1", "auc"]
    assert with_auc["auc"] == 1.0


def test_length_mismatch_is_a_data_error():
    with pytest.raises(DataError, match="y_pred"):
        accuracy([0, 1], [0])
    with pytest.raises(DataError, match="zero samples"):
        macro_f1([], [])


# --- cross-checks against scikit-learn ----------------------------------------------------


@pytest.mark.parametrize("seed", range(5))
def test_f1_accuracy_confusion_match_sklearn(seed):
    rng = np.random.default_rng(seed)
    y_true = rng.choice(["a", "b", "c", "d"], 200)
    y_pred = np.where(rng.random(200) < 0.6, y_true, rng.choice(["a", "b", "c", "e"], 200))
    assert accuracy(y_true, y_pred) == pytest.approx(skm.accuracy_score(y_true, y_pred))
    assert macro_f1(y_true, y_pred) == pytest.approx(
        skm.f1_score(y_true, y_pred, average="macro", zero_division=0))
    assert np.array_equal(confusion_matrix(y_true, y_pred), skm.confusion_matrix(y_true, y_pred))


@pytest.mark.parametrize("seed", range(5))
def test_auc_and_log_loss_match_sklearn(seed):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, 300)
    score = np.round(rng.random(300) + 0.3 * y, 1)  # rounding makes many ties
    assert roc_auc(y, score) == pytest.approx(skm.roc_auc_score(y, score))
    prob = np.clip(score / score.max(), 0.01, 0.99)
    assert log_loss(y, prob) == pytest.approx(skm.log_loss(y, prob))

    classes = rng.integers(0, 4, 300)
    logits = rng.normal(size=(300, 4)) + np.eye(4)[classes]
    prob_multi = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    assert roc_auc(classes, prob_multi) == pytest.approx(
        skm.roc_auc_score(classes, prob_multi, multi_class="ovr", average="macro"))
    assert log_loss(classes, prob_multi) == pytest.approx(skm.log_loss(classes, prob_multi))


def test_detection_metrics_count_every_cell_once_and_refuse_mismatched_shapes():
    from shopmind.evaluate import detection_metrics

    truth = np.array([[True, False, True], [False, False, True]])
    found = np.array([[True, True, False], [False, False, True]])
    assert detection_metrics(truth, found) == pytest.approx(
        {"precision": 2 / 3, "recall": 2 / 3, "f1": 2 / 3})
    assert detection_metrics(truth, np.zeros_like(truth)) == {"precision": 0.0, "recall": 0.0,
                                                              "f1": 0.0}
    with pytest.raises(DataError, match="shape"):
        detection_metrics(truth, found[0])
