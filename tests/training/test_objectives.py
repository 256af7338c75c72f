"""What the frozen judges see in the task losses: each image rendered as its detector saw such images."""

from types import SimpleNamespace

import pytest
import torch

import tsjnet.training.objectives as objectives
from tsjnet.colour import fuse_colour
from tsjnet.training.objectives import TaskJudges


def _judges(seg_render: str) -> TaskJudges:
    detector = SimpleNamespace(transform=SimpleNamespace(min_size=(192,), max_size=256))
    return TaskJudges({m: detector for m in ("infrared", "visible", "fusion")}, segmenter=None,
                      det_terms=("loss_box_reg",), include_objectness=False, seg_render=seg_render)


@pytest.mark.parametrize("seg_render", ["colour", "gray"])
def test_detection_judges_see_gray_ir_and_colour_vis_and_fused(monkeypatch: pytest.MonkeyPatch, seg_render: str) -> None:
    seen = {}

    def record(detector: object, images: torch.Tensor, targets: list, terms: tuple, objectness: bool) -> torch.Tensor:
        seen[len(seen)] = images
        return images.sum()

    monkeypatch.setattr(objectives, "detection_loss", record)
    torch.manual_seed(0)
    fused, ir_rec, vi_rec = (torch.rand(2, 1, 8, 10) for _ in range(3))
    vi_rgb = torch.rand(2, 3, 8, 10)
    boxes = {m: [torch.tensor([[0, 1.0, 1.0, 6.0, 6.0]])] * 2 for m in ("infrared", "visible", "fusion")}

    terms = _judges(seg_render).detection(fused, {"infrared": ir_rec, "visible": vi_rec}, boxes, vi_rgb)

    assert list(terms) == ["det_infrared", "det_visible", "det_fusion"]
    ir_seen, vi_seen, fused_seen = seen[0], seen[1], seen[2]
    torch.testing.assert_close(ir_seen, ir_rec.expand(-1, 3, -1, -1))  # gray, as the IR detector was trained
    torch.testing.assert_close(vi_seen, fuse_colour(vi_rec, vi_rgb))  # VIS chroma, as the VIS detector was trained
    # The fused image as evaluation shows it (VIS chroma), unless the run renders task inputs in gray.
    expected = fuse_colour(fused, vi_rgb) if seg_render == "colour" else fused.expand(-1, 3, -1, -1)
    torch.testing.assert_close(fused_seen, expected)
    assert seg_render == "gray" or not torch.allclose(fused_seen[:, 0], fused_seen[:, 1])
