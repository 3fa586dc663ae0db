"""ONNX Runtime sessions for teacher graphs: threads, and errors that name the file."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pavenet_sdk.teachers.base import TeacherError

__all__ = ["GraphSignature", "open_session"]


class GraphSignature:
    """The expected input and output of a teacher graph (None: any size on that axis).

    Args:
        what: the model's name, for errors ("MoveNet MultiPose").
        input_shape / output_shape: expected shapes; a None entry accepts any size.
        input_type: ONNX Runtime type string of the input, e.g. ``"tensor(int32)"``.
    """

    def __init__(
        self,
        what: str,
        input_shape: Sequence[int | None],
        output_shape: Sequence[int | None],
        input_type: str,
    ) -> None:
        self.what = what
        self.input_shape = tuple(input_shape)
        self.output_shape = tuple(output_shape)
        self.input_type = input_type

    def describe(self) -> str:
        def dims(shape: tuple) -> str:
            return "[" + ", ".join("?" if d is None else str(d) for d in shape) + "]"

        kind = self.input_type.removeprefix("tensor(").rstrip(")")
        return f"{kind} input {dims(self.input_shape)} -> output {dims(self.output_shape)}"

    def matches(self, session: Any) -> bool:
        inputs, outputs = session.get_inputs(), session.get_outputs()
        if len(inputs) != 1 or len(outputs) != 1 or inputs[0].type != self.input_type:
            return False
        return _fits(inputs[0].shape, self.input_shape) and _fits(
            outputs[0].shape, self.output_shape
        )


def _fits(actual: Sequence[Any], expected: tuple[int | None, ...]) -> bool:
    """Whether an ONNX shape (ints, or strings/None for symbolic axes) fits ``expected``."""
    if len(actual) != len(expected):
        return False
    for got, want in zip(actual, expected, strict=True):
        if want is not None and isinstance(got, int) and got != want:
            return False
    return True


def open_session(path: str | Path, signature: GraphSignature, threads: int = 1) -> Any:
    """An ONNX Runtime CPU session for ``path``, checked against ``signature``.

    Args:
        path: the ``.onnx`` file.
        signature: the graph's expected input and output.
        threads: intra-op threads (default 1: on shared cores more threads are often slower).

    Raises:
        TeacherError: onnxruntime is not installed, the file is missing, not a loadable ONNX
            graph, or a graph of another model (one line, naming the file).
    """
    path = Path(path)
    if not isinstance(threads, int) or threads < 1:
        raise TeacherError(f"threads must be a positive integer, got {threads!r}")
    if not path.is_file():
        raise TeacherError(f"teacher file not found: {path}")
    try:
        import onnxruntime as ort
    except ImportError:
        raise TeacherError(
            "ONNX teachers need onnxruntime: pip install 'pavenet-sdk[onnx]'"
        ) from None
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.log_severity_level = 3  # errors only: conversion warnings are not the user's
    try:
        session = ort.InferenceSession(
            str(path), sess_options=options, providers=["CPUExecutionProvider"]
        )
    except Exception as exc:  # onnxruntime raises its own exception types
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise TeacherError(f"{path}: not a loadable ONNX model ({reason[:200]})") from None
    if not signature.matches(session):
        got = ", ".join(f"{i.type} {list(i.shape)}" for i in session.get_inputs())
        out = ", ".join(f"{o.type} {list(o.shape)}" for o in session.get_outputs())
        raise TeacherError(
            f"{path}: not a {signature.what} graph: expected {signature.describe()}, "
            f"got input {got} -> output {out}"
        )
    return session
