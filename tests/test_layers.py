"""The import layers of pyproject.toml [tool.importlinter] hold, and every part of tsjnet sits in one of them."""

import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _contract() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]["contracts"][0]


def test_no_import_breaks_the_layers() -> None:
    lint = Path(sys.executable).with_name("lint-imports")
    result = subprocess.run([str(lint), "--config", str(ROOT / "pyproject.toml")], cwd=ROOT,
                            capture_output=True, text=True, check=False)
    assert result.returncode == 0 and "0 broken" in result.stdout, result.stdout[-4000:]


def test_every_package_and_module_of_tsjnet_has_a_layer() -> None:
    layered = {name.strip() for layer in _contract()["layers"] for name in layer.split("|")}
    parts = {f"tsjnet.{path.stem}" for path in (ROOT / "tsjnet").glob("*.py") if path.stem != "__init__"}
    parts |= {f"tsjnet.{path.parent.name}" for path in (ROOT / "tsjnet").glob("*/__init__.py")}
    assert parts - layered == set(), "add these to a layer in pyproject.toml [tool.importlinter]"
    assert layered - parts == set(), "these layers name nothing in tsjnet/"
