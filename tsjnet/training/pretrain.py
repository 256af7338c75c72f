"""Pretraining of the task networks on the ingested data (MSRS layout, splits train and val).

- Detectors: one Faster R-CNN per modality in `detector.modalities`, each trained on that modality's
  images and boxes (IR boxes for IR, VIS boxes for VIS, fusion boxes for blends), or on a per-image draw of
  the kinds in `detector.train_mix`, from scratch or, per `detector.init_from`, fine-tuned from a detector
  trained before it; fused images are later judged by `detector.fusion_detector`. Validation: mAP@0.5 on
  the val split of the same modality.
- Segmenter: ONE DeepLabV3+ trained on a mix of the `segmenter.train_modalities` images (IR as gray
  RGB and VIS), because task-driven evaluation feeds it IR, VIS and fused images alike, and a fused
  image resembles both. Validation: mIoU per modality and their mean.
"""

from __future__ import annotations

from functools import partial
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.data import DataLoader

from tsjnet.config.tasks import ClassWeighting, DetectorParams, PretrainParams, SegmenterParams
from tsjnet.data import open_dataset
from tsjnet.data.paired import PairDataset
from tsjnet.data.types import IGNORE_INDEX, NUM_SEG_CLASSES, SEG_CLASSES
from tsjnet.errors import DataError
from tsjnet.metrics.task import DetectionMAP, SegmentationIoU
from tsjnet.tasks.detector import build_detector, detector_checkpoint, target_rows
from tsjnet.tasks.segmenter import build_segmenter
from tsjnet.checkpoints import load_checkpoint
from tsjnet.training.fusion_data import file_digest, record_files
from tsjnet.reports import DetectorMetrics, FlatMetrics
from tsjnet.training.loop import FitSpec, LogMetrics, console, fit, seed_everything
from tsjnet.training.task_data import Task, TaskImages, collate_detection

TRAIN_SPLIT, VAL_SPLIT = "train", "val"


def _loader(pairs: PairDataset, modalities: tuple[str, ...], task: Task, params: PretrainParams,
            train: bool, generator: torch.Generator | None = None, crop: tuple[int, int] | None = None,
            mix: tuple[str, ...] = ()) -> DataLoader:
    dataset = TaskImages(pairs, modalities, task, train=train, hflip=train and params.hflip, crop=crop, mix=mix)
    loader = DataLoader(
        dataset, batch_size=params.batch_size, shuffle=train, generator=generator, num_workers=params.num_workers,
        collate_fn=collate_detection if task == "detection" else None,
        drop_last=train and task == "segmentation",  # BatchNorm after global pooling needs batches >= 2
    )
    if train and len(loader) == 0:
        raise DataError(f"{len(dataset)} training images are fewer than one batch of {params.batch_size}; "
                        "lower batch_size in params.yaml or add data")
    return loader


def detection_loss(model: nn.Module, batch: tuple[list, list], device: torch.device) -> torch.Tensor:
    """Faster R-CNN's summed training losses on a `collate_detection` batch (the `FitSpec.loss_fn` of detectors)."""
    images, targets = batch
    losses = model([i.to(device) for i in images], [{k: v.to(device) for k, v in t.items()} for t in targets])
    return sum(losses.values())


def _segmentation_loss(model: nn.Module, batch: tuple[torch.Tensor, torch.Tensor], device: torch.device,
                       weight: torch.Tensor | None = None) -> torch.Tensor:
    images, masks = batch
    weight = None if weight is None else weight.to(device)
    return F.cross_entropy(model(images.to(device)), masks.to(device), weight=weight, ignore_index=IGNORE_INDEX)


def class_weights(pairs: PairDataset, rule: ClassWeighting) -> torch.Tensor | None:
    """Cross-entropy weights per class from the pixel counts of `pairs`' masks (None: plain CE).

    ``inverse_sqrt_frequency``: freq^-1/2, scaled so that a labelled pixel weighs 1 on average (the loss keeps plain
    CE's scale); 0 for classes no mask holds (never a target). Ignored pixels are not counted.
    """
    if rule == "uniform":
        return None
    counts = np.zeros(NUM_SEG_CLASSES, np.int64)
    for record in pairs.records:
        mask = pairs.load(record).mask
        counts += np.bincount(mask[mask != IGNORE_INDEX].ravel(), minlength=NUM_SEG_CLASSES)[:NUM_SEG_CLASSES]
    if not counts.any():
        raise DataError("the training masks hold no labelled pixel to weight classes by: check the pseudolabel stage "
                        "output, or set segmenter.class_weights: uniform")
    freq = counts / counts.sum()
    present = freq > 0
    weights = np.zeros(NUM_SEG_CLASSES)
    weights[present] = freq[present] ** -0.5 / np.sqrt(freq).sum()
    return torch.tensor(weights, dtype=torch.float32)


def evaluate_detector(model: nn.Module, loader: DataLoader, device: torch.device) -> dict[str, float]:
    """mAP@0.5 over the loader's images (`tsjnet.metrics.task.DetectionMAP`)."""
    metric = DetectionMAP()
    for images, targets in loader:
        for prediction, target in zip(model([i.to(device) for i in images]), targets):
            metric.update(target_rows(prediction), target_rows(target))
    return {"map50": metric.compute()["mAP50"]}


