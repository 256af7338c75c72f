"""Every DVC stage script run as dvc.yaml runs it (its `cmd`, from the project root), in pipeline order.

One temporary project per module: the repo's conf/ rendered with the TINY overrides below (SynthScenes of
64 x 96, one epoch of each task network, two fusion epochs of which one is warm-up), the repo's stages/
linked in, MLflow in the project's own sqlite store (params `mlflow:`, as configured). Each test asks for its
stage; the stages before it in dvc.yaml run first, once, so any single test also runs on its own.
"""

from __future__ import annotations

import json
import shlex
import shutil
import subprocess
from pathlib import Path

import pandas as pd
import pytest
import yaml

import mlflow
from tests.training.fusion_env import stage_env
from tsjnet.config import Params, load_params, render_params
from tsjnet.pipeline import dvc_env
from tsjnet.registry.checkpoint import read_checkpoint
from tsjnet.registry.report import NO_CHAMPION, PromotionReport
from tsjnet.registry.teachers import TeacherCheckpoint
from tsjnet.tasks.scoring import cross_judged

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[1]
#: dvc.yaml's stages in file order (the pipeline order): name -> entry with its `cmd`.
DVC_STAGES: dict[str, dict] = yaml.safe_load((REPO / "dvc.yaml").read_text())["stages"]
#: The smallest configuration that still exercises every code path of every stage.
TINY = [
    "data.synth.n_train=4", "data.synth.n_val=2", "data.synth.n_test=2", "data.synth.height=64",
    "data.synth.width=96", "data.synth.max_objects=3",
    "pseudolabel.quality_max_images=2",
    "detector.epochs=1", "detector.batch_size=2", "detector.rpn_batch_size_per_image=16",
    "detector.box_batch_size_per_image=16", "detector.modalities=[infrared]", "detector.fusion_detector=infrared",
    "~detector.init_from.blend", "~detector.train_mix.blend",
    "segmenter.epochs=1", "segmenter.batch_size=2", "segmenter.train_modalities=[infrared]",
    "train.model=tsjnet_tiny", "train.epochs=2", "train.task_warmup_epochs=1", "train.crop=[32,32]",
    "train.batch_size=4", "train.init_from=null", "train.n_log_images=1",
    "train_baseline.epochs=1", "train_baseline.crop=[32,32]", "train_baseline.batch_size=4",
    "train_baseline.n_log_images=1",
    "evaluate.n_grid_samples=1",
]
METHODS = {"tsjnet", "tsjnet_fusion_only", "seafusion", "average", "max", "laplacian"}


class Pipeline:
    """Runs dvc.yaml's stage commands in the project, each at most once, upstream stages first."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.outputs: dict[str, str] = {}
        self.params: Params = load_params(root / "params.yaml")

    def path(self, relative: str) -> Path:
        return self.root / relative

    def run(self, stage: str) -> str:
        """Run every stage up to `stage` that has not run yet; return `stage`'s console output."""
        names = list(DVC_STAGES)
        env = {**stage_env(), "PATH": dvc_env()["PATH"]}
        env.pop("MLFLOW_TRACKING_URI", None)  # the configured store (params `mlflow:`), not a caller's
        for name in names[:names.index(stage) + 1]:
            if name not in self.outputs:
                done = subprocess.run(shlex.split(DVC_STAGES[name]["cmd"]), cwd=self.root, env=env,
                                      capture_output=True, text=True, check=False)
                output = done.stdout + done.stderr
                assert done.returncode == 0, f"stage {name} failed:\n{output[-4000:]}"
                self.outputs[name] = output
        return self.outputs[stage]

    def run_again(self, stage: str) -> str:
        """Run `stage` once more (its upstream stages stay as they are); return its console output."""
        self.outputs.pop(stage, None)
        return self.run(stage)

    def json(self, relative: str) -> dict:
        return json.loads(self.path(relative).read_text())


@pytest.fixture(scope="module")
def pipeline(tmp_path_factory: pytest.TempPathFactory) -> Pipeline:
    root = tmp_path_factory.mktemp("stages") / "project"
    root.mkdir()
    shutil.copytree(REPO / "conf", root / "conf")
    (root / "stages").symlink_to(REPO / "stages")
    render_params(root / "params.yaml", TINY)
    return Pipeline(root)


