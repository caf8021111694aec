"""The dashboard end to end in headless Chromium (Debian's /usr/bin/chromium driven by Playwright):
pages load, charts are drawn, a click changes the next-item predictions, screenshots are saved.

Skips when Chromium or Playwright is missing locally; `.ci/run` installs Chromium. The browser,
server and screenshot fixtures are shared with test_dashboard_intelligence.py (conftest.py).
Screenshots go to $SHOPMIND_SCREENSHOTS when set, else to the test's temporary folder. Every
request the browser makes outside the test server is blocked and counted (there must be none).
"""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def shop(serve_demo_shop):
    with serve_demo_shop() as (server, token, store, _):
        yield server, token, store


def test_overview(shop, browser, screenshots):
    server, token, store = shop
    page, external, errors = browser
    page.goto(f"{server.url}/#key={token}")
    page.wait_for_selector("[data-testid=counts] .card >> nth=4")
    assert "key=" not in page.url  # the key left the address bar
    users = page.inner_text("[data-testid=counts] .card[data-what=users] .n")
    assert users == f"{store.counts()['users']:,}"
    page.wait_for_selector("[data-testid=chart-activity] path.series")
    assert page.locator("[data-testid=chart-activity] path.series").count() >= 4
    assert page.locator("[data-testid=chart-types] rect.bar").count() >= 5
    assert page.locator("[data-testid=trending] li").count() == 8
    assert "admin" in page.inner_text("[data-testid=key-status]")
    page.screenshot(path=str(screenshots / "overview.png"), full_page=True)
    assert not external and not errors


def test_models(shop, browser, screenshots):
    server, _, _ = shop
    page, external, errors = browser
    page.goto(f"{server.url}/#/models")
    page.wait_for_selector("[data-testid=chart-metrics] rect.bar >> nth=8")  # 3 models × 3
    assert "Serving:" in page.inner_text("[data-testid=serving]")
    assert page.locator("[data-testid=chart-history] path.series").count() >= 3
    # The run list is drawn after a second round of requests (the other capabilities' versions).
    page.wait_for_selector("[data-testid=runs] li")
    page.screenshot(path=str(screenshots / "models.png"), full_page=True)
    assert not external and not errors


def _ids(page, testid: str) -> list[str]:
    return page.eval_on_selector_all(f"[data-testid={testid}] li[data-item]",
                                     "nodes => nodes.map(n => n.dataset.item)")


def test_try_it_a_click_changes_the_next_items(shop, browser, screenshots):
    server, _, store = shop
    page, external, errors = browser
    page.goto(f"{server.url}/#/try")
    page.wait_for_selector("[data-testid=for-you] li[data-item] >> nth=7")
    page.wait_for_selector("[data-testid=next-up] li[data-item]")
    before = _ids(page, "next-up")
    events_before = store.counts()["events"]
    clicked = _ids(page, "for-you")[0]
    page.click(f"[data-testid=for-you] li[data-item='{clicked}']")
    page.wait_for_function(
        "before => { const ids = [...document.querySelectorAll("
        "'[data-testid=next-up] li[data-item]')].map(n => n.dataset.item);"
        " return ids.length && ids.join() !== before.join(); }", arg=before)
    after = _ids(page, "next-up")
    assert after != before and clicked not in after
    assert "recorded" in page.inner_text("[data-testid=live-note]")
    assert store.counts()["events"] == events_before + 1  # the click was ingested
    reasons = page.inner_text("[data-testid=next-up]")
    assert "often comes next after" in reasons
    # A second click (on a prediction) changes them again.
    page.click(f"[data-testid=next-up] li[data-item='{after[0]}']")
    page.wait_for_function(
        "before => { const ids = [...document.querySelectorAll("
        "'[data-testid=next-up] li[data-item]')].map(n => n.dataset.item);"
        " return ids.length && ids.join() !== before.join(); }", arg=after)
    page.screenshot(path=str(screenshots / "try-it.png"), full_page=True, animations="disabled")
    # Business rules from the form reach the API.
    page.check("#f-stock")
    page.fill("#f-price", "100")
    page.dispatch_event("#f-price", "change")
    page.wait_for_function(
        "() => [...document.querySelectorAll('[data-testid=for-you] .rec-meta')]"
        ".every(n => { const m = n.textContent.match(/¥([0-9.]+)/); "
        "return m && parseFloat(m[1]) <= 100 && !n.textContent.includes('sold out'); })")
    assert not external and not errors


def test_try_it_with_a_read_only_key_keeps_the_session_in_the_page(shop, browser):
    server, _, store = shop
    page, external, errors = browser
    service_keys = server.app.state.service.keys
    read_only, _ = service_keys.create(["read"], name="browser-read")
    page.goto(f"{server.url}/#key={read_only}")
    page.wait_for_function("() => document.querySelector('[data-testid=key-status]')"
                           ".textContent.includes('read')")
    page.goto(f"{server.url}/#/try")
    page.wait_for_selector("[data-testid=next-up] li[data-item]")
    before = _ids(page, "next-up")
    events = store.counts()["events"]
    page.click("[data-testid=for-you] li[data-item] >> nth=1")
    page.wait_for_function(
        "before => { const ids = [...document.querySelectorAll("
        "'[data-testid=next-up] li[data-item]')].map(n => n.dataset.item);"
        " return ids.length && ids.join() !== before.join(); }", arg=before)
    assert "nothing is stored" in page.inner_text("[data-testid=live-note]")
    assert store.counts()["events"] == events
    assert not external and not errors


def test_api_docs_render_without_a_cdn(shop, browser, screenshots):
    server, _, _ = shop
    page, external, errors = browser
    page.goto(f"{server.url}/docs")
    page.wait_for_selector(".opblock-summary >> nth=10")
    page.screenshot(path=str(screenshots / "docs.png"))
    assert not external
