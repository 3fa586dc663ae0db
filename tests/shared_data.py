"""Where the tests find data kept outside the repository (tests skip when it is absent).

``$PAVENET_SHARED`` if set, else ``shared/`` beside the repository checkout; the test session
exports it (``tests/conftest.py``) so package code that reads ``$PAVENET_SHARED`` agrees.
"""

from __future__ import annotations

import os
from pathlib import Path

SHARED = Path(os.environ.get("PAVENET_SHARED") or Path(__file__).resolve().parents[2] / "shared")
POSETRACK_MINI = SHARED / "data" / "posetrack18-mini"
