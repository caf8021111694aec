"""Recommendations: each item with its score and the reason it is there.

Every list takes the same business rules as query parameters (the library's
:class:`~shopmind.recommend.rules.Rules`): filters ``in_stock``, ``min_price``, ``max_price``,
``category``; ordering ``pin`` (``ITEM@POSITION``), ``boost`` (``TARGET=FACTOR``), ``bury``
(``TARGET``), ``diversity`` (0–1) and ``max_per_category``; a target is an item id or
``category:<name>``.

The model-backed endpoints are ``async``: they compute in memory (a fraction of a millisecond)
and never wait on the store, so they skip the thread-pool hop; the ones that query the store
(trending, buy-again, bought-together) stay ``def`` and run in the thread pool.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request

from shopmind.api.auth import require
from shopmind.api.errors import query_error
from shopmind.api.schemas import RecommendationList, SessionIn
from shopmind.errors import DataError
from shopmind.recommend.rules import Rules

router = APIRouter(prefix="/v1", tags=["recommend"], dependencies=[Depends(require("read"))])

_ERRORS = {401: {"description": "no or invalid API key"},
           403: {"description": "the key lacks the 'read' scope"}}
_NOT_FOUND = {**_ERRORS, 404: {"description": "unknown item"}}

UserId = Annotated[str, Query(min_length=1, max_length=255, pattern=r"^[^\x00]+$",
                              description="the shop's user id")]
ItemId = Annotated[str, Query(min_length=1, max_length=255, pattern=r"^[^\x00]+$",
                              description="the shop's item id")]
K = Annotated[int, Query(ge=1, le=100, description="how many items")]


async def rules(  # async: parsing needs no thread of its own
    in_stock: Annotated[bool | None, Query(description="only items in stock")] = None,
    min_price: Annotated[float | None, Query(ge=0, le=1e12, allow_inf_nan=False)] = None,
    max_price: Annotated[float | None, Query(ge=0, le=1e12, allow_inf_nan=False)] = None,
    category: Annotated[str | None, Query(
        max_length=255, pattern=r"^[^\x00]*$",
        description="category path prefix ('Electronics > Phones') or any level's name")] = None,
    pin: Annotated[list[str] | None, Query(
        max_length=20, description="ITEM@POSITION: this item at this place (1 is the top); "
        "repeatable")] = None,
    boost: Annotated[list[str] | None, Query(
        max_length=50, description="TARGET=FACTOR: multiply the score of an item id or of "
        "'category:<name>' (above 1 raises, below 1 lowers); repeatable")] = None,
    bury: Annotated[list[str] | None, Query(
        max_length=50, description="TARGET: an item id or 'category:<name>' to list only "
        "after everything else; repeatable")] = None,
    diversity: Annotated[float, Query(
        ge=0, le=1, allow_inf_nan=False, description="0 (off) to 1: how much to favour items "
        "unlike those already listed (maximal marginal relevance)")] = 0.0,
    max_per_category: Annotated[int | None, Query(
        ge=1, le=100, description="at most this many items of one category at the top")] = None,
) -> Rules:
    try:
        return Rules.parse(pin=pin or (), boost=boost or (), bury=bury or (),
                           in_stock=bool(in_stock), min_price=min_price, max_price=max_price,
                           category=category or None, diversity=diversity,
                           max_per_category=max_per_category)
    except DataError as exc:  # its message starts with the query parameter it is about
        raise query_error(str(exc).split(" ", 1)[0], str(exc)) from None


RulesQ = Annotated[Rules, Depends(rules)]
ForUser = Annotated[str | None, Query(
    min_length=1, max_length=255, pattern=r"^[^\x00]+$",
    description="optional: leave out what this user bought")]


def _service(request: Request):
    return request.app.state.service


@router.get("/recommend/for-you", response_model=RecommendationList, responses=_ERRORS,
            summary="A personal feed")
async def for_you(request: Request, user_id: UserId, rules: RulesQ, k: K = 10,
            exclude_seen: bool = True) -> dict:
    """Items for this user from everything they did, live events included. Unknown users get
    popular items (``fallback: true``)."""
    return _service(request).for_you(user_id, k, rules, exclude_seen)


@router.get("/recommend/next", response_model=RecommendationList, responses=_ERRORS,
            summary="What this user will want next")
async def next_for_user(request: Request, user_id: UserId, rules: RulesQ, k: K = 10) -> dict:
    """Predicted from the user's latest events; an event ingested a moment ago counts."""
    return _service(request).next_for_user(user_id, k, rules)


@router.post("/recommend/next", response_model=RecommendationList, responses=_ERRORS,
             summary="What comes next in a live session")
async def next_for_session(request: Request, body: SessionIn, rules: RulesQ, k: K = 10) -> dict:
    """The session (items just looked at, oldest first) is passed in the request; nothing about
    it needs to be stored. Items the model does not know are listed in ``ignored_items``."""
    return _service(request).next_for_session(body.items, k, rules, body.user_id)


@router.get("/recommend/similar", response_model=RecommendationList, responses=_NOT_FOUND,
            summary="Items similar to one item")
async def similar(request: Request, item_id: ItemId, rules: RulesQ, k: K = 10) -> dict:
    return _service(request).similar(item_id, k, rules)


@router.get("/recommend/trending", response_model=RecommendationList, responses=_ERRORS,
            summary="Trending now")
def trending(request: Request, rules: RulesQ, k: K = 10,
             days: Annotated[float, Query(gt=0, le=365, allow_inf_nan=False,
                                          description="the window, before the newest event")]
             = 7.0, user_id: ForUser = None) -> dict:
    """Time-decayed interactions in the window, each with its change on the window before and
    its place in its top category."""
    return _service(request).trending(k, rules, days, user_id)


@router.get("/recommend/buy-again", response_model=RecommendationList, responses=_ERRORS,
            summary="Items this user may buy again")
def buy_again(request: Request, user_id: UserId, rules: RulesQ, k: K = 10) -> dict:
    return _service(request).buy_again(user_id, k, rules)


@router.get("/recommend/bought-together", response_model=RecommendationList,
            responses=_NOT_FOUND, summary="Frequently bought together")
def bought_together(request: Request, item_id: ItemId, rules: RulesQ, k: K = 10,
                    user_id: ForUser = None) -> dict:
    """Items in the same orders as this one; for an item no order pairs yet, items bought or
    put in the cart in the same shopping sessions."""
    return _service(request).bought_together(item_id, k, rules, user_id)


@router.get("/floor", response_model=RecommendationList, responses=_ERRORS,
            summary="A stored list (the benchmark's floor)")
async def floor(request: Request) -> dict:
    """The same ten items every time, through the same auth and serialisation as the
    recommendation endpoints: what a request costs before any model runs."""
    return {"strategy": "floor", "items": _service(request).floor_list}
