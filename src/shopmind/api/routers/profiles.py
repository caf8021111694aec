"""User profiles (用户画像), customer segments and purchase / click propensity.

Served from the registry's ``profiles`` and ``propensity-*`` versions (trained by
``shopmind demo`` and :func:`shopmind.engine_profiles.train_profiles_and_propensity`); before
any is trained these endpoints answer 503 and say how to train one.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Path, Query, Request

from shopmind.api.auth import require
from shopmind.api.errors import query_error
from shopmind.api.profile_schemas import PropensityOut, SegmentsOut, UserProfileOut
from shopmind.api.profiles_models import profile_models

router = APIRouter(prefix="/v1", tags=["profiles"], dependencies=[Depends(require("read"))])

_ERRORS = {401: {"description": "no or invalid API key"},
           403: {"description": "the key lacks the 'read' scope"},
           503: {"description": "no model of this kind is trained yet"}}
_MAX_ITEMS = 1000


def _ref(version) -> dict:
    return {"capability": version.capability, "version": version.version,
            "name": version.model, "trained_at": version.trained_at}


@router.get("/users/{user_id}/profile", response_model=UserProfileOut,
            responses={**_ERRORS, 404: {"description": "no profile for this user"}},
            summary="A user's profile: tags, lifecycle, segment")
def user_profile(request: Request,
                 user_id: Annotated[str, Path(min_length=1, max_length=255,
                                              pattern=r"^[^\x00]+$")],
                 include_embedding: bool = False) -> dict:
    """Favourite categories and brands, price band, activity level, lifecycle stage
    (new / active / at-risk / churned), recency-frequency-monetary values and segment."""
    version, profiles = profile_models(request.app).profiles()
    profile = profiles.profile(user_id)
    segment = next(s for s in profiles.segments() if s["segment"] == profile["segment"])
    embedding = profile.pop("embedding")
    return {**profile, "user_id": str(profile["user_id"]), "segment_name": segment["name"],
            "embedding": embedding if include_embedding else None, "model": _ref(version)}


@router.get("/segments", response_model=SegmentsOut, responses=_ERRORS,
            summary="Customer segments and what characterises each")
def segments(request: Request) -> dict:
    version, profiles = profile_models(request.app).profiles()
    return {"segments": profiles.segments(), "model": _ref(version)}


@router.get("/propensity", response_model=PropensityOut,
            responses={**_ERRORS, 404: {"description": "an item the model does not know"}},
            summary="Probability that a user buys (or clicks) each item")
def propensity(request: Request,
               user_id: Annotated[str, Query(min_length=1, max_length=255,
                                             pattern=r"^[^\x00]+$")],
               item_ids: Annotated[list[str], Query(
                   min_length=1, description="item ids: repeat the parameter or separate them "
                   "with commas (at most 1000)")],
               target: Literal["purchase", "click"] = "purchase") -> dict:
    """A calibrated probability per item that the user does ``target`` on it within the
    model's horizon. Users without history are scored as new users (``known_user: false``)."""
    wanted = [i.strip() for raw in item_ids for i in raw.split(",") if i.strip()]
    if not wanted:
        raise query_error("item_ids", "give at least one item id")
    if len(wanted) > _MAX_ITEMS:
        raise query_error("item_ids", f"at most {_MAX_ITEMS} items per request, got {len(wanted)}")
    version, model = profile_models(request.app).propensity(target)
    probabilities = model.predict_proba(user_id, wanted)
    known = bool(model.snapshot_.user_index([user_id])[0] >= 0)
    return {"user_id": user_id, "target": target, "horizon_days": model.horizon_days,
            "known_user": known, "model": _ref(version),
            "items": [{"item_id": i, "probability": float(p)}
                      for i, p in zip(wanted, probabilities)]}
