"""Production fusion: one pair of 8-bit images -> the fused image, and the batch version over folders.

`fuse_pair` is the one inference path: the `tsjnet fuse` command and the served pyfunc both call it, so a
served request and a batch job produce identical pixels. Images keep their native size (the models take any
H, W); the VIS chroma is put back unless gray output is asked for. The luminance step is pluggable: a PyTorch
`FusionModel` or an exported graph in another runtime (tsjnet.export.runtime), around the same colour code.
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

import numpy as np
import torch
from PIL import Image
from rich.progress import track

from tsjnet.colour import fuse_colour, prepare_pair, to_uint8
from tsjnet.data.io import read_ir, read_vi
from tsjnet.data.paired import pair_folders
from tsjnet.errors import DataError
from tsjnet.models.fusion import FusionModel


class LuminanceFuser(Protocol):
    """What `fuse_pair` needs: (B, 1, H, W) IR and VIS luminance in [0, 1] -> fused luminance, like `FusionModel`."""

    def fuse(self, ir: torch.Tensor, vi: torch.Tensor) -> torch.Tensor: ...


def model_device(model: torch.nn.Module) -> torch.device:
    """Where the model's tensors live; CPU for parameter-free rules (classical fusion)."""
    tensor = next(iter(model.parameters()), None)
    if tensor is None:
        tensor = next(iter(model.buffers()), None)
    return tensor.device if tensor is not None else torch.device("cpu")


@torch.inference_mode()
def fuse_pair(model: FusionModel | LuminanceFuser, ir_u8: np.ndarray, vi_u8: np.ndarray,
              gray: bool = False) -> np.ndarray:
    """Fuse one IR/VIS pair of uint8 images (same H, W); (H, W) uint8 if `gray`, else (H, W, 3) RGB.

    `model` is a PyTorch fusion model (on its own device) or any other `LuminanceFuser` (fed CPU tensors).
    """
    ir_y, vi_y, vi_rgb = prepare_pair(ir_u8, vi_u8)
    device = model_device(model) if isinstance(model, torch.nn.Module) else torch.device("cpu")
    fused_y = model.fuse(ir_y[None].to(device), vi_y[None].to(device))[0].float().cpu()
    return to_uint8(fused_y if gray else fuse_colour(fused_y, vi_rgb))


def list_pairs(ir: Path, vi: Path) -> list[tuple[str, Path, Path]]:
    """(name, ir_path, vi_path): two folders matched by file stem, or two single files."""
    if ir.is_dir() and vi.is_dir():
        return pair_folders(ir, vi)
    if ir.is_file() and vi.is_file():
        return [(ir.stem, ir, vi)]
    raise DataError(f"--ir {ir} and --vi {vi} must both be folders (pairs matched by file stem) or both be "
                    "existing image files")


def fuse_folders(model: FusionModel | LuminanceFuser, ir: Path, vi: Path, out: Path, gray: bool = False) -> list[Path]:
    """Fuse every pair under `ir`/`vi` into `out`/<stem>.png (lossless); returns the written paths."""
    pairs = list_pairs(Path(ir), Path(vi))
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name, ir_path, vi_path in track(pairs, description=f"fusing {len(pairs)} pair(s)"):
        try:
            fused = fuse_pair(model, read_ir(ir_path), read_vi(vi_path), gray=gray)
        except DataError as error:
            raise DataError(f"pair {name!r} ({ir_path}, {vi_path}): {error}") from None
        path = out / f"{name}.png"
        Image.fromarray(fused).save(path)
        written.append(path)
    return written
