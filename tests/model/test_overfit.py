"""A 30-step overfit of the tiny model on one drawn window drives the loss down."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from pavenet_sdk.layouts import POSETRACK_15
from pavenet_sdk.manifest import IMAGENET_MEAN, IMAGENET_STD
from pavenet_sdk.model import build_training, get_preset

cv2 = pytest.importorskip("cv2")

MEAN = np.array(IMAGENET_MEAN, dtype=np.float32)
STD = np.array(IMAGENET_STD, dtype=np.float32)
SKELETON = POSETRACK_15.skeleton


def _stick_figure(cx: float, cy: float, h: float) -> np.ndarray:
    """15 joints (x, y) px of a standing figure of height h centred at (cx, cy)."""
    u = h / 8
    rel = [
        (0, -3.3), (0, -2.8), (0, -4), (-0.9, -2.6), (0.9, -2.6), (-1.2, -1.3), (1.2, -1.3),
        (-1.4, 0), (1.4, 0), (-0.6, 0.2), (0.6, 0.2), (-0.7, 2), (0.7, 2), (-0.8, 3.8), (0.8, 3.8),
    ]  # fmt: skip
    return np.array([(cx + x * u, cy + y * u) for x, y in rel], dtype=np.float32)


def _window(size: int, frames: int, shift: float):
    people = [(0.3, 0.45, 0.55), (0.7, 0.55, 0.45)]
    images, poses = [], None
    for f in range(frames):
        img = np.full((size, size, 3), 90, np.uint8)
        cv2.rectangle(img, (0, int(size * 0.8)), (size, size), (60, 110, 60), -1)
        kps = []
        for cx, cy, h in people:
            k = _stick_figure((cx + shift * (f - frames // 2)) * size, cy * size, h * size)
            for a, b in SKELETON:
                left = a in (3, 5, 7, 9, 11, 13) or b in (5, 7, 11, 13)
                colour = (40, 40, 200) if left else (80, 200, 255)  # left limbs darker
                cv2.line(img, tuple(map(int, k[a])), tuple(map(int, k[b])), colour, 3)
            cv2.circle(img, tuple(map(int, k[2])), int(size * 0.03), (200, 180, 160), -1)
            kps.append(k)
        if f == frames // 2:
            poses = np.stack(kps) / size
        rgb = img[..., ::-1].astype(np.float32)
        images.append(torch.from_numpy(((rgb - MEAN) / STD).transpose(2, 0, 1).copy()))
    keypoints = torch.from_numpy(poses)
    extent = keypoints.amax(1) - keypoints.amin(1)
    target = {
        "keypoints": keypoints,
        "visibility": torch.ones(len(people), 15, dtype=torch.bool),
        "areas": extent.prod(-1) * 0.53,
    }
    return torch.stack(images)[None], [target]


@pytest.mark.slow
def test_tiny_overfits_one_window():
    torch.manual_seed(0)
    # the tiny architecture at a 128x128 input keeps the test quick on one core
    cfg = get_preset("tiny").replace(input_size=(128, 128))
    model, criterion = build_training(cfg)  # one matcher for both
    model.train()
    window, targets = _window(cfg.input_size[0], cfg.num_frames, shift=0.01)
    params = [p for p in model.parameters() if p.requires_grad] + list(criterion.parameters())
    opt = torch.optim.AdamW(params, lr=1e-3, weight_decay=1e-4)
    T = cfg.T
    losses = []
    for _ in range(30):
        # as in training on CPU: only the centre frame's encoding gets gradients
        centre = model.encode_frame(window[:, T])
        with torch.no_grad():
            before = model.encode_frame(window[:, :T].flatten(0, 1))[None]
            after = model.encode_frame(window[:, T + 1 :].flatten(0, 1))[None]
        memories = torch.cat([before, centre[:, None], after], dim=1)
        loss = criterion(model.decode_window(memories, targets), targets)["loss"]
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        losses.append(loss.item())
    first, last = np.mean(losses[:3]), np.mean(losses[-3:])
    assert np.isfinite(losses).all()
    # RLE losses go negative as the predicted sigmas shrink: compare differences
    assert last < first - 5.0, losses
