"""`tsjnet pretrain`: the shipped model is trained on named pairs from several folders, scored, and carded."""

import json
from pathlib import Path

import pytest
import torch

from tests.params import make_params
from tests.pretrain_env import shipped_params
from tsjnet.config import Params, ParamsError
from tsjnet.errors import DataError
from tsjnet.pretrained import model_card, pretrain
from tsjnet.registry.checkpoint import load_checkpoint_model


@pytest.fixture(scope="module")
def shipped(tmp_path_factory: pytest.TempPathFactory) -> tuple[Params, dict]:
    params = shipped_params(tmp_path_factory.mktemp("pretrain"))
    return params, pretrain(params, torch.device("cpu"))


def test_the_model_loads_like_any_checkpoint(shipped: tuple[Params, dict]) -> None:
    params, _ = shipped
    model = load_checkpoint_model(params.pretrain_fusion.out, "cpu")
    assert model.fuse(torch.rand(1, 1, 40, 52), torch.rand(1, 1, 40, 52)).shape == (1, 1, 40, 52)


def test_card_json_holds_data_results_and_intervals(shipped: tuple[Params, dict]) -> None:
    params, card = shipped
    assert json.loads(Path(params.pretrain_fusion.metrics).read_text()) == json.loads(json.dumps(card))
    assert {role: data["pairs"] for role, data in card["data"].items()} == {"train": 4, "val": 2, "test": 2}
    assert card["references"] == ["average"]  # the optional method without its weights file is left out
    for role in ("val", "test"):
        ssim = card["results"][role]["means"]["tsjnet"]["SSIM"]
        assert ssim["ci_low"] <= ssim["mean"] <= ssim["ci_high"]
        row = card["results"][role]["versus"]["tsjnet"]["average"]
        assert row["better"] + row["worse"] + row["within_noise"] == 13


def test_markdown_card_is_rendered_from_the_results(shipped: tuple[Params, dict]) -> None:
    params, card = shipped
    text = Path(params.pretrain_fusion.card).read_text()
    assert card["git_commit"] in text and card["data"]["train"]["md5"] in text
    assert "val pairs: 2 pairs" in text and "test pairs: 2 pairs" in text
    ssim = card["results"]["test"]["means"]["average"]["SSIM"]
    assert f"{ssim['mean']:.3f} [{ssim['ci_low']:.3f}, {ssim['ci_high']:.3f}]" in text


def test_missing_pairs_folder_names_the_key(tmp_path: Path) -> None:
    params = shipped_params(tmp_path, val_pairs={"root": str(tmp_path / "nowhere"), "names": "x.txt"})
    with pytest.raises(DataError, match=r"pretrain_fusion.val_pairs.root: .*nowhere not found"):
        pretrain(params, torch.device("cpu"))


def test_task_losses_are_refused() -> None:
    with pytest.raises(ParamsError, match="pretrain_fusion.w_det"):
        make_params({"pretrain_fusion": {"w_det": 1.0}})


def test_card_renders_the_same_from_its_metrics_file(shipped: tuple[Params, dict]) -> None:
    params, _ = shipped
    stored = json.loads(Path(params.pretrain_fusion.metrics).read_text())  # keys sorted on disk
    assert model_card(stored) == Path(params.pretrain_fusion.card).read_text()
