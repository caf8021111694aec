"""Evaluation splits of per-user sequences: leave-one-out and a global temporal cut.

All splits are masks over the flat event arrays of :class:`~shopmind.data.views.Sequences`, so
they cost a few numpy passes whatever the number of users. Every part of a split keeps the full
``user_ids`` / ``item_ids`` vocabularies, so indices mean the same thing in train and test.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from shopmind.data.views import Sequences
from shopmind.errors import DataError

__all__ = ["LeaveOneOut", "leave_one_out", "TemporalSplit", "temporal_split", "seen_matrix"]

MIN_EVENTS_FOR_TARGETS = 3
"""A user needs this many events to give one to validation, one to test and keep one to train."""


def _select(seqs: Sequences, mask: np.ndarray) -> Sequences:
    """The events where ``mask`` is true, each user's order kept."""
    kept_per_user = np.bincount(seqs.row_of_each_event()[mask], minlength=seqs.n_users)
    indptr = np.zeros(seqs.n_users + 1, dtype=np.int64)
    np.cumsum(kept_per_user, out=indptr[1:])
    return Sequences(seqs.user_ids, seqs.item_ids, indptr, seqs.items[mask], seqs.ts[mask],
                     seqs.types[mask], seqs.type_names)


def _drop_last(seqs: Sequences, per_user: np.ndarray) -> Sequences:
    """Each user's sequence without its last ``per_user[u]`` events."""
    lengths = seqs.lengths
    position = np.arange(len(seqs.items)) - np.repeat(seqs.indptr[:-1], lengths)
    return _select(seqs, position < np.repeat(lengths - per_user, lengths))


@dataclass
class LeaveOneOut:
    """Leave-one-out split: last event is test, second-to-last is validation.

    A user with fewer than 3 events has nothing held out: all of its events stay in ``train``
    and ``test_history`` (they are still useful to train on) and both its targets are ``-1``,
    which every ranking metric skips.
    """

    train: Sequences
    """Every sequence without its last 2 events (users with < 3 events: all events)."""
    valid_target: np.ndarray
    """Per user, the item index of the second-to-last event, or -1."""
    test_history: Sequences
    """Every sequence without its last event (users with < 3 events: all events)."""
    test_target: np.ndarray
    """Per user, the item index of the last event, or -1."""

    @property
    def valid_history(self) -> Sequences:
        """What a model may see when predicting ``valid_target``: the training sequences."""
        return self.train


def leave_one_out(seqs: Sequences) -> LeaveOneOut:
    """Hold out each user's last event for test and the one before it for validation.

    >>> s = Sequences.from_events(["a"] * 4 + ["b"] * 2, list("wxyzwx"), [1, 2, 3, 4, 1, 2])
    >>> split = leave_one_out(s)
    >>> split.valid_target.tolist(), split.test_target.tolist()  # b has only 2 events
    ([2, -1], [3, -1])
    >>> split.train.lengths.tolist(), split.test_history.lengths.tolist()
    ([2, 2], [3, 2])
    """
    lengths = seqs.lengths
    has_targets = lengths >= MIN_EVENTS_FOR_TARGETS
    ends = seqs.indptr[1:][has_targets]
    valid_target = np.full(seqs.n_users, -1, dtype=np.int64)
    valid_target[has_targets] = seqs.items[ends - 2]
    test_target = np.full(seqs.n_users, -1, dtype=np.int64)
    test_target[has_targets] = seqs.items[ends - 1]
    return LeaveOneOut(
        train=_drop_last(seqs, np.where(has_targets, 2, 0)),
        valid_target=valid_target,
        test_history=_drop_last(seqs, np.where(has_targets, 1, 0)),
        test_target=test_target,
    )


@dataclass
class TemporalSplit:
    """Events before ``cutoff`` (``ts < cutoff``) in ``train``, the others in ``test``."""

    train: Sequences
    test: Sequences
    cutoff: float


def temporal_split(seqs: Sequences, cutoff: float | None = None,
                   test_fraction: float = 0.2) -> TemporalSplit:
    """Split all events at one point in time, as a model deployed at ``cutoff`` would see them.

    Without ``cutoff``, it is the time of the event that leaves ``round(test_fraction * n)``
    events at or after it; ties on that timestamp all go to test, so the test share can be a
    little larger than asked.

    >>> s = Sequences.from_events(["a"] * 5, list("vwxyz"), [1, 2, 3, 4, 5])
    >>> split = temporal_split(s, test_fraction=0.4)
    >>> split.cutoff, split.train.lengths.tolist(), split.test.lengths.tolist()
    (4.0, [3], [2])
    """
    if cutoff is None:
        n_events = len(seqs.ts)
        if n_events == 0:
            raise DataError("temporal_split needs at least one event to choose a cutoff")
        if not 0.0 < test_fraction < 1.0:
            raise DataError(f"test_fraction must be between 0 and 1, got {test_fraction}")
        n_test = int(np.clip(round(test_fraction * n_events), 1, n_events))
        first_test = n_events - n_test
        cutoff = float(np.partition(seqs.ts, first_test)[first_test])
    in_train = seqs.ts < cutoff
    return TemporalSplit(train=_select(seqs, in_train), test=_select(seqs, ~in_train),
                         cutoff=float(cutoff))


def seen_matrix(seqs: Sequences) -> sp.csr_matrix:
    """Binary user×item matrix (float32) of what each user has interacted with.

    Pass it as ``exclude`` to the ranking metrics to leave already-seen items out.

    >>> s = Sequences.from_events(["a", "a", "b"], ["x", "x", "y"], [1, 2, 1])
    >>> seen_matrix(s).toarray().tolist()
    [[1.0, 0.0], [0.0, 1.0]]
    """
    seen = sp.csr_matrix((np.ones(len(seqs.items), dtype=np.float32),
                          (seqs.row_of_each_event(), seqs.items)),
                         shape=(seqs.n_users, seqs.n_items))
    seen.sum_duplicates()
    seen.data[:] = 1.0
    return seen
