"""Request and response bodies of the REST API (pydantic v2; they make the OpenAPI spec).

Input models mirror :data:`shopmind.data.schema.ENTITY_FIELDS`: the store's validation runs
after them, so the two never disagree; these add what a network edge needs (lengths, forbidden
unknown fields, text the database can store).
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    WithJsonSchema,
)

from shopmind.data.schema import ORDER_STATUSES

__all__ = [
    "ItemIn", "UserIn", "EventIn", "ReviewIn", "OrderIn", "OrderLineIn",
    "ItemsBatch", "UsersBatch", "EventsBatch", "ReviewsBatch", "OrdersBatch", "MixedBatch",
    "IngestResult", "RecommendedItem", "RecommendationList", "ModelRef", "SessionIn",
    "ModelVersionOut", "CapabilityStatus", "ModelsStatus", "RetrainAccepted", "KeyInfo",
    "ErrorOut",
]

_MAX_DEPTH = 8


def _storable(value: str) -> str:
    """Text every supported database stores: valid UTF-8, no NUL characters."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("contains characters that are not valid UTF-8 (lone surrogates)") \
            from None
    if "\x00" in value:
        raise ValueError("contains a NUL character")
    return value


def _storable_object(value: dict | None) -> dict | None:
    def walk(v, depth):
        if depth > _MAX_DEPTH:
            raise ValueError(f"is nested deeper than {_MAX_DEPTH} levels")
        if isinstance(v, str):
            _storable(v)
        elif isinstance(v, dict):
            for key, inner in v.items():
                _storable(str(key))
                walk(inner, depth + 1)
        elif isinstance(v, list):
            for inner in v:
                walk(inner, depth + 1)
        elif isinstance(v, float) and (v != v or v in (float("inf"), float("-inf"))):
            raise ValueError("contains a number that is not finite")

    if value is not None:
        walk(value, 0)
    return value


Id = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=255),
               AfterValidator(_storable)]
Short = Annotated[str, StringConstraints(max_length=255), AfterValidator(_storable)]
Text = Annotated[str, StringConstraints(max_length=100_000), AfterValidator(_storable)]
AspectName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200),
                      AfterValidator(_storable)]
JsonObject = Annotated[dict[str, Any], AfterValidator(_storable_object)]
EventType = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,31}$")]
Money = Annotated[float, Field(ge=0, le=1e12, allow_inf_nan=False)]
def _timestamp(value: Any) -> float:
    """Epoch seconds from a number or ISO-8601 text (UTC unless it names a zone)."""
    if isinstance(value, str):
        text = value.strip()
        try:
            value = float(text)
        except ValueError:
            try:
                parsed = dt.datetime.fromisoformat(text)
            except ValueError:
                raise ValueError("is not a timestamp: use epoch seconds or ISO-8601 text such as "
                                 "2026-04-01T10:00:00Z") from None
            if parsed.tzinfo is None:
                parsed = parsed.replace(tzinfo=dt.UTC)
            value = parsed.timestamp()
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError("is not a timestamp: use epoch seconds or ISO-8601 text")
    if not math.isfinite(value) or value < 0:
        raise ValueError("must be a non-negative number of seconds since the epoch")
    if value > _MAX_EPOCH:
        raise ValueError("is too large for seconds since the epoch (milliseconds? divide by 1000)")
    return float(value)


_MAX_EPOCH = 1e11  # the year 5138: anything larger is milliseconds or a mistake
Timestamp = Annotated[float, BeforeValidator(_timestamp), WithJsonSchema(
    {"anyOf": [{"type": "number", "minimum": 0, "maximum": _MAX_EPOCH},
               {"type": "string", "format": "date-time"}],
     "description": "seconds since the Unix epoch, or ISO-8601 text (UTC unless it says)"})]


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ItemIn(_In):
    """A catalog item. Send it again with ``?update=true`` to change price, stock …"""

    item_id: Id
    title: Text | None = None
    description: Text | None = None
    category: Short | None = Field(None, description="path, levels joined by ' > '")
    brand: Short | None = None
    price: Money | None = None
    currency: Annotated[str, StringConstraints(max_length=8), AfterValidator(_storable)] | None \
        = None
    stock: Annotated[int, Field(ge=0, le=2**31 - 1)] | None = None
    attributes: JsonObject | None = None
    language: Annotated[str, StringConstraints(max_length=16),
                        AfterValidator(_storable)] | None = None


class UserIn(_In):
    user_id: Id
    attributes: JsonObject | None = None


