"""Batch test fixtures: a folder of small pairs, a small checkpoint, an in-process S3 (moto)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.batch.samples import S3_ENV, save_small_checkpoint, write_pairs


@pytest.fixture
def pairs(tmp_path: Path) -> tuple[Path, Path]:
    """tmp/in/ir and tmp/in/vi with the five SIZES pairs."""
    return write_pairs(tmp_path / "in")


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return save_small_checkpoint(tmp_path_factory.mktemp("ckpt") / "fusion.pt")


@pytest.fixture
def s3(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """A moto-mocked S3 in this process with bucket `tsjnet-batch`; boto3 clients made inside the test use it."""
    import boto3
    from moto import mock_aws

    for key, value in S3_ENV.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    with mock_aws():
        client = boto3.client("s3")
        client.create_bucket(Bucket="tsjnet-batch")
        yield client
