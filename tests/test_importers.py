"""Importers: real formats, generic files, and every kind of bad input (store left unchanged)."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from shopmind.data.importers import (
    read_amazon_seqrec,
    read_entity_file,
    read_movielens_100k,
    read_reviews_file,
)
from shopmind.errors import ConflictError, InputError, SchemaError, UnknownReferenceError

SEQUENCES = "1 1 2 3\n2 2 3 4 1\n3 4 4 2\n"
ITEM_TEXT = ("item_id\tasin\ttitle\tcategories\n1\tA1\tLip &amp; Cheek\tBeauty > Makeup\n"
             "2\tA2\tShampoo\tBeauty > Hair\n3\tA3\tNail polish\tBeauty > Nails\n"
             "4\tA4\tBrush\tBeauty > Tools\n")


@pytest.fixture
def seqrec(tmp_path):
    (tmp_path / "Beauty.txt").write_text(SEQUENCES)
    (tmp_path / "item_text.tsv").write_text(ITEM_TEXT)
    return tmp_path / "Beauty.txt", tmp_path / "item_text.tsv"


def test_amazon_seqrec_positions_become_timestamps(store, seqrec):
    report = store.ingest(read_amazon_seqrec(*seqrec))
    assert report.inserted == {"items": 4, "users": 3, "events": 10}
    events = store.events_frame()
    user2 = events[events["user_id"] == "2"]
    assert user2["item_id"].tolist() == ["2", "3", "4", "1"]
    assert user2["ts"].tolist() == [0.0, 1.0, 2.0, 3.0]
    items = store.items_frame().set_index("item_id")
    assert items.loc["1", "title"] == "Lip & Cheek"  # HTML entities decoded
    assert items.loc["1", "category"] == "Beauty > Makeup"
    assert json.loads(items.loc["1", "attributes"]) == {"asin": "A1"}
    # Repeated items in one sequence are separate events.
    assert (events["user_id"] == "3").sum() == 3
    again = store.ingest(read_amazon_seqrec(*seqrec))
    assert sum(again.inserted.values()) == 0 and again.unchanged["events"] == 10


@pytest.mark.parametrize(("content", "line", "field", "reason"), [
    ("1 1 2\n2 2 x 4\n", 2, "items", "'x' is not an integer id"),
    ("1 1 2\n2\n", 2, "items", "a line needs a user id followed by at least one item id"),
    ("1 1 2\nu2 2 3\n", 2, "user", "'u2' is not an integer id"),
])
def test_malformed_sequence_lines(store, tmp_path, content, line, field, reason):
    path = tmp_path / "bad.txt"
    path.write_text(content)
    with pytest.raises(InputError) as err:
        store.ingest(read_amazon_seqrec(path))
    assert f"{path} line {line}, field '{field}': {reason}" in str(err.value)
    assert store.counts()["events"] == 0


def test_sequence_item_missing_from_item_file(store, seqrec, tmp_path):
    seq, _ = seqrec
    text = tmp_path / "few.tsv"
    text.write_text(ITEM_TEXT.rsplit("4\tA4", 1)[0])
    with pytest.raises(UnknownReferenceError) as err:
        store.ingest(read_amazon_seqrec(seq, text))
    assert f"{seq} line 2, field 'item_id': item '4' is not in the catalog" in str(err.value)
    assert store.counts() == {k: 0 for k in store.counts()}


def test_movielens_100k_layout(store, tmp_path):
    (tmp_path / "u.genre").write_text("unknown|0\nAction|1\nComedy|2\n\n")
    (tmp_path / "u.item").write_text(
        "1|Toy Story (1995)|01-Jan-1995||http://x|0|0|1\n2|Heat (1995)|01-Jan-1995||u|0|1|0\n",
        encoding="latin-1")
    (tmp_path / "u.user").write_text("1|24|M|technician|85711\n2|53|F|other|94043\n")
    (tmp_path / "u.data").write_text("1\t1\t5\t874965758\n2\t2\t3\t876893171\n1\t2\t4\t874965800\n")
    store.ingest(read_movielens_100k(tmp_path))
    stats = store.stats()
    assert (stats["users"], stats["items"], stats["events_by_type"]) == (2, 2, {"rating": 3})
    items = store.items_frame().set_index("item_id")
    assert items.loc["2", "category"] == "Movies > Action"
    ratings = store.read_table("events").set_index(["user_id", "item_id"])["value"]
    assert ratings.loc[("1", "2")] == 4.0
    (tmp_path / "u.data").write_text("1\t1\t5\n")
    with pytest.raises(InputError, match=r"u.data line 1, field 'ts': expected 4 fields"):
        read_movielens_100k(tmp_path)


def test_reviews_with_mapping_and_created_items(store, tmp_path):
    path = tmp_path / "reviews.csv"
    path.write_text("cat,label,review\n手机,1,\"质量不错，物流很快\"\n书籍,0,印刷很差\n"
                    "手机,0,\"Battery, sadly, died\"\n")
    batch = read_reviews_file(path, {"text": "review", "item_id": "cat"}, create_items=True)
    store.ingest(batch)
    reviews = store.reviews_frame().set_index("text")
    assert reviews.loc["Battery, sadly, died", "label"] == "0"
    assert reviews.loc["Battery, sadly, died", "language"] == "en"
    assert reviews.loc["质量不错，物流很快", "language"] == "zh"
    assert sorted(store.items_frame()["item_id"]) == ["书籍", "手机"]
    assert sum(store.ingest(read_reviews_file(path, {"text": "review", "item_id": "cat"},
                                              create_items=True)).inserted.values()) == 0
    with pytest.raises(UnknownReferenceError, match="item '平板' is not in the catalog"):
        path.write_text("cat,review\n平板,很好\n")
        store.ingest(read_reviews_file(path, {"text": "review", "item_id": "cat"}))


ITEM_ROWS = [
    {"sku": "a1", "name": "Wireless earbuds", "cost": 59.0, "stock": 4, "attributes": {"colour": "white"}},
    {"sku": "a2", "name": "蓝牙耳机", "cost": 199.0, "stock": 0, "attributes": None},
]
MAPPING = {"item_id": "sku", "title": "name", "price": "cost"}


@pytest.mark.parametrize("fmt", ["csv", "jsonl", "parquet"])
def test_generic_items_in_every_format(store, tmp_path, fmt):
    path = tmp_path / f"items.{fmt}"
    frame = pd.DataFrame(ITEM_ROWS)
    if fmt == "csv":
        frame.assign(attributes=[json.dumps(a) if a else "" for a in frame["attributes"]]
                     ).to_csv(path, index=False)
    elif fmt == "jsonl":
        path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in ITEM_ROWS) + "\n")
    else:
        frame.assign(attributes=[json.dumps(a) if a else None for a in frame["attributes"]]
                     ).to_parquet(path)
    store.ingest(read_entity_file("items", path, MAPPING))
    items = store.items_frame().set_index("item_id")
    assert items.loc["a2", "title"] == "蓝牙耳机" and items.loc["a2", "price"] == 199.0
    assert items.loc["a1", "stock"] == 4
    assert json.loads(items.loc["a1", "attributes"]) == {"colour": "white"}


def test_generic_orders_one_row_per_line(store, tmp_path):
    items = tmp_path / "items.csv"
    items.write_text("item_id,title\np1,Phone\np2,Case\n")
    store.ingest(read_entity_file("items", items))
    orders = tmp_path / "orders.jsonl"
    orders.write_text(
        '{"order_id": "o1", "user_id": "u1", "status": "shipped", "created_at": "2026-03-01", '
        '"item_id": "p1", "quantity": 1, "unit_price": 999}\n'
        '{"order_id": "o1", "user_id": "u1", "status": "shipped", "created_at": "2026-03-01", '
        '"item_id": "p2", "quantity": 2, "unit_price": 9.5}\n')
    store.ingest(read_entity_file("orders", orders))
    assert store.counts()["order_lines"] == 2 and store.stats()["orders_by_status"] == {"shipped": 1}


def test_bad_generic_inputs_leave_the_store_unchanged(store, tmp_path, snapshot):
    good = tmp_path / "items.csv"
    good.write_text("item_id,title,price\np1,Phone,10\n")
    store.ingest(read_entity_file("items", good))
    before = snapshot(store)
    cases = {
        "wrong_type.csv": ("item_id,title,price\np2,Case,cheap\n", InputError,
                           "wrong_type.csv line 2, field 'price': 'cheap' is not a number"),
        "missing_col.csv": ("sku,title\np2,Case\n", SchemaError,
                            "field 'item_id': required column is missing (columns found: sku, title)"),
        "broken.jsonl": ('{"item_id": "p2"}\n{"item_id": \n', InputError,
                         "broken.jsonl line 2: malformed JSON"),
        "changed.csv": ("item_id,title,price\np3,New,1\np1,Phone,12\n", ConflictError,
                        "changed.csv line 3, field 'price': item_id 'p1' is already stored"),
        "ragged.csv": ("item_id,title,price\np2,Case,1\np3,Cable,2,extra\n", InputError,
                       "malformed CSV"),
    }
    for name, (content, error, message) in cases.items():
        path = tmp_path / name
        path.write_text(content)
        with pytest.raises(error) as err:
            store.ingest(read_entity_file("items", path))
        assert message in str(err.value), name
        assert snapshot(store) == before, name
    with pytest.raises(SchemaError, match="mapped column 'sku' is not in the file"):
        read_entity_file("items", good, {"item_id": "sku"})
    events = tmp_path / "events.csv"
    events.write_text("user_id,item_id,type,ts\nu1,p1,view,2026-01-01\nu1,p9,view,2026-01-02\n")
    with pytest.raises(UnknownReferenceError,
                       match="events.csv line 3, field 'item_id': item 'p9' is not in the catalog"):
        store.ingest(read_entity_file("events", events))
    assert snapshot(store) == before
