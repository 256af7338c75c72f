"""Params for MLflow tracking: a local sqlite store in the committed config, nothing to start."""

from tsjnet.config.base import Section


class MlflowParams(Section):
    """`mlflow:` section. Override with MLFLOW_TRACKING_URI to use a shared server."""

    tracking_uri: str
    artifact_location: str
    experiment: str
