"""`tsjnet ship`: the model of a recorded real-data run becomes the shipped one, scored and carded from the run."""

import json
from pathlib import Path

import pytest
import torch

from tests.ship_env import recorded_run, save_tiny_model
from tsjnet.config import Params
from tsjnet.errors import DataError
from tsjnet.registry.checkpoint import load_checkpoint_model
from tsjnet.shipped import model_card, ship
from tsjnet.training.fusion_data import file_digest


@pytest.fixture(scope="module")
def shipped(tmp_path_factory: pytest.TempPathFactory) -> tuple[Params, dict]:
    tmp = tmp_path_factory.mktemp("ship")
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(tmp)
        params = recorded_run(tmp)
        return params, ship(params, torch.device("cpu"))


def test_the_shipped_file_is_the_runs_model_and_loads(shipped: tuple[Params, dict]) -> None:
    params, _ = shipped
    assert file_digest([params.shipped.out]) == file_digest([params.train.out])
    model = load_checkpoint_model(params.shipped.out, "cpu")
    assert model.fuse(torch.rand(1, 1, 40, 52), torch.rand(1, 1, 40, 52)).shape == (1, 1, 40, 52)


def test_card_json_holds_data_run_results_and_intervals(shipped: tuple[Params, dict]) -> None:
    params, card = shipped
    assert json.loads(Path(params.shipped.metrics).read_text()) == json.loads(json.dumps(card))
    assert {role: data["pairs"] for role, data in card["data"].items()} == {"train": 4, "val": 2, "test": 2}
    assert card["dvc_data_hash"] == "0123456789abcdef.dir" and len(card["git_commit"]) in (7, 40, len("unknown"))
    assert [row["stage"] for row in card["stages"]] == ["ingest", "train"] and card["pipeline_seconds"] >= 0
    assert card["training"] == {"epochs": 1, "train_seconds": 2.5} and card["task"][0]["map50"] == 0.25
    assert card["references"] == ["average"]  # the optional method without its weights file is left out
    for role in ("val", "test"):
        ssim = card["results"][role]["means"]["tsjnet"]["SSIM"]
        assert ssim["ci_low"] <= ssim["mean"] <= ssim["ci_high"]
        row = card["results"][role]["versus"]["tsjnet"]["average"]
        assert row["better"] + row["worse"] + row["within_noise"] == 13
    copied = Path(params.shipped.evaluation).read_text()  # the report, without the figures it cannot carry
    assert copied.endswith("# Evaluation\n\n\n| a |\n") and "![" not in copied and "1 figure(s)" in copied


def test_markdown_card_is_rendered_from_the_results(shipped: tuple[Params, dict]) -> None:
    params, card = shipped
    text = Path(params.shipped.card).read_text()
    assert card["git_commit"] in text and card["data"]["train"]["md5"] in text and "0123456789abcdef.dir" in text
    assert "val pairs: 2 pairs" in text and "test pairs: 2 pairs" in text
    assert "| infrared | infrared | 0.2500 [0.1000, 0.4000] | 0.5000 [0.4000, 0.6000] |" in text
    ssim = card["results"]["test"]["means"]["average"]["SSIM"]
    assert f"{ssim['mean']:.3f} [{ssim['ci_low']:.3f}, {ssim['ci_high']:.3f}]" in text


def test_card_renders_the_same_from_its_metrics_file(shipped: tuple[Params, dict]) -> None:
    params, _ = shipped
    stored = json.loads(Path(params.shipped.metrics).read_text())  # keys sorted on disk
    assert model_card(stored) == Path(params.shipped.card).read_text()


def test_a_run_on_other_data_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    params = recorded_run(tmp_path)
    other = params.model_copy(update={"data": params.data.model_copy(update={"splits": {"train": "a.txt"}})})
    with pytest.raises(DataError, match=r"data.splits.train is 'a.txt', not shipped.train_pairs .*--profile msrs"):
        ship(other, torch.device("cpu"))


def test_a_model_that_is_not_the_locked_output_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    params = recorded_run(tmp_path)
    save_tiny_model(Path(params.train.out), seed=7)  # retrained outside DVC
    with pytest.raises(DataError, match=r"tsjnet.pt is not the model dvc.lock records"):
        ship(params, torch.device("cpu"))


def test_missing_pairs_folder_names_the_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    params = recorded_run(tmp_path)
    gone = {"root": str(tmp_path / "nowhere"), "names": "x.txt"}
    moved = params.model_copy(update={
        "shipped": params.shipped.model_copy(update={"val_pairs": type(params.shipped.val_pairs)(**gone)}),
        "data": params.data.model_copy(update={"splits": {**params.data.splits,
                                                          "val": type(params.shipped.val_pairs)(**gone)}})})
    with pytest.raises(DataError, match=r"shipped.val_pairs.root: .*nowhere not found"):
        ship(moved, torch.device("cpu"))
