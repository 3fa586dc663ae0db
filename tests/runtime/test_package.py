"""Model package validation: every malformed package fails with an error naming the problem.

(The manifest's own tests, version 1 included, are in test_manifest.py.)"""

from __future__ import annotations

import io
import json
import tarfile
import zipfile

import pytest

from manifests import TWO_JOINTS, valid_manifest
from pavenet_sdk.runtime.package import (
    FORMAT_VERSION,
    PackageError,
    load_package,
    validate_manifest,
)


def _write_package(root, manifest=None, graphs=("encoder.onnx", "decoder.onnx")):
    root.mkdir(parents=True, exist_ok=True)
    (root / "manifest.json").write_text(json.dumps(manifest or valid_manifest()))
    for name in graphs:
        (root / name).write_bytes(b"graph")
    return root


def test_valid_package_loads(tmp_path):
    package = load_package(_write_package(tmp_path / "pkg", valid_manifest(input_size=[48, 80])))
    assert package.input_resolution == (80, 48) and package.T == 1
    assert package.formats == ["onnx"] and package.layout == TWO_JOINTS
    assert package.graph("onnx", "decoder").name == "decoder.onnx"
    with pytest.raises(PackageError, match="no 'openvino' graphs"):
        package.graph("openvino", "encoder")


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"format_version": FORMAT_VERSION + 1}, "newer than this SDK"),
        ({"format_version": 0}, "unknown package format version"),
        ({"format_version": "1"}, "'format_version' must be an integer"),
        ({"input_size": [64]}, "'input_size'"),
        ({"color": "hsv"}, "'color'"),
        ({"T": -1}, "'T' must be in \\[0, 16\\]"),
        ({"num_tokens": 81}, "do not add up"),
        ({"formats": ["tensorrt"]}, "'formats'"),
        ({"mean": [0, 0]}, "'mean' must be 3 finite numbers"),
        ({"joint_names": ["a"]}, "'joint_names'"),
        ({"joint_names": ["b", "a"]}, "disagree with its layout 'two'"),
        ({"skeleton": [[1, 0]]}, "'skeleton' .* disagrees"),
        ({"layout": "two"}, "'layout' .* must be an object"),
        ({"top_k": True}, "'top_k' must be int"),
    ],
)
def test_bad_manifest_fields_are_named(overrides, message):
    with pytest.raises(PackageError, match=message):
        validate_manifest(valid_manifest(**overrides))


def test_missing_field_is_named():
    manifest = valid_manifest()
    del manifest["level_shapes"]
    with pytest.raises(PackageError, match="'level_shapes' is missing"):
        validate_manifest(manifest)


def test_missing_graph_andvalid_manifest(tmp_path):
    with pytest.raises(PackageError, match="decoder graph decoder.onnx is missing"):
        load_package(_write_package(tmp_path / "a", graphs=("encoder.onnx",)))
    (tmp_path / "empty").mkdir()
    with pytest.raises(PackageError, match="manifest.json is missing"):
        load_package(tmp_path / "empty")
    with pytest.raises(FileNotFoundError):
        load_package(tmp_path / "nowhere")
    bad = _write_package(tmp_path / "b")
    (bad / "manifest.json").write_text("{not json")
    with pytest.raises(PackageError, match="not valid JSON"):
        load_package(bad)


def test_archives_load_and_refuse_escaping_members(tmp_path):
    root = _write_package(tmp_path / "pkg")
    archive = tmp_path / "pkg.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for file in root.iterdir():
            zf.write(file, f"pkg/{file.name}")
    assert load_package(archive).name == "m"

    evil = tmp_path / "evil.tar.gz"
    with tarfile.open(evil, "w:gz") as tf:
        data = b"x"
        info = tarfile.TarInfo("../../escape.txt")
        info.size = len(data)
        tf.addfile(info, io.BytesIO(data))
    with pytest.raises(PackageError, match="outside the package"):
        load_package(evil)
    assert not (tmp_path / "escape.txt").exists()

    not_archive = tmp_path / "model.bin"
    not_archive.write_bytes(b"\x00" * 10)
    with pytest.raises(PackageError, match="neither a package directory"):
        load_package(not_archive)


def test_input_size_is_deprecated_but_still_height_width(tmp_path):
    package = load_package(_write_package(tmp_path / "pkg", valid_manifest(input_size=[48, 80])))
    with pytest.warns(DeprecationWarning, match="input_resolution"):
        assert package.input_size == (48, 80)


def test_a_model_in_memory_has_no_graph_files():
    from pavenet_sdk.runtime.package import ModelPackage

    package = ModelPackage(root=None, manifest=validate_manifest(valid_manifest(formats=["torch"])))
    with pytest.raises(PackageError, match="held in memory"):
        package.graph("torch", "checkpoint")
