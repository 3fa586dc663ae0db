"""Loading PyTorch files without executing pickled code (the one home of ``torch.load``)."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

import torch

__all__ = ["load_tensors"]


def load_tensors(
    path: str | Path, what: str, error: type[Exception] = ValueError,
    safe_globals: Iterable[Any] = (),
) -> Any:  # fmt: skip
    """``torch.load(path, weights_only=True)`` on the CPU: tensors and plain data only.

    Args:
        path: the file.
        what: what the file should be, for messages (e.g. ``"checkpoint"``).
        error: exception type raised for an unreadable file or a pickled object.
        safe_globals: extra classes ``weights_only`` may rebuild (e.g. numpy scalars).

    Raises:
        FileNotFoundError: ``"{what} not found: {path}"``.
        error: ``"{path}: not a readable {what} (...)"``, naming why.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{what} not found: {path}")
    try:
        with torch.serialization.safe_globals(list(safe_globals)):
            return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # noqa: BLE001 - pickle, zip and EOF errors surface as several types
        raise error(f"{path}: not a readable {what} ({exc})") from None
