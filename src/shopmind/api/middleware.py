"""Two plain ASGI middlewares (no per-request task or body copy, so they cost microseconds):
a request-size limit and an access log without personal data."""

from __future__ import annotations

import json
import logging
import time

from starlette.exceptions import HTTPException

from shopmind.api.redact import redact

__all__ = ["BodyLimit", "AccessLog"]

access_log = logging.getLogger("shopmind.api.access")


class _TooLarge(HTTPException):
    """Raised while a streamed body is read; an HTTPException so the framework's body parser
    passes it on as a 413 instead of wrapping it in a 400."""

    def __init__(self, detail: str):
        super().__init__(413, detail)


async def _send_json(send, status: int, payload: dict) -> None:
    body = json.dumps(payload).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"),
                            (b"content-length", str(len(body)).encode()),
                            (b"connection", b"close")]})
    await send({"type": "http.response.body", "body": body})


class BodyLimit:
    """Answer 413 to a request whose body is larger than ``max_bytes``: at once when its
    Content-Length says so, or as soon as a streamed (chunked) body passes the limit."""

    def __init__(self, app, max_bytes: int):
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        message = {"detail": f"the request body is larger than the limit of {self.max_bytes:,} "
                             "bytes; send fewer rows per request (SHOPMIND_API_MAX_BODY_BYTES)"}
        for name, value in scope.get("headers", ()):
            if name == b"content-length":
                try:
                    too_big = int(value) > self.max_bytes
                except ValueError:
                    too_big = False
                if too_big:
                    return await _send_json(send, 413, message)
        received = 0
        started = False

        async def limited_receive():
            nonlocal received
            msg = await receive()
            if msg["type"] == "http.request":
                received += len(msg.get("body", b""))
                if received > self.max_bytes:
                    raise _TooLarge(message["detail"])
            return msg

        async def tracking_send(msg):
            nonlocal started
            if msg["type"] == "http.response.start":
                started = True
            await send(msg)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except _TooLarge:
            if not started:
                await _send_json(send, 413, message)


class AccessLog:
    """One INFO line per request: method, path (redacted; never the query string, which may
    carry ids), status, milliseconds and the API key id (never the key)."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        start = time.perf_counter()
        status = 500

        async def tracking_send(msg):
            nonlocal status
            if msg["type"] == "http.response.start":
                status = msg["status"]
            await send(msg)

        try:
            await self.app(scope, receive, tracking_send)
        finally:
            if access_log.isEnabledFor(logging.INFO):
                key = scope.get("state", {}).get("key_id", "-")
                access_log.info("%s %s %d %.1fms key=%s", scope["method"],
                                redact(scope["path"]), status,
                                (time.perf_counter() - start) * 1000, key)
