"""Neighborhood attention: parity with a brute-force masked full attention (forward and backward) and with natten."""

from __future__ import annotations

import warnings

import natten
import pytest
import torch

from tsjnet.models.attention import neighborhood_attention


def _axis_neighbours(length: int, kernel_size: int, dilation: int) -> tuple[torch.Tensor, torch.Tensor]:
    """(length, length) "key j is in query i's window" and the rpb index of j for i, straight from the definition:
    same group (position mod dilation), window of kernel_size group members clamped inside the group."""
    inside = torch.zeros(length, length, dtype=torch.bool)
    rpb_index = torch.zeros(length, length, dtype=torch.long)
    for i in range(length):
        group, index = i % dilation, i // dilation
        members = list(range(group, length, dilation))
        window = min(kernel_size, len(members))
        start = min(max(index - kernel_size // 2, 0), len(members) - window)
        for member in range(start, start + window):
            inside[i, members[member]] = True
            rpb_index[i, members[member]] = member - index + kernel_size - 1
    return inside, rpb_index


def _brute_force(q, k, v, kernel_size, dilation, rpb):
    """Full attention over all H*W keys under an additive mask (rpb inside the window, -inf outside)."""
    b, h, w, heads, d = q.shape
    inside_h, index_h = _axis_neighbours(h, kernel_size, dilation)
    inside_w, index_w = _axis_neighbours(w, kernel_size, dilation)
    inside = (inside_h[:, None, :, None] & inside_w[None, :, None, :]).reshape(h * w, h * w)
    table = torch.zeros(heads, 2 * kernel_size - 1, 2 * kernel_size - 1, dtype=q.dtype) if rpb is None else rpb
    bias = table[:, index_h[:, None, :, None], index_w[None, :, None, :]].reshape(heads, h * w, h * w)
    bias = bias.masked_fill(~inside, float("-inf"))
    qf, kf, vf = (x.reshape(b, h * w, heads, -1).transpose(1, 2) for x in (q, k, v))
    probs = (qf @ kf.transpose(-1, -2) * d**-0.5 + bias).softmax(-1)
    return (probs @ vf).transpose(1, 2).reshape(b, h, w, heads, -1)


# odd sizes, kernels 3/5/7, dilation 1/2, and windows larger than the (dilated) map
CASES = [
    (9, 13, 3, 1), (9, 13, 5, 1), (9, 13, 7, 1), (9, 13, 3, 2),
    (14, 15, 5, 2), (20, 23, 7, 1), (5, 6, 7, 1), (3, 17, 7, 2),
]


@pytest.mark.parametrize("with_rpb", [True, False])
@pytest.mark.parametrize(("height", "width", "kernel_size", "dilation"), CASES)
def test_matches_brute_force_forward_and_backward(height, width, kernel_size, dilation, with_rpb):
    torch.manual_seed(0)
    q, k, v = (torch.randn(2, height, width, 2, 8, dtype=torch.float64, requires_grad=True) for _ in range(3))
    side = 2 * kernel_size - 1
    rpb = torch.randn(2, side, side, dtype=torch.float64, requires_grad=True) if with_rpb else None
    ours = neighborhood_attention(q, k, v, kernel_size, dilation, rpb=rpb)
    reference = _brute_force(q, k, v, kernel_size, dilation, rpb)
    assert ours.shape == (2, height, width, 2, 8)
    assert (ours - reference).abs().max() < 1e-10

    inputs = (q, k, v) + ((rpb,) if with_rpb else ())
    grad = torch.randn_like(ours)
    for g_ours, g_ref in zip(torch.autograd.grad(ours, inputs, grad), torch.autograd.grad(reference, inputs, grad)):
        assert (g_ours - g_ref).abs().max() < 1e-10


@pytest.mark.parametrize(("height", "width", "kernel_size", "dilation"), CASES)
def test_inference_path_matches_brute_force(height, width, kernel_size, dilation):
    """Without autograd the CPU path multiplies the tile scores out instead of calling the flash kernel."""
    torch.manual_seed(0)
    q, k, v = (torch.randn(2, height, width, 2, 8, dtype=torch.float64) for _ in range(3))
    rpb = torch.randn(2, 2 * kernel_size - 1, 2 * kernel_size - 1, dtype=torch.float64)
    with torch.inference_mode():
        ours = neighborhood_attention(q, k, v, kernel_size, dilation, rpb=rpb)
    assert (ours - _brute_force(q, k, v, kernel_size, dilation, rpb)).abs().max() < 1e-10


@pytest.mark.parametrize(("height", "width", "kernel_size", "dilation"), [(9, 13, 3, 1), (9, 13, 7, 1), (14, 15, 5, 2)])
def test_matches_natten_forward(height, width, kernel_size, dilation):
    torch.manual_seed(0)
    q, k, v = (torch.randn(1, height, width, 2, 16) for _ in range(3))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # natten's CPU path warns that flex attention runs uncompiled
        expected = natten.na2d(q, k, v, kernel_size=kernel_size, dilation=dilation)
    assert (neighborhood_attention(q, k, v, kernel_size, dilation) - expected).abs().max() < 1e-5


def test_custom_scale_is_used():
    torch.manual_seed(0)
    q, k, v = (torch.randn(1, 6, 7, 1, 4, dtype=torch.float64) for _ in range(3))
    # the scale multiplies q.k: (0.5 q).k unscaled equals q.k scaled by 0.5, and the default is d**-0.5 = 0.5
    halved = neighborhood_attention(q * 0.5, k, v, 3, scale=1.0)
    assert torch.allclose(halved, neighborhood_attention(q, k, v, 3, scale=0.5))
    assert torch.allclose(halved, neighborhood_attention(q, k, v, 3))
    assert not torch.allclose(halved, neighborhood_attention(q, k, v, 3, scale=1.0))


@pytest.mark.parametrize(
    ("kernel_size", "rpb_shape", "message"),
    [(4, None, "odd"), (3, (2, 3, 3), "rpb must have shape"), (3, (1, 5, 5), "rpb must have shape")],
)
def test_rejects_bad_arguments(kernel_size, rpb_shape, message):
    q = torch.randn(1, 6, 6, 2, 4)
    rpb = None if rpb_shape is None else torch.zeros(rpb_shape)
    with pytest.raises(ValueError, match=message):
        neighborhood_attention(q, q, q, kernel_size, rpb=rpb)


def test_plan_built_in_inference_mode_serves_autograd_later() -> None:
    """The index plan is cached: one first built under inference_mode must still work with autograd."""
    q, k, v = (torch.randn(1, 11, 13, 2, 4) for _ in range(3))
    with torch.inference_mode():
        neighborhood_attention(q, k, v, 3)
    qg = q.clone().requires_grad_(True)
    neighborhood_attention(qg, k, v, 3).sum().backward()
    assert qg.grad is not None and torch.isfinite(qg.grad).all()
