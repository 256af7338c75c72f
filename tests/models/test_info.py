"""`tsjnet info`: parameter and MAC counts that match a real forward, JSON and table output, clear errors."""

from __future__ import annotations

import json

import pytest
import torch
import typer
from torch.utils.flop_counter import FlopCounterMode
from typer.testing import CliRunner

from tsjnet.errors import TsjnetError
from tsjnet.models.info import info, model_info, parse_size
from tsjnet.models.registry import create_model


@pytest.fixture(scope="module")
def cli() -> typer.Typer:
    app = typer.Typer()
    app.command()(info)
    return app


def test_model_info_matches_a_real_cpu_forward() -> None:
    result = model_info("tsjnet_tiny", 32, 64)
    assert set(result) == {"model", "params", "macs", "size"}
    model = create_model("tsjnet_tiny").eval()
    ir = torch.rand(1, 1, 32, 64)
    with FlopCounterMode(display=False) as counter, torch.no_grad():
        model(ir, ir)
    assert result["params"] == sum(p.numel() for p in model.parameters())
    assert result["macs"] == counter.get_total_flops() // 2 > 0
    assert result["model"] == "tsjnet_tiny" and result["size"] == "32x64"


def test_matmuls_are_counted() -> None:
    """Linear layers (the attention projections and MLPs) and einsum products must show up in the count."""
    linear = torch.nn.Linear(8, 4)
    with FlopCounterMode(display=False) as counter:
        linear(torch.rand(10, 8))
        torch.einsum("bij,bjk->bik", torch.rand(2, 3, 5), torch.rand(2, 5, 7))
    assert counter.get_total_flops() == 2 * (10 * 8 * 4 + 2 * 3 * 5 * 7)


def test_cli_json(cli: typer.Typer) -> None:
    result = CliRunner().invoke(cli, ["--model", "tsjnet_tiny", "--size", "64x64", "--json"])
    assert result.exit_code == 0, result.output
    payload = json.loads(result.output)
    assert set(payload) == {"model", "params", "macs", "size"} and payload["size"] == "64x64"


def test_cli_table(cli: typer.Typer) -> None:
    result = CliRunner().invoke(cli, ["--model", "tsjnet_tiny", "--size", "64x64"])
    assert result.exit_code == 0, result.output
    assert "tsjnet_tiny" in result.output and "GMAC" in result.output


@pytest.mark.parametrize("size", ["480", "ax640", "0x640", "480x640x3"])
def test_bad_size_is_a_clear_error(size: str) -> None:
    with pytest.raises(TsjnetError, match="--size"):
        parse_size(size)


def test_unknown_model_lists_the_known_ones() -> None:
    with pytest.raises(TsjnetError, match="tsjnet_lite"):
        info(model="nope", size="64x64", json_out=True)
