"""Official PAVE-Net checkpoint keys <-> pavenet-sdk ``PAVENet`` state-dict keys.

The map is written as readable prefix tables (one row = one module) and expanded per layer and
per frame from the model config. A row ``(ours, official)`` maps every tensor of our module
``ours`` (``<ours>.<leaf>``) to ``<official>.<leaf>``; the leaf names (``weight``, ``bias``,
``running_mean``, ``in_proj_weight``, ``out_proj.weight``, ...) are the same on both sides.

Layout notes (official-checkpoint.md section 5), checked tensor by tensor in the tests:
- ``query_embedding`` / ``refine_query_embedding``: both sides store one (M, 2D) tensor,
  [:, :D] = position, [:, D:] = content. No split needed.
- Self-attention: ours keeps ``torch.nn.MultiheadAttention``'s packing (``in_proj_weight``
  rows [q; k; v], ``out_proj``), so the mmcv ``attentions.0.attn.*`` tensors copy unchanged.
- Deformable attention: our per-frame ``sampling_offsets[f]`` / ``attention_weights[f]`` use
  the official channel order ((h*L + l)*P + p)*2 + c; frame f = 0, 1, 2 is ``pre_``, no
  prefix, ``next_``.
- Backbone BatchNorm -> our frozen BN: same four tensors; the official ``num_batches_tracked``
  step counters have no counterpart and are dropped.
- Sigma heads: the official ``Linear_with_norm(norm=False)`` stores its Linear as
  ``.2.linear.*``; ours is a plain Linear at ``.2``.

Torch-free: works on key names only.
"""

from __future__ import annotations

from collections.abc import Iterable

# official key prefixes of training-only or unused modules; skipped on import
SKIPPED_PREFIXES: dict[str, str] = {
    "bbox_head.enc_flow.": "RLE flow (training only)",
    "bbox_head.dec_flow.": "RLE flow (training only)",
    "bbox_head.flow.": "RLE flow (training only)",
    "bbox_head.fc_hm.": "unused heatmap head",
    "bbox_head.transformer.hm_encoder.": "unused heatmap encoder",
}
# official BatchNorm step counters; ours uses frozen BN without one
DROPPED_SUFFIX = ".num_batches_tracked"

# frame index of our per-frame module lists -> official attribute prefix (T = 1 only)
FRAME_PREFIXES: tuple[str, ...] = ("pre_", "", "next_")

_HEAD = "bbox_head."
_TRANSFORMER = "bbox_head.transformer."

# Whole modules outside the repeated layers. {S} = number of STPD layers: the official head's
# index S of cls/kpt/sigma branches is the two-stage proposal head.
MODULES: tuple[tuple[str, str], ...] = (
    ("backbone", "backbone"),
    ("neck", "neck"),
    ("position.level_embeds", _TRANSFORMER + "level_embeds"),
    ("proposals.enc_output", _TRANSFORMER + "enc_output"),
    ("proposals.enc_output_norm", _TRANSFORMER + "enc_output_norm"),
    ("proposals.cls", _HEAD + "cls_branches.{S}"),
    ("proposals.pose", _HEAD + "kpt_branches.{S}"),
    ("proposals.sigma.0", _HEAD + "dec_fc_sigma_branches.{S}.0"),
    ("proposals.sigma.1", _HEAD + "dec_fc_sigma_branches.{S}.1"),
    ("proposals.sigma.2", _HEAD + "dec_fc_sigma_branches.{S}.2.linear"),
    ("pose_decoder.query_embedding", _HEAD + "query_embedding"),
    ("joint_decoder.query_embedding", _TRANSFORMER + "refine_query_embedding"),
)

# One spatial-encoder layer: ours "encoder.layers.{i}." / official "...encoder.layers.{i}."
ENCODER_LAYER: tuple[tuple[str, str], ...] = (
    ("self_attn.sampling_offsets.0", "attentions.0.sampling_offsets"),
    ("self_attn.attention_weights.0", "attentions.0.attention_weights"),
    ("self_attn.value_proj", "attentions.0.value_proj"),
    ("self_attn.output_proj", "attentions.0.output_proj"),
    ("norm1", "norms.0"),
    ("ffn.linear1", "ffns.0.layers.0.0"),
    ("ffn.linear2", "ffns.0.layers.1"),
    ("norm2", "norms.1"),
)

# One STPD or STJD layer ({f} = our frame index, {F} = the official frame prefix)
DECODER_LAYER: tuple[tuple[str, str], ...] = (
    ("self_attn", "attentions.0.attn"),
    ("norm1", "norms.0"),
    ("cross_attn.sampling_offsets.{f}", "attentions.1.{F}sampling_offsets"),
    ("cross_attn.attention_weights.{f}", "attentions.1.{F}attention_weights"),
    ("cross_attn.value_proj", "attentions.1.value_proj"),
    ("cross_attn.output_proj", "attentions.1.output_proj"),
    ("norm2", "norms.1"),
    ("ffn.linear1", "ffns.0.layers.0.0"),
    ("ffn.linear2", "ffns.0.layers.1"),
    ("norm3", "norms.2"),
)

