"""Per-method detection judges (evaluate.judges) on the tiny SynthScenes world (see conftest.py): one epoch each."""

from __future__ import annotations

import shutil
from itertools import combinations
from pathlib import Path

import pytest
import torch

from tsjnet.config import ParamsError, resolve_params
from tsjnet.config.data import ExtraDataset
from tsjnet.config.evaluate import EvaluateParams
from tsjnet.data import open_dataset
from tsjnet.data.paired import PairDataset
from tsjnet.data.types import PairRecord
from tsjnet.errors import DataError
from tsjnet.evaluation import judges as judges_module
from tsjnet.evaluation.judges import (JUDGE_TRAIN_DIR, SHARED_KEY, build_judges, evenly_spaced, judge_checkpoint,
                                      judge_key, plan_judges)
from tsjnet.evaluation.methods import Method, load_method
from tsjnet.evaluation.run import EvaluationData, EvaluationResult, run_evaluation
from tsjnet.models.registry import create_model
from tsjnet.tasks.detector import detector_checkpoint, load_detector
from tsjnet.checkpoints import load_checkpoint
from tsjnet.tasks.scoring import SOURCES, cross_judged

from tests.tiny_setup import RULES, TRAINED, TinySetup
from tests.params import conf_values, section

METHODS = ["tsjnet", *RULES]  # the primary and the rules: a judge per method is what is tested, not their number
CPU = torch.device("cpu")
PER_METHOD = {"mode": "per_method", "epochs": 1}


def _same(a: dict[str, torch.Tensor], b: dict[str, torch.Tensor]) -> bool:
    return a.keys() == b.keys() and all(torch.equal(a[key], b[key]) for key in a)


def _base(tiny: TinySetup) -> torch.nn.Module:
    return load_detector(detector_checkpoint(tiny.detector, tiny.detector.fusion_detector))


@pytest.fixture(scope="module")
def judged(tiny: TinySetup, tmp_path_factory: pytest.TempPathFactory) -> tuple[EvaluateParams, EvaluationResult]:
    params = tiny.params(tmp_path_factory.mktemp("judged"), judges=PER_METHOD)
    params = params.model_copy(update={"methods": [params.method(name) for name in METHODS], "ablation": None})
    return params, run_evaluation(params, EvaluationData(tiny.data_root, "SynthScenes"), tiny.detector,
                                  tiny.segmenter)


def _copied(params: EvaluateParams, tmp_path: Path, **update: object) -> EvaluateParams:
    """`params` with the judges' checkpoints copied to `tmp_path` (tests that write there leave the run's alone)."""
    shutil.copytree(params.judges.checkpoint_dir, tmp_path / "judges")
    judges = params.judges.model_copy(update={"checkpoint_dir": str(tmp_path / "judges"), **update})
    return params.model_copy(update={"judges": judges, "fused_dir": str(tmp_path / "fused")})


def test_each_method_is_scored_by_its_own_judge(judged: tuple[EvaluateParams, EvaluationResult]) -> None:
    _, result = judged
    assert {name: scores["detector"] for name, scores in result.task.items()} == {
        "infrared": "infrared", "visible": "visible", **{method: judge_key(method) for method in METHODS},
        **{cross_judged(source, judge_key("tsjnet")): judge_key("tsjnet") for source in SOURCES}}


def test_judges_start_alike_and_learn_apart(tiny: TinySetup, judged: tuple[EvaluateParams, EvaluationResult]) -> None:
    params, _ = judged
    states = {m: load_checkpoint(judge_checkpoint(params.judges, m), required=("model", "epoch")) for m in METHODS}
    assert {state["epoch"] for state in states.values()} == {1}
    for key in ("init_from", "seed", "train_pairs", "train_digest"):  # same start, seed and training pairs
        assert all(state[key] == states["tsjnet"][key] for state in states.values()), key
    train = open_dataset("msrs", tiny.data_root, "train")
    assert states["tsjnet"]["train_pairs"] == [record.name for record in train.records]
    base = _base(tiny).state_dict()
    weights = {m: load_detector(judge_checkpoint(params.judges, m)).state_dict() for m in METHODS}
    assert not any(_same(w, base) for w in weights.values())
    assert not any(_same(weights[a], weights[b]) for a, b in combinations(METHODS, 2))


def test_judges_train_on_their_methods_fusions_of_the_train_split(
        tiny: TinySetup, judged: tuple[EvaluateParams, EvaluationResult]) -> None:
    params, _ = judged
    names = sorted(record.name for record in open_dataset("msrs", tiny.data_root, "train").records)
    for method in METHODS:
        assert sorted(p.stem for p in (Path(params.fused_dir) / JUDGE_TRAIN_DIR / method).glob("*.png")) == names


def test_report_names_the_per_method_protocol(tiny: TinySetup, judged: tuple[EvaluateParams, EvaluationResult]) -> None:
    params, _ = judged
    text = Path(params.report).read_text()
    start = detector_checkpoint(tiny.detector, tiny.detector.fusion_detector)
    assert (f"each method's fused images go through their own judge (evaluate.judges.mode: per_method, SeAFusion's "
            f"task-driven protocol): a copy of the `blend` detector ({start}, trained on `infrared` and `blend` "
            "images: detector.train_mix)") in text
    assert "(training pairs: 2, epochs: 1, lr: 0.0005, seed: 0)" in text
    assert "fused: tsjnet: judge_tsjnet" in text


