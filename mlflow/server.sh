#!/usr/bin/env bash
# Start the shared MLflow tracking server: a database backend store + an S3 artifact store, proxied.
#
# Everything comes from the environment, so no secret is ever on a command line (`ps`), in this file or
# in a log (see mlflow/README.md):
#   MLFLOW_BACKEND_STORE_URI      required, e.g. postgresql://mlflow@db:5432/mlflow (no password in it) or
#                                 sqlite:////srv/mlflow/mlflow.db
#   PGPASSWORD (or ~/.pgpass, PGPASSFILE), PGSSLMODE ...: read by libpq (psycopg2) only
#   MLFLOW_ARTIFACTS_DESTINATION  required, e.g. s3://tsjnet-mlflow/artifacts
#   MLFLOW_S3_ENDPOINT_URL        S3-compatible endpoint (MinIO, Ceph ...); unset for AWS S3
#   AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY (or AWS_PROFILE), AWS_DEFAULT_REGION: read by boto3 only
#   MLFLOW_HOST (127.0.0.1), MLFLOW_PORT (5000), MLFLOW_WORKERS (2), MLFLOW_ALLOWED_HOSTS (optional)
# Clients then need only MLFLOW_TRACKING_URI=http://HOST:PORT: artifacts travel through the server.
set -euo pipefail

: "${MLFLOW_BACKEND_STORE_URI:?set MLFLOW_BACKEND_STORE_URI (e.g. postgresql://mlflow@db/mlflow)}"
: "${MLFLOW_ARTIFACTS_DESTINATION:?set MLFLOW_ARTIFACTS_DESTINATION (e.g. s3://bucket/artifacts)}"
export MLFLOW_BACKEND_STORE_URI MLFLOW_ARTIFACTS_DESTINATION
export MLFLOW_ENABLE_TELEMETRY="${MLFLOW_ENABLE_TELEMETRY:-false}" DO_NOT_TRACK="${DO_NOT_TRACK:-1}"

args=(--serve-artifacts --host "${MLFLOW_HOST:-127.0.0.1}" --port "${MLFLOW_PORT:-5000}"
      --workers "${MLFLOW_WORKERS:-2}")
if [[ -n "${MLFLOW_ALLOWED_HOSTS:-}" ]]; then
  args+=(--allowed-hosts "$MLFLOW_ALLOWED_HOSTS")
fi
# The store URI and destination are read by `mlflow server` from the two variables above (click envvars).
exec mlflow server "${args[@]}"
