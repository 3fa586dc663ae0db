"""Teacher fixtures: the synthetic MoveNet graphs, and the real teachers when present."""

from __future__ import annotations

from pathlib import Path

import pytest
from movenet_graphs import REAL_TEACHERS, build_multipose, build_thunder


@pytest.fixture(scope="session")
def synthetic_teachers(tmp_path_factory) -> Path:
    """A teacher folder holding the two synthetic MoveNet graphs under their real names."""
    pytest.importorskip("onnx")
    pytest.importorskip("onnxruntime")
    from pavenet_sdk.teachers.registry import MOVENET_FILES

    folder = tmp_path_factory.mktemp("teachers")
    build_multipose(folder / MOVENET_FILES["multipose"])
    build_thunder(folder / MOVENET_FILES["thunder"])
    return folder


@pytest.fixture(scope="session")
def real_teachers() -> Path:
    from pavenet_sdk.teachers.registry import MOVENET_FILES

    if not all((REAL_TEACHERS / f).is_file() for f in MOVENET_FILES.values()):
        pytest.skip(f"real MoveNet teachers not found in {REAL_TEACHERS}")
    pytest.importorskip("onnxruntime")
    return REAL_TEACHERS
