"""Shared entry point of the DVC stage scripts in stages/: one `--params` option, errors without tracebacks.

A stage that fails on bad data must say which file and how to fix it; a Python traceback would bury that
message under frames that mean nothing to the user, so known errors print as one message and exit 1.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from typing import NoReturn

from tsjnet.config import ParamsError
from tsjnet.errors import TsjnetError


def run_stage(main: Callable[[str], None], description: str) -> NoReturn:
    """Parse ``--params PATH`` (default params.yaml), run `main(path)`, exit 0, or 1 with the error message."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--params", default="params.yaml", help="params file (default: params.yaml)")
    args = parser.parse_args()
    try:
        main(args.params)
    except (TsjnetError, ParamsError) as error:
        print(f"error: {error}", file=sys.stderr)
        sys.exit(1)
    sys.exit(0)
