"""Image readers that turn whatever the fusion benchmarks store into the two shapes the models expect.

Benchmarks disagree on storage: MSRS keeps IR as 8-bit gray, TNO/LLVIP/M3FD keep IR as RGB with three equal
channels, some VIS images are gray. Every reader here normalises that once, so nothing downstream has to care,
and turns unreadable files into a `DataError` naming the file instead of a PIL traceback.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

from tsjnet.errors import DataError

IMAGE_EXTENSIONS: frozenset[str] = frozenset({".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff"})
# PIL modes that are one 8-bit channel, or that convert losslessly to 8-bit gray / RGB.
_GRAY_MODES = {"L", "LA", "1"}
_COLOUR_MODES = {"RGB", "RGBA", "P", "PA", "CMYK", "YCbCr"}


def is_image_file(path: Path) -> bool:
    """True for a visible file whose extension is one of `IMAGE_EXTENSIONS` (case-insensitive)."""
    return path.is_file() and not path.name.startswith(".") and path.suffix.lower() in IMAGE_EXTENSIONS


def is_gray(arr: np.ndarray) -> bool:
    """True for a (H, W) image or an (H, W, C) image whose channels are all equal (gray stored as RGB)."""
    if arr.ndim == 2:
        return True
    if arr.ndim == 3:
        return bool(all(np.array_equal(arr[..., 0], arr[..., c]) for c in range(1, arr.shape[2])))
    raise ValueError(f"expected a (H, W) or (H, W, C) image, got shape {arr.shape}")


def _open(path: str | Path) -> Image.Image:
    """Decode the whole file now (PIL is lazy), so truncation is reported here with the file name."""
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: image file not found; check the dataset folder or re-export the file")
    try:
        image = Image.open(path)
        image.load()
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as error:
        raise DataError(f"{path}: cannot decode image ({error}); the file is corrupt or truncated, "
                        "re-export or re-download it") from None
    if image.mode not in _GRAY_MODES | _COLOUR_MODES:
        raise DataError(f"{path}: unsupported image mode {image.mode!r} (e.g. 16-bit); "
                        "re-export it as 8-bit gray or RGB")
    return image


def _as_array(image: Image.Image) -> np.ndarray:
    """8-bit (H, W) for gray modes, (H, W, 3) RGB for everything else (alpha dropped, palettes expanded)."""
    target = "L" if image.mode in _GRAY_MODES else "RGB"
    return np.array(image if image.mode == target else image.convert(target), dtype=np.uint8)


def read_ir(path: str | Path) -> np.ndarray:
    """Read an infrared image as (H, W) uint8.

    IR stored as RGB with three equal channels (TNO, LLVIP, M3FD) is reduced to one channel without loss.
    An IR image whose channels differ (a colour-mapped thermal export) is converted with the ITU-R BT.601
    luma weights (0.299 R + 0.587 G + 0.114 B, PIL's "L" conversion): the closest gray the file allows.
    """
    image = _open(path)
    arr = _as_array(image)
    if arr.ndim == 2:
        return arr
    if is_gray(arr):
        return np.ascontiguousarray(arr[..., 0])
    return np.array(image.convert("RGB").convert("L"), dtype=np.uint8)


def read_vi(path: str | Path) -> np.ndarray:
    """Read a visible image as (H, W, 3) uint8 RGB; a gray VIS becomes three equal channels."""
    arr = _as_array(_open(path))
    if arr.ndim == 2:
        return np.repeat(arr[..., None], 3, axis=2)
    return arr


def read_mask(path: str | Path) -> np.ndarray:
    """Read a segmentation mask as (H, W) uint8 class ids.

    Palette PNGs keep their indices (the ids), not the palette colours. A mask with differing colour channels
    is a visualisation, not ids, and is refused.
    """
    image = _open(path)
    if image.mode in {"P", "L"}:
        return np.array(image, dtype=np.uint8)
    arr = _as_array(image)
    if arr.ndim == 3 and not is_gray(arr):
        raise DataError(f"{path}: segmentation mask has differing colour channels; it looks like a colour "
                        "visualisation. Use the single-channel label PNG whose pixels are class ids")
    return arr if arr.ndim == 2 else np.ascontiguousarray(arr[..., 0])
