"""load_teacher: names, paths, and one-line errors that name the file."""

from __future__ import annotations

import shutil

import pytest
from movenet_graphs import build_thunder

from pavenet_sdk.teachers.base import Teacher, TeacherError
from pavenet_sdk.teachers.flip import FlipAveraged
from pavenet_sdk.teachers.movenet import MoveNetMultiPose, MoveNetThunder
from pavenet_sdk.teachers.registry import MOVENET_FILES, load_teacher


def _one_line(exc: pytest.ExceptionInfo) -> str:
    message = str(exc.value)
    assert "\n" not in message
    return message


def test_names_and_paths(synthetic_teachers):
    multipose = load_teacher("movenet-multipose", teacher_dir=synthetic_teachers)
    assert isinstance(multipose, MoveNetMultiPose) and isinstance(multipose, Teacher)
    assert multipose.layout.name == "coco-17" and multipose.name == "movenet-multipose"
    thunder = load_teacher("movenet-thunder", teacher_dir=synthetic_teachers, size=320)
    assert isinstance(thunder, MoveNetThunder) and thunder.detector.size == 320
    path = load_teacher(synthetic_teachers / MOVENET_FILES["multipose"])
    assert isinstance(path, MoveNetMultiPose)
    flipped = load_teacher("movenet-multipose", teacher_dir=synthetic_teachers, flip=True)
    assert isinstance(flipped, FlipAveraged) and flipped.name == "movenet-multipose+flip"


def test_missing_folder_or_file_says_where_to_get_movenet(synthetic_teachers, tmp_path):
    with pytest.raises(TeacherError) as exc:
        load_teacher("movenet-thunder")
    assert "--teacher-dir" in _one_line(exc) and "Kaggle" in str(exc.value)
    partial = tmp_path / "partial"
    partial.mkdir()
    shutil.copy(synthetic_teachers / MOVENET_FILES["multipose"], partial)
    with pytest.raises(TeacherError) as exc:
        load_teacher("movenet-thunder", teacher_dir=partial)
    message = _one_line(exc)
    assert str(partial / MOVENET_FILES["thunder"]) in message and "Apache-2.0" in message


def test_corrupt_onnx_names_the_file(synthetic_teachers, tmp_path):
    folder = tmp_path / "corrupt"
    shutil.copytree(synthetic_teachers, folder)
    bad = folder / MOVENET_FILES["multipose"]
    bad.write_bytes(b"\x08\x07 this is not a protobuf" * 10)
    with pytest.raises(TeacherError) as exc:
        load_teacher("movenet-multipose", teacher_dir=folder)
    assert _one_line(exc).startswith(f"{bad}: not a loadable ONNX model")


def test_wrong_graph_names_the_file_and_the_expected_io(tmp_path):
    pytest.importorskip("onnx")
    wrong = build_thunder(tmp_path / "thunder-not-multipose.onnx")
    with pytest.raises(TeacherError) as exc:
        load_teacher(wrong)  # a Thunder graph given where a MultiPose one is expected
    message = _one_line(exc)
    assert message.startswith(f"{wrong}: not a MoveNet MultiPose graph")
    assert "[1, 6, 56]" in message and "[1, 1, 17, 3]" in message


def test_unknown_teacher_and_bad_package(tmp_path):
    with pytest.raises(TeacherError) as exc:
        load_teacher("movenet-lightning-9000")
    assert "unknown teacher 'movenet-lightning-9000'" in _one_line(exc)
    folder = tmp_path / "not-a-package"
    folder.mkdir()
    with pytest.raises(TeacherError) as exc:
        load_teacher(folder)
    assert "manifest.json is missing" in _one_line(exc) and str(folder) in str(exc.value)
