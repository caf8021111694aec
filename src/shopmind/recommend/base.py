"""The contract every recommender follows (DESIGN.md), written once so the models only learn.

A model learns in ``_fit`` and answers one question, :meth:`Recommender.score_histories`: given
item histories (item indices in time order), how much does each item suit each history? Every
public call is built on that: ``score`` for the users it knows, ``recommend`` for users by id,
``next_items`` for a live session passed at call time, and ``update_users`` to let new events
change recommendations without retraining.
"""

from __future__ import annotations

import abc
import inspect
from collections.abc import Sequence
from pathlib import Path
from typing import Any, ClassVar, NamedTuple

import numpy as np
import pandas as pd
import scipy.sparse as sp

from shopmind.data.model_files import ids_from_json, ids_to_json, read_model, write_model
from shopmind.data.views import Sequences
from shopmind.errors import DataError, NotFittedError
from shopmind.evaluate.ranking import top_k

__all__ = ["Recommender", "Recommendations", "histories_matrix"]


class Recommendations(NamedTuple):
    """Recommended item ids and their scores, best first.

    Shape ``(k,)`` for one query and ``(n, k)`` for a batch. Where fewer than ``k`` items are left
    to recommend (e.g. everything else was excluded) the id is ``None`` and the score ``nan``.
    """

    item_ids: np.ndarray
    scores: np.ndarray


def histories_matrix(histories: Sequence[np.ndarray], n_items: int,
                     weights: Sequence[np.ndarray] | None = None) -> sp.csr_matrix:
    """Rows × items CSR (float32) of item histories; repeats add up.

    >>> histories_matrix([np.array([0, 2, 2]), np.array([], dtype=int)], 3).toarray().tolist()
    [[1.0, 0.0, 2.0], [0.0, 0.0, 0.0]]
    """
    lengths = np.fromiter((len(h) for h in histories), dtype=np.int64, count=len(histories))
    indptr = np.zeros(len(histories) + 1, dtype=np.int64)
    np.cumsum(lengths, out=indptr[1:])
    indices = np.concatenate(histories).astype(np.int64) if len(histories) else np.zeros(0, int)
    data = (np.ones(len(indices), dtype=np.float32) if weights is None
            else np.concatenate(weights).astype(np.float32))
    matrix = sp.csr_matrix((data, indices, indptr), shape=(len(histories), n_items))
    matrix.sum_duplicates()
    return matrix


def _as_batch(ids) -> tuple[list, bool]:
    """(ids as a list, whether one id was passed): the same call takes one id or many."""
    if isinstance(ids, (list, tuple, np.ndarray, pd.Series, pd.Index)):
        return list(ids), False
    return [ids], True


def _as_sessions(sessions) -> tuple[list, bool]:
    """(list of sessions, whether one session was passed); a session is a list of item ids."""
    sessions = list(sessions)
    if sessions and all(isinstance(s, (list, tuple, np.ndarray, pd.Series)) for s in sessions):
        return [list(s) for s in sessions], False
    return [sessions], True


