"""Scale out on Ray: many videos (``run_batch``) and many live cameras (``StreamPool``).

Needs the ``cluster`` extra (``pip install 'pavenet-sdk[cluster]'``). Importing this package
does not import Ray; the names below load on first use. Every Ray process this package starts
on its own listens on loopback only, and Ray's usage reporting is off.

Example:
    >>> from pavenet_sdk.cluster import run_batch
    >>> summary = run_batch(["a.mp4", "b.mp4"], "poses/", workers=2)   # a local instance
    >>> print(summary.format())
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from pavenet_sdk.cluster import engine as _engine  # noqa: F401  (usage reporting off first)

_EXPORTS = {
    "run_batch": "pavenet_sdk.cluster.batch",
    "BatchSummary": "pavenet_sdk.cluster.report",
    "SourceResult": "pavenet_sdk.cluster.report",
    "StreamPool": "pavenet_sdk.cluster.streams",
    "StreamStats": "pavenet_sdk.cluster.stream_worker",
    "JsonLinesSink": "pavenet_sdk.cluster.sinks",
    "LocalCluster": "pavenet_sdk.cluster.local",
    "connect": "pavenet_sdk.cluster.engine",
    "ClusterError": "pavenet_sdk.cluster.engine",
}
__all__ = [
    "BatchSummary",
    "ClusterError",
    "JsonLinesSink",
    "LocalCluster",
    "SourceResult",
    "StreamPool",
    "StreamStats",
    "connect",
    "run_batch",
]

if TYPE_CHECKING:
    from pavenet_sdk.cluster.batch import run_batch
    from pavenet_sdk.cluster.engine import ClusterError, connect
    from pavenet_sdk.cluster.local import LocalCluster
    from pavenet_sdk.cluster.report import BatchSummary, SourceResult
    from pavenet_sdk.cluster.sinks import JsonLinesSink
    from pavenet_sdk.cluster.stream_worker import StreamStats
    from pavenet_sdk.cluster.streams import StreamPool


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'pavenet_sdk.cluster' has no attribute {name!r}")
    value = getattr(importlib.import_module(_EXPORTS[name]), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_EXPORTS))
