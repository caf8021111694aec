"""Review intelligence: sentiment and aspect opinions of any text, and per-product or
per-category insight (aspect distribution, praises and complaints with quotes, change over
time, what customers need) over the shop's stored reviews.

``POST /v1/reviews/analyze`` only reads: it stores nothing, so it needs the ``read`` scope
(storing reviews is ``POST /v1/reviews`` with ``ingest``).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from shopmind.api.auth import require

router = APIRouter(prefix="/v1/reviews", tags=["reviews"], dependencies=[Depends(require("read"))])

_ERRORS = {401: {"description": "no or invalid API key"},
           403: {"description": "the key lacks the 'read' scope"}}
_MAX_TEXTS = 500

ReviewText = Annotated[str, StringConstraints(min_length=1, max_length=20_000,
                                              pattern=r"^[^\x00]*$")]


class AnalyzeIn(BaseModel):
    """One review (``text``) or several (``texts``), Chinese or English; optionally the
    reviewed product's category: ``category`` for all of them or ``categories``, one per text
    (a trained model reads words in its light: 「小」 praises a phone, blames a hotel room)."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={
        "examples": [{"text": "商品质量不错，物流速度很快，但客服服务态度一般"}]})
    text: ReviewText | None = None
    texts: Annotated[list[ReviewText], Field(min_length=1, max_length=_MAX_TEXTS)] | None = None
    category: Annotated[str, StringConstraints(max_length=1000)] | None = None
    categories: list[Annotated[str, StringConstraints(max_length=1000)] | None] | None = None
    terms: Annotated[list[Annotated[str, StringConstraints(
        strip_whitespace=True, min_length=1, max_length=200, pattern=r"^[^\x00]*$")]],
        Field(min_length=1, max_length=50, description="aspect terms to judge in every review "
              "('battery', '电池'), or taxonomy aspects by name ('quality'): each one a review "
              "speaks of is judged by the aspect-term model trained on the shop's annotated "
              "reviews where it judged them better, else by the sentiment of its clause (of the "
              "review, when that clause holds no opinion)")
    ] | None = None

    @model_validator(mode="after")
    def _one_of(self) -> AnalyzeIn:
        if (self.text is None) == (self.texts is None):
            raise ValueError("give exactly one of 'text' (one review) or 'texts' (a list of "
                             f"up to {_MAX_TEXTS})")
        if self.categories is not None:
            if self.category is not None:
                raise ValueError("give 'category' (one for every text) or 'categories' (one "
                                 "per text), not both")
            if len(self.categories) != len(self.all_texts()):
                raise ValueError(f"'categories' has {len(self.categories)} entries for "
                                 f"{len(self.all_texts())} texts; give one per text (null "
                                 "where unknown)")
        return self

    def all_texts(self) -> list[str]:
        return [self.text] if self.text is not None else list(self.texts or [])

    def all_categories(self) -> list[str | None] | None:
        if self.category is not None:
            return [self.category] * len(self.all_texts())
        return self.categories


class AspectOpinion(BaseModel):
    aspect: str
    polarity: Literal["positive", "neutral", "negative"]
    score: float = Field(description="-1 (negative) … 1 (positive)")
    strength: float = Field(description="0 … 1")
    evidence: str = Field(description="the words that justify it: text[start:end]")
    start: int
    end: int
    terms: list[str] = Field(description="the words that name the aspect")
    opinions: list[str] = Field(description="the words that carry the opinion")


class ClauseOut(BaseModel):
    text: str
    start: int
    end: int
    polarity: str
    score: float
    aspects: list[str]


class TermOut(BaseModel):
    term: str
    polarity: Literal["positive", "neutral", "negative"]
    score: float = Field(description="-1 (negative) … 1 (positive)")
    evidence: str = Field(description="the clause that holds the term (the review, when the "
                          "lexicon judged and that clause holds no opinion); for an aspect asked "
                          "by name, what the review says of it; for a category the trained "
                          "model learned, the review")
    start: int = Field(description="text[start:end] is the term as written, or for an aspect "
                       "asked by name the evidence")
    end: int


