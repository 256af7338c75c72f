"""Lineage: dvc.yaml deps cover every module a stage imports, and the committed outputs are the code's.

A stage whose deps miss a module it imports lets DVC report stale outputs as current after that module changes;
a committed dvc.lock whose code or params deps no longer match the tree means the committed results are not the
code's. Both checks read the repository as committed (no pipeline run).
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[1]
PACKAGE = "tsjnet"


def module_file(dotted: str) -> Path | None:
    """The source file of module or package `dotted`, if it is part of this repository."""
    base = REPO.joinpath(*dotted.split("."))
    return next((path for path in (base.with_suffix(".py"), base / "__init__.py") if path.is_file()), None)


def imported_names(path: Path) -> set[str]:
    """Every module name `path` may import, function-level (lazy) imports included; ``from a import b`` also
    yields ``a.b``, which is a module when b is one (else it resolves to nothing)."""
    package = ".".join(path.relative_to(REPO).parent.parts)  # what a relative import is relative to
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*parent, *([node.module] if node.module else [])])
            names |= {base, *(f"{base}.{alias.name}" for alias in node.names)}
    return names


def import_closure(entry: Path) -> set[Path]:
    """The repository files loaded when `entry` runs: its imports, theirs, and every package __init__ on the way."""
    seen: set[Path] = set()
    pending = [entry]
    while pending:
        path = pending.pop()
        if path in seen:
            continue
        seen.add(path)
        for name in imported_names(path):
            parts = name.split(".")
            if parts[0] != PACKAGE:
                continue
            pending += [found for i in range(1, len(parts) + 1) if (found := module_file(".".join(parts[:i])))]
    return seen


def stages() -> dict[str, dict]:
    return yaml.safe_load((REPO / "dvc.yaml").read_text())["stages"]


@pytest.mark.parametrize("stage", sorted(stages()))
def test_deps_cover_the_stage_import_closure(stage: str) -> None:
    spec = stages()[stage]
    entry = REPO / spec["cmd"].split()[1]
    deps = [dep.rstrip("/") for dep in spec["deps"] if "${" not in dep]
    assert str(entry.relative_to(REPO)) in deps, f"{stage}: its script {entry.name} is not a dep"
    uncovered = sorted(
        rel for rel in (str(path.relative_to(REPO)) for path in import_closure(entry))
        if not any(rel == dep or rel.startswith(dep + "/") for dep in deps))
    assert not uncovered, (f"dvc.yaml stage {stage!r} imports modules its deps do not list: {uncovered}; add them "
                           "(or the folder holding them) to its deps")


def test_closure_follows_package_inits_and_lazy_imports() -> None:
    closure = {str(path.relative_to(REPO)) for path in import_closure(REPO / "stages" / "train.py")}
    assert {"tsjnet/__init__.py", "tsjnet/config/__init__.py", "tsjnet/training/joint.py",
            "tsjnet/models/tsjnet.py", "tsjnet/registry/pyfunc.py"} <= closure  # pyfunc: imported inside a function


def stale_stages(status: dict) -> list[str]:
    """Stages whose code or params deps changed since dvc.lock was written (missing outputs alone are fine)."""
    def modified(node: object) -> bool:
        if isinstance(node, dict):
            return any(value == "modified" or modified(value) for value in node.values())
        return isinstance(node, list) and any(modified(value) for value in node)

    return sorted(stage for stage, entries in status.items()
                  if any(isinstance(entry, dict) and (modified(entry.get("changed deps", {}))
                                                      or entry.get("changed params")) for entry in entries))


def test_stale_stages_reads_dvc_status_entries() -> None:
    status = {"train": [{"changed deps": {"tsjnet/training": "modified"}}],
              "evaluate": [{"changed outs": {"data/fused": "deleted"}}],
              "register": [{"changed deps": {"params.yaml": {"register.gate": "modified"}}}]}
    assert stale_stages(status) == ["register", "train"]


def test_committed_pipeline_outputs_are_those_of_the_committed_code() -> None:
    result = subprocess.run([sys.executable, "-m", "dvc", "status", "--json"], cwd=REPO, capture_output=True,
                            text=True, check=True, timeout=300)
    stale = stale_stages(json.loads(result.stdout or "{}"))
    assert not stale, (f"dvc status: the code or params of {stale} changed since dvc.lock was written; re-run the "
                       "pipeline (make run) and commit dvc.lock with its outputs")
