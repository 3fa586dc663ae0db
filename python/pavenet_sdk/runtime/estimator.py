"""``Estimator``: one loaded model shared by many streams; ``Stream``: one camera's state.

Data flow per pushed frame:
    frame -> letterbox (native) -> backend.encode, once per frame -> FrameWindow (native cache)
    -> when frame t+T has arrived: backend.decode(window t-T..t+T) -> decode_poses (native)
    -> tracker (native) [-> One-Euro smoother] -> FrameResult for frame t

Sizes in this API are (width, height) px, like OpenCV's and PIL's; array shapes are numpy's
(H, W, ...).
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from pavenet_sdk import native
from pavenet_sdk.layouts import JointLayout
from pavenet_sdk.manifest import DEFAULT_SCORE_THRESHOLD, GRAPH_FILES, build_manifest
from pavenet_sdk.runtime.backends import Backend, load_backend, resolve_backend
from pavenet_sdk.runtime.models import resolve_model
from pavenet_sdk.runtime.package import ModelPackage, PackageError, load_package
from pavenet_sdk.runtime.results import FrameResult
from pavenet_sdk.runtime.sources import open_source

if TYPE_CHECKING:
    from pavenet_sdk.model import PAVENet


@dataclass(frozen=True)
class TrackerOptions:
    """Identity tracking across frames (OKS assignment, time-based track expiry)."""

    oks_threshold: float = 0.3  # minimum OKS to continue a track
    max_age: float = 1.0  # seconds a track survives without a match


@dataclass(frozen=True)
class SmootherOptions:
    """Timestamp-aware One-Euro keypoint smoothing (units: Hz, px/s)."""

    min_cutoff: float = 1.0
    beta: float = 0.05
    d_cutoff: float = 1.0


class Estimator:
    """Multi-person pose estimation in video, frame by frame.

    Args:
        model: a model package directory or archive, or the name of a bundled model;
            None loads the bundled default. (A PyTorch model in memory:
            :meth:`from_model`.)
        backend: "auto" (fastest installed engine the package supports), "openvino", "onnx",
            "torchscript" or "torch".
        precision: "f32" everywhere; "bf16"/"f16" with OpenVINO where the CPU supports it.
        threads: intra-op threads for the engine and the native core (default 1: on shared
            cores more threads can be much slower; raise it on a dedicated machine).
        score_threshold: persons scoring below this are dropped; None: the package's own
            (its manifest's ``score_threshold``, a per-model calibrated value), else 0.3.
        nms_oks: OKS-NMS threshold in [0, 1] applied to each frame's people: a person whose
            OKS with a better-scoring one exceeds it is dropped as a duplicate (the PAVE-Net
            authors used 0.45 in one revision of their head). None: the package's own (its
            manifest's ``nms_oks``; off when it names none, as for the paper's models);
            False: off.
        track: assign stable ``track_ids`` (always present; sequential ids when False).
        smooth: apply One-Euro smoothing to tracked keypoints.

    Example:
        >>> est = Estimator()
        >>> for result in est.run("video.mp4"):
        ...     print(result.frame_index, result.keypoints.shape, result.track_ids)
    """

    def __init__(
        self,
        model: str | Path | None = None,
        backend: str = "auto",
        *,
        precision: str = "f32",
        threads: int = 1,
        score_threshold: float | None = None,
        nms_oks: float | bool | None = None,
        track: bool = True,
        smooth: bool = False,
        tracker: TrackerOptions | None = None,
        smoother: SmootherOptions | None = None,
    ) -> None:
        _check_options(threads, score_threshold, nms_oks)
        package = load_package(resolve_model(model))
        backend_name = resolve_backend(backend, package)
        native.set_num_threads(threads)
        engine = load_backend(backend_name, package, threads, precision)
        self._setup(
            package, backend_name, engine, threads, score_threshold, nms_oks, track, smooth,
            tracker, smoother,
        )  # fmt: skip

    @classmethod
    def from_model(
        cls,
        model: PAVENet,
        *,
        threads: int = 1,
        score_threshold: float | None = None,
        nms_oks: float | bool | None = None,
        track: bool = True,
        smooth: bool = False,
        tracker: TrackerOptions | None = None,
        smoother: SmootherOptions | None = None,
    ) -> Estimator:
        """An estimator around a PyTorch PAVE-Net held in memory; no files are written.

        The manifest (input size, T, joint layout, normalisation) comes from
        ``model.config``; frames go through the same letterbox, window, decode and tracking
        as a loaded package, with the eager torch backend. Each call runs the model in eval
        mode with the fused attention and restores its mode afterwards, so a model being
        trained can be evaluated between steps. ``threads`` sets torch's and the native
        core's intra-op threads (process-wide). Other arguments as for :class:`Estimator`.
        """
        from pavenet_sdk.runtime.backends.torch import TorchBackend

        _check_options(threads, score_threshold, nms_oks)
        config = getattr(model, "config", None)
        if config is None:
            raise TypeError(f"from_model needs a PAVENet model, got {type(model).__name__}")
        manifest = build_manifest(config, name=config.name, formats=["torch"])
        native.set_num_threads(threads)
        engine = TorchBackend(model, threads)
        est = cls.__new__(cls)
        est._setup(
            ModelPackage(root=None, manifest=manifest), "torch", engine, threads,
            score_threshold, nms_oks, track, smooth, tracker, smoother,
        )  # fmt: skip
        return est

    def _setup(
        self,
        package: ModelPackage,
        backend_name: str,
        engine: Backend,
        threads: int,
        score_threshold: float | None,
        nms_oks: float | bool | None,
        track: bool,
        smooth: bool,
        tracker: TrackerOptions | None,
        smoother: SmootherOptions | None,
    ) -> None:
        self.package = package
        self.backend_name = backend_name
        self.backend = engine
        self._check_graphs()
        self.threads = threads
        if score_threshold is None:
            score_threshold = package.manifest.get("score_threshold", DEFAULT_SCORE_THRESHOLD)
        self.score_threshold = float(score_threshold)
        if nms_oks is None:
            nms_oks = package.manifest.get("nms_oks")
        self.nms_oks = None if nms_oks is None or nms_oks is False else float(nms_oks)
        self.track = track
        self.smooth = smooth
        self.tracker_options = tracker or TrackerOptions()
        self.smoother_options = smoother or SmootherOptions()
        self._default_stream: Stream | None = None

    @property
    def input_resolution(self) -> tuple[int, int]:
        """(width, height) px of the model input frames are letterboxed into."""
        return self.package.input_resolution

    @property
    def layout(self) -> JointLayout:
        """The joint layout of every result's keypoints."""
        return self.package.layout

    def __repr__(self) -> str:
        w, h = self.input_resolution
        return (
            f"Estimator(model={self.package.name!r}, backend={self.backend_name!r}, "
            f"precision={self.backend.precision!r}, threads={self.threads}, "
            f"input={w}x{h}, T={self.package.T}, layout={self.layout.name!r})"
        )

    def _check_graphs(self) -> None:
        """Run one blank window through both graphs and check the shapes against the manifest.

        A package whose graphs do not fit its manifest (swapped, from another model, wrong
        input size) fails here with the file named, not at the first frame; it also warms up
        the engine.
        """
        manifest, root = self.package.manifest, self.package.root
        if root is None:
            where, encoder, decoder = f"model {self.package.name!r}", "the model", "the model"
        else:
            fmt = self.backend_name if self.backend_name in self.package.formats else "onnx"
            files = GRAPH_FILES[fmt]
            where = str(root)
            encoder = files.get("encoder", files.get("checkpoint"))
            decoder = files.get("decoder", encoder)
        in_w, in_h = self.input_resolution
        try:
            memory = self.backend.encode(np.zeros((1, 3, in_h, in_w), np.float32))
        except Exception as exc:  # engines raise their own exception types
            raise PackageError(
                f"{where}: {encoder} does not run on a (1, 3, {in_h}, {in_w}) image: {exc}"
            ) from None
        expected = (manifest["num_tokens"], manifest["d_model"])
        if memory.shape != expected:
            raise PackageError(
                f"{where}: {encoder} returned memory {memory.shape}, the manifest says {expected}"
            )
        window = np.repeat(memory[None], 2 * self.package.T + 1, axis=0)
        try:
            poses, _, _ = self.backend.decode(window)
        except Exception as exc:  # engines raise their own exception types
            raise PackageError(f"{where}: {decoder} does not decode a window: {exc}") from None
        if poses.shape[1:] != (manifest["num_joints"], 2):
            raise PackageError(
                f"{where}: {decoder} returned poses {poses.shape}, "
                f"expected (M, {manifest['num_joints']}, 2)"
            )

    def stream(self) -> Stream:
        """A new independent stream (one per camera) sharing this loaded model."""
        return Stream(self)

    @property
    def default_stream(self) -> Stream:
        if self._default_stream is None:
            self._default_stream = self.stream()
        return self._default_stream

    def push_frame(self, frame: np.ndarray, timestamp: float | None = None) -> list[FrameResult]:
        """Push one frame into the default stream; see :meth:`Stream.push_frame`."""
        return self.default_stream.push_frame(frame, timestamp)

    def flush(self) -> list[FrameResult]:
        """Finish the default stream: results for the frames still waiting for neighbours."""
        return self.default_stream.flush()

    def reset(self) -> None:
        """Forget the default stream's frames and tracks (start a new video)."""
        self.default_stream.reset()

    def run(self, source: str | int | Path, fps: float | None = None) -> Iterator[FrameResult]:
        """Iterate the results of a video file, camera index or folder of images.

        Each result carries the frame it belongs to in ``result.image``. The stream is
        independent of the default one.
        """
        frames, _ = open_source(source, fps)
        yield from self.stream().run_frames(frames)

    def predict_image(self, image: np.ndarray) -> FrameResult:
        """The people in one still image: a one-frame stream of its own (the temporal window
        repeats the frame), so the result is what a video of that single frame gives; it
        carries the image (``result.plot()`` draws on it)."""
        (result,) = self.stream().run_frames([(image, 0.0)])
        return result


