"""The streaming runtime end to end: every backend against the eager torch model."""

from __future__ import annotations

import numpy as np
import pytest

from pavenet_sdk import native
from pavenet_sdk.runtime.backends import available_backends
from pavenet_sdk.runtime.package import PackageError, load_package

torch = pytest.importorskip("torch")
from pavenet_sdk.runtime.estimator import Estimator  # noqa: E402

BACKENDS = [b for b in ("onnx", "openvino", "torchscript", "torch") if b in available_backends()]
# stated tolerances vs eager torch (float32 engines; poses are in [0, 1] of the input)
TOLERANCE = {"poses": 2e-4, "logits": 2e-3, "sigmas": 2e-4}


def _frames(n, seed=0, size=(48, 80)):
    rng = np.random.default_rng(seed)
    return [rng.integers(0, 256, (*size, 3), dtype=np.uint8) for _ in range(n)]


@pytest.mark.parametrize("backend", BACKENDS)
def test_backend_matches_eager_torch(micro_model, backend):
    model, package = micro_model
    est = Estimator(package, backend=backend)
    rng = np.random.default_rng(1)
    image = rng.standard_normal((1, 3, 64, 64)).astype(np.float32)
    with torch.no_grad():
        memory = model.encode_frame(torch.from_numpy(image))
    np.testing.assert_allclose(est.backend.encode(image), memory[0].numpy(), atol=2e-4, rtol=1e-3)
    memories = np.stack(
        [
            est.backend.encode(img[None])
            for img in rng.standard_normal((3, 3, 64, 64)).astype(np.float32)
        ]
    )
    with torch.no_grad():
        expected = model.decode_window(torch.from_numpy(memories)[None])
    got = dict(zip(("poses", "logits", "sigmas"), est.backend.decode(memories), strict=True))
    for key, tol in TOLERANCE.items():
        np.testing.assert_allclose(got[key], expected[key][0].numpy(), atol=tol, rtol=1e-3)


@pytest.mark.parametrize("backend", BACKENDS)
def test_stream_results_agree_across_backends(micro_model, backend):
    _, package = micro_model
    frames = _frames(6)

    def run(name):
        est = Estimator(package, backend=name, score_threshold=0.0)
        results = [r for f in frames for r in est.push_frame(f)] + est.flush()
        return results

    ours, reference = run(backend), run("torch" if "torch" in BACKENDS else "onnx")
    assert [r.frame_index for r in ours] == list(range(6))
    for a, b in zip(ours, reference, strict=True):
        assert len(a) == len(b)
        np.testing.assert_allclose(a.keypoints, b.keypoints, atol=0.05)  # px, 80x48 frames
        np.testing.assert_allclose(a.scores, b.scores, atol=2e-3)


def test_each_frame_is_encoded_exactly_once(micro_model):
    _, package = micro_model
    est = Estimator(package, backend=BACKENDS[0])
    calls = {"encode": 0, "decode": 0}
    encode, decode = est.backend.encode, est.backend.decode

    def counting(name, fn):
        def wrapper(*args):
            calls[name] += 1
            return fn(*args)

        return wrapper

    est.backend.encode, est.backend.decode = counting("encode", encode), counting("decode", decode)
    lagged = [len(est.push_frame(f)) for f in _frames(7)]
    assert lagged == [0, 1, 1, 1, 1, 1, 1]  # T = 1: frame t is final once t + 1 arrived
    assert len(est.flush()) == 1
    assert calls == {"encode": 7, "decode": 7}


def test_timestamps_policy(micro_model):
    _, package = micro_model
    est = Estimator(package, backend=BACKENDS[0])
    frames = _frames(4)
    results = est.push_frame(frames[0], timestamp=1.0) + est.push_frame(frames[1], timestamp=1.5)
    with pytest.raises(ValueError, match="must not decrease"):
        est.push_frame(frames[2], timestamp=1.2)
    with pytest.raises(ValueError, match="finite"):
        est.push_frame(frames[2], timestamp=float("nan"))
    with pytest.raises(TypeError, match="seconds"):
        est.push_frame(frames[2], timestamp="now")
    # the rejected frames left the stream intact; variable frame rate is fine
    results += est.push_frame(frames[2], timestamp=1.5) + est.push_frame(frames[3], timestamp=3.0)
    results += est.flush()
    assert [r.frame_index for r in results] == [0, 1, 2, 3]
    assert [r.timestamp for r in results] == [1.0, 1.5, 1.5, 3.0]


def test_bad_frames_raise_clear_errors(micro_model):
    _, package = micro_model
    est = Estimator(package, backend=BACKENDS[0])
    for bad, error in [
        (np.zeros((32, 32), np.uint8), ValueError),
        (np.zeros((32, 32, 4), np.uint8), ValueError),
        (np.zeros((32, 32, 3), np.float32), TypeError),
        (np.zeros((0, 32, 3), np.uint8), ValueError),
        ([[0, 0, 0]], TypeError),
    ]:
        with pytest.raises(error):
            est.push_frame(bad)
    assert est.flush() == []


