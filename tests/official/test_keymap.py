"""The key map tables and the authors' conventions module (both torch-free)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from pavenet_sdk.official.keymap import build_key_map, module_prefixes, skip_reason
from pavenet_sdk.official.preprocess import letterbox_padding, official_input_size

PYTHON_DIR = Path(__file__).resolve().parents[2] / "python"


def test_keymap_and_preprocess_do_not_import_torch():
    code = (
        "import sys; import pavenet_sdk.official.keymap, pavenet_sdk.official.preprocess; "
        "sys.exit('torch' in sys.modules)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], env={"PYTHONPATH": str(PYTHON_DIR)}, capture_output=True
    )
    assert result.returncode == 0, result.stderr.decode()


def test_rows_expand_per_layer_and_frame():
    rows = dict(module_prefixes(6, 3, 2))
    assert rows["pose_decoder.pose_heads.0.2"] == "bbox_head.pre_kpt_branches.2"
    assert rows["joint_decoder.pose_heads.2.1"] == "bbox_head.next_refine_kpt_branches.1"
    assert rows["proposals.cls"] == "bbox_head.cls_branches.3"  # index = number of STPD layers
    assert rows["encoder.layers.5.norm2"] == "bbox_head.transformer.encoder.layers.5.norms.1"
    assert "encoder.layers.6.norm2" not in rows
    with pytest.raises(ValueError, match="layer count"):
        module_prefixes(-1, 3, 2)


def test_longest_prefix_wins_and_unknown_keys_are_returned():
    mapping, unmapped = build_key_map(
        ["proposals.enc_output_norm.bias", "proposals.enc_output.bias", "extra.weight"], 1, 1, 1
    )
    assert mapping == {
        "proposals.enc_output_norm.bias": "bbox_head.transformer.enc_output_norm.bias",
        "proposals.enc_output.bias": "bbox_head.transformer.enc_output.bias",
    }
    assert unmapped == ["extra.weight"]


def test_skip_reasons():
    assert skip_reason("bbox_head.dec_flow.s.0.0.weight") == "RLE flow (training only)"
    assert skip_reason("bbox_head.fc_hm.bias") == "unused heatmap head"
    assert skip_reason("bbox_head.flowers.weight") is None
    assert skip_reason("bbox_head.kpt_branches.0.0.weight") is None


def test_input_size_validation_and_padding():
    with pytest.raises(ValueError, match="width"):
        official_input_size(0, 10)
    assert letterbox_padding(1920, 1080, (800, 1333))[1:] == (0, 50)
    assert letterbox_padding(1920, 1080, official_input_size(1920, 1080))[1:] == (0, 0)
