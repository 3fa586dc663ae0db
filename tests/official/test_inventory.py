"""``paper-r50`` matches the official checkpoint tensor for tensor (count and shapes)."""

from __future__ import annotations

import csv
from collections import Counter

import pytest

from pavenet_sdk.model import build_model
from pavenet_sdk.official.inventory import (
    COMPONENTS,
    count_by_component,
    model_inventory,
    read_official_inventory,
)
from shared_data import SHARED

TSV = SHARED / "specs" / "official-r50-state-dict.tsv"
needs_tsv = pytest.mark.skipif(not TSV.is_file(), reason="official inventory not available")


@pytest.fixture(scope="module")
def paper_state():
    return build_model("paper-r50").state_dict()


def test_inference_parameter_total(paper_state):
    # official-checkpoint.md section 4: 50,951,151 minus flows and fc_hm
    assert sum(count_by_component(model_inventory(paper_state)).values()) == 50_785_944


@needs_tsv
def test_tensor_shapes_equal_the_official_multiset(paper_state):
    # every tensor incl. BN statistics; the official step counters (0-dim) have no use here
    with open(TSV, newline="") as f:
        official = Counter(
            row["shape"]
            for row in csv.DictReader(f, delimiter="\t")
            if row["component"] not in ("flow", "unused") and row["shape"]
        )
    ours = Counter(",".join(str(s) for s in v.shape) for v in paper_state.values())
    assert sum(ours.values()) == sum(official.values()) == 690
    assert ours == official


@needs_tsv
def test_every_component_matches(paper_state):
    ours = count_by_component(model_inventory(paper_state))
    official = count_by_component(read_official_inventory(TSV))
    assert set(official) == set(COMPONENTS)
    assert ours == official


def test_per_frame_modules_are_ordered_in_time(paper_state):
    # index 0 = t-1 (official pre_*), 1 = t (no prefix), 2 = t+1 (next_*)
    for f in range(3):
        assert f"pose_decoder.layers.0.cross_attn.sampling_offsets.{f}.weight" in paper_state
        assert f"joint_decoder.layers.1.cross_attn.attention_weights.{f}.bias" in paper_state
        assert f"pose_decoder.pose_heads.{f}.2.6.weight" in paper_state
    assert "pose_decoder.layers.0.cross_attn.sampling_offsets.3.weight" not in paper_state
    assert paper_state["pose_decoder.query_embedding.weight"].shape == (300, 512)
    assert paper_state["joint_decoder.query_embedding.weight"].shape == (15, 512)
