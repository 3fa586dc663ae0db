"""A batch on a two-node cluster simulated on this machine, every node on loopback only."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from cluster_helpers import (
    assert_loopback_only,
    assert_same_results,
    listening_addresses,
    ray_processes,
    serial_results,
)

from pavenet_sdk.cli import main as cli_main
from pavenet_sdk.cluster.batch import run_batch
from pavenet_sdk.cluster.engine import connect
from pavenet_sdk.cluster.local import LocalCluster


def test_a_batch_spreads_over_two_loopback_nodes(package, clips):
    pytest.importorskip("ray")
    before = ray_processes()
    options = {"score_threshold": 0.0}
    with LocalCluster((1, 1)) as cluster, connect(cluster.address) as ray:
        nodes = [n for n in ray.nodes() if n["Alive"]]
        assert len(nodes) == 2 and {n["NodeManagerAddress"] for n in nodes} == {"127.0.0.1"}
        assert_loopback_only((ray_processes() - before) | {os.getpid()})
        summary = run_batch(
            [clips["long"], clips["mid"]], model=package, backend="onnx", chunk_frames=10,
            **options,
        )  # fmt: skip
    assert summary.workers == 2 and summary.nodes == 2
    for record in summary.sources:
        assert_same_results(record.results, serial_results(package, record.source, **options))
    _assert_none_left(before)


def test_pavenet_batch_joins_a_cluster_from_ray_start(package, clips, tmp_path):
    """The README's cluster recipe on one node: `ray start --head`, then `--address auto`
    (which finds the head `ray start` just recorded, and its authentication token)."""
    pytest.importorskip("ray")
    before = ray_processes()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    ray_cli = Path(sys.executable).with_name("ray")
    head = subprocess.Popen(
        [str(ray_cli), "start", "--head", "--block", "--node-ip-address=127.0.0.1",
         f"--port={port}", "--num-cpus=2", "--include-dashboard=false",
         "--disable-usage-stats"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
        # loopback only (the test rule), whatever earlier tests left in os.environ
        env=dict(os.environ, RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER="0", RAY_USAGE_STATS_ENABLED="0"),
    )  # fmt: skip
    try:
        _wait_for_port(port, head)
        deadline = time.monotonic() + 30  # the raylet opens its sockets after the GCS
        while not listening_addresses(ray_processes() - before) and time.monotonic() < deadline:
            time.sleep(0.5)
        assert_loopback_only(ray_processes() - before)
        code = cli_main(
            ["batch", clips["short"], clips["mid"], "--out", str(tmp_path), "--address", "auto",
             "--model", package, "--backend", "onnx", "--score-threshold", "0"]
        )  # fmt: skip
        assert code == 0
        assert sorted(p.name for p in tmp_path.iterdir()) == ["mid.json", "short.json"]
    finally:
        head.terminate()
        head.wait(timeout=60)
        recorded = Path("/tmp/ray/ray_current_cluster")  # where `auto` looks; now stale
        if recorded.is_file() and recorded.read_text().strip() == f"127.0.0.1:{port}":
            recorded.unlink()
    _assert_none_left(before)


def _wait_for_port(port: int, process: subprocess.Popen, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert process.poll() is None, "ray start exited"
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                time.sleep(1.0)  # the GCS is up; give the raylet a moment
                return
        time.sleep(0.2)
    raise TimeoutError(f"no Ray head on port {port} after {timeout} s")


def _assert_none_left(before: set[int]) -> None:
    deadline = time.monotonic() + 30
    while (left := ray_processes() - before) and time.monotonic() < deadline:
        time.sleep(0.5)
    assert not left, f"Ray processes left behind: {sorted(left)}"
