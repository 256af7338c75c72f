"""The `tsjnet-evaluate-champion` flow: re-ingest, evaluate the registered champion, fail on a regression."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
import yaml
from mlflow import MlflowClient

from flows.evaluate_champion import evaluate_champion
from tests.params import merge
from tsjnet.config import Params, load_params
from tsjnet.orchestration import GateFailed
from tsjnet.tracking import configure

pytestmark = pytest.mark.usefixtures("prefect_server")

# Stands in for the evaluate stage: writes the metrics file for the model URI it is given.
FAKE_EVALUATE = '''
import json, os, sys
from pathlib import Path
model, out = sys.argv[1], Path(sys.argv[2])
out.mkdir(parents=True, exist_ok=True)
(out / "fusion.json").write_text(json.dumps({"ssim": float(os.environ["FAKE_SSIM"]), "psnr": 60.0}))
(out / "evaluated_model.txt").write_text(model)
'''


@pytest.fixture
def champion(dvc_project: Path) -> str:
    """A registered model (unique name) whose champion was promoted on ssim = 0.70; returns its name."""
    name = f"tsjnet-{uuid.uuid4().hex[:8]}"
    path = dvc_project / "params.yaml"
    register = {"model_name": name, "metrics_files": ["metrics/fusion.json"], "gate": {"metrics": {"ssim": "max"}}}
    path.write_text(yaml.safe_dump(merge(Params, yaml.safe_load(path.read_text()), {"register": register})))
    (dvc_project / "fake_evaluate.py").write_text(FAKE_EVALUATE)
    configure(load_params().mlflow)
    client = MlflowClient()
    client.create_registered_model(name)
    version = client.create_model_version(name, source=str(dvc_project))
    client.set_registered_model_alias(name, "champion", version.version)
    client.set_model_version_tag(name, version.version, "metric.ssim", "0.70")
    return name


def run_check(monkeypatch: pytest.MonkeyPatch, ssim: float) -> dict[str, float]:
    monkeypatch.setenv("FAKE_SSIM", str(ssim))
    return evaluate_champion(evaluate_command="python fake_evaluate.py {model} {out}")


def test_champion_that_holds_up_passes(dvc_project: Path, champion: str, monkeypatch: pytest.MonkeyPatch) -> None:
    assert run_check(monkeypatch, 0.72) == {"ssim": 0.72}
    assert (dvc_project / "reports/champion/evaluated_model.txt").read_text() == f"models:/{champion}@champion"
    lock = yaml.safe_load((dvc_project / "dvc.lock").read_text())
    assert sorted(lock["stages"]) == ["ingest", "pseudolabel", "validate"]  # data stages only, no training


def test_regressed_champion_fails_naming_the_metric(dvc_project: Path, champion: str,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(GateFailed, match=f"(?s)champion {champion} v1 regressed.*ssim regressed: 0.6 now vs 0.7"):
        run_check(monkeypatch, 0.60)
