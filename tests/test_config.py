"""params.yaml is read through one typed config: bad keys, types and values fail with the key named."""

import re
from pathlib import Path

import pytest
import yaml

from tsjnet.config import ParamsError, load_params, parse_override, resolve_params

ROOT = Path(__file__).resolve().parents[1]


def test_project_params_yaml_is_valid() -> None:
    params = load_params(ROOT / "params.yaml")
    assert params.profile == "cpu"
    assert params.data.source == "synth"


def test_every_dvc_yaml_interpolation_names_a_params_yaml_key() -> None:
    """DVC refuses to parse the whole pipeline when one ${section.key} is missing from params.yaml."""
    raw = yaml.safe_load((ROOT / "params.yaml").read_text())
    references = re.findall(r"\$\{([A-Za-z_][\w.]*)\}", (ROOT / "dvc.yaml").read_text())
    assert references

    def resolves(reference: str) -> bool:
        node = raw
        for part in reference.split("."):
            if not isinstance(node, dict) or part not in node:
                return False
            node = node[part]
        return True

    assert [reference for reference in references if not resolves(reference)] == []


def test_paper_profile_resolves() -> None:
    params = load_params(ROOT / "params.yaml", ["profile=paper"])
    assert (params.profile, params.train.model, params.train.epochs) == ("paper", "tsjnet_paper", 40)


def test_unknown_key_is_named() -> None:
    with pytest.raises(ParamsError, match=r"data\.sourse"):
        resolve_params({"data": {"sourse": "synth"}})


def test_wrong_type_is_named() -> None:
    with pytest.raises(ParamsError, match=r"data\.synth\.n_train"):
        resolve_params({"data": {"synth": {"n_train": "many"}}})


def test_impossible_value_is_named() -> None:
    with pytest.raises(ParamsError, match=r"data\.synth\.height"):
        resolve_params({"data": {"synth": {"height": 100}}})  # not a multiple of 32


@pytest.mark.parametrize("init_from", [{"blend": "visible"}, {"infrared": "blend"}])
def test_detector_init_from_needs_an_earlier_trained_modality(init_from: dict[str, str]) -> None:
    detector = {"modalities": ["infrared", "blend"], "fusion_detector": "blend", "init_from": init_from}
    with pytest.raises(ParamsError, match="detector.init_from"):
        resolve_params({"detector": detector})


def test_real_source_needs_root() -> None:
    with pytest.raises(ParamsError, match="data.root is required"):
        resolve_params({"data": {"source": "msrs"}})


def test_unknown_profile_names_the_ones_there_are() -> None:
    with pytest.raises(ParamsError, match=r"(?s)profile/gpu.*Profiles: \['cpu', 'paper'\]"):
        load_params(ROOT / "params.yaml", ["profile=gpu"])


def test_override_parsing_and_precedence() -> None:
    assert parse_override("data.synth.n_train=8") == {"data": {"synth": {"n_train": 8}}}
    params = resolve_params({}, overrides=["data.synth.n_train=8"])
    assert params.data.synth.n_train == 8
    with pytest.raises(ParamsError, match="key.sub=value"):
        parse_override("data.synth.n_train")


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ParamsError, match="not found"):
        load_params(tmp_path / "params.yaml")
