"""Ingestion: items, users, events, reviews and orders, one at a time or in batches.

Every request is one transaction (a batch is stored whole or not at all) and idempotent: a row
already stored with the same content is counted ``unchanged``, never stored twice. Events are
recognised by ``idempotency_key``; without one in the event, the ``Idempotency-Key`` header
gives ``<header>`` (single event) or ``<header>:<position>`` (batch), so a retried request maps
to the same keys.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import pandas as pd
from fastapi import APIRouter, Depends, Header, HTTPException, Query, Request
from pydantic import BaseModel

from shopmind.api.auth import require
from shopmind.api.errors import input_error_response
from shopmind.api.schemas import (
    EventIn,
    EventsBatch,
    IngestResult,
    ItemIn,
    ItemsBatch,
    MixedBatch,
    OrderIn,
    OrdersBatch,
    ReviewIn,
    ReviewsBatch,
    UserIn,
    UsersBatch,
)
from shopmind.errors import InputError

router = APIRouter(prefix="/v1", tags=["ingest"], dependencies=[Depends(require("ingest"))])

_ERRORS = {401: {"description": "no or invalid API key"},
           403: {"description": "the key lacks the 'ingest' scope"},
           409: {"description": "an id or idempotency key is stored with other content"},
           413: {"description": "the body or the batch is too large"},
           503: {"description": "the store is unavailable; retry with the same keys"}}

IdemHeader = Annotated[str | None, Header(
    alias="Idempotency-Key", max_length=200, pattern=r"^[^\x00]+$",
    description="makes a retried request recognisable (used for events without their own key)")]
UpdateFlag = Annotated[bool, Query(
    description="replace stored rows whose content changed (price, stock, order status …) "
    "instead of answering 409")]


def _epoch(value):
    if not isinstance(value, dt.datetime):
        return value
    if value.tzinfo is None:  # naive times are UTC, as everywhere in the store
        value = value.replace(tzinfo=dt.UTC)
    return value.timestamp()


def _rows(entity: str, models: list[BaseModel], idem: str | None, single: bool) -> list[dict]:
    rows = []
    for index, model in enumerate(models):
        if entity == "orders":
            order = model.model_dump(exclude={"lines"})
            for key in ("created_at", "updated_at"):
                order[key] = _epoch(order[key])
            for line in model.lines:
                rows.append({**order, **line.model_dump(), "_line": index})
            continue
        row = model.model_dump()
        if "ts" in row:
            row["ts"] = _epoch(row["ts"])
        if entity == "events" and row.get("idempotency_key") is None and idem:
            row["idempotency_key"] = idem if single else f"{idem}:{index}"
        row["_line"] = index
        rows.append(row)
    return rows


def _ingest(request: Request, parts: dict[str, list[BaseModel]], idem: str | None,
            update: bool, single: bool):
    service = request.app.state.service
    limit = service.settings.api_max_batch_rows
    total = sum(len(v) for v in parts.values())
    if total > limit:
        raise HTTPException(413, f"{total:,} rows in one request; the limit is {limit:,} "
                            "(SHOPMIND_API_MAX_BATCH_ROWS); split the batch")
    frames = {entity: pd.DataFrame(_rows(entity, models, idem, single))
              for entity, models in parts.items() if models}
    if not frames:
        return {"inserted": {}, "updated": {}, "unchanged": {}, "live_events": 0}
    try:
        return service.ingest(frames, on_conflict="update" if update else "error")
    except InputError as exc:  # located in this request's body: a ready 422/409 response
        entity = exc.source if exc.source in frames else None
        return input_error_response(exc, entity, batched=not single)


@router.post("/items", response_model=IngestResult, responses=_ERRORS, summary="Add one item")
def post_item(request: Request, body: ItemIn, update: UpdateFlag = False) -> dict:
    return _ingest(request, {"items": [body]}, None, update, single=True)


@router.post("/items/batch", response_model=IngestResult, responses=_ERRORS,
             summary="Add items (all or nothing)")
def post_items(request: Request, body: ItemsBatch, update: UpdateFlag = False) -> dict:
    return _ingest(request, {"items": body.items}, None, update, single=False)


@router.post("/users", response_model=IngestResult, responses=_ERRORS, summary="Add one user")
def post_user(request: Request, body: UserIn, update: UpdateFlag = False) -> dict:
    return _ingest(request, {"users": [body]}, None, update, single=True)


@router.post("/users/batch", response_model=IngestResult, responses=_ERRORS,
             summary="Add users (all or nothing)")
def post_users(request: Request, body: UsersBatch, update: UpdateFlag = False) -> dict:
    return _ingest(request, {"users": body.users}, None, update, single=False)


@router.post("/events", response_model=IngestResult, responses=_ERRORS,
             summary="Record one event (counts for recommendations at once)")
def post_event(request: Request, body: EventIn, idem: IdemHeader = None) -> dict:
    return _ingest(request, {"events": [body]}, idem, False, single=True)


@router.post("/events/batch", response_model=IngestResult, responses=_ERRORS,
             summary="Record events (all or nothing)")
def post_events(request: Request, body: EventsBatch, idem: IdemHeader = None) -> dict:
    return _ingest(request, {"events": body.events}, idem, False, single=False)


@router.post("/reviews", response_model=IngestResult, responses=_ERRORS,
             summary="Add one review")
def post_review(request: Request, body: ReviewIn, update: UpdateFlag = False) -> dict:
    return _ingest(request, {"reviews": [body]}, None, update, single=True)


@router.post("/reviews/batch", response_model=IngestResult, responses=_ERRORS,
             summary="Add reviews (all or nothing)")
def post_reviews(request: Request, body: ReviewsBatch, update: UpdateFlag = False) -> dict:
    return _ingest(request, {"reviews": body.reviews}, None, update, single=False)


@router.post("/orders", response_model=IngestResult, responses=_ERRORS,
             summary="Add or update one order with its lines")
def post_order(request: Request, body: OrderIn, update: UpdateFlag = False) -> dict:
    return _ingest(request, {"orders": [body]}, None, update, single=True)


@router.post("/orders/batch", response_model=IngestResult, responses=_ERRORS,
             summary="Add orders (all or nothing)")
def post_orders(request: Request, body: OrdersBatch, update: UpdateFlag = False) -> dict:
    return _ingest(request, {"orders": body.orders}, None, update, single=False)


@router.post("/batch", response_model=IngestResult, responses=_ERRORS,
             summary="Add several kinds at once, in one transaction")
def post_batch(request: Request, body: MixedBatch, idem: IdemHeader = None,
               update: UpdateFlag = False) -> dict:
    parts = {"items": body.items, "users": body.users, "events": body.events,
             "reviews": body.reviews, "orders": body.orders}
    return _ingest(request, parts, idem, update, single=False)
