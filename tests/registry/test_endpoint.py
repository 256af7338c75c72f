"""The served endpoint under bad input: one real `mlflow models serve` process (with the body limit of
`tsjnet.registry.http_limits`) answers every malformed request with a 4xx naming the problem, and still fuses
the next good request."""

from __future__ import annotations

import base64
import http.client
import io
import json
import re
import struct
import zlib
from collections.abc import Iterator
from pathlib import Path

import mlflow
import numpy as np
import pytest
from PIL import Image

from tests.params import section
from tests.registry.samples import random_pair
from tsjnet.registry.codec import encode_png
from tsjnet.registry.register import CANDIDATE, log_fusion_model
from tsjnet.registry.serving import post, scoring_server

pytestmark = pytest.mark.slow

NAME = "tsjnet-endpoint-test"
MAX_PIXELS = 64 * 64
MAX_ROWS = 3
MAX_BODY = 256 * 1024
IR, VI = (encode_png(image) for image in random_pair(24, 32))
GOOD = {"ir": IR, "vi": VI}


def claimed_png(width: int, height: int) -> str:
    """A 4x4 PNG whose header (IHDR, CRC fixed up) claims `width` x `height`: what a decompression bomb sends."""
    buffer = io.BytesIO()
    Image.fromarray(np.zeros((4, 4), np.uint8)).save(buffer, format="PNG")
    data = bytearray(buffer.getvalue())
    data[16:24] = struct.pack(">II", width, height)  # after the 8-byte signature, IHDR length and type
    data[29:33] = struct.pack(">I", zlib.crc32(bytes(data[12:29])))
    return base64.b64encode(bytes(data)).decode()


@pytest.fixture(scope="module")
def invocations(tracking: str, checkpoint: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The test checkpoint registered with small limits, served by one `mlflow models serve` on 127.0.0.1."""
    with mlflow.start_run():
        log_fusion_model(section("register", model_name=NAME, checkpoint=str(checkpoint), max_pixels=MAX_PIXELS,
                                 max_rows=MAX_ROWS))
    log = tmp_path_factory.mktemp("serve") / "serve.log"
    with scoring_server(f"models:/{NAME}@{CANDIDATE}", MAX_BODY, log) as url:
        yield f"{url}/invocations"


def fused(body: str) -> list[np.ndarray]:
    return [np.array(Image.open(io.BytesIO(base64.b64decode(row["fused"])))) for row in json.loads(body)["predictions"]]


def records(*rows: dict) -> dict:
    return {"dataframe_records": list(rows)}


BAD_REQUESTS = {
    "not-json": (b"ir=abc&vi=def", "application/json", 400, r"valid JSON"),
    "not-json-content-type": (b"ir=abc", "text/plain", 415, r"only supports the following content types"),
    "malformed-json": (b'{"dataframe_records": [{"ir": ', "application/json", 400, r"valid JSON"),
    "no-input-field": ({"rows": [GOOD]}, "application/json", 400, r"exactly one of the input fields"),
    "missing-column": (records({"ir": IR}), "application/json", 400, r"missing inputs \['vi'\]"),
    "zero-rows": ({"dataframe_split": {"columns": ["ir", "vi"], "data": []}}, "application/json", 400,
                  r"request has 0 rows; send 1 to 3"),
    "zero-records": (records(), "application/json", 400, r"missing inputs \['ir', 'vi'\]"),
    "too-many-rows": (records(*[GOOD] * 4), "application/json", 400, r"request has 4 rows; send 1 to 3"),
    "gray-as-text": (records({**GOOD, "gray": "false"}), "application/json", 400,
                     r"row 0 column 'gray': expected true, false or null, got str 'false'"),
    "gray-as-number": (records(GOOD, {**GOOD, "gray": 1}), "application/json", 400,
                       r"row 1 column 'gray': expected true, false or null, got \w+ 1"),
    "image-as-number": (records({**GOOD, "ir": 123}), "application/json", 400,
                        r"row 0 column 'ir': expected a base64-encoded image string, got int"),
    "oversize-body": (records({**GOOD, "ir": "A" * MAX_BODY}), "application/json", 413,
                      rf"request body of \d+ bytes exceeds the limit of {MAX_BODY} bytes"),
    "header-claims-huge-size": (records({**GOOD, "vi": claimed_png(100_000, 100_000)}), "application/json", 400,
                                r"row 0 column 'vi': the image header claims a size above the limit of 4096"),
    "header-claims-over-limit": (records({**GOOD, "ir": claimed_png(70, 70)}), "application/json", 400,
                                 r"row 0 column 'ir': 70x70 = 4900 pixels exceeds the limit of 4096"),
}


def assert_still_serving(invocations: str) -> None:
    status, body = post(invocations, records(GOOD))
    assert status == 200, body
    assert fused(body)[0].shape == (24, 32, 3)


@pytest.mark.parametrize(("body", "content_type", "status", "message"), BAD_REQUESTS.values(), ids=BAD_REQUESTS)
def test_bad_request_is_refused_by_name_and_the_server_keeps_answering(
        invocations: str, body: dict | bytes, content_type: str, status: int, message: str) -> None:
    got, text = post(invocations, body, content_type)
    assert got == status and re.search(message, text), (got, text[:2000])
    assert_still_serving(invocations)


def test_chunked_oversize_body_is_refused_while_streaming(invocations: str) -> None:
    """No Content-Length to check up front: the body is counted as it arrives."""
    host, _, path = invocations.removeprefix("http://").partition("/")
    connection = http.client.HTTPConnection(host, timeout=60)
    try:
        chunks = (b"x" * 65536 for _ in range(MAX_BODY // 65536 + 2))
        connection.request("POST", f"/{path}", body=chunks, headers={"Content-Type": "application/json"},
                           encode_chunked=True)
        response = connection.getresponse()
        status, text = response.status, response.read().decode()
        assert status == 413 and re.search(rf"body of at least \d+ bytes exceeds the limit of {MAX_BODY}", text), text
    finally:
        connection.close()
    assert_still_serving(invocations)


def test_gray_is_taken_as_sent(invocations: str) -> None:
    """A row without `gray` next to rows that set it stays colour (MLflow's boolean cast made it gray)."""
    status, body = post(invocations, records({**GOOD, "gray": False}, GOOD, {**GOOD, "gray": True}))
    assert status == 200, body
    assert [image.shape for image in fused(body)] == [(24, 32, 3), (24, 32, 3), (24, 32)]
