"""Log the trained models to MLflow, register them, set aliases and run the promotion gate.

The fusion model is registered as a pyfunc (`tsjnet.registry.pyfunc`), alias ``candidate``; it becomes
``champion`` only through the gate (`tsjnet.registry.gate`), which writes `tsjnet.registry.report.PromotionReport`.
The pretrained detector and segmenter are registered as weights-only teacher files (`tsjnet.registry.teachers`,
never a pickled module) and aliased ``champion`` directly: they are the frozen teachers the fusion model was
trained against, not competitors. Every call needs an active MLflow run (the register stage opens one with
`tsjnet.tracking.stage_run`).
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from dataclasses import dataclass, replace
from importlib.metadata import version as package_version
from pathlib import Path
from typing import Any

import mlflow
import mlflow.artifacts
import mlflow.pyfunc
from mlflow.entities import LoggedModelStatus
from mlflow.entities.model_registry import ModelVersion
from mlflow.exceptions import MlflowException
from torch import nn

from tsjnet.config.registry import GateParams, RegisterParams
from tsjnet.errors import DataError, TsjnetError
from tsjnet.export.artifact import log_onnx
from tsjnet.registry.checkpoint import build_fusion_model, read_checkpoint, resolve_device
from tsjnet.registry.gate import METRIC_TAG, YARDSTICK_TAG, GateDecision, decide, gate_values, read_metrics
from tsjnet.registry.pyfunc import CHECKPOINT_ARTIFACT, SIGNATURE, example_input
from tsjnet.registry.report import PromotionReport
from tsjnet.registry.teachers import TEACHER_FILE, TeacherCheckpoint

CANDIDATE = "candidate"
CHAMPION = "champion"
ENTRY_POINT = Path(__file__).with_name("pyfunc_entry.py")
#: Re-measures a registered version (``models:/name/N``) with the current yardstick; returns its flat metrics.
Rescore = Callable[[str], dict[str, float]]
#: What a serving environment needs besides the tsjnet package itself (pinned to the versions logged with).
_REQUIREMENTS = ("mlflow", "torch", "torchvision", "numpy", "pandas", "pillow", "kornia", "timm", "natten",
                 "segmentation-models-pytorch")


def pip_requirements() -> list[str]:
    """Pinned requirements of the logged fusion pyfunc (explicit: MLflow's inference would re-load the model)."""
    return [f"{name}=={package_version(name)}" for name in _REQUIREMENTS]


def _require_run() -> None:
    if mlflow.active_run() is None:
        raise TsjnetError("registering needs an active MLflow run: call inside tsjnet.tracking.stage_run")


def _model_version(name: str, version: int | str | None) -> ModelVersion:
    if version is None:
        raise TsjnetError(f"MLflow did not register a version of {name!r}: the tracking store has no model registry")
    return mlflow.MlflowClient().get_model_version(name, str(version))


def log_fusion_model(params: RegisterParams) -> ModelVersion:
    """Log params.checkpoint as a pyfunc, register a new version of params.model_name, alias it ``candidate``.

    Its ONNX graph (tsjnet.export) is exported first and logged in the same run (version tag ``onnx``), so a
    deployment without PyTorch fetches it from the version (tsjnet.export.artifact); a model that fails to
    export is not registered.
    """
    _require_run()
    state = read_checkpoint(params.checkpoint)
    onnx_artifact = log_onnx(build_fusion_model(state["model"], state["kwargs"], state["state_dict"]))
    info = mlflow.pyfunc.log_model(
        name="fusion",
        python_model=str(ENTRY_POINT),
        artifacts={CHECKPOINT_ARTIFACT: str(Path(params.checkpoint).resolve())},
        signature=SIGNATURE,
        input_example=example_input(),
        model_config={"max_pixels": params.max_pixels, "max_rows": params.max_rows},
        pip_requirements=pip_requirements(),
        registered_model_name=params.model_name,
    )
    version = _model_version(params.model_name, info.registered_model_version)
    client = mlflow.MlflowClient()
    client.set_model_version_tag(version.name, str(version.version), "architecture", state["model"])
    client.set_model_version_tag(version.name, str(version.version), "onnx", onnx_artifact)
    client.set_registered_model_alias(version.name, CANDIDATE, str(version.version))
    return version


def champion_metrics(name: str) -> tuple[ModelVersion | None, dict[str, float] | None]:
    """The current champion version of `name` and the metrics it was promoted on (None, None: no champion)."""
    client = mlflow.MlflowClient()
    try:
        aliases = client.get_registered_model(name).aliases
    except MlflowException as error:
        if error.error_code == "RESOURCE_DOES_NOT_EXIST":  # nothing registered under that name yet
            return None, None
        raise
    if CHAMPION not in aliases:
        return None, None
    champion = client.get_model_version_by_alias(name, CHAMPION)
    metrics = {key.removeprefix(METRIC_TAG): float(value)
               for key, value in champion.tags.items() if key.startswith(METRIC_TAG)}
    return champion, metrics


@dataclass(frozen=True)
class Champion:
    """The version a candidate is gated against and the numbers to compare with: those it was promoted on, or,
    when they were measured with another yardstick, the ones just re-measured (`rescored`)."""

    version: ModelVersion
    metrics: dict[str, float]
    rescored: bool


def current_champion(name: str, yardstick: str, rescore: Rescore | None = None) -> Champion | None:
    """The champion of `name` with numbers comparable to a candidate's measured with `yardstick` (None: no champion).

    A champion tagged with another yardstick (judges, test data, evaluation settings), or with none, is
    re-measured through `rescore`; without one that is an error, never a comparison of numbers from different
    judges. Nothing is written here: the register stage re-measures before it registers anything.
    """
    version, metrics = champion_metrics(name)
    if version is None or metrics is None:
        return None
    recorded = version.tags.get(YARDSTICK_TAG)
    if recorded == yardstick:
        return Champion(version, metrics, rescored=False)
    if rescore is None:
        raise DataError(f"champion {name} v{version.version} was measured with another yardstick "
                        f"({recorded or 'not recorded'}; the candidate's: {yardstick}), so its numbers cannot be "
                        "compared with the candidate's: re-measure it (the register stage does) or delete the "
                        "champion alias to restart the gate")
    return Champion(version, rescore(f"models:/{name}/{version.version}"), rescored=True)


def _tag_metrics(version: ModelVersion, metrics: dict[str, float], yardstick: str) -> None:
    """Version tags ``metric.<name>`` and the yardstick they were measured with."""
    client = mlflow.MlflowClient()
    for name, value in metrics.items():
        client.set_model_version_tag(version.name, str(version.version), f"{METRIC_TAG}{name}", repr(value))
    client.set_model_version_tag(version.name, str(version.version), YARDSTICK_TAG, yardstick)


def promote(version: ModelVersion, metrics: dict[str, float], gate: GateParams, report: str | Path,
            yardstick: str, champion: Champion | None) -> GateDecision:
    """Gate `version`, measured with `yardstick`, against `champion` (`current_champion`); move ``champion`` if
    it wins; record the decision everywhere.

    Records: version tags ``metric.<name>``, ``gate.yardstick`` and ``gate.*``, run metrics (the candidate's and
    the improvements), run tags ``gate.*``, and the JSON `report`. A re-measured champion's tags get its new
    numbers and yardstick, so later candidates and the champion check compare with those.
    """
    _require_run()
    client = mlflow.MlflowClient()
    number = str(version.version)
    _tag_metrics(version, metrics, yardstick)
    decision = decide(metrics, champion.metrics if champion else None, gate)
    if champion is not None and champion.rescored:
        _tag_metrics(champion.version, champion.metrics, yardstick)
        decision = replace(decision, reason=f"{decision.reason} (champion re-measured: it was promoted on numbers "
                                            "from other judges or test data)")
    if decision.promote:
        client.set_registered_model_alias(version.name, CHAMPION, number)
    before = str(champion.version.version) if champion else None
    result = PromotionReport.of(version.name, number, decision, before, rescored=bool(champion and champion.rescored))
    outcome = result.outcome()
    for key, value in outcome.items():
        client.set_model_version_tag(version.name, number, f"gate.{key}", value)
    mlflow.set_tags({f"gate.{key}": value for key, value in {**outcome, "version": number}.items()})
    mlflow.log_metrics(metrics)
    mlflow.log_metrics({f"gate.improvement.{name}": delta for name, delta in decision.improvement.items()})
    result.write(report)
    return decision


def register_task_model(teacher: TeacherCheckpoint, name: str) -> ModelVersion:
    """Register `teacher` as a new version of `name`, alias ``champion``: one weights-only file, no pickled code.

    Logged as an MLflow LoggedModel whose only artifact is `TEACHER_FILE` (no flavour: nothing MLflow would
    unpickle or import when loading it); `load_task_model` rebuilds the network from the file's config.
    """
    _require_run()
    logged = mlflow.initialize_logged_model(name=name, model_type=f"tsjnet-{teacher.task}")
    try:
        with tempfile.TemporaryDirectory() as folder:
            file = teacher.save(Path(folder) / TEACHER_FILE)
            mlflow.MlflowClient().log_model_artifact(logged.model_id, str(file))
    except BaseException:
        mlflow.finalize_logged_model(logged.model_id, LoggedModelStatus.FAILED)
        raise
    mlflow.finalize_logged_model(logged.model_id, LoggedModelStatus.READY)
    version = mlflow.register_model(f"models:/{logged.model_id}", name, tags={"task": teacher.task})
    mlflow.MlflowClient().set_registered_model_alias(name, CHAMPION, str(version.version))
    return version


def load_task_model(uri: str, device: str = "auto") -> nn.Module:
    """A registered teacher (``models:/tsjnet-segmenter@champion``) in eval mode on `device`.

    Only `TEACHER_FILE` is read from the registry, weights-only; a tampered or foreign file is refused with a
    `DataError` naming it, and versions registered with the pickled ``mlflow.pytorch`` flavour are refused too.
    """
    source = f"{uri.rstrip('/')}/{TEACHER_FILE}"
    with tempfile.TemporaryDirectory() as folder:
        local = Path(mlflow.artifacts.download_artifacts(artifact_uri=uri, dst_path=folder)) / TEACHER_FILE
        if not local.is_file():
            raise DataError(f"{uri} has no {TEACHER_FILE}: it is not a tsjnet teacher, or it was registered by an "
                            "older tsjnet as a pickled module, which is not loaded; re-register the teachers "
                            "(dvc repro --force register)")
        teacher = TeacherCheckpoint.read(local, source=source)
    return teacher.build().to(resolve_device(device))


def register_all(params: RegisterParams, yardstick: str, rescore: Rescore | None = None) -> dict[str, Any]:
    """The register stage: fusion candidate + gate, then the detector and segmenter teachers.

    `yardstick` is the digest of what the candidate's metrics were measured with (`gate.yardstick_digest`);
    `rescore` re-measures a champion measured with another one (`current_champion`).
    """
    # Every input is read (each teacher rebuilt, the champion re-measured if it must be) before anything is
    # registered, so a missing or bad file leaves the registry untouched.
    metrics = read_metrics(params.metrics_files)
    gate_values(metrics, params.gate)
    teachers = [(TeacherCheckpoint.read(params.detector_checkpoint, "detector"), params.detector_name),
                (TeacherCheckpoint.read(params.segmenter_checkpoint, "segmenter"), params.segmenter_name)]
    for teacher, _ in teachers:
        teacher.build()
    champion = current_champion(params.model_name, yardstick, rescore)
    version = log_fusion_model(params)
    decision = promote(version, metrics, params.gate, params.report, yardstick, champion)
    detector, segmenter = (register_task_model(teacher, name) for teacher, name in teachers)
    return {
        "fusion": f"{version.name} v{version.version}",
        "promoted": decision.promote,
        "reason": decision.reason,
        "detector": f"{detector.name} v{detector.version}",
        "segmenter": f"{segmenter.name} v{segmenter.version}",
    }
