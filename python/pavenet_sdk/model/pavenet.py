"""The PAVE-Net module: ``encode_frame`` (once per frame) and ``decode_window`` (once per window).

Letters: B batch, F = 2T + 1 window frames (time order, centre = index T), Fd frames the
decoders attend to (F, or 1 for the image and STE variants), N tokens per frame, D width,
M person queries, P persons kept (top-k at inference), K joints.
Coordinates are (x, y) in [0, 1] of the whole fixed-size model input (padding included).
"""

from __future__ import annotations

import torch
from torch import nn

from .attention import attention_modules
from .backbone import ResNet
from .config import ModelConfig
from .encoder import SpatialEncoder, SpatiotemporalEncoder
from .joint_decoder import JointDecoder
from .matcher import HungarianMatcher, check_targets
from .neck import ChannelMapper
from .pose_decoder import PoseDecoder, PoseLayerOutput
from .position import LevelEmbedding, token_centres
from .proposals import ProposalHead


def _layout(level_shapes: list[tuple[int, int]], frames: int) -> tuple[torch.Tensor, torch.Tensor]:
    """spatial_shapes (frames*L, 2) int64 and level_start_index (frames*L,) for stacked frames."""
    shapes = torch.tensor(level_shapes * frames, dtype=torch.long)
    sizes = shapes.prod(1)
    return shapes, torch.cat([sizes.new_zeros(1), sizes.cumsum(0)[:-1]])


