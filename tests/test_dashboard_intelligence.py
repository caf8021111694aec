"""The dashboard's search and review-insight pages, and the Models page's training curves and
search / review models, end to end in headless Chromium (Debian's /usr/bin/chromium driven by
Playwright), on the trained demo shop. The browser, server and screenshot fixtures are shared
with test_dashboard.py (conftest.py). Screenshots go to $SHOPMIND_SCREENSHOTS when set, else to
the test's temporary folder. Requests outside the test server are blocked and counted.
"""

from __future__ import annotations

from pathlib import Path

import pytest

pytestmark = pytest.mark.slow


def _add_sasrec_version(store, settings, tmp: Path) -> dict:
    """Train a small SASRec through the engine (so its per-epoch curve is recorded the way
    every training run records it) and store it as a version that does not serve."""
    from shopmind import engine
    from shopmind.live import registry_for
    from shopmind.recommend import SASRec

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(engine, "recommender_candidates", lambda seed=0: {
            "sasrec": SASRec(hidden=16, epochs=6, patience=100, dropout=0.2, lr=5e-3,
                             seed=seed, threads=1)})
        trained, = engine.train_recommenders(
            store, settings.model_copy(update={"model_dir": tmp}), models=["sasrec"])
    version = registry_for(settings).add("recommend", trained.name, trained.path,
                                         trained.metrics, curve=trained.extra.get("curve"))
    return version.as_dict()


@pytest.fixture(scope="module")
def shop(serve_demo_shop, tmp_path_factory):
    """(server, token, store, sasrec): the served demo shop with a SASRec version added."""
    def add_sasrec(store, settings) -> dict:
        return _add_sasrec_version(store, settings, tmp_path_factory.mktemp("sasrec"))

    with serve_demo_shop(add_sasrec) as served:
        yield served


@pytest.fixture(scope="module")
def browser(browser, shop):
    """The shared browser (conftest.py), signed in with the admin key once for every test."""
    page, _, _ = browser
    server, token, _, _ = shop
    page.goto(f"{server.url}/#key={token}")
    page.wait_for_function("() => document.querySelector('[data-testid=key-status]')"
                           ".textContent.includes('admin')")
    return browser


def _titles(page) -> list[str]:
    return page.eval_on_selector_all("[data-testid=search-results] li[data-item] .rec-title",
                                     "nodes => nodes.map(n => n.textContent)")


def _search(page, query: str) -> None:
    page.fill("[data-testid=search-q]", query)
    page.press("[data-testid=search-q]", "Enter")
    page.wait_for_function(
        "q => document.querySelector('[data-testid=search-results]').dataset.query === q "
        "&& document.querySelectorAll('[data-testid=search-results] li[data-item]').length",
        arg=query)


def test_search_page_autocompletes_and_finds_chinese_and_english(shop, browser, screenshots):
    server, _, _, _ = shop
    page, external, errors = browser
    page.goto(f"{server.url}/#/search")
    page.wait_for_selector("#page-search:not([hidden])")
    page.click("[data-testid=search-q]")
    page.keyboard.type("iph", delay=30)  # typed key by key, as a shopper does
    page.wait_for_selector("[data-testid=suggest]:not([hidden]) li")
    suggestions = page.eval_on_selector_all("[data-testid=suggest] li",
                                            "nodes => nodes.map(n => n.textContent)")
    assert suggestions and suggestions[0].lower().startswith("iph")
    _search(page, "蓝牙耳机")
    titles = _titles(page)
    assert len(titles) >= 5 and all("耳机" in t or "Headphone" in t or "Earbuds" in t
                                    for t in titles[:5])
    assert "数码 > 影音 > 耳机" in page.inner_text("[data-testid=search-intent]")
    brands = page.locator("[data-testid=search-facets] .facet[data-facet=brand] .fbar")
    assert brands.count() >= 2
    brand = brands.first.locator("span").first.inner_text()
    brands.first.click()  # a facet bar filters by its value
    page.wait_for_function(
        "b => { const m = [...document.querySelectorAll('[data-testid=search-results] .rec-meta')];"
        " return m.length && m.every(n => n.textContent.includes(' · ' + b)); }", arg=brand)
    assert f"brand: {brand}" in page.inner_text("[data-testid=search-filters]")
    page.screenshot(path=str(screenshots / "search.png"), full_page=True)
    _search(page, "runing shoes")  # misspelled English
    assert "showing results for" in page.inner_text("[data-testid=search-head]")
    assert all("Running Shoes" in t or "跑步鞋" in t for t in _titles(page)[:3])
    assert not external and not errors


def test_review_insight_page_draws_its_charts(shop, browser, screenshots):
    server, _, _, _ = shop
    page, external, errors = browser
    page.goto(f"{server.url}/#/reviews")
    page.wait_for_selector("[data-testid=chart-aspects] rect.bar >> nth=2")
    page.wait_for_selector("[data-testid=chart-review-trend] path.series")
    assert "reviews" in page.inner_text("[data-testid=review-scope]")
    assert page.inner_text("[data-testid=review-summary]").strip()
    quotes = page.locator("[data-testid=review-praises] .q, [data-testid=review-complaints] .q")
    assert quotes.count() >= 1
    page.screenshot(path=str(screenshots / "reviews-item.png"), full_page=True)
    # A category: more reviews, more periods on the trend line.
    page.select_option("[data-testid=review-category]", index=1)
    page.wait_for_function("() => document.querySelector('[data-testid=review-scope]')"
                           ".textContent.startsWith('category')")
    page.wait_for_selector("[data-testid=chart-review-trend] path.series")
    assert page.locator("[data-testid=chart-aspects] rect.bar").count() >= 6
    page.screenshot(path=str(screenshots / "reviews-category.png"), full_page=True)
    # The analyzer on the example.
    page.click("#analyze-form button")
    page.wait_for_selector("[data-testid=analyze-out] .aspect-tags span")
    tags = dict(page.eval_on_selector_all(
        "[data-testid=analyze-out] .aspect-tags span",
        "nodes => nodes.map(n => [n.dataset.aspect, n.className])"))
    assert tags["quality"] == "positive" and tags["logistics"] == "positive"
    assert tags["service"] in ("neutral", "negative")
    assert not external and not errors


def test_models_page_shows_training_curves_and_text_models(shop, browser, screenshots):
    server, _, _, sasrec = shop
    page, external, errors = browser
    assert sasrec["curve"] and "valid_ndcg@10" in sasrec["curve"][0]  # recorded at training
    page.goto(f"{server.url}/#/models")
    page.wait_for_selector("[data-testid=chart-curves] path.series")
    assert "valid_ndcg@10" in page.inner_text("#curves-panel .legend")
    caption = page.inner_text("#curves-what")
    assert "sasrec" in caption and "training loss" in caption
    points = page.locator("[data-testid=chart-curves] circle").count()
    assert points == len([p for p in sasrec["curve"] if "valid_ndcg@10" in p])
    page.wait_for_selector("[data-testid=chart-text-metrics] rect.bar >> nth=5")
    # the demo's aspect annotations: the trained model and the lexicon, side by side
    assert "aspects: lexicon" in page.inner_text("[data-testid=chart-text-metrics]")
    serving = page.inner_text("[data-testid=text-serving]")
    assert "search: product-search" in serving and "reviews: review-analyzer" in serving
    page.screenshot(path=str(screenshots / "models-curves.png"), full_page=True)
    assert not external and not errors
