"""What every benchmark shares: the machine, the commit, peak memory, timing and the JSON shape.

Each benchmark writes (DESIGN.md)::

    {"benchmark": ..., "dataset": ..., "protocol": ..., "commit": ..., "machine": {...},
     "results": [{"name": ..., "baseline": bool, "dataset": ..., "metrics": {...}, ...}]}
"""

from __future__ import annotations

import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"

__all__ = ["REPO", "SHARED_DATA", "machine", "git_commit", "peak_mb", "peak_mb_during",
           "median_seconds", "write_results", "merge_with_earlier", "print_table"]


def machine() -> dict:
    """Cores, RAM and GPU of this machine, for the record."""
    ram_gb = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    gpu = None
    try:
        import torch

        if torch.cuda.is_available():
            gpu = torch.cuda.get_device_name(0)
    except ImportError:
        pass
    return {"cores": os.cpu_count(), "ram_gb": round(ram_gb, 1), "gpu": gpu,
            "cpu": platform.processor() or platform.machine(), "python": platform.python_version()}


def git_commit() -> str | None:
    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], cwd=REPO, capture_output=True,
                             text=True, check=True)
        dirty = subprocess.run(["git", "status", "--porcelain"], cwd=REPO, capture_output=True,
                               text=True).stdout.strip()
        return out.stdout.strip() + ("-dirty" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return None


def peak_mb() -> float:
    """Peak resident memory of this process so far (Linux reports KiB)."""
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def _high_water_mb() -> float | None:
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        pass
    return None


@contextmanager
def peak_mb_during() -> Iterator[dict]:
    """Peak resident memory (MB) of this process while the block runs, in ``box["peak_mb"]``.

    On Linux the kernel's high-water mark is reset first (``/proc/self/clear_refs``), so each
    of several models measured in one process gets its own peak rather than the largest so
    far; elsewhere it falls back to the process peak.
    """
    box: dict = {}
    try:
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")
        reset = True
    except OSError:
        reset = False
    yield box
    box["peak_mb"] = (_high_water_mb() if reset else None) or peak_mb()


def median_seconds(fn: Callable[[], object], runs: int) -> tuple[float, list[float]]:
    """Median wall time of ``runs`` calls and every single time (this machine is noisy)."""
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), [round(t, 3) for t in times]


def write_results(path: str | Path, benchmark: str, dataset: str, protocol: str,
                  results: list[dict], **extra) -> dict:
    doc = {"benchmark": benchmark, "dataset": dataset, "protocol": protocol,
           "commit": git_commit(), "machine": machine(), **extra, "results": results}
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(doc, indent=2, ensure_ascii=False) + "\n")
    return doc


def merge_with_earlier(path: str | Path, results: list[dict], part_of: Callable[[dict], str],
                       quick: bool, wall_seconds: float) -> tuple[list[dict], dict]:
    """This run's ``results`` plus, from the file an earlier run wrote at ``path``, the rows of
    the parts (``part_of(row)``: a dataset, a task) not run now; and ``runs_merged``, which
    command and commit made each part. Rows of a run of the other size (``--quick``) are not kept.
    """
    now = {part_of(r) for r in results}
    run = {"commit": git_commit(), "command": "python " + " ".join(sys.argv),
           "wall_seconds": round(wall_seconds, 1)}
    runs = {part: run for part in sorted(now)}
    try:
        earlier = json.loads(Path(path).read_text())
    except (OSError, json.JSONDecodeError):
        return results, runs
    if earlier.get("quick", False) != quick:
        return results, runs
    kept = [r for r in earlier.get("results", []) if part_of(r) not in now]
    made_by = earlier.get("runs_merged", {})
    for part in sorted({part_of(r) for r in kept}):
        runs[part] = made_by.get(part, {"commit": earlier.get("commit"), "command": "unknown"})
    return kept + results, runs


def print_table(results: list[dict], columns: list[str]) -> None:
    """A plain-text table of result rows; a column is a top-level key or a metric name."""
    def cell(row: dict, col: str) -> str:
        value = row.get(col, row.get("metrics", {}).get(col, ""))
        return f"{value:.4g}" if isinstance(value, float) else str(value)

    rows = [["name", *columns]] + [[r["name"], *(cell(r, c) for c in columns)] for r in results]
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for r in rows:
        print("  ".join(v.ljust(w) for v, w in zip(r, widths)))
