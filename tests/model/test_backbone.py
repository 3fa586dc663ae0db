"""ResNet trunk: torchvision-compatible keys, FrozenBatchNorm2d, frozen stages; the neck."""

from __future__ import annotations

import csv

import pytest
import torch
from torch import nn

from pavenet_sdk.model.backbone import FrozenBatchNorm2d, ResNet
from pavenet_sdk.model.config import BackboneConfig
from pavenet_sdk.model.neck import ChannelMapper
from shared_data import SHARED

TSV = SHARED / "specs" / "official-r50-state-dict.tsv"


@pytest.mark.skipif(not TSV.is_file(), reason="official inventory not available")
def test_resnet50_keys_and_shapes_equal_the_official_backbone():
    with open(TSV, newline="") as f:
        official = {
            row["key"][len("backbone.") :]: row["shape"]
            for row in csv.DictReader(f, delimiter="\t")
            if row["component"] == "backbone" and not row["key"].endswith("num_batches_tracked")
        }
    ours = {
        k: ",".join(str(s) for s in v.shape)
        for k, v in ResNet(BackboneConfig()).state_dict().items()
    }
    assert ours == official


def test_torchvision_style_checkpoint_loads_strictly_into_frozen_bn():
    # a trainable-BN ResNet-18 state dict has torchvision's keys incl. num_batches_tracked
    source = ResNet(BackboneConfig(depth=18, width=16, frozen_stages=0, norm="bn"))
    state = source.state_dict()
    assert any(k.endswith("num_batches_tracked") for k in state)
    assert not any(k.startswith("fc") for k in state)
    for k, v in state.items():
        if v.is_floating_point():
            state[k] = torch.randn_like(v).abs() + 0.5
    target = ResNet(BackboneConfig(depth=18, width=16, norm="frozen_bn"))
    target.load_state_dict(state, strict=True)
    source.load_state_dict(state, strict=True)
    x = torch.randn(2, 3, 64, 64)
    with torch.no_grad():
        for a, b in zip(source.eval()(x), target.eval()(x), strict=True):
            torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-4)


def test_frozen_batchnorm_equals_batchnorm_in_eval():
    bn = nn.BatchNorm2d(5).eval()
    with torch.no_grad():
        for t in (bn.weight, bn.bias, bn.running_mean):
            t.normal_()
        bn.running_var.uniform_(0.5, 2.0)
    frozen = FrozenBatchNorm2d(5)
    frozen.load_state_dict(bn.state_dict())
    assert not list(frozen.parameters())  # all four tensors are buffers
    x = torch.randn(3, 5, 4, 4)
    torch.testing.assert_close(frozen(x), bn(x))


def test_frozen_stages_do_not_train():
    net = ResNet(BackboneConfig(depth=18, width=8, frozen_stages=1, norm="bn")).train()
    frozen = [n for n, p in net.named_parameters() if not p.requires_grad]
    assert frozen and all(n.startswith(("conv1", "bn1", "layer1.")) for n in frozen)
    assert all(p.requires_grad for n, p in net.named_parameters() if n.startswith("layer2"))
    assert not net.bn1.training and not net.layer1[0].bn1.training and net.layer2[0].bn1.training


@pytest.mark.parametrize("depth, expected", [(18, (128, 256, 512)), (50, (512, 1024, 2048))])
def test_output_channels_and_strides(depth, expected):
    net = ResNet(BackboneConfig(depth=depth)).eval()
    assert net.out_channels == expected
    with torch.no_grad():
        c3, c4, c5 = net(torch.zeros(1, 3, 64, 96))
    assert [c.shape[1] for c in (c3, c4, c5)] == list(expected)
    assert [tuple(c.shape[-2:]) for c in (c3, c4, c5)] == [(8, 12), (4, 6), (2, 3)]


def test_channel_mapper_extra_level_reads_raw_c5():
    neck = ChannelMapper((8, 16, 32), 16, num_extra_levels=2, gn_groups=4)
    assert neck.extra_convs[0].conv.in_channels == 32 and neck.extra_convs[1].conv.in_channels == 16
    assert all(c.conv.bias is None for c in [*neck.convs, *neck.extra_convs])
    feats = (torch.randn(1, 8, 16, 16), torch.randn(1, 16, 8, 8), torch.randn(1, 32, 4, 4))
    outs = neck(feats)
    assert [tuple(o.shape) for o in outs] == [
        (1, 16, 16, 16),
        (1, 16, 8, 8),
        (1, 16, 4, 4),
        (1, 16, 2, 2),
        (1, 16, 1, 1),
    ]
    with pytest.raises(ValueError, match="feature maps"):
        neck(feats[:2])
