"""MoveNet's MobileNetV2-FPN trunk: the module alone, and its converted weights against ONNX
Runtime running the MoveNet teacher (skipped when the teacher file is absent)."""

from __future__ import annotations

import io
import math

import numpy as np
import pytest
import torch

from pavenet_sdk.model.config import ModelConfig
from pavenet_sdk.model.mobilenet_fpn import MobileNetV2FPN
from pavenet_sdk.model.movenet_weights import (
    LEVELS,
    MoveNetExtractor,
    MoveNetFormatError,
    convert,
    onnx_feature_maps,
)
from shared_data import SHARED

MULTIPOSE = SHARED / "teachers" / "movenet-multipose-lightning.onnx"
IMAGES = SHARED / "data" / "real-gt-dev" / "images"


def _small(frozen_stages: int = 0) -> MobileNetV2FPN:
    return MobileNetV2FPN(width_multiplier=0.5, frozen_stages=frozen_stages).eval()


@pytest.mark.parametrize("size", [(64, 96), (70, 45)])
def test_levels_have_the_strides_and_shapes_of_the_model_config(size):
    net = _small()
    with torch.no_grad():
        maps = net(torch.randn(2, 3, *size))
    assert net.strides == (8, 16, 32)
    expected = ModelConfig(input_size=size).level_shapes[:3]
    for m, c, (h, w), s in zip(maps, net.out_channels, expected, net.strides, strict=True):
        assert m.shape == (2, c, h, w)
        assert (h, w) == (math.ceil(size[0] / s), math.ceil(size[1] / s))
    assert MobileNetV2FPN(1.5).out_channels == (24, 32, 64)


def test_frozen_stages_stop_gradients_of_the_stem_and_early_blocks_only():
    net = _small(frozen_stages=2)  # stem, blocks 0..5
    frozen = {n for n, p in net.named_parameters() if not p.requires_grad}
    assert "stem.weight" in frozen and "blocks.5.project.weight" in frozen
    assert "blocks.6.expand.weight" not in frozen and "lateral8.weight" not in frozen
    assert all(n.startswith(("stem.", *(f"blocks.{i}." for i in range(6)))) for n in frozen)


def test_scripts_and_exports_to_onnx_with_equal_outputs():
    ort = pytest.importorskip("onnxruntime")
    net = _small()
    x = torch.randn(1, 3, 64, 96)
    with torch.no_grad():
        ref = net(x)
        scripted = torch.jit.script(net)(x)
    for a, b in zip(ref, scripted, strict=True):
        torch.testing.assert_close(a, b, rtol=0, atol=1e-5)
    buf = io.BytesIO()
    torch.onnx.export(
        net,
        (x,),
        buf,
        dynamo=False,
        opset_version=17,
        input_names=["image"],
        output_names=list(LEVELS),
    )
    session = ort.InferenceSession(buf.getvalue(), providers=["CPUExecutionProvider"])
    for a, b in zip(ref, session.run(None, {"image": x.numpy()}), strict=True):
        np.testing.assert_allclose(a.numpy(), b, rtol=0, atol=1e-4)


def test_converter_errors_name_the_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="missing.onnx"):
        convert(tmp_path / "missing.onnx")
    corrupt = tmp_path / "corrupt.onnx"
    corrupt.write_bytes(b"\x00not an onnx file" * 10)
    with pytest.raises(MoveNetFormatError, match="corrupt.onnx: not a readable ONNX"):
        convert(corrupt)
    other = tmp_path / "other.onnx"  # a valid ONNX graph of another network
    torch.onnx.export(
        torch.nn.Conv2d(3, 4, 3),
        (torch.randn(1, 3, 8, 8),),
        str(other),
        dynamo=False,
        opset_version=17,
    )
    with pytest.raises(MoveNetFormatError, match="other.onnx: not a MoveNet MobileNetV2-FPN"):
        convert(other)


# ---- against the teacher ---------------------------------------------------------------------

needs_teacher = pytest.mark.skipif(not MULTIPOSE.is_file(), reason="MoveNet teacher absent")


@pytest.fixture(scope="module")
def multipose() -> MoveNetExtractor:
    return convert(MULTIPOSE)


def _real_image(h: int, w: int) -> np.ndarray:
    cv2 = pytest.importorskip("cv2")
    files = sorted(IMAGES.glob("*.jpg"))
    if not files:
        pytest.skip("real-gt-dev images absent")
    image = cv2.imread(str(files[0]))[:, :, ::-1]
    return cv2.resize(image, (w, h), interpolation=cv2.INTER_AREA)[None].astype(np.int32)


