import pytest
import torch

from tests.tasks.samples import make_sample
from tsjnet.tasks.inputs import as_rgb, sample_image


def test_as_rgb_replicates_gray_and_keeps_colour() -> None:
    gray = torch.rand(2, 1, 8, 8)
    colour = torch.rand(2, 3, 8, 8)
    assert torch.equal(as_rgb(gray), gray.repeat(1, 3, 1, 1))
    assert as_rgb(colour) is colour
    assert as_rgb(torch.rand(1, 5, 5)).shape == (3, 5, 5)


def test_as_rgb_rejects_other_channel_counts() -> None:
    with pytest.raises(ValueError, match="2 channels"):
        as_rgb(torch.rand(1, 2, 8, 8))


def test_sample_image_per_modality() -> None:
    sample = make_sample()
    ir, vi = sample_image(sample, "infrared"), sample_image(sample, "visible")
    assert ir.shape == vi.shape == (3, 64, 64)
    assert torch.equal(ir[0], ir[2]) and torch.allclose(ir[0] * 255, torch.from_numpy(sample.ir).float())
    assert torch.allclose(vi * 255, torch.from_numpy(sample.vi).permute(2, 0, 1).float())
    with pytest.raises(ValueError, match="modality"):
        sample_image(sample, "fusion")
