"""A Ray cluster of several nodes on this machine, on loopback only (benchmarks, trials).

Each node is a separate raylet with its own share of the CPUs, joined to one head, so the
scheduling, placement and failure paths are those of a real multi-node cluster. The nodes are
started with Ray's own single-machine cluster helper (``ray.cluster_utils.Cluster``) rather
than ``ray start``: on Linux, Ray (2.x) gives a node joined by ``ray start`` the machine's
outward address even when told ``--node-ip-address=127.0.0.1``, and binds its servers to all
interfaces for any other address, so ``ray start`` cannot build a loopback-only multi-node
cluster. With ``RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER=0`` set before Ray is imported (see
:mod:`pavenet_sdk.cluster.engine`) every node here is 127.0.0.1 and listens there only.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from typing import Any

from pavenet_sdk.cluster.engine import LOOPBACK, ClusterError, import_ray

NODE_OBJECT_STORE = 128 * 1024**2  # bytes of shared memory per node (poses are small)


class LocalCluster:
    """Start one head node and further worker nodes on 127.0.0.1; stop them all on close.

    Args:
        cpus: CPUs of each node, head first (e.g. ``(1, 1)``: a head and a worker node with
            one CPU each).
        object_store_memory: bytes of object store per node.

    Example:
        >>> with LocalCluster((1, 1)) as cluster:
        ...     summary = run_batch(videos, "out/", address=cluster.address)
    """

    def __init__(
        self, cpus: Sequence[int] = (1, 1), object_store_memory: int = NODE_OBJECT_STORE
    ) -> None:
        if not cpus or any(int(c) < 1 for c in cpus):
            raise ValueError(f"every node needs at least one CPU, got {list(cpus)}")
        self.cpus = [int(c) for c in cpus]
        self.object_store_memory = object_store_memory
        self._cluster: Any = None

    @property
    def address(self) -> str:
        """``HOST:PORT`` of the head, for ``address=`` / ``ray.init(address=...)``."""
        if self._cluster is None:
            raise RuntimeError("the cluster is not started")
        return self._cluster.address

    def start(self, timeout: float = 60.0) -> LocalCluster:
        """Start every node and wait until all have joined."""
        ray = import_ray(loopback=True)
        if ray.is_initialized():
            raise ClusterError("start the LocalCluster before connecting this process to Ray")
        from ray.cluster_utils import Cluster

        common = {"object_store_memory": self.object_store_memory}
        head = {
            **common,
            "num_cpus": self.cpus[0],
            "include_dashboard": False,
            "node_ip_address": LOOPBACK,
        }
        self._cluster = Cluster(initialize_head=True, head_node_args=head)
        try:
            for cpus in self.cpus[1:]:
                self._cluster.add_node(num_cpus=cpus, **common)
            self._cluster.wait_for_nodes(timeout=timeout)
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        """Stop every node this object started (safe to call more than once)."""
        if self._cluster is not None:
            with contextlib.suppress(Exception):
                self._cluster.shutdown()
            self._cluster = None

    def __enter__(self) -> LocalCluster:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
