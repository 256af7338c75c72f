"""The ingest and validate DVC stages end to end: SynthScenes, byte-exact copies of real data, and `dvc repro`."""

from __future__ import annotations

import hashlib
import importlib.util
import json
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest
import yaml

from tests.params import write_params
from tsjnet.config import ParamsError
from tsjnet.errors import DataError

PROJECT = Path(__file__).resolve().parents[1]
TINY_SYNTH = {"n_train": 2, "n_val": 1, "n_test": 1, "height": 64, "width": 64, "max_objects": 3}


def _stage(name: str) -> Callable[[str], None]:
    """`main` of stages/<name>.py (stages are scripts, not a package)."""
    spec = importlib.util.spec_from_file_location(f"stage_{name}", PROJECT / "stages" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.main


def _params(folder: Path, data: dict) -> str:
    return str(write_params(folder / "params.yaml", {"data": data}))


def _hashes(folder: Path) -> dict[str, str]:
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def test_synthscenes_ingest_then_validate(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    params = _params(tmp_path, {"synth": TINY_SYNTH})
    Path("data/ingested/stale.txt").parent.mkdir(parents=True)
    Path("data/ingested/stale.txt").write_text("left over from an earlier run")
    _stage("ingest")(params)

    manifest = pd.read_csv("data/manifest.csv")
    assert len(manifest) == 4 and manifest["split"].value_counts().to_dict() == {"train": 2, "val": 1, "test": 1}
    assert manifest["has_mask"].all() and (manifest[["ir_width", "vi_width"]] == 64).all().all()
    assert (manifest[["n_boxes_infrared", "n_boxes_visible", "n_boxes_fusion"]] >= 0).all().all()
    assert all((Path("data/ingested") / p).is_file() for p in manifest["vi_path"])
    assert not Path("data/ingested/stale.txt").exists()
    first = _hashes(Path("data/ingested"))

    _stage("validate")(params)
    assert "**PASSED**" in Path("reports/validation.md").read_text()
    metrics = json.loads(Path("metrics/validation.json").read_text())
    assert metrics["passed"] and metrics["pairs"] == 4 and metrics["expectations_failed"] == 0

    _stage("ingest")(params)  # deterministic: a re-run writes the same bytes
    assert _hashes(Path("data/ingested")) == first


def test_msrs_source_is_copied_byte_for_byte_into_names_file_splits(tmp_path: Path, tmp_msrs: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_msrs / "splits").mkdir()
    (tmp_msrs / "splits" / "val.txt").write_text("00002N\n00003D\n")
    (tmp_msrs / "splits" / "train.txt").write_text("00001D\n")
    params = _params(tmp_path, {"source": "msrs", "root": str(tmp_msrs),
                                "splits": {"train": "splits/train.txt", "val": "splits/val.txt"}})
    _stage("ingest")(params)

    out = Path("data/ingested")
    manifest = pd.read_csv("data/manifest.csv").set_index("name")
    assert manifest["split"].to_dict() == {"00001D": "train", "00002N": "val", "00003D": "val"}
    source = _hashes(tmp_msrs)
    copied = _hashes(out)
    assert copied["val/ir/00003D.png"] == source["test/ir/00003D.png"]
    assert copied["val/Segmentation_labels/00002N.png"] == source["train/Segmentation_labels/00002N.png"]
    assert copied["detection_labels/visible/val/00002N.txt"] == source["detection_labels/visible/train/00002N.txt"]
    assert len(copied) == 3 * (3 + 3)  # per pair: ir, vi, mask + one label file per modality


def test_msrs_splits_may_come_from_different_roots(tmp_path: Path, tmp_msrs: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """Train from one dataset, val/test from another (ivf-train + ivf-dev): each split names its own root."""
    monkeypatch.chdir(tmp_path)
    other = shutil.copytree(tmp_msrs, tmp_path / "other")
    for root, names in ((tmp_msrs, "00001D\n"), (other, "00002N\n00003D\n")):
        (root / "splits").mkdir()
        (root / "splits" / "pick.txt").write_text(names)
    splits = {"train": {"root": str(tmp_msrs), "names": "splits/pick.txt"},
              "test": {"root": str(other), "names": "splits/pick.txt"}}
    _stage("ingest")(_params(tmp_path, {"source": "msrs", "root": None, "splits": splits}))
    manifest = pd.read_csv("data/manifest.csv").set_index("name")
    assert manifest["split"].to_dict() == {"00001D": "train", "00002N": "test", "00003D": "test"}
    assert _hashes(Path("data/ingested"))["test/ir/00003D.png"] == _hashes(other)["test/ir/00003D.png"]

    (other / "splits" / "pick.txt").write_text("00001D\n")  # the same name in two splits would overwrite a pair
    with pytest.raises(DataError, match=r"'00001D' is in data.splits 'train' and 'test'"):
        _stage("ingest")(_params(tmp_path, {"source": "msrs", "root": None, "splits": splits}))


def test_paired_source_detects_its_folders(tmp_path: Path, tmp_msrs: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    root = tmp_path / "TNO"
    for side in ("ir", "vi"):
        (root / side).mkdir(parents=True)
        shutil.copy2(tmp_msrs / "train" / side / "00001D.png", root / side / "scene.png")
    _stage("ingest")(_params(tmp_path, {"source": "paired", "root": str(root)}))
    source = _hashes(root)
    assert _hashes(Path("data/ingested")) == {f"test/{s}/scene.png": source[f"{s}/scene.png"] for s in ("ir", "vi")}


def test_ingest_refuses_empty_or_overlapping_sources(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataError, match="empty: no split folder with ir/ and vi/"):
        _stage("ingest")(_params(tmp_path, {"source": "msrs", "root": "empty"}))
    with pytest.raises(ParamsError, match="overlaps the source folder empty"):
        _stage("ingest")(_params(tmp_path, {"source": "msrs", "root": "empty", "out": "empty/ingested"}))
    with pytest.raises(DataError, match="no known IR/VIS folder pair"):
        _stage("ingest")(_params(tmp_path, {"source": "paired", "root": "empty"}))


@pytest.mark.realdata
def test_ivf_dev_msrs_ingests_byte_exact_and_validates(tmp_path: Path, ivf_dev: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    msrs = ivf_dev / "MSRS"
    params = _params(tmp_path, {"source": "msrs", "root": str(msrs),
                                "splits": {"train": "splits/dev_train.txt", "val": "splits/dev_val.txt"}})
    _stage("ingest")(params)
    manifest = pd.read_csv("data/manifest.csv")
    assert manifest["split"].value_counts().to_dict() == {"train": 40, "val": 20}
    # Box totals from ivf-dev/README.md (person + bicycle + car per modality).
    assert manifest[["n_boxes_infrared", "n_boxes_visible", "n_boxes_fusion"]].sum().tolist() == [308, 160, 252]
    for row in manifest.itertuples():
        home = "train" if (msrs / "train" / "ir" / f"{row.name}.png").is_file() else "test"
        for side, column in (("ir", row.ir_path), ("vi", row.vi_path)):
            original = msrs / home / side / f"{row.name}.png"
            assert (Path("data/ingested") / column).read_bytes() == original.read_bytes()
    _stage("validate")(params)
    assert json.loads(Path("metrics/validation.json").read_text())["passed"]


def _run(command: list[str], cwd: Path) -> subprocess.CompletedProcess:
    env_bin = str(Path(sys.executable).parent)
    env = {"PATH": f"{env_bin}:/usr/bin:/bin", "DVC_NO_ANALYTICS": "1", "GX_ANALYTICS_ENABLED": "false",
           "HOME": str(cwd)}
    return subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True)


@pytest.mark.slow
def test_dvc_repro_runs_both_stages_and_fails_listing_bad_files(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    shutil.copytree(PROJECT / "tsjnet", repo / "tsjnet", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(PROJECT / "stages", repo / "stages", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy2(PROJECT / "dvc.yaml", repo / "dvc.yaml")
    raw = yaml.safe_load((PROJECT / "params.yaml").read_text())
    raw["data"]["synth"].update(TINY_SYNTH)
    (repo / "params.yaml").write_text(yaml.safe_dump(raw))
    for command in (["git", "init", "-q"], [sys.executable, "-m", "dvc", "init", "-q"]):
        assert _run(command, repo).returncode == 0

    done = _run([sys.executable, "-m", "dvc", "repro", "validate"], repo)  # ingest + validate only
    assert done.returncode == 0, done.stdout + done.stderr
    lock = yaml.safe_load((repo / "dvc.lock").read_text())["stages"]
    assert set(lock) == {"ingest", "validate"}
    assert json.loads((repo / "metrics" / "validation.json").read_text())["passed"]

    broken = repo / "data" / "ingested" / "val" / "vi"
    bad = sorted(broken.iterdir())[0]
    bad.write_bytes(b"broken")
    failed = _run([sys.executable, "-m", "dvc", "repro", "validate", "--single-item"], repo)
    output = failed.stdout + failed.stderr
    assert failed.returncode != 0
    assert f"data/ingested/val/vi/{bad.name}" in output and "cannot decode image" in output
    assert "**FAILED**" in (repo / "reports" / "validation.md").read_text()
