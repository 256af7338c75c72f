"""MLflow models-from-code entry point: the logged model is this file, not a cloudpickled object.

`mlflow.pyfunc.log_model(python_model=<this path>)` copies the file into the model; loading it runs the
import below, so the served class always comes from the installed tsjnet package.
"""

from mlflow.models import set_model

from tsjnet.registry.pyfunc import FusionPyfunc

set_model(FusionPyfunc())
