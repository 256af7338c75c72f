"""The fusion model as an MLflow pyfunc: plain eager PyTorch, so any image size is served.

Request (JSON ``{"dataframe_records": [...]}`` / ``{"dataframe_split": ...}`` or a pandas DataFrame), one row
per pair:

- ``ir``: base64-encoded image bytes (PNG recommended; JPEG/BMP/TIFF accepted), gray or RGB
- ``vi``: base64-encoded image bytes of the same width and height
- ``gray`` (optional JSON boolean, default false): return the fused luminance instead of colour

Response: column ``fused``, base64 PNG, RGB (the VIS chroma kept) or 8-bit gray. Malformed rows (bad base64,
not an image, IR/VIS size mismatch, a ``gray`` that is not true/false/null), images above ``max_pixels`` and
requests with no rows or more than ``max_rows`` fail with HTTP 400 and a message naming the row and column.
``gray`` is declared ``Any`` in the signature on purpose: MLflow casts a ``boolean`` column with
``astype(bool)`` before the model sees it, so ``"false"`` (and a row that omits it beside one that sets it)
would arrive as True; the raw value is checked here instead.
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
from mlflow.types.schema import AnyType

from tsjnet.data.io import read_ir, read_vi
from tsjnet.errors import DataError
from tsjnet.registry.checkpoint import load_checkpoint_model
from tsjnet.registry.codec import decode_image, encode_png, invalid
from tsjnet.registry.fuse import fuse_pair

CHECKPOINT_ARTIFACT = "checkpoint"
SIGNATURE = ModelSignature(
    inputs=Schema([ColSpec("string", "ir"), ColSpec("string", "vi"), ColSpec(AnyType(), "gray", required=False)]),
    outputs=Schema([ColSpec("string", "fused")]),
)
#: Row limit for versions logged before `register.max_rows` existed (its first default), so they still load.
LEGACY_MAX_ROWS = 16
#: Size of the logged input example; deliberately unlike real images, since the model is not shape-bound.
EXAMPLE_SIZE = (24, 32)


class FusionPyfunc(mlflow.pyfunc.PythonModel):
    """Loads the checkpoint artifact (device auto) and fuses each request row at its own size."""

    def load_context(self, context: mlflow.pyfunc.PythonModelContext) -> None:  # noqa: D102
        self.model = load_checkpoint_model(context.artifacts[CHECKPOINT_ARTIFACT], device="auto")
        config = context.model_config or {}
        self.max_pixels = int(config["max_pixels"])
        self.max_rows = int(config.get("max_rows", LEGACY_MAX_ROWS))

    def predict(self, context: mlflow.pyfunc.PythonModelContext, model_input: pd.DataFrame,
                params: dict[str, Any] | None = None) -> pd.DataFrame:  # noqa: D102
        missing = {"ir", "vi"} - set(model_input.columns)
        if missing:
            raise invalid(f"request lacks column(s) {sorted(missing)}; send columns ir, vi (base64 images) "
                          "and optionally gray (boolean)")
        if not 1 <= len(model_input) <= self.max_rows:
            raise invalid(f"request has {len(model_input)} rows; send 1 to {self.max_rows} (ir, vi) pairs per "
                          "request (limit: params register.max_rows)")
        gray = model_input["gray"] if "gray" in model_input.columns else pd.Series(None, index=model_input.index)
        flags = [_gray_flag(row, flag) for row, flag in enumerate(gray)]
        fused = [self._fuse_row(row, ir, vi, flag)
                 for row, (ir, vi, flag) in enumerate(zip(model_input["ir"], model_input["vi"], flags))]
        return pd.DataFrame({"fused": fused})

    def _fuse_row(self, row: int, ir: object, vi: object, gray: bool) -> str:
        ir_u8 = decode_image(ir, read_ir, f"row {row} column 'ir'", self.max_pixels)
        vi_u8 = decode_image(vi, read_vi, f"row {row} column 'vi'", self.max_pixels)
        try:
            return encode_png(fuse_pair(self.model, ir_u8, vi_u8, gray=gray))
        except DataError as error:
            raise invalid(f"row {row}: {error}") from None


def _gray_flag(row: int, value: object) -> bool:
    """A JSON boolean; missing or null means false. Strings and numbers are refused, never guessed."""
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return False
    raise invalid(f"row {row} column 'gray': expected true, false or null, got {type(value).__name__} {value!r}")


def example_input() -> pd.DataFrame:
    """A small synthetic pair (smooth ramps: IR warm at the centre, VIS coloured) for the logged example."""
    height, width = EXAMPLE_SIZE
    yy, xx = np.mgrid[0:height, 0:width]
    ir = (255 * np.exp(-((yy - height / 2) ** 2 + (xx - width / 2) ** 2) / (height * width / 8))).astype(np.uint8)
    vi = np.stack([xx * 255 // (width - 1), yy * 255 // (height - 1), np.full_like(xx, 96)], axis=-1).astype(np.uint8)
    return pd.DataFrame({"ir": [encode_png(ir)], "vi": [encode_png(vi)], "gray": [False]})
