"""API keys with scopes, stored hashed.

A key looks like ``sm_<key id>_<secret>``. The store keeps the key id (public, shown in lists
and logs), the SHA-256 of the whole key and its scopes; the key itself is shown once, when it is
created (``shopmind keys create --scope read``). A random 256-bit secret needs no slow password
hash: nobody can guess it, so the hash only has to keep a stolen table from being usable.

Scopes: ``read`` (recommendations, shop statistics, model status), ``ingest`` (writing data),
``admin`` (everything, including retraining). Requests without a valid key get 401, with a key
that lacks the scope 403.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time
from dataclasses import dataclass

from fastapi import Depends, HTTPException, Request, Security
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import select

from shopmind.data import schema
from shopmind.errors import ConfigError, NotFoundError

__all__ = ["SCOPES", "ApiKey", "KeyStore", "create_key", "current_key", "require"]

SCOPES = ("admin", "ingest", "read")
_PREFIX = "sm_"


@dataclass(frozen=True)
class ApiKey:
    key_id: str
    scopes: frozenset[str]
    name: str | None = None
    created_at: float = 0.0
    revoked_at: float | None = None

    def allows(self, scope: str) -> bool:
        return "admin" in self.scopes or scope in self.scopes


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _split(token: str) -> tuple[str, str] | None:
    if not token.startswith(_PREFIX):
        return None
    parts = token[len(_PREFIX):].split("_", 1)
    if len(parts) != 2 or not parts[0] or not parts[1]:
        return None
    return parts[0], parts[1]


class KeyStore:
    """API keys in the store's ``api_keys`` table, with a short in-memory cache for checks.

    >>> import tempfile
    >>> from shopmind.data.store import Store
    >>> keys = KeyStore(Store(f"sqlite:///{tempfile.mkdtemp()}/k.db"))
    >>> token, key = keys.create(["read"], name="docs")
    >>> keys.verify(token).allows("read"), keys.verify(token).allows("ingest")
    (True, False)
    >>> keys.verify(token + "x") is None
    True
    """

    def __init__(self, store, cache_seconds: float = 10.0):
        self.store = store
        self.cache_seconds = cache_seconds
        self._cache: dict[str, tuple[float, str | None, ApiKey | None]] = {}
        self._lock = threading.Lock()

    def create(self, scopes, name: str | None = None) -> tuple[str, ApiKey]:
        """A new key with ``scopes``; returns (the key, shown only now; its record)."""
        scopes = sorted({s.strip().lower() for s in scopes if s and s.strip()})
        if not scopes:
            raise ConfigError(f"a key needs at least one scope ({', '.join(SCOPES)})")
        unknown = [s for s in scopes if s not in SCOPES]
        if unknown:
            raise ConfigError(f"unknown scope {unknown[0]!r}; scopes are {', '.join(SCOPES)}")
        key_id = secrets.token_hex(6)
        token = f"{_PREFIX}{key_id}_{secrets.token_urlsafe(32)}"
        now = time.time()
        with self.store.engine.begin() as conn:
            conn.execute(schema.api_keys.insert().values(
                key_id=key_id, secret_hash=_hash(token), scopes=",".join(scopes), name=name,
                created_at=now))
        return token, ApiKey(key_id, frozenset(scopes), name, now)

    def list(self) -> list[ApiKey]:
        t = schema.api_keys
        with self.store.engine.connect() as conn:
            rows = conn.execute(select(t).order_by(t.c.created_at)).mappings().all()
        return [_record(r) for r in rows]

    def revoke(self, key_id: str) -> ApiKey:
        t = schema.api_keys
        with self.store.engine.begin() as conn:
            done = conn.execute(t.update().where(t.c.key_id == key_id)
                                .where(t.c.revoked_at.is_(None))
                                .values(revoked_at=time.time())).rowcount
        if not done and not any(k.key_id == key_id for k in self.list()):
            raise NotFoundError(f"no API key with id {key_id!r} (see `shopmind keys list`)")
        with self._lock:
            self._cache.pop(key_id, None)
        return next(k for k in self.list() if k.key_id == key_id)

    def revoke_named(self, name: str) -> int:
        """Revoke every active key called ``name`` (e.g. the previous dashboard key)."""
        t = schema.api_keys
        with self.store.engine.begin() as conn:
            n = conn.execute(t.update().where(t.c.name == name).where(t.c.revoked_at.is_(None))
                             .values(revoked_at=time.time())).rowcount
        with self._lock:
            self._cache.clear()
        return n

    def verify(self, token: str | None) -> ApiKey | None:
        """The active key ``token`` is, or None (unknown, wrong secret or revoked)."""
        if not token:
            return None
        parts = _split(token.strip())
        if parts is None:
            return None
        key_id = parts[0]
        now = time.monotonic()
        with self._lock:
            cached = self._cache.get(key_id)
        if cached is None or now - cached[0] > self.cache_seconds:
            t = schema.api_keys
            with self.store.engine.connect() as conn:
                row = conn.execute(select(t).where(t.c.key_id == key_id)).mappings().first()
            cached = (now, row["secret_hash"] if row else None, _record(row) if row else None)
            with self._lock:
                if len(self._cache) > 10_000:  # unknown ids cannot grow it without bound
                    self._cache.clear()
                self._cache[key_id] = cached
        _, digest, key = cached
        if digest is None or key is None or key.revoked_at is not None:
            return None
        if not hmac.compare_digest(digest, _hash(token.strip())):
            return None
        return key


def _record(row) -> ApiKey:
    return ApiKey(row["key_id"], frozenset(row["scopes"].split(",")), row["name"],
                  row["created_at"], row["revoked_at"])


def create_key(store, scopes, name: str | None = None) -> tuple[str, ApiKey]:
    return KeyStore(store).create(scopes, name)


_bearer = HTTPBearer(auto_error=False, description="`Authorization: Bearer sm_…`")
_header = APIKeyHeader(name="X-API-Key", auto_error=False, description="or `X-API-Key: sm_…`")


async def current_key(request: Request,
                       bearer: HTTPAuthorizationCredentials | None = Security(_bearer),
                       header: str | None = Security(_header)) -> ApiKey:
    # async: a cached check costs microseconds, not worth a thread hop; a cache miss reads
    # one row by primary key.
    token = bearer.credentials if bearer is not None else header
    if not token:
        raise HTTPException(401, "an API key is required: send `Authorization: Bearer <key>` "
                            "(create one with `shopmind keys create --scope read`)",
                            headers={"WWW-Authenticate": "Bearer"})
    key = request.app.state.service.keys.verify(token)
    if key is None:
        raise HTTPException(401, "this API key is not valid (unknown, revoked or mistyped)",
                            headers={"WWW-Authenticate": "Bearer"})
    request.state.key_id = key.key_id
    return key


def require(scope: str):
    """A dependency that lets a request through only with a key holding ``scope`` (or admin)."""
    if scope not in SCOPES:
        raise ValueError(f"unknown scope {scope!r}")

    async def check(key: ApiKey = Depends(current_key)) -> ApiKey:
        if not key.allows(scope):
            raise HTTPException(403, f"this API key (id {key.key_id}) has the scopes "
                                f"{', '.join(sorted(key.scopes))}; this needs '{scope}'")
        return key

    check.__name__ = f"require_{scope}"
    return check
