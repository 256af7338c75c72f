"""Training-free rules: interface, sizes, hand-checked values, and the Laplacian pyramid's behaviour."""

from __future__ import annotations

import pytest
import torch

from tsjnet.losses.content import sobel_magnitude
from tsjnet.models import classical
from tsjnet.models.classical import ClassicalFusion, laplacian_bands, laplacian_pyramid, reconstruct
from tsjnet.models.registry import list_models

RULES = ["classical_average", "classical_max", "classical_laplacian"]


def build(name: str, **kwargs: int) -> ClassicalFusion:
    """The registered factory, called directly (the registry would import every model family)."""
    return getattr(classical, name)(**kwargs)


def test_rules_are_registered() -> None:
    assert set(RULES) <= set(list_models())


def image(seed: int, height: int = 97, width: int = 131) -> torch.Tensor:
    return torch.rand(2, 1, height, width, generator=torch.Generator().manual_seed(seed))


@pytest.mark.parametrize("name", RULES)
def test_no_parameters_and_not_trainable(name: str) -> None:
    model = build(name)
    assert isinstance(model, ClassicalFusion) and not model.trainable
    assert not list(model.parameters())


@pytest.mark.parametrize("name", RULES)
def test_odd_size_and_range(name: str) -> None:
    out = build(name)(image(0), image(1))
    assert out.shape == (2, 1, 97, 131)
    assert out.min() >= 0 and out.max() <= 1


@pytest.mark.parametrize("name", RULES)
@pytest.mark.parametrize("size", [(97, 131), (5, 3)])
def test_identical_inputs_return_the_input(name: str, size: tuple[int, int]) -> None:
    x = image(2, *size)
    assert torch.allclose(build(name)(x, x), x, atol=1e-6)


def test_pixel_rules_by_hand() -> None:
    ir = torch.tensor([[0.2, 0.8]]).view(1, 1, 1, 2)
    vi = torch.tensor([[0.6, 0.4]]).view(1, 1, 1, 2)
    assert torch.allclose(build("classical_average")(ir, vi), torch.tensor([0.4, 0.6]).view(1, 1, 1, 2))
    assert torch.equal(build("classical_max")(ir, vi), torch.tensor([0.6, 0.8]).view(1, 1, 1, 2))


def test_pyramid_reconstructs_exactly_at_odd_size() -> None:
    x = image(3)
    pyramid = laplacian_pyramid(x, levels=4)
    assert len(pyramid) == 5
    assert [p.shape[-2:] for p in pyramid] == [(97, 131), (48, 65), (24, 32), (12, 16), (6, 8)]
    assert torch.allclose(reconstruct(pyramid), x, atol=1e-6)


def test_small_images_use_fewer_levels() -> None:
    assert len(laplacian_pyramid(image(4, 5, 3), levels=4)) == 1


def test_laplacian_keeps_detail_that_averaging_halves() -> None:
    textured = 0.25 + 0.5 * image(5)
    flat = torch.full_like(textured, 0.5)
    laplacian = build("classical_laplacian")(flat, textured)
    average = build("classical_average")(flat, textured)
    assert sobel_magnitude(laplacian).mean() > 1.5 * sobel_magnitude(average).mean()


def test_laplacian_rejects_zero_levels() -> None:
    with pytest.raises(ValueError, match="levels"):
        build("classical_laplacian", levels=0)


def test_near_ties_go_to_the_first_source_whatever_the_rounding() -> None:
    """1 - a has the same detail coefficients as a with the opposite sign, equal up to rounding: every level must
    take a's, or PyTorch and an exported graph (rounding differently) pick different signs at such pixels."""
    a = torch.rand(1, 1, 64, 64, generator=torch.Generator().manual_seed(0))
    _, _, detail = laplacian_bands(a, 1 - a, 4)
    _, _, own = laplacian_bands(a, a, 4)
    torch.testing.assert_close(detail, own, rtol=0, atol=1e-5)
