"""Frame sources: a stream URL is read live (served over HTTP on 127.0.0.1 here)."""

from __future__ import annotations

import functools
import http.server
import threading
from pathlib import Path

import cv2
import numpy as np
import pytest

from pavenet_sdk.runtime.sources import STREAM_SCHEMES, camera_index, is_live, open_source


@pytest.fixture
def served_clip(tmp_path):
    path = tmp_path / "clip.mp4"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), 10.0, (64, 48))
    for i in range(5):
        writer.write(np.full((48, 64, 3), 40 * i, np.uint8))
    writer.release()
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(tmp_path))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/clip.mp4"
    finally:
        server.shutdown()
        server.server_close()


def test_stream_url_is_read_live(served_clip):
    frames, info = open_source(served_clip)
    assert info.num_frames is None  # live: length unknown
    got = list(frames)
    assert len(got) == 5 and got[0][0].shape == (48, 64, 3)
    stamps = [t for _, t in got]
    assert stamps == sorted(stamps) and stamps[0] >= 0.0  # monotonic clock


def test_unreachable_stream_names_it():
    with pytest.raises(ValueError, match="cannot open stream http://127.0.0.1:9/x.mp4"):
        open_source("http://127.0.0.1:9/x.mp4")


@pytest.mark.parametrize(
    ("source", "camera", "live"),
    [
        (0, 0, True),
        ("2", 2, True),
        ("rtsp://cam/live", None, True),
        ("HTTPS://host/clip.mp4", None, True),
        ("clip.mp4", None, False),
        ("videos/10", None, False),
        (Path("0"), None, False),  # a path, even one named like a camera
    ],
)
def test_cameras_and_stream_urls_are_live(source, camera, live):
    assert camera_index(source) == camera
    assert is_live(source) is live


def test_every_stream_scheme_is_live():
    assert all(is_live(f"{scheme}host/x") for scheme in STREAM_SCHEMES)
