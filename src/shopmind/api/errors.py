"""How errors leave the API: every one as JSON with a ``detail`` that says what to do.

Validation errors (422) list each problem with ``field`` (e.g. ``events[3].price``), ``index``
(the position in the request's batch, when there is one) and ``reason``, both for what pydantic
rejects at the edge and for what the store's own validation rejects after it.
"""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from shopmind.errors import (
    ConflictError,
    DataError,
    InputError,
    NotFittedError,
    NotFoundError,
    ShopmindError,
    StoreError,
)

__all__ = ["install_error_handlers", "input_error_response", "field_name", "query_error"]

log = logging.getLogger("shopmind.api")


def field_name(loc) -> str:
    """``("body", "events", 3, "price")`` → ``events[3].price``."""
    out = ""
    for part in loc:
        if part in ("body", "query", "path", "header") and not out:
            continue
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out


def _problem(loc, reason: str, kind: str) -> dict:
    index = next((p for p in loc if isinstance(p, int)), None)
    return {"loc": list(loc), "msg": reason, "type": kind, "field": field_name(loc),
            "index": index, "reason": reason}


def input_error_response(exc: InputError, entity: str | None, batched: bool) -> JSONResponse:
    """A store-side validation error, located in the request body."""
    if batched and entity is not None:
        loc = ["body", entity, exc.line] + ([exc.field] if exc.field else [])
    else:
        loc = ["body"] + ([exc.field] if exc.field else [])
    if not batched and entity == "orders" and exc.field in ("item_id", "quantity",
                                                            "unit_price"):
        loc = ["body", "lines", exc.field]
    status = 409 if isinstance(exc, ConflictError) else 422
    return JSONResponse({"detail": [_problem(loc, exc.reason, type(exc).__name__)]},
                        status_code=status)


def query_error(parameter: str, reason: str) -> RequestValidationError:
    """A 422 for one query parameter that a router rejects itself, raised in the same shape as
    FastAPI's own validation errors (the documented one), so the handler lists it like them."""
    return RequestValidationError([{"loc": ("query", parameter), "msg": reason,
                                    "type": "value_error"}])


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(RequestValidationError)
    async def validation(_: Request, exc: RequestValidationError):
        problems = [_problem(e.get("loc", ()), e.get("msg", "invalid"), e.get("type", "invalid"))
                    for e in exc.errors()]
        return JSONResponse({"detail": problems}, status_code=422)

    @app.exception_handler(InputError)
    async def input_error(_: Request, exc: InputError):
        return input_error_response(exc, exc.source, batched=exc.line is not None)

    @app.exception_handler(NotFoundError)
    async def not_found(_: Request, exc: NotFoundError):
        return JSONResponse({"detail": str(exc)}, status_code=404)

    @app.exception_handler(StoreError)
    async def store_error(_: Request, exc: StoreError):
        log.error("store error: %s", exc)
        return JSONResponse({"detail": "the store is not available right now; retry with the "
                             "same idempotency key"}, status_code=503,
                            headers={"Retry-After": "1"})

    @app.exception_handler(NotFittedError)
    async def not_fitted(_: Request, exc: NotFittedError):
        return JSONResponse({"detail": str(exc)}, status_code=503)

    @app.exception_handler(DataError)
    async def data_error(_: Request, exc: DataError):
        return JSONResponse({"detail": str(exc)}, status_code=422)

    @app.exception_handler(ShopmindError)
    async def shopmind_error(_: Request, exc: ShopmindError):
        return JSONResponse({"detail": str(exc)}, status_code=400)

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception):
        log.error("unexpected error on %s %s", request.method, request.url.path, exc_info=exc)
        return JSONResponse({"detail": "internal error; it has been logged"}, status_code=500)
