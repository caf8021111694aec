"""The FastAPI app: routers, auth, limits, error handling, the dashboard, offline API docs.

``create_app()`` builds it from the settings (``SHOPMIND_*``); ``shopmind serve`` runs it with
uvicorn. API docs: ``/docs`` (Swagger UI) and ``/redoc``, both served from this machine.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles
from fastapi_offline import FastAPIOffline

from shopmind.api import routers
from shopmind.api.errors import install_error_handlers
from shopmind.api.middleware import AccessLog, BodyLimit
from shopmind.api.redact import install_redaction
from shopmind.api.service import Service
from shopmind.config import Settings, get_settings
from shopmind.registry import ModelRegistry

__all__ = ["create_app", "STATIC_DIR"]

STATIC_DIR = Path(__file__).parent / "static"

_DESCRIPTION = """\
The shopmind service: ingest a shop's data, get recommendations with reasons, watch models.

Authenticate with an API key: `Authorization: Bearer sm_…` (or `X-API-Key`). Create one with
`shopmind keys create --scope read` (scopes: `read`, `ingest`, `admin`).

The dashboard is at [/](/).
"""


def create_app(settings: Settings | None = None, store=None, *,
               registry: ModelRegistry | None = None, trainer: str | Callable = "process",
               background: bool = True) -> FastAPI:
    """The app for one shop. ``trainer`` and ``background`` are for tests (see
    :class:`~shopmind.api.service.Service`)."""
    from importlib.metadata import PackageNotFoundError, version

    from shopmind.data.store import Store

    try:
        __version__ = version("shopmind")
    except PackageNotFoundError:  # pragma: no cover - running from a bare checkout
        __version__ = "0+unknown"

    settings = settings or get_settings()
    store = store or Store(settings=settings)
    service = Service(settings, store, registry, trainer=trainer, background=background)

    @asynccontextmanager
    async def lifespan(_app: FastAPI):
        install_redaction()
        service.start()
        try:
            yield
        finally:
            service.stop()

    app = FastAPIOffline(title="shopmind", version=__version__, description=_DESCRIPTION,
                         lifespan=lifespan, static_url="/docs-assets")
    app.state.service = service
    app.add_middleware(BodyLimit, max_bytes=settings.api_max_body_bytes)
    app.add_middleware(AccessLog)
    install_error_handlers(app)
    for module in (routers.ingest, routers.recommend, routers.models, routers.shop,
                   routers.search, routers.reviews, routers.profiles):
        app.include_router(module.router)

    @app.get("/health", tags=["service"], summary="Liveness (no key needed)")
    async def health() -> dict:
        live = service.live
        return {"status": "ok",
                "serving": None if live is None or live.version is None
                else {"capability": live.version.capability, "version": live.version.version,
                      "model": live.version.model}}

    app.mount("/assets", StaticFiles(directory=STATIC_DIR), name="dashboard-assets")

    @app.get("/", include_in_schema=False)
    def dashboard() -> FileResponse:
        return FileResponse(STATIC_DIR / "index.html", headers={"Cache-Control": "no-cache"})

    return app