class EventIn(_In):
    """A behaviour event. Without ``idempotency_key`` (field or ``Idempotency-Key`` header) the
    event is recognised by its content; send ``ts`` then, or a retry counts twice."""

    user_id: Id
    item_id: Id | None = Field(None, description="required except for searches")
    type: EventType = Field(description="view, click, add_to_cart, purchase, rating, search, …")
    value: Annotated[float, Field(allow_inf_nan=False, ge=-1e12, le=1e12)] | None = None
    ts: Timestamp | None = Field(None, description="default: the time of ingestion")
    session_id: Id | None = None
    context: JsonObject | None = None
    idempotency_key: Id | None = None


class ReviewIn(_In):
    review_id: Id | None = Field(None, description="default: derived from the content")
    user_id: Id | None = None
    item_id: Id
    rating: Annotated[float, Field(ge=0, le=10, allow_inf_nan=False)] | None = None
    text: Annotated[str, StringConstraints(min_length=1, max_length=100_000),
                    AfterValidator(_storable)]
    ts: Timestamp | None = None
    language: Annotated[str, StringConstraints(max_length=16),
                        AfterValidator(_storable)] | None = None
    label: Annotated[str, StringConstraints(max_length=64),
                     AfterValidator(_storable)] | None = None
    aspects: Annotated[dict[AspectName, Literal["positive", "neutral", "negative"]],
                       Field(max_length=100)] | None = Field(
        None, description="the shop's aspect annotation, term or category -> polarity: "
        '{"battery": "positive", "screen": "negative"}; trains the model that answers the '
        "aspect terms asked of /v1/reviews/analyze")


class OrderLineIn(_In):
    item_id: Id
    quantity: Annotated[int, Field(ge=1, le=1_000_000)]
    unit_price: Money | None = None


class OrderIn(_In):
    order_id: Id
    user_id: Id
    status: Literal[ORDER_STATUSES]  # type: ignore[valid-type]
    created_at: Timestamp
    updated_at: Timestamp | None = None
    shipping_status: Annotated[str, StringConstraints(max_length=32),
                               AfterValidator(_storable)] | None = None
    payment_status: Annotated[str, StringConstraints(max_length=32),
                              AfterValidator(_storable)] | None = None
    currency: Annotated[str, StringConstraints(max_length=8),
                        AfterValidator(_storable)] | None = None
    lines: list[OrderLineIn] = Field(min_length=1, max_length=1000)


class ItemsBatch(_In):
    items: list[ItemIn] = Field(min_length=1)


class UsersBatch(_In):
    users: list[UserIn] = Field(min_length=1)


class EventsBatch(_In):
    events: list[EventIn] = Field(min_length=1)


class ReviewsBatch(_In):
    reviews: list[ReviewIn] = Field(min_length=1)


class OrdersBatch(_In):
    orders: list[OrderIn] = Field(min_length=1)


class MixedBatch(_In):
    """Several kinds at once, stored in one transaction: items first, then users, events,
    reviews and orders, so events may name items of the same batch."""

    items: list[ItemIn] = []
    users: list[UserIn] = []
    events: list[EventIn] = []
    reviews: list[ReviewIn] = []
    orders: list[OrderIn] = []


class IngestResult(BaseModel):
    """Rows per table: stored now, updated, or already stored unchanged (a retry)."""

    inserted: dict[str, int]
    updated: dict[str, int]
    unchanged: dict[str, int]
    live_events: int = Field(0, description="events that already count for recommendations")


class SessionIn(_In):
    """A live session: the items just looked at, oldest first (nothing needs to be stored)."""

    items: list[Id] = Field(default_factory=list, max_length=200)
    user_id: Id | None = Field(None, description="optional: exclude what this user bought")


class RecommendedItem(BaseModel):
    item_id: str
    score: float
    reason: str
    title: str | None = None
    category: str | None = None
    price: float | None = None
    stock: int | None = None


class ModelRef(BaseModel):
    capability: str
    version: int
    name: str
    trained_at: float


class RecommendationList(BaseModel):
    strategy: str
    items: list[RecommendedItem]
    user_id: str | None = None
    model: ModelRef | None = None
    fallback: bool = Field(False, description="true when a personal answer was not possible "
                           "(unknown user, no model yet) and popular items stand in")
    ignored_items: list[str] = Field(default_factory=list,
                                     description="input items the model does not know yet")


class ModelVersionOut(BaseModel):
    capability: str
    version: int
    model: str
    metrics: dict[str, Any]
    protocol: str
    trained_at: float
    fit_seconds: float
    run_id: str
    data: dict[str, Any]
    curve: list[Any]
    serving: bool = False


class CapabilityStatus(BaseModel):
    capability: str
    serving: ModelVersionOut | None
    versions: int
    live: dict[str, Any]
    retrain: dict[str, Any]


class ModelsStatus(BaseModel):
    capabilities: list[CapabilityStatus]


class RetrainAccepted(BaseModel):
    started: bool
    detail: str


class KeyInfo(BaseModel):
    key_id: str
    scopes: list[str]
    name: str | None


class ErrorOut(BaseModel):
    detail: Any
