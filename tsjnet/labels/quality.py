"""How good derived labels are, measured where the truth is known (SynthScenes, or any fully labelled set).

The stage derives masks from the true boxes and boxes from the true masks, exactly as it would for a dataset
missing them, and compares: per-class mask IoU (dataset-level, over the boxed classes person, bike, car;
a derived ignore pixel counts as "not that class"), per-class precision of the object labels it writes, the
accuracy of all the pixels it labels, and box precision / recall at IoU 0.5 against each modality's true boxes.
"""

from __future__ import annotations

import numpy as np

from tsjnet.config.pseudolabel import PseudolabelParams
from tsjnet.data.types import IGNORE_INDEX, SEG_CLASSES, SEG_TO_DET, Sample
from tsjnet.data.boxes import count_matches, merge_boxes, reference_modalities
from tsjnet.labels.from_boxes import mask_from_boxes
from tsjnet.labels.from_masks import boxes_from_mask

BOXED_SEG_CLASSES: tuple[int, ...] = tuple(sorted(SEG_TO_DET))


class LabelQuality:
    """Accumulates derived-vs-true comparisons over a dataset; `metrics()` gives flat, MLflow-ready numbers."""

    def __init__(self) -> None:
        self.images = 0
        self.intersection = {c: 0 for c in BOXED_SEG_CLASSES}
        self.union = {c: 0 for c in BOXED_SEG_CLASSES}
        self.predicted = {c: 0 for c in BOXED_SEG_CLASSES}
        self.labelled = 0
        self.labelled_correct = 0
        self.boxes: dict[str, list[int]] = {}  # modality -> [matches, predicted, true]

    def measure(self, sample: Sample, params: PseudolabelParams, seed: int = 0) -> None:
        """Derive a mask from the sample's true boxes and boxes from its true mask, as the stage would, and
        compare both with the truth. The sample needs a mask and boxes of at least one modality."""
        if sample.mask is None or not sample.boxes:
            raise ValueError(f"measuring label quality needs a true mask and true boxes; {sample.name!r} lacks one")
        reference = merge_boxes([sample.boxes[m] for m in reference_modalities(sample.boxes)])
        self.add_mask(mask_from_boxes(sample.ir, sample.vi, reference, params, seed)[0], sample.mask)
        derived = boxes_from_mask(sample.mask, params.min_component_area, params.component_gap_px)
        for modality, truth in sample.boxes.items():
            self.add_boxes(modality, derived, truth)

    def add_mask(self, derived: np.ndarray, truth: np.ndarray) -> None:
        """Compare a mask derived from true boxes with the true mask (true ignore pixels are skipped)."""
        self.images += 1
        valid = truth != IGNORE_INDEX
        for c in BOXED_SEG_CLASSES:
            predicted, actual = (derived == c) & valid, truth == c
            self.intersection[c] += int((predicted & actual).sum())
            self.union[c] += int((predicted | actual).sum())
            self.predicted[c] += int(predicted.sum())
        decided = valid & (derived != IGNORE_INDEX)
        self.labelled += int(decided.sum())
        self.labelled_correct += int((derived[decided] == truth[decided]).sum())

    def add_boxes(self, modality: str, derived: np.ndarray, truth: np.ndarray) -> None:
        """Compare boxes derived from the true mask with the true boxes of `modality`."""
        counts = self.boxes.setdefault(modality, [0, 0, 0])
        counts[0] += count_matches(derived, truth)
        counts[1] += len(derived)
        counts[2] += len(truth)

    def metrics(self) -> dict[str, float]:
        """``quality_*`` numbers; empty when nothing was compared (no image with true labels).

        Box precision with no derived box, and recall with no true box, are 1.0 (nothing was wrong).
        """
        if not self.images and not self.boxes:
            return {}
        result: dict[str, float] = {"quality_images": float(self.images)}
        if self.images:
            ious = {SEG_CLASSES[c]: self.intersection[c] / self.union[c] for c in BOXED_SEG_CLASSES if self.union[c]}
            result.update({f"quality_mask_iou_{name}": iou for name, iou in ious.items()})
            result.update({f"quality_mask_precision_{SEG_CLASSES[c]}": self.intersection[c] / self.predicted[c]
                           for c in BOXED_SEG_CLASSES if self.predicted[c]})
            if ious:
                result["quality_mask_miou"] = float(np.mean(list(ious.values())))
            if self.labelled:
                result["quality_mask_labelled_accuracy"] = self.labelled_correct / self.labelled
        for modality, (matches, predicted, true) in sorted(self.boxes.items()):
            result[f"quality_box_precision_{modality}"] = matches / predicted if predicted else 1.0
            result[f"quality_box_recall_{modality}"] = matches / true if true else 1.0
        return result
