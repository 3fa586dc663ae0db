"""Swin Transformer trunk with mmdet-compatible state-dict keys (the official Swin-L build).

Keys: ``patch_embed.{projection,norm}``, ``stages.{i}.blocks.{j}.{norm1, attn.w_msa.{
relative_position_bias_table, relative_position_index, qkv, proj}, norm2, ffn.layers.{0.0,1}}``,
``stages.{i}.downsample.{norm,reduction}`` (stages 0..2) and ``norm{1,2,3}`` (the outputs).
Returns C3, C4, C5 (strides 8, 16, 32; channels 2E, 4E, 8E) like :class:`~.backbone.ResNet`.

Conventions of mmdet's implementation that the released weights depend on:
- patch embedding and patch merging pad right/bottom with zeros to a multiple of their stride
  ("corner" padding), so every stride rounds the size up (the same level shapes as ResNet);
- patch merging concatenates each 2x2 neighbourhood channel-major (channel c, row offset i,
  column offset j -> index 4c + 2i + j, the order of ``nn.Unfold``), not Swin's original
  [x00, x10, x01, x11] blocks;
- windows: the map is zero-padded to a multiple of the window size (padded tokens take part in
  attention), odd blocks shift by window // 2 with the -100 cross-region mask;
- outputs are stage outputs before the downsampling, each through its own LayerNorm.
Letters: B batch, H x W tokens, C channels, w window size, N = w * w.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from .backbone import Trunk
from .config import BackboneConfig


def relative_position_index(window: int) -> torch.Tensor:
    """(w*w, w*w) int64: index into the (2w-1)^2 bias table for every (query, key) pair."""
    coords = torch.stack(
        torch.meshgrid(torch.arange(window), torch.arange(window), indexing="ij")
    ).flatten(1)  # 2, N (row, col)
    rel = coords[:, :, None] - coords[:, None, :] + (window - 1)  # 2, N, N in [0, 2w-2]
    return rel[0] * (2 * window - 1) + rel[1]


class WindowMSA(nn.Module):
    """Multi-head self-attention inside w x w windows with a relative position bias."""

    def __init__(self, dim: int, num_heads: int, window: int) -> None:
        super().__init__()
        if dim % num_heads:
            raise ValueError(f"Swin width {dim} must be divisible by its {num_heads} heads")
        self.num_heads = num_heads
        self.scale = (dim // num_heads) ** -0.5
        self.relative_position_bias_table = nn.Parameter(
            torch.zeros((2 * window - 1) ** 2, num_heads)
        )
        # derived from the window size; persistent because the official checkpoints store it
        self.register_buffer("relative_position_index", relative_position_index(window))
        self.qkv = nn.Linear(dim, 3 * dim)
        self.proj = nn.Linear(dim, dim)
        nn.init.trunc_normal_(self.relative_position_bias_table, std=0.02)

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
        """x (B*nW, N, C), mask (nW, N, N) additive or None -> (B*nW, N, C)."""
        Bw, N, C = x.shape
        H = self.num_heads
        # Bw, N, 3C -> 3, Bw, H, N, C/H
        q, k, v = self.qkv(x).reshape(Bw, N, 3, H, C // H).permute(2, 0, 3, 1, 4)
        attn = (q * self.scale) @ k.transpose(-2, -1)  # Bw, H, N, N
        bias = self.relative_position_bias_table[self.relative_position_index.view(-1)]
        attn = attn + bias.view(N, N, H).permute(2, 0, 1)[None]
        if mask is not None:
            nW = mask.shape[0]
            attn = (attn.view(Bw // nW, nW, H, N, N) + mask[None, :, None]).view(Bw, H, N, N)
        out = (attn.softmax(-1) @ v).transpose(1, 2).reshape(Bw, N, C)
        return self.proj(out)


def _partition(x: torch.Tensor, w: int) -> torch.Tensor:
    """(B, H, W, C) -> (B * H/w * W/w, w*w, C), windows row-major."""
    B, H, W, C = x.shape
    x = x.view(B, H // w, w, W // w, w, C).permute(0, 1, 3, 2, 4, 5)
    return x.reshape(-1, w * w, C)


def _merge(windows: torch.Tensor, w: int, B: int, H: int, W: int) -> torch.Tensor:
    """Inverse of :func:`_partition`: -> (B, H, W, C)."""
    C = windows.shape[-1]
    x = windows.view(B, H // w, W // w, w, w, C).permute(0, 1, 3, 2, 4, 5)
    return x.reshape(B, H, W, C)


def _shift_mask(H: int, W: int, w: int, s: int) -> torch.Tensor:
    """(nW, N, N) additive mask: -100 between tokens that came from different image regions
    after the cyclic shift, 0 otherwise. Built with numpy so a traced/exported graph holds it
    as a constant (its regions can be empty when the map is a single window)."""
    regions = np.zeros((H, W), dtype=np.float32)
    cuts = (slice(0, -w), slice(-w, -s), slice(-s, None))
    label = 0
    for hs in cuts:
        for ws in cuts:
            regions[hs, ws] = label
            label += 1
    # H, W -> nW, N (windows row-major, as _partition)
    ids = regions.reshape(H // w, w, W // w, w).transpose(0, 2, 1, 3).reshape(-1, w * w)
    diff = ids[:, None, :] - ids[:, :, None]
    return torch.from_numpy(np.where(diff != 0, -100.0, 0.0).astype(np.float32))


class ShiftWindowMSA(nn.Module):
    """Window attention over a padded token map; ``shift`` > 0 gives the shifted-window form."""

    def __init__(self, dim: int, num_heads: int, window: int, shift: int) -> None:
        super().__init__()
        self.window, self.shift = window, shift
        self.w_msa = WindowMSA(dim, num_heads, window)

    def forward(self, x: torch.Tensor, hw: tuple[int, int]) -> torch.Tensor:
        """x (B, H*W, C) -> (B, H*W, C)."""
        B, L, C = x.shape
        H, W = hw
        w, s = self.window, self.shift
        x = x.view(B, H, W, C)
        pad_b, pad_r = (w - H % w) % w, (w - W % w) % w
        x = F.pad(x, (0, 0, 0, pad_r, 0, pad_b))
        Hp, Wp = H + pad_b, W + pad_r
        mask = None
        if s > 0:
            x = torch.roll(x, shifts=(-s, -s), dims=(1, 2))
            mask = _shift_mask(Hp, Wp, w, s).to(device=x.device, dtype=x.dtype)
        out = _merge(self.w_msa(_partition(x, w), mask), w, B, Hp, Wp)
        if s > 0:
            out = torch.roll(out, shifts=(s, s), dims=(1, 2))
        return out[:, :H, :W].reshape(B, H * W, C)


class SwinBlock(nn.Module):
    """Pre-norm block: x + attn(norm1(x)); x + ffn(norm2(x)) (FFN: Linear, GELU, Linear)."""

    def __init__(self, dim: int, num_heads: int, window: int, shift: int) -> None:
        super().__init__()
        self.norm1 = nn.LayerNorm(dim)
        self.attn = ShiftWindowMSA(dim, num_heads, window, shift)
        self.norm2 = nn.LayerNorm(dim)
        # key layout of mmcv's FFN: layers.0.0 = fc1 (GELU follows), layers.1 = fc2
        self.ffn = nn.Module()
        self.ffn.layers = nn.Sequential(
            nn.Sequential(nn.Linear(dim, 4 * dim), nn.GELU()), nn.Linear(4 * dim, dim)
        )

    def forward(self, x: torch.Tensor, hw: tuple[int, int]) -> torch.Tensor:
        x = x + self.attn(self.norm1(x), hw)
        return x + self.ffn.layers(self.norm2(x))


class PatchMerging(nn.Module):
    """(B, H*W, C) -> (B, ceil(H/2)*ceil(W/2), 2C): 2x2 neighbourhoods, LayerNorm, Linear."""

    def __init__(self, dim: int) -> None:
        super().__init__()
        self.norm = nn.LayerNorm(4 * dim)
        self.reduction = nn.Linear(4 * dim, 2 * dim, bias=False)

    def forward(self, x: torch.Tensor, hw: tuple[int, int]) -> tuple[torch.Tensor, tuple]:
        B, _, C = x.shape
        H, W = hw
        x = x.transpose(1, 2).reshape(B, C, H, W)
        x = F.pad(x, (0, W % 2, 0, H % 2))
        h, w = (H + 1) // 2, (W + 1) // 2
        # B, C, h, 2, w, 2 -> B, h, w, C, 2, 2 -> B, h*w, 4C (channel-major like nn.Unfold)
        x = x.view(B, C, h, 2, w, 2).permute(0, 2, 4, 1, 3, 5).reshape(B, h * w, 4 * C)
        return self.reduction(self.norm(x)), (h, w)


class SwinStage(nn.Module):
    """Blocks alternating plain / shifted windows, then an optional patch merging."""

    def __init__(self, dim: int, depth: int, num_heads: int, window: int, downsample: bool):
        super().__init__()
        self.blocks = nn.ModuleList(
            SwinBlock(dim, num_heads, window, 0 if j % 2 == 0 else window // 2)
            for j in range(depth)
        )
        self.downsample = PatchMerging(dim) if downsample else None

    def forward(self, x: torch.Tensor, hw: tuple[int, int]):
        """-> (stage output (B, H*W, C), its hw, next stage input, its hw)."""
        for block in self.blocks:
            x = block(x, hw)
        if self.downsample is None:
            return x, hw, x, hw
        down, down_hw = self.downsample(x, hw)
        return x, hw, down, down_hw


class PatchEmbed(nn.Module):
    """4x4 stride-4 conv (input zero-padded right/bottom to a multiple of 4) + LayerNorm."""

    def __init__(self, dim: int, patch: int = 4) -> None:
        super().__init__()
        self.patch = patch
        self.projection = nn.Conv2d(3, dim, patch, stride=patch)
        self.norm = nn.LayerNorm(dim)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, tuple[int, int]]:
        H, W = x.shape[-2:]
        p = self.patch
        x = self.projection(F.pad(x, (0, (p - W % p) % p, 0, (p - H % p) % p)))
        hw = (int(x.shape[2]), int(x.shape[3]))
        return self.norm(x.flatten(2).transpose(1, 2)), hw


class SwinTransformer(Trunk):
    """Swin trunk: images (B, 3, H, W) -> (C3, C4, C5) at strides 8, 16, 32.

    ``frozen_stages`` k >= 1 freezes the patch embedding and the first k stages.
    """

    def __init__(self, cfg: BackboneConfig) -> None:
        super().__init__()
        E = cfg.embed_dim
        n = len(cfg.stage_depths)
        if n != 4 or len(cfg.stage_heads) != 4:
            raise ValueError("a Swin backbone needs 4 stage depths and 4 head counts")
        self.frozen_stages = cfg.frozen_stages
        self.patch_embed = PatchEmbed(E)
        self.stages = nn.ModuleList(
            SwinStage(E * 2**i, d, h, cfg.window_size, downsample=i < n - 1)
            for i, (d, h) in enumerate(zip(cfg.stage_depths, cfg.stage_heads, strict=True))
        )
        for i in (1, 2, 3):  # C3, C4, C5
            self.add_module(f"norm{i}", nn.LayerNorm(E * 2**i))
        self.out_channels = cfg.out_channels
        for m in self.modules():
            if isinstance(m, nn.Linear):
                nn.init.trunc_normal_(m.weight, std=0.02)
                if m.bias is not None:
                    nn.init.zeros_(m.bias)
        self._freeze()

    def _frozen_modules(self) -> list[nn.Module]:
        if self.frozen_stages < 1:
            return []
        return [self.patch_embed, *self.stages[: self.frozen_stages]]

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        x, hw = self.patch_embed(x)
        outs = []
        for i, stage in enumerate(self.stages):
            out, out_hw, x, hw = stage(x, hw)
            if i >= 1:
                out = getattr(self, f"norm{i}")(out)
                # B, H*W, C -> B, C, H, W
                outs.append(out.transpose(1, 2).reshape(out.shape[0], -1, *out_hw))
        return outs[0], outs[1], outs[2]
