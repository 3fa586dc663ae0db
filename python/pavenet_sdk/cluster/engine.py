"""Ray, imported and connected the way this package needs it.

Every module of :mod:`pavenet_sdk.cluster` gets Ray from :func:`import_ray`, which first turns
Ray's usage reporting off (``RAY_USAGE_STATS_ENABLED=0``: Ray otherwise reports usage over the
network). :func:`connect` joins an existing cluster or starts a local, loopback-only one.

Loopback: on Linux, Ray rewrites ``127.0.0.1`` to the machine's outward address unless
``RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER=0`` was set when Ray was imported; :func:`connect` sets it
for a local instance when Ray is not imported yet, so every process of that instance listens
on 127.0.0.1 only.
"""

from __future__ import annotations

import contextlib
import os
import sys
import warnings
from collections.abc import Iterator
from types import ModuleType
from typing import Any

USAGE_STATS = "RAY_USAGE_STATS_ENABLED"
LOOPBACK_SWITCH = "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"  # "0": keep 127.0.0.1 as the node address
LOOPBACK = "127.0.0.1"
LOCAL = "local"

os.environ[USAGE_STATS] = "0"  # before anything in this package can import ray


class ClusterError(RuntimeError):
    """The cluster cannot do what was asked (Ray missing, no worker could start, ...)."""


def import_ray(loopback: bool = False) -> ModuleType:
    """Import Ray with usage reporting off; ``loopback``: keep a local instance on 127.0.0.1.

    Raises:
        ClusterError: Ray is not installed.
    """
    os.environ[USAGE_STATS] = "0"
    if loopback and "ray" not in sys.modules:
        os.environ.setdefault(LOOPBACK_SWITCH, "0")
    try:
        import ray
    except ImportError:
        raise ClusterError(
            "pavenet_sdk.cluster needs Ray: pip install 'pavenet-sdk[cluster]'"
        ) from None
    return ray


@contextlib.contextmanager
def connect(address: str | None = LOCAL, **init: Any) -> Iterator[ModuleType]:
    """Use the Ray cluster of this process, or join/start one for the duration of the block.

    Args:
        address: ``"local"`` (default) starts a private instance on this machine that listens
            on 127.0.0.1 only; ``"auto"`` joins the cluster started with ``ray start`` on this
            node; ``"HOST:PORT"`` joins that head node. None means ``"local"``. Ignored when
            this process is already connected (the caller's connection is kept).
        init: more ``ray.init`` arguments (e.g. ``num_cpus`` for a local instance).

    Yields:
        the ``ray`` module, initialised. A connection made here is closed on leaving.
    """
    address = address or LOCAL
    local = address == LOCAL
    ray = import_ray(loopback=local)
    if ray.is_initialized():
        yield ray
        return
    options: dict[str, Any] = {"log_to_driver": False, "include_dashboard": False, **init}
    options["address"] = address  # "local": a new instance even where a cluster runs
    if local:
        options["_node_ip_address"] = LOOPBACK
        ray.init(**options)
    else:
        try:
            ray.init(**options)
        except (ConnectionError, ray.exceptions.RayError) as exc:
            hint = ""
            if "auth" in str(exc).lower():
                hint = (
                    "; the cluster uses token authentication: set RAY_AUTH_MODE=token and "
                    "give its token (~/.ray/auth_token or RAY_AUTH_TOKEN)"
                )
            raise ClusterError(f"cannot join the Ray cluster at {address}: {exc}{hint}") from exc
    try:
        if local:
            _check_loopback(ray)
        yield ray
    finally:
        ray.shutdown()


def _check_loopback(ray: ModuleType) -> None:
    """Warn when a local instance did not stay on loopback (Ray was imported too early)."""
    address = ray.get_runtime_context().gcs_address
    if not address.startswith("127."):
        warnings.warn(
            f"the local Ray instance listens on {address}, not on loopback: Ray was imported "
            f"before pavenet_sdk.cluster; set {LOOPBACK_SWITCH}=0 before importing ray",
            RuntimeWarning,
            stacklevel=3,
        )


def local_cpus(address: str | None, workers: int | None) -> dict[str, Any]:
    """``ray.init`` arguments giving a new local instance one CPU per worker (none else)."""
    return {"num_cpus": workers} if workers and (address or LOCAL) == LOCAL else {}
