"""MLflow model registry: fusion checkpoints, the serving pyfunc, registration with a promotion gate, batch fusion."""
