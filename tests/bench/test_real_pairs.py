"""`tsjnet bench`'s real-pair section: the shipped and the pipeline's model against the references, with intervals."""

from pathlib import Path

import torch

from tests.ship_env import shipped_params
from tsjnet.bench.real_pairs import real_pair_quality
from tsjnet.bench.report import markdown


def test_shipped_and_pipeline_models_are_compared_on_val_and_test(tmp_path: Path) -> None:
    params = shipped_params(tmp_path)
    result = real_pair_quality(params, Path(params.shipped.out), torch.device("cpu"))
    assert result["pipeline"] == params.shipped.out
    for role in ("val", "test"):
        assert set(result[role]["means"]) == {"shipped", "pipeline", "average"}
        same = result[role]["versus"]["pipeline"]["shipped"]
        assert same["within_noise"] == 13 and same["better"] == same["worse"] == 0  # identical weights
    text = markdown({"machine": "test", "real_pairs": result})
    assert "#### val: 2 pairs" in text and "| pipeline | shipped | 0 | 0 | 13 |" in text


def test_without_a_pipeline_model_only_the_shipped_one_is_scored(tmp_path: Path) -> None:
    params = shipped_params(tmp_path)
    result = real_pair_quality(params, tmp_path / "never_trained.pt", torch.device("cpu"))
    assert result["pipeline"] is None and set(result["test"]["versus"]) == {"shipped"}
