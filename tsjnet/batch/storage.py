"""Local folders and ``s3://bucket/prefix`` locations behind a few functions, so batch fusion reads and writes either.

Locations are plain strings (a folder path or an S3 URI) because they travel to the Dask workers and into the
manifest. S3 goes through boto3, which takes the endpoint from AWS_ENDPOINT_URL (MinIO, Ceph, moto) and the
credentials from the environment or AWS_PROFILE, like the DVC remote (tsjnet.data.remote); nothing is stored.
"""

from __future__ import annotations

import io
import os
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import urlparse

import numpy as np
from PIL import Image

from tsjnet.data.io import IMAGE_EXTENSIONS
from tsjnet.data.paired import images_by_stem, index_by_stem
from tsjnet.errors import DataError

S3_SCHEME = "s3://"


def is_s3(location: str) -> bool:
    """True for ``s3://bucket/...`` locations; everything else is a local path."""
    return location.startswith(S3_SCHEME)


def split_s3(uri: str) -> tuple[str, str]:
    """``s3://bucket/a/b`` -> ("bucket", "a/b"); a URI without a bucket is an error."""
    parsed = urlparse(uri)
    if not parsed.netloc:
        raise DataError(f"{uri!r} is not an S3 location; write it as s3://bucket/prefix")
    return parsed.netloc, parsed.path.strip("/")


def join(location: str, *names: str) -> str:
    """`location`/name/...: one way to build paths and keys for both kinds of location."""
    return "/".join([location.rstrip("/"), *names])


def s3_client() -> Any:
    """A boto3 S3 client; boto3 reads AWS_ENDPOINT_URL, the region and the credentials from the environment."""
    import boto3

    return boto3.client("s3")


def _s3_error(error: Exception, uri: str) -> DataError:
    """botocore's error as a `DataError` that names the location and the usual fix."""
    return DataError(f"{uri}: S3 request failed ({error}); check the bucket name, AWS_ENDPOINT_URL and the "
                     "credentials (AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or AWS_PROFILE)")


def list_images(location: str) -> dict[str, str]:
    """Image files directly under `location` (a folder or an S3 prefix) keyed by file stem.

    Same rules as a local folder (tsjnet.data.paired): image extensions only, one file per stem, at least one.
    """
    if not is_s3(location):
        return {stem: str(path) for stem, path in images_by_stem(Path(location)).items()}
    from botocore.exceptions import BotoCoreError, ClientError

    bucket, prefix = split_s3(location)
    keys: list[PurePosixPath] = []
    try:
        pages = s3_client().get_paginator("list_objects_v2").paginate(
            Bucket=bucket, Prefix=f"{prefix}/" if prefix else "", Delimiter="/")
        for page in pages:
            keys += [PurePosixPath(item["Key"]) for item in page.get("Contents", [])]
    except (BotoCoreError, ClientError) as error:
        raise _s3_error(error, location) from None
    images = (key for key in keys if key.suffix.lower() in IMAGE_EXTENSIONS and not key.name.startswith("."))
    return {stem: f"{S3_SCHEME}{bucket}/{key}" for stem, key in index_by_stem(images, location).items()}


def fetch(location: str, folder: Path) -> Path:
    """A local path holding the file at `location`: the path itself, or the S3 object downloaded into `folder`."""
    if not is_s3(location):
        return Path(location)
    from botocore.exceptions import BotoCoreError, ClientError

    bucket, key = split_s3(location)
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / PurePosixPath(key).name
    try:
        s3_client().download_file(bucket, key, str(target))
    except (BotoCoreError, ClientError) as error:
        raise _s3_error(error, location) from None
    return target


def write_bytes(location: str, data: bytes) -> None:
    """Write `data` to a file (atomically: temp file + rename, so a killed worker leaves no half file) or an S3 key."""
    if is_s3(location):
        bucket, key = split_s3(location)
        s3_client().put_object(Bucket=bucket, Key=key, Body=data)
        return
    path = Path(location)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def read_text(location: str) -> str | None:
    """The text of a file or S3 object, or None when it does not exist."""
    if not is_s3(location):
        path = Path(location)
        return path.read_text() if path.is_file() else None
    from botocore.exceptions import ClientError

    bucket, key = split_s3(location)
    try:
        return s3_client().get_object(Bucket=bucket, Key=key)["Body"].read().decode()
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") in {"NoSuchKey", "404"}:
            return None
        raise _s3_error(error, location) from None


def exists(location: str) -> bool:
    """True when the file or S3 object exists."""
    if not is_s3(location):
        return Path(location).is_file()
    from botocore.exceptions import ClientError

    bucket, key = split_s3(location)
    try:
        s3_client().head_object(Bucket=bucket, Key=key)
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") in {"NoSuchKey", "404"}:
            return False
        raise _s3_error(error, location) from None
    return True


def png_bytes(image_u8: np.ndarray) -> bytes:
    """(H, W) or (H, W, 3) uint8 -> lossless PNG bytes (the encoder `tsjnet fuse` uses for its files)."""
    buffer = io.BytesIO()
    Image.fromarray(image_u8).save(buffer, format="PNG")
    return buffer.getvalue()
