"""Fixtures of the cluster tests: a loopback Ray instance per module, small clips.

Every module that needs Ray shares one local instance (2 CPUs) started by ``ray_local`` and
stopped at the module's end, which then checks that no Ray process it started is left.
"""

from __future__ import annotations

import os
import time

import pytest
from cluster_helpers import assert_loopback_only, ray_processes, write_clip

from pavenet_sdk.cluster import engine

# before any test module imports ray: a local instance then stays on 127.0.0.1
os.environ.setdefault(engine.LOOPBACK_SWITCH, "0")
STOP_TIMEOUT_S = 30.0


@pytest.fixture(scope="module")
def ray_local():
    """A local, loopback-only Ray instance with 2 CPUs for the module; no process left after."""
    pytest.importorskip("ray")
    before = ray_processes()
    with engine.connect("local", num_cpus=2, object_store_memory=96 * 1024**2) as ray:
        assert ray.get_runtime_context().gcs_address.startswith("127.0.0.1:")
        assert_loopback_only((ray_processes() - before) | {os.getpid()})
        yield ray
    deadline = time.monotonic() + STOP_TIMEOUT_S
    while (left := ray_processes() - before) and time.monotonic() < deadline:
        time.sleep(0.5)
    assert not left, f"Ray processes left behind: {sorted(left)}"


@pytest.fixture(scope="session")
def package(micro_model):
    """The micro test package (random weights), with its ONNX graphs."""
    from pavenet_sdk.runtime.backends import available_backends

    if "onnx" not in available_backends():
        pytest.skip("needs onnxruntime")
    return str(micro_model[1])


@pytest.fixture(scope="session")
def clips(tmp_path_factory):
    """name -> path: two short clips and a long one (split into chunks by the tests)."""
    folder = tmp_path_factory.mktemp("clips")
    lengths = {"short": 4, "mid": 9, "long": 40}
    return {
        name: write_clip(folder / f"{name}.mp4", n, seed)
        for seed, (name, n) in enumerate(lengths.items())
    }
