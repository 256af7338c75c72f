"""The registered pyfunc: any image size, colour or gray, and 400-class errors for malformed requests."""

from __future__ import annotations

import base64
import io
from pathlib import Path

import mlflow
import numpy as np
import pandas as pd
import pytest
from mlflow.exceptions import MlflowException
from mlflow.pyfunc import PyFuncModel
from PIL import Image

from tests.params import section
from tests.registry.samples import random_pair
from tsjnet.registry.checkpoint import load_fusion_model
from tsjnet.registry.codec import encode_png
from tsjnet.registry.fuse import fuse_pair
from tsjnet.registry.pyfunc import EXAMPLE_SIZE, SIGNATURE
from tsjnet.registry.register import CANDIDATE, log_fusion_model

MAX_PIXELS = 64 * 64


NAME = "tsjnet-pyfunc-test"


@pytest.fixture(scope="module")
def served(tracking: str, checkpoint: Path) -> PyFuncModel:
    """The checkpoint registered as NAME (limit MAX_PIXELS), loaded back through its candidate alias."""
    with mlflow.start_run():
        log_fusion_model(section("register", model_name=NAME, checkpoint=str(checkpoint), max_pixels=MAX_PIXELS))
    return mlflow.pyfunc.load_model(f"models:/{NAME}@{CANDIDATE}")


def decode(text: str) -> np.ndarray:
    return np.array(Image.open(io.BytesIO(base64.b64decode(text))))


def request(*pairs: tuple[np.ndarray, np.ndarray], gray: list[bool] | None = None) -> pd.DataFrame:
    frame = pd.DataFrame({"ir": [encode_png(ir) for ir, _ in pairs], "vi": [encode_png(vi) for _, vi in pairs]})
    if gray is not None:
        frame["gray"] = gray
    return frame


def test_logged_with_signature_example_and_alias(served: PyFuncModel) -> None:
    assert served.metadata.signature == SIGNATURE
    version = mlflow.MlflowClient().get_model_version_by_alias(NAME, CANDIDATE)
    assert version.tags["architecture"] == "seafusion"
    local = mlflow.artifacts.download_artifacts(f"models:/{NAME}@{CANDIDATE}")
    example = served.metadata.load_input_example(local)
    assert list(example.columns) == ["ir", "vi", "gray"]
    assert decode(served.predict(example)["fused"][0]).shape == (*EXAMPLE_SIZE, 3)


def test_fuses_any_size_in_colour_and_gray(served: PyFuncModel, checkpoint: Path) -> None:
    sizes = [(37, 53), (48, 64)]
    assert all(size != EXAMPLE_SIZE for size in sizes)
    pairs = [random_pair(h, w, seed=i) for i, (h, w) in enumerate(sizes)]
    out = served.predict(request(*pairs, gray=[False, True]))
    assert list(out.columns) == ["fused"] and len(out) == 2

    local = load_fusion_model(checkpoint, device="cpu")
    colour, gray = decode(out["fused"][0]), decode(out["fused"][1])
    assert colour.shape == (37, 53, 3) and gray.shape == (48, 64)
    np.testing.assert_array_equal(colour, fuse_pair(local, *pairs[0]))
    np.testing.assert_array_equal(gray, fuse_pair(local, *pairs[1], gray=True))


def test_gray_column_is_optional(served: PyFuncModel) -> None:
    out = served.predict(request(random_pair(20, 30)))
    assert decode(out["fused"][0]).shape == (20, 30, 3)


@pytest.mark.parametrize(("ir", "vi", "message"), [
    ("not base64!!", None, r"row 0 column 'ir': not valid base64"),
    (base64.b64encode(b"plain text, no image").decode(), None, r"row 0 column 'ir': .*not an image"),
    (None, encode_png(random_pair(21, 30)[1]), r"row 0: IR size \(20, 30\) and VIS size \(21, 30\) differ"),
    (encode_png(random_pair(65, 64)[0]), encode_png(random_pair(65, 64)[1]), r"65 = 4160 pixels exceeds the limit"),
], ids=["bad-base64", "not-an-image", "size-mismatch", "oversize"])
def test_malformed_rows_are_invalid_parameter_errors(served: PyFuncModel, ir: str | None, vi: str | None,
                                                     message: str) -> None:
    frame = request(random_pair(20, 30))
    if ir is not None:
        frame["ir"] = [ir]
    if vi is not None:
        frame["vi"] = [vi]
    with pytest.raises(MlflowException, match=message) as caught:
        served.predict(frame)
    assert caught.value.error_code == "INVALID_PARAMETER_VALUE"
    assert caught.value.get_http_status_code() == 400
