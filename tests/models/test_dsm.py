"""DSM branch: shape-preserving, both paths contribute, odd sizes rejected with a clear message."""

from __future__ import annotations

import pytest
import torch

from tsjnet.models.dsm import DSMBranch


def test_dsm_keeps_shape_and_both_paths_get_gradients() -> None:
    torch.manual_seed(0)
    dsm = DSMBranch(8, dropout=0.1, reduction=2).train()
    x = torch.randn(2, 8, 16, 24)
    out = dsm(x)
    assert out.shape == x.shape
    out.square().mean().backward()
    assert all(p.grad is not None and p.grad.any() for p in dsm.parameters())


def test_dsm_salient_path_matters() -> None:
    torch.manual_seed(0)
    dsm = DSMBranch(4).eval()
    x = torch.randn(1, 4, 8, 8)
    with torch.no_grad():
        before = dsm(x)
        dsm.upsample.weight.zero_()
        dsm.upsample.bias.zero_()
        assert not torch.allclose(before, dsm(x))


def test_dsm_rejects_odd_sizes() -> None:
    with pytest.raises(ValueError, match="even height and width"):
        DSMBranch(4)(torch.randn(1, 4, 7, 8))