def store(pipeline: Pipeline) -> mlflow.MlflowClient:
    """A client of the project's MLflow store: the configured sqlite path is relative to the project root."""
    uri = pipeline.params.mlflow.tracking_uri.replace("sqlite:///", f"sqlite:///{pipeline.root}/", 1)
    return mlflow.MlflowClient(tracking_uri=uri, registry_uri=uri)


def test_ingest_writes_the_configured_synthscenes(pipeline: Pipeline) -> None:
    output = pipeline.run("ingest")
    manifest = pd.read_csv(pipeline.path(pipeline.params.data.manifest))
    assert manifest["split"].value_counts().to_dict() == {"train": 4, "val": 2, "test": 2}
    assert (manifest[["ir_width", "vi_width"]] == 96).all().all()
    assert all(pipeline.path(pipeline.params.data.out).joinpath(p).is_file() for p in manifest["ir_path"])
    assert "ingest: 8 pairs" in output


def test_validate_passes_the_ingested_data(pipeline: Pipeline) -> None:
    pipeline.run("validate")
    assert "**PASSED**" in pipeline.path(pipeline.params.validate_.report).read_text()
    metrics = pipeline.json(pipeline.params.validate_.metrics)
    assert metrics["passed"] and metrics["pairs"] == 8 and metrics["expectations_failed"] == 0


def test_pseudolabel_completes_labels_with_provenance(pipeline: Pipeline) -> None:
    pipeline.run("pseudolabel")
    config = pipeline.params.pseudolabel
    provenance = pd.read_csv(pipeline.path(config.out) / config.provenance)
    assert set(provenance["source"]) == {"gt"}  # SynthScenes ships every label: nothing is derived
    metrics = pipeline.json(config.metrics)
    assert metrics["images"] == 8 and metrics["labels_mask_none"] == 0
    assert metrics["quality_images"] == 2 and 0 < metrics["quality_mask_miou"] <= 1
    assert len(list((pipeline.path(config.out) / "train" / "Segmentation_labels").glob("*.png"))) == 4


def test_pretrain_detector_writes_a_checkpoint_per_modality(pipeline: Pipeline) -> None:
    output = pipeline.run("pretrain_detector")
    detector = pipeline.params.detector
    teacher = TeacherCheckpoint.read(pipeline.path(detector.checkpoint_dir) / "infrared.pt", "detector")
    assert teacher.build() is not None
    metrics = pipeline.json(detector.metrics)
    assert set(metrics) == {"infrared"} and 0 <= metrics["infrared"]["map50"] <= 1
    assert "pretrain_detector: infrared mAP@0.5" in output


def test_pretrain_segmenter_writes_its_checkpoint(pipeline: Pipeline) -> None:
    pipeline.run("pretrain_segmenter")
    segmenter = pipeline.params.segmenter
    assert TeacherCheckpoint.read(pipeline.path(segmenter.checkpoint), "segmenter").build() is not None
    metrics = pipeline.json(segmenter.metrics)
    assert 0 < metrics["miou_infrared"] == metrics["miou"] <= 1


def test_train_runs_warmup_then_task_losses(pipeline: Pipeline) -> None:
    output = pipeline.run("train")
    assert "tsjnet_joint epoch 1/2" in output and "tsjnet_joint epoch 2/2" in output
    train = pipeline.params.train
    state = read_checkpoint(pipeline.path(train.out))
    assert state["model"] == "tsjnet_tiny"
    assert pipeline.path(train.warmup_checkpoint).is_file()  # the warm-up epoch, shared with fusion_only
    metrics = pipeline.json(train.metrics)
    assert metrics["epochs"] == 2 and metrics["val/seg"] > 0  # w_seg > 0 after the warm-up epoch
    assert {"val_miou_fusion", "val_map50_fusion", "val/total"} <= set(metrics)


def test_train_fusion_only_reuses_the_warmup(pipeline: Pipeline) -> None:
    warmup = pipeline.path(pipeline.params.train.warmup_checkpoint)
    pipeline.run("train")
    written = warmup.stat().st_mtime_ns
    output = pipeline.run("train_fusion_only")
    assert "epoch 1/2" not in output and "tsjnet_fusion_only epoch 2/2" in output  # branched off after warm-up
    train = pipeline.params.train
    assert read_checkpoint(pipeline.path(train.ablation_out))["model"] == "tsjnet_tiny"
    metrics = pipeline.json(train.ablation_metrics)
    assert metrics["epochs"] == 2 and "val/seg" not in metrics  # no task loss in the ablation
    assert metrics["val/total"] == metrics["val/fusion"]
    assert warmup.stat().st_mtime_ns == written


