"""``pavenet import-official`` end to end: plausible weights -> checkpoint -> forward -> ONNX."""

from __future__ import annotations

import json
import re
from collections import OrderedDict

import numpy as np
import pytest
import torch

from pavenet_sdk.checkpoint import load_model, read_checkpoint
from pavenet_sdk.cli import main as cli_main
from pavenet_sdk.model import get_preset
from pavenet_sdk.official.importer import key_map_for, load_official_state_dict
from pavenet_sdk.official.preprocess import official_input_size

SIZE = (128, 128)  # (h, w): smallest square input with >= 300 tokens (the STPD keeps 300)
_NORM = re.compile(r"(\.bn\d|\.norms\.\d|\.gn|norm\d?|downsample\.1)\.(weight|bias)$")


def plausible_state_dict(rows, seed: int = 0) -> OrderedDict:
    """Official-format weights a network can run on: unit norms and BN statistics, small
    random Linear/conv weights (the synthetic distinct-value weights would overflow)."""
    g = torch.Generator().manual_seed(seed)
    state = OrderedDict()
    for key, shape, _ in rows:
        if key.endswith("num_batches_tracked"):
            state[key] = torch.tensor(0)
        elif key.endswith("running_var") or (_NORM.search(key) and key.endswith("weight")):
            state[key] = torch.ones(shape)
        elif key.endswith("running_mean") or _NORM.search(key):
            state[key] = torch.zeros(shape)
        else:
            state[key] = torch.randn(shape, generator=g) * 0.02
    return state


@pytest.fixture(scope="module")
def official_file(r50_rows, tmp_path_factory):
    path = tmp_path_factory.mktemp("official-cli") / "pave_r50.pth"
    torch.save({"state_dict": plausible_state_dict(r50_rows), "meta": {"epoch": 24}}, path)
    return path


@pytest.mark.slow
def test_import_command_writes_a_checkpoint_and_an_onnx_package(official_file, tmp_path, capsys):
    out = tmp_path / "out"
    code = cli_main([
        "import-official", str(official_file), "--out", str(out), "--export",
        "--formats", "onnx", "--input-size", f"{SIZE[1]}x{SIZE[0]}",
    ])  # fmt: skip
    printed = capsys.readouterr().out
    assert code == 0, printed
    assert "matched 690 tensors" in printed and "219 RLE flow" in printed

    # the checkpoint loads with the ordinary loader and holds the official tensors
    ckpt = out / "paper-r50-official.pt"
    model = load_model(ckpt)
    assert model.config == get_preset("paper-r50").replace(input_size=SIZE)
    official = load_official_state_dict(official_file)
    key_map, _ = key_map_for(model)
    state = model.state_dict()
    assert all(torch.equal(state[k], official[o]) for k, o in key_map.items())
    payload = read_checkpoint(ckpt)
    assert payload["official_source"]["file"] == "pave_r50.pth"
    assert len(payload["official_source"]["sha256"]) == 64
    assert payload["preprocessing"]["num_joints"] == 15

    # the imported model runs: finite poses in [0, 1] for the 20 best persons
    torch.manual_seed(0)
    window = torch.randn(1, 3, 3, *SIZE)
    with torch.no_grad():
        result = model(window)
    assert result["poses"].shape == (1, 20, 15, 2) and result["logits"].shape == (1, 20)
    assert torch.isfinite(result["poses"]).all() and torch.isfinite(result["sigmas"]).all()
    assert ((result["poses"] >= 0) & (result["poses"] <= 1)).all()

    # the package: manifest with the authors' conventions, ONNX graphs equal to eager
    package = out / f"paper-r50-official-{SIZE[1]}x{SIZE[0]}"  # named width x height
    manifest = json.loads((package / "manifest.json").read_text())
    assert manifest["input_size"] == list(SIZE) and manifest["formats"] == ["onnx"]
    assert manifest["preprocessing"]["color"] == "rgb"
    assert manifest["model_config"]["name"] == "paper-r50"
    ort = pytest.importorskip("onnxruntime")
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    enc = ort.InferenceSession(str(package / "encoder.onnx"), options)
    dec = ort.InferenceSession(str(package / "decoder.onnx"), options)
    memories = np.stack(
        [enc.run(None, {"image": window[0, f : f + 1].numpy()})[0][0] for f in range(3)]
    )[None]
    with torch.no_grad():
        eager = model.encode_frame(window[0])
    np.testing.assert_allclose(memories[0], eager.numpy(), rtol=1e-3, atol=1e-3)
    poses = dec.run(None, {"memories": memories.astype(np.float32)})[0]
    np.testing.assert_allclose(poses, result["poses"].numpy(), atol=1e-3)


def test_import_command_reports_a_mismatch_and_fails(r50_rows, tmp_path, capsys):
    state = plausible_state_dict(r50_rows)
    state["neck.convs.0.conv.weight"] = torch.zeros(256, 384, 1, 1)  # a Swin-L neck tensor
    path = tmp_path / "wrong.pth"
    torch.save({"state_dict": state}, path)
    code = cli_main(["import-official", str(path), "--out", str(tmp_path / "o")])
    printed = capsys.readouterr().err
    assert code == 2
    assert printed.startswith("pavenet import-official: error: import failed: ")
    assert "1 shape mismatches" in printed
    assert "neck.convs.0.conv.weight [256, 384, 1, 1]" in printed
    assert not (tmp_path / "o").exists()


def test_import_command_refuses_unsafe_files(tmp_path, capsys):
    class Evil:
        def __reduce__(self):
            return (print, ("executed",))

    path = tmp_path / "evil.pth"
    torch.save({"state_dict": {}, "meta": Evil()}, path)
    assert cli_main(["import-official", str(path), "--out", str(tmp_path / "o")]) == 2
    printed = capsys.readouterr().err
    assert "not a readable plain tensor checkpoint" in printed and "\nexecuted" not in printed


@pytest.mark.parametrize(
    "video, size", [((1920, 1080), (750, 1333)), ((1280, 720), (750, 1333)),
                    ((640, 480), (800, 1067)), ((1080, 1920), (1333, 750))],
)  # fmt: skip
def test_official_input_size_follows_the_keep_ratio_resize(video, size):
    assert official_input_size(*video) == size


@pytest.mark.parametrize(
    "option, value, input_hw, printed",
    [
        ("--input-size", "160x128", (128, 160), "input 160x128"),  # width x height
        ("--video-size", "1920x1080", (750, 1333), "input 1333x750"),
        (None, None, (800, 1333), "input 1333x800"),  # the default: the authors' bound
    ],
)  # fmt: skip
def test_sizes_on_the_command_line_are_width_x_height(
    option, value, input_hw, printed, tmp_path, monkeypatch, capsys
):
    import pavenet_sdk.official.importer as importer

    seen = []

    def stop(path, cfg):
        seen.append(cfg.input_size)
        raise ValueError("stopped after the config")

    monkeypatch.setattr(importer, "import_official", stop)
    argv = ["import-official", str(tmp_path / "x.pth"), "--out", str(tmp_path / "o")]
    assert cli_main(argv + ([option, value] if option else [])) == 2
    assert seen == [input_hw]  # the model config's (height, width)
    assert printed in capsys.readouterr().out
