"""params.yaml is read through one typed config: bad keys, types and values fail with the key named, and
conf/config.yaml is the only source of every value (no code default for a key it sets)."""

import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import BaseModel

from tests.params import conf_values, fields_by_key, item_type, make_params, section, section_type
from tsjnet.config import Params, ParamsError, load_params, parse_override, resolve_params
from tsjnet.config.base import Section
from tsjnet.config.compose import compose, profiles

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
        make_params({"data": {"sourse": "synth"}})


def test_wrong_type_is_named() -> None:
    with pytest.raises(ParamsError, match=r"data\.synth\.n_train"):
        make_params({"data": {"synth": {"n_train": "many"}}})


def test_impossible_value_is_named() -> None:
    with pytest.raises(ParamsError, match=r"data\.synth\.height"):
        make_params({"data": {"synth": {"height": 100}}})  # not a multiple of 32


@pytest.mark.parametrize("init_from", [{"blend": "visible"}, {"infrared": "blend"}])
def test_detector_init_from_needs_an_earlier_trained_modality(init_from: dict[str, str]) -> None:
    detector = {"modalities": ["infrared", "blend"], "fusion_detector": "blend", "init_from": init_from}
    with pytest.raises(ParamsError, match="detector.init_from"):
        make_params({"detector": detector})


@pytest.mark.parametrize("train_mix", [{"visible": ["visible", "blend"]}, {"blend": []}])
def test_detector_train_mix_needs_a_trained_modality_and_a_kind(train_mix: dict[str, list[str]]) -> None:
    detector = {"modalities": ["infrared", "blend"], "fusion_detector": "blend", "train_mix": train_mix}
    with pytest.raises(ParamsError, match="detector.train_mix"):
        make_params({"detector": detector})


@pytest.mark.parametrize("section", ["train", "train_baseline"])
def test_anneal_epochs_cannot_exceed_epochs(section: str) -> None:
    with pytest.raises(ParamsError, match=rf"(?s){section}.*anneal_epochs \(3\) exceeds epochs \(2\)"):
        make_params({section: {"epochs": 2, "task_warmup_epochs": 1, "anneal_epochs": 3}})


def test_blend_levels_need_the_blend_decoder() -> None:
    with pytest.raises(ParamsError, match=r"(?s)train.*blend_levels \(4\) needs the blend decoder"):
        make_params({"train": {"blend_residual": None, "blend_levels": 4}})


def test_real_source_needs_root() -> None:
    with pytest.raises(ParamsError, match="data.root is required"):
        make_params({"data": {"source": "msrs", "root": None}})


def test_unknown_profile_names_the_ones_there_are() -> None:
    assert {"cpu", "paper"} <= set(profiles(ROOT / "conf"))
    with pytest.raises(ParamsError, match=rf"(?s)profile/gpu.*Profiles: {re.escape(str(profiles(ROOT / 'conf')))}"):
        load_params(ROOT / "params.yaml", ["profile=gpu"])


def test_override_parsing_and_precedence() -> None:
    assert parse_override("data.synth.n_train=8") == {"data": {"synth": {"n_train": 8}}}
    params = resolve_params(conf_values(), overrides=["data.synth.n_train=8"])
    assert params.data.synth.n_train == 8
    with pytest.raises(ParamsError, match="key.sub=value"):
        parse_override("data.synth.n_train")


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ParamsError, match="not found"):
        load_params(tmp_path / "params.yaml")


def drift(model: type[BaseModel], values: dict[str, Any], where: str = "", entry: bool = False) -> list[str]:
    """Every disagreement between the composed conf `values` and `model`'s fields, naming the key: a key no field
    reads, a code default for a key the yaml sets, a required field the yaml lacks. Entries of a list (e.g.
    evaluate.methods) may leave out their optional fields, so their defaults are not drift."""
    fields = fields_by_key(model)
    problems = [f"{where}{key}: set in conf/config.yaml, but no field of {model.__name__} reads it"
                for key in values.keys() - fields.keys()]
    for key, field in fields.items():
        name = f"{where}{key}"
        if key not in values:
            if field.is_required():
                problems.append(f"{name}: required by {model.__name__}, but conf/config.yaml lacks it")
            continue
        if not entry and not field.is_required():
            problems.append(f"{name}: conf/config.yaml sets it, so {model.__name__} must not default it "
                            f"(code default {field.get_default(call_default_factory=True)!r})")
        value, sub, item = values[key], section_type(field.annotation), item_type(field.annotation)
        if sub is not None and isinstance(value, dict):
            problems += drift(sub, value, f"{name}.", entry)
        elif item is not None and isinstance(value, list):
            for index, element in enumerate(value):
                problems += drift(item, element, f"{name}[{index}].", entry=True)
    return sorted(problems)


@pytest.mark.parametrize("profile", profiles(ROOT / "conf"))
def test_conf_is_the_one_source_of_every_value(profile: str) -> None:
    assert drift(Params, compose(ROOT / "conf", [f"profile={profile}"])) == []


def test_drift_names_a_code_default_a_key_no_field_reads_and_a_missing_key() -> None:
    class Inner(Section):
        kept: int
        defaulted: int = 3

    class Outer(Section):
        inner: Inner | None
        needed: str
        rows: list[Inner]

    values = {"inner": {"kept": 1, "defaulted": 2, "stray": 0}, "rows": [{"kept": 1}, {"defaulted": 1}]}
    assert drift(Outer, values) == [
        "inner.defaulted: conf/config.yaml sets it, so Inner must not default it (code default 3)",
        "inner.stray: set in conf/config.yaml, but no field of Inner reads it",
        "needed: required by Outer, but conf/config.yaml lacks it",
        "rows[1].kept: required by Inner, but conf/config.yaml lacks it"]


@pytest.mark.parametrize("path", ["train.w_det", "segmenter.epochs", "register.gate", "register", "shipped",
                                  "profile"])
def test_a_deleted_yaml_key_fails_at_start_up_naming_it(path: str) -> None:
    values = conf_values()
    *parents, last = path.split(".")
    node = values
    for key in parents:
        node = node[key]
    del node[last]
    with pytest.raises(ParamsError, match=rf"{re.escape(path)}: Field required"):
        resolve_params(values)


def test_test_overrides_merge_sections_and_replace_mappings() -> None:
    gate = section("register.gate", metrics={"ssim": "max"})
    assert gate.metrics == {"ssim": "max"} and gate.min_delta == conf_values()["register"]["gate"]["min_delta"]


def test_msrs_profile_is_the_real_run_the_issue_asks_for() -> None:
    """Train on ivf-train, validate on ivf-dev dev_val, test on dev_train; both task losses on; same steps for
    the SeAFusion-style baseline; trained from scratch here."""
    params = load_params(ROOT / "params.yaml", ["profile=msrs"])
    splits = {split: (source.root, source.names) for split, source in params.data.splits.items()}
    assert splits == {"train": ("../shared/data/ivf-train/MSRS", "splits/train.txt"),
                      "val": ("../shared/data/ivf-dev/MSRS", "splits/dev_val.txt"),
                      "test": ("../shared/data/ivf-dev/MSRS", "splits/dev_train.txt")}
    assert params.data.source == "msrs" and params.data.root is None
    assert params.train.w_det > 0 and params.train.w_seg > 0 and params.train.init_from is None
    baseline, train = params.train_baseline, params.train
    assert (baseline.epochs, baseline.batch_size, baseline.crop) == (train.epochs, train.batch_size, train.crop)