class Analysis(BaseModel):
    text: str
    language: str | None
    polarity: Literal["positive", "neutral", "negative"]
    score: float = Field(description="P(positive) - P(negative)")
    proba: dict[str, float]
    clauses: list[ClauseOut]
    aspects: list[AspectOpinion]
    terms: list[TermOut] = Field(default_factory=list, description="the asked terms the "
                                 "review speaks of")


class ModelRef(BaseModel):
    capability: str
    version: int
    name: str
    trained_at: float


class AnalyzeOut(BaseModel):
    results: list[Analysis]
    model: ModelRef | None = Field(None, description="the trained analyzer serving; null "
                                   "when none is trained (the lexicon alone answers)")


class AspectStat(BaseModel):
    aspect: str
    label: str
    mentions: int
    positive: int
    neutral: int
    negative: int
    share_positive: float
    share_negative: float
    net: float = Field(description="(positive - negative) / mentions")
    mean_score: float


class Quote(BaseModel):
    model_config = ConfigDict(extra="allow")
    text: str
    strength: float | None = None
    review_id: str | None = None


class Highlight(BaseModel):
    aspect: str
    label: str
    mentions: int
    share: float
    quotes: list[Quote]


class TrendPoint(BaseModel):
    period: str
    reviews: int
    mentions: int
    mean_score: float | None
    aspects: dict[str, dict[str, float]]


class Change(BaseModel):
    model_config = ConfigDict(extra="allow")
    aspect: str
    label: str
    before: float
    after: float
    direction: str


class Need(BaseModel):
    aspect: str
    need: str
    negative_share: float
    mentions: int


class Insight(BaseModel):
    scope: dict[str, str]
    n_reviews: int
    language: str
    time_range: dict[str, str] | None
    sentiment: dict[str, float]
    rating: dict[str, Any] | None
    aspects: list[AspectStat]
    praises: list[Highlight]
    complaints: list[Highlight]
    trend: list[TrendPoint] = Field(description="per period: reviews, mean sentiment and each "
                                    "aspect's net opinion")
    changes: list[Change] = Field(description="aspects whose opinion moved between the first "
                                  "and the second half of the time range")
    needs: list[Need]
    summary: str
    model: ModelRef | None = None


@router.post("/analyze", response_model=AnalyzeOut, responses=_ERRORS,
             summary="Sentiment and aspect opinions of reviews")
def analyze(request: Request, body: AnalyzeIn) -> dict:
    """Per review: polarity with a calibrated score, clause sentiment, and each aspect
    (quality, logistics, customer service, price, …) with polarity, strength and evidence."""
    return request.app.state.service.intelligence.analyze(body.all_texts(),
                                                          body.all_categories(), body.terms)


@router.get("/insight", response_model=Insight,
            responses={**_ERRORS, 404: {"description": "unknown item or category, or no reviews"}},
            summary="What customers praise, complain about and need")
def insight(
    request: Request,
    item_id: Annotated[str | None, Query(min_length=1, max_length=255, pattern=r"^[^\x00]+$",
                                         description="one product")] = None,
    category: Annotated[str | None, Query(min_length=1, max_length=255, pattern=r"^[^\x00]+$",
                                          description="a category path prefix ('服装', "
                                          "'Electronics > Audio') or any level's name")] = None,
    period: Annotated[Literal["day", "week", "month", "quarter"],
                      Query(description="the buckets of the trend")] = "month",
) -> dict:
    """Over the stored reviews of one item or one category: aspect sentiment distribution, top
    praises and complaints with representative quotes, change over time, and a short summary
    of what customers need."""
    if (item_id is None) == (category is None):
        from fastapi.exceptions import RequestValidationError

        raise RequestValidationError([{
            "loc": ("query", "item_id" if item_id is None else "category"),
            "msg": "give exactly one of item_id or category", "type": "value_error"}])
    return request.app.state.service.intelligence.insight(item_id, category, period)


class ReviewedItem(BaseModel):
    item_id: str
    title: str | None
    reviews: int


@router.get("/items", response_model=list[ReviewedItem], responses=_ERRORS,
            summary="The items with the most reviews")
def reviewed_items(request: Request,
                   limit: Annotated[int, Query(ge=1, le=500)] = 20) -> list[dict]:
    return request.app.state.service.intelligence.reviewed_items(limit)
