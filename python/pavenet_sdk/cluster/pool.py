"""A fixed number of Ray actors working through a queue of jobs, replacing those that die.

Ray does the placement (an actor needs one CPU, so a node gets as many as it has CPUs) and
reports a dead worker process as ``RayActorError`` on the call it was running. The pool then
starts a replacement, which Ray places wherever a CPU is free, and puts the job back at the
head of the queue, up to ``max_attempts`` tries. An exception raised by the job itself (a
source that cannot be read) is not retried: it is the job's outcome.

:class:`ActorPool` is the one place where the package's actors are named, started, waited for
and replaced: ``run_batch`` gives it jobs (:meth:`ActorPool.run`); ``StreamPool`` starts and
replaces its workers through it and calls them itself.
"""

from __future__ import annotations

import re
import time
import uuid
from collections import deque
from collections.abc import Callable, Hashable, Iterator
from dataclasses import dataclass, field
from typing import Any

from pavenet_sdk.cluster.engine import ClusterError

WAIT_S = 0.2  # longest pause between two calls of the caller's tick


@dataclass
class Job:
    """One method call for any worker of the pool."""

    key: Hashable
    method: str
    args: tuple = ()
    attempts: int = 0  # tries started so far
    deaths: list[str] = field(default_factory=list)  # why the workers of failed tries died


@dataclass(frozen=True)
class Outcome:
    """How a job ended: ``value``, or ``error`` (its own exception, or workers dying)."""

    job: Job
    value: Any = None
    error: str | None = None


def remote_class(ray: Any, cls: type, **options: Any) -> Any:
    """``cls`` as a Ray actor class (one CPU unless ``options`` say otherwise)."""
    return ray.remote(**{"num_cpus": 1, **options})(cls)


def reason(exc: BaseException) -> str:
    """One line saying why a Ray call failed (the job's own exception where there is one)."""
    cause = getattr(exc, "cause", None)
    if isinstance(cause, BaseException):
        exc = cause
    lines = [line.strip() for line in str(exc).strip().splitlines() if line.strip()]
    text = lines[-1] if lines else ""
    named = re.match(r"^[A-Za-z_][\w.]*(Error|Exception|Exit|Interrupt)\b", text)
    return text if named else f"{type(exc).__name__}: {text}"


class ActorPool:
    """``size`` actors of ``actor_class(*args)``, each named ``{prefix}-{slot}-{generation}``.

    Args:
        ray: the connected ``ray`` module.
        actor_class: a Ray actor class (:func:`remote_class`).
        args: its constructor's arguments.
        size: number of actors.
        max_attempts: tries per job when workers die (>= 1).
        prefix: name prefix; names are unique per pool.
    """

    def __init__(
        self,
        ray: Any,
        actor_class: Any,
        args: tuple,
        size: int,
        max_attempts: int = 3,
        prefix: str = "pavenet",
    ) -> None:
        if size < 1:
            raise ValueError(f"a pool needs at least one worker, got {size}")
        if max_attempts < 1:
            raise ValueError(f"max_attempts must be >= 1, got {max_attempts}")
        self._ray, self._class, self._args = ray, actor_class, args
        self.size, self.max_attempts = size, max_attempts
        self.prefix = f"{prefix}-{uuid.uuid4().hex[:8]}"
        self._actors: list[Any] = []
        self._generation = [0] * size
        self.replaced = 0

    @property
    def actors(self) -> list[Any]:
        return list(self._actors)

    def actor(self, slot: int) -> Any:
        """The actor now serving ``slot``."""
        return self._actors[slot]

    def _make(self, slot: int) -> Any:
        name = f"{self.prefix}-{slot}-{self._generation[slot]}"
        self._generation[slot] += 1
        return self._class.options(name=name).remote(*self._args)

    def replace(self, slot: int) -> Any:
        """Start a new actor for ``slot`` (its actor died) and return it; Ray places it."""
        self._actors[slot] = self._make(slot)
        self.replaced += 1
        return self._actors[slot]

    def start(self, timeout: float = 300.0) -> list[Any]:
        """Start the actors; returns each one's ``describe()``.

        Raises:
            ClusterError: an actor failed to start (e.g. the model did not load), or not all
                were placed within ``timeout`` seconds (too few CPUs in the cluster).
        """
        ray = self._ray
        self._actors = [self._make(slot) for slot in range(self.size)]
        refs = [actor.describe.remote() for actor in self._actors]
        ready, _ = ray.wait(refs, num_returns=len(refs), timeout=timeout)
        if len(ready) < len(refs):
            self.close()
            raise ClusterError(
                f"only {len(ready)} of {self.size} workers started within {timeout:.0f} s; "
                f"the cluster has {ray.cluster_resources().get('CPU', 0):.0f} CPUs"
            )
        try:
            return ray.get(refs)
        except ray.exceptions.RayError as exc:
            self.close()
            raise ClusterError(f"the workers could not start: {reason(exc)}") from None

    def run(self, queue: deque[Job], tick: Callable[[], None] | None = None) -> Iterator[Outcome]:
        """Run the jobs of ``queue`` (which may grow while this runs) until none is left.

        Yields each job's outcome as it ends. ``tick`` is called about every ``WAIT_S``.
        """
        ray = self._ray
        idle = list(range(self.size))[::-1]
        running: dict[Any, tuple[int, Job]] = {}
        last_tick = time.monotonic()
        while queue or running:
            while idle and queue:
                slot, job = idle.pop(), queue.popleft()
                job.attempts += 1
                ref = getattr(self._actors[slot], job.method).remote(*job.args)
                running[ref] = (slot, job)
            ready, rest = ray.wait(list(running), num_returns=1, timeout=WAIT_S)
            if ready and rest:  # every other call done by now, without waiting
                ready += ray.wait(rest, num_returns=len(rest), timeout=0)[0]
            if tick is not None and time.monotonic() - last_tick >= WAIT_S:
                tick()
                last_tick = time.monotonic()
            for ref in ready:
                slot, job = running.pop(ref)
                idle.append(slot)
                try:
                    value = ray.get(ref)
                except ray.exceptions.RayTaskError as exc:
                    yield Outcome(job, error=reason(exc))
                except ray.exceptions.RayError as exc:  # the worker died: replace, retry
                    self.replace(slot)
                    job.deaths.append(reason(exc))
                    if job.attempts < self.max_attempts:
                        queue.appendleft(job)
                    else:
                        yield Outcome(
                            job,
                            error=f"a worker died on each of {job.attempts} tries "
                            f"(last: {job.deaths[-1]})",
                        )
                else:
                    yield Outcome(job, value=value)
        if tick is not None:
            tick()

    def close(self) -> None:
        """Stop every actor of the pool."""
        for actor in self._actors:
            try:
                self._ray.kill(actor)
            except Exception:  # already gone
                pass
        self._actors = []
