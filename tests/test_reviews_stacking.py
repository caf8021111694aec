"""The sentiment stack weighs its members by what they know on held-out reviews."""

from __future__ import annotations

import numpy as np
import pytest

from shopmind.errors import DataError, NotFittedError
from shopmind.reviews import NgramSentimentClassifier, StackedSentimentClassifier


def _order_matters(n: int, seed: int) -> tuple[list[str], np.ndarray]:
    """Polarity is the order of two characters ("甲乙" good, "乙甲" bad), 10 % labels flipped:
    a model of single characters cannot tell them apart, one of character pairs can."""
    rng = np.random.default_rng(seed)
    filler = list("今天收到这个商品我们家里朋友价格")
    texts, labels = [], []
    for _ in range(n):
        positive = rng.random() < 0.5
        words = ["".join(rng.choice(filler, 2)) for _ in range(3)] + ["甲乙" if positive else "乙甲"]
        texts.append("，".join(rng.permutation(words)))
        labels.append(int(positive) if rng.random() > 0.1 else int(not positive))
    return texts, np.array(labels)


def _members():
    light = dict(word_ngrams=None, members=("lr",), calibration=0.0)
    return {"chars": NgramSentimentClassifier(char_ngrams=(1, 1), **light),
            "pairs": NgramSentimentClassifier(char_ngrams=(1, 2), **light)}


def test_the_stack_trusts_the_member_that_knows(tmp_path):
    texts, labels = _order_matters(1500, 0)
    test_texts, test_labels = _order_matters(1000, 1)
    stack = StackedSentimentClassifier(_members(), holdout=0.3).fit(texts, labels)
    assert stack.holdout_accuracy_["chars"] < 0.65 < 0.8 < stack.holdout_accuracy_["pairs"]
    predicted = stack.predict(test_texts)
    assert np.mean(predicted == test_labels) >= 0.85  # the best possible is 0.9
    # the stack follows the member that knows, not the one that guesses
    assert np.mean(predicted == stack.members["pairs"].predict(test_texts)) >= 0.95
    loaded = StackedSentimentClassifier.load(stack.save(tmp_path / "stack"))
    assert np.allclose(loaded.predict_proba(test_texts), stack.predict_proba(test_texts))
    assert list(loaded.classes_) == [0, 1]


def test_stack_errors_say_what_is_wrong():
    texts, labels = _order_matters(200, 2)
    with pytest.raises(DataError, match="two or more members"):
        StackedSentimentClassifier({"chars": _members()["chars"]}).fit(texts, labels)
    with pytest.raises(DataError, match="refit names"):
        StackedSentimentClassifier(_members(), refit=["encoder"]).fit(texts, labels)
    with pytest.raises(NotFittedError):
        StackedSentimentClassifier(_members()).predict(["好"])
