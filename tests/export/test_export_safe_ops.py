"""The export-safe forms in the model code give exactly what the eager forms give: mirror padding by one gather
per axis, and neighborhood attention by tiles built from the traced shape (used under torch.export)."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from tsjnet.models.attention import _tiled_attention, _traced_tiled_attention
from tsjnet.models.tsjnet import pad_to_multiple


def _repeated_reflect(x: torch.Tensor, multiple: int) -> torch.Tensor:
    """The former definition: replicate a one-pixel side, then reflect-pad repeatedly (each step < side)."""
    for dim in (-2, -1):
        if x.shape[dim] == 1 and x.shape[dim] % multiple:
            x = F.pad(x, (0, 1, 0, 0) if dim == -1 else (0, 0, 0, 1), mode="replicate")
        missing = -x.shape[dim] % multiple
        while missing:
            step = min(missing, x.shape[dim] - 1)
            x = F.pad(x, (0, step, 0, 0) if dim == -1 else (0, 0, 0, step), mode="reflect")
            missing -= step
    return x


@pytest.mark.parametrize("multiple", [2, 4, 32])
def test_gather_padding_equals_repeated_reflect_padding(multiple: int) -> None:
    for height in range(1, 70):
        for width in (1, 2, 3, 31, 33, 64):
            x = torch.rand(2, 3, height, width)
            assert torch.equal(pad_to_multiple(x, multiple), _repeated_reflect(x, multiple)), (height, width)


@pytest.mark.parametrize(("height", "width", "kernel_size"),
                         [(9, 13, 3), (20, 23, 7), (5, 6, 7), (3, 17, 7), (1, 1, 3), (2, 9, 5), (30, 40, 7), (4, 4, 7),
                          (13, 1, 5), (16, 19, 7)])
@pytest.mark.parametrize("with_rpb", [True, False])
def test_traced_tiled_attention_equals_tiled_attention(height: int, width: int, kernel_size: int,
                                                       with_rpb: bool) -> None:
    torch.manual_seed(0)
    q, k, v = (torch.randn(2, height, width, 2, 8, dtype=torch.float64) for _ in range(3))
    side = 2 * kernel_size - 1
    rpb = torch.randn(2, side, side, dtype=torch.float64) if with_rpb else None
    traced = _traced_tiled_attention(q, k, v, kernel_size, rpb, 0.3)
    assert traced.shape == (2, height, width, 2, 8)
    torch.testing.assert_close(traced, _tiled_attention(q, k, v, kernel_size, rpb, 0.3), rtol=0, atol=1e-12)
