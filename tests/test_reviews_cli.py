"""The review commands: analyze a text, train on a store, report insight for an item."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from shopmind.cli import app
from shopmind.config import get_settings
from shopmind.data.demo import generate_demo_shop
from shopmind.data.store import Store

runner = CliRunner()


def test_analyze_prints_aspects_with_evidence():
    result = runner.invoke(app, ["reviews", "analyze", "商品质量不错，物流速度很快，但客服服务态度一般",
                                 "--json"])
    assert result.exit_code == 0, result.output
    aspects = json.loads(result.output)[0]["aspects"]
    assert [(a["aspect"], a["polarity"]) for a in aspects] == [
        ("quality", "positive"), ("logistics", "positive"), ("service", "neutral")]
    table = runner.invoke(app, ["reviews", "analyze", "Shipping was slow."])
    assert table.exit_code == 0 and "logistics" in table.output and "negative" in table.output
    terms = runner.invoke(app, ["reviews", "analyze", "The battery is great but the screen is "
                                "awful.", "--term", "screen", "--term", "battery", "--json"])
    assert terms.exit_code == 0, terms.output
    assert [(t["term"], t["polarity"]) for t in json.loads(terms.output)[0]["terms"]] == [
        ("screen", "negative"), ("battery", "positive")]


@pytest.mark.slow
def test_train_then_insight_on_the_demo_shop(tmp_path, monkeypatch):
    monkeypatch.setenv("SHOPMIND_DATA_DIR", str(tmp_path / "data"))
    get_settings.cache_clear()
    db = f"sqlite:///{tmp_path}/shop.db"
    shop = generate_demo_shop(seed=2, n_users=300)
    Store(db).ingest(shop.batch())
    trained = runner.invoke(app, ["reviews", "train", "--db", db])
    assert trained.exit_code == 0, trained.output
    assert "held-out accuracy" in trained.output
    # the demo's reviews are written the way the lexicon reads: the shop's aspect annotations
    # train a model, which judges the held-out ones worse, so the lexicon keeps judging terms
    assert "aspect terms: held-out accuracy" in trained.output
    assert "judged by the lexicon" in trained.output
    assert (tmp_path / "data" / "models" / "reviews" / "analyzer" / "analyzer.json").exists()
    item = shop.reviews["item_id"].value_counts().index[0]
    report = runner.invoke(app, ["reviews", "insight", "--item", item, "--json", "--db", db])
    assert report.exit_code == 0, report.output
    parsed = json.loads(report.output)
    assert parsed["scope"] == {"item_id": item} and parsed["aspects"] and parsed["summary"]
    text = runner.invoke(app, ["reviews", "insight", "--item", item, "--db", db])
    assert text.exit_code == 0 and "reviews" in text.output
    missing = runner.invoke(app, ["reviews", "insight", "--item", "no-such-item", "--db", db])
    assert missing.exit_code != 0
    category = shop.items.set_index("item_id").loc[item, "category"]
    read = runner.invoke(app, ["reviews", "analyze", "质量很差，不推荐", "--category", category,
                               "--json"])
    assert read.exit_code == 0, read.output
    assert json.loads(read.output)[0]["polarity"] == "negative"
    get_settings.cache_clear()


def test_train_reviews_and_search_into_the_registry(tmp_path, monkeypatch):
    monkeypatch.setenv("SHOPMIND_DATA_DIR", str(tmp_path / "data"))
    get_settings.cache_clear()
    db = f"sqlite:///{tmp_path}/shop.db"
    empty = runner.invoke(app, ["train", "reviews", "--db", db])
    assert empty.exit_code == 2 and "nothing trained: fewer than 20 labelled reviews" in empty.output
    Store(db).ingest(generate_demo_shop(seed=2, n_users=300).batch())
    trained = runner.invoke(app, ["train", "reviews", "--db", db, "--json"])
    assert trained.exit_code == 0, trained.output
    outcome = json.loads(trained.output)
    assert outcome["status"] == "promoted" and outcome["serving"] == 1
    assert {"macro_f1", "aspect_model_accuracy", "aspect_lexicon_accuracy"} <= set(outcome["metrics"])
    again = runner.invoke(app, ["train", "reviews", "--db", db])
    assert again.exit_code == 0 and "version 2" in again.output and "aspect_pairs" in again.output
    bogus = runner.invoke(app, ["train", "reviews", "--db", db, "--aspect-model", "no-such"])
    assert bogus.exit_code == 2 and "neither 'ngram', 'mpnet', 'minilm' nor" in bogus.output
    search = runner.invoke(app, ["train", "search", "--db", db, "--encoder", "hashing"])
    assert search.exit_code == 0 and "ndcg@10" in search.output
    # `reviews analyze` answers with the serving version: the aspect asked by name is judged
    read = runner.invoke(app, ["reviews", "analyze", "做工很好，但是物流太慢了", "--term", "物流",
                               "--json"])
    assert read.exit_code == 0, read.output
    assert [(t["term"], t["polarity"]) for t in json.loads(read.output)[0]["terms"]] == [
        ("物流", "negative")]
    get_settings.cache_clear()
