"""Set-prediction losses of PAVE-Net (pavenet-model.md section 3).

- Proposals (matched over all centre-frame tokens) and every STPD layer (matched separately):
  sigmoid focal classification (alpha 0.25, gamma 2, weight 0.5, summed over queries and
  divided by the number of persons) and RLE regression (weight 1.0, centre frame, visible
  joints, divided by the number of visible coordinates). The last STPD layer was matched by
  the model already (it picks the STJD's persons): its matches (``joint_queries``,
  ``joint_targets``) are reused, not solved again.
- Every STJD layer: RLE on the persons the model matched (``joint_targets``), or, for outputs
  produced without targets, on a Hungarian matching of those persons.
- ``loss.reg = "l1"`` replaces RLE by L1 (per visible coordinate) + (1 - OKS) (per person).

The RLE flows are parameters of the criterion (training only): optimise and checkpoint
``criterion.parameters()`` / ``state_dict()`` alongside the model's.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from .config import ModelConfig
from .matcher import HungarianMatcher, check_targets, oks
from .rle import RealNVP, rle_loss


def sigmoid_focal_loss(
    logits: torch.Tensor, labels: torch.Tensor, alpha: float, gamma: float
) -> torch.Tensor:
    """Summed focal loss; logits and labels (any shape, labels in {0, 1})."""
    prob = logits.sigmoid()
    ce = F.binary_cross_entropy_with_logits(logits, labels, reduction="none")
    p_t = prob * labels + (1 - prob) * (1 - labels)
    alpha_t = alpha * labels + (1 - alpha) * (1 - labels)
    return (alpha_t * ce * (1 - p_t) ** gamma).sum()


class SetCriterion(nn.Module):
    """``criterion(outputs, targets) -> {"loss": total, "loss_<stage>_<term>": weighted term}``.

    outputs: a training-mode ``PAVENet.decode_window`` / ``forward`` dict.
    targets: one dict per sample with ``keypoints`` (N, K, 2) in [0, 1], ``visibility``
    (N, K) bool and ``areas`` (N,) (see ``matcher.py``). Stage names: ``enc`` (proposals),
    ``dec{l}`` (STPD layer l), ``joint{l}`` (STJD layer l); terms ``cls``, ``rle`` (or ``l1``
    and ``oks``).

    matcher: the model's matcher (``pavenet_sdk.model.build_training`` passes it); None builds
    one from ``cfg``. K and the OKS sigmas come from ``cfg.layout``.
    """

    def __init__(self, cfg: ModelConfig, matcher: HungarianMatcher | None = None) -> None:
        super().__init__()
        from .build import build_matcher

        self.cfg = cfg.loss
        layout = cfg.joint_layout
        self.num_joints = layout.num_joints
        self.matcher = build_matcher(cfg) if matcher is None else matcher
        if self.matcher.layout != layout:
            raise ValueError(
                f"the matcher's layout {self.matcher.layout.name!r} is not the config's "
                f"{layout.name!r}"
            )
        self.rle = cfg.loss.reg == "rle"
        if self.rle:  # one flow per stage; proposals exist only with pose-aware references
            self.enc_flow = RealNVP() if cfg.references == "pose_aware" else None
            self.dec_flow, self.joint_flow = RealNVP(), RealNVP()
        self.register_buffer("sigmas", torch.as_tensor(layout.sigmas_array), persistent=False)

    # ---- terms ----------------------------------------------------------------------------
    def _cls(self, logits: torch.Tensor, matches, num_persons: float) -> torch.Tensor:
        labels = torch.zeros_like(logits)
        for b, (q, _) in enumerate(matches):
            labels[b, q.to(logits.device)] = 1.0
        c = self.cfg
        focal = sigmoid_focal_loss(logits, labels, c.focal_alpha, c.focal_gamma)
        return c.cls_weight * focal / num_persons

    def _reg(
        self,
        pred: torch.Tensor,
        sigma: torch.Tensor,
        gt: torch.Tensor,
        vis: torch.Tensor,
        areas: torch.Tensor,
        flow: nn.Module | None,
        num_persons: float,
    ) -> dict[str, torch.Tensor]:
        """pred, sigma, gt (n, K, 2), vis (n, K): regression terms of the matched pairs."""
        gt = gt.masked_fill(~vis[..., None], 0.0)  # unlabelled joints carry no (or junk) values
        c = self.cfg
        if self.rle:
            total, count = rle_loss(pred, sigma, gt, vis, flow)
            return {"rle": c.reg_weight * total / count.clamp(min=1)}
        count = (2 * vis.sum()).clamp(min=1)
        l1 = ((pred - gt).abs() * vis[..., None]).sum() / count
        similarity = oks(pred, gt, vis, areas, self.sigmas.to(pred))
        # an empty selection still returns a zero tied to pred, for the autograd graph
        return {
            "l1": c.l1_weight * l1,
            "oks": c.oks_weight * ((1 - similarity).sum() + pred.sum() * 0) / num_persons,
        }

    @staticmethod
    def _gather(matches, pred_tensors, targets):
        """Concatenate matched predictions and their targets over the batch."""
        preds = [[] for _ in pred_tensors]
        gts, vis, areas = [], [], []
        for b, (q, t) in enumerate(matches):
            for out, tensor in zip(preds, pred_tensors, strict=True):
                out.append(tensor[b, q.to(tensor.device)])
            tgt = targets[b]
            t = t.to(tgt["keypoints"].device)
            gts.append(tgt["keypoints"][t])
            vis.append(tgt["visibility"][t])
            areas.append(tgt["areas"][t])
        return [torch.cat(p) for p in preds], torch.cat(gts), torch.cat(vis), torch.cat(areas)

    def _stage(self, name, logits, poses, sigmas, targets, flow, num_persons, matches=None):
        if matches is None:
            matches = self.matcher(logits, poses, targets)
        losses = {}
        if name != "joint":
            losses["cls"] = self._cls(logits, matches, num_persons)
        (p, s), gt, vis, areas = self._gather(matches, (poses, sigmas), targets)
        losses.update(self._reg(p, s, gt.to(p), vis.to(p.device), areas.to(p), flow, num_persons))
        return losses

    # ---- entry point ----------------------------------------------------------------------
    def forward(self, outputs: dict, targets: list[dict]) -> dict[str, torch.Tensor]:
        if not isinstance(outputs, dict) or "layers" not in outputs:
            raise ValueError("outputs must be a training-mode PAVENet output dict")
        B = outputs["layers"][0]["logits"].shape[0]
        check_targets(targets, B, self.num_joints)
        num_persons = float(max(1, sum(int(t["keypoints"].shape[0]) for t in targets)))
        flows = (self.enc_flow, self.dec_flow, self.joint_flow) if self.rle else (None, None, None)
        result: dict[str, torch.Tensor] = {}

        def add(stage: str, terms: dict[str, torch.Tensor]) -> None:
            for term, value in terms.items():
                result[f"loss_{stage}_{term}"] = value

        if "proposals" in outputs:
            p = outputs["proposals"]
            add("enc", self._stage("enc", p["logits"], p["poses"], p["sigmas"], targets,
                                   flows[0], num_persons))  # fmt: skip
        last = len(outputs["layers"]) - 1
        for l, layer in enumerate(outputs["layers"]):
            reused = self._model_matches(outputs) if l == last else None
            add(f"dec{l}", self._stage("dec", layer["logits"], layer["poses"], layer["sigmas"],
                                       targets, flows[1], num_persons, reused))  # fmt: skip
        matches = self._joint_matches(outputs, targets)
        for l, layer in enumerate(outputs["joint_layers"]):
            add(f"joint{l}", self._stage("joint", None, layer["poses"], layer["sigmas"], targets,
                                         flows[2], num_persons, matches))  # fmt: skip
        result["loss"] = sum(result.values())
        return result

    @staticmethod
    def _model_matches(outputs: dict):
        """The model's (query, target) matches of the last STPD layer, or None when the
        outputs were made without targets."""
        joint_targets = outputs.get("joint_targets")
        if joint_targets is None:
            return None
        matches = []
        for queries, row in zip(outputs["joint_queries"], joint_targets, strict=True):
            slots = torch.nonzero(row >= 0).flatten()
            matches.append((queries[slots].cpu(), row[slots].cpu()))
        return matches

    def _joint_matches(self, outputs: dict, targets: list[dict]):
        """(person slot, target) pairs of the STJD outputs."""
        joint_targets = outputs.get("joint_targets")
        if joint_targets is None:  # outputs made without targets: match the STJD persons
            last = outputs["joint_layers"][-1]
            return self.matcher(outputs["joint_logits"], last["poses"], targets)
        matches = []
        for row in joint_targets:
            slots = torch.nonzero(row >= 0).flatten()
            matches.append((slots.cpu(), row[slots].cpu()))
        return matches
