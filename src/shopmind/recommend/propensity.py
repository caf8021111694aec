"""Propensity: the calibrated probability that a user buys (or clicks) an item within a horizon.

The model learns the way it will be used. ``fit`` puts a cut one ``horizon`` before the newest
event, describes every (user, candidate item) pair with what was known at the cut
(:mod:`~shopmind.recommend.propensity_features`), labels a pair 1 when the user did the target
event on the item in the horizon after the cut, and fits a logistic regression calibrated with
isotonic regression (scikit-learn's ``CalibratedClassifierCV``). It then rebuilds the features
at the newest event, which is what :meth:`Propensity.predict_proba` scores.

Candidates are the pairs a shop would ask about: for every user with history, the
recommender's top ``candidates`` items plus every item the user already touched. The
probabilities are calibrated on that population; for items far outside it they are an
extrapolation (small, as they should be). :func:`temporal_evaluation` measures ROC-AUC,
expected calibration error and log-loss on the horizon after a cut the model never saw.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import scipy.sparse as sp

from shopmind.data.model_files import ids_from_json, ids_to_json, read_model, write_model
from shopmind.errors import DataError, NotFittedError, NotFoundError
from shopmind.evaluate.classification import expected_calibration_error, log_loss, roc_auc
from shopmind.evaluate.ranking import top_k
from shopmind.recommend.base import Recommender
from shopmind.recommend.propensity_features import DAY, FEATURE_NAMES, Snapshot

__all__ = ["Propensity", "temporal_evaluation", "TARGETS"]

TARGETS = {"purchase": ("purchase",), "click": ("click",), "view": ("view", "click")}
"""Named targets and the event types that count as a positive."""


def _recommender(spec: dict) -> Recommender:
    kind = Recommender._registry.get(spec.get("kind"))
    if kind is None:
        raise DataError(f"unknown recommender {spec.get('kind')!r}; choose from "
                        f"{sorted(Recommender._registry)}")
    return kind(**spec.get("params", {}))


class Propensity:
    """P(user does ``target`` on item within ``horizon_days``), calibrated.

    ``target``: ``"purchase"``, ``"click"``, ``"view"`` (a view or a click) or a tuple of event
    types. ``features``: a subset of :data:`~shopmind.recommend.propensity_features.
    FEATURE_NAMES` (all by default; e.g. ``("i_events", "i_purchases")`` is a popularity-only
    baseline). ``recommender``: the model whose scores give the user–item affinity, as
    ``{"kind": class name, "params": {...}}``. ``max_users`` bounds the training population
    (users are sampled uniformly, which keeps the probabilities calibrated).

    >>> from shopmind.data.demo import generate_demo_shop
    >>> shop = generate_demo_shop(seed=1, n_users=150, n_items=200, days=60)
    >>> model = Propensity(horizon_days=14).fit(shop.events, shop.items)
    >>> p = model.predict_proba("u-00001", ["sku-00001", "sku-00002"])
    >>> p.shape, bool(((p >= 0) & (p <= 1)).all())
    ((2,), True)
    """

    def __init__(self, target: str | tuple[str, ...] = "purchase", horizon_days: float = 7.0,
                 candidates: int = 50, features: tuple[str, ...] | None = None,
                 recommender: dict | None = None, calibration: str = "isotonic",
                 folds: int = 3, regularization: float = 1.0, max_users: int = 20_000,
                 seed: int = 0):
        self.target = target
        self.horizon_days = horizon_days
        self.candidates = candidates
        self.features = features
        self.recommender = recommender
        self.calibration = calibration
        self.folds = folds
        self.regularization = regularization
        self.max_users = max_users
        self.seed = seed

    def get_params(self) -> dict:
        return {"target": self.target, "horizon_days": self.horizon_days,
                "candidates": self.candidates,
                "features": None if self.features is None else list(self.features),
                "recommender": self.recommender, "calibration": self.calibration,
                "folds": self.folds, "regularization": self.regularization,
                "max_users": self.max_users, "seed": self.seed}

    def __repr__(self) -> str:
        return f"Propensity({', '.join(f'{k}={v!r}' for k, v in self.get_params().items())})"

    # -- validation ---------------------------------------------------------------------

    def _target_types(self) -> tuple[str, ...]:
        if isinstance(self.target, str):
            if self.target not in TARGETS:
                raise DataError(f"target must be one of {sorted(TARGETS)} or a tuple of event "
                                f"types, got {self.target!r}")
            return TARGETS[self.target]
        return tuple(self.target)

    def _columns(self) -> np.ndarray:
        if self.features is None:
            return np.arange(len(FEATURE_NAMES))
        unknown = [f for f in self.features if f not in FEATURE_NAMES]
        if unknown or not self.features:
            raise DataError(f"features must be a non-empty subset of {FEATURE_NAMES}; "
                            f"unknown: {unknown}")
        return np.array([FEATURE_NAMES.index(f) for f in self.features])

    def _check(self) -> None:
        if self.horizon_days <= 0:
            raise DataError(f"horizon_days must be positive, got {self.horizon_days}")
        if self.candidates < 1:
            raise DataError(f"candidates must be at least 1, got {self.candidates}")
        if self.calibration not in ("isotonic", "sigmoid"):
            raise DataError(f"calibration must be 'isotonic' or 'sigmoid', got "
                            f"{self.calibration!r}")
        if self.folds < 2:
            raise DataError(f"folds must be at least 2, got {self.folds}")

    # -- learning -----------------------------------------------------------------------

    def snapshot(self, events: pd.DataFrame, items: pd.DataFrame, as_of: float) -> Snapshot:
        """The features' view of the shop at ``as_of`` (a recommender is fitted for it)."""
        spec = self.recommender or {"kind": "ItemKNN", "params": {}}
        return Snapshot.build(events, items, as_of, _recommender(spec))

    def population(self, snapshot: Snapshot, users: np.ndarray | None = None
                   ) -> tuple[np.ndarray, np.ndarray]:
        """(user rows, item columns) of the candidate pairs of ``users`` (rows; all users of
        the snapshot by default): each user's top ``candidates`` items and the items seen."""
        users = np.arange(len(snapshot.user_ids)) if users is None else np.asarray(users)
        rows, cols = [], []
        for start in range(0, len(users), 512):
            chunk = users[start:start + 512]
            best = top_k(snapshot.recommender_scores(chunk), self.candidates)
            seen = snapshot.seen(chunk)
            for k, u in enumerate(chunk):
                items = np.union1d(best[k][best[k] >= 0], seen[k])
                rows.append(np.full(len(items), u, dtype=np.int64))
                cols.append(items.astype(np.int64))
        if not rows:
            return np.zeros(0, np.int64), np.zeros(0, np.int64)
        return np.concatenate(rows), np.concatenate(cols)

    def target_pairs(self, snapshot: Snapshot, events: pd.DataFrame,
                     start: float | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Distinct (user row, item column) pairs of the snapshot with a target event in the
        horizon from ``start`` (default: the snapshot's time)."""
        start = snapshot.as_of if start is None else float(start)
        end = start + self.horizon_days * DAY
        window = events[(events["ts"] >= start) & (events["ts"] < end)
                        & events["type"].isin(self._target_types())]
        u = snapshot.user_index(window["user_id"])
        i = snapshot.item_index(window["item_id"])
        ok = (u >= 0) & (i >= 0)
        n = len(snapshot.item_ids)
        keys = np.unique(u[ok].astype(np.int64) * n + i[ok])
        return keys // n, keys % n

    def labels(self, snapshot: Snapshot, events: pd.DataFrame, rows: np.ndarray,
               cols: np.ndarray, start: float | None = None) -> np.ndarray:
        """1 where the user did a target event on the item within the horizon from ``start``
        (default: the snapshot's time), else 0."""
        users, items = self.target_pairs(snapshot, events, start)
        n = len(snapshot.item_ids)
        return np.isin(rows * n + cols, users * n + items).astype(np.int64)

    def fit(self, events: pd.DataFrame, items: pd.DataFrame) -> Propensity:
        """Learn from ``events`` (user_id, item_id, type, ts) and the catalog ``items``
        (item_id, and where known category, brand, price, language)."""
        from sklearn.calibration import CalibratedClassifierCV
        from sklearn.linear_model import LogisticRegression

        self._check()
        columns = self._columns()
        if events.empty:
            raise DataError("fit needs events; the events table is empty")
        newest = float(events["ts"].max())
        cut = newest - self.horizon_days * DAY
        train = self.snapshot(events, items, cut)
        rng = np.random.default_rng(self.seed)
        users = np.arange(len(train.user_ids))
        if len(users) > self.max_users:
            users = np.sort(rng.choice(users, self.max_users, replace=False))
        rows, cols = self.population(train, users)
        y = self.labels(train, events, rows, cols)
        if y.sum() < self.folds or (len(y) - y.sum()) < self.folds:
            raise DataError(f"only {int(y.sum())} candidate pairs had a {self.target!r} event in "
                            f"the {self.horizon_days:g} days before the newest event; the "
                            f"propensity model needs more (a longer horizon_days or more data)")
        X = train.features(rows, cols)[:, columns]
        self.mean_ = X.mean(axis=0)
        self.scale_ = np.where(X.std(axis=0) > 0, X.std(axis=0), 1.0)
        calibrated = CalibratedClassifierCV(
            LogisticRegression(C=self.regularization, max_iter=2000),
            method=self.calibration, cv=self.folds)
        calibrated.fit((X - self.mean_) / self.scale_, y)
        self._export(calibrated)
        self.train_pairs_ = int(len(y))
        self.train_positive_rate_ = float(y.mean())
        self.snapshot_ = self.snapshot(events, items, newest + 1e-3)
        return self

    def _export(self, calibrated) -> None:
        """Keep the fold models as arrays: the probability is the mean over folds of the
        calibration map applied to the logistic regression's decision value."""
        coef, intercept, xs, ys, offsets = [], [], [], [], [0]
        for fold in calibrated.calibrated_classifiers_:
            coef.append(fold.estimator.coef_.ravel())
            intercept.append(float(fold.estimator.intercept_[0]))
            calibrator = fold.calibrators[0]
            if self.calibration == "isotonic":
                x, y = calibrator.X_thresholds_, calibrator.y_thresholds_
            else:  # sigmoid: p = 1 / (1 + exp(a z + b)), kept as (a, b)
                x, y = np.array([calibrator.a_]), np.array([calibrator.b_])
            xs.append(np.asarray(x, np.float64))
            ys.append(np.asarray(y, np.float64))
            offsets.append(offsets[-1] + len(xs[-1]))
        self.coef_ = np.array(coef)
        self.intercept_ = np.array(intercept)
        self.calibration_x_ = np.concatenate(xs)
        self.calibration_y_ = np.concatenate(ys)
        self.calibration_offsets_ = np.array(offsets)

    # -- prediction ---------------------------------------------------------------------

    def _check_fitted(self) -> None:
        if not hasattr(self, "coef_"):
            raise NotFittedError("this Propensity is not fitted yet; call fit(events, items) or "
                                 "Propensity.load(path) first")

    def probability(self, X: np.ndarray) -> np.ndarray:
        """Calibrated probabilities of raw feature rows (all of FEATURE_NAMES, in order)."""
        self._check_fitted()
        z = ((X[:, self._columns()] - self.mean_) / self.scale_) @ self.coef_.T + self.intercept_
        out = np.zeros(len(X))
        for k in range(len(self.intercept_)):
            lo, hi = self.calibration_offsets_[k], self.calibration_offsets_[k + 1]
            x, y = self.calibration_x_[lo:hi], self.calibration_y_[lo:hi]
            if self.calibration == "isotonic":
                out += np.interp(z[:, k], x, y)
            else:
                out += 1.0 / (1.0 + np.exp(x[0] * z[:, k] + y[0]))
        return np.clip(out / len(self.intercept_), 0.0, 1.0)

    def predict_proba(self, user_ids, item_ids) -> np.ndarray:
        """The probability for each (user, item) pair: equal-length lists, or one user id with
        a list of items. Users never seen are scored as new users; unknown items raise."""
        self._check_fitted()
        items = np.atleast_1d(np.asarray(item_ids, dtype=object))
        users = np.asarray(user_ids, dtype=object)
        users = np.full(len(items), users.item(), dtype=object) if users.ndim == 0 \
            else np.atleast_1d(users)
        if len(users) != len(items):
            raise DataError(f"user_ids has {len(users)} entries but item_ids has {len(items)}; "
                            f"pass one user id, or one user per item")
        cols = self.snapshot_.item_index(items)
        if np.any(cols < 0):
            missing = items[cols < 0][0]
            raise NotFoundError(f"unknown item {missing!r}: the propensity model was trained "
                                f"before it was in the catalog; retrain it")
        rows = self.snapshot_.user_index(users)
        return self.probability(self.snapshot_.features(rows, cols))

    def feature_weights(self) -> dict[str, float]:
        """Mean logistic coefficient per feature over the folds (on standardised features):
        which signals push the probability up or down."""
        self._check_fitted()
        names = [FEATURE_NAMES[c] for c in self._columns()]
        return dict(zip(names, self.coef_.mean(axis=0).round(4).tolist()))

    # -- persistence --------------------------------------------------------------------

    def save(self, path: str | Path) -> Path:
        """Write the fitted model, its feature snapshot and its recommender to one file."""
        self._check_fitted()
        with tempfile.TemporaryDirectory() as tmp:
            blob = self.snapshot_.recommender.save(Path(tmp) / "recommender.npz").read_bytes()
        arrays = {f"snapshot.{k}": (ids_to_json(v) if v.dtype == object else v)
                  for k, v in self.snapshot_.arrays.items()}
        arrays.update({"recommender": np.frombuffer(blob, dtype=np.uint8),
                       "mean": self.mean_, "scale": self.scale_, "coef": self.coef_,
                       "intercept": self.intercept_, "calibration_x": self.calibration_x_,
                       "calibration_y": self.calibration_y_,
                       "calibration_offsets": self.calibration_offsets_,
                       "train": np.array([self.train_pairs_, self.train_positive_rate_])})
        return write_model(path, "Propensity", self.get_params(), arrays)

    @classmethod
    def load(cls, path: str | Path) -> Propensity:
        kind, params, arrays = read_model(path)
        if kind != "Propensity":
            raise DataError(f"{path} holds a {kind} model, not a Propensity")
        if params.get("features") is not None:
            params["features"] = tuple(params["features"])
        if isinstance(params.get("target"), list):
            params["target"] = tuple(params["target"])
        model = cls(**params)
        snap = {}
        for name, value in arrays.items():
            if name.startswith("snapshot."):
                key = name.removeprefix("snapshot.")
                snap[key] = ids_from_json(value) if key in ("user_ids", "item_ids") else value
        with tempfile.TemporaryDirectory() as tmp:
            file = Path(tmp) / "recommender.npz"
            file.write_bytes(arrays["recommender"].tobytes())
            recommender = Recommender.load(file)
        model.snapshot_ = Snapshot(snap, recommender)
        model.mean_, model.scale_ = arrays["mean"], arrays["scale"]
        model.coef_, model.intercept_ = arrays["coef"], arrays["intercept"]
        model.calibration_x_ = arrays["calibration_x"]
        model.calibration_y_ = arrays["calibration_y"]
        model.calibration_offsets_ = arrays["calibration_offsets"]
        model.train_pairs_ = int(arrays["train"][0])
        model.train_positive_rate_ = float(arrays["train"][1])
        return model


def temporal_evaluation(model: Propensity, events: pd.DataFrame, items: pd.DataFrame,
                        cutoff: float | None = None, n_bins: int = 10) -> dict:
    """Fit ``model`` on the events before ``cutoff`` and score the candidate pairs at the
    cutoff against what happened in the horizon after it.

    ``cutoff`` defaults to one horizon before the newest event. Returns ``auc``, ``ece``
    (``n_bins`` equal-width bins), ``log_loss``, the number of pairs and positives, the mean
    predicted probability, the positive rate, and ``candidate_recall``: the share of the
    users' target events in the horizon that fall on a candidate pair (the rest the model is
    never asked about).
    """
    newest = float(events["ts"].max())
    cutoff = newest - model.horizon_days * DAY if cutoff is None else float(cutoff)
    before = events[events["ts"] < cutoff]
    if before.empty or float(before["ts"].max()) - float(before["ts"].min()) \
            <= model.horizon_days * DAY:
        raise DataError(f"a temporal evaluation needs more than {model.horizon_days:g} days of "
                        f"history before the cutoff (the model learns from the horizon before "
                        f"its newest event); the shop's history is too short")
    model.fit(before, items)
    snapshot = model.snapshot_  # the shop just after the newest event before the cutoff
    rows, cols = model.population(snapshot)
    y = model.labels(snapshot, events, rows, cols, start=cutoff)
    if y.sum() == 0 or y.sum() == len(y):
        raise DataError("the horizon after the cutoff has no positive (or no negative) "
                        "candidate pair; choose an earlier cutoff or a longer horizon")
    p = model.probability(snapshot.features(rows, cols))
    every_positive = model.target_pairs(snapshot, events, start=cutoff)
    covered = sp.csr_matrix((np.ones(len(rows)), (rows, cols)),
                            shape=(len(snapshot.user_ids), len(snapshot.item_ids)))
    recall = float(np.mean(np.asarray(covered[every_positive[0], every_positive[1]]).ravel() > 0)
                   ) if len(every_positive[0]) else float("nan")
    return {"auc": roc_auc(y, p), "ece": expected_calibration_error(y, p, n_bins),
            "log_loss": log_loss(y, p), "pairs": int(len(y)), "positives": int(y.sum()),
            "positive_rate": float(y.mean()), "mean_probability": float(p.mean()),
            "candidate_recall": recall, "cutoff": cutoff,
            "train_pairs": model.train_pairs_}