# Heads after STPD layer {l}
STPD_HEADS: tuple[tuple[str, str], ...] = (
    ("pose_decoder.pose_heads.{f}.{l}", _HEAD + "{F}kpt_branches.{l}"),
    ("pose_decoder.cls_heads.{l}", _HEAD + "cls_branches.{l}"),
    ("pose_decoder.sigma_heads.{l}.0", _HEAD + "dec_fc_sigma_branches.{l}.0"),
    ("pose_decoder.sigma_heads.{l}.1", _HEAD + "dec_fc_sigma_branches.{l}.1"),
    ("pose_decoder.sigma_heads.{l}.2", _HEAD + "dec_fc_sigma_branches.{l}.2.linear"),
)

# Heads after STJD layer {l}
STJD_HEADS: tuple[tuple[str, str], ...] = (
    ("joint_decoder.pose_heads.{f}.{l}", _HEAD + "{F}refine_kpt_branches.{l}"),
    ("joint_decoder.sigma_heads.{l}.0", _HEAD + "refine_fc_sigma_branches.{l}.0"),
    ("joint_decoder.sigma_heads.{l}.1", _HEAD + "refine_fc_sigma_branches.{l}.1"),
    ("joint_decoder.sigma_heads.{l}.2", _HEAD + "refine_fc_sigma_branches.{l}.2.linear"),
)


def _per_frame(rows: Iterable[tuple[str, str]], **fmt: object) -> list[tuple[str, str]]:
    """Format the rows; rows naming a frame ({f}/{F}) are repeated for each of the 3 frames."""
    out = []
    for ours, official in rows:
        if "{f}" in ours:
            for f, prefix in enumerate(FRAME_PREFIXES):
                out.append((ours.format(f=f, **fmt), official.format(F=prefix, **fmt)))
        else:
            out.append((ours.format(**fmt), official.format(**fmt)))
    return out


def module_prefixes(
    encoder_layers: int, pose_layers: int, joint_layers: int
) -> list[tuple[str, str]]:
    """Every (our module prefix, official module prefix) row for a 3-frame model with the given
    numbers of SE, STPD and STJD layers (the official R50/Swin-L builds: 6, 3, 2)."""
    for name, n in (("encoder", encoder_layers), ("pose", pose_layers), ("joint", joint_layers)):
        if not isinstance(n, int) or n < 0:
            raise ValueError(f"{name} layer count must be an int >= 0, got {n!r}")
    rows = _per_frame(MODULES, S=pose_layers)
    for i in range(encoder_layers):
        ours, official = f"encoder.layers.{i}.", f"{_TRANSFORMER}encoder.layers.{i}."
        rows += [(ours + a, official + b) for a, b in ENCODER_LAYER]
    for part, official_part, n in (
        ("pose_decoder", "decoder", pose_layers),
        ("joint_decoder", "refine_decoder", joint_layers),
    ):
        for i in range(n):
            ours, official = f"{part}.layers.{i}.", f"{_TRANSFORMER}{official_part}.layers.{i}."
            rows += [(ours + a, official + b) for a, b in _per_frame(DECODER_LAYER)]
    for l in range(pose_layers):
        rows += _per_frame(STPD_HEADS, l=l)
    for l in range(joint_layers):
        rows += _per_frame(STJD_HEADS, l=l)
    return rows


def build_key_map(
    our_keys: Iterable[str], encoder_layers: int, pose_layers: int, joint_layers: int
) -> tuple[dict[str, str], list[str]]:
    """(our key -> official key, our keys no row covers).

    Each of our keys is matched to the longest module prefix it starts with (at a ``.``
    boundary, or the whole key); the rest of the key is the shared leaf name.
    """
    rows = sorted(
        module_prefixes(encoder_layers, pose_layers, joint_layers),
        key=lambda r: len(r[0]),
        reverse=True,
    )
    mapping: dict[str, str] = {}
    unmapped: list[str] = []
    for key in our_keys:
        for ours, official in rows:
            if key == ours:
                mapping[key] = official
                break
            if key.startswith(ours + "."):
                mapping[key] = official + key[len(ours) :]
                break
        else:
            unmapped.append(key)
    return mapping, unmapped


def skip_reason(official_key: str) -> str | None:
    """Why an official key is not imported (training-only/unused module), or None."""
    for prefix, reason in SKIPPED_PREFIXES.items():
        if official_key.startswith(prefix):
            return reason
    return None
