"""Log the trained models to MLflow, register them, set aliases and run the promotion gate.

The fusion model is registered as a pyfunc (`tsjnet.registry.pyfunc`), alias ``candidate``; it becomes
``champion`` only through the gate (`tsjnet.registry.gate`). The pretrained detector and segmenter are
registered with the ``mlflow.pytorch`` flavour and aliased ``champion`` directly: they are the frozen
teachers the fusion model was trained against, not competitors. Every call needs an active MLflow run
(the register stage opens one with `tsjnet.tracking.stage_run`).
"""

from __future__ import annotations

import json
from importlib.metadata import version as package_version
from pathlib import Path
from typing import Any

import mlflow
import mlflow.pyfunc
import mlflow.pytorch
from mlflow.entities.model_registry import ModelVersion
from torch import nn

from tsjnet.config.registry import GateParams, RegisterParams
from tsjnet.errors import TsjnetError
from tsjnet.registry.checkpoint import read_checkpoint, resolve_device
from tsjnet.registry.gate import METRIC_TAG, GateDecision, decide, gate_values, read_metrics
from tsjnet.registry.pyfunc import CHECKPOINT_ARTIFACT, SIGNATURE, example_input

CANDIDATE = "candidate"
CHAMPION = "champion"
ENTRY_POINT = Path(__file__).with_name("pyfunc_entry.py")
#: What a serving environment needs besides the tsjnet package itself (pinned to the versions logged with).
_REQUIREMENTS = ("mlflow", "torch", "torchvision", "numpy", "pandas", "pillow", "kornia", "timm", "natten",
                 "segmentation-models-pytorch")


def pip_requirements() -> list[str]:
    """Pinned requirements of the logged models (explicit: MLflow's inference would re-load the model)."""
    return [f"{name}=={package_version(name)}" for name in _REQUIREMENTS]


def _require_run() -> None:
    if mlflow.active_run() is None:
        raise TsjnetError("registering needs an active MLflow run: call inside tsjnet.tracking.stage_run")


def _model_version(name: str, version: int | str | None) -> ModelVersion:
    if version is None:
        raise TsjnetError(f"MLflow did not register a version of {name!r}: the tracking store has no model registry")
    return mlflow.MlflowClient().get_model_version(name, str(version))


def log_fusion_model(params: RegisterParams) -> ModelVersion:
    """Log params.checkpoint as a pyfunc, register a new version of params.model_name, alias it ``candidate``."""
    _require_run()
    state = read_checkpoint(params.checkpoint)
    info = mlflow.pyfunc.log_model(
        name="fusion",
        python_model=str(ENTRY_POINT),
        artifacts={CHECKPOINT_ARTIFACT: str(Path(params.checkpoint).resolve())},
        signature=SIGNATURE,
        input_example=example_input(),
        model_config={"max_pixels": params.max_pixels},
        pip_requirements=pip_requirements(),
        registered_model_name=params.model_name,
    )
    version = _model_version(params.model_name, info.registered_model_version)
    client = mlflow.MlflowClient()
    client.set_model_version_tag(version.name, str(version.version), "architecture", state["model"])
    client.set_registered_model_alias(version.name, CANDIDATE, str(version.version))
    return version


def champion_metrics(name: str) -> tuple[ModelVersion | None, dict[str, float] | None]:
    """The current champion version of `name` and the metrics it was promoted on (None, None: no champion)."""
    client = mlflow.MlflowClient()
    if CHAMPION not in client.get_registered_model(name).aliases:
        return None, None
    champion = client.get_model_version_by_alias(name, CHAMPION)
    metrics = {key.removeprefix(METRIC_TAG): float(value)
               for key, value in champion.tags.items() if key.startswith(METRIC_TAG)}
    return champion, metrics


def promote(version: ModelVersion, metrics: dict[str, float], gate: GateParams, report: str | Path) -> GateDecision:
    """Gate `version` against the champion; move ``champion`` if it wins; record the decision everywhere.

    Records: version tags ``metric.<name>`` and ``gate.*``, run metrics (the candidate's and the improvements),
    run tags ``gate.*``, and the JSON `report`.
    """
    _require_run()
    client = mlflow.MlflowClient()
    number = str(version.version)
    champion, champion_values = champion_metrics(version.name)
    for name, value in metrics.items():
        client.set_model_version_tag(version.name, number, f"{METRIC_TAG}{name}", repr(value))
    decision = decide(metrics, champion_values, gate)
    if decision.promote:
        client.set_registered_model_alias(version.name, CHAMPION, number)
    before = str(champion.version) if champion else "none"
    outcome = {
        "decision": "promoted" if decision.promote else "rejected",
        "reason": decision.reason,
        "champion_before": before,
        "champion_after": number if decision.promote else before,
    }
    for key, value in outcome.items():
        client.set_model_version_tag(version.name, number, f"gate.{key}", value)
    mlflow.set_tags({f"gate.{key}": value for key, value in {**outcome, "version": number}.items()})
    mlflow.log_metrics(metrics)
    mlflow.log_metrics({f"gate.improvement.{name}": delta for name, delta in decision.improvement.items()})
    _write_report(report, {"model": version.name, "version": number, **decision.as_dict(), **outcome})
    return decision


def _write_report(path: str | Path, content: dict[str, Any]) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(content, indent=2) + "\n")


def register_task_model(module: nn.Module, name: str) -> ModelVersion:
    """Log a pretrained task network with mlflow.pytorch, register it as `name`, alias ``champion``."""
    _require_run()
    info = mlflow.pytorch.log_model(module, name=name, registered_model_name=name, serialization_format="pickle",
                                    pip_requirements=pip_requirements())
    version = _model_version(name, info.registered_model_version)
    mlflow.MlflowClient().set_registered_model_alias(name, CHAMPION, str(version.version))
    return version


def load_task_model(uri: str, device: str = "auto") -> nn.Module:
    """A registered teacher (``models:/tsjnet-segmenter@champion``) in eval mode on `device`."""
    return mlflow.pytorch.load_model(uri, map_location=resolve_device(device)).eval()


def register_all(params: RegisterParams) -> dict[str, Any]:
    """The register stage: fusion candidate + gate, then the detector and segmenter teachers."""
    from tsjnet.tasks.detector import load_detector
    from tsjnet.tasks.segmenter import load_segmenter

    # Every input is read before anything is registered, so a missing file leaves the registry untouched.
    metrics = read_metrics(params.metrics_files)
    gate_values(metrics, params.gate)
    teachers = [(load_detector(params.detector_checkpoint), params.detector_name),
                (load_segmenter(params.segmenter_checkpoint), params.segmenter_name)]
    version = log_fusion_model(params)
    decision = promote(version, metrics, params.gate, params.report)
    detector, segmenter = (register_task_model(module, name) for module, name in teachers)
    return {
        "fusion": f"{version.name} v{version.version}",
        "promoted": decision.promote,
        "reason": decision.reason,
        "detector": f"{detector.name} v{detector.version}",
        "segmenter": f"{segmenter.name} v{segmenter.version}",
    }
