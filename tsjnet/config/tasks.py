"""Params for the task networks (detector, segmenter) that drive and judge the fusion.

conf/config.yaml holds the CPU values: small backbones trained from scratch in about two minutes each on
SynthScenes; the ``paper`` profile swaps in the paper's backbones (Faster R-CNN ResNet-50 FPN and
DeepLabV3+ ResNet-101).
"""

from typing import Any, ClassVar, Literal, Self

from pydantic import Field, model_validator

from tsjnet.config.base import Section

#: Images a task network trains on; "blend" = classical fusions of the pair (tsjnet.tasks.inputs.blend_image).
TrainModality = Literal["infrared", "visible", "blend"]
#: How the segmenter's cross-entropy weights classes (tsjnet.training.pretrain.class_weights).
ClassWeighting = Literal["uniform", "inverse_sqrt_frequency"]


class PretrainParams(Section):
    """Settings shared by both pretraining loops."""

    epochs: int = Field(ge=1)
    batch_size: int = Field(ge=1)
    lr: float = Field(gt=0)
    weight_decay: float = Field(ge=0)
    max_grad_norm: float = Field(gt=0)
    amp: bool  # only ever used on CUDA
    hflip: bool  # random horizontal flips: the training sets are tiny
    num_workers: int = Field(ge=0)
    # Validate after every val_every-th epoch and after the last: the curve in MLflow without paying for
    # validation every epoch (a detector's val pass costs about a tenth of its training epoch on 2 cores).
    val_every: int = Field(ge=1)

    #: Training-only fields added after checkpoints were written, with the value those runs used.
    ADDED_SINCE: ClassVar[dict[str, Any]] = {"val_every": 1}

    @classmethod
    def from_checkpoint(cls, config: dict[str, Any]) -> Self:
        """The params stored with a trained network (checkpoint, registered teacher): files written before a
        training-only field existed still load; every field that shapes the network must be in them."""
        return cls.model_validate(cls.ADDED_SINCE | config)


class DetectorParams(PretrainParams):
    """`detector:` section: one Faster R-CNN per modality, trained on that modality's boxes."""

    arch: Literal["fasterrcnn_mobilenet_v3_large_fpn", "fasterrcnn_resnet50_fpn"]
    modalities: tuple[TrainModality, ...]
    fusion_detector: TrainModality  # which detector judges fused images
    # modality -> an earlier modality whose trained detector it starts from (fine-tuning instead of from scratch):
    # blends hold the IR objects plus the VIS-only ones, so the IR detector is a far better start than noise.
    init_from: dict[TrainModality, TrainModality]
    # modality -> the kinds of image that detector trains on, one drawn per training image (each with its own
    # boxes), so steps per epoch stay those of one kind: the fused images' judge also keeps seeing IR, and so
    # judges fused images without losing the IR objects it would otherwise forget. Unlisted: its own images only.
    train_mix: dict[TrainModality, tuple[TrainModality, ...]]

    ADDED_SINCE: ClassVar[dict[str, Any]] = PretrainParams.ADDED_SINCE | {"train_mix": {}}
    # Faster R-CNN resizes every image so its short side is min_size (default 800 px): null keeps the
    # data's own size (read from the first training image) so nothing is upscaled.
    min_size: int | None = Field(ge=32)
    max_size: int | None = Field(ge=32)
    # Anchor sizes (px) on every FPN level; null keeps torchvision's for the arch (32..512, too big for
    # the 5-70 px road users of MSRS/SynthScenes at native size).
    anchor_sizes: tuple[int, ...] | None
    box_head_dim: int = Field(ge=16)  # torchvision: 1024
    rpn_batch_size_per_image: int = Field(ge=8)  # torchvision: 256
    box_batch_size_per_image: int = Field(ge=8)  # torchvision: 512
    rpn_post_nms_top_n_train: int = Field(ge=10)  # torchvision: 2000
    rpn_post_nms_top_n_test: int = Field(ge=10)  # torchvision: 1000
    score_threshold: float = Field(ge=0, le=1)
    checkpoint_dir: str  # one <modality>.pt per trained modality
    metrics: str

    @model_validator(mode="after")
    def _fusion_detector_trained(self) -> "DetectorParams":
        if self.fusion_detector not in self.modalities:
            raise ValueError(f"detector.fusion_detector {self.fusion_detector!r} must be one of detector.modalities")
        for target, source in self.init_from.items():
            order = list(self.modalities)
            if target not in order or source not in order or order.index(source) >= order.index(target):
                raise ValueError(f"detector.init_from {target}: {source}: both must be in detector.modalities "
                                 f"{order}, with {source!r} listed before {target!r} (it is trained first)")
        for target, kinds in self.train_mix.items():
            if target not in self.modalities or not kinds:
                raise ValueError(f"detector.train_mix {target}: {list(kinds)}: {target!r} must be in detector.modalities "
                                 f"{list(self.modalities)} and have at least one kind of image")
        return self


class SegmenterParams(PretrainParams):
    """`segmenter:` section: one DeepLabV3+ that sees IR (as gray RGB), VIS and fused images."""

    encoder: str
    train_modalities: tuple[TrainModality, ...]
    batch_size: int = Field(ge=2)  # BatchNorm after ASPP's global pooling needs >= 2 in train mode
    # Random (height, width) training crops, null = whole images: 480x640 real pairs cost ~6x a crop of 256x256.
    crop: tuple[int, int] | None
    # Cross-entropy class weights from the training masks' pixel counts: "uniform" (plain CE) or
    # "inverse_sqrt_frequency" (freq^-1/2). Box-derived real masks are ~96% background: with plain CE, two epochs
    # learn to predict background everywhere (conf/profile/msrs.yaml has the measured comparison).
    class_weights: ClassWeighting
    checkpoint: str
    metrics: str

    ADDED_SINCE: ClassVar[dict[str, Any]] = PretrainParams.ADDED_SINCE | {"class_weights": "uniform"}