class Stream:
    """Per-camera state: the encoder cache window, the tracker and the smoother.

    A stream must be fed from one thread at a time (enforced); many streams may share one
    ``Estimator`` from many threads.
    """

    def __init__(self, estimator: Estimator) -> None:
        self._est = estimator
        self._guard = threading.Lock()
        in_w, in_h = estimator.input_resolution
        self._in_hw = (in_h, in_w)
        self._layout = estimator.layout
        manifest = estimator.package.manifest
        self._mean = np.asarray(manifest["mean"], np.float32)
        self._std = np.asarray(manifest["std"], np.float32)
        self._to_rgb = manifest["color"] == "rgb"
        self._top_k = int(manifest["top_k"])
        self._reset()

    def reset(self) -> None:
        """Drop every cached frame and track (start a new video)."""
        self._locked(self._reset)

    def _reset(self) -> None:
        est = self._est
        self._window = native.FrameWindow(est.package.T)
        self._tracker = native.Tracker(
            oks_threshold=est.tracker_options.oks_threshold,
            max_age_seconds=est.tracker_options.max_age,
            layout=self._layout,
        )
        self._smoother = native.OneEuroSmoother(
            min_cutoff=est.smoother_options.min_cutoff,
            beta=est.smoother_options.beta,
            d_cutoff=est.smoother_options.d_cutoff,
        )
        self._next_index = 0
        self._last_timestamp = -math.inf
        # frame index -> its letterbox, image and timings until its window is decoded (the
        # native window caches memories only)
        self._pending: dict[int, dict[str, Any]] = {}
        self._next_id = 0

    def push_frame(self, frame: np.ndarray, timestamp: float | None = None) -> list[FrameResult]:
        """Encode ``frame`` once, cache it, and return the results that became final.

        Results lag by T frames (the decoder needs frame t+T to finish frame t).

        Args:
            frame: uint8 HxWx3 BGR image (any strides).
            timestamp: seconds; must not decrease. None: previous timestamp + 1/30 s.

        Raises:
            TypeError / ValueError: bad frame or timestamp (nothing is cached then).
        """
        return self._locked(self._push, frame, timestamp, None)

    def flush(self) -> list[FrameResult]:
        """End of stream: results for the last T frames (future frames replicated)."""
        return self._locked(lambda: [self._finish(w) for w in self._window.flush()])

    def run_frames(
        self, frames: Iterable[tuple[np.ndarray, float | None]]
    ) -> Iterator[FrameResult]:
        """Results of an iterable of ``(frame, timestamp)``, each with ``result.image`` set."""
        for frame, timestamp in frames:
            yield from self._locked(self._push, frame, timestamp, frame)
        yield from self.flush()

    def _locked(self, fn, *args):
        if not self._guard.acquire(blocking=False):
            raise RuntimeError(
                "a Stream was used from two threads at once; use one stream per thread"
            )
        try:
            return fn(*args)
        finally:
            self._guard.release()

    def _push(self, frame, timestamp, image) -> list[FrameResult]:
        timestamp = self._check_timestamp(timestamp)
        t0 = time.perf_counter()
        tensor, letterbox = native.letterbox(
            frame, *self._in_hw, bgr_to_rgb=self._to_rgb, mean=self._mean, std=self._std
        )
        t1 = time.perf_counter()
        memory = self._est.backend.encode(tensor[None])
        t2 = time.perf_counter()
        index = self._next_index
        self._next_index += 1
        self._last_timestamp = timestamp
        self._pending[index] = {
            "letterbox": letterbox,
            "image": image,
            "timings": {"preprocess": (t1 - t0) * 1e3, "encode": (t2 - t1) * 1e3},
        }
        windows = self._window.push(memory, index, timestamp)
        return [self._finish(w) for w in windows]

    def _check_timestamp(self, timestamp: float | None) -> float:
        if timestamp is None:  # a steady 30 fps clock continuing from the last frame
            return 0.0 if self._next_index == 0 else self._last_timestamp + 1 / 30
        real = (int, float, np.integer, np.floating)
        if isinstance(timestamp, (bool, np.bool_)) or not isinstance(timestamp, real):
            raise TypeError(
                f"timestamp must be a number of seconds, got {type(timestamp).__name__}"
            )
        try:
            timestamp = float(timestamp)
        except OverflowError:  # an int beyond float range
            timestamp = math.inf
        if not math.isfinite(timestamp):
            raise ValueError(f"timestamp must be finite, got {timestamp}")
        if timestamp < self._last_timestamp:
            raise ValueError(
                f"timestamps must not decrease: got {timestamp} after {self._last_timestamp} "
                "(call reset() to start a new stream)"
            )
        return timestamp

    def _finish(self, window) -> FrameResult:
        est = self._est
        pending = self._pending.pop(window.frame_index)
        timings = pending["timings"]
        t0 = time.perf_counter()
        poses, logits, sigmas = est.backend.decode(window.memories)
        t1 = time.perf_counter()
        lb = pending["letterbox"]
        decoded = native.decode_poses(
            poses,
            logits,
            sigmas,
            lb,
            top_k=self._top_k,
            score_threshold=est.score_threshold,
            nms_oks=est.nms_oks,
            layout=self._layout,
        )
        t2 = time.perf_counter()
        keypoints = decoded.keypoints
        if est.track:
            track_ids = self._tracker.update(window.timestamp, keypoints, decoded.scores)
            if est.smooth:
                keypoints = self._smoother.smooth(window.timestamp, track_ids, keypoints)
                self._smoother.retain(self._tracker.active_ids())  # bounded state
        else:
            track_ids = np.arange(self._next_id, self._next_id + len(keypoints), dtype=np.int64)
            self._next_id += len(keypoints)
        t3 = time.perf_counter()
        timings.update(decode=(t1 - t0) * 1e3, postprocess=(t2 - t1) * 1e3, track=(t3 - t2) * 1e3)
        return FrameResult(
            frame_index=window.frame_index,
            timestamp=window.timestamp,
            keypoints=keypoints,
            keypoint_scores=decoded.keypoint_scores,
            scores=decoded.scores,
            boxes=decoded.boxes,
            track_ids=track_ids,
            image_size=(lb.orig_w, lb.orig_h),
            timings=timings,
            image=pending["image"],
            layout=self._layout,
        )


def _check_options(
    threads: Any, score_threshold: float | None, nms_oks: float | bool | None
) -> None:
    if not isinstance(threads, int) or isinstance(threads, bool) or threads < 1:
        raise ValueError(f"threads must be a positive integer, got {threads!r}")
    if score_threshold is not None and not 0.0 <= score_threshold <= 1.0:
        raise ValueError(f"score_threshold must be in [0, 1], got {score_threshold}")
    off = nms_oks is None or nms_oks is False
    if not off and (isinstance(nms_oks, bool) or not 0.0 <= nms_oks <= 1.0):
        raise ValueError(f"nms_oks must be in [0, 1], None or False, got {nms_oks!r}")
