"""Real datasets from ../shared/data: imports give the published counts (skipped when absent)."""

from __future__ import annotations

import pytest

from shopmind.data.importers import read_amazon_seqrec, read_movielens_100k, read_reviews_file
from shopmind.data.views import build_sequences

pytestmark = [pytest.mark.realdata, pytest.mark.slow]


def test_amazon_beauty_counts(store, shared_data):
    folder = shared_data / "recsys" / "amazon-beauty"
    store.ingest(read_amazon_seqrec(folder / "Beauty.txt", folder / "item_text.tsv"))
    stats = store.stats()
    assert (stats["users"], stats["items"], stats["events"]) == (22_363, 12_101, 198_502)
    seqs = build_sequences(store)
    assert seqs.lengths.min() >= 5  # a 5-core file
    assert seqs.to_interactions().matrix.shape == (22_363, 12_101)


def test_movielens_100k_counts(store, shared_data):
    store.ingest(read_movielens_100k(shared_data / "recsys" / "movielens-100k"))
    stats = store.stats()
    assert (stats["users"], stats["items"], stats["events"]) == (943, 1_682, 100_000)


def test_online_shopping_reviews(store, shared_data):
    path = shared_data / "reviews-zh" / "online_shopping_10_cats" / "dev.csv"
    batch = read_reviews_file(path, {"text": "review", "item_id": "cat"}, create_items=True)
    store.ingest(batch)
    assert store.counts()["items"] == 10
    assert store.counts()["reviews"] == len(batch.reviews) > 6000
