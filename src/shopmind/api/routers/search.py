"""Product search: hybrid keyword + semantic ranking in Chinese and English, business filters,
facet counts, the predicted category, autocomplete, and personal re-ranking for a known user.

Items ingested through ``/v1/items`` are searchable at once (the index is updated in place).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, Field

from shopmind.api.auth import require

router = APIRouter(prefix="/v1/search", tags=["search"], dependencies=[Depends(require("read"))])

_ERRORS = {401: {"description": "no or invalid API key"},
           403: {"description": "the key lacks the 'read' scope"},
           503: {"description": "no search model serves yet"}}

_TEXT = r"^[^\x00]*$"


class SearchHit(BaseModel):
    item_id: str
    title: str | None
    score: float
    category: str | None = None
    brand: str | None = None
    price: float | None = None
    stock: int | None = None


class CategoryIntent(BaseModel):
    category: str
    probability: float


class SearchModelRef(BaseModel):
    capability: str
    version: int
    name: str
    trained_at: float


class SearchResults(BaseModel):
    query: str
    corrected: str | None = Field(None, description="the spelling-corrected query, when the "
                                  "search corrected it")
    stage: str = Field(description="what found the results: keyword, fuzzy (typo-tolerant "
                       "character n-grams), semantic, or browse (empty query)")
    total: int = Field(description="how many items match (with the filters)")
    items: list[SearchHit]
    intent: list[CategoryIntent] = Field(description="the likeliest categories of the query")
    facets: dict[str, dict[str, int]] = Field(
        description="counts per category (one level below the category filter), brand, price "
        "bucket and stock; each facet ignores its own filter, so other choices stay visible")
    personalised: bool = Field(description="true when the user's taste reordered close calls")
    user_id: str | None = None
    model: SearchModelRef | None = None


class Suggestions(BaseModel):
    query: str
    suggestions: list[str]


def _problem(field: str, reason: str) -> RequestValidationError:
    return RequestValidationError([{"loc": ("query", field), "msg": reason,
                                    "type": "value_error"}])


@router.get("", response_model=SearchResults, responses=_ERRORS, summary="Search the catalog")
def search(
    request: Request,
    q: Annotated[str, Query(max_length=500, pattern=_TEXT,
                            description="what the shopper typed (Chinese, English or mixed); "
                            "empty browses the filtered catalog")] = "",
    user_id: Annotated[str | None, Query(max_length=255, pattern=_TEXT,
                                         description="personalise for this user")] = None,
    category: Annotated[str | None, Query(max_length=255, pattern=_TEXT,
                                          description="category path prefix, e.g. "
                                          "'数码' or 'Electronics > Audio'")] = None,
    brand: Annotated[list[str] | None, Query(max_length=20, description="brand (repeat for "
                                                                        "several)")] = None,
    min_price: Annotated[float | None, Query(ge=0, le=1e12, allow_inf_nan=False)] = None,
    max_price: Annotated[float | None, Query(ge=0, le=1e12, allow_inf_nan=False)] = None,
    in_stock: Annotated[bool, Query(description="only items in stock")] = False,
    k: Annotated[int, Query(ge=1, le=100, description="how many results")] = 10,
) -> dict[str, Any]:
    """Hybrid keyword + semantic search with typo tolerance and synonyms. ``facets`` and
    ``intent`` help build a results page; ``corrected`` says when a misspelling was fixed."""
    if min_price is not None and max_price is not None and min_price > max_price:
        raise _problem("min_price", f"min_price {min_price:g} is above max_price "
                       f"{max_price:g}; swap them")
    brands = [b for b in (brand or []) if b.strip()]
    if any(len(b) > 255 or "\x00" in b for b in brands):
        raise _problem("brand", "a brand is at most 255 characters, without NUL")
    filters = {"category": category or None, "brand": brands or None,
               "price": (min_price, max_price), "in_stock": in_stock}
    return request.app.state.service.intelligence.search(q, k, filters, user_id or None)


@router.get("/suggest", response_model=Suggestions, responses=_ERRORS,
            summary="Autocomplete a query")
def suggest(
    request: Request,
    q: Annotated[str, Query(max_length=200, pattern=_TEXT,
                            description="what the shopper has typed so far")],
    k: Annotated[int, Query(ge=1, le=20)] = 8,
) -> dict[str, Any]:
    """Completions from the shop's past queries and its catalog (titles, brands, categories)."""
    return request.app.state.service.intelligence.suggest(q, k)
