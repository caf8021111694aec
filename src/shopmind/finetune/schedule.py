"""Learning-rate schedules that respect a wall-clock budget as well as a step count.

Training here often has minutes, not epochs: progress is the larger of the share of steps done
and the share of the time budget spent, and the rate warms up linearly, then decays linearly to
zero as progress reaches 1 — so a run cut by its time budget still ends with a decayed rate.

>>> b = Budget(total_steps=10, max_seconds=None, warmup=0.2)
>>> [round(b.lr_factor(s), 2) for s in (0, 1, 2, 6, 10)]
[0.5, 1.0, 1.0, 0.5, 0.0]
>>> b.done(10), b.done(9)
(True, False)
"""

from __future__ import annotations

import time

__all__ = ["Budget"]


class Budget:
    """Progress of a run bounded by ``total_steps`` and, optionally, ``max_seconds``."""

    def __init__(self, total_steps: int, max_seconds: float | None = None, warmup: float = 0.1):
        self.total_steps = max(1, int(total_steps))
        self.max_seconds = max_seconds
        self.warmup = warmup
        self.started = time.perf_counter()

    def elapsed(self) -> float:
        return time.perf_counter() - self.started

    def progress(self, step: int) -> float:
        share = step / self.total_steps
        if self.max_seconds:
            share = max(share, self.elapsed() / self.max_seconds)
        return min(1.0, share)

    def lr_factor(self, step: int) -> float:
        """Multiplier of the peak rate before update ``step`` (counted from 0)."""
        p = self.progress(step)
        warm = max(self.warmup, 1e-9)
        if p < warm:
            # counted as if the update were done, so the first one is not wasted at rate zero
            return min(1.0, (p + 1.0 / self.total_steps) / warm)
        return max(0.0, (1.0 - p) / max(1e-9, 1.0 - warm))

    def done(self, step: int) -> bool:
        return self.progress(step) >= 1.0
