"""`tsjnet` command line: one Typer app; each area contributes its commands from its own module."""

from __future__ import annotations

import sys

import typer

from tsjnet.config import ParamsError
from tsjnet.errors import TsjnetError

app = typer.Typer(no_args_is_help=True, add_completion=False, help="TSJNet IR/VIS fusion: data, models, evaluation.")


@app.callback()
def _root() -> None:
    """TSJNet IR/VIS fusion: data, models, training, evaluation, registry."""


@app.command()
def params(path: str = "params.yaml", override: list[str] = typer.Option([], "--set", "-S", help="key.sub=value")) -> None:
    """Validate params.yaml (with overrides) and print the resolved configuration as JSON."""
    from tsjnet.config import load_params

    typer.echo(load_params(path, override).model_dump_json(indent=2, by_alias=True))


@app.command()
def repro(
    targets: list[str] = typer.Argument(None, help="stages to reproduce (default: the whole pipeline)"),
    params_path: str = typer.Option("params.yaml", "--params"),
    force: bool = typer.Option(False, "--force", help="re-run stages even when up to date"),
) -> None:
    """Run `dvc repro` inside one MLflow parent run (each stage nests under it)."""
    from tsjnet.pipeline import repro as run_repro

    run_repro(params_path, targets or [], force)


def _register_commands() -> None:
    """Each area owns its command functions; the app only names them."""
    from tsjnet.data.remote import remote
    from tsjnet.metrics.cli import evaluate
    from tsjnet.registry.cli import fuse

    app.command("evaluate")(evaluate)
    app.command("remote")(remote)
    app.command("fuse")(fuse)


_register_commands()


def main() -> None:
    """Entry point that turns known errors into one clear message instead of a traceback."""
    try:
        app(standalone_mode=False)
    except (TsjnetError, ParamsError) as error:
        typer.secho(f"error: {error}", fg="red", err=True)
        sys.exit(2)


if __name__ == "__main__":
    main()