def evaluate_segmenter(model: nn.Module, loader: DataLoader, device: torch.device) -> dict[str, float]:
    """Dataset-level mIoU, background included, ignored pixels excluded (`tsjnet.metrics.task.SegmentationIoU`)."""
    metric = SegmentationIoU()
    for images, masks in loader:
        for prediction, mask in zip(model(images.to(device)).argmax(1).cpu(), masks):
            metric.update(prediction, mask)
    return {"miou": metric.compute()["mIoU"]}


def _splits(data_root: str | Path) -> tuple[PairDataset, PairDataset]:
    return open_dataset("msrs", data_root, TRAIN_SPLIT), open_dataset("msrs", data_root, VAL_SPLIT)


def data_digest(*splits: PairDataset) -> str:
    """md5 of every file the splits are read from: stored with a checkpoint, so changed data is never resumed."""
    return file_digest(path for pairs in splits for path in record_files(pairs))


def pretrain_detectors(params: DetectorParams, data_root: str | Path, seed: int = 0,
                       log_metrics: LogMetrics | None = None, device: torch.device | None = None) -> dict[str, dict[str, float]]:
    """Train (or resume) one detector per modality; write and return their final val metrics."""
    train, val = _splits(data_root)
    data = data_digest(train, val)
    if not train.records:
        raise DataError(f"{data_root}/{TRAIN_SPLIT} holds no image pairs; run the ingest stage first")
    image_size = tuple(train.load(train.records[0]).ir.shape[:2])
    results = {}
    for modality in params.modalities:
        generator = seed_everything(seed)
        val_loader = _loader(val, (modality,), "detection", params, train=False)
        model, start = initial_detector(params, modality, image_size)
        mix = params.train_mix.get(modality, ())
        spec = FitSpec(
            name=f"detector_{modality}",
            model=model,
            loader=_loader(train, (modality,), "detection", params, train=True, generator=generator, mix=mix),
            loss_fn=detection_loss,
            evaluate=lambda model, device, loader=val_loader: evaluate_detector(model, loader, device),
            checkpoint=detector_checkpoint(params, modality),
            config=params.model_dump(),
            # None for one kind of image, as in checkpoints written before train_mix existed: those still resume.
            extra={"image_size": image_size, "modality": modality, "init_from": start, "data": data,
                   "train_mix": list(mix) or None},
        )
        results[modality] = _fit(spec, params, device, log_metrics)
    DetectorMetrics(results).write(params.metrics)
    return results


def initial_detector(params: DetectorParams, modality: str, image_size: tuple[int, int]
                      ) -> tuple[nn.Module, dict[str, str] | None]:
    """A fresh detector, or the trained one of `params.init_from[modality]` (with its file digest for resuming)."""
    model = build_detector(params, image_size)
    source = params.init_from.get(modality)
    if source is None:
        return model, None
    path = detector_checkpoint(params, source)
    model.load_state_dict(load_checkpoint(path, required=("model",))["model"])
    return model, {"modality": source, "digest": file_digest([path])}


def pretrain_segmenter(params: SegmenterParams, data_root: str | Path, seed: int = 0,
                       log_metrics: LogMetrics | None = None, device: torch.device | None = None) -> dict[str, float]:
    """Train (or resume) the segmenter on the mixed modalities; write and return its val mIoU per modality."""
    train, val = _splits(data_root)
    generator = seed_everything(seed)
    val_loaders = {m: _loader(val, (m,), "segmentation", params, train=False) for m in params.train_modalities}

    def evaluate(model: nn.Module, device: torch.device) -> dict[str, float]:
        scores = {f"miou_{m}": evaluate_segmenter(model, loader, device)["miou"] for m, loader in val_loaders.items()}
        return {**scores, "miou": sum(scores.values()) / len(scores)}

    weight = class_weights(train, params.class_weights)
    if weight is not None:
        console.print(f"segmenter: {params.class_weights} class weights " + ", ".join(
            f"{name} {value:.3g}" for name, value in zip(SEG_CLASSES, weight.tolist()) if value))
    spec = FitSpec(
        name="segmenter",
        model=build_segmenter(params),
        loader=_loader(train, params.train_modalities, "segmentation", params, train=True, generator=generator,
                       crop=params.crop),
        loss_fn=partial(_segmentation_loss, weight=weight),
        evaluate=evaluate,
        checkpoint=Path(params.checkpoint),
        config=params.model_dump(),
        extra={"data": data_digest(train, val)},
    )
    metrics = _fit(spec, params, device, log_metrics)
    FlatMetrics(metrics).write(params.metrics)
    return metrics


def _fit(spec: FitSpec, params: PretrainParams, device: torch.device | None, log_metrics: LogMetrics | None) -> dict[str, float]:
    return fit(spec, epochs=params.epochs, lr=params.lr, weight_decay=params.weight_decay,
               max_grad_norm=params.max_grad_norm, amp=params.amp, device=device, log_metrics=log_metrics,
               val_every=params.val_every)
