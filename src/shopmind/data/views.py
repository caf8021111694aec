"""Training views: the store's events as a user×item CSR matrix or as per-user sequences.

Both are built with numpy sorts and bincounts, never a Python loop per event, so a few million
events take about a second. Internal indices are positions in ``user_ids`` / ``item_ids``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from shopmind.errors import NotFoundError

__all__ = ["Interactions", "Sequences", "build_sequences", "build_interactions",
           "DEFAULT_EVENT_WEIGHTS"]

DEFAULT_EVENT_WEIGHTS: dict[str, float] = {
    "view": 1.0, "click": 1.0, "search": 0.0, "wishlist": 2.0, "add_to_cart": 3.0,
    "rating": 3.0, "purchase": 5.0, "share": 2.0, "remove_from_cart": 0.0,
}
"""How much one event says about a user's interest in an item (implicit-feedback weights)."""


def _index(ids: np.ndarray, wanted: Iterable, what: str) -> np.ndarray:
    """Positions of ``wanted`` in the sorted id array ``ids``."""
    wanted = np.asarray(list(wanted) if not isinstance(wanted, np.ndarray) else wanted,
                        dtype=object)
    pos = np.searchsorted(ids, wanted)
    pos = np.minimum(pos, len(ids) - 1) if len(ids) else pos
    ok = (len(ids) > 0) & (ids[pos] == wanted) if len(ids) else np.zeros(len(wanted), bool)
    if not np.all(ok):
        missing = wanted[~ok][0]
        raise NotFoundError(f"unknown {what} {missing!r}")
    return pos.astype(np.int64)


@dataclass
class Interactions:
    """A user×item matrix (CSR, float32) with the external ids of its rows and columns.

    ``user_ids`` and ``item_ids`` are sorted object arrays of the ids as stored.
    """

    matrix: sp.csr_matrix
    user_ids: np.ndarray
    item_ids: np.ndarray

    @property
    def n_users(self) -> int:
        return self.matrix.shape[0]

    @property
    def n_items(self) -> int:
        return self.matrix.shape[1]

    def user_index(self, ids: Iterable) -> np.ndarray:
        return _index(self.user_ids, ids, "user")

    def item_index(self, ids: Iterable) -> np.ndarray:
        return _index(self.item_ids, ids, "item")


