"""Shared fixtures: a fresh store on SQLite and, when SHOPMIND_TEST_PG_URL is set, on PostgreSQL."""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from shopmind.config import Settings
from shopmind.data.store import Store

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
PG_URL = os.environ.get("SHOPMIND_TEST_PG_URL")


def _pg_engine_url(url: str) -> str:
    return "postgresql+psycopg://" + url.split("://", 1)[1] if url.startswith("postgres") \
        else url


@pytest.fixture
def settings(tmp_path) -> Settings:
    return Settings(data_dir=tmp_path / "shopmind-data")


@pytest.fixture(params=["sqlite", "postgres"])
def store(request, settings, tmp_path):
    """An empty store; the PostgreSQL variant lives in a schema of its own, dropped afterwards."""
    if request.param == "sqlite":
        s = Store(f"sqlite:///{tmp_path}/store.db", settings=settings)
        yield s
        s.close()
        return
    if not PG_URL:
        pytest.skip("PostgreSQL tests need SHOPMIND_TEST_PG_URL (e.g. "
                    "postgresql://postgres@127.0.0.1:5432/test); .ci/run sets it")
    schema_name = "t_" + uuid.uuid4().hex[:12]
    admin = create_engine(_pg_engine_url(PG_URL))
    with admin.begin() as conn:
        conn.execute(text(f"CREATE SCHEMA {schema_name}"))
    sep = "&" if "?" in PG_URL else "?"
    s = Store(f"{PG_URL}{sep}options=-csearch_path%3D{schema_name}", settings=settings)
    yield s
    s.close()
    with admin.begin() as conn:
        conn.execute(text(f"DROP SCHEMA {schema_name} CASCADE"))
    admin.dispose()


@pytest.fixture
def shared_data() -> Path:
    if not SHARED_DATA.is_dir():
        pytest.skip(f"real datasets not found at {SHARED_DATA}")
    return SHARED_DATA


def _snapshot(store) -> dict:
    """Every row of every table, to prove that a failed write changed nothing."""
    return {name: store.read_table(name).to_json() for name in
            ("items", "users", "events", "reviews", "orders", "order_lines")}


@pytest.fixture
def snapshot():
    return _snapshot
