"""The store: all-or-nothing, idempotent ingestion on SQLite and PostgreSQL."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from shopmind.data.batch import Batch
from shopmind.errors import ConflictError, SchemaError, UnknownReferenceError

ITEMS = pd.DataFrame({
    "item_id": ["p1", "p2", "p3"],
    "title": ["Phone X", "手机壳", "Charger"],
    "price": ["499.0", "19.9", "25"],
    "stock": ["3", "0", ""],
    "category": ["Electronics > Phones", "配件 > 手机壳", "Electronics > Chargers"],
    "attributes": ['{"colour": "black"}', None, '{"watts": 20}'],
})
EVENTS = pd.DataFrame({
    "user_id": ["u1", "u1", "u2", "u2"],
    "item_id": ["p1", "p2", "p1", None],
    "type": ["view", "purchase", "add_to_cart", "search"],
    "ts": ["2026-01-01T10:00:00Z", "2026-01-01T10:05:00Z", 1767262000, 1767262100],
    "context": [None, None, None, {"query": "手机"}],
})
ORDERS = pd.DataFrame({
    "order_id": ["o1", "o1", "o2"],
    "user_id": ["u1", "u1", "u2"],
    "status": ["paid", "paid", "delivered"],
    "created_at": ["2026-01-01T10:05:00Z"] * 3,
    "item_id": ["p1", "p2", "p3"],
    "quantity": [1, 2, 1],
    "unit_price": [499.0, 19.9, 25.0],
})


def full_batch() -> Batch:
    return Batch.from_frames(items=ITEMS, events=EVENTS, orders=ORDERS)


def test_ingest_stores_every_table_and_types(store):
    report = store.ingest(full_batch())
    assert report.inserted == {"items": 3, "users": 2, "events": 4, "orders": 2, "order_lines": 3}
    items = store.items_frame().set_index("item_id")
    assert items.loc["p2", "price"] == pytest.approx(19.9)
    assert items.loc["p2", "language"] == "zh" and items.loc["p1", "language"] == "en"
    assert pd.isna(items.loc["p3", "stock"]) and items.loc["p1", "stock"] == 3
    assert json.loads(items.loc["p3", "attributes"]) == {"watts": 20}
    events = store.read_table("events").set_index("type")
    assert events.loc["view", "ts"] == pd.Timestamp("2026-01-01T10:00:00Z").timestamp()
    assert json.loads(events.loc["search", "context"]) == {"query": "手机"}
    stats = store.stats()
    assert stats["events_by_type"] == {"add_to_cart": 1, "purchase": 1, "search": 1, "view": 1}
    assert stats["orders_by_status"] == {"delivered": 1, "paid": 1}
    lines = store.orders_frame()
    assert lines.groupby("order_id")["quantity"].sum().to_dict() == {"o1": 3, "o2": 1}


def test_reingesting_the_same_rows_adds_nothing(store, snapshot):
    store.ingest(full_batch())
    before = snapshot(store)
    report = store.ingest(full_batch())
    assert sum(report.inserted.values()) == 0
    assert report.unchanged["events"] == 4 and report.unchanged["items"] == 3
    assert snapshot(store) == before


def test_unknown_item_rolls_back_the_whole_batch(store):
    bad_events = pd.concat([EVENTS, pd.DataFrame({
        "user_id": ["u3"], "item_id": ["nope"], "type": ["view"], "ts": [1767262200]})],
        ignore_index=True)
    with pytest.raises(UnknownReferenceError) as err:
        store.ingest(Batch.from_frames(sources={"events": "events.csv"}, items=ITEMS,
                                       events=bad_events))
    assert "events.csv line 5, field 'item_id': item 'nope' is not in the catalog" in str(err.value)
    assert store.counts()["items"] == 0 and store.counts()["users"] == 0


def test_changed_item_is_a_conflict_unless_updating(store, snapshot):
    store.ingest(Batch.from_frames(items=ITEMS))
    before = snapshot(store)
    changed = ITEMS.assign(price=["499.0", "29.9", "25"])
    with pytest.raises(ConflictError) as err:
        store.ingest(Batch.from_frames(sources={"items": "catalog.csv"}, items=changed))
    assert "catalog.csv line 2, field 'price'" in str(err.value)
    assert "already stored with price=19.9, not 29.9" in str(err.value)
    assert snapshot(store) == before
    report = store.ingest(Batch.from_frames(items=changed), on_conflict="update")
    assert report.updated == {"items": 1} and report.unchanged == {"items": 2}
    assert store.items_frame().set_index("item_id").loc["p2", "price"] == pytest.approx(29.9)


def test_order_status_update_and_changed_lines(store, snapshot):
    store.ingest(full_batch())
    shipped = ORDERS.assign(status=["shipped", "shipped", "delivered"])
    with pytest.raises(ConflictError):
        store.ingest(Batch.from_frames(orders=shipped))
    store.ingest(Batch.from_frames(orders=shipped), on_conflict="update")
    assert store.stats()["orders_by_status"] == {"delivered": 1, "shipped": 1}
    fewer_lines = ORDERS.iloc[[0, 2]].assign(status=["shipped", "delivered"])
    before = snapshot(store)
    with pytest.raises(ConflictError, match="order 'o1' is already stored with other lines"):
        store.ingest(Batch.from_frames(orders=fewer_lines))
    assert snapshot(store) == before
    store.ingest(Batch.from_frames(orders=fewer_lines), on_conflict="update")
    assert store.counts()["order_lines"] == 2


def test_events_are_immutable_even_in_update_mode(store):
    store.ingest(Batch.from_frames(items=ITEMS, events=EVENTS.assign(
        idempotency_key=["k1", "k2", "k3", "k4"])))
    retried = EVENTS.iloc[[0]].assign(idempotency_key=["k1"], type=["click"])
    with pytest.raises(ConflictError, match="idempotency_key 'k1' is already stored"):
        store.ingest(Batch.from_frames(events=retried), on_conflict="update")


def test_duplicate_id_inside_one_input_names_both_lines():
    dup = pd.concat([ITEMS, ITEMS.iloc[[1]].assign(title=["另一个标题"])], ignore_index=True)
    with pytest.raises(ConflictError) as err:
        Batch.from_frames(sources={"items": "items.csv"}, items=dup)
    msg = str(err.value)
    assert "items.csv line 4, field 'title'" in msg and "different content than on line 2" in msg
    # An exact repeat is not an error: it is the same row sent twice.
    assert len(Batch.from_frames(items=pd.concat([ITEMS, ITEMS.iloc[[1]]])).items) == 3


@pytest.mark.parametrize(("frame", "field", "reason"), [
    (ITEMS.drop(columns="item_id"), "item_id", "required column is missing"),
    (ITEMS.assign(price=["1", "abc", "2"]), "price", "'abc' is not a number"),
    (ITEMS.assign(price=["1", "-2", "2"]), "price", "-2 is below the minimum 0"),
    (ITEMS.assign(stock=["1", "2.5", "2"]), "stock", "'2.5' is not a whole number"),
    (ITEMS.assign(attributes=["{}", "{bad", None]), "attributes", "is not valid JSON"),
    (ITEMS.assign(attributes=["{}", "[1, 2]", None]), "attributes", "must be a JSON object"),
    (ITEMS.assign(item_id=["a", " ", "c"]), "item_id", "is required but empty"),
])
def test_bad_item_values_name_line_field_and_reason(frame, field, reason):
    with pytest.raises((SchemaError, ValueError)) as err:
        Batch.from_frames(sources={"items": "items.csv"}, items=frame)
    msg = str(err.value)
    assert f"field '{field}'" in msg and reason in msg and "items.csv" in msg
    if reason != "required column is missing":
        assert "line 2" in msg  # the second row of the frame


@pytest.mark.parametrize(("change", "reason"), [
    ({"ts": ["yesterday", 1, 2, 3]}, "'yesterday' is not a timestamp"),
    ({"type": ["View!", "view", "view", "view"]}, "'View!' is not an event type"),
    ({"item_id": [None, "p1", "p1", None]}, "a 'view' event needs an item_id"),
])
def test_bad_event_values(change, reason):
    with pytest.raises(ValueError, match="line 1") as err:
        Batch.from_frames(events=EVENTS.assign(**change))
    assert reason in str(err.value)


def test_bad_order_status():
    with pytest.raises(ValueError, match="'lost' is not one of pending, paid"):
        Batch.from_frames(orders=ORDERS.assign(status=["paid", "paid", "lost"]))


REVIEWS = pd.DataFrame({"item_id": ["p1", "p2"], "text": ["battery great, screen dim", "好用"],
                        "aspects": [{" battery ": "Positive", "screen": "negative"}, None]})


def test_review_aspect_annotations_are_stored_in_canonical_form(store):
    store.ingest(Batch.from_frames(items=ITEMS, reviews=REVIEWS))
    stored = store.reviews_frame().set_index("text")["aspects"]
    assert json.loads(stored["battery great, screen dim"]) == {"battery": "positive",
                                                              "screen": "negative"}
    assert pd.isna(stored["好用"])


def test_ingestion_accepts_the_polarities_the_analyzer_answers():
    from shopmind.data.validate import ASPECT_POLARITIES
    from shopmind.reviews import POLARITIES

    assert sorted(ASPECT_POLARITIES) == sorted(POLARITIES)


@pytest.mark.parametrize(("aspects", "reason"), [
    ({"battery": "great"}, "the aspect 'battery' has polarity 'great'; use one of positive"),
    ({" ": "positive"}, "an aspect has an empty name"),
    ({"x" * 201: "positive"}, "is longer than 200 characters"),
    ('["battery"]', "must be a JSON object"),
])
def test_bad_review_aspects_name_line_field_and_reason(aspects, reason):
    with pytest.raises(ValueError) as err:
        Batch.from_frames(sources={"reviews": "reviews.csv"},
                          reviews=REVIEWS.assign(aspects=[None, aspects]))
    assert "reviews.csv line 2, field 'aspects'" in str(err.value) and reason in str(err.value)


def test_a_store_made_before_a_column_existed_gets_it_empty(tmp_path):
    import sqlite3

    from shopmind.data.store import Store

    path = tmp_path / "old.db"
    with sqlite3.connect(path) as conn:  # the reviews table as shopmind made it before aspects
        conn.execute("CREATE TABLE reviews (review_id VARCHAR(255) PRIMARY KEY, user_id "
                     "VARCHAR(255), item_id VARCHAR(255) NOT NULL, rating FLOAT, text TEXT NOT "
                     "NULL, ts FLOAT, language VARCHAR(16), label VARCHAR(64))")
        conn.execute("INSERT INTO reviews VALUES ('r0', NULL, 'p1', 5, 'old', NULL, 'en', NULL)")
    store = Store(f"sqlite:///{path}")
    store.ingest(Batch.from_frames(items=ITEMS, reviews=REVIEWS))
    reviews = store.reviews_frame().set_index("review_id")
    assert reviews.loc["r0", "text"] == "old" and pd.isna(reviews.loc["r0", "aspects"])
    assert reviews["aspects"].notna().sum() == 1
    store.close()
