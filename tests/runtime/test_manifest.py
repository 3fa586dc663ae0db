"""The package manifest: built from a model config, validated, joint layout declared in full;
format-1 manifests (no layout) still load as posetrack-15."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from pavenet_sdk import manifest as mf
from pavenet_sdk.layouts import COCO_17, POSETRACK_15
from pavenet_sdk.model.presets import get_preset
from pavenet_sdk.runtime.package import PackageError, load_package

BUNDLED = Path(__file__).resolve().parents[2] / "models" / "pavenet-tiny"


def test_built_from_the_model_config():
    config = get_preset("micro")
    manifest = mf.build_manifest(config, name="m", formats=["onnx"], training={"steps": 3})
    assert manifest["format_version"] == mf.FORMAT_VERSION == 2
    assert manifest["input_size"] == list(config.input_size)  # [height, width]
    assert manifest["T"] == config.T and manifest["top_k"] == config.top_k
    assert manifest["num_tokens"] == config.num_tokens
    assert manifest["level_shapes"] == [list(s) for s in config.level_shapes]
    assert manifest["mean"] == list(mf.IMAGENET_MEAN) and manifest["std"] == list(mf.IMAGENET_STD)
    assert manifest["layout"] == POSETRACK_15.to_dict()
    assert manifest["joint_names"] == list(POSETRACK_15.joints) and manifest["num_joints"] == 15
    assert manifest["model_config"] == config.to_dict() and manifest["training"] == {"steps": 3}
    assert mf.validate_manifest(json.loads(json.dumps(manifest))) == manifest  # JSON round trip
    assert mf.manifest_layout(manifest) == POSETRACK_15


def test_a_coco_17_model_declares_its_layout():
    manifest = mf.build_manifest(
        get_preset("micro").replace(layout="coco-17"), name="m", formats=["torch"]
    )
    assert mf.manifest_layout(manifest) == COCO_17
    assert manifest["num_joints"] == 17 and manifest["joint_names"][1] == "left_eye"
    assert manifest["skeleton"] == [list(p) for p in COCO_17.skeleton]


def test_the_bundled_format_1_package_loads_as_posetrack_15():
    raw = json.loads((BUNDLED / "manifest.json").read_text())
    assert raw["format_version"] == 1 and "layout" not in raw  # the old format, on purpose
    package = load_package(BUNDLED)
    assert package.layout == POSETRACK_15
    assert package.manifest["format_version"] == 1  # upgraded in memory, not rewritten
    assert package.manifest["layout"] == POSETRACK_15.to_dict()


def _v1(**changes):
    raw = json.loads((BUNDLED / "manifest.json").read_text())
    raw.update(changes)
    return raw


def _v2(**changes):
    manifest = mf.build_manifest(get_preset("micro"), name="m", formats=["onnx"])
    manifest.update(changes)
    return manifest


@pytest.mark.parametrize(
    ("manifest", "message"),
    [
        (
            _v1(num_joints=17, joint_names=list(COCO_17.joints)),
            "disagree with a format-1 manifest \\(no 'layout': posetrack-15\\)",
        ),
        (_v2(num_joints=17), "'joint_names' does not have 'num_joints' entries"),
        (
            _v2(num_joints=17, joint_names=list(COCO_17.joints)),
            "'num_joints' \\(17\\) and 'joint_names' .* disagree with its layout 'posetrack-15'",
        ),
        (_v2(layout=COCO_17.to_dict()), "disagree with its layout 'coco-17': 17 joints"),
        (_v2(layout=None), "'layout' \\(the joint layout\\) must be an object, got NoneType"),
        (_v2(layout={"name": "x"}), "'layout' is not a valid joint layout"),
        (
            _v2(layout={**POSETRACK_15.to_dict(), "sigmas": [0.1] * 14}),
            "'layout' is not a valid joint layout",
        ),
        (_v2(layout={**POSETRACK_15.to_dict(), "sigmas": [1e400] * 15}), "must be finite"),
        (_v2(format_version=3), "newer than this SDK supports \\(2\\)"),
    ],
    ids=[
        "v1-17-joints",
        "count-vs-names",
        "names-vs-layout",
        "layout-vs-names",
        "layout-missing",
        "layout-malformed",
        "layout-sigmas-short",
        "layout-sigmas-infinite",
        "newer",
    ],
)
def test_a_layout_that_disagrees_is_refused(manifest, message):
    with pytest.raises(PackageError, match=message):
        mf.validate_manifest(manifest, where="pkg/manifest.json")


def test_validation_does_not_change_its_input():
    raw = _v1()
    mf.validate_manifest(raw)
    assert "layout" not in raw


def test_one_home_for_the_imagenet_statistics():
    from pavenet_sdk import native

    assert native.IMAGENET_MEAN is mf.IMAGENET_MEAN and native.IMAGENET_STD is mf.IMAGENET_STD


def test_the_manifest_module_needs_no_torch():
    code = (
        "import sys; sys.modules['torch'] = None\n"
        "from pavenet_sdk.manifest import build_manifest\n"
        "from pavenet_sdk.model.presets import get_preset\n"
        "m = build_manifest(get_preset('micro'), name='m', formats=['onnx'])\n"
        "print(m['layout']['name'])"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "posetrack-15"


def test_a_package_may_carry_its_own_score_threshold(micro_model, tmp_path):
    """``score_threshold`` in the manifest is the model's default; an explicit one wins."""
    import shutil

    from pavenet_sdk import Estimator

    _, package = micro_model
    custom = tmp_path / "pkg"
    shutil.copytree(package, custom)
    data = json.loads((custom / "manifest.json").read_text())
    assert Estimator(custom, backend="onnx").score_threshold == mf.DEFAULT_SCORE_THRESHOLD
    (custom / "manifest.json").write_text(json.dumps({**data, "score_threshold": 0.15}))
    assert Estimator(custom, backend="onnx").score_threshold == 0.15
    assert Estimator(custom, backend="onnx", score_threshold=0.5).score_threshold == 0.5
    (custom / "manifest.json").write_text(json.dumps({**data, "score_threshold": 1.5}))
    with pytest.raises(PackageError, match="score_threshold"):
        load_package(custom)


def test_a_package_may_carry_its_own_oks_nms(micro_model, tmp_path):
    """``nms_oks`` in the manifest is the model's default; ``nms_oks=False`` turns it off."""
    import shutil

    from pavenet_sdk import Estimator

    _, package = micro_model
    custom = tmp_path / "pkg"
    shutil.copytree(package, custom)
    data = json.loads((custom / "manifest.json").read_text())
    assert Estimator(custom, backend="onnx").nms_oks is None  # the paper's models: off
    (custom / "manifest.json").write_text(json.dumps({**data, "nms_oks": 0.45}))
    assert Estimator(custom, backend="onnx").nms_oks == 0.45
    assert Estimator(custom, backend="onnx", nms_oks=0.3).nms_oks == 0.3
    assert Estimator(custom, backend="onnx", nms_oks=False).nms_oks is None
    with pytest.raises(ValueError, match="nms_oks"):
        Estimator(custom, backend="onnx", nms_oks=True)
    (custom / "manifest.json").write_text(json.dumps({**data, "nms_oks": -1}))
    with pytest.raises(PackageError, match="nms_oks"):
        load_package(custom)
