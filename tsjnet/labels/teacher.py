"""Teacher labels: a pretrained detector boxes the images that came with no label at all.

The teacher runs on the IR and the VIS image separately (each modality's boxes are what that sensor shows);
the fusion boxes are their merged union, as for annotated data. Only detections scoring at least
`score_threshold` are kept. The provenance confidence is the mean score of the kept boxes, or, when none
is kept, one minus the best score seen (how sure the detector is that the scene is empty).
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from tsjnet.config.pseudolabel import TeacherParams
from tsjnet.data.types import Sample
from tsjnet.data.boxes import merge_boxes
from tsjnet.tasks.detector import target_rows
from tsjnet.tasks.inputs import sample_image

SENSORS: tuple[str, ...] = ("infrared", "visible")


class Teacher:
    """A frozen torchvision-style detector (list of (3, H, W) images -> boxes/labels/scores) plus a threshold."""

    def __init__(self, model: nn.Module, score_threshold: float, device: torch.device) -> None:
        self.model = model.to(device).eval()
        self.score_threshold = score_threshold
        self.device = device

    @torch.no_grad()
    def detect(self, sample: Sample) -> dict[str, tuple[np.ndarray, float]]:
        """Modality -> ((N, 5) pixel boxes ``[det_class, x1, y1, x2, y2]``, confidence) for all three modalities."""
        outputs = self.model([sample_image(sample, sensor).to(self.device) for sensor in SENSORS])
        found: dict[str, tuple[np.ndarray, float]] = {}
        for sensor, output in zip(SENSORS, outputs):
            rows = target_rows(output).reshape(-1, 6)
            kept = rows[rows[:, 5] >= self.score_threshold]
            confidence = float(kept[:, 5].mean()) if len(kept) else 1.0 - float(rows[:, 5].max(initial=0.0))
            found[sensor] = (kept[:, :5], confidence)
        found["fusion"] = (merge_boxes([found[s][0] for s in SENSORS]), float(np.mean([found[s][1] for s in SENSORS])))
        return found


def load_teacher(params: TeacherParams) -> Teacher:
    """The teacher of `params.uri`: an MLflow model URI (models:/tsjnet-detector@champion) or a checkpoint file."""
    # Imported here: the registry pulls in MLflow and the fusion models, which only a teacher run needs.
    from tsjnet.registry.checkpoint import is_mlflow_uri, resolve_device

    device = resolve_device(params.device)
    uri = str(params.uri)
    if is_mlflow_uri(uri):
        from tsjnet.registry.register import load_task_model

        model = load_task_model(uri, device=str(device))
    else:
        from tsjnet.tasks.detector import load_detector

        model = load_detector(uri)
    return Teacher(model, params.score_threshold, device)
