import pytest
import torch

from tests.tasks.samples import make_sample
from kornia.color import rgb_to_ycbcr

from tsjnet.colour import luminance
from tsjnet.tasks.inputs import BLEND_IR_WEIGHT, as_rgb, blend_image, sample_image


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


def test_blend_is_a_classical_fusion_in_visible_colour() -> None:
    torch.manual_seed(0)
    ir = 0.2 + 0.6 * torch.rand(1, 32, 32)
    vi = (0.2 + 0.6 * torch.rand(1, 32, 32) + 0.1 * torch.rand(3, 32, 32)).clamp(0, 1)  # mild colours: no clamping
    ir_y, vi_y = luminance(ir), luminance(vi)
    rules = set()
    for seed in range(20):
        blend = blend_image(ir, vi, torch.Generator().manual_seed(seed))
        assert blend.shape == (3, 32, 32)
        assert torch.equal(blend, blend_image(ir, vi, torch.Generator().manual_seed(seed)))
        assert torch.allclose(rgb_to_ycbcr(blend)[1:], rgb_to_ycbcr(vi)[1:], atol=1e-4)  # VIS chroma kept
        blend_y = luminance(blend)
        if torch.allclose(blend_y, torch.maximum(ir_y, vi_y), atol=1e-4):
            rules.add("max")
            continue
        weight = ((blend_y - vi_y) * (ir_y - vi_y)).sum() / (ir_y - vi_y).square().sum()
        assert BLEND_IR_WEIGHT[0] <= weight <= BLEND_IR_WEIGHT[1]
        assert torch.allclose(blend_y, weight * ir_y + (1 - weight) * vi_y, atol=1e-4)
        rules.add("average")
    assert rules == {"max", "average"}


def test_sample_blend_is_reproducible_with_a_seeded_generator() -> None:
    sample = make_sample()
    first = sample_image(sample, "blend", torch.Generator().manual_seed(3))
    assert first.shape == (3, 64, 64) and torch.equal(first, sample_image(sample, "blend", torch.Generator().manual_seed(3)))


def test_blend_of_a_gray_visible_image_stays_gray() -> None:
    ir, vi = torch.rand(1, 16, 16), torch.rand(1, 16, 16)
    blend = blend_image(ir, vi, torch.Generator().manual_seed(0))
    assert blend.shape == (3, 16, 16) and torch.equal(blend[0], blend[1]) and torch.equal(blend[1], blend[2])
