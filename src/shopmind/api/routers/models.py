"""Model status (which version serves, its offline metrics, when trained) and retraining."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse

from shopmind.api.auth import require
from shopmind.api.schemas import ModelsStatus, ModelVersionOut, RetrainAccepted
from shopmind.errors import NotFoundError

router = APIRouter(prefix="/v1/models", tags=["models"])

_ERRORS = {401: {"description": "no or invalid API key"},
           403: {"description": "the key lacks the scope"}}


@router.get("", response_model=ModelsStatus, responses=_ERRORS,
            dependencies=[Depends(require("read"))], summary="What serves, and how good it is")
def status(request: Request) -> dict:
    return request.app.state.service.models_status()


@router.get("/{capability}/versions", response_model=list[ModelVersionOut],
            responses={**_ERRORS, 404: {"description": "unknown capability"}},
            dependencies=[Depends(require("read"))], summary="Every stored version")
def versions(request: Request, capability: str) -> list[dict]:
    registry = request.app.state.service.registry
    if capability not in registry.capabilities():
        raise NotFoundError(f"no models for {capability!r}; known: "
                            f"{', '.join(registry.capabilities()) or 'none yet'}")
    serving = registry.serving_version(capability)
    return [{**v.as_dict(), "serving": v.version == serving}
            for v in registry.versions(capability)]


@router.post("/retrain", response_model=RetrainAccepted, status_code=202,
             responses={**_ERRORS, 409: {"description": "a training run is already running"}},
             dependencies=[Depends(require("admin"))], summary="Train new versions now")
def trigger_retrain(request: Request):
    """Starts a training run in the background. Its versions serve only if their offline
    metrics are not worse than the serving version's; follow it on ``GET /v1/models``."""
    started, detail = request.app.state.service.request_retrain("requested through the API")
    if not started:
        return JSONResponse({"started": False, "detail": detail}, status_code=409)
    return {"started": True, "detail": detail}
