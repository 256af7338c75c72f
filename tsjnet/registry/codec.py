"""The serving wire format: images travel as base64-encoded PNG (or any format tsjnet.data.io reads) strings.

Every malformed request becomes an `MlflowException` with INVALID_PARAMETER_VALUE, which `mlflow models
serve` answers with HTTP 400 and the message, instead of a 500 with a traceback. The pixel limit is checked
from the image header before decoding, so an oversize upload never allocates its full bitmap.
"""

from __future__ import annotations

import base64
import binascii
import io
import tempfile
from collections.abc import Callable
from pathlib import Path

import numpy as np
from mlflow.exceptions import MlflowException
from mlflow.protos.databricks_pb2 import INVALID_PARAMETER_VALUE
from PIL import Image, UnidentifiedImageError

from tsjnet.errors import DataError


def invalid(message: str) -> MlflowException:
    """A client error: the scoring server turns it into HTTP 400 with `message`."""
    return MlflowException(message, error_code=INVALID_PARAMETER_VALUE)


def encode_png(image_u8: np.ndarray) -> str:
    """(H, W) or (H, W, 3) uint8 -> base64 PNG text (lossless)."""
    buffer = io.BytesIO()
    Image.fromarray(image_u8).save(buffer, format="PNG")
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def _b64decode(text: object, label: str) -> bytes:
    if not isinstance(text, str) or not text:
        raise invalid(f"{label}: expected a base64-encoded image string, got {type(text).__name__}")
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise invalid(f"{label}: not valid base64; send base64.b64encode(png_bytes).decode('ascii')") from None


def decode_image(text: object, reader: Callable[[Path], np.ndarray], label: str, max_pixels: int) -> np.ndarray:
    """base64 image text -> uint8 array through `reader` (read_ir / read_vi), refusing more than `max_pixels`.

    Decoding goes through the project's file readers (via a temporary file) so a served image is normalised
    exactly like a file read by the batch command or the training data.
    """
    data = _b64decode(text, label)
    try:
        with Image.open(io.BytesIO(data)) as image:
            width, height = image.size
    except Image.DecompressionBombError as error:  # Pillow refuses headers above 2 x its own limit on open
        raise invalid(f"{label}: the image header claims a size above the limit of {max_pixels} pixels ({error}); "
                      "downscale or tile the image (limit: params register.max_pixels)") from None
    except (UnidentifiedImageError, OSError):
        raise invalid(f"{label}: the decoded bytes are not an image PNG/JPEG/BMP/TIFF can read") from None
    if width * height > max_pixels:
        raise invalid(f"{label}: {width}x{height} = {width * height} pixels exceeds the limit of {max_pixels}; "
                      "downscale or tile the image (limit: params register.max_pixels)")
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "image"
        path.write_bytes(data)
        try:
            return reader(path)
        except DataError as error:
            raise invalid(f"{label}: {str(error).replace(str(path), 'image')}") from None
