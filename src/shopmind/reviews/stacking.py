"""Several sentiment models as one: a logistic regression weighs them on held-out reviews.

:class:`StackedSentimentClassifier` takes named :class:`~shopmind.reviews.base.TextClassifier`
members — typically the n-gram ensemble (:class:`~shopmind.reviews.ngram.NgramSentimentClassifier`)
and an encoder fine-tuned on the shop's reviews
(:class:`~shopmind.reviews.transformer.TransformerClassifier` over a ``shopmind pretrain``
encoder). The two err differently — surface n-grams against context — so a weighted vote beats
either alone when both are decent.

Fitting: every member learns from ``1 - holdout`` of the rows; a multinomial logistic regression
on the members' log-probabilities of the held-out rows learns their weights (stacking, which also
calibrates); then the members named in ``refit`` learn again from all rows. A fine-tuned encoder
is usually left out of ``refit``: fitting it twice doubles the slowest step, while the weights
were learned for the model as it is.

A saved stack is a directory: ``stack.json`` (members, classes, weights) and one sub-directory
per member, written and read by the member's own ``save``/``load``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from shopmind.errors import DataError, NotFittedError
from shopmind.reviews.base import TextClassifier, as_texts, stratified_holdout
from shopmind.reviews.ngram import _fit_calibrator, _softmax, _stack

__all__ = ["StackedSentimentClassifier"]


class StackedSentimentClassifier:
    """Named ``members`` (TextClassifiers), weighed on a stratified ``holdout`` share.

    ``refit``: the members fitted again on all rows once the weights are learned (default: all).
    Learned state: ``classes_``, ``weights_`` (class × member log-probability coefficients) and
    ``intercept_``, ``holdout_accuracy_`` (each member's and the stack's, on the held-out rows).
    """

    def __init__(self, members: Mapping[str, TextClassifier], holdout: float = 0.1,
                 refit: Sequence[str] | None = None, seed: int = 0):
        self.members = dict(members)
        self.holdout = holdout
        self.refit = refit
        self.seed = seed

    def _check(self) -> None:
        if len(self.members) < 2:
            raise DataError("a stack needs two or more members; use the member itself otherwise")
        unknown = set(self.refit or ()) - set(self.members)
        if unknown:
            raise DataError(f"refit names {sorted(unknown)}, which are not members "
                            f"({sorted(self.members)})")
        if not 0 < self.holdout < 0.5:
            raise DataError(f"holdout is a share in (0, 0.5), got {self.holdout}")

    def fit(self, texts, labels) -> StackedSentimentClassifier:
        self._check()
        texts = as_texts(texts)
        labels = np.asarray(labels, dtype=object)
        if len(labels) != len(texts):
            raise DataError(f"{len(texts)} texts but {len(labels)} labels")
        names, y = np.unique(labels.astype(str), return_inverse=True)
        if len(names) < 2:
            raise DataError("the labels hold a single class; a classifier needs two or more")
        held = stratified_holdout(y, self.holdout, self.seed)
        keep = np.setdiff1d(np.arange(len(texts)), held)
        if len(held) == 0 or len(np.unique(y[held])) < len(names):
            raise DataError(f"{len(texts)} reviews are too few to hold {self.holdout:.0%} of "
                            f"every class out; give more or raise holdout")
        for member in self.members.values():
            member.fit([texts[i] for i in keep], labels[keep])
        self.classes_ = np.asarray(next(iter(self.members.values())).classes_)
        order = [str(c) for c in self.classes_]
        y_held = np.array([order.index(str(v)) for v in labels[held]])
        proba = self._member_proba([texts[i] for i in held])
        self.weights_, self.intercept_ = _fit_calibrator(proba, y_held, len(order))
        stacked = _softmax(_stack(proba) @ self.weights_.T + self.intercept_)
        self.holdout_accuracy_ = {name: float(np.mean(p.argmax(axis=1) == y_held))
                                  for name, p in proba.items()}
        self.holdout_accuracy_["stack"] = float(np.mean(stacked.argmax(axis=1) == y_held))
        for name in self.refit if self.refit is not None else self.members:
            self.members[name].fit(texts, labels)
        return self

    def _member_proba(self, texts: list[str]) -> dict[str, np.ndarray]:
        out = {}
        for name, member in self.members.items():
            columns = [str(c) for c in member.classes_]
            if columns != [str(c) for c in self.classes_]:
                raise DataError(f"member {name!r} has classes {columns}, the stack "
                                f"{[str(c) for c in self.classes_]}")
            out[name] = member.predict_proba(texts)
        return out

    def predict_proba(self, texts) -> np.ndarray:
        if not hasattr(self, "weights_"):
            raise NotFittedError("this StackedSentimentClassifier is not fitted; call fit() or load()")
        return _softmax(_stack(self._member_proba(as_texts(texts))) @ self.weights_.T
                        + self.intercept_)

    def predict(self, texts) -> np.ndarray:
        proba = self.predict_proba(texts)
        return self.classes_[np.argmax(proba, axis=1)]

    def save(self, path: str | Path) -> Path:
        if not hasattr(self, "weights_"):
            raise NotFittedError("nothing to save: the stack is not fitted")
        path = Path(path)
        path.mkdir(parents=True, exist_ok=True)
        spec = {"kind": "StackedSentimentClassifier", "holdout": self.holdout,
                "refit": None if self.refit is None else list(self.refit), "seed": self.seed,
                "classes": [c.item() if isinstance(c, np.generic) else c for c in self.classes_],
                "weights": self.weights_.tolist(), "intercept": self.intercept_.tolist(),
                "holdout_accuracy": self.holdout_accuracy_, "members": {}}
        for name, member in self.members.items():
            member.save(path / name)
            spec["members"][name] = f"{type(member).__module__}.{type(member).__name__}"
        (path / "stack.json").write_text(json.dumps(spec, indent=1))
        return path

    @classmethod
    def load(cls, path: str | Path) -> StackedSentimentClassifier:
        from shopmind.reviews.analyzer import _load_classifier

        path = Path(path)
        spec_file = path / "stack.json"
        if not spec_file.is_file():
            raise DataError(f"no saved StackedSentimentClassifier at {path} (stack.json is missing)")
        spec = json.loads(spec_file.read_text())
        members = {name: _load_classifier(qualified, path / name)
                   for name, qualified in spec["members"].items()}
        model = cls(members, spec["holdout"], spec["refit"], spec["seed"])
        model.classes_ = np.array(spec["classes"])
        model.weights_ = np.array(spec["weights"])
        model.intercept_ = np.array(spec["intercept"])
        model.holdout_accuracy_ = spec["holdout_accuracy"]
        return model
