"""``pavenet label`` end to end on tiny inputs with the synthetic teachers (and a real clip
with the real teachers when present): output layout, filters, resume, bad sources in a batch,
no partial output, one-line errors."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest
from movenet_graphs import SHARED

from pavenet_sdk.cli import main as cli_main
from pavenet_sdk.data.coco import read_coco_keypoints

RED, BLUE = (0, 0, 255), (255, 0, 0)  # BGR


def _video(path: Path, colours: list[tuple[int, int, int]], size=(160, 120)) -> Path:
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), 10.0, size)
    assert writer.isOpened()
    for colour in colours:
        frame = np.zeros((size[1], size[0], 3), np.uint8)
        frame[:] = colour
        writer.write(frame)
    writer.release()
    return path


@pytest.fixture(scope="module")
def clips(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("clips")
    _video(folder / "walk.mp4", [RED] * 12)
    _video(folder / "mixed.mp4", [RED, BLUE, RED, BLUE, RED, BLUE])
    stills = folder / "stills"
    stills.mkdir()
    for i, colour in enumerate([RED, BLUE, RED]):
        image = np.zeros((90, 130, 3), np.uint8)
        image[:] = colour
        cv2.imwrite(str(stills / f"photo{i}.png"), image)
    return folder


def _label(teachers: Path, out: Path, *sources, extra=()) -> int:
    argv = ["label", *map(str, sources), "--teacher", "movenet-multipose", "--teacher-dir",
            str(teachers), "--out", str(out), "--no-progress", *extra]  # fmt: skip
    return cli_main(argv)


def test_video_labels_every_nth_frame_with_context(synthetic_teachers, clips, tmp_path):
    out = tmp_path / "out"
    assert _label(synthetic_teachers, out, clips / "walk.mp4",
                  extra=["--every", "4", "--context", "1", "--min-score", "0.5"]) == 0  # fmt: skip
    data = json.loads((out / "walk.json").read_text())
    assert data["info"]["teacher"] == "movenet-multipose" and data["info"]["every"] == 4
    assert [img["frame_id"] for img in data["images"]] == [0, 1, 3, 4, 5, 7, 8, 9]
    assert all(img["file_name"] == f"walk/{img['frame_id']:06d}.jpg" for img in data["images"])
    assert sorted(p.name for p in (out / "walk").iterdir()) == [
        f"{i:06d}.jpg" for i in (0, 1, 3, 4, 5, 7, 8, 9)
    ]
    (seq,) = read_coco_keypoints(out / "walk.json")  # the folder is a dataset the reader loads
    assert seq.name == "walk" and [f.is_labeled for f in seq.frames] == [
        True, False, False, True, False, False, True, False,
    ]  # fmt: skip
    for frame in seq.frames:
        assert Path(frame.image_path).is_file() and frame.image_size == (160, 120)
        assert len(frame.persons) == (2 if frame.is_labeled else 0)  # scores ~1.0 and 0.6
    first, second = seq.frames[0].persons
    assert first.score == pytest.approx(1.0, abs=0.03) and second.score == pytest.approx(0.6)
    # the nose (confidence 0.1 < --joint-threshold 0.3) is written unlabelled
    assert tuple(first.keypoints[0]) == (0, 0, 0) and (first.keypoints[1:, 2] == 2).all()
    assert first.scores[0] == pytest.approx(0.1) and first.box is not None


def test_filters_drop_persons(synthetic_teachers, clips, tmp_path):
    assert _label(synthetic_teachers, tmp_path / "a", clips / "mixed.mp4",
                  extra=["--min-score", "0.7"]) == 0  # fmt: skip
    (seq,) = read_coco_keypoints(tmp_path / "a" / "mixed.json")
    assert [len(f.persons) for f in seq.frames] == [1, 0, 1, 0, 1, 0]  # red frames score ~1.0
    assert _label(synthetic_teachers, tmp_path / "b", clips / "mixed.mp4",
                  extra=["--min-box", "100"]) == 0  # boxes are 40 x 72 px  # fmt: skip
    (seq,) = read_coco_keypoints(tmp_path / "b" / "mixed.json")
    assert all(not f.persons for f in seq.frames) and all(f.is_labeled for f in seq.frames)
    assert _label(synthetic_teachers, tmp_path / "c", clips / "mixed.mp4",
                  extra=["--min-joints", "17"]) == 0  # the nose is below 0.3  # fmt: skip
    (seq,) = read_coco_keypoints(tmp_path / "c" / "mixed.json")
    assert all(not f.persons for f in seq.frames)


def test_image_folder_as_stills(synthetic_teachers, clips, tmp_path):
    out = tmp_path / "out"
    assert _label(synthetic_teachers, out, clips / "stills", extra=["--max-frames", "2"]) == 0
    data = json.loads((out / "stills.json").read_text())
    assert "videos" not in data and all("video_id" not in img for img in data["images"])
    seqs = read_coco_keypoints(out / "stills.json")
    assert [s.name for s in seqs] == ["photo0", "photo1"]  # one-frame sequences
    for seq in seqs:
        (frame,) = seq.frames
        assert frame.image_size == (130, 90)
        copied = Path(frame.image_path)
        assert copied.read_bytes() == (clips / "stills" / copied.name).read_bytes()


def test_resume_skips_complete_outputs_and_redoes_the_rest(synthetic_teachers, clips, tmp_path,
                                                           capsys):  # fmt: skip
    out = tmp_path / "out"
    sources = (clips / "walk.mp4", clips / "mixed.mp4")
    assert _label(synthetic_teachers, out, *sources, extra=["--max-frames", "2"]) == 0
    done = out / "mixed.json"
    before = done.read_bytes(), done.stat().st_mtime_ns
    (out / "walk.json").unlink()  # as if interrupted before walk's JSON was written
    capsys.readouterr()
    assert _label(synthetic_teachers, out, *sources, extra=["--max-frames", "2"]) == 0
    printed = capsys.readouterr().out
    assert "mixed.mp4: done earlier" in printed and "walk.mp4: 2 frames" in printed
    assert (done.read_bytes(), done.stat().st_mtime_ns) == before
    assert (out / "walk.json").is_file()
    assert _label(synthetic_teachers, out, *sources, extra=["--overwrite"]) == 0
    assert len(read_coco_keypoints(done)[0].frames) == 6
    assert [s.name for s in read_coco_keypoints(out)] == ["mixed", "walk"]  # the whole folder


def test_a_bad_video_does_not_stop_the_batch(synthetic_teachers, clips, tmp_path, capsys):
    broken = tmp_path / "broken.mp4"
    broken.write_bytes(b"not a video at all" * 100)
    stills = tmp_path / "photos"
    stills.mkdir()
    cv2.imwrite(str(stills / "good.png"), np.full((50, 60, 3), 200, np.uint8))
    (stills / "bad.jpg").write_bytes(b"\xff\xd8 truncated")
    out = tmp_path / "out"
    assert _label(synthetic_teachers, out, broken, clips / "mixed.mp4", stills) == 1
    err = capsys.readouterr().err
    assert "failed: 2" in err
    assert f"{broken}: cannot open video" in err and f"{stills / 'bad.jpg'}: cannot decode" in err
    assert not (out / "broken.json").exists() and not (out / "broken").exists()
    assert (out / "mixed.json").is_file()
    assert [s.name for s in read_coco_keypoints(out / "photos.json")] == ["good"]


def test_a_crash_mid_video_leaves_no_json(synthetic_teachers, clips, tmp_path, monkeypatch,
                                          capsys):  # fmt: skip
    from pavenet_sdk.teachers import registry

    real = registry.load_teacher

    def crashing(*args, **kwargs):
        teacher, calls = real(*args, **kwargs), []

        class Crashing:
            name, layout = teacher.name, teacher.layout

            def __call__(self, image):
                calls.append(1)
                if len(calls) == 3:
                    raise RuntimeError("teacher crashed on frame 2")
                return teacher(image)

        return Crashing()

    monkeypatch.setattr(registry, "load_teacher", crashing)
    out = tmp_path / "out"
    assert _label(synthetic_teachers, out, clips / "walk.mp4") == 1
    assert "walk.mp4: teacher crashed on frame 2" in capsys.readouterr().err
    assert not (out / "walk.json").exists()
    assert not list(out.glob("*.tmp")) and not list(out.glob(".*"))
    monkeypatch.setattr(registry, "load_teacher", real)
    assert _label(synthetic_teachers, out, clips / "walk.mp4") == 0  # resume redoes it
    assert len(read_coco_keypoints(out / "walk.json")[0].frames) == 12


def _error_line(capsys) -> str:
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1, err
    assert err[0].startswith("pavenet label: error: ")
    return err[0]


def test_bad_arguments_are_one_line_errors(synthetic_teachers, clips, tmp_path, capsys):
    out = tmp_path / "out"
    video = clips / "walk.mp4"
    assert cli_main(["label", str(video), "--teacher", "movenet-thunder", "--out", str(out)]) == 2
    assert "--teacher-dir" in _error_line(capsys)
    empty = tmp_path / "empty"
    empty.mkdir()
    assert cli_main(["label", str(video), "--teacher", "movenet-thunder", "--teacher-dir",
                     str(empty), "--out", str(out)]) == 2  # fmt: skip
    assert str(empty / "movenet-multipose-lightning.onnx") in _error_line(capsys)
    corrupt = tmp_path / "corrupt.onnx"
    corrupt.write_bytes(b"garbage")
    assert cli_main(["label", str(video), "--teacher", str(corrupt), "--out", str(out)]) == 2
    assert f"{corrupt}: not a loadable ONNX model" in _error_line(capsys)
    assert _label(synthetic_teachers, out, video, extra=["--every", "0"]) == 2
    assert "--every must be >= 1" in _error_line(capsys)
    assert _label(synthetic_teachers, out, video, extra=["--size", "250"]) == 2
    assert "--size must be a positive multiple of 32" in _error_line(capsys)
    assert _label(synthetic_teachers, out, tmp_path / "missing.mp4") == 2
    assert "missing.mp4" in _error_line(capsys)
    other = tmp_path / "other"
    other.mkdir()
    (other / "walk.mp4").write_bytes(video.read_bytes())
    assert _label(synthetic_teachers, out, video, other / "walk.mp4") == 2
    assert "would both write walk.json" in _error_line(capsys)
    assert _label(synthetic_teachers, out, video, extra=["--min-score", "2"]) == 2
    assert "min_score must be in [0, 1]" in _error_line(capsys)
    assert not out.exists()  # nothing written on bad arguments


def test_flip_and_real_teacher_on_a_real_clip(real_teachers, tmp_path):
    clip = SHARED / "data" / "real-video" / "clips" / "sports2d-walk.mp4"
    if not clip.is_file():
        pytest.skip(f"{clip} not found")
    out = tmp_path / "out"
    argv = ["label", str(clip), "--teacher", "movenet-thunder", "--teacher-dir",
            str(real_teachers), "--out", str(out), "--max-frames", "2", "--every", "50", "--flip",
            "--no-progress"]  # fmt: skip
    assert cli_main(argv) == 0
    (seq,) = read_coco_keypoints(out / "sports2d-walk.json")
    assert [f.image_id for f in seq.frames] and len(seq.frames) == 2
    assert json.loads((out / "sports2d-walk.json").read_text())["info"]["teacher"] == (
        "movenet-thunder+flip"
    )
    for frame in seq.frames:  # a person in full view (and at times a second one)
        assert 1 <= len(frame.persons) <= 2
        assert max((p.keypoints[:, 2] > 0).sum() for p in frame.persons) >= 12


def test_labelling_needs_no_torch(synthetic_teachers, clips, tmp_path):
    import subprocess
    import sys

    code = (
        "import sys; sys.modules['torch'] = None\n"  # any `import torch` now fails
        "from pavenet_sdk.cli import main\n"
        "sys.exit(main(sys.argv[1:]))"
    )
    argv = ["label", str(clips / "mixed.mp4"), "--teacher", "movenet-thunder", "--teacher-dir",
            str(synthetic_teachers), "--out", str(tmp_path), "--no-progress"]  # fmt: skip
    out = subprocess.run([sys.executable, "-c", code, *argv], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert len(read_coco_keypoints(tmp_path / "mixed.json")[0].frames) == 6


def test_image_folder_as_one_video(synthetic_teachers, clips, tmp_path):
    out = tmp_path / "out"
    assert _label(synthetic_teachers, out, clips / "stills", extra=["--sequence"]) == 0
    (seq,) = read_coco_keypoints(out / "stills.json")
    assert seq.name == "stills" and [Path(f.image_path).name for f in seq.frames] == [
        "000000.jpg", "000001.jpg", "000002.jpg",
    ]  # fmt: skip
    assert [len(f.persons) for f in seq.frames] == [2, 1, 2]  # red, blue, red
