"""Model size and cost: parameters and multiply-accumulates (MACs) of one fused pair, for any registered model.

The model is built on the CPU (construction may compute with tensors), moved to PyTorch's meta device and run
there: shapes propagate, no activation memory is allocated and no arithmetic is done, so even the 2 TMAC
published network at 480x640 is counted in seconds on a CPU.

MACs come from ``torch.utils.flop_counter.FlopCounterMode`` (1 MAC = 2 FLOP). It counts the aten matrix
products (convolutions and transposed convolutions, mm/addmm/bmm/baddbmm, which is what ``nn.Linear`` and
``torch.einsum``/``@`` lower to, and the fused scaled-dot-product attention kernels). It does not count
element-wise work: normalisation, activations, pooling, softmax, additions and attention masking, which are a
small share of these convolution-heavy networks.
"""

from __future__ import annotations

import json

import torch
import typer
from rich.console import Console
from rich.table import Table
from torch.utils.flop_counter import FlopCounterMode

from tsjnet.errors import TsjnetError
from tsjnet.models.registry import create_model, list_models


def parse_size(size: str) -> tuple[int, int]:
    """'480x640' -> (480, 640); anything else is a usage error naming the expected form."""
    try:
        height, width = (int(part) for part in size.lower().split("x"))
    except ValueError:
        raise TsjnetError(f"--size {size!r} is not HEIGHTxWIDTH, e.g. 480x640") from None
    if height < 1 or width < 1:
        raise TsjnetError(f"--size {size!r} must be positive, e.g. 480x640")
    return height, width


def model_info(name: str, height: int, width: int) -> dict[str, object]:
    """Parameters and MACs of `name` for one fused (B=1) pair of `height` x `width` luminance images."""
    model = create_model(name).eval().to("meta")
    ir = torch.zeros(1, 1, height, width, device="meta")
    with FlopCounterMode(display=False) as counter, torch.no_grad():
        model(ir, torch.zeros_like(ir))
    return {
        "model": name,
        "params": sum(p.numel() for p in model.parameters()),
        "macs": counter.get_total_flops() // 2,
        "size": f"{height}x{width}",
    }


def info(
    model: str = typer.Option(..., "--model", help="registered model name, e.g. tsjnet_lite"),
    size: str = typer.Option("480x640", "--size", help="input HEIGHTxWIDTH"),
    json_out: bool = typer.Option(False, "--json", help="print JSON instead of a table"),
) -> None:
    """Print a model's parameter count and MACs per fused pair."""
    if model not in list_models():
        raise TsjnetError(f"--model {model!r} is not registered; known models: {', '.join(list_models())}")
    result = model_info(model, *parse_size(size))
    if json_out:
        typer.echo(json.dumps(result))
        return
    table = Table(title=f"{model} @ {result['size']}")
    table.add_column("model")
    table.add_column("params", justify="right")
    table.add_column("GMAC / fused pair", justify="right")
    table.add_row(model, f"{result['params']:,}", f"{result['macs'] / 1e9:.2f}")
    Console().print(table)
