"""Score one fusion method on one dataset: the 13 fusion metrics and (where the pairs are labelled) mAP and mIoU.

Every method fuses through `fuse_pair`, the serving path, at the pairs' native size; fused images stay in memory.
Task scores come from the judges exactly as the evaluate stage computes them (`tsjnet.tasks.scoring`): IR and VIS
through their own detectors (and through the shared fusion detector, for a same-judge comparison), fused images
through the shared fusion detector, one segmenter for every input.
All statistics of one dataset are computed on the same bootstrap draws of its images (`Resampled`), so any two
methods, and any seeds of one method, compare as paired differences.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import torch
from rich.progress import track

from tsjnet.colour import to_tensor
from tsjnet.data.paired import PairDataset
from tsjnet.evaluation.judges import SHARED_KEY
from tsjnet.metrics import fusion_metrics
from tsjnet.metrics.bootstrap import Resampled, resample
from tsjnet.metrics.suite import HEADLINE_METRICS
from tsjnet.models.fusion import FusionModel
from tsjnet.registry.fuse import fuse_pair
from tsjnet.tasks.inputs import as_rgb
from tsjnet.tasks.scoring import (SOURCES, TASK_RESAMPLES, TaskInput, TaskNets, evaluate_inputs, source_input,
                                  with_intervals)

#: The task scores the research questions compare (mAP@0.5 and mIoU are the headline ones).
TASK_KEYS = ("map50", "map", "miou", "miou_no_bg")


def fuse_dataset(model: FusionModel, pairs: PairDataset, label: str) -> dict[str, np.ndarray]:
    """Pair name -> fused RGB image (uint8, native size), as `tsjnet fuse` writes it."""
    fused = {}
    for record in track(pairs.records, description=f"fuse {label}", transient=True):
        sample = pairs.load(record)
        fused[record.name] = fuse_pair(model, sample.ir, sample.vi)
    return fused


def fusion_draws(pairs: PairDataset, fused: Mapping[str, np.ndarray]) -> Resampled:
    """The 13 headline metrics' means over the pairs, on the task scores' bootstrap draws."""
    rows = []
    for record in pairs.records:
        sample = pairs.load(record)
        rows.append(fusion_metrics(sample.ir, sample.vi, fused[record.name]))
    columns = {metric: np.array([row[metric] for row in rows], dtype=np.float64) for metric in HEADLINE_METRICS}
    return resample(lambda images: {m: float(np.mean(values[images])) for m, values in columns.items()},
                    len(rows), TASK_RESAMPLES)


def _task_only(draws: Resampled) -> Resampled:
    keys = [key for key in TASK_KEYS if key in draws.values]
    return Resampled({k: draws.values[k] for k in keys}, {k: draws.replicates[k] for k in keys}, draws.draws)


def task_draws(pairs: PairDataset, fused: Mapping[str, Mapping[str, np.ndarray]], nets: TaskNets,
               device: torch.device, sources: Sequence[str] = SOURCES) -> dict[str, Resampled]:
    """Input name (each source modality under its own detector and under the fused images' judge, each fused
    method) -> its task scores on the shared draws."""
    def fused_image(images: Mapping[str, np.ndarray]):
        return lambda sample: as_rgb(to_tensor(images[sample.name]))

    inputs = [source_input(modality, judge) for modality in sources for judge in (modality, SHARED_KEY)]
    inputs += [TaskInput(method, SHARED_KEY, fused_image(images)) for method, images in fused.items()]
    scores = evaluate_inputs(inputs, pairs, nets, device)
    return {name: _task_only(with_intervals(score).resampled) for name, score in scores.items()}
