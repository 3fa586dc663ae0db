"""Helpers of the cluster tests: Ray's processes, small clips, the serial reference."""

from __future__ import annotations

import ipaddress
import os
import re
import subprocess
from pathlib import Path

import cv2
import numpy as np
import pytest

RAY_PROCESS = re.compile(r"raylet|gcs_server|ray::|/ray/(_private|dashboard|autoscaler)/")
FPS = 25.0
SIZE = (160, 120)  # w, h


def ray_processes() -> set[int]:
    """PIDs of Ray's processes on this machine (raylet, GCS, workers, agents)."""
    out = subprocess.run(["ps", "-eo", "pid=,args="], capture_output=True, text=True, check=True)
    pids = set()
    for line in out.stdout.splitlines():
        pid, _, args = line.strip().partition(" ")
        if RAY_PROCESS.search(args) and int(pid) != os.getpid():
            pids.add(int(pid))
    return pids


def write_clip(path: Path, frames: int, seed: int, fps: float = FPS) -> str:
    """A synthetic mp4 clip of ``frames`` frames (mp4v)."""
    from pavenet_sdk.data.synth import generate_clip

    clip = generate_clip("mixed", seed=seed, num_frames=frames, size=SIZE)
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), fps, SIZE)
    for frame in clip.frames:
        writer.write(frame)
    writer.release()
    return str(path)


def serial_results(package: str, source: str, **options) -> list:
    """Results of one plain single-process stream over ``source`` (the reference)."""
    from pavenet_sdk import Estimator
    from pavenet_sdk.runtime.sources import open_source

    est = Estimator(package, backend="onnx", threads=1, **options)
    frames, _ = open_source(source)
    return [r for r in est.stream().run_frames(frames)]


def assert_same_results(got: list, expected: list, exact_ids: bool = True) -> None:
    """Same frames in the same order, equal poses, and track ids equal or consistently
    relabelled (one joined id per reference id, both ways)."""
    assert [r.frame_index for r in got] == [r.frame_index for r in expected]
    mapping: dict[int, int] = {}
    for a, b in zip(got, expected, strict=True):
        np.testing.assert_allclose(a.keypoints, b.keypoints, atol=1e-4)
        np.testing.assert_allclose(a.scores, b.scores, atol=1e-6)
        assert a.timestamp == pytest.approx(b.timestamp)
        for x, y in zip(a.track_ids.tolist(), b.track_ids.tolist(), strict=True):
            assert mapping.setdefault(y, x) == x, f"frame {a.frame_index}: id {y} split"
    assert len(set(mapping.values())) == len(mapping), "two reference ids were merged"
    if exact_ids:
        assert all(k == v for k, v in mapping.items())


def listening_addresses(pids: set[int]) -> set[str]:
    """Local addresses of the TCP sockets these processes listen on (from /proc)."""
    inodes = set()
    for pid in pids:
        try:
            links = [os.readlink(f"/proc/{pid}/fd/{fd}") for fd in os.listdir(f"/proc/{pid}/fd")]
        except OSError:  # gone, or not ours to read
            continue
        inodes |= {link[8:-1] for link in links if link.startswith("socket:[")}
    found = set()
    for table, decode in (("/proc/net/tcp", _ipv4), ("/proc/net/tcp6", _ipv6)):
        with open(table) as f:
            for line in f.readlines()[1:]:
                fields = line.split()
                if fields[3] == "0A" and fields[9] in inodes:  # 0A: LISTEN
                    found.add(decode(fields[1].split(":")[0]))
    return found


def _ipv4(hexaddr: str) -> str:
    return str(ipaddress.IPv4Address(bytes.fromhex(hexaddr)[::-1]))


def _ipv6(hexaddr: str) -> str:
    words = [bytes.fromhex(hexaddr[i : i + 8])[::-1] for i in range(0, 32, 8)]
    address = ipaddress.IPv6Address(b"".join(words))
    return str(address.ipv4_mapped or address)


def assert_loopback_only(pids: set[int]) -> None:
    addresses = listening_addresses(pids)
    assert addresses, "found no listening socket to check"
    assert all(ipaddress.ip_address(a).is_loopback for a in addresses), addresses