def test_same_method_same_judge(tiny: TinySetup, judged: tuple[EvaluateParams, EvaluationResult],
                                tmp_path: Path) -> None:
    """Training is seeded: a judge trained again from scratch gets the very same weights (the comparison is fair)."""
    params, _ = judged
    fresh = params.judges.model_copy(update={"checkpoint_dir": str(tmp_path / "judges")})
    setup = plan_judges(fresh, tiny.detector, tiny.data_root, tmp_path / "fused")
    judges = build_judges(setup, [load_method(params.method("average"), CPU)], _base(tiny), CPU)
    trained = load_detector(judge_checkpoint(params.judges, "average")).state_dict()
    assert _same(judges.detectors[judge_key("average")].state_dict(), trained)


def test_finished_judge_is_loaded_without_fusing_or_training(
        tiny: TinySetup, judged: tuple[EvaluateParams, EvaluationResult], monkeypatch: pytest.MonkeyPatch,
        tmp_path: Path) -> None:
    params = _copied(judged[0], tmp_path)

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("a finished judge was fused or trained again")

    monkeypatch.setattr(judges_module, "fit", refuse)
    monkeypatch.setattr(judges_module, "fuse_split", refuse)
    setup = plan_judges(params.judges, tiny.detector, tiny.data_root, params.fused_dir)
    judges = build_judges(setup, [load_method(params.method("max"), CPU)], _base(tiny), CPU)
    assert _same(judges.detectors[judge_key("max")].state_dict(),
                 load_detector(judge_checkpoint(params.judges, "max")).state_dict())


def test_judge_is_retrained_when_its_method_changes(
        tiny: TinySetup, judged: tuple[EvaluateParams, EvaluationResult], monkeypatch: pytest.MonkeyPatch,
        tmp_path: Path) -> None:
    params = _copied(judged[0], tmp_path)
    trained: list[str] = []
    monkeypatch.setattr(judges_module, "fit", lambda spec, **kwargs: trained.append(spec.name))
    setup = plan_judges(params.judges, tiny.detector, tiny.data_root, params.fused_dir)
    build_judges(setup, [Method("max", create_model("classical_average"))], _base(tiny), CPU)
    assert trained == [judge_key("max")]


def test_killed_run_resumes_from_the_judges_checkpoint(
        tiny: TinySetup, judged: tuple[EvaluateParams, EvaluationResult], tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    params = _copied(judged[0], tmp_path, epochs=2)  # the run stopped after epoch 1 of 2
    setup = plan_judges(params.judges, tiny.detector, tiny.data_root, params.fused_dir)
    build_judges(setup, [load_method(params.method("laplacian"), CPU)], _base(tiny), CPU)
    printed = capsys.readouterr().err
    assert "judge_laplacian: resuming from" in printed and "epoch 1/2" not in printed
    assert load_checkpoint(judge_checkpoint(params.judges, "laplacian"))["epoch"] == 2


def test_shared_mode_judges_every_method_with_the_fusion_detector(tiny: TinySetup, tmp_path: Path) -> None:
    params = tiny.params(tmp_path)
    assert params.judges.mode == "shared"  # the committed default
    setup = plan_judges(params.judges, tiny.detector, tmp_path / "no data", params.fused_dir)  # reads no pairs
    methods = [load_method(spec, CPU) for spec in params.methods]
    judges = build_judges(setup, methods, _base(tiny), CPU)
    assert judges.keys == {method: SHARED_KEY for method in [*TRAINED, *RULES]} and judges.detectors == {}
    assert judges.protocol.startswith("every method's fused images go through one shared detector, the `blend` "
                                      "detector")
    assert not (tmp_path / "judges").exists() and not (Path(params.fused_dir) / JUDGE_TRAIN_DIR).exists()


def test_subset_of_training_pairs_is_evenly_spaced() -> None:
    records = [PairRecord(name=f"{i:02d}", split="train", ir_path=Path("ir.png"), vi_path=Path("vi.png"))
               for i in range(10)]
    pairs = PairDataset(".", records)
    assert [r.name for r in evenly_spaced(pairs, 3).records] == ["00", "03", "06"]
    assert evenly_spaced(pairs, None) is pairs and evenly_spaced(pairs, 12) is pairs


def test_bad_judges_settings_name_the_key() -> None:
    with pytest.raises(ParamsError, match=r"evaluate\.judges\.mode: Input should be 'shared' or 'per_method'"):
        section("evaluate", judges={"mode": "sometimes"})
    values = conf_values()
    del values["evaluate"]["judges"]["epochs"]  # no default in code: conf/config.yaml is the only source
    with pytest.raises(ParamsError, match=r"evaluate\.judges\.epochs: Field required"):
        resolve_params(values, source="test")


def test_extra_dataset_named_like_the_judges_folder_is_refused(tiny: TinySetup, tmp_path: Path) -> None:
    split = str(tiny.data_root / "test")
    extra = [ExtraDataset(name=JUDGE_TRAIN_DIR, ir=f"{split}/ir", vi=f"{split}/vi")]
    with pytest.raises(DataError, match=r"data.extra_datasets names \['judge_train'\]"):
        run_evaluation(tiny.params(tmp_path), EvaluationData(tiny.data_root, "SynthScenes", extra), tiny.detector,
                       tiny.segmenter)


def test_side_evaluation_keeps_its_judges_apart(tmp_path: Path) -> None:
    """The champion check (`under`) judges another model under the same method name: its judges must not
    overwrite (or be resumed from) the stage's."""
    params = section("evaluate", judges=PER_METHOD)
    assert params.under(tmp_path).judges.checkpoint_dir == str(tmp_path / "judges")
    assert params.under(tmp_path).judges.epochs == 1
