"""The fusion model as an MLflow pyfunc: plain eager PyTorch, so any image size is served.

Request (JSON ``{"dataframe_records": [...]}`` / ``{"dataframe_split": ...}`` or a pandas DataFrame), one row
per pair:

- ``ir``: base64-encoded image bytes (PNG recommended; JPEG/BMP/TIFF accepted), gray or RGB
- ``vi``: base64-encoded image bytes of the same width and height
- ``gray`` (optional boolean, default false): return the fused luminance instead of colour

Response: column ``fused``, base64 PNG, RGB (the VIS chroma kept) or 8-bit gray. Malformed rows (bad base64,
not an image, IR/VIS size mismatch) and images above ``max_pixels`` fail with HTTP 400 and a message.
The checkpoint is an artifact of the logged model and is loaded by `tsjnet.registry.checkpoint`; the
serving environment needs the tsjnet package installed (``pip install -e .`` or its wheel).
"""

from __future__ import annotations

from typing import Any

import mlflow.pyfunc
import numpy as np
import pandas as pd
from mlflow.models import ModelSignature
from mlflow.types import ColSpec, Schema

from tsjnet.data.io import read_ir, read_vi
from tsjnet.errors import DataError
from tsjnet.registry.checkpoint import load_checkpoint_model
from tsjnet.registry.codec import decode_image, encode_png, invalid
from tsjnet.registry.fuse import fuse_pair

CHECKPOINT_ARTIFACT = "checkpoint"
SIGNATURE = ModelSignature(
    inputs=Schema([ColSpec("string", "ir"), ColSpec("string", "vi"), ColSpec("boolean", "gray", required=False)]),
    outputs=Schema([ColSpec("string", "fused")]),
)
#: Size of the logged input example; deliberately unlike real images, since the model is not shape-bound.
EXAMPLE_SIZE = (24, 32)


class FusionPyfunc(mlflow.pyfunc.PythonModel):
    """Loads the checkpoint artifact (device auto) and fuses each request row at its own size."""

    def load_context(self, context: mlflow.pyfunc.PythonModelContext) -> None:  # noqa: D102
        self.model = load_checkpoint_model(context.artifacts[CHECKPOINT_ARTIFACT], device="auto")
        self.max_pixels = int((context.model_config or {})["max_pixels"])

    def predict(self, context: mlflow.pyfunc.PythonModelContext, model_input: pd.DataFrame,
                params: dict[str, Any] | None = None) -> pd.DataFrame:  # noqa: D102
        missing = {"ir", "vi"} - set(model_input.columns)
        if missing:
            raise invalid(f"request lacks column(s) {sorted(missing)}; send columns ir, vi (base64 images) "
                          "and optionally gray (boolean)")
        gray = model_input["gray"] if "gray" in model_input.columns else pd.Series(False, index=model_input.index)
        fused = [self._fuse_row(row, ir, vi, bool(flag) if pd.notna(flag) else False)
                 for row, (ir, vi, flag) in enumerate(zip(model_input["ir"], model_input["vi"], gray))]
        return pd.DataFrame({"fused": fused})

    def _fuse_row(self, row: int, ir: object, vi: object, gray: bool) -> str:
        ir_u8 = decode_image(ir, read_ir, f"row {row} column 'ir'", self.max_pixels)
        vi_u8 = decode_image(vi, read_vi, f"row {row} column 'vi'", self.max_pixels)
        try:
            return encode_png(fuse_pair(self.model, ir_u8, vi_u8, gray=gray))
        except DataError as error:
            raise invalid(f"row {row}: {error}") from None


def example_input() -> pd.DataFrame:
    """A small synthetic pair (smooth ramps: IR warm at the centre, VIS coloured) for the logged example."""
    height, width = EXAMPLE_SIZE
    yy, xx = np.mgrid[0:height, 0:width]
    ir = (255 * np.exp(-((yy - height / 2) ** 2 + (xx - width / 2) ** 2) / (height * width / 8))).astype(np.uint8)
    vi = np.stack([xx * 255 // (width - 1), yy * 255 // (height - 1), np.full_like(xx, 96)], axis=-1).astype(np.uint8)
    return pd.DataFrame({"ir": [encode_png(ir)], "vi": [encode_png(vi)], "gray": [False]})
