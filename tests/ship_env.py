"""A tiny `shipped:` configuration on SynthScenes pairs, and a recorded real-data run to ship, for the tests."""

import os
from pathlib import Path

import mlflow
import torch
import yaml

from tests.params import make_params, section
from tests.training.fusion_env import SIZE
from tsjnet.config import Params
from tsjnet.data.synthscenes import write_synthscenes
from tsjnet.models.registry import create_model
from tsjnet.registry.checkpoint import save_fusion_model
from tsjnet.reports import TaskMetrics, TaskRow, TrainMetrics
from tsjnet.tracking import PARENT_ENV, configure, stage_run
from tsjnet.training.fusion_data import file_digest

MODEL = "tsjnet_tiny"


def _names(root: Path, split: str, stem: str) -> str:
    names = sorted(p.stem for p in (root / split / "ir").glob("*.png"))
    (root / "splits").mkdir(exist_ok=True)
    (root / "splits" / f"{stem}.txt").write_text("\n".join(names) + "\n")
    return f"splits/{stem}.txt"


def save_tiny_model(path: Path, seed: int = 0) -> Path:
    torch.manual_seed(seed)
    return save_fusion_model(path, create_model(MODEL), MODEL)


def shipped_params(tmp_path: Path, overrides: dict | None = None, **shipped: object) -> Params:
    """Params whose `shipped:` pairs are 4/2/2 SynthScenes pairs under `tmp_path` and whose shipped model exists."""
    data = tmp_path / "synth"
    write_synthscenes(data, section("data.synth", n_train=4, n_val=2, n_test=2, height=SIZE, width=SIZE),
                      progress=False)
    pairs = {role: {"root": str(data), "names": _names(data, split, role)}
             for role, split in (("train", "train"), ("val", "val"), ("test", "test"))}
    out = tmp_path / "shipped"
    settings = {**{f"{role}_pairs": value for role, value in pairs.items()},
                "references": [{"name": "average", "model": "classical_average"},
                               {"name": "gone", "model": "seafusion_release", "optional": True,
                                "weights": str(tmp_path / "absent.pth")}],
                "out": str(out / "model.pt"), "metrics": str(out / "model.json"), "card": str(out / "README.md"),
                "evaluation": str(out / "evaluation.md")} | shipped
    save_tiny_model(out / "model.pt", seed=1)
    return make_params({"shipped": settings} | (overrides or {}))


def recorded_run(tmp_path: Path) -> Params:
    """What `tsjnet repro --profile msrs` leaves in the working directory `tmp_path`, in miniature.

    The pipeline's model, metrics and report; dvc.lock recording the model and the data; the MLflow runs of the
    pipeline and its stages (written by the pipeline's own tracking code).
    """
    run = tmp_path / "run"
    base = shipped_params(tmp_path)
    splits = {role: getattr(base.shipped, f"{role}_pairs").model_dump() for role in ("train", "val", "test")}
    params = shipped_params(tmp_path, {
        "data": {"splits": splits, "out": "data/ingested", "source": "msrs"},
        "mlflow": {"tracking_uri": f"sqlite:///{tmp_path / 'mlflow.db'}"},
        "train": {"model": MODEL, "out": str(run / "tsjnet.pt"), "metrics": str(run / "train.json")},
        "evaluate": {"task_metrics": str(run / "task.json"), "report": str(run / "evaluation.md")}})
    model = save_tiny_model(run / "tsjnet.pt")
    TrainMetrics(epochs=1, train_seconds=2.5).write(run / "train.json")
    iou = {"background": 0.9, "person": 0.1}
    TaskMetrics({"infrared": TaskRow(
        detector="infrared", map50=0.25, map50_ci_low=0.1, map50_ci_high=0.4, miou=0.5, miou_ci_low=0.4,
        miou_ci_high=0.6, miou_no_bg=0.1, miou_no_bg_ci_low=0.0, miou_no_bg_ci_high=0.2, IoU=iou, IoU_ci_low=iou,
        IoU_ci_high=iou)}).write(run / "task.json")
    (run / "evaluation.md").write_text("# Evaluation\n\n- ![grid](../plots/grid.png)\n\n| a |\n")
    lock = {"schema": "2.0", "stages": {
        "ingest": {"outs": [{"path": "data/ingested", "md5": "0123456789abcdef.dir"}]},
        "train": {"outs": [{"path": params.train.out, "md5": file_digest([model])}]}}}
    Path("dvc.lock").write_text(yaml.safe_dump(lock))
    configure(params.mlflow)
    client = mlflow.MlflowClient()
    parent = client.create_run(client.get_experiment_by_name(params.mlflow.experiment).experiment_id,
                               tags={"kind": "pipeline"}).info.run_id
    os.environ[PARENT_ENV] = parent  # as `tsjnet repro` hands it to the stage processes
    try:
        for stage in ("ingest", "train"):
            with stage_run(stage, params, ()):
                pass
    finally:
        del os.environ[PARENT_ENV]
    client.set_terminated(parent)
    return params
