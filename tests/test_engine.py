"""The orchestrator on the demo shop: import, train, evaluate, save — and again, idempotently."""

from __future__ import annotations

import io
import json

from rich.console import Console

from shopmind.data.store import Store
from shopmind.engine import run_demo
from shopmind.recommend import Recommender


def test_demo_trains_and_saves_every_recommender(tmp_path, settings):
    store = Store(f"sqlite:///{tmp_path}/demo.db", settings=settings)
    quiet = Console(file=io.StringIO())
    trained = {t.name: t for t in run_demo(store, n_users=200, console=quiet)}
    assert store.counts()["users"] == 200
    assert set(trained) >= {"popularity", "item-knn", "als"}
    for t in trained.values():
        saved = json.loads((t.path.parent / f"{t.name}.metrics.json").read_text())
        assert saved["metrics"]["ndcg@10"] == t.metrics["ndcg@10"]
        active_user = store.events_frame()["user_id"].iloc[0]
        assert len(Recommender.load(t.path).recommend(active_user, k=5).item_ids) == 5
    # Personal models must beat popularity on the demo's planted tastes.
    assert trained["als"].metrics["ndcg@10"] > 1.5 * trained["popularity"].metrics["ndcg@10"]
    counts = store.counts()
    run_demo(store, n_users=200, console=quiet)  # a second run adds nothing
    assert store.counts() == counts
