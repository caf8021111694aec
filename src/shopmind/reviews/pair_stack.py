"""Aspect-term sentiment from a fine-tuned transformer and the n-gram model, weighed together.

The fine-tuned encoder reads context; the n-gram model
(:class:`~shopmind.reviews.absa.AspectTermClassifier`) reads the words next to the term and
their distance from it. They err differently, so a weighted vote of their log-probabilities
beats the encoder alone (SemEval-14, one MiniLM against it mixed with the n-gram model:
``benchmarks/reviews.py --finetune``).

The weights are learned on rows neither model learned from, without holding rows out of the
slow model: the transformer's own early-stopping rows (``dev_proba_``: each scored by the
ensemble models that held it out) and, for the n-gram model, the same rows predicted by
``folds``-fold cross-fitting. A multinomial logistic regression on both log-probabilities
learns the weights (stacking, which also calibrates); then the n-gram model is fitted on all
rows.

A saved stack is a directory: ``pair-stack.json`` (weights, classes), ``transformer/`` and
``ngram.npz``.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from shopmind.errors import DataError, NotFittedError
from shopmind.reviews.absa import AspectTermClassifier
from shopmind.reviews.base import as_texts, stratified_folds
from shopmind.reviews.ngram import _fit_calibrator, _softmax, _stack
from shopmind.reviews.transformer import TransformerPairClassifier

__all__ = ["StackedPairClassifier"]


class StackedPairClassifier:
    """A :class:`TransformerPairClassifier` (with a ``dev_share``) and an
    :class:`AspectTermClassifier`, weighed on the transformer's held-out rows (a
    :class:`~shopmind.reviews.base.PairClassifier`).

    Learned state: ``classes_``, ``weights_`` / ``intercept_`` (the stacker) and
    ``holdout_accuracy_`` (each member's and the stack's, on the rows the weights came from).
    """

    def __init__(self, transformer: TransformerPairClassifier,
                 ngram: AspectTermClassifier | None = None, folds: int = 5, seed: int = 0):
        self.transformer = transformer
        self.ngram = ngram if ngram is not None else AspectTermClassifier()
        self.folds = folds
        self.seed = seed

    def fit(self, texts, pairs, labels) -> StackedPairClassifier:
        if not self.transformer.dev_share:
            raise DataError("the transformer needs a dev_share > 0: its held-out rows are "
                            "where the stack learns its weights")
        if self.folds < 2:
            raise DataError(f"folds is a number of cross-fitting folds >= 2, got {self.folds}")
        texts, pairs = as_texts(texts), as_texts(pairs, "pairs")
        labels = np.asarray(labels, dtype=object)
        if not len(texts) == len(pairs) == len(labels):
            raise DataError(f"{len(texts)} texts, {len(pairs)} pairs and {len(labels)} labels; "
                            "give one pair and one label per text")
        self.transformer.fit(texts, pairs, labels)
        self.classes_ = np.asarray(self.transformer.classes_)
        order = [str(c) for c in self.classes_]
        rows, transformer_proba = self.transformer.dev_proba_
        ngram_proba = self._cross_fitted(texts, pairs, labels, rows)
        y = np.array([order.index(str(v)) for v in labels[rows]])
        proba = {"transformer": transformer_proba, "ngram": ngram_proba}
        self.weights_, self.intercept_ = _fit_calibrator(proba, y, len(order))
        stacked = _softmax(_stack(proba) @ self.weights_.T + self.intercept_)
        self.holdout_accuracy_ = {name: float(np.mean(p.argmax(axis=1) == y))
                                  for name, p in proba.items()}
        self.holdout_accuracy_["stack"] = float(np.mean(stacked.argmax(axis=1) == y))
        self.ngram.fit(texts, pairs, labels)
        self._check_classes(self.ngram)
        return self

    def _cross_fitted(self, texts, pairs, labels, rows: np.ndarray) -> np.ndarray:
        """The n-gram model's probabilities of ``rows``, each from a fit without its fold."""
        fold = stratified_folds(np.unique(labels.astype(str), return_inverse=True)[1],
                                self.folds, self.seed)
        out = np.zeros((len(rows), len(self.classes_)))
        for k in range(self.folds):
            train = np.flatnonzero(fold != k)
            mine = np.flatnonzero(fold[rows] == k)
            if not len(mine):
                continue
            model = AspectTermClassifier(self.ngram.C, self.ngram.window, self.ngram.min_df).fit(
                [texts[i] for i in train], [pairs[i] for i in train], labels[train])
            self._check_classes(model)
            out[mine] = model.predict_proba([texts[rows[i]] for i in mine],
                                            [pairs[rows[i]] for i in mine])
        return out

    def _check_classes(self, model) -> None:
        if [str(c) for c in model.classes_] != [str(c) for c in self.classes_]:
            raise DataError(f"the n-gram model learned the classes {list(model.classes_)}, the "
                            f"transformer {list(self.classes_)}: every class needs at least "
                            f"{self.folds} rows (one per fold); give more rows or fewer folds")

    def predict_proba(self, texts, pairs) -> np.ndarray:
        if not hasattr(self, "weights_"):
            raise NotFittedError("this StackedPairClassifier is not fitted; call fit() or load()")
        proba = {"transformer": self.transformer.predict_proba(texts, pairs),
                 "ngram": self.ngram.predict_proba(texts, pairs)}
        return _softmax(_stack(proba) @ self.weights_.T + self.intercept_)

    def predict(self, texts, pairs) -> np.ndarray:
        return self.classes_[np.argmax(self.predict_proba(texts, pairs), axis=1)]

    def save(self, path: str | Path) -> Path:
        if not hasattr(self, "weights_"):
            raise NotFittedError("nothing to save: the stack is not fitted")
        path = Path(path)
        path.mkdir(parents=True, exist_ok=True)
        self.transformer.save(path / "transformer")
        self.ngram.save(path / "ngram.npz")
        spec = {"kind": type(self).__name__, "folds": self.folds, "seed": self.seed,
                "classes": [c.item() if isinstance(c, np.generic) else c for c in self.classes_],
                "weights": self.weights_.tolist(), "intercept": self.intercept_.tolist(),
                "holdout_accuracy": self.holdout_accuracy_}
        (path / "pair-stack.json").write_text(json.dumps(spec, indent=1))
        return path

    @classmethod
    def load(cls, path: str | Path) -> StackedPairClassifier:
        path = Path(path)
        spec_file = path / "pair-stack.json"
        if not spec_file.is_file():
            raise DataError(f"no saved StackedPairClassifier at {path} (pair-stack.json is "
                            "missing)")
        spec = json.loads(spec_file.read_text())
        model = cls(TransformerPairClassifier.load(path / "transformer"),
                    AspectTermClassifier.load(path / "ngram.npz"), spec["folds"], spec["seed"])
        model.classes_ = np.array(spec["classes"], dtype=object)
        model.weights_ = np.array(spec["weights"])
        model.intercept_ = np.array(spec["intercept"])
        model.holdout_accuracy_ = spec["holdout_accuracy"]
        return model