@needs_teacher
def test_feature_maps_equal_onnx_runtime_on_a_real_image(multipose):
    assert multipose.width_multiplier == 1.5
    np.testing.assert_allclose(multipose.mean, 127.5, rtol=1e-4)
    np.testing.assert_allclose(multipose.std, 127.5, rtol=1e-4)
    image = _real_image(96, 128)
    ref = onnx_feature_maps(MULTIPOSE, image, [multipose.tensors[k] for k in LEVELS])
    with torch.no_grad():
        ours = multipose.build().eval()(multipose.normalise(image))
    for key, o in zip(LEVELS, ours, strict=True):
        r = ref[multipose.tensors[key]]
        assert o.shape == r.shape
        # 1e-4 plus float32 round-off of the ~200-magnitude stride-32 lateral (1280 inputs)
        assert np.abs(o.numpy() - r).max() <= 1e-4 + 1e-5 * np.abs(r).max(), key


@needs_teacher
def test_backbone_padding_equals_onnx_runtime_on_odd_sizes(multipose):
    # 97x131 gives odd sizes before every stride-2 convolution (TF SAME pads 1 + 1 there)
    image = np.random.default_rng(0).integers(0, 256, (1, 97, 131, 3))
    names = [f"block_{i}" for i in (1, 2, 5, 12, 16)]
    ref = onnx_feature_maps(MULTIPOSE, image, [multipose.tensors[n] for n in names])
    net = multipose.build().eval()
    got: dict[str, torch.Tensor] = {}
    for name in names:
        block = net.blocks[int(name.split("_")[1])]
        block.register_forward_hook(lambda m, i, out, name=name: got.__setitem__(name, out))
    with torch.no_grad():
        net(multipose.normalise(image))
    for name in names:
        np.testing.assert_allclose(
            got[name].numpy(), ref[multipose.tensors[name]], rtol=0, atol=1e-4, err_msg=name
        )


@needs_teacher
def test_saved_weights_load_back(multipose, tmp_path):
    path = tmp_path / "movenet.pt"
    multipose.save(path)
    back = MoveNetExtractor.load(path)
    assert back.width_multiplier == multipose.width_multiplier
    assert back.scale == multipose.scale and back.offset == multipose.offset
    assert back.source["sha256"] == multipose.source["sha256"]
    for k, v in multipose.state_dict.items():
        assert torch.equal(back.state_dict[k], v), k
    (tmp_path / "bad.pt").write_bytes(b"junk")
    with pytest.raises(MoveNetFormatError, match="bad.pt"):
        MoveNetExtractor.load(tmp_path / "bad.pt")


def test_input_norm_maps_imagenet_inputs_onto_movenets() -> None:
    """PAVE-Net feeds ImageNet-normalised RGB; the trunk maps it onto MoveNet's [-1, 1]."""
    from pavenet_sdk.manifest import IMAGENET_MEAN, IMAGENET_STD
    from pavenet_sdk.model.mobilenet_fpn import INPUT_MEAN, INPUT_STD, MobileNetV2FPN

    torch.manual_seed(0)
    plain = MobileNetV2FPN().eval()
    adapted = MobileNetV2FPN(input_norm=(IMAGENET_MEAN, IMAGENET_STD)).eval()
    adapted.load_state_dict(plain.state_dict(), strict=True)  # the mapping holds no weights
    pixels = torch.rand(1, 3, 64, 96) * 255
    as_imagenet = (pixels - torch.tensor(IMAGENET_MEAN)[:, None, None]) / torch.tensor(
        IMAGENET_STD
    )[:, None, None]
    as_movenet = (pixels - torch.tensor(INPUT_MEAN)[:, None, None]) / torch.tensor(INPUT_STD)[
        :, None, None
    ]
    with torch.no_grad():
        for a, b in zip(adapted(as_imagenet), plain(as_movenet), strict=True):
            torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-4)


def test_small_preset_builds_on_the_movenet_trunk() -> None:
    from pavenet_sdk.model import build_model, get_preset
    from pavenet_sdk.model.config import ModelConfig

    cfg = get_preset("small")
    assert cfg.layout == "coco-17" and cfg.backbone.type == "movenet"
    assert ModelConfig.from_dict(cfg.to_dict()) == cfg
    model = build_model(cfg.replace(input_size=(64, 64))).eval()
    with torch.no_grad():
        memory = model.encode_frame(torch.zeros(1, 3, 64, 64))
    assert memory.shape == (1, cfg.replace(input_size=(64, 64)).num_tokens, cfg.d_model)
    assert "width_multiplier" not in get_preset("tiny").to_dict()["backbone"]
