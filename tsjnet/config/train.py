"""Params of the fusion training stages: joint TSJNet (`train:`) and the SeAFusion baseline (`train_baseline:`).

Both run through the same trainer (tsjnet.training.joint), so they share one set of knobs; the sections differ
only in their values (conf/config.yaml) and in what TSJNet alone has (the DSM switch, the fusion-only ablation's
outputs).
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from tsjnet.config.base import Section
from tsjnet.config.tasks import TrainModality

Strategy = Literal["joint", "seafusion_rounds", "segmif_dynamic"]
DetTerm = Literal["loss_box_reg", "loss_rpn_box_reg", "loss_classifier"]


class RoundsParams(Section):
    """`strategy: seafusion_rounds` (SeAFusion): w_seg grows with the round, the segmenter adapts in between."""

    epochs_per_round: int = Field(ge=1, description="fusion epochs per round; round r uses w_seg * r")
    segmenter_steps: int = Field(ge=0, description="segmenter fine-tuning batches on fused images per round")
    segmenter_lr: float = Field(gt=0, description="Adam lr of that fine-tuning")


class DynamicParams(Section):
    """`strategy: segmif_dynamic` (SegMiF, DWA-style): weights from each loss's ratio to its previous value."""

    temperature: float = Field(gt=0, description="softmax temperature over the loss ratios (higher = flatter)")


class FusionTrainParams(Section):
    """Settings shared by every fusion training run."""

    model: str  # tsjnet.models.registry name
    epochs: int = Field(ge=1)  # CPU budget: a joint epoch of 48 crops takes ~30 s on 2 idle cores
    batch_size: int = Field(ge=1)  # paper: 2
    crop: tuple[int, int] | None  # random training crop (height, width); null = whole images
    lr: float = Field(gt=0)  # paper: Adam 1e-3
    weight_decay: float = Field(ge=0)
    max_grad_norm: float = Field(gt=0)
    plateau_stalls: int = Field(ge=1)  # lr *= plateau_factor once val loss has not improved this many epochs
    plateau_factor: float = Field(gt=0, lt=1)
    # The last `anneal_epochs` epochs run at lr * plateau_factor at most: a short run ends before its val loss has
    # stalled plateau_stalls times, so it would otherwise stop on a snapshot of the full learning rate.
    anneal_epochs: int = Field(ge=0)
    amp: bool  # mixed precision, used only where the device supports it (CUDA)
    # L_all = L_fusion + w_det L_Det + w_seg L_Seg. Measured on SynthScenes: weights of 10 from the first epoch let
    # the frozen task nets dominate and wash the fused image out (val SSIM 0.05); `task_warmup_epochs` lets the
    # fusion loss shape the image first (params.yaml's comment has the CPU default's measurements).
    w_det: float = Field(ge=0)
    w_seg: float = Field(ge=0)
    det_terms: tuple[DetTerm, ...]
    include_objectness: bool  # add the RPN objectness loss to L_Det
    fusion_detector: TrainModality | None  # detector judging fused images; null = detector.fusion_detector
    seg_render: Literal["colour", "gray"]  # fused image for the task losses (L_Seg, L_Det): VIS chroma or gray RGB
    strategy: Strategy
    # Epochs of L_fusion alone before the task losses join (counted in `epochs`); 0 = joint from the start (paper).
    task_warmup_epochs: int = Field(ge=0)
    rounds: RoundsParams
    dynamic: DynamicParams
    num_workers: int = Field(ge=0)
    log_images_every: int = Field(ge=0)  # epochs between sample-grid artifacts in MLflow; 0 = never
    n_log_images: int = Field(ge=1)
    checkpoint: str  # per-epoch training state (resume); persists across dvc repro
    out: str  # final model (tsjnet.registry.checkpoint format)
    metrics: str
    # The warm-up state shared between runs (null: not shared): written at the end of the warm-up; a run without a
    # checkpoint of its own starts from it when all settings but the task ones match (training.joint.warm_start).
    warmup_checkpoint: str | None
    # A fusion checkpoint (tsjnet.registry.checkpoint format) whose weights start the run instead of a random
    # init: fine-tuning, e.g. from the shipped real-data model (models/pretrained/). Its model must be `model`.
    init_from: str | None
    # With init_from: keep the BatchNorm running statistics of the start model (affine weights still train).
    freeze_norm: bool
    # With init_from: weight of the anchor term, the mean |fused - fused by the start model| on the same crops,
    # added to L_fusion (learning without forgetting): the fine-tuning may move the output only where the other
    # losses pay for it, so what the start model learned on another domain (real pairs) survives. 0 = off; without
    # init_from there is no start model and no anchor (like freeze_norm).
    anchor: float = Field(ge=0)

    @model_validator(mode="after")
    def _anneal_within_epochs(self) -> "FusionTrainParams":
        if self.anneal_epochs > self.epochs:
            raise ValueError(f"anneal_epochs ({self.anneal_epochs}) exceeds epochs ({self.epochs}); lower it "
                             "(0 = no final low-lr phase)")
        return self

    @model_validator(mode="after")
    def _task_losses_get_epochs(self) -> "FusionTrainParams":
        if (self.w_det > 0 or self.w_seg > 0) and self.task_warmup_epochs >= self.epochs:
            raise ValueError(f"task_warmup_epochs ({self.task_warmup_epochs}) must be below epochs ({self.epochs}), "
                             "or the task losses never train; raise epochs or lower the warm-up")
        return self


