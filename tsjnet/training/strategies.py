"""How the loss groups are weighted epoch by epoch: L_all = w_fusion L_fusion + w_det L_Det + w_seg L_Seg.

- ``joint`` (TSJNet): fixed weights from params.
- ``seafusion_rounds`` (SeAFusion, Tang et al. 2022): training runs in rounds of ``epochs_per_round`` epochs;
  round r (from 1) uses w_seg * r, so the semantic pull grows as the fused images improve, and the trainer
  fine-tunes the segmenter on fused images between rounds (`round_ended`).
- ``segmif_dynamic`` (SegMiF, Liu et al. 2023; DWA of Liu et al. 2019): a group whose loss fell slowly last
  epoch gets more weight: lambda_k = K softmax_k(r_k / T), r_k = L_k(t-1) / L_k(t-2), and w_k = base_k * lambda_k.
  The first two epochs (no ratio yet) use the base weights. Groups with base weight 0 stay off.

Every strategy can start with ``task_warmup_epochs`` epochs of L_fusion alone (task weights 0): frozen judges
can only read images once the fusion network makes some, and task gradients on a fresh network's output
mostly fight the fusion loss. Rounds and dynamic ratios count from the end of the warm-up.

Weights are per epoch, so every rank and a resumed run see the same values (the history is checkpointed).
"""

from __future__ import annotations

import math
from typing import Any

from tsjnet.config.train import FusionTrainParams


class LossWeighting:
    """Fixed weights (strategy ``joint``) after the warm-up; the base of the other strategies.

    Subclasses define the schedule after the warm-up (`_weights`, `_record`, `_round_ended`), in epochs
    counted from its end.
    """

    def __init__(self, base: dict[str, float], warmup: int = 0) -> None:
        self.base = dict(base)
        self.warmup = warmup

    def weights(self, epoch: int) -> dict[str, float]:
        """Weights of the groups in 0-based `epoch` (task groups 0 during the warm-up)."""
        if epoch < self.warmup:
            return {group: weight if group == "fusion" else 0.0 for group, weight in self.base.items()}
        return self._weights(epoch - self.warmup)

    def validation_weights(self, epoch: int) -> dict[str, float]:
        """What the val loss (the plateau monitor) weighs: the fusion loss alone in the warm-up, then the base
        weights, fixed whatever the strategy does, so values stay comparable within each phase."""
        return self.weights(epoch) if epoch < self.warmup else dict(self.base)

    def update(self, epoch: int, losses: dict[str, float]) -> None:
        """Record 0-based `epoch`'s mean unweighted group losses (warm-up epochs have no task losses)."""
        if epoch >= self.warmup:
            self._record(losses)

    def round_ended(self, epoch: int) -> bool:
        """True when 0-based `epoch` closes a round (only the rounds strategy has rounds)."""
        return epoch >= self.warmup and self._round_ended(epoch - self.warmup)

    def _weights(self, epoch: int) -> dict[str, float]:
        return dict(self.base)

    def _record(self, losses: dict[str, float]) -> None:
        """Only dynamic weighting uses the losses."""

    def _round_ended(self, epoch: int) -> bool:
        return False

    def state_dict(self) -> dict[str, Any]:
        return {}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore what `state_dict` returned (a resumed run continues the same schedule)."""


class SeafusionRounds(LossWeighting):
    """w_seg * round, round = epoch // epochs_per_round + 1."""

    def __init__(self, base: dict[str, float], epochs_per_round: int, warmup: int = 0) -> None:
        super().__init__(base, warmup)
        self.epochs_per_round = epochs_per_round

    def round_of(self, epoch: int) -> int:
        return epoch // self.epochs_per_round + 1

    def _weights(self, epoch: int) -> dict[str, float]:
        return {**self.base, "seg": self.base["seg"] * self.round_of(epoch)}

    def _round_ended(self, epoch: int) -> bool:
        return (epoch + 1) % self.epochs_per_round == 0


def dwa_factors(previous: dict[str, float], before: dict[str, float], temperature: float) -> dict[str, float]:
    """lambda_k = K exp(r_k / T) / sum_j exp(r_j / T) with r_k = previous_k / before_k (they average to 1)."""
    ratios = {k: previous[k] / max(before[k], 1e-12) for k in previous}
    top = max(ratios.values())
    exps = {k: math.exp((r - top) / temperature) for k, r in ratios.items()}
    total = sum(exps.values())
    return {k: len(exps) * e / total for k, e in exps.items()}


class SegmifDynamic(LossWeighting):
    """DWA over the active groups from the last two epochs' losses."""

    def __init__(self, base: dict[str, float], temperature: float, warmup: int = 0) -> None:
        super().__init__(base, warmup)
        self.temperature = temperature
        self.history: list[dict[str, float]] = []

    def _record(self, losses: dict[str, float]) -> None:
        self.history = [*self.history, {k: losses[k] for k in self.base if self.base[k] > 0}][-2:]

    def _weights(self, epoch: int) -> dict[str, float]:
        if len(self.history) < 2:
            return dict(self.base)
        factors = dwa_factors(self.history[1], self.history[0], self.temperature)
        return {k: w * factors.get(k, 0.0) for k, w in self.base.items()}

    def state_dict(self) -> dict[str, Any]:
        return {"history": self.history}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.history = list(state["history"])


def make_weighting(params: FusionTrainParams) -> LossWeighting:
    """The weighting `params.strategy` names, around the base weights (fusion 1, w_det, w_seg)."""
    base = {"fusion": 1.0, "det": params.w_det, "seg": params.w_seg}
    warmup = params.task_warmup_epochs
    if params.strategy == "seafusion_rounds":
        return SeafusionRounds(base, params.rounds.epochs_per_round, warmup)
    if params.strategy == "segmif_dynamic":
        return SegmifDynamic(base, params.dynamic.temperature, warmup)
    return LossWeighting(base, warmup)