class Recommender(abc.ABC):
    """Base of every recommender: ``fit``, ``score``, ``recommend``, ``similar_items``,
    ``next_items``, ``update_users``, ``save`` and ``load``.

    Subclasses store their constructor arguments unchanged (``get_params`` reads them back),
    learn in ``_fit`` into attributes ending in ``_``, and implement ``score_histories``,
    ``item_similarity`` and ``_state`` / ``_set_state`` (their learned arrays, for saving).
    """

    _registry: ClassVar[dict[str, type[Recommender]]] = {}

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if not inspect.isabstract(cls):
            Recommender._registry[cls.__name__] = cls

    # -- parameters -------------------------------------------------------------------------

    def get_params(self) -> dict[str, Any]:
        names = [p for p in inspect.signature(type(self).__init__).parameters if p != "self"]
        return {name: getattr(self, name) for name in names}

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items())
        return f"{type(self).__name__}({args})"

    # -- learning ---------------------------------------------------------------------------

    def fit(self, interactions: Sequences, items: pd.DataFrame | None = None,
            valid_targets: np.ndarray | None = None) -> Recommender:
        """Learn from per-user item sequences (and item attributes where a model uses them).

        ``valid_targets`` (optional) gives, per user of ``interactions``, the item index each
        user interacted with next (``-1`` for none): models that train for several epochs use
        it to stop at the best one; the others ignore it.
        """
        if not isinstance(interactions, Sequences):
            raise DataError(f"fit needs a shopmind.data.Sequences (e.g. from build_sequences or "
                            f"Sequences.from_events), got {type(interactions).__name__}")
        if interactions.n_items == 0 or len(interactions.items) == 0:
            raise DataError("fit needs at least one event with an item; the sequences are empty")
        if valid_targets is not None:
            valid_targets = np.asarray(valid_targets, dtype=np.int64)
            if valid_targets.shape != (interactions.n_users,):
                raise DataError(f"valid_targets needs one entry per user "
                                f"({interactions.n_users}), got shape {valid_targets.shape}")
        self.item_ids_ = interactions.item_ids
        self.history_ = interactions
        self._fit(interactions, items, valid_targets)
        return self

    @abc.abstractmethod
    def _fit(self, interactions: Sequences, items: pd.DataFrame | None,
             valid_targets: np.ndarray | None) -> None:
        """Learn the model's state from validated input."""

    def update_users(self, interactions: Sequences) -> Recommender:
        """Replace what the model knows of these users' histories, without retraining.

        Users in ``interactions`` get exactly these events as their history (pass the whole
        recent history, not only the new events); users not seen before are added; everyone
        else is kept. Item ids must be known to the model.
        """
        self._check_fitted()
        old = self.history_
        items = old.item_index(interactions.item_ids)[interactions.items]
        # A hash lookup: np.isin compares object arrays pairwise (minutes for 20k users).
        replaced = pd.Index(old.user_ids).isin(interactions.user_ids)
        kept = ~replaced[old.row_of_each_event()]
        names = np.concatenate([old.type_names, interactions.type_names])
        self.history_ = Sequences.from_events(
            users=np.concatenate([old.user_ids[old.row_of_each_event()[kept]],
                                  interactions.user_ids[interactions.row_of_each_event()]]),
            items=self.item_ids_[np.concatenate([old.items[kept], items])],
            ts=np.concatenate([old.ts[kept], interactions.ts]),
            types=names[np.concatenate([old.types[kept],
                                        interactions.types + len(old.type_names)])],
            item_ids=self.item_ids_)
        return self

    # -- scoring ----------------------------------------------------------------------------

    @property
    def n_items(self) -> int:
        self._check_fitted()
        return len(self.item_ids_)

    @abc.abstractmethod
    def score_histories(self, histories: Sequence[np.ndarray]) -> np.ndarray:
        """(len(histories) × n_items) float32 scores, higher is better, for item-index histories
        in time order (oldest first)."""

    @abc.abstractmethod
    def item_similarity(self, item_indices: np.ndarray) -> np.ndarray:
        """(len(item_indices) × n_items) float32 similarity of every item to each given item."""

    def score(self, user_indices) -> np.ndarray:
        """Scores of every item for users by index (positions in ``history_.user_ids``)."""
        self._check_fitted()
        return self.score_histories(self._histories(np.asarray(user_indices, dtype=np.int64)))

    def _histories(self, user_indices: np.ndarray) -> list[np.ndarray]:
        return [self.history_.sequence(u) for u in user_indices]

    # -- answers by id ----------------------------------------------------------------------

    def recommend(self, user_ids, k: int = 10, exclude_seen: bool = True) -> Recommendations:
        """The ``k`` best items for one user id or a batch of them."""
        self._check_fitted()
        ids, single = _as_batch(user_ids)
        histories = self._histories(self.history_.user_index(ids))
        return self._best(self.score_histories(histories), k,
                          histories if exclude_seen else None, single)

    def next_items(self, recent_item_ids, k: int = 10,
                   exclude_seen: bool = True) -> Recommendations:
        """What comes next after a live session: one list of item ids (oldest first) or a list
        of such lists. Nothing needs to be stored about the session beforehand."""
        self._check_fitted()
        sessions, single = _as_sessions(recent_item_ids)
        histories = [self.history_.item_index(s) if len(s) else np.zeros(0, np.int64)
                     for s in sessions]
        return self._best(self.score_histories(histories), k,
                          histories if exclude_seen else None, single)

    def similar_items(self, item_ids, k: int = 10) -> Recommendations:
        """The ``k`` items most similar to each given item (never the item itself)."""
        self._check_fitted()
        ids, single = _as_batch(item_ids)
        indices = self.history_.item_index(ids)
        return self._best(self.item_similarity(indices), k, [[i] for i in indices], single)

    def _best(self, scores: np.ndarray, k: int, exclude: Sequence | None,
              single: bool) -> Recommendations:
        if k <= 0:
            raise DataError(f"k must be positive, got {k}")
        excluded = None if exclude is None else histories_matrix(
            [np.asarray(h, dtype=np.int64) for h in exclude], self.n_items)
        best = top_k(scores, k, excluded)
        found = best >= 0
        item_ids = np.full(best.shape, None, dtype=object)
        item_ids[found] = self.item_ids_[best[found]]
        best_scores = np.take_along_axis(scores, np.maximum(best, 0), axis=1).astype(np.float32)
        best_scores[~found] = np.nan
        if single:
            return Recommendations(item_ids[0], best_scores[0])
        return Recommendations(item_ids, best_scores)

    def _check_fitted(self) -> None:
        if not hasattr(self, "history_"):
            name = type(self).__name__
            raise NotFittedError(f"this {name} is not fitted yet; call fit(...) or "
                                 f"{name}.load(path) first")

    # -- persistence ------------------------------------------------------------------------

    @abc.abstractmethod
    def _state(self) -> dict[str, np.ndarray]:
        """The learned arrays beyond the histories, by name, for saving."""

    @abc.abstractmethod
    def _set_state(self, state: dict[str, np.ndarray]) -> None:
        """Restore what :meth:`_state` returned (``item_ids_`` and ``history_`` are set)."""

    def save(self, path: str | Path) -> Path:
        """Write the fitted model to one file (no pickle); :meth:`load` reads it back."""
        self._check_fitted()
        h = self.history_
        arrays = {"item_ids": ids_to_json(h.item_ids), "user_ids": ids_to_json(h.user_ids),
                  "type_names": ids_to_json(h.type_names), "indptr": h.indptr, "items": h.items,
                  "ts": h.ts, "types": h.types}
        arrays.update({f"state.{name}": value for name, value in self._state().items()})
        return write_model(path, type(self).__name__, self.get_params(), arrays)

    @classmethod
    def load(cls, path: str | Path) -> Recommender:
        """A model saved by :meth:`save`; ``Recommender.load`` returns whichever kind it is."""
        kind, params, arrays = read_model(path)
        model_class = Recommender._registry.get(kind)
        if model_class is None or not issubclass(model_class, cls):
            raise DataError(f"{path} holds a {kind} model, not a {cls.__name__}; "
                            f"load it with Recommender.load")
        model = model_class(**params)
        model.item_ids_ = ids_from_json(arrays["item_ids"])
        model.history_ = Sequences(
            user_ids=ids_from_json(arrays["user_ids"]), item_ids=model.item_ids_,
            indptr=arrays["indptr"], items=arrays["items"], ts=arrays["ts"],
            types=arrays["types"], type_names=ids_from_json(arrays["type_names"]))
        model._set_state({name.removeprefix("state."): value for name, value in arrays.items()
                          if name.startswith("state.")})
        return model
