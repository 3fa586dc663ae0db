"""Held-out evaluation: prediction decoding back to frame pixels and the AP pipeline."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from pavenet_sdk.data.transforms import letterbox_size  # noqa: E402
from pavenet_sdk.data.types import Frame, Sequence  # noqa: E402
from pavenet_sdk.eval import evaluate_posetrack  # noqa: E402
from pavenet_sdk.train.evaluate import decode_predictions, held_out_clips  # noqa: E402


def test_decode_maps_model_coordinates_to_frame_pixels() -> None:
    in_size, frame = (192, 192), (320, 240)
    scale = letterbox_size(*frame, in_size)[0]  # 0.6
    px = np.array([[10.0, 20.0], [300.0, 200.0]])  # two joints in frame px
    poses = torch.zeros(3, 15, 2)
    poses[1, :2] = torch.as_tensor(px * scale / 192)
    logits = torch.tensor([-5.0, 3.0, 0.0])
    sigmas = torch.full((3, 15, 2), 0.01)
    persons = decode_predictions(poses, logits, sigmas, 2, scale, in_size, frame)
    assert len(persons) == 2
    best = persons[0]  # highest score first
    assert best.score == pytest.approx(float(torch.sigmoid(torch.tensor(3.0))))
    np.testing.assert_allclose(best.keypoints[:2, :2], px, atol=1e-3)
    assert best.keypoints.shape == (15, 3) and (best.keypoints[:, 2] > 0).all()
    # joint score = person score x 0.7 (1 - exp(-0.2 / sigma))^2, near 0.7 for small sigma
    assert best.scores[0] == pytest.approx(best.score * 0.7, rel=1e-3)


def test_ground_truth_through_decode_scores_100() -> None:
    clips = held_out_clips("easy", videos=2, frames=2, seed_start=10**9, frame_size=(160, 120))
    in_size = (96, 96)
    preds = []
    for clip in clips:
        frames = []
        for gt in clip.sequence.frames:
            scale = letterbox_size(160, 120, in_size)[0]
            kps = [p.keypoints[:, :2] for p in gt.persons]
            n = len(kps)
            poses = torch.zeros(max(n, 1), 15, 2)
            for i, k in enumerate(kps):
                poses[i] = torch.as_tensor(k * scale / 96.0)
            persons = decode_predictions(poses, torch.zeros(max(n, 1)),
                                         torch.full((max(n, 1), 15, 2), 0.01), n, scale,
                                         in_size, (160, 120))  # fmt: skip
            frames.append(Frame(gt.index, gt.image_path, gt.is_labeled, persons))
        preds.append(Sequence(clip.sequence.name, frames))
    result = evaluate_posetrack([c.sequence for c in clips], preds)
    assert result["mean"] == pytest.approx(100.0)
