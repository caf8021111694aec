"""Response bodies of the profile, segment and propensity endpoints (pydantic v2)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from shopmind.api.schemas import ModelRef

__all__ = ["NamedShare", "UserProfileOut", "SegmentOut", "SegmentsOut", "ItemPropensity",
           "PropensityOut"]


class NamedShare(BaseModel):
    name: str = Field(description="a category or brand as the catalog names it")
    share: float = Field(ge=0, le=1, description="share of the user's weighted events")


class UserProfileOut(BaseModel):
    user_id: str
    favourite_categories: list[NamedShare]
    favourite_brands: list[NamedShare]
    price_band: Literal["budget", "mid", "premium"] | None = Field(
        description="where the items the user touches sit in their category's price range")
    price_index: float | None = Field(description="0 cheapest … 1 dearest within category")
    activity: Literal["low", "medium", "high"]
    lifecycle: Literal["new", "active", "at-risk", "churned"]
    recency_days: float = Field(description="days since the user's last event")
    active_days: int = Field(description="days with at least one event")
    monetary: float = Field(description="value of the user's purchases")
    segment: int
    segment_name: str
    embedding: list[float] | None = Field(
        None, description="the user's embedding (with include_embedding=true)")
    model: ModelRef


class SegmentOut(BaseModel):
    segment: int
    size: int
    name: str
    favourite_categories: list[NamedShare]
    lifecycle: str
    activity: str
    price_band: str | None
    lifecycle_mix: dict[str, int]
    mean_recency_days: float | None
    mean_active_days: float | None
    mean_monetary: float | None


class SegmentsOut(BaseModel):
    segments: list[SegmentOut]
    model: ModelRef


class ItemPropensity(BaseModel):
    item_id: str
    probability: float = Field(ge=0, le=1)


class PropensityOut(BaseModel):
    user_id: str
    target: Literal["purchase", "click"]
    horizon_days: float
    known_user: bool = Field(description="false: scored as a new user (no history)")
    items: list[ItemPropensity]
    model: ModelRef
