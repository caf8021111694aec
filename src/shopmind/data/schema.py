"""The data model: one table per domain object, and the fields each import may carry.

Timestamps are stored as float seconds since the Unix epoch (UTC): one numeric type that
SQLite and PostgreSQL both sort and compare exactly, and that numpy reads without parsing.
Free-form structures (attributes, context) are stored as canonical JSON text.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import (
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
)

__all__ = [
    "metadata",
    "items",
    "users",
    "events",
    "reviews",
    "orders",
    "order_lines",
    "api_keys",
    "FieldSpec",
    "ENTITY_FIELDS",
    "EVENT_TYPES",
    "ORDER_STATUSES",
]

metadata = MetaData()

items = Table(
    "items",
    metadata,
    Column("item_id", String(255), primary_key=True),
    Column("title", Text),
    Column("description", Text),
    Column("category", Text),  # path, levels joined by " > "
    Column("brand", Text),
    Column("price", Float),
    Column("currency", String(8)),
    Column("stock", Integer),
    Column("attributes", Text),  # canonical JSON object
    Column("language", String(16)),
    Column("created_at", Float),
)

users = Table(
    "users",
    metadata,
    Column("user_id", String(255), primary_key=True),
    Column("attributes", Text),
    Column("created_at", Float),
)

events = Table(
    "events",
    metadata,
    Column("event_id", Integer, primary_key=True, autoincrement=True),
    Column("user_id", String(255), ForeignKey("users.user_id"), nullable=False),
    Column("item_id", String(255), ForeignKey("items.item_id")),  # null for e.g. searches
    Column("type", String(32), nullable=False),
    Column("value", Float),
    Column("ts", Float, nullable=False),
    Column("session_id", String(255)),
    Column("context", Text),
    Column("idempotency_key", String(255), nullable=False, unique=True),
    Index("ix_events_user_ts", "user_id", "ts"),
    Index("ix_events_item", "item_id"),
)

reviews = Table(
    "reviews",
    metadata,
    Column("review_id", String(255), primary_key=True),
    Column("user_id", String(255), ForeignKey("users.user_id")),
    Column("item_id", String(255), ForeignKey("items.item_id"), nullable=False),
    Column("rating", Float),
    Column("text", Text, nullable=False),
    Column("ts", Float),
    Column("language", String(16)),
    Column("label", String(64)),
    Column("aspects", Text),  # canonical JSON object: aspect term or category -> polarity
    Index("ix_reviews_item", "item_id"),
)

orders = Table(
    "orders",
    metadata,
    Column("order_id", String(255), primary_key=True),
    Column("user_id", String(255), ForeignKey("users.user_id"), nullable=False),
    Column("status", String(32), nullable=False),
    Column("created_at", Float, nullable=False),
    Column("updated_at", Float),
    Column("shipping_status", String(32)),
    Column("payment_status", String(32)),
    Column("currency", String(8)),
    Index("ix_orders_user", "user_id"),
)

order_lines = Table(
    "order_lines",
    metadata,
    Column("order_id", String(255), ForeignKey("orders.order_id"), primary_key=True),
    Column("line_no", Integer, primary_key=True),
    Column("item_id", String(255), ForeignKey("items.item_id"), nullable=False),
    Column("quantity", Integer, nullable=False),
    Column("unit_price", Float),
)

api_keys = Table(
    "api_keys",
    metadata,
    Column("key_id", String(32), primary_key=True),  # the public part of the key
    Column("secret_hash", String(64), nullable=False),  # sha256 hex of the whole key
    Column("scopes", String(255), nullable=False),  # comma-separated: admin, ingest, read
    Column("name", String(255)),
    Column("created_at", Float, nullable=False),
    Column("revoked_at", Float),
)

EVENT_TYPES = (
    "view",
    "click",
    "add_to_cart",
    "remove_from_cart",
    "wishlist",
    "purchase",
    "rating",
    "search",
    "share",
)
"""Known event types. Other lower-case identifiers are accepted too (shops have their own)."""

ORDER_STATUSES = (
    "pending",
    "paid",
    "shipped",
    "delivered",
    "cancelled",
    "returned",
    "refunded",
)


@dataclass(frozen=True)
class FieldSpec:
    """One field of an importable entity.

    kind: ``str``, ``float``, ``int``, ``ts`` (timestamp), ``json`` (object).
    """

    name: str
    kind: str
    required: bool = False
    min_value: float | None = None
    max_value: float | None = None
    choices: tuple[str, ...] | None = None


ENTITY_FIELDS: dict[str, tuple[FieldSpec, ...]] = {
    "items": (
        FieldSpec("item_id", "str", required=True),
        FieldSpec("title", "str"),
        FieldSpec("description", "str"),
        FieldSpec("category", "str"),
        FieldSpec("brand", "str"),
        FieldSpec("price", "float", min_value=0),
        FieldSpec("currency", "str"),
        FieldSpec("stock", "int", min_value=0),
        FieldSpec("attributes", "json"),
        FieldSpec("language", "str"),
    ),
    "users": (
        FieldSpec("user_id", "str", required=True),
        FieldSpec("attributes", "json"),
    ),
    "events": (
        FieldSpec("user_id", "str", required=True),
        FieldSpec("item_id", "str"),
        FieldSpec("type", "str", required=True),
        FieldSpec("value", "float"),
        FieldSpec("ts", "ts"),  # absent: the time of ingestion
        FieldSpec("session_id", "str"),
        FieldSpec("context", "json"),
        FieldSpec("idempotency_key", "str"),
    ),
    "reviews": (
        FieldSpec("review_id", "str"),  # absent: derived from the content
        FieldSpec("label", "str"),  # the shop's own annotation, e.g. a sentiment label
        # the shop's aspect annotation: {"battery": "positive", "screen": "negative"}
        FieldSpec("aspects", "json"),
        FieldSpec("user_id", "str"),
        FieldSpec("item_id", "str", required=True),
        FieldSpec("rating", "float", min_value=0, max_value=10),
        FieldSpec("text", "str", required=True),
        FieldSpec("ts", "ts"),
        FieldSpec("language", "str"),
    ),
    # Orders arrive one row per order line; order-level columns repeat on each line.
    "orders": (
        FieldSpec("order_id", "str", required=True),
        FieldSpec("user_id", "str", required=True),
        FieldSpec("status", "str", required=True, choices=ORDER_STATUSES),
        FieldSpec("created_at", "ts", required=True),
        FieldSpec("updated_at", "ts"),
        FieldSpec("shipping_status", "str"),
        FieldSpec("payment_status", "str"),
        FieldSpec("currency", "str"),
        FieldSpec("item_id", "str", required=True),
        FieldSpec("quantity", "int", required=True, min_value=1),
        FieldSpec("unit_price", "float", min_value=0),
    ),
}
