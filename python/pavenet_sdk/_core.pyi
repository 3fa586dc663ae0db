"""Type stubs of the private native module (C++, pybind11). Use ``pavenet_sdk.native``."""

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

F32 = npt.NDArray[np.float32]
I64 = npt.NDArray[np.int64]

# ---- deformable attention, build and threads ----

def ms_deform_attn(
    value: F32,
    spatial_shapes: I64,
    level_start_index: I64,
    sampling_locations: F32,
    attention_weights: F32,
    *,
    isa: str = "",
) -> F32:
    """(B,S,H,Dh), (L,2), (L,), (B,Q,H,L,P,2), (B,Q,H,L,P) -> (B,Q,H*Dh)."""

def ms_deform_attn_cuda(
    value: F32,
    spatial_shapes: I64,
    level_start_index: I64,
    sampling_locations: F32,
    attention_weights: F32,
) -> F32:
    """Only present when built with CUDA; host arrays in and out."""

def has_cuda() -> bool: ...
def cuda_device_count() -> int: ...
def set_num_threads(n: int) -> None: ...
def get_num_threads() -> int: ...
def compiled_isas() -> list[str]: ...
def supported_isas() -> list[str]: ...
def active_isa() -> str: ...
def build_info() -> dict[str, object]:
    """version, compiler, isas_compiled, isas_supported, isa, cuda, cuda_devices, threads,
    openmp."""

# ---- frame window ----

class Window:
    @property
    def memories(self) -> F32:
        """(F, N, D) float32, temporal order."""
    @property
    def frame_indices(self) -> I64: ...
    @property
    def frame_index(self) -> int: ...
    @property
    def timestamp(self) -> float: ...

class FrameWindow:
    def __init__(self, T: int) -> None: ...
    def push(self, memory: F32, frame_index: int, timestamp: float) -> list[Window]: ...
    def flush(self) -> list[Window]: ...
    def reset(self) -> None: ...
    @property
    def T(self) -> int: ...
    @property
    def window_size(self) -> int: ...
    @property
    def pending(self) -> int: ...
    @property
    def frames_seen(self) -> int: ...

# ---- pre/post-processing ----

class Letterbox:
    def __init__(
        self,
        *,
        scale: float,
        pad_x: float = 0.0,
        pad_y: float = 0.0,
        in_w: int,
        in_h: int,
        orig_w: int,
        orig_h: int,
        scale_x: float | None = None,
        scale_y: float | None = None,
    ) -> None:
        """scale_x / scale_y default to scale."""
    @property
    def scale(self) -> float: ...
    @property
    def pad_x(self) -> float: ...
    @property
    def pad_y(self) -> float: ...
    @property
    def in_w(self) -> int: ...
    @property
    def in_h(self) -> int: ...
    @property
    def orig_w(self) -> int: ...
    @property
    def orig_h(self) -> int: ...
    @property
    def scale_x(self) -> float:
        """resized_w / orig_w."""
    @property
    def scale_y(self) -> float:
        """resized_h / orig_h."""

def letterbox(
    image: npt.NDArray[np.uint8],
    out_h: int,
    out_w: int,
    *,
    bgr_to_rgb: bool,
    mean: Sequence[float],
    std: Sequence[float],
) -> tuple[F32, Letterbox]: ...
def decode_poses(
    poses: F32,
    logits: F32,
    sigmas: F32,
    letterbox: Letterbox,
    *,
    top_k: int = -1,
    score_threshold: float = 0.0,
    nms_oks: float | None = None,
    oks_sigmas: Sequence[float] = (),
) -> tuple[F32, F32, F32, F32, I64]:
    """-> keypoints (N,K,2), keypoint_scores (N,K), scores (N,), boxes (N,4), indices (N,)."""

# ---- tracking ----

class Tracker:
    def __init__(
        self,
        *,
        oks_threshold: float = 0.3,
        max_age_seconds: float = 1.0,
        min_new_score: float = 0.0,
        sigmas: Sequence[float] = (),
    ) -> None: ...
    def update(
        self, timestamp: float, keypoints: F32, scores: F32, areas: F32 | None = None
    ) -> I64: ...
    def active_ids(self) -> I64: ...
    def reset(self) -> None: ...

class OneEuroSmoother:
    def __init__(
        self, *, min_cutoff: float = 1.0, beta: float = 0.0, d_cutoff: float = 1.0
    ) -> None: ...
    def smooth(self, timestamp: float, track_ids: I64, keypoints: F32) -> F32: ...
    def retain(self, track_ids: I64) -> None: ...
    def reset(self) -> None: ...
    def __len__(self) -> int: ...