def test_train_baseline_trains_seafusion(pipeline: Pipeline) -> None:
    pipeline.run("train_baseline")
    baseline = pipeline.params.train_baseline
    assert read_checkpoint(pipeline.path(baseline.out))["model"] == "seafusion"
    assert pipeline.json(baseline.metrics)["epochs"] == 1


def test_evaluate_scores_every_configured_method(pipeline: Pipeline) -> None:
    assert not (pipeline.root.parent / "shared").exists()  # seafusion_release's weights: absent, so skipped
    output = pipeline.run("evaluate")
    evaluate = pipeline.params.evaluate
    gate = pipeline.json(evaluate.metrics)
    assert set(pipeline.params.register.gate.metrics) <= set(gate)
    fusion = pipeline.json(evaluate.fusion_metrics)
    assert set(fusion[next(iter(fusion))]) == METHODS
    task = pipeline.json(evaluate.task_metrics)
    sources = {"infrared", "visible"}  # each under its own detector and under the primary's judge (shared: fusion)
    assert set(task) == {*sources, *METHODS, *(cross_judged(source, "fusion") for source in sources)}
    assert all(0 <= task[method]["miou"] <= 1 for method in METHODS)
    assert "Not evaluated: seafusion_release" in pipeline.path(evaluate.report).read_text()
    assert len(list(pipeline.path(evaluate.fused_dir).rglob("*.png"))) == 2 * len(METHODS)  # the 2 test pairs
    assert "evaluate: " in output


def test_register_promotes_the_first_version_and_registers_teachers(pipeline: Pipeline) -> None:
    pipeline.run("register")
    register = pipeline.params.register
    report = PromotionReport.read(pipeline.path(register.report))
    assert (report.model, report.version, report.promote) == (register.model_name, "1", True)
    assert (report.champion_before, report.champion_after) == (NO_CHAMPION, "1")
    assert set(report.candidate) == set(register.gate.metrics)

    client = store(pipeline)
    for alias in ("candidate", "champion"):
        assert str(client.get_model_version_by_alias(register.model_name, alias).version) == "1"
    fusion = client.get_model_version(register.model_name, "1")
    assert fusion.tags["architecture"] == "tsjnet_tiny" and fusion.tags["gate.decision"] == "promoted"
    for teacher in (register.detector_name, register.segmenter_name):
        assert str(client.get_model_version_by_alias(teacher, "champion").version) == "1"


def test_every_stage_logged_its_own_mlflow_run(pipeline: Pipeline) -> None:
    pipeline.run("register")
    client = store(pipeline)
    runs = client.search_runs([client.get_experiment_by_name(pipeline.params.mlflow.experiment).experiment_id])
    assert sorted(run.data.tags["stage"] for run in runs) == sorted(DVC_STAGES)
    assert {run.info.status for run in runs} == {"FINISHED"}


def test_register_remeasures_a_champion_measured_with_other_judges(pipeline: Pipeline) -> None:
    """Last in this module: it registers a second version. The champion's numbers are declared to come from other
    judges; the register stage re-measures it with the evaluate stage's code before gating the candidate."""
    pipeline.run("register")
    register = pipeline.params.register
    client = store(pipeline)
    first = client.get_model_version(register.model_name, "1").tags
    assert len(first["gate.yardstick"]) == 32  # an md5, recorded when version 1 was registered
    client.set_model_version_tag(register.model_name, "1", "gate.yardstick", "the judges of an older run")
    client.set_model_version_tag(register.model_name, "1", "metric.fused_miou", "0.0")

    pipeline.run_again("register")
    report = PromotionReport.read(pipeline.path(register.report))
    assert report.champion_rescored and (report.version, report.champion_before) == ("2", "1")
    # the same checkpoint, judges and test pairs: the re-measured champion scores what the candidate scores
    assert report.champion == pytest.approx(report.candidate, rel=1e-6)
    assert not report.promote and "champion re-measured" in report.reason
    champion = client.get_model_version(register.model_name, "1").tags
    assert champion["gate.yardstick"] == first["gate.yardstick"]
    assert float(champion["metric.fused_miou"]) == pytest.approx(report.candidate["fused_miou"], rel=1e-6)
