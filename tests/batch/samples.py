"""Small inputs shared by the batch tests and the batch flow tests: pair folders, a checkpoint, an S3 bucket."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import numpy as np
import torch
from PIL import Image

from tests.registry.samples import SMALL_MODEL, random_pair
from tsjnet.data.io import read_ir, read_vi
from tsjnet.models.registry import create_model
from tsjnet.registry.checkpoint import load_checkpoint_model, save_fusion_model
from tsjnet.registry.fuse import fuse_pair

#: name -> (height, width): every pair keeps its own size.
SIZES = {"a": (20, 30), "b": (17, 33), "c": (24, 24), "d": (16, 20), "e": (21, 19)}
S3_ENV = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "us-east-1"}


def write_pairs(root: Path, names: list[str] | None = None) -> tuple[Path, Path]:
    """root/ir/<name>.png (gray) and root/vi/<name>.png (RGB) noise pairs; returns the two folders."""
    for seed, name in enumerate(names or list(SIZES)):
        for folder, image in zip(("ir", "vi"), random_pair(*SIZES[name], seed=seed)):
            (root / folder).mkdir(parents=True, exist_ok=True)
            Image.fromarray(image).save(root / folder / f"{name}.png")
    return root / "ir", root / "vi"


def upload_folder(s3: Any, folder: Path, bucket: str, prefix: str) -> None:
    """Every file of `folder` to s3://bucket/prefix/<file name>."""
    for path in sorted(folder.iterdir()):
        s3.put_object(Bucket=bucket, Key=f"{prefix}/{path.name}", Body=path.read_bytes())


def save_small_checkpoint(path: Path) -> Path:
    """A learned model with seeded weights (a few hundred parameters) in the registry's checkpoint format."""
    torch.manual_seed(0)
    name, kwargs = SMALL_MODEL
    return save_fusion_model(path, create_model(name, **kwargs), name, kwargs)


def expected_fusion(checkpoint: Path, ir: Path, vi: Path) -> np.ndarray:
    """What `tsjnet fuse` and the served model give for this pair: `fuse_pair` with the checkpoint."""
    return fuse_pair(load_checkpoint_model(checkpoint, "cpu"), read_ir(ir), read_vi(vi))


def png_pixels(data: bytes | Path) -> np.ndarray:
    """Decoded pixels of PNG bytes or a PNG file."""
    return np.array(Image.open(io.BytesIO(data) if isinstance(data, bytes) else data))
