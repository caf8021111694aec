"""`shopmind train recommend`, `recommend`, `similar` and `evaluate recommend` end to end on a
small demo store."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from shopmind.cli import app
from shopmind.data.demo import generate_demo_shop
from shopmind.data.store import Store

runner = CliRunner()


@pytest.fixture(scope="module")
def shop(tmp_path_factory):
    root = tmp_path_factory.mktemp("cli-shop")
    db = f"sqlite:///{root}/shop.db"
    demo = generate_demo_shop(seed=0, n_users=80)
    store = Store(db)
    store.ingest(demo.batch())
    store.close()
    return {"db": db, "models": str(root / "models"), "truth": demo.truth, "items": demo.items}


def _run(shop, *args):
    result = runner.invoke(app, [*args, "--db", shop["db"]])
    return result


def _json(result) -> dict:
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_recommend_needs_a_trained_model_first(tmp_path):
    db = f"sqlite:///{tmp_path}/empty.db"
    result = runner.invoke(app, ["recommend", "--user", "u", "--db", db,
                                 "--model-dir", str(tmp_path / "m")])
    assert result.exit_code == 2 and "shopmind train recommend" in result.output


def test_train_recommend_then_recommend_similar_and_evaluate(shop):
    models = ["--model-dir", shop["models"]]
    trained = _json(_run(shop, "train", "recommend", "--models", "popularity,item-knn",
                         *models, "--json"))
    assert trained["status"] == "promoted"
    assert [m["model"] for m in trained["models"]] == ["popularity", "item-knn"]
    serving = [m for m in trained["models"] if m["version"] == trained["serving"]][0]
    assert serving["model"] == "item-knn"  # it beats popularity on the planted sequences

    table = _run(shop, "recommend", "--user", "u-00005", "-k", "5", *models)
    assert table.exit_code == 0 and "because you" in table.output

    out = _json(_run(shop, "recommend", "--user", "u-00005", "-k", "8", "--in-stock",
                     "--max-price", "500", *models, "--json"))
    assert out["model"]["name"] == "item-knn" and not out["fallback"]
    assert len(out["items"]) == 8
    for item in out["items"]:
        assert item["stock"] != 0 and item["price"] <= 500
        assert item["because"]["kind"] in ("history", "taste")
    pinned = _json(_run(shop, "recommend", "--user", "u-00005", "--pin", "sku-00010@2",
                        *models, "--json"))
    assert pinned["items"][1]["item_id"] == "sku-00010"

    # planted rules: the consequent is among the items most similar to its antecedent far
    # more often than chance (10 of ~500 items: 2 %)
    hits = 0
    rules = shop["truth"].next_item_rules[:10]
    for antecedent, consequent in rules:
        sim = _json(_run(shop, "similar", "--item", antecedent, "-k", "10", *models, "--json"))
        hits += consequent in [i["item_id"] for i in sim["items"]]
        assert all(i["because"]["item_id"] == antecedent for i in sim["items"])
    assert hits >= 3, hits
    missing = _run(shop, "similar", "--item", "no-such-item", *models)
    assert missing.exit_code == 2 and "unknown item" in missing.output

    stranger = _json(_run(shop, "recommend", "--user", "nobody", *models, "--json"))
    assert stranger["fallback"] and stranger["items"]

    evaluated = _json(_run(shop, "evaluate", "recommend", "--models", "popularity",
                           "--models", "item-knn", "--json"))
    results = evaluated["results"]
    assert set(results) == {"popularity", "item-knn"}
    assert results["item-knn"]["ndcg@10"] > results["popularity"]["ndcg@10"]
    assert results["item-knn"]["ndcg@10"] == pytest.approx(serving["metrics"]["ndcg@10"])
    table = _run(shop, "evaluate", "recommend", "--models", "item-knn")
    assert table.exit_code == 0 and "ndcg@10" in table.output
    bad = _run(shop, "evaluate", "recommend", "--models", "nope")
    assert bad.exit_code == 2 and "choose from" in bad.output
