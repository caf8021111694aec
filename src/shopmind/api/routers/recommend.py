"""Recommendations: each item with its score and the reason it is there.

Every list takes the same business-rule filters as query parameters: ``in_stock``,
``min_price``, ``max_price``, ``category``.

The model-backed endpoints are ``async``: they compute in memory (a fraction of a millisecond)
and never wait on the store, so they skip the thread-pool hop; the ones that query the store
(trending, buy-again, bought-together) stay ``def`` and run in the thread pool.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request

from shopmind.api.auth import require
from shopmind.api.catalog import Filters
from shopmind.api.schemas import RecommendationList, SessionIn

router = APIRouter(prefix="/v1", tags=["recommend"], dependencies=[Depends(require("read"))])

_ERRORS = {401: {"description": "no or invalid API key"},
           403: {"description": "the key lacks the 'read' scope"}}
_NOT_FOUND = {**_ERRORS, 404: {"description": "unknown item"}}

UserId = Annotated[str, Query(min_length=1, max_length=255, pattern=r"^[^\x00]+$",
                              description="the shop's user id")]
ItemId = Annotated[str, Query(min_length=1, max_length=255, pattern=r"^[^\x00]+$",
                              description="the shop's item id")]
K = Annotated[int, Query(ge=1, le=100, description="how many items")]


async def filters(  # async: parsing needs no thread of its own
    in_stock: Annotated[bool | None, Query(description="only items in stock")] = None,
    min_price: Annotated[float | None, Query(ge=0, le=1e12, allow_inf_nan=False)] = None,
    max_price: Annotated[float | None, Query(ge=0, le=1e12, allow_inf_nan=False)] = None,
    category: Annotated[str | None, Query(
        max_length=255, pattern=r"^[^\x00]*$",
        description="category path prefix ('Electronics > Phones') or any level's name")] = None,
) -> Filters:
    return Filters(in_stock, min_price, max_price, category or None)


Rules = Annotated[Filters, Depends(filters)]


def _service(request: Request):
    return request.app.state.service


@router.get("/recommend/for-you", response_model=RecommendationList, responses=_ERRORS,
            summary="A personal feed")
async def for_you(request: Request, user_id: UserId, rules: Rules, k: K = 10,
            exclude_seen: bool = True) -> dict:
    """Items for this user from everything they did, live events included. Unknown users get
    popular items (``fallback: true``)."""
    return _service(request).for_you(user_id, k, rules, exclude_seen)


@router.get("/recommend/next", response_model=RecommendationList, responses=_ERRORS,
            summary="What this user will want next")
async def next_for_user(request: Request, user_id: UserId, rules: Rules, k: K = 10) -> dict:
    """Predicted from the user's latest events; an event ingested a moment ago counts."""
    return _service(request).next_for_user(user_id, k, rules)


@router.post("/recommend/next", response_model=RecommendationList, responses=_ERRORS,
             summary="What comes next in a live session")
async def next_for_session(request: Request, body: SessionIn, rules: Rules, k: K = 10) -> dict:
    """The session (items just looked at, oldest first) is passed in the request; nothing about
    it needs to be stored. Items the model does not know are listed in ``ignored_items``."""
    return _service(request).next_for_session(body.items, k, rules, body.user_id)


@router.get("/recommend/similar", response_model=RecommendationList, responses=_NOT_FOUND,
            summary="Items similar to one item")
async def similar(request: Request, item_id: ItemId, rules: Rules, k: K = 10) -> dict:
    return _service(request).similar(item_id, k, rules)


@router.get("/recommend/trending", response_model=RecommendationList, responses=_ERRORS,
            summary="Trending now")
def trending(request: Request, rules: Rules, k: K = 10,
             days: Annotated[float, Query(gt=0, le=365, allow_inf_nan=False,
                                          description="the window, before the newest event")]
             = 7.0) -> dict:
    return _service(request).trending(k, rules, days)


@router.get("/recommend/buy-again", response_model=RecommendationList, responses=_ERRORS,
            summary="Items this user may buy again")
def buy_again(request: Request, user_id: UserId, rules: Rules, k: K = 10) -> dict:
    return _service(request).buy_again(user_id, k, rules)


@router.get("/recommend/bought-together", response_model=RecommendationList,
            responses=_NOT_FOUND, summary="Frequently bought together")
def bought_together(request: Request, item_id: ItemId, rules: Rules, k: K = 10) -> dict:
    """Items in the same orders (or bought in the same session) as this one."""
    return _service(request).bought_together(item_id, k, rules)


@router.get("/floor", response_model=RecommendationList, responses=_ERRORS,
            summary="A stored list (the benchmark's floor)")
async def floor(request: Request) -> dict:
    """The same ten items every time, through the same auth and serialisation as the
    recommendation endpoints: what a request costs before any model runs."""
    return {"strategy": "floor", "items": _service(request).floor_list}
