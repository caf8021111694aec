"""Training views built from the store: CSR matrix and time-ordered sequences."""

from __future__ import annotations

import numpy as np
import pandas as pd

from shopmind.data.batch import Batch
from shopmind.data.views import Sequences, build_interactions, build_sequences


def _shop(store):
    items = pd.DataFrame({"item_id": ["a", "b", "c", "never"]})
    events = pd.DataFrame({
        "user_id": ["u2", "u1", "u1", "u2", "u1", "u1"],
        "item_id": ["c", "b", "a", "a", "b", None],
        "type": ["purchase", "view", "view", "view", "add_to_cart", "search"],
        "ts": [5.0, 2.0, 1.0, 1.0, 2.0, 3.0],  # u1's two events at ts=2 keep arrival order
    })
    store.ingest(Batch.from_frames(items=items, events=events))


def test_sequences_are_time_ordered_and_cover_the_catalog(store):
    _shop(store)
    seqs = build_sequences(store)
    assert seqs.item_ids.tolist() == ["a", "b", "c", "never"]  # unseen items keep an index
    u1, u2 = seqs.user_index(["u1", "u2"])
    assert seqs.item_ids[seqs.sequence(u1)].tolist() == ["a", "b", "b"]  # the search has no item
    assert seqs.type_names[seqs.types[seqs.indptr[u1]:seqs.indptr[u1 + 1]]].tolist() == [
        "view", "view", "add_to_cart"]
    assert seqs.item_ids[seqs.sequence(u2)].tolist() == ["a", "c"]


def test_interaction_matrix_sums_event_weights(store):
    _shop(store)
    inter = build_interactions(store, weights={"view": 1.0, "add_to_cart": 3.0, "purchase": 5.0})
    dense = inter.matrix.toarray()
    u1, u2 = inter.user_index(["u1", "u2"])
    a, b, c = inter.item_index(["a", "b", "c"])
    assert dense[u1, a] == 1 and dense[u1, b] == 4 and dense[u2, c] == 5
    assert dense[:, inter.item_index(["never"])[0]].sum() == 0
    purchases = build_interactions(store, types=["purchase"], weights=None)
    assert purchases.matrix.nnz == 1


def test_truncate_and_matrix_on_a_planted_large_log():
    rng = np.random.default_rng(0)
    n_users, n_items, n = 500, 50, 20_000
    users = rng.integers(0, n_users, n)
    items = (users + rng.integers(0, 3, n)) % n_items  # each user sticks to 3 items
    seqs = Sequences.from_events(users.astype(str).astype(object), items.astype(str).astype(object),
                                 rng.random(n))
    assert seqs.indptr[-1] == n and np.all(np.diff(seqs.indptr) >= 0)
    for u in (0, 17, 321):  # time order within every user
        start, end = seqs.indptr[u], seqs.indptr[u + 1]
        assert np.all(np.diff(seqs.ts[start:end]) >= 0)
    short = seqs.truncate(2)
    assert np.array_equal(short.lengths, np.maximum(seqs.lengths - 2, 0))
    assert np.array_equal(short.sequence(5), seqs.sequence(5)[:-2])
    matrix = seqs.to_interactions().matrix
    assert matrix.sum() == n and (matrix > 0).sum(axis=1).max() <= 3
