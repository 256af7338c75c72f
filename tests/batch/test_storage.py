"""Local folders and S3 prefixes behave the same: listing by stem, reading, writing, existence."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.batch.samples import upload_folder
from tsjnet.batch.storage import exists, fetch, list_images, read_text, split_s3, write_bytes
from tsjnet.errors import DataError


def test_folder_and_prefix_list_the_same_stems(pairs: tuple[Path, Path], s3: Any) -> None:
    ir, _ = pairs
    (ir / "notes.txt").write_text("not an image")
    (ir / ".hidden.png").write_bytes(b"")
    upload_folder(s3, ir, "tsjnet-batch", "set/ir")
    s3.put_object(Bucket="tsjnet-batch", Key="set/ir/deeper/z.png", Body=b"")  # one level only, like a folder
    local, remote = list_images(str(ir)), list_images("s3://tsjnet-batch/set/ir")
    assert sorted(local) == sorted(remote) == ["a", "b", "c", "d", "e"]
    assert local["a"] == str(ir / "a.png") and remote["a"] == "s3://tsjnet-batch/set/ir/a.png"


def test_missing_locations_and_duplicate_stems_fail_naming_the_place(pairs: tuple[Path, Path], s3: Any,
                                                                    tmp_path: Path) -> None:
    with pytest.raises(DataError, match=f"{tmp_path / 'nowhere'}: folder not found"):
        list_images(str(tmp_path / "nowhere"))
    with pytest.raises(DataError, match="s3://tsjnet-batch/empty: no images found"):
        list_images("s3://tsjnet-batch/empty")
    with pytest.raises(DataError, match="s3://no-such-bucket/x: S3 request failed .*NoSuchBucket.*AWS_ENDPOINT_URL"):
        list_images("s3://no-such-bucket/x")
    s3.put_object(Bucket="tsjnet-batch", Key="dup/a.png", Body=b"")
    s3.put_object(Bucket="tsjnet-batch", Key="dup/a.jpg", Body=b"")
    with pytest.raises(DataError, match="s3://tsjnet-batch/dup: a.jpg and a.png share the name 'a'"):
        list_images("s3://tsjnet-batch/dup")
    with pytest.raises(DataError, match="write it as s3://bucket/prefix"):
        split_s3("s3:///prefix")


@pytest.mark.parametrize("remote", [False, True])
def test_write_read_exists_fetch_round_trip(remote: bool, s3: Any, tmp_path: Path) -> None:
    root = "s3://tsjnet-batch/out" if remote else str(tmp_path / "out")
    target = f"{root}/sub/file.txt"
    assert not exists(target) and read_text(target) is None
    write_bytes(target, b"hello")
    assert exists(target) and read_text(target) == "hello"
    local = fetch(target, tmp_path / "scratch")
    assert local.read_bytes() == b"hello"
    assert (local.parent == tmp_path / "scratch") is remote  # a local file is read in place, never copied
    if not remote:
        assert [path.name for path in (tmp_path / "out" / "sub").iterdir()] == ["file.txt"]  # no temp file left
