"""Tiny in-memory samples shared by the task and training tests: objects are bright in IR and coloured in VIS."""

from __future__ import annotations

import numpy as np

from tests.params import section
from tsjnet.data.types import Sample

# A narrow detector that keeps tests fast; the architecture is the committed one.
TINY_DETECTOR = section("detector", box_head_dim=32, rpn_batch_size_per_image=16, box_batch_size_per_image=16,
                        rpn_post_nms_top_n_train=32, rpn_post_nms_top_n_test=16)

# (det_class, x1, y1, x2, y2) of the objects every sample holds, in a 64 x 64 image.
OBJECTS = np.array([[0, 8, 10, 20, 40], [2, 30, 36, 58, 56]], dtype=np.float32)


def make_sample(name: str = "00001D", split: str = "train", size: int = 64, seed: int = 0) -> Sample:
    """A `size` x `size` pair whose mask uses every class 1..8 and whose boxes cover the objects."""
    rng = np.random.default_rng(seed)
    ir = rng.integers(0, 60, (size, size), dtype=np.uint8)
    vi = rng.integers(0, 255, (size, size, 3), dtype=np.uint8)
    mask = np.zeros((size, size), dtype=np.uint8)
    for value in range(1, 9):  # one horizontal band per class, so flips keep every id
        mask[value * 6 : value * 6 + 4, :] = value
    mask[-2:, :] = 255
    for _, x1, y1, x2, y2 in OBJECTS.astype(int):
        ir[y1:y2, x1:x2] = 230
        vi[y1:y2, x1:x2] = (200, 40, 40)
    boxes = {"infrared": OBJECTS.copy(), "visible": OBJECTS[1:].copy(), "fusion": OBJECTS.copy()}
    return Sample(name=name, split=split, ir=ir, vi=vi, mask=mask, boxes=boxes)


class MemoryPairs:
    """The part of `PairDataset` the task datasets use (`records`, `load`), held in memory."""

    def __init__(self, samples: list[Sample]) -> None:
        self.samples = {sample.name: sample for sample in samples}
        self.records = list(self.samples)

    def load(self, record: str) -> Sample:
        return self.samples[record]