class PAVENet(nn.Module):
    """End-to-end multi-person video pose estimator.

    Runtime API (eval mode):
        ``encode_frame(images (B, 3, H, W)) -> memory (B, N, D)``
        ``decode_window(memories (B, F, N, D)) -> {"poses" (B, P, K, 2) in [0, 1],
        "logits" (B, P), "sigmas" (B, P, K, 2)}``, P = min(top_k, M), sorted by score.
        ``forward(window (B, F, 3, H, W))`` equals decode_window of the stacked encodings.
    Training mode: ``forward(window, targets)`` returns every output the losses need (see
    :meth:`decode_window`).
    """

    def __init__(
        self,
        cfg: ModelConfig,
        backbone: ResNet,
        neck: ChannelMapper,
        position: LevelEmbedding,
        encoder: SpatialEncoder | SpatiotemporalEncoder,
        proposals: ProposalHead | None,
        pose_decoder: PoseDecoder,
        joint_decoder: JointDecoder,
        matcher: HungarianMatcher | None = None,
    ) -> None:
        super().__init__()
        self.cfg = cfg
        self.backbone, self.neck, self.position = backbone, neck, position
        self.encoder, self.proposals = encoder, proposals
        self.pose_decoder, self.joint_decoder = pose_decoder, joint_decoder
        self.matcher = matcher
        shapes = cfg.level_shapes
        layouts = (("frame", 1), ("window", cfg.num_frames), ("decoder", cfg.decoder_frames))
        for name, frames in layouts:
            s, starts = _layout(shapes, frames)
            self.register_buffer(f"{name}_shapes", s, persistent=False)
            self.register_buffer(f"{name}_starts", starts, persistent=False)
        self.register_buffer("centres", token_centres(shapes), persistent=False)

    # ---- static facts of the configured input ---------------------------------------------
    @property
    def config(self) -> ModelConfig:
        """The :class:`ModelConfig` this model was built from (same as ``cfg``)."""
        return self.cfg

    @property
    def level_shapes(self) -> list[tuple[int, int]]:
        """(H_l, W_l) of each level for ``cfg.input_size``."""
        return self.cfg.level_shapes

    @property
    def num_tokens(self) -> int:
        """N, memory tokens per frame."""
        return self.cfg.num_tokens

    def set_fused_attention(self, flag: bool) -> None:
        """Use the fused native deformable-attention op (inference only) or the reference."""
        for m in attention_modules(self):
            m.fused = bool(flag)

    # ---- per frame -------------------------------------------------------------------------
    def encode_frame(self, images: torch.Tensor) -> torch.Tensor:
        """images (B, 3, H, W) float, normalised RGB at ``cfg.input_size`` -> memory (B, N, D).

        Frames are independent. For the STE variant the memory is the pre-encoder tokens
        (neck output); the joint encoder then runs in ``decode_window``.
        """
        h, w = self.cfg.input_size
        tracing = torch.jit.is_tracing()  # shapes are fixed by the example input then
        if not tracing and (images.dim() != 4 or tuple(images.shape[1:]) != (3, h, w)):
            raise ValueError(f"images must be (B, 3, {h}, {w}), got {tuple(images.shape)}")
        # channels-last runs the CPU convolutions and max-pool faster; values are identical
        maps = self.neck(self.backbone(images.contiguous(memory_format=torch.channels_last)))
        # L x (B, D, H_l, W_l) -> B, N, D (levels concatenated, row-major)
        tokens = torch.cat([m.flatten(2) for m in maps], dim=2).transpose(1, 2)
        if isinstance(self.encoder, SpatiotemporalEncoder):
            return tokens
        return self.encoder(
            tokens, self.position(), self.centres, self.frame_shapes, self.frame_starts
        )

    # ---- per window ------------------------------------------------------------------------
    def decode_window(
        self, memories: torch.Tensor, targets: list[dict] | None = None
    ) -> dict[str, torch.Tensor | list | dict]:
        """memories (B, F, N, D) of frames t-T..t+T -> poses of the centre frame.

        Eval mode: dict(poses (B, P, K, 2), logits (B, P), sigmas (B, P, K, 2)).
        Training mode: dict with
            "proposals": {"logits" (B, N), "poses" (B, N, K, 2), "sigmas"} (two-stage only)
            "layers": per STPD layer {"logits" (B, M), "poses" (B, M, K, 2) centre frame,
                      "sigmas" (B, M, K, 2), "frame_poses" (B, M, Fd, K, 2)}
            "joint_layers": per STJD layer {"poses" (B, P, K, 2), "sigmas", "frame_poses"}
            "joint_queries" (B, P) int64: the STPD query each STJD person came from
            "joint_logits" (B, P): that query's last STPD logit
            "joint_targets" (B, P) int64, only when ``targets`` are given: the matched target
                index (-1 = padding). The STJD then runs on the matched positives of the last
                STPD layer (padded to the largest count, at least 1); without targets it runs
                on the top-k, as at inference.
        """
        cfg = self.cfg
        expected = (cfg.num_frames, cfg.num_tokens, cfg.d_model)
        tracing = torch.jit.is_tracing()  # shapes are fixed by the example input then
        if not tracing and (memories.dim() != 4 or tuple(memories.shape[1:]) != expected):
            raise ValueError(
                f"memories must be (B, {cfg.num_frames}, {cfg.num_tokens}, {cfg.d_model}), "
                f"got {tuple(memories.shape)}"
            )
        B, _, N, D = memories.shape
        if isinstance(self.encoder, SpatiotemporalEncoder):
            memories = self.encoder(
                memories, self.position(), self.centres, self.window_shapes, self.window_starts
            )
        if cfg.decoder_frames == 1:
            memories = memories[:, cfg.T : cfg.T + 1]
        Fd = memories.shape[1]
        centre = Fd // 2
        value = memories.reshape(B, Fd * N, D)  # frame-major tokens

        # two-stage proposals from the centre frame, or learnable references
        proposal_out = None
        if self.proposals is None:
            query, query_pos, references = self.pose_decoder.initial_queries(B, None)
        else:
            M = cfg.pose_decoder.num_queries
            if self.training:  # the losses see every token's proposal
                proposal_out = self.proposals(memories[:, centre])
                selected = self.proposals.select(proposal_out, M)
            else:
                selected = self.proposals.select_top(memories[:, centre], M)
            query, query_pos, _ = self.pose_decoder.initial_queries(B, selected.features)
            references = selected.poses

        # STPD over every decoder frame
        layers = self.pose_decoder(
            query, query_pos, references, value, self.decoder_shapes, self.decoder_starts,
            all_outputs=self.training,
        )  # fmt: skip
        last = layers[-1]

        # STJD on the matched positives (training with targets) or on the top-k
        joint_targets = None
        if self.training and targets is not None:
            persons, joint_targets = self._matched_persons(last, targets, centre)
        else:
            k = min(cfg.top_k, cfg.pose_decoder.num_queries)
            persons = last.logits.topk(k, dim=1).indices  # B, P (sorted by score)
        P, K = persons.shape[1], last.frame_poses.shape[3]
        # B, M, Fd, K, 2 -> B, P, Fd, K, 2
        joint_refs = last.frame_poses.gather(
            1, persons[:, :, None, None, None].expand(B, P, Fd, K, 2)
        )
        joint_logits = last.logits.gather(1, persons)
        joints = self.joint_decoder(
            joint_refs, value, self.decoder_shapes, self.decoder_starts, all_outputs=self.training
        )
        if not self.training:
            return {"poses": joints[-1].poses, "logits": joint_logits, "sigmas": joints[-1].sigmas}

        out: dict = {
            "layers": [
                {
                    "logits": o.logits,
                    "poses": o.frame_poses[:, :, centre],
                    "sigmas": o.sigmas,
                    "frame_poses": o.frame_poses,
                }
                for o in layers
            ],
            "joint_layers": [j._asdict() for j in joints],
            "joint_queries": persons,
            "joint_logits": joint_logits,
        }
        if proposal_out is not None:
            out["proposals"] = {k: getattr(proposal_out, k) for k in ("logits", "poses", "sigmas")}
        if joint_targets is not None:
            out["joint_targets"] = joint_targets
        return out

    def _matched_persons(
        self, last: PoseLayerOutput, targets: list[dict], centre: int
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Matched (query, target) pairs of the last STPD layer as (B, P) index tensors:
        STPD query indices (padding: 0) and target indices (padding: -1); P >= 1."""
        if self.matcher is None:
            raise ValueError("this model was built without a matcher; training needs one")
        B = last.logits.shape[0]
        check_targets(targets, B, self.cfg.num_joints)
        matches = self.matcher(last.logits, last.frame_poses[:, :, centre], targets)
        # at least one slot, so the STJD always runs (every parameter joins the graph)
        P = max(1, max(len(q) for q, _ in matches))
        device = last.logits.device
        persons = torch.zeros(B, P, dtype=torch.long, device=device)
        target_idx = torch.full((B, P), -1, dtype=torch.long, device=device)
        for b, (q, t) in enumerate(matches):
            persons[b, : len(q)] = q.to(device)
            target_idx[b, : len(t)] = t.to(device)
        return persons, target_idx

    def forward(
        self, window: torch.Tensor, targets: list[dict] | None = None
    ) -> dict[str, torch.Tensor | list | dict]:
        """window (B, F, 3, H, W) -> ``decode_window`` of the per-frame encodings."""
        if window.dim() != 5 or window.shape[1] != self.cfg.num_frames:
            raise ValueError(
                f"window must be (B, {self.cfg.num_frames}, 3, H, W), got {tuple(window.shape)}"
            )
        B, F = window.shape[:2]
        # B, F, 3, H, W -> B*F, 3, H, W (frame index fastest) -> B, F, N, D
        memories = self.encode_frame(window.flatten(0, 1))
        return self.decode_window(memories.view(B, F, *memories.shape[1:]), targets)
