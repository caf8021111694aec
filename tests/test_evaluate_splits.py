"""Leave-one-out and temporal splits on small planted sequences."""

import numpy as np
import pytest

from shopmind.data.views import Sequences
from shopmind.errors import DataError
from shopmind.evaluate import leave_one_out, seen_matrix, temporal_split


def _planted() -> Sequences:
    # given out of time order on purpose; per user in time order:
    #   u1: a b c d   u2: e f   u3: c a b
    events = [("u1", "c", 3), ("u2", "f", 2), ("u1", "a", 1), ("u3", "b", 9), ("u1", "d", 4),
              ("u3", "c", 7), ("u2", "e", 1), ("u1", "b", 2), ("u3", "a", 8)]
    users, items, ts = zip(*events, strict=True)
    return Sequences.from_events(list(users), list(items), list(ts))


def _named(seqs: Sequences) -> list[list[str]]:
    return [seqs.item_ids[seqs.sequence(u)].tolist() for u in range(seqs.n_users)]


def test_leave_one_out_on_planted_sequences():
    seqs = _planted()
    split = leave_one_out(seqs)
    assert seqs.user_ids.tolist() == ["u1", "u2", "u3"]
    assert _named(split.train) == [["a", "b"], ["e", "f"], ["c"]]
    assert _named(split.test_history) == [["a", "b", "c"], ["e", "f"], ["c", "a"]]
    item = {name: i for i, name in enumerate(seqs.item_ids)}
    assert split.valid_target.tolist() == [item["c"], -1, item["a"]]
    assert split.test_target.tolist() == [item["d"], -1, item["b"]]
    # times and vocabularies travel with the events
    assert split.train.ts.tolist() == [1.0, 2.0, 1.0, 2.0, 7.0]
    assert split.train.item_ids is seqs.item_ids
    assert split.valid_history is split.train


def test_leave_one_out_handles_empty_users_and_no_events():
    seqs = _planted().truncate(3)  # u1: a, u2: -, u3: -
    split = leave_one_out(seqs)
    assert split.train.lengths.tolist() == [1, 0, 0]
    assert split.test_target.tolist() == [-1, -1, -1]
    empty = seqs.truncate(10)
    assert leave_one_out(empty).valid_target.tolist() == [-1, -1, -1]


def test_leave_one_out_matches_a_per_user_loop():
    rng = np.random.default_rng(0)
    n = 2000
    seqs = Sequences.from_events(rng.integers(0, 300, n), rng.integers(0, 50, n), rng.random(n))
    split = leave_one_out(seqs)
    for u in range(seqs.n_users):
        full = seqs.sequence(u)
        if len(full) >= 3:
            assert split.train.sequence(u).tolist() == full[:-2].tolist()
            assert split.test_history.sequence(u).tolist() == full[:-1].tolist()
            assert (split.valid_target[u], split.test_target[u]) == (full[-2], full[-1])
        else:
            assert split.train.sequence(u).tolist() == full.tolist()
            assert split.test_history.sequence(u).tolist() == full.tolist()
            assert (split.valid_target[u], split.test_target[u]) == (-1, -1)


def test_temporal_split_with_explicit_cutoff():
    split = temporal_split(_planted(), cutoff=3.0)
    assert split.cutoff == 3.0
    assert _named(split.train) == [["a", "b"], ["e", "f"], []]
    assert _named(split.test) == [["c", "d"], [], ["c", "a", "b"]]
    assert split.test.user_ids is split.train.user_ids
    assert split.test.item_ids is split.train.item_ids


@pytest.mark.parametrize("fraction", [0.1, 0.2, 0.5])
def test_temporal_split_chooses_the_cutoff_for_the_fraction(fraction):
    rng = np.random.default_rng(1)
    n = 1000
    seqs = Sequences.from_events(rng.integers(0, 40, n), rng.integers(0, 30, n),
                                 rng.permutation(n).astype(float))
    split = temporal_split(seqs, test_fraction=fraction)
    assert len(split.test.items) == round(fraction * n)
    assert len(split.train.items) + len(split.test.items) == n
    assert split.train.ts.max() < split.cutoff <= split.test.ts.min()
    # each user's events stay in time order on both sides
    for part in (split.train, split.test):
        rows = part.row_of_each_event()
        assert np.all((np.diff(rows) > 0) | (np.diff(part.ts) >= 0))


def test_temporal_split_sends_ties_at_the_cutoff_to_test():
    seqs = Sequences.from_events(["a"] * 4, list("wxyz"), [1, 2, 2, 2])
    split = temporal_split(seqs, test_fraction=0.25)
    assert split.cutoff == 2.0
    assert split.test.lengths.tolist() == [3]


def test_temporal_split_rejects_bad_fractions():
    with pytest.raises(DataError, match="test_fraction"):
        temporal_split(_planted(), test_fraction=1.0)
    with pytest.raises(DataError, match="at least one event"):
        temporal_split(_planted().truncate(10))


def test_seen_matrix_is_binary():
    seqs = Sequences.from_events(["a", "a", "a", "b"], ["x", "x", "y", "y"], [1, 2, 3, 1])
    seen = seen_matrix(seqs)
    assert seen.shape == (2, 2)
    assert seen.toarray().tolist() == [[1.0, 1.0], [0.0, 1.0]]
    assert seen.nnz == 3
