"""Loading untrusted files: checkpoints never run pickled code, packages are validated against
the manifest schema, archives cannot write outside their folder, corrupt graphs fail with
``PackageError`` at load time."""

from __future__ import annotations

import io
import json
import shutil
import tarfile
import uuid
import zipfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from manifests import TWO_JOINTS, valid_manifest
from pavenet_sdk.runtime.estimator import Estimator
from pavenet_sdk.runtime.package import (
    FORMAT_VERSION,
    PackageError,
    load_package,
    validate_manifest,
)


class _Exploit:
    """Pickles to ``exec(code)``: whoever unpickles it with plain pickle runs the code."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (exec, (f"open({str(self.marker)!r}, 'w').write('pwned')",))


# ---------------------------------------------------------------- checkpoints


@pytest.mark.parametrize("legacy", [False, True], ids=["zip", "legacy-pickle"])
def test_malicious_checkpoint_is_refused_without_running_code(tmp_path, legacy):
    torch = pytest.importorskip("torch")
    from pavenet_sdk.checkpoint import CHECKPOINT_FORMAT, load_model, read_checkpoint

    marker = tmp_path / "marker.txt"
    path = tmp_path / "evil.pt"
    payload = {"format": CHECKPOINT_FORMAT, "config": {}, "model": _Exploit(marker)}
    torch.save(payload, path, _use_new_zipfile_serialization=not legacy)
    with pytest.raises(ValueError, match="not a readable checkpoint"):
        read_checkpoint(path)
    with pytest.raises(ValueError):
        load_model(path)
    assert not marker.exists(), "unpickling ran the payload"
    # control: the payload is live, a plain torch.load would have run it
    torch.load(path, weights_only=False)
    assert marker.read_text() == "pwned"


def test_truncated_and_foreign_checkpoints_raise_value_error(tmp_path):
    torch = pytest.importorskip("torch")
    from pavenet_sdk.checkpoint import read_checkpoint

    good = tmp_path / "plain.pt"
    torch.save({"weights": torch.zeros(3)}, good)  # loadable, but not ours
    with pytest.raises(ValueError, match="not a pavenet-sdk checkpoint"):
        read_checkpoint(good)
    cut = tmp_path / "cut.pt"
    cut.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    with pytest.raises(ValueError, match="not a readable checkpoint"):
        read_checkpoint(cut)
    with pytest.raises(FileNotFoundError):
        read_checkpoint(tmp_path / "missing.pt")


def test_torch_backend_package_with_malicious_weights(micro_model, tmp_path):
    torch = pytest.importorskip("torch")
    _, package = micro_model
    pkg = _copy_package(package, tmp_path / "pkg", formats=["torch"])
    marker = tmp_path / "marker.txt"
    torch.save({"format": "pavenet-checkpoint/1", "model": _Exploit(marker)}, pkg / "model.pt")
    with pytest.raises(ValueError):
        Estimator(pkg, backend="torch")
    assert not marker.exists()


# ---------------------------------------------------------------- manifests


def _copy_package(src: Path, dst: Path, **manifest_changes) -> Path:
    """A copy of package ``src`` whose manifest has ``manifest_changes`` applied."""
    shutil.copytree(src, dst)
    manifest = json.loads((dst / "manifest.json").read_text())
    manifest.update(manifest_changes)
    (dst / "manifest.json").write_text(json.dumps(manifest))
    return dst


# the joint layout of valid_manifest(): two joints, one limb
JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.floats() | st.text(max_size=5),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=3), inner, max_size=3)
    ),
    max_leaves=8,
)
FUZZED_KEYS = list(valid_manifest())


@settings(max_examples=300, deadline=None)
@given(
    key=st.sampled_from(FUZZED_KEYS + ["unknown_extra"]),
    value=JSON,
    how=st.sampled_from(["replace", "drop", "replace_item"]),
    item=st.integers(0, 3),
)
def test_manifest_fuzz_only_ever_raises_package_error(key, value, how, item):
    """Random JSON in any field, or in one item of a list field: valid or PackageError."""
    manifest = valid_manifest()
    if how == "drop" and key in manifest:
        del manifest[key]
    elif how == "replace_item" and isinstance(manifest.get(key), list) and manifest[key]:
        manifest[key][item % len(manifest[key])] = value
    else:
        manifest[key] = value
    try:
        validate_manifest(manifest)
    except PackageError as exc:
        named = (key, "version", "num_joints", "num_tokens")
        assert any(word in str(exc) for word in named), exc


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("level_shapes", [None]),
        ("level_shapes", [[1, 2, 3]]),
        ("level_shapes", [["a", "b"]]),
        ("formats", [["onnx"]]),
        ("std", [0.0, 1.0, 1.0]),
        ("mean", ["a", "b", "c"]),
        ("top_k", -1),
        ("T", 10**6),
        ("input_size", [True, True]),
        ("joint_names", ["b", "a"]),
        ("skeleton", [[1, 0]]),
        (
            "layout",
            dict(TWO_JOINTS.to_dict(), joints=["a"], skeleton=[], sigmas=[0.1]),
        ),  # 1 joint, not 2
        ("layout", dict(TWO_JOINTS.to_dict(), sigmas=[0.1, -0.1])),
    ],
)
def test_malformed_manifest_values_raise_package_error(key, value):
    manifest = valid_manifest()
    manifest[key] = value
    with pytest.raises(PackageError, match=key):
        validate_manifest(manifest)


def test_newer_format_version_is_refused_with_upgrade_hint(micro_model, tmp_path):
    _, package = micro_model
    newer = _copy_package(package, tmp_path / "newer", format_version=FORMAT_VERSION + 1)
    with pytest.raises(PackageError, match=r"newer than this SDK supports.*upgrade"):
        Estimator(newer, backend="onnx")
    archive = shutil.make_archive(str(tmp_path / "newer-archive"), "zip", newer)
    with pytest.raises(PackageError, match="newer than this SDK supports"):
        load_package(archive)


# ---------------------------------------------------------------- corrupt graphs


@pytest.mark.parametrize("part", ["encoder", "decoder"])
@pytest.mark.parametrize("damage", ["truncated", "garbage"])
def test_corrupt_onnx_graph_raises_package_error(micro_model, tmp_path, part, damage):
    _, package = micro_model
    pkg = _copy_package(package, tmp_path / "pkg")
    graph = pkg / f"{part}.onnx"
    data = graph.read_bytes()
    graph.write_bytes(data[: len(data) // 3] if damage == "truncated" else b"\x08\x07garbage" * 50)
    with pytest.raises(PackageError, match=f"{part}.onnx"):
        Estimator(pkg, backend="onnx")


def test_corrupt_openvino_graph_raises_package_error(micro_model, tmp_path):
    _, package = micro_model
    if "openvino" not in load_package(package).formats:
        pytest.skip("openvino is not installed")
    pkg = _copy_package(package, tmp_path / "pkg")
    xml = pkg / "encoder.xml"
    xml.write_text(xml.read_text()[:200])
    with pytest.raises(PackageError, match="encoder.xml"):
        Estimator(pkg, backend="openvino")
    (pkg / "decoder.bin").unlink()
    with pytest.raises(PackageError, match="decoder.bin"):
        load_package(pkg)


def test_corrupt_torchscript_graph_raises_package_error(micro_model, tmp_path):
    pytest.importorskip("torch")
    _, package = micro_model
    pkg = _copy_package(package, tmp_path / "pkg", formats=["torchscript"])
    for part in ("encoder.pt", "decoder.pt"):
        (pkg / part).write_bytes(b"PK\x03\x04 not a torchscript archive")
    with pytest.raises(PackageError, match="encoder.pt"):
        Estimator(pkg, backend="torchscript")


def test_swapped_graphs_are_refused_at_load(micro_model, tmp_path):
    _, package = micro_model
    pkg = _copy_package(package, tmp_path / "pkg")
    encoder = (pkg / "encoder.onnx").read_bytes()
    shutil.copy(pkg / "decoder.onnx", pkg / "encoder.onnx")
    (pkg / "decoder.onnx").write_bytes(encoder)
    with pytest.raises(PackageError, match="encoder.onnx"):
        Estimator(pkg, backend="onnx")


# ---------------------------------------------------------------- archives


def _zip(path: Path, members: dict[str, bytes], symlinks: dict[str, str] | None = None) -> Path:
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)
        for name, target in (symlinks or {}).items():
            info = zipfile.ZipInfo(name)
            info.external_attr = 0o120777 << 16  # S_IFLNK: a symlink in Unix zip tools
            zf.writestr(info, target)
    return path


def _tar(path: Path, members: list[tarfile.TarInfo], data: dict[str, bytes]) -> Path:
    with tarfile.open(path, "w:gz") as tf:
        for info in members:
            payload = data.get(info.name)
            if payload is not None:
                info.size = len(payload)
            tf.addfile(info, io.BytesIO(payload) if payload is not None else None)
    return path


def _member(name: str, kind: bytes = tarfile.REGTYPE, link: str = "") -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type, info.linkname = kind, link
    return info


def _package_files(package: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in package.iterdir() if p.is_file()}


def _manifest_bytes(package: Path) -> bytes:
    return (package / "manifest.json").read_bytes()


@pytest.fixture
def escape(tmp_path):
    """A unique path outside any extraction folder; the test asserts it never appears."""
    outside = tmp_path / "outside"
    outside.mkdir()
    target = outside / f"escaped-{uuid.uuid4().hex}.txt"
    yield target
    assert not target.exists(), f"an archive member was written to {target}"


@pytest.mark.parametrize("kind", ["dotdot", "absolute", "nested-dotdot"])
def test_zip_members_outside_the_package_are_refused(micro_model, tmp_path, escape, kind):
    _, package = micro_model
    name = {
        "dotdot": "../" * 12 + str(escape).lstrip("/"),
        "absolute": str(escape),
        "nested-dotdot": "pkg/sub/../../" + "../" * 12 + str(escape).lstrip("/"),
    }[kind]
    archive = _zip(tmp_path / "evil.zip", {"manifest.json": _manifest_bytes(package), name: b"x"})
    with pytest.raises(PackageError, match="outside the package"):
        load_package(archive)


@pytest.mark.parametrize(
    ("kind", "message"),
    [
        ("dotdot", "outside the package"),
        ("absolute", "outside the package"),
        ("symlink", "not a regular file"),
        ("symlink-dir", "not a regular file"),
        ("hardlink", "not a regular file"),
        ("device", "not a regular file"),
    ],
)
def test_tar_members_outside_or_special_are_refused(micro_model, tmp_path, escape, kind, message):
    _, package = micro_model
    files = {"manifest.json": _manifest_bytes(package)}  # refused before any graph is read
    members = [_member(n) for n in files]
    if kind == "dotdot":
        name = "../" * 12 + str(escape).lstrip("/")
        members.append(_member(name))
        files[name] = b"x"
    elif kind == "absolute":
        members.append(_member(str(escape)))
        files[str(escape)] = b"x"
    elif kind == "symlink":
        members.append(_member("link.txt", tarfile.SYMTYPE, str(escape)))
    elif kind == "symlink-dir":  # a link to a folder, then a file written through it
        members += [_member("out", tarfile.SYMTYPE, str(escape.parent)), _member("out/x.txt")]
        files["out/x.txt"] = b"x"
    elif kind == "hardlink":
        members.append(_member("hard.txt", tarfile.LNKTYPE, str(escape)))
    else:
        members.append(_member("dev", tarfile.CHRTYPE))
    archive = _tar(tmp_path / "evil.tar.gz", members, files)
    with pytest.raises(PackageError, match=message):
        load_package(archive)
    assert not (escape.parent / "x.txt").exists()


def test_zip_symlink_entries_become_plain_files(micro_model, tmp_path, escape):
    _, package = micro_model
    archive = _zip(tmp_path / "pkg.zip", _package_files(package), {"link": str(escape)})
    loaded = load_package(archive)
    link = loaded.root / "link"
    assert link.is_file() and not link.is_symlink()
    assert loaded.input_resolution == (64, 64)


@pytest.mark.parametrize("fmt", ["zip", "gztar"])
def test_clean_archives_load(micro_model, tmp_path, fmt):
    _, package = micro_model
    flat = shutil.make_archive(str(tmp_path / "flat"), fmt, package)
    nested = shutil.make_archive(str(tmp_path / "nested"), fmt, package.parent, package.name)
    for archive in (flat, nested):
        loaded = load_package(archive)
        assert (loaded.root / "manifest.json").is_file() and loaded.T == 1
