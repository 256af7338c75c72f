"""TSJNet: shapes for any input size, gradients everywhere, [0, 1] output, determinism, published size, lite cost."""

from __future__ import annotations


import pytest
import torch
import torch.nn.functional as F

from tests.models.heads import as_if_trained
from tsjnet.models.classical import classical_laplacian, laplacian_bands, laplacian_detail
from tsjnet.models.dsm import DSMBranch
from tsjnet.models.info import model_info
from tsjnet.models.registry import create_model, list_models
from tsjnet.models.tsjnet import TSJNet, TSJNetOutput, pad_to_multiple


def pair(height: int, width: int, batch: int = 1, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    generator = torch.Generator().manual_seed(seed)
    return torch.rand(batch, 1, height, width, generator=generator), torch.rand(batch, 1, height, width, generator=generator)


DETAIL_BLEND = {"blend_residual": 0.25, "blend_levels": 4, "blend_prior": 30.0, "blend_detail": 0.5}


@pytest.fixture(scope="module", params=[{}, {"blend_residual": 0.25}, {"blend_residual": 0.25, "blend_levels": 4},
                                        DETAIL_BLEND], ids=["image", "blend", "blend_laplacian", "blend_detail"])
def tiny(request: pytest.FixtureRequest) -> TSJNet:
    """Every test runs on every decoder output: the paper's image, the per-pixel blend of the images or of their
    Laplacian bases, the soft-max blend with part of the missing detail."""
    torch.manual_seed(0)
    return as_if_trained(create_model("tsjnet_tiny", **request.param))


def test_variants_are_registered() -> None:
    assert {"tsjnet_paper", "tsjnet_lite", "tsjnet_lite_detail", "tsjnet_tiny"} <= set(list_models())


@pytest.mark.parametrize("size", [(64, 64), (97, 131)])
def test_tiny_forward_shapes_and_range(tiny: TSJNet, size: tuple[int, int]) -> None:
    tiny.train()
    ir, vi = pair(*size, batch=2)
    out = tiny(ir, vi)
    assert isinstance(out, TSJNetOutput)
    assert out.fused.shape == (2, 1, *size)
    assert out.attn.shape == (2, tiny.cfg.heads, *size)
    for tensor in (out.fused, out.attn):
        assert torch.isfinite(tensor).all() and tensor.min() >= 0 and tensor.max() <= 1
    rec = tiny.reconstruct(ir)
    assert rec.fused.shape == (2, 1, *size) and rec.attn.shape == (2, tiny.cfg.heads, *size)


@pytest.mark.parametrize("size", [(1, 1), (5, 3), (31, 33)])
def test_tiny_keeps_size_of_very_small_inputs(tiny: TSJNet, size: tuple[int, int]) -> None:
    tiny.eval()
    with torch.no_grad():
        fused = tiny.fuse(*pair(*size))
    assert fused.shape == (1, 1, *size)


def test_every_parameter_gets_a_gradient(tiny: TSJNet) -> None:
    tiny.train()
    tiny.zero_grad()
    ir, vi = pair(37, 45, batch=2)
    fused, ir_rec, vi_rec = tiny.fuse_and_reconstruct(ir, vi)
    loss = sum(out.fused.mean() + out.attn.mean() for out in (fused, ir_rec, vi_rec))
    loss.backward()
    missing = [name for name, p in tiny.named_parameters() if p.grad is None or not torch.isfinite(p.grad).all()]
    assert not missing, f"parameters without a finite gradient: {missing}"
    # a unit can be dead at init (ReLU), but the encoder, both branch pairs and the decoder must all learn
    learning = {name.split(".")[0] for name, p in tiny.named_parameters() if p.grad.any()}
    assert learning == {"encoder", "nat", "dsm", "fuse_nat", "fuse_dsm", "decoder"}


def test_fuse_and_reconstruct_matches_separate_passes(tiny: TSJNet) -> None:
    tiny.eval()
    ir, vi = pair(40, 72, batch=2)
    with torch.no_grad():
        fused, ir_rec, vi_rec = tiny.fuse_and_reconstruct(ir, vi)
        for joint, alone in ((fused, tiny(ir, vi)), (ir_rec, tiny.reconstruct(ir)), (vi_rec, tiny.reconstruct(vi))):
            torch.testing.assert_close(joint.fused, alone.fused)
            torch.testing.assert_close(joint.attn, alone.attn)


def test_eval_is_deterministic_and_fuse_is_forward(tiny: TSJNet) -> None:
    tiny.eval()
    ir, vi = pair(50, 70)
    with torch.no_grad():
        first, second = tiny(ir, vi), tiny.fuse(ir, vi)
    assert torch.equal(first.fused, second)


def test_fusion_uses_both_sources(tiny: TSJNet) -> None:
    tiny.eval()
    ir, vi = pair(64, 64)
    with torch.no_grad():
        base = tiny.fuse(ir, vi)
        assert not torch.equal(base, tiny.fuse(torch.zeros_like(ir), vi))
        assert not torch.equal(base, tiny.fuse(ir, torch.zeros_like(vi)))


def test_without_dsm_the_detail_path_is_identity() -> None:
    model = create_model("tsjnet_tiny", use_dsm=False).eval()
    assert not any(isinstance(m, DSMBranch) for m in model.modules())
    with torch.no_grad():
        assert model.fuse(*pair(40, 50)).shape == (1, 1, 40, 50)


def test_untrained_blend_is_the_average_rule_and_reconstructs_exactly() -> None:
    model = create_model("tsjnet_tiny", blend_residual=0.25).eval()
    ir, vi = pair(33, 47, batch=2)
    with torch.no_grad():
        torch.testing.assert_close(model.fuse(ir, vi), (ir + vi) / 2)
        torch.testing.assert_close(model.reconstruct(ir).fused, ir)


def test_untrained_laplacian_blend_is_the_laplacian_rule_and_reconstructs_exactly() -> None:
    model = create_model("tsjnet_tiny", blend_residual=0.25, blend_levels=4).eval()
    ir, vi = pair(64, 96, batch=2)  # sides that need no padding: the rule sees the same image
    with torch.no_grad():
        torch.testing.assert_close(model.fuse(ir, vi), classical_laplacian(levels=4).fuse(ir, vi))
        torch.testing.assert_close(model.reconstruct(ir).fused, ir)


def test_untrained_detail_blend_is_the_soft_max_rule_with_part_of_the_missing_detail() -> None:
    model = create_model("tsjnet_tiny", **DETAIL_BLEND).eval()
    ir, vi = pair(64, 96, batch=2)
    weight = torch.sigmoid(30.0 * (ir - vi))
    blend = weight * ir + (1 - weight) * vi
    larger = laplacian_bands(ir, vi, 4, min_side=0)[2]  # finer levels, larger magnitude of the two sources
    own = laplacian_bands(blend, blend, 4, min_side=0)[2]  # the blend's own finer levels
    with torch.no_grad():
        torch.testing.assert_close(model.fuse(ir, vi), (blend + 0.5 * (larger - own)).clamp(0, 1))
        torch.testing.assert_close(model.reconstruct(ir).fused, ir)


def test_laplacian_detail_is_the_image_without_its_expanded_base() -> None:
    image = pair(37, 53)[0]
    base = laplacian_bands(image, image, 3)[0]
    torch.testing.assert_close(laplacian_detail(image, 3) + base, image)


def test_detail_blend_without_levels_is_refused() -> None:
    with pytest.raises(ValueError, match="set blend_levels >= 1"):
        create_model("tsjnet_tiny", blend_residual=0.25, blend_detail=0.5)


def test_blend_levels_beyond_the_padding_are_refused() -> None:
    with pytest.raises(ValueError, match="use at most 4"):
        create_model("tsjnet_tiny", blend_residual=0.25, blend_levels=5)


def test_blend_output_is_a_weighted_source_mix_within_the_residual_bound() -> None:
    torch.manual_seed(0)
    model = as_if_trained(create_model("tsjnet_tiny", blend_residual=0.1)).eval()
    ir, vi = pair(40, 56)
    with torch.no_grad():
        fused = model.fuse(ir, vi)
    low, high = torch.minimum(ir, vi) - 0.1, torch.maximum(ir, vi) + 0.1
    assert (fused >= low.clamp(min=0) - 1e-6).all() and (fused <= high.clamp(max=1) + 1e-6).all()
    assert not torch.allclose(fused, (ir + vi) / 2)  # the learned weights move it off the average


def test_mismatched_pair_is_rejected(tiny: TSJNet) -> None:
    with pytest.raises(ValueError, match="differ in shape"):
        tiny.fuse(torch.rand(1, 1, 32, 32), torch.rand(1, 1, 32, 40))


def test_lite_forward_backward_small() -> None:
    torch.manual_seed(0)
    model = create_model("tsjnet_lite").train()
    ir, vi = pair(32, 64)
    fused, ir_rec, vi_rec = model.fuse_and_reconstruct(ir, vi)
    (fused.fused.mean() + ir_rec.fused.mean() + vi_rec.fused.mean()).backward()
    assert fused.fused.shape == (1, 1, 32, 64) and 0 <= fused.fused.min() <= fused.fused.max() <= 1
    assert all(p.grad is not None for p in model.parameters())


def test_paper_has_the_published_parameter_count() -> None:
    model = create_model("tsjnet_paper")
    params = sum(p.numel() for p in model.parameters())
    assert abs(params - 45.1e6) / 45.1e6 < 0.03, params


def test_lite_fits_the_cpu_budget() -> None:
    assert model_info("tsjnet_lite", 480, 640)["macs"] <= 25e9


@pytest.mark.parametrize("size", [(1, 1), (2, 5), (5, 3), (31, 32), (33, 97)])
def test_pad_to_multiple_mirrors_without_resizing(size: tuple[int, int]) -> None:
    x = torch.rand(1, 1, *size)
    padded = pad_to_multiple(x, 32)
    assert padded.shape[-2] % 32 == 0 and padded.shape[-1] % 32 == 0
    assert padded.shape[-2] - size[0] < 32 and padded.shape[-1] - size[1] < 32
    assert torch.equal(padded[..., : size[0], : size[1]], x)
    assert set(padded.unique().tolist()) <= set(x.unique().tolist())


def test_pad_to_multiple_is_a_plain_reflect_when_the_image_is_large_enough() -> None:
    x = torch.rand(1, 1, 40, 50)
    torch.testing.assert_close(pad_to_multiple(x, 32), F.pad(x, (0, 14, 0, 24), mode="reflect"))
