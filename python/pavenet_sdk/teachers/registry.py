"""``load_teacher``: a teacher from a name, a MoveNet file or a pavenet model package."""

from __future__ import annotations

from pathlib import Path

from pavenet_sdk.teachers.base import Teacher, TeacherError

__all__ = ["MOVENET_FILES", "TEACHERS", "WHERE_TO_GET_MOVENET", "load_teacher"]

# teacher name -> the files it needs in the teacher folder
MOVENET_FILES = {
    "multipose": "movenet-multipose-lightning.onnx",
    "thunder": "movenet-singlepose-thunder.onnx",
}
TEACHERS = {
    "movenet-multipose": ("multipose",),
    "movenet-thunder": ("multipose", "thunder"),  # MultiPose finds the people, Thunder refines
}
WHERE_TO_GET_MOVENET = (
    "MoveNet is Google's (Apache-2.0): get MultiPose Lightning and SinglePose Thunder from "
    "Kaggle Models (google/movenet), convert them to ONNX with tf2onnx and name the folder "
    "with --teacher-dir (docs/labelling.md)"
)


def load_teacher(
    name_or_path: str | Path,
    *,
    teacher_dir: str | Path | None = None,
    threads: int = 1,
    size: int = 256,
    flip: bool = False,
) -> Teacher:
    """A teacher by name or path.

    Args:
        name_or_path: ``"movenet-multipose"`` or ``"movenet-thunder"`` (files from
            ``teacher_dir``, see ``MOVENET_FILES``); a MoveNet MultiPose ``.onnx`` file; a
            pavenet model package (directory or archive) or a bundled model's name.
        teacher_dir: the folder holding the MoveNet ``.onnx`` files.
        threads: inference threads (default 1).
        size: long side of MultiPose's input, a multiple of 32.
        flip: average each image with its mirror image (:class:`FlipAveraged`).

    Raises:
        TeacherError: an unknown name, a missing folder or file (the message says where to
            get MoveNet), or a file that is not the expected model (the file is named).
    """
    from pavenet_sdk.teachers.flip import FlipAveraged

    teacher = _load(str(name_or_path), teacher_dir, threads, size)
    return FlipAveraged(teacher) if flip else teacher


def _load(name: str, teacher_dir: str | Path | None, threads: int, size: int) -> Teacher:
    from pavenet_sdk.teachers.movenet import MoveNetMultiPose, MoveNetThunder

    if name in TEACHERS:
        if teacher_dir is None:
            raise TeacherError(f"teacher {name!r} needs --teacher-dir; {WHERE_TO_GET_MOVENET}")
        files = {part: Path(teacher_dir) / MOVENET_FILES[part] for part in TEACHERS[name]}
        for file in files.values():
            if not file.is_file():
                raise TeacherError(f"teacher file not found: {file}; {WHERE_TO_GET_MOVENET}")
        detector = MoveNetMultiPose(files["multipose"], size=size, threads=threads)
        if name == "movenet-multipose":
            return detector
        return MoveNetThunder(files["thunder"], detector, threads=threads)
    path = Path(name)
    if path.is_file() and path.suffix.lower() == ".onnx":
        return MoveNetMultiPose(path, size=size, threads=threads)
    return _package(name, threads)


def _package(name: str, threads: int) -> Teacher:
    from pavenet_sdk.runtime.package import PackageError
    from pavenet_sdk.teachers.package import PackageTeacher

    try:
        return PackageTeacher(name, threads=threads)
    except FileNotFoundError:
        raise TeacherError(
            f"unknown teacher {name!r}: give {' or '.join(TEACHERS)} (with --teacher-dir), a "
            "MoveNet MultiPose .onnx file, or a pavenet model package"
        ) from None
    except PackageError as exc:
        raise TeacherError(f"teacher {name}: {exc}") from None
