"""The model registry: versions with metrics, an atomic serving pointer, the promotion rule."""

from __future__ import annotations

import json
import threading

import pytest

from shopmind.errors import NotFoundError
from shopmind.registry import ModelRegistry, decide_promotion


def _artifact(tmp_path, name="m.npz", payload=b"weights"):
    path = tmp_path / name
    path.write_bytes(payload)
    return path


def test_versions_keep_artifact_and_metrics(tmp_path):
    reg = ModelRegistry(tmp_path / "reg")
    v1 = reg.add("recommend", "als", _artifact(tmp_path), {"ndcg@10": 0.3, "hr@10": 0.5},
                 protocol="leave-one-out", fit_seconds=1.5, data={"max_event_id": 10})
    v2 = reg.add("recommend", "item-knn", _artifact(tmp_path, payload=b"other"),
                 {"ndcg@10": 0.2}, move=False)
    assert (v1.version, v2.version) == (1, 2)
    assert [v.model for v in reg.versions("recommend")] == ["als", "item-knn"]
    again = reg.get("recommend", 1)
    assert again.metrics == {"ndcg@10": 0.3, "hr@10": 0.5}
    assert again.data["max_event_id"] == 10 and again.protocol == "leave-one-out"
    assert again.path.read_bytes() == b"weights"
    assert (tmp_path / "m.npz").exists()  # move=False copied the second one
    assert reg.serving("recommend") is None
    with pytest.raises(NotFoundError):
        reg.get("recommend", 99)
    assert reg.capabilities() == ["recommend"]


def test_promotion_serves_only_versions_that_are_not_worse(tmp_path):
    reg = ModelRegistry(tmp_path)
    first = reg.add("recommend", "als", _artifact(tmp_path), {"ndcg@10": 0.30})
    assert decide_promotion(reg, "recommend", [first]).promoted
    worse = reg.add("recommend", "als", _artifact(tmp_path), {"ndcg@10": 0.29})
    best_of_run = reg.add("recommend", "knn", _artifact(tmp_path), {"ndcg@10": 0.1})
    decision = decide_promotion(reg, "recommend", [worse, best_of_run])
    assert not decision.promoted and decision.candidate.version == worse.version
    assert "worse than serving" in decision.reason
    assert reg.serving_version("recommend") == first.version
    # Within the tolerance it is "not worse"; an equal score is not worse either.
    assert decide_promotion(reg, "recommend", [worse], tolerance=0.02).promoted
    equal = reg.add("recommend", "als", _artifact(tmp_path), {"ndcg@10": 0.29})
    assert decide_promotion(reg, "recommend", [equal]).promoted
    assert reg.serving_version("recommend") == equal.version
    # A candidate without the metric (a broken evaluation) never serves.
    broken = reg.add("recommend", "als", _artifact(tmp_path), {"ndcg@10": float("nan")})
    assert not decide_promotion(reg, "recommend", [broken]).promoted


def test_pointer_is_replaced_atomically_and_runs_are_recorded(tmp_path):
    reg = ModelRegistry(tmp_path)
    a = reg.add("recommend", "als", _artifact(tmp_path), {"ndcg@10": 0.3})
    reg.promote("recommend", a.version, "first")
    pointer = tmp_path / "recommend" / "serving.json"
    assert json.loads(pointer.read_text())["version"] == a.version
    assert not [p for p in pointer.parent.iterdir() if p.name.startswith(".serving")]
    reg.record_run("recommend", {"status": "failed", "error": "boom"})
    reg.record_run("recommend", {"status": "promoted"})
    assert [r["status"] for r in reg.runs("recommend")] == ["failed", "promoted"]


def test_concurrent_writers_never_share_a_version_number(tmp_path):
    reg = ModelRegistry(tmp_path / "reg")
    got = []

    def add(i):
        got.append(reg.add("recommend", "m", _artifact(tmp_path, f"{i}.npz"), {}).version)

    threads = [threading.Thread(target=add, args=(i,)) for i in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(got) == list(range(1, 13))
    assert not [p for p in (tmp_path / "reg" / "recommend" / "versions").iterdir()
                if p.name.startswith(".")]


def test_prune_keeps_the_serving_version(tmp_path):
    reg = ModelRegistry(tmp_path)
    versions = [reg.add("recommend", "m", _artifact(tmp_path), {"ndcg@10": i})
                for i in range(5)]
    reg.promote("recommend", versions[0].version)
    removed = reg.prune("recommend", keep=2)
    assert removed == [2, 3]
    assert [v.version for v in reg.versions("recommend")] == [1, 4, 5]
