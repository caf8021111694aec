"""The model registry: versioned model artifacts with their offline metrics, and which one serves.

One folder per capability (``recommend``, later ``search``, ``reviews`` …)::

    <root>/<capability>/versions/000007/model.npz   the artifact, never changed once written
                                       /meta.json   metrics, protocol, when, on what data
    <root>/<capability>/serving.json                which version serves (replaced atomically)
    <root>/<capability>/runs.jsonl                  one line per training run, failed ones too

A version folder is written under a temporary name and renamed into place, and ``serving.json``
is replaced with ``os.replace``, so a reader (a server in another process) sees either the old
state or the new one, never half of either. Writers take a file lock, so two training runs never
get the same version number.

>>> import tempfile, pathlib
>>> root = pathlib.Path(tempfile.mkdtemp())
>>> reg = ModelRegistry(root)
>>> art = root / "m.npz"; _ = art.write_bytes(b"weights")
>>> v = reg.add("recommend", "als", art, {"ndcg@10": 0.31}, move=False)
>>> decide_promotion(reg, "recommend", [v]).promoted
True
>>> reg.serving("recommend").version
1
>>> worse = reg.add("recommend", "als", art, {"ndcg@10": 0.2})
>>> decision = decide_promotion(reg, "recommend", [worse])
>>> decision.promoted, reg.serving("recommend").version
(False, 1)
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import tempfile
import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path

from shopmind.errors import NotFoundError

__all__ = ["ModelVersion", "ModelRegistry", "Promotion", "decide_promotion", "PRIMARY_METRIC"]

PRIMARY_METRIC = {"recommend": "ndcg@10", "search": "ndcg@10", "reviews": "macro_f1"}
"""The offline metric that decides, per capability, whether a new version may serve."""

_VERSION_DIGITS = 6


@dataclass
class ModelVersion:
    """One trained model: its artifact and what is known about it."""

    capability: str
    version: int
    model: str  # the kind, e.g. "als", "item-knn"
    artifact: str  # file name inside the version folder
    metrics: dict
    protocol: str = ""
    trained_at: float = 0.0
    fit_seconds: float = 0.0
    run_id: str = ""
    data: dict = field(default_factory=dict)  # what it was trained on (counts, last event id)
    curve: list = field(default_factory=list)  # training curve points, when the model has one
    folder: str = ""

    @property
    def path(self) -> Path:
        """The artifact file."""
        return Path(self.folder) / self.artifact

    def as_dict(self) -> dict:
        out = asdict(self)
        out.pop("folder")
        return out


@dataclass
class Promotion:
    """What :func:`decide_promotion` decided and why."""

    promoted: bool
    candidate: ModelVersion | None
    previous: ModelVersion | None
    metric: str
    reason: str


class ModelRegistry:
    """Model versions on disk under ``root`` (see the module docstring for the layout)."""

    def __init__(self, root: str | Path):
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)

    def __repr__(self) -> str:
        return f"ModelRegistry({str(self.root)!r})"

    # ------------------------------------------------------------------ writing
    @contextmanager
    def lock(self) -> Iterator[None]:
        """Exclusive across processes: one writer of version numbers and pointers at a time."""
        with open(self.root / ".lock", "a+") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)

    def _dir(self, capability: str) -> Path:
        if not capability.replace("-", "").replace("_", "").isalnum():
            raise ValueError(f"capability names are letters, digits, '-' and '_': {capability!r}")
        return self.root / capability

    def add(self, capability: str, model: str, artifact: str | Path, metrics: dict, *,
            protocol: str = "", fit_seconds: float = 0.0, run_id: str = "",
            data: dict | None = None, curve: list | None = None,
            trained_at: float | None = None, move: bool = True) -> ModelVersion:
        """Store a trained artifact as the next version of ``capability`` (the file is moved
        in, or copied with ``move=False``).

        The new version does not serve until :meth:`promote` (or :func:`decide_promotion`).
        """
        artifact = Path(artifact)
        if not artifact.is_file():
            raise NotFoundError(f"model artifact {artifact} does not exist")
        versions_dir = self._dir(capability) / "versions"
        versions_dir.mkdir(parents=True, exist_ok=True)
        with self.lock():
            number = max(self._numbers(capability), default=0) + 1
            staging = Path(tempfile.mkdtemp(prefix=".new-", dir=versions_dir))
            final = versions_dir / f"{number:0{_VERSION_DIGITS}d}"
            version = ModelVersion(
                capability=capability, version=number, model=model,
                artifact="model" + "".join(artifact.suffixes), metrics=dict(metrics),
                protocol=protocol, trained_at=time.time() if trained_at is None else trained_at,
                fit_seconds=float(fit_seconds), run_id=run_id, data=dict(data or {}),
                curve=list(curve or []), folder=str(final))
            if move:
                shutil.move(str(artifact), staging / version.artifact)
            else:
                shutil.copy2(artifact, staging / version.artifact)
            _write_json(staging / "meta.json", version.as_dict())
            os.chmod(staging, 0o755)
            os.rename(staging, final)
        return version

    def promote(self, capability: str, version: int, reason: str = "") -> ModelVersion:
        """Make ``version`` the serving one (an atomic replace of the pointer file)."""
        chosen = self.get(capability, version)
        with self.lock():
            _write_json(self._dir(capability) / "serving.json",
                        {"version": version, "since": time.time(), "reason": reason},
                        atomic=True)
        return chosen

    def record_run(self, capability: str, run: dict) -> None:
        """Append one training run's outcome (``status``: promoted, kept, failed …)."""
        folder = self._dir(capability)
        folder.mkdir(parents=True, exist_ok=True)
        with self.lock(), open(folder / "runs.jsonl", "a") as fh:
            fh.write(json.dumps(run, ensure_ascii=False, default=str) + "\n")
            fh.flush()
            os.fsync(fh.fileno())

    def prune(self, capability: str, keep: int = 50) -> list[int]:
        """Delete all but the newest ``keep`` versions (never the serving one)."""
        serving = self.serving_version(capability)
        numbers = sorted(self._numbers(capability))
        doomed = [n for n in numbers[:-keep] if n != serving] if keep > 0 else []
        with self.lock():
            for n in doomed:
                shutil.rmtree(self._version_dir(capability, n), ignore_errors=True)
        return doomed

    # ------------------------------------------------------------------ reading
    def capabilities(self) -> list[str]:
        return sorted(p.name for p in self.root.iterdir()
                      if p.is_dir() and not p.name.startswith("."))

    def _numbers(self, capability: str) -> list[int]:
        folder = self._dir(capability) / "versions"
        if not folder.is_dir():
            return []
        return [int(p.name) for p in folder.iterdir() if p.name.isdigit()]

    def _version_dir(self, capability: str, number: int) -> Path:
        return self._dir(capability) / "versions" / f"{number:0{_VERSION_DIGITS}d}"

    def get(self, capability: str, version: int) -> ModelVersion:
        folder = self._version_dir(capability, int(version))
        try:
            meta = json.loads((folder / "meta.json").read_text())
        except FileNotFoundError:
            raise NotFoundError(f"no version {version} of {capability!r} in {self.root}") from None
        meta["folder"] = str(folder)
        return ModelVersion(**meta)

    def versions(self, capability: str) -> list[ModelVersion]:
        """Every stored version, oldest first."""
        return [self.get(capability, n) for n in sorted(self._numbers(capability))]

    def serving_version(self, capability: str) -> int | None:
        try:
            return int(json.loads((self._dir(capability) / "serving.json").read_text())["version"])
        except (FileNotFoundError, json.JSONDecodeError, KeyError):
            return None

    def serving(self, capability: str) -> ModelVersion | None:
        number = self.serving_version(capability)
        return None if number is None else self.get(capability, number)

    def runs(self, capability: str, last: int = 100) -> list[dict]:
        path = self._dir(capability) / "runs.jsonl"
        if not path.is_file():
            return []
        lines = path.read_text().splitlines()[-last:]
        return [json.loads(line) for line in lines if line.strip()]