def test_streams_share_a_model_but_not_state(micro_model):
    _, package = micro_model
    est = Estimator(package, backend=BACKENDS[0], score_threshold=0.0)
    a, b = est.stream(), est.stream()
    frames_a, frames_b = _frames(3, seed=1), _frames(3, seed=2)
    out_a = [r for f in frames_a for r in a.push_frame(f)] + a.flush()
    out_b = [r for f in frames_b for r in b.push_frame(f)] + b.flush()
    solo = est.stream()
    alone = [r for f in frames_a for r in solo.push_frame(f)] + solo.flush()
    for x, y in zip(out_a, alone, strict=True):
        np.testing.assert_array_equal(x.keypoints, y.keypoints)
    assert len(out_b) == 3


def test_run_iterates_an_image_folder(micro_model, tmp_path):
    import cv2

    _, package = micro_model
    for i, frame in enumerate(_frames(4)):
        cv2.imwrite(str(tmp_path / f"{i:06d}.png"), frame)
    results = list(Estimator(package, backend=BACKENDS[0]).run(tmp_path, fps=10))
    assert [r.frame_index for r in results] == [0, 1, 2, 3]
    assert results[2].timestamp == pytest.approx(0.2)
    assert results[0].image is not None and results[0].image.shape == (48, 80, 3)
    assert all(r.track_ids.dtype == np.int64 for r in results)


def test_unknown_backend_and_missing_model(micro_model):
    _, package = micro_model
    with pytest.raises(ValueError, match="unknown backend"):
        Estimator(package, backend="tensorrt")
    with pytest.raises(FileNotFoundError, match="neither a path nor a bundled model"):
        Estimator("/nonexistent/model")
    with pytest.raises(ValueError, match="threads"):
        Estimator(package, threads=0)


def test_openvino_reads_a_package_with_onnx_graphs_only(micro_model, tmp_path):
    import json
    import shutil

    if not {"onnx", "openvino"} <= set(BACKENDS):
        pytest.skip("needs onnxruntime and openvino")
    _, package = micro_model
    onnx_only = tmp_path / "onnx-only"
    onnx_only.mkdir()
    for name in ("encoder.onnx", "decoder.onnx"):
        shutil.copy(package / name, onnx_only / name)
    manifest = json.loads((package / "manifest.json").read_text())
    (onnx_only / "manifest.json").write_text(json.dumps({**manifest, "formats": ["onnx"]}))
    frames = _frames(3)
    ours = Estimator(onnx_only, backend="openvino", score_threshold=0.0)
    reference = Estimator(package, backend="openvino", score_threshold=0.0)
    for est in (ours, reference):
        est.results = [r for f in frames for r in est.push_frame(f)] + est.flush()
    for a, b in zip(ours.results, reference.results, strict=True):
        np.testing.assert_allclose(a.keypoints, b.keypoints, atol=1e-3)
    with pytest.raises(PackageError, match="no graphs the 'torch' backend reads"):
        Estimator(onnx_only, backend="torch")


def test_bundled_model_backends_match_its_torch_weights():
    from pavenet_sdk.checkpoint import load_model
    from pavenet_sdk.data.synth import generate_clip
    from pavenet_sdk.runtime.models import resolve_model

    package = resolve_model(None)
    model = load_model(package / "model.pt")
    frames = generate_clip("occlusion", seed=5, num_frames=3, num_persons=4).frames
    frames = frames[: 2 * load_package(package).T + 1]  # one window
    for backend in [b for b in ("onnx", "openvino") if b in BACKENDS]:
        est = Estimator(package, backend=backend)
        in_w, in_h = est.input_resolution
        images = [native.letterbox(f, in_h, in_w)[0] for f in frames]
        memories = np.stack([est.backend.encode(image[None]) for image in images])
        with torch.no_grad():
            window = torch.stack([model.encode_frame(torch.from_numpy(i[None]))[0] for i in images])
            expected = model.decode_window(window[None])
        got = dict(zip(("poses", "logits", "sigmas"), est.backend.decode(memories), strict=True))
        for key, tol in TOLERANCE.items():
            np.testing.assert_allclose(got[key], expected[key][0].numpy(), atol=tol, rtol=1e-3)


# ---- Estimator.from_model, OKS-NMS, joint layouts, sizes ------------------------------------


def _stream_all(est, frames):
    return [r for f in frames for r in est.push_frame(f)] + est.flush()


def test_from_model_equals_the_estimator_on_its_exported_package(micro_model):
    if "torch" not in BACKENDS:
        pytest.skip("needs the torch backend")
    model, package = micro_model
    frames = _frames(6, seed=3)
    ours = _stream_all(Estimator.from_model(model, score_threshold=0.0), frames)
    loaded = _stream_all(Estimator(package, backend="torch", score_threshold=0.0), frames)
    assert [r.frame_index for r in ours] == list(range(6))
    for a, b in zip(ours, loaded, strict=True):
        assert len(a) == len(b) > 0 and a.layout == b.layout
        np.testing.assert_allclose(a.keypoints, b.keypoints, atol=1e-4, rtol=0)
        np.testing.assert_allclose(a.keypoint_scores, b.keypoint_scores, atol=1e-6, rtol=0)
        np.testing.assert_allclose(a.scores, b.scores, atol=1e-6, rtol=0)
        np.testing.assert_array_equal(a.track_ids, b.track_ids)


