"""``StreamPool`` / ``pavenet watch`` on a local Ray instance against single-process streams."""

from __future__ import annotations

import json

import numpy as np
from cluster_helpers import assert_same_results, serial_results, write_clip

from pavenet_sdk.cli import main as cli_main
from pavenet_sdk.cluster.streams import StreamPool, stream_names

OPTIONS = {"score_threshold": 0.0}  # random weights score low: keep every person


def _collect(pool: StreamPool, on_result=None) -> dict[str, list]:
    got: dict[str, list] = {}
    for name, result in pool.results(duration=120):
        got.setdefault(name, []).append(result)
        if on_result is not None:
            on_result(pool, name, result)
    return got


def test_more_streams_than_workers_each_equal_a_single_process_stream(
    ray_local, package, clips, tmp_path
):
    sources = [clips["short"], clips["mid"], clips["long"], str(tmp_path / "gone.mp4")]
    out = tmp_path / "jsonl"
    seen = []
    with StreamPool(
        sources, model=package, backend="onnx", workers=2, out=out,
        on_result=lambda name, r: seen.append(name), **OPTIONS,
    ) as pool:  # fmt: skip
        got = _collect(pool)
        stats = pool.stats()
    assert stats["gone"].state == "failed" and "not found" in stats["gone"].error
    assert set(got) == {"short", "mid", "long"} and len(seen) == 4 + 9 + 40
    for name in got:
        expected = serial_results(package, clips[name], **OPTIONS)
        assert_same_results(got[name], expected)  # in order, equal poses and ids
        s = stats[name]
        assert (s.state, s.delivered, s.read, s.dropped, s.restarts) == (
            "ended",
            len(expected),
            len(expected),
            0,
            0,
        )
        lines = [json.loads(x) for x in (out / f"{name}.jsonl").read_text().splitlines()]
        assert [x["frame_index"] for x in lines] == list(range(len(expected)))
        assert lines[-1]["track_ids"] == expected[-1].track_ids.tolist()


def test_a_stream_whose_worker_dies_goes_on_elsewhere_unchanged(ray_local, package, clips):
    killed = []

    def kill_its_worker(pool, name, result):
        if name == "long" and result.frame_index == 12 and not killed:
            slot = pool._streams["long"].slot
            ray_local.kill(pool._pool.actor(slot))
            killed.append(slot)

    sources = [clips["long"], clips["mid"], clips["short"]]
    with StreamPool(sources, model=package, backend="onnx", workers=2, **OPTIONS) as pool:
        got = _collect(pool, kill_its_worker)
        stats = pool.stats()
    assert killed and pool.replaced == 1
    assert stats["long"].restarts == 1 and stats["long"].lost == 0
    for name in ("long", "mid", "short"):
        assert stats[name].state == "ended"
        assert_same_results(got[name], serial_results(package, clips[name], **OPTIONS))


def test_a_live_stream_behind_drops_its_oldest_frames(ray_local, package, tmp_path):
    fast = write_clip(tmp_path / "fast.mp4", 40, seed=7, fps=500.0)  # faster than inference
    with StreamPool(
        [fast], model=package, backend="onnx", workers=1, queue_size=1, realtime=True,
        **OPTIONS,
    ) as pool:  # fmt: skip
        got = _collect(pool)["fast"]
        stats = pool.stats()["fast"]
    indices = [r.frame_index for r in got]
    assert stats.dropped > 0 and stats.read == 40
    assert stats.delivered == len(got) == stats.read - stats.dropped
    assert indices == sorted(set(indices))
    # the worker's window saw exactly the frames it kept, as a single stream fed those
    from pavenet_sdk import Estimator
    from pavenet_sdk.runtime.sources import open_source

    frames, _ = open_source(fast)
    kept = [f for i, f in enumerate(frames) if i in set(indices)]
    stream = Estimator(package, backend="onnx", **OPTIONS).stream()
    expected = list(stream.run_frames(kept))
    for a, b in zip(got, expected, strict=True):
        np.testing.assert_allclose(a.keypoints, b.keypoints, atol=1e-4)
        np.testing.assert_array_equal(a.track_ids, b.track_ids)


def test_pavenet_watch_writes_json_lines_per_stream(ray_local, package, clips, tmp_path):
    code = cli_main(
        ["watch", clips["short"], clips["mid"], "--out", str(tmp_path), "--workers", "2",
         "--model", package, "--backend", "onnx", "--score-threshold", "0"]
    )  # fmt: skip
    assert code == 0
    for name, frames in (("short", 4), ("mid", 9)):
        lines = (tmp_path / f"{name}.jsonl").read_text().splitlines()
        assert [json.loads(x)["frame_index"] for x in lines] == list(range(frames))


def test_stream_names_name_cameras_by_index():
    assert stream_names([0, "2", "a/clip.mp4", "rtsp://cam/live"]) == [
        "camera0",
        "camera2",
        "clip",
        "live",
    ]


def test_workers_that_cannot_load_the_model_stop_watch_with_one_line(
    ray_local, clips, tmp_path, capsys
):
    code = cli_main(
        ["watch", clips["short"], "--out", str(tmp_path / "out"), "--workers", "1",
         "--model", str(tmp_path / "no-model")]
    )  # fmt: skip
    err = capsys.readouterr().err
    assert code == 2 and "Traceback" not in err
    assert err.startswith("pavenet watch: error: the workers could not start: ")
    assert "no-model" in err
