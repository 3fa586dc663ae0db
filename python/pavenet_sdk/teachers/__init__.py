"""Teachers: pose models that label real images for a student to learn from.

- :mod:`~pavenet_sdk.teachers.base`: the interface (``Teacher``) and ``TeacherError``;
- :mod:`~pavenet_sdk.teachers.movenet`: MoveNet MultiPose, and Thunder top-down (ONNX Runtime);
- :mod:`~pavenet_sdk.teachers.package`: any pavenet model package;
- :mod:`~pavenet_sdk.teachers.flip`: horizontal-flip averaging of any teacher;
- :mod:`~pavenet_sdk.teachers.registry`: ``load_teacher`` by name or path;
- :mod:`~pavenet_sdk.teachers.labeller`: filters and the dataset writer behind ``pavenet label``.

Nothing here downloads a model or imports torch (the package teacher's torch backend aside).
"""

from pavenet_sdk.teachers.base import Teacher, TeacherError
from pavenet_sdk.teachers.registry import TEACHERS, load_teacher

__all__ = ["TEACHERS", "Teacher", "TeacherError", "load_teacher"]
