"""Params for MLflow tracking: a local sqlite store by default, nothing to start."""

from tsjnet.config.base import Section


class MlflowParams(Section):
    """`mlflow:` section. Override with MLFLOW_TRACKING_URI to use a shared server."""

    tracking_uri: str = "sqlite:///mlflow.db"
    artifact_location: str = "mlartifacts"
    experiment: str = "tsjnet"
