"""`tsjnet` command line: one Typer app; each area contributes its commands from its own module."""

from __future__ import annotations

import shlex
import sys

import typer

from tsjnet.bench.sections import BenchSection
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
    profile: str = typer.Option(None, "--profile", help="conf/profile/NAME.yaml (default: cpu)"),
    override: list[str] = typer.Option([], "--set", "-S", help="key.sub=value (Hydra syntax, as dvc exp run -S)"),
) -> None:
    """Render params.yaml from conf/ (profile, overrides), then `dvc repro` inside one MLflow parent run."""
    from tsjnet.pipeline import repro as run_repro

    run_repro(params_path, targets or [], force, [*override, *([f"profile={profile}"] if profile else [])])


@app.command()
def ship(
    params_path: str = typer.Option("params.yaml", "--params"),
    device: str = typer.Option("auto", "--device", help="auto (CUDA when available), cpu, cuda, cuda:1 ..."),
) -> None:
    """Make the model of a real-data run (`tsjnet repro --profile msrs`) the shipped one: copy, score, write its card."""
    from tsjnet.config import load_params
    from tsjnet.registry.checkpoint import resolve_device
    from tsjnet.shipped import ship as run_ship

    settings = load_params(params_path)
    card = run_ship(settings, resolve_device(device))
    typer.echo(f"{card['file']} written; model card: {settings.shipped.card}")


@app.command()
def spread(
    run_a: str = typer.Argument(..., help="checkout of run A (its metrics/ folder is read)"),
    run_b: str = typer.Argument(..., help="checkout of run B"),
    out: str = typer.Option("reports/seed_spread.md", "--out", help="Markdown report"),
    label_a: str = typer.Option("", "--label-a", help="what run A is (default: its path)"),
    label_b: str = typer.Option("", "--label-b", help="what run B is (default: its path)"),
) -> None:
    """How much two pipeline runs (two seeds, two machines) differ, metric by metric."""
    from pathlib import Path

    from tsjnet.bench.spread import spread as measure
    from tsjnet.bench.spread import spread_markdown

    text = spread_markdown(measure(Path(run_a), Path(run_b)), label_a or run_a, label_b or run_b)
    Path(out).parent.mkdir(parents=True, exist_ok=True)
    Path(out).write_text(text)
    typer.echo(text.split("\n## ")[0])


@app.command()
def research(
    params_path: str = typer.Option("params.yaml", "--params"),
    override: list[str] = typer.Option([], "--set", "-S", help="key.sub=value, e.g. research.seeds=[0]"),
    device: str = typer.Option("auto", "--device", help="auto (CUDA when available), cpu, cuda, cuda:1 ..."),
    report_only: bool = typer.Option(False, "--report-only",
                                     help="re-render research.report and its plot from research.metrics; no training"),
) -> None:
    """Answer the paper's research questions: train every ablation per seed, score, write research.report."""
    from pathlib import Path

    from tsjnet.config import load_params
    from tsjnet.reports import ResearchReport
    from tsjnet.research.report import write_markdown
    from tsjnet.research.run import run_research

    settings = load_params(params_path, override)
    if report_only:
        report = ResearchReport.read(settings.research.metrics)
        write_markdown(report, Path(settings.research.report))
    else:
        report = run_research(settings, device, shlex.join(["tsjnet", *sys.argv[1:]]))
    typer.echo(f"{settings.research.report} and {settings.research.metrics} written "
               f"({len(report.comparisons)} comparisons, {report.seconds / 60:.1f} min)")


# Adam steps per network in `tsjnet bench`'s quality section (10 passes over the 40 dev_train pairs): measured at
# ~0.8-0.9 s per step and network on one free core, so the section takes about 4-6 minutes on 2 idle cores.
QUALITY_STEPS = 200


@app.command()
def bench(
    out: str = typer.Option("reports", "--out", help="folder for bench.json and bench.md"),
    repeats: int = typer.Option(5, "--repeats", min=1, help="timed runs per measurement (median reported)"),
    size: str = typer.Option("480x640", "--size", help="fused-pair size HEIGHTxWIDTH"),
    natten_cpu: bool = typer.Option(False, "--natten-cpu", help="also time natten's CPU forward (minutes)"),
    pipeline: bool = typer.Option(False, "--pipeline", help="also time the full pipeline and a no-op dvc repro"),
    params_path: str = typer.Option("params.yaml", "--params"),
    quality: bool = typer.Option(True, "--quality/--no-quality",
                                 help="train lite and SeAFusion with one budget on ivf-dev, compare fusion metrics"),
    ivf_dev: str = typer.Option("../shared/data/ivf-dev", "--ivf-dev", envvar="TSJNET_IVF_DEV",
                                help="the ivf-dev folder (its MSRS/ pairs and splits; default: from the project root)"),
    quality_steps: int = typer.Option(QUALITY_STEPS, "--quality-steps", min=1,
                                      help="Adam steps per network for --quality (same crops for both)"),
    real_pairs: bool = typer.Option(True, "--real-pairs/--no-real-pairs",
                                    help="score the shipped and the pipeline's model on real pairs (params shipped:)"),
    serving: bool = typer.Option(True, "--serving/--no-serving",
                                 help="load-test mlflow models serve of register.checkpoint on 127.0.0.1"),
    serving_requests: int = typer.Option(200, "--serving-requests", min=1, help="requests in the serving load run"),
    serving_clients: int = typer.Option(4, "--serving-clients", min=1, help="concurrent clients in that run"),
    only: list[BenchSection] = typer.Option([], "--only", help="re-measure just this section of the report in --out "
                                            "(repeatable); the others stay as they are"),
) -> None:
    """Measure fusion latency, attention, a training step, metrics, quality (lite vs SeAFusion), serving, pipeline."""
    from pathlib import Path

    from tsjnet.bench.report import markdown
    from tsjnet.bench.run import run_benchmarks
    from tsjnet.models.info import parse_size

    sections = [section.value for section in only]
    if sections:  # each named section on, every other off
        quality, real_pairs, serving, pipeline = (name in sections for name in (
            BenchSection.fusion_quality_ivf_dev, BenchSection.real_pairs, BenchSection.serving, BenchSection.pipeline))
    results = run_benchmarks(Path(out), repeats, *parse_size(size), natten_cpu, pipeline, params_path,
                             (Path(ivf_dev) / "MSRS", quality_steps) if quality else None, real_pairs=real_pairs,
                             serving=(serving_requests, serving_clients, Path(ivf_dev) / "MSRS") if serving else None,
                             only=sections)
    typer.echo(markdown(results))


def _register_commands() -> None:
    """Each area owns its command functions; the app only names them."""
    from tsjnet.data.remote import remote
    from tsjnet.registry.cli import export
    from tsjnet.metrics.cli import evaluate
    from tsjnet.models.info import info
    from tsjnet.registry.cli import fuse

    app.command("evaluate")(evaluate)
    app.command("remote")(remote)
    app.command("fuse")(fuse)
    app.command("export")(export)
    app.command("info")(info)


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