@dataclass
class Sequences:
    """Per-user item sequences in time order, stored flat (CSR-style).

    The items of user ``u`` are ``items[indptr[u]:indptr[u + 1]]``, with times ``ts[...]`` and
    event types ``types[...]`` (indices into ``type_names``).

    >>> s = Sequences.from_events(["b", "a", "a", "b"], ["x", "y", "x", "z"], [2.0, 5.0, 1.0, 1.0])
    >>> s.user_ids.tolist(), s.item_ids.tolist()
    (['a', 'b'], ['x', 'y', 'z'])
    >>> [s.item_ids[s.sequence(u)].tolist() for u in range(s.n_users)]
    [['x', 'y'], ['z', 'x']]
    """

    user_ids: np.ndarray
    item_ids: np.ndarray
    indptr: np.ndarray
    items: np.ndarray
    ts: np.ndarray
    types: np.ndarray
    type_names: np.ndarray

    @property
    def n_users(self) -> int:
        return len(self.user_ids)

    @property
    def n_items(self) -> int:
        return len(self.item_ids)

    @property
    def lengths(self) -> np.ndarray:
        return np.diff(self.indptr)

    def sequence(self, user: int) -> np.ndarray:
        return self.items[self.indptr[user]:self.indptr[user + 1]]

    def user_index(self, ids: Iterable) -> np.ndarray:
        return _index(self.user_ids, ids, "user")

    def item_index(self, ids: Iterable) -> np.ndarray:
        return _index(self.item_ids, ids, "item")

    def row_of_each_event(self) -> np.ndarray:
        """The user index of every flat position."""
        return np.repeat(np.arange(self.n_users), self.lengths)

    @classmethod
    def from_events(cls, users, items, ts, types=None, order=None,
                    item_ids: np.ndarray | None = None) -> Sequences:
        """Build from parallel arrays of events (any order; sorted by user, time, then ``order``).

        ``item_ids`` fixes the item vocabulary (e.g. the whole catalog, so items without events
        still get an index); by default it is the items seen in the events.
        """
        users = np.asarray(users, dtype=object)
        items = np.asarray(items, dtype=object)
        ts = np.asarray(ts, dtype=np.float64)
        types = np.full(len(users), "event", dtype=object) if types is None else np.asarray(
            types, dtype=object)
        order = np.arange(len(users)) if order is None else np.asarray(order)
        user_ids, u = np.unique(users, return_inverse=True)
        if item_ids is None:
            item_ids, i = np.unique(items, return_inverse=True)
        else:
            item_ids = np.asarray(sorted(item_ids), dtype=object)
            i = _index(item_ids, items, "item")
        type_names, t = np.unique(types, return_inverse=True)
        perm = np.lexsort((order, ts, u))
        indptr = np.zeros(len(user_ids) + 1, dtype=np.int64)
        np.cumsum(np.bincount(u, minlength=len(user_ids)), out=indptr[1:])
        return cls(user_ids=user_ids.astype(object), item_ids=np.asarray(item_ids, dtype=object),
                   indptr=indptr, items=i[perm].astype(np.int64), ts=ts[perm],
                   types=t[perm].astype(np.int16), type_names=type_names.astype(object))

    def truncate(self, drop_last: int) -> Sequences:
        """Every sequence without its last ``drop_last`` events (never below zero length)."""
        lengths = self.lengths
        keep = np.maximum(lengths - drop_last, 0)
        mask = np.arange(len(self.items)) - np.repeat(self.indptr[:-1], lengths) < np.repeat(
            keep, lengths)
        indptr = np.zeros_like(self.indptr)
        np.cumsum(keep, out=indptr[1:])
        return Sequences(self.user_ids, self.item_ids, indptr, self.items[mask], self.ts[mask],
                         self.types[mask], self.type_names)

    def first_occurrences(self) -> Sequences:
        """Each user's sequence with repeats of an item dropped (its first event kept).

        Next-item evaluation on raw event streams is dominated by repeats (view → cart →
        purchase of one item); on first occurrences every target is an item new to the user.

        >>> s = Sequences.from_events(["u"] * 4, ["a", "b", "a", "c"], [0, 1, 2, 3])
        >>> s.item_ids[s.first_occurrences().items].tolist()
        ['a', 'b', 'c']
        """
        rows = self.row_of_each_event()
        _, first = np.unique(rows * max(self.n_items, 1) + self.items, return_index=True)
        keep = np.zeros(len(self.items), dtype=bool)
        keep[first] = True
        indptr = np.zeros_like(self.indptr)
        np.cumsum(np.bincount(rows[keep], minlength=self.n_users), out=indptr[1:])
        return Sequences(self.user_ids, self.item_ids, indptr, self.items[keep], self.ts[keep],
                         self.types[keep], self.type_names)

    def to_interactions(self, weights: Mapping[str, float] | None = None) -> Interactions:
        """Sum event weights into a user×item matrix (all weights 1 when ``weights`` is None)."""
        if weights is None:
            data = np.ones(len(self.items), dtype=np.float32)
        else:
            per_type = np.array([weights.get(t, 1.0) for t in self.type_names], dtype=np.float32)
            data = per_type[self.types] if len(self.items) else np.zeros(0, np.float32)
        matrix = sp.csr_matrix((data, (self.row_of_each_event(), self.items)),
                               shape=(self.n_users, self.n_items), dtype=np.float32)
        matrix.sum_duplicates()
        matrix.eliminate_zeros()
        return Interactions(matrix, self.user_ids, self.item_ids)


def build_sequences(store, types: Iterable[str] | None = None,
                    all_items: bool = True) -> Sequences:
    """Per-user time-ordered sequences from a :class:`~shopmind.data.store.Store`.

    With ``all_items`` the item vocabulary is the whole catalog, so an item nobody touched yet
    still has an index (cold-start items).
    """
    frame = store.events_frame(types)
    catalog = store.read_table("items", ["item_id"])["item_id"].to_numpy(dtype=object) \
        if all_items else None
    return Sequences.from_events(frame["user_id"].to_numpy(dtype=object),
                                 frame["item_id"].to_numpy(dtype=object),
                                 frame["ts"].to_numpy(dtype=float),
                                 frame["type"].to_numpy(dtype=object),
                                 order=frame["event_id"].to_numpy(), item_ids=catalog)


def build_interactions(store, types: Iterable[str] | None = None,
                       weights: Mapping[str, float] | None = DEFAULT_EVENT_WEIGHTS,
                       all_items: bool = True) -> Interactions:
    """The user×item matrix of summed event weights from a store."""
    return build_sequences(store, types, all_items).to_interactions(weights)
