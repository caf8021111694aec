"""The shop at a glance (for the dashboard and for people): counts, activity, users, items."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request

from shopmind.api.auth import ApiKey, current_key, require
from shopmind.api.schemas import KeyInfo
from shopmind.errors import NotFoundError

router = APIRouter(prefix="/v1", tags=["shop"])
_ERRORS = {401: {"description": "no or invalid API key"},
           403: {"description": "the key lacks the 'read' scope"}}
_read = [Depends(require("read"))]


@router.get("/me", response_model=KeyInfo, responses={401: _ERRORS[401]},
            summary="The scopes of the key you are using")
def me(key: ApiKey = Depends(current_key)) -> dict:
    return {"key_id": key.key_id, "scopes": sorted(key.scopes), "name": key.name}


@router.get("/shop/stats", response_model=dict[str, Any], responses=_ERRORS, dependencies=_read,
            summary="Counts of users, items, events by type, orders, reviews")
def stats(request: Request) -> dict:
    return request.app.state.service.stats()


@router.get("/shop/activity", response_model=dict[str, Any], responses=_ERRORS,
            dependencies=_read, summary="Events per day and type")
def activity(request: Request,
             days: Annotated[int, Query(ge=1, le=366)] = 30) -> dict:
    return request.app.state.service.activity(days)


@router.get("/shop/users", response_model=list[dict[str, Any]], responses=_ERRORS,
            dependencies=_read, summary="The most active users")
def users(request: Request, limit: Annotated[int, Query(ge=1, le=500)] = 20,
          prefix: Annotated[str | None, Query(max_length=255, pattern=r"^[^\x00]*$")] = None
          ) -> list[dict]:
    return request.app.state.service.active_users(limit, prefix)


@router.get("/shop/users/{user_id}/events", response_model=list[dict[str, Any]],
            responses=_ERRORS, dependencies=_read, summary="A user's latest events")
def user_events(request: Request,
                user_id: Annotated[str, Path(max_length=255, pattern=r"^[^\x00]+$")],
                limit: Annotated[int, Query(ge=1, le=200)] = 20) -> list[dict]:
    return request.app.state.service.recent_events(user_id, limit)


@router.get("/shop/items/{item_id}", response_model=dict[str, Any],
            responses={**_ERRORS, 404: {"description": "unknown item"}}, dependencies=_read,
            summary="One item")
def item(request: Request,
         item_id: Annotated[str, Path(max_length=255, pattern=r"^[^\x00]+$")]) -> dict:
    row = request.app.state.service.catalog.get(item_id)
    if row is None:
        raise NotFoundError(f"unknown item {item_id!r}")
    return {"item_id": item_id, **row}


@router.get("/shop/categories", response_model=list[str], responses=_ERRORS,
            dependencies=_read, summary="Top-level categories, largest first")
def categories(request: Request) -> list[str]:
    return request.app.state.service.catalog.categories()