class TrainParams(FusionTrainParams):
    """`train:` joint TSJNet training, and its fusion-only ablation (same run with w_det = w_seg = 0)."""

    dsm: bool  # False: the LSM's detail-salience branch is replaced by identity (ablation)
    nat_rel_pos_bias: bool  # False: NAT without its relative position bias, so CUDA runs natten's fused kernels
    # null: the decoder draws the fused image (the paper); s >= 0: it draws a per-pixel IR/VIS weight plus a detail
    # residual bounded by s (tsjnet.models.tsjnet.Decoder)
    blend_residual: float | None = Field(ge=0)
    # with blend_residual: 0 blends the whole images; n > 0 blends their Laplacian bases n levels down and takes
    # the finer levels by the larger magnitude (an untrained network is then the Laplacian rule)
    blend_levels: int = Field(ge=0)
    ablation_checkpoint: str
    ablation_out: str
    ablation_metrics: str

    @model_validator(mode="after")
    def _levels_need_blend(self) -> "TrainParams":
        if self.blend_levels and self.blend_residual is None:
            raise ValueError(f"blend_levels ({self.blend_levels}) needs the blend decoder: set blend_residual "
                             "(e.g. 0.25) or blend_levels: 0")
        return self

    def fusion_only(self) -> "TrainParams":
        """The ablation: the same run without task losses (w_det = w_seg = 0), written to the ablation paths; it
        shares the joint run's warm-up state (`warmup_checkpoint`), so it branches off where the runs differ."""
        return self.model_copy(update={"w_det": 0.0, "w_seg": 0.0, "strategy": "joint",
                                       "checkpoint": self.ablation_checkpoint, "out": self.ablation_out,
                                       "metrics": self.ablation_metrics})

    def model_kwargs(self) -> dict[str, bool | float | int]:
        """Factory overrides of the model: the DSM, relative-position-bias and blend switches (each omitted at the
        paper's setting, so default files stay plain)."""
        return (({} if self.dsm else {"use_dsm": False})
                | ({} if self.nat_rel_pos_bias else {"nat_rel_pos_bias": False})
                | ({} if self.blend_residual is None else {"blend_residual": self.blend_residual})
                | ({"blend_levels": self.blend_levels} if self.blend_levels else {}))


class BaselineParams(FusionTrainParams):
    """`train_baseline:` SeAFusion with its own content loss (+ optionally its semantic loss) via the same trainer."""