def decide_promotion(registry: ModelRegistry, capability: str,
                     candidates: Sequence[ModelVersion], *, metric: str | None = None,
                     tolerance: float = 0.0) -> Promotion:
    """Serve the best candidate if its offline ``metric`` is not worse than the serving one's.

    "Not worse" means ``candidate >= serving - tolerance``; with nothing serving yet the best
    candidate serves. Nothing changes when no candidate qualifies.
    """
    metric = metric or PRIMARY_METRIC.get(capability, "ndcg@10")
    previous = registry.serving(capability)
    scored = [c for c in candidates if _finite(c.metrics.get(metric))]
    if not scored:
        return Promotion(False, None, previous, metric, f"no candidate has a {metric}")
    best = max(scored, key=lambda c: c.metrics[metric])
    new = best.metrics[metric]
    old = None if previous is None else previous.metrics.get(metric)
    if old is not None and _finite(old) and new < old - tolerance:
        return Promotion(False, best, previous, metric,
                         f"{best.model} v{best.version} {metric} {new:.4f} is worse than serving "
                         f"{previous.model} v{previous.version} {metric} {old:.4f}")
    reason = (f"first version: {best.model} {metric} {new:.4f}" if previous is None else
              f"{best.model} v{best.version} {metric} {new:.4f} >= serving "
              f"{previous.model} v{previous.version} {metric} {old:.4f}"
              + (f" - {tolerance:g}" if tolerance else ""))
    registry.promote(capability, best.version, reason)
    return Promotion(True, best, previous, metric, reason)


def _finite(value) -> bool:
    return isinstance(value, (int, float)) and value == value and abs(value) != float("inf")


def _write_json(path: Path, payload: dict, atomic: bool = False) -> None:
    text = json.dumps(payload, indent=2, ensure_ascii=False, default=str)
    if not atomic:
        path.write_text(text)
        return
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}")
    with open(tmp, "w") as fh:
        fh.write(text)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)
