"""Frames done across the whole cluster, for one progress bar on the driver.

Workers report the frames done of their current task to one small :class:`FrameCounter`
actor (fire and forget, at most every ``REPORT_EVERY_S``); the driver reads the total. A task
retried elsewhere restarts its own count, so a retry never counts frames twice.
"""

from __future__ import annotations

import time
from collections.abc import Hashable
from typing import Any

REPORT_EVERY_S = 0.5


class FrameCounter:
    """Frames done per task key (a Ray actor with no CPU of its own)."""

    def __init__(self) -> None:
        self._done: dict[Hashable, int] = {}

    def set(self, key: Hashable, frames: int) -> None:
        self._done[key] = frames

    def total(self) -> int:
        return sum(self._done.values())


class Reporter:
    """Worker side: sends a task's frame count to the counter now and then."""

    def __init__(self, counter: Any | None, key: Hashable) -> None:
        self._counter, self._key = counter, key
        self._last = 0.0

    def update(self, frames: int, force: bool = False) -> None:
        now = time.monotonic()
        if self._counter is not None and (force or now - self._last >= REPORT_EVERY_S):
            self._counter.set.remote(self._key, frames)
            self._last = now


class ProgressBar:
    """Driver side: a tqdm bar over the frames of every source, fed from the counter."""

    def __init__(self, ray: Any, counter: Any, enabled: bool) -> None:
        from tqdm import tqdm

        self._ray, self._counter = ray, counter
        self._bar = tqdm(total=None, unit="frame", disable=None if enabled else True)
        self._pending: Any | None = None

    def add_total(self, frames: int) -> None:
        self._bar.total = (self._bar.total or 0) + frames
        self._bar.refresh()

    def poll(self) -> None:
        """Pick up the last total asked for, and ask again (never blocks)."""
        if self._pending is not None:
            ready, _ = self._ray.wait([self._pending], timeout=0)
            if not ready:
                return
            try:
                done = self._ray.get(self._pending)
            except Exception:  # the counter is only for show; a lost reply changes nothing
                done = self._bar.n
            self._bar.update(max(0, done - self._bar.n))
        self._pending = self._counter.total.remote()

    def close(self) -> None:
        self._bar.close()