def test_from_model_writes_nothing_and_restores_the_models_mode(micro_model):
    from pavenet_sdk.model.attention import attention_modules

    model, _ = micro_model
    est = Estimator.from_model(model, score_threshold=0.0)
    assert est.package.root is None and est.backend_name == "torch"
    assert est.package.manifest["model_config"] == model.config.to_dict()
    frames = _frames(3, seed=4)
    reference = _stream_all(est, frames)
    model.train()
    model.set_fused_attention(False)
    try:  # a model in training: evaluated in eval mode, handed back in training mode
        again = _stream_all(est, frames)
        assert model.training and not any(m.fused for m in attention_modules(model))
    finally:
        model.eval()
    for a, b in zip(again, reference, strict=True):
        np.testing.assert_array_equal(a.keypoints, b.keypoints)
    with pytest.raises(TypeError, match="PAVENet"):
        Estimator.from_model(torch.nn.Linear(2, 2))
    with pytest.raises(ValueError, match="nms_oks"):
        Estimator.from_model(model, nms_oks=1.5)


def test_nms_oks_drops_duplicates_in_every_backend(micro_model):
    _, package = micro_model
    frames = _frames(4, seed=5)

    def run(nms_oks):
        est = Estimator(package, backend=BACKENDS[0], score_threshold=0.0, nms_oks=nms_oks)
        return _stream_all(est, frames)

    plain, nms, loose = run(None), run(0.45), run(1.0)
    assert sum(map(len, nms)) < sum(map(len, plain))  # random weights: duplicate people
    for a, b, c in zip(plain, nms, loose, strict=True):
        assert len(c) == len(a)  # OKS never exceeds 1
        for row in b.keypoints:  # what stays is some of what was there
            assert np.any(np.all(np.isclose(a.keypoints, row, atol=1e-5), axis=(1, 2)))
    with pytest.raises(ValueError, match="nms_oks"):
        Estimator(package, backend=BACKENDS[0], nms_oks=-0.5)


def test_results_carry_the_layout_and_sizes_are_width_height(micro_model):
    _, package = micro_model
    est = Estimator(package, backend=BACKENDS[0], score_threshold=0.0)
    assert est.input_resolution == (64, 64) and "layout='posetrack-15'" in repr(est)
    (first, *_) = _stream_all(est, _frames(2, size=(48, 80)))
    assert first.layout == est.layout and first.joint_names[2] == "head_top"
    assert first.image_size == (80, 48)  # (width, height) of the 48 x 80 frame
    with pytest.warns(DeprecationWarning, match="input_resolution"):
        assert est.package.input_size == (64, 64)


def test_plot_defaults_to_the_frame_of_run(micro_model, tmp_path):
    import cv2

    _, package = micro_model
    for i, frame in enumerate(_frames(2)):
        cv2.imwrite(str(tmp_path / f"{i:06d}.png"), frame)
    est = Estimator(package, backend=BACKENDS[0], score_threshold=0.0)
    results = list(est.run(tmp_path))
    drawn = results[0].plot()
    assert drawn.shape == results[0].image.shape and (drawn != results[0].image).any()
    pushed = est.push_frame(_frames(1)[0]) + est.flush()
    with pytest.raises(ValueError, match="carries no image"):
        pushed[0].plot()


def test_a_coco_17_model_runs_end_to_end(tmp_path):
    """K = 17 from the model config through export, manifest, decode, tracking, results."""
    from pavenet_sdk.export import export_package
    from pavenet_sdk.layouts import COCO_17
    from pavenet_sdk.model import build_model, get_preset

    torch.manual_seed(1)
    model = build_model(get_preset("micro").replace(layout="coco-17")).eval()
    frames = _frames(3, seed=6)
    in_memory = _stream_all(Estimator.from_model(model, score_threshold=0.0, nms_oks=0.9), frames)
    assert all(r.keypoints.shape[1:] == (17, 2) and r.layout == COCO_17 for r in in_memory)
    assert in_memory[0].plot(np.zeros((48, 80, 3), np.uint8)).any()
    if "onnx" not in BACKENDS:
        return
    package = export_package(model, tmp_path / "coco", ["onnx"], name="coco-micro")
    est = Estimator(package, backend="onnx", score_threshold=0.0, nms_oks=0.9)
    assert est.layout == COCO_17 and est.package.manifest["num_joints"] == 17
    for a, b in zip(_stream_all(est, frames), in_memory, strict=True):
        assert a.joint_names == COCO_17.joints and len(a) == len(b)
        np.testing.assert_allclose(a.keypoints, b.keypoints, atol=0.05)
