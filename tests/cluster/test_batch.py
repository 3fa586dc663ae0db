"""``pavenet batch`` / ``run_batch`` on a local Ray instance against serial runs."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from cluster_helpers import assert_same_results, serial_results

from pavenet_sdk.cli import main as cli_main
from pavenet_sdk.cluster.batch import run_batch
from pavenet_sdk.runtime.estimator import TrackerOptions

OPTIONS = {"score_threshold": 0.0}  # random weights score low: keep every person


def _posetrack(path: Path) -> list[tuple[int, np.ndarray, list[int]]]:
    """(frame id, keypoints (N, 17, 3), track ids) of each frame of a PoseTrack file."""
    data = json.loads(path.read_text())
    people: dict[int, list[dict]] = {img["id"]: [] for img in data["images"]}
    for ann in data["annotations"]:
        people[ann["image_id"]].append(ann)
    return [
        (
            image_id,
            np.array([a["keypoints"] for a in anns], np.float64).reshape(len(anns), -1, 3),
            [a["track_id"] for a in anns],
        )
        for image_id, anns in sorted(people.items())
    ]


def _assert_same_file(got: Path, expected: Path) -> None:
    """Equal poses, and track ids equal up to one consistent relabelling."""
    a, b = _posetrack(got), _posetrack(expected)
    assert [f[0] for f in a] == [f[0] for f in b] and a
    mapping: dict[int, int] = {}
    for (_, kp_a, ids_a), (_, kp_b, ids_b) in zip(a, b, strict=True):
        np.testing.assert_allclose(kp_a, kp_b, atol=0.011)  # the files keep 0.01 px
        for x, y in zip(ids_a, ids_b, strict=True):
            assert mapping.setdefault(y, x) == x
    assert len(set(mapping.values())) == len(mapping)


def test_batch_equals_pavenet_run_and_a_bad_source_fails_alone(
    ray_local, package, clips, tmp_path, capsys
):
    bad = tmp_path / "broken.mp4"
    bad.write_text("not a video")
    missing = tmp_path / "missing.mp4"
    sources = [clips["short"], str(bad), clips["mid"], str(missing), clips["long"]]
    out = tmp_path / "out"
    args = ["--model", package, "--backend", "onnx", "--score-threshold", "0"]
    code = cli_main(
        ["batch", *sources, "--out", str(out), "--workers", "2", "--chunk-frames", "16",
         "--summary", str(tmp_path / "summary.json"), *args]
    )  # fmt: skip
    assert code == 1  # some sources failed
    printed = capsys.readouterr().out
    assert "5 sources: 3 done, 0 skipped (complete), 2 failed" in printed
    summary = json.loads((tmp_path / "summary.json").read_text())
    failed = {Path(s["source"]).name: s["error"] for s in summary["sources"] if s["error"]}
    assert set(failed) == {"broken.mp4", "missing.mp4"}
    assert "cannot open video" in failed["broken.mp4"] and "not found" in failed["missing.mp4"]
    assert {s["chunks"] for s in summary["sources"] if s["status"] == "done"} == {1, 3}
    for name in ("short", "mid", "long"):
        reference = tmp_path / f"serial-{name}.json"
        assert cli_main(["run", clips[name], "--json", str(reference), *args]) == 0
        _assert_same_file(out / f"{name}.json", reference)
    assert sorted(p.name for p in out.iterdir()) == ["long.json", "mid.json", "short.json"]


@pytest.mark.parametrize("max_age", [1.0, 0.1])  # lead-in longer / shorter than a chunk
def test_a_chunked_long_video_equals_its_serial_run(ray_local, package, clips, max_age):
    options = {**OPTIONS, "tracker": TrackerOptions(max_age=max_age)}
    summary = run_batch(
        [clips["long"]], model=package, backend="onnx", workers=2, chunk_frames=7, **options
    )
    (record,) = summary.sources
    assert record.status == "done" and record.chunks == 6 and record.frames == 40
    assert_same_results(record.results, serial_results(package, clips["long"], **options))


def test_killing_workers_mid_run_loses_nothing(ray_local, package, clips, tmp_path):
    killed = []

    def kill_every_worker(record):  # when the first source is done: others are running
        if killed:
            return
        for entry in ray_local.util.list_named_actors(all_namespaces=True):
            if entry["name"].startswith("pavenet-batch-"):
                try:
                    actor = ray_local.get_actor(entry["name"], namespace=entry["namespace"])
                except ValueError:  # an actor of an earlier batch, gone meanwhile
                    continue
                ray_local.kill(actor)
                killed.append(entry["name"])

    sources = [clips["short"], clips["long"], clips["mid"]]
    summary = run_batch(
        sources, tmp_path, model=package, backend="onnx", workers=2, chunk_frames=10,
        on_source=kill_every_worker, keep_results=True, **OPTIONS,
    )  # fmt: skip
    assert len(killed) >= 2 and summary.replaced >= 1
    assert max(r.attempts for r in summary.sources) >= 2  # a task ran again elsewhere
    assert [r.status for r in summary.sources] == ["done"] * 3
    for record in summary.sources:
        assert record.json.is_file()
        assert_same_results(record.results, serial_results(package, record.source, **OPTIONS))
    assert not list(tmp_path.glob(".*"))  # no temporary file left


def test_a_rerun_after_an_interruption_does_only_what_is_missing(
    ray_local, package, clips, tmp_path
):
    sources = [clips["short"], clips["mid"], clips["long"]]
    common = {"model": package, "backend": "onnx", "workers": 2, **OPTIONS}

    def interrupt(record):
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run_batch(sources, tmp_path, on_source=interrupt, **common)
    done_first = sorted(p.stem for p in tmp_path.glob("*.json"))
    assert len(done_first) == 1
    stamp = (tmp_path / f"{done_first[0]}.json").stat().st_mtime_ns
    summary = run_batch(sources, tmp_path, video=False, **common)
    skipped = [r.name for r in summary.sources if r.status == "skipped"]
    assert skipped == done_first and summary.count("done") == 2
    assert (tmp_path / f"{done_first[0]}.json").stat().st_mtime_ns == stamp
    again = run_batch(sources, tmp_path, **common)
    assert again.count("skipped") == 3 and again.workers == 0  # nothing started
    assert sorted(p.name for p in tmp_path.iterdir()) == ["long.json", "mid.json", "short.json"]


def test_coco_files_equal_pavenet_run_coco_files(ray_local, package, clips, tmp_path):
    summary = run_batch(
        [clips["mid"]], tmp_path / "out", json_format="coco", model=package, backend="onnx",
        workers=2, chunk_frames=4, **OPTIONS,
    )  # fmt: skip
    assert summary.sources[0].status == "done" and summary.sources[0].chunks == 3
    reference = tmp_path / "serial.json"
    args = ["--model", package, "--backend", "onnx", "--score-threshold", "0"]
    assert cli_main(["run", clips["mid"], "--json", str(reference), "--json-format", "coco",
                     *args]) == 0  # fmt: skip
    assert json.loads((tmp_path / "out" / "mid.json").read_text()) == json.loads(
        reference.read_text()
    )


@pytest.mark.parametrize("chunk_frames", [None, 4])  # drawn while inferring / after joining
def test_video_outputs_are_written_whole(ray_local, package, clips, tmp_path, chunk_frames):
    import cv2

    summary = run_batch(
        [clips["mid"]], tmp_path, video=True, model=package, backend="onnx", workers=1,
        chunk_frames=chunk_frames, **OPTIONS,
    )  # fmt: skip
    (record,) = summary.sources
    assert record.status == "done" and record.video == tmp_path / "mid.mp4"
    assert record.chunks == (1 if chunk_frames is None else 3)
    capture = cv2.VideoCapture(str(record.video))
    assert int(capture.get(cv2.CAP_PROP_FRAME_COUNT)) == 9
    capture.release()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mid.json", "mid.mp4"]


def test_bad_arguments_are_refused_before_starting():
    with pytest.raises(ValueError, match="at least one source"):
        run_batch([])
    with pytest.raises(ValueError, match="one thread"):
        run_batch(["a.mp4"], threads=2)
    with pytest.raises(ValueError, match="output folder"):
        run_batch(["a.mp4"], video=True)
