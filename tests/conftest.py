"""Shared fixtures: a fresh store on SQLite and, when SHOPMIND_TEST_PG_URL is set, on PostgreSQL;
the demo shop served live and a headless Chromium page on it, for the dashboard tests."""

from __future__ import annotations

import os
import shutil
import uuid
from contextlib import contextmanager
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


# ------------------------------------------------------------------ the dashboard in a browser
# Debian's /usr/bin/chromium driven by Playwright; `.ci/run` installs both. Screenshots go to
# $SHOPMIND_SCREENSHOTS when set, else to a temporary folder.

CHROMIUM = os.environ.get("SHOPMIND_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync"]


def _why_no_browser() -> str | None:
    """Why the browser tests cannot run on this machine; None when they can."""
    if not Path(CHROMIUM).exists():
        return (f"Chromium not found at {CHROMIUM} (Debian: apt-get install -y chromium; "
                ".ci/run installs it)")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "needs the dev extra (playwright)"
    return None


def pytest_collection_modifyitems(items):
    """Skip the tests that ask for the `browser` where it cannot start, before their (slow)
    fixtures are built."""
    wanting = [item for item in items if "browser" in getattr(item, "fixturenames", ())]
    reason = _why_no_browser() if wanting else None  # looked up only when a test needs it
    if reason:
        for item in wanting:
            item.add_marker(pytest.mark.skip(reason=reason))


@pytest.fixture(scope="module")
def serve_demo_shop(tmp_path_factory):
    """Serves a fresh copy of the trained demo shop from a live server, for the browser tests:
    ``with serve_demo_shop(prepare) as (server, token, store, prepared)``. ``prepare(store,
    settings)``, when given, runs before the app starts and its result is ``prepared``;
    ``token`` is an admin key."""
    # Imported here: the API is heavy, and most tests never start a server.
    from shopmind.api import create_app
    from shopmind.api.testing import ServerThread, copy_shop, demo_shop_template

    @contextmanager
    def serve(prepare=None):
        template = demo_shop_template(tmp_path_factory.getbasetemp())
        settings = copy_shop(template, tmp_path_factory.mktemp("dash") / "shop")
        store = Store(settings=settings)
        prepared = prepare(store, settings) if prepare else None
        app = create_app(settings, store, trainer="inline")
        token, _ = app.state.service.keys.create(["admin"], name="browser")
        with ServerThread(app) as server:
            yield server, token, store, prepared
        store.close()

    return serve


@pytest.fixture(scope="module")
def screenshots(tmp_path_factory) -> Path:
    folder = Path(os.environ.get("SHOPMIND_SCREENSHOTS") or tmp_path_factory.mktemp("shots"))
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture(scope="module")
def browser(shop, tmp_path_factory):
    """(page, external, errors): a Chromium page for the server of the test module's ``shop``
    fixture (its first element), kept for the whole module. Every request outside that server
    is blocked and its address added to ``external``; the page's script errors go to
    ``errors`` (a test expects both empty)."""
    from playwright.sync_api import sync_playwright

    server = shop[0]
    external: list[str] = []
    with sync_playwright() as p:
        context = p.chromium.launch_persistent_context(
            str(tmp_path_factory.mktemp("chromium-profile")), executable_path=CHROMIUM,
            headless=True, args=CHROMIUM_ARGS, viewport={"width": 1440, "height": 1000})

        def guard(route):
            if route.request.url.startswith(server.url) or route.request.url.startswith("data:"):
                route.continue_()
            else:
                external.append(route.request.url)
                route.abort()

        context.route("**/*", guard)
        page = context.pages[0] if context.pages else context.new_page()
        page.set_default_timeout(20_000)
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        yield page, external, errors
        context.close()
