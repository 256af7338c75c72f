"""`train.init_from`: a fusion run that starts from trained weights (the shipped real-data model) instead of noise."""

from pathlib import Path

import pytest
import torch

from tests.params import section
from tests.training.fusion_env import make_job, train_section, write_env
from tsjnet.colour import luminance
from tsjnet.errors import DataError
from tsjnet.models.registry import create_model
from tsjnet.registry.checkpoint import save_fusion_model
from tsjnet.training.distributed import World
from tsjnet.training.fusion_data import make_loader, open_splits
from tsjnet.training.joint import FusionJob, build_trainer, fusion_epoch, input_digest

CPU = World(0, 1, torch.device("cpu"))


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("init_env")
    write_env(root)
    return root


def _start_file(root: Path, name: str = "tsjnet_tiny", seed: int = 7) -> Path:
    torch.manual_seed(seed)
    return save_fusion_model(root / f"start_{name}_{seed}.pt", create_model(name), name)


def _job(root: Path, init_from: Path | None) -> FusionJob:
    return make_job(root, section("train", **train_section(root, w_det=0.0, w_seg=0.0,
                                                     init_from=str(init_from) if init_from else None)))


def test_run_starts_from_the_given_weights(env: Path) -> None:
    start = _start_file(env)
    expected = torch.load(start, weights_only=True)["state_dict"]
    model = build_trainer(_job(env, start), CPU, task_nets=False).model
    for key, value in model.state_dict().items():
        assert torch.equal(value, expected[key]), key


def test_without_init_from_the_seeded_random_init_differs(env: Path) -> None:
    start = torch.load(_start_file(env), weights_only=True)["state_dict"]
    model = build_trainer(_job(env, None), CPU, task_nets=False).model
    assert any(not torch.equal(value, start[key]) for key, value in model.state_dict().items())


def test_start_file_of_another_model_is_refused_naming_both(env: Path) -> None:
    other = _start_file(env, "seafusion")
    with pytest.raises(DataError, match=r"holds 'seafusion'.*trains 'tsjnet_tiny'"):
        build_trainer(_job(env, other), CPU, task_nets=False)


def test_missing_start_file_names_the_path(env: Path) -> None:
    with pytest.raises(DataError, match="nowhere.pt not found"):
        build_trainer(_job(env, env / "nowhere.pt"), CPU, task_nets=False)


def test_other_start_weights_invalidate_a_resumable_checkpoint(env: Path) -> None:
    digests = {input_digest(_job(env, _start_file(env, seed=seed))) for seed in (1, 2)}
    assert len(digests | {input_digest(_job(env, None))}) == 3


def _norm_stats(model: torch.nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.clone() for k, v in model.state_dict().items() if "running_" in k}


@pytest.mark.parametrize("freeze", [True, False])
def test_fine_tuning_keeps_the_start_models_norm_statistics_when_asked(env: Path, freeze: bool) -> None:
    start = _start_file(env)
    params = section("train", **train_section(env, w_det=0.0, w_seg=0.0, init_from=str(start), freeze_norm=freeze))
    trainer = build_trainer(make_job(env, params), CPU, task_nets=False)
    before = _norm_stats(trainer.model)
    train, _ = open_splits(env / "prepared")
    loader = make_loader(train, batch_size=2, crop=(64, 64), train=True, world=CPU, seed=0, with_boxes=False)
    fusion_epoch(trainer, loader, 0, {"fusion": 1.0, "det": 0.0, "seg": 0.0})
    after = _norm_stats(trainer.model)
    unchanged = all(torch.equal(before[k], after[k]) for k in before)
    assert unchanged == freeze
    assert any(not torch.equal(a, b) for a, b in zip(torch.load(start, weights_only=True)["state_dict"].values(),
                                                     trainer.model.state_dict().values()))  # the weights trained


def _fine_tune(env: Path, anchor: float) -> tuple[torch.nn.Module, torch.nn.Module]:
    """One fusion epoch from the tiny start model with the given anchor weight; (trained model, step module)."""
    start = _start_file(env)
    params = section("train", **train_section(env, w_det=0.0, w_seg=0.0, init_from=str(start), anchor=anchor,
                                              lr=0.01))
    trainer = build_trainer(make_job(env, params), CPU, task_nets=False)
    train, _ = open_splits(env / "prepared")
    loader = make_loader(train, batch_size=2, crop=(64, 64), train=True, world=CPU, seed=0, with_boxes=False)
    torch.manual_seed(0)
    terms = fusion_epoch(trainer, loader, 0, {"fusion": 1.0, "det": 0.0, "seg": 0.0})
    assert ("anchor" in terms) == (anchor > 0)
    return trainer.model, trainer.step_fn


def _drift(env: Path, model: torch.nn.Module) -> float:
    """Mean |fused - the start model's fused| over the val pairs."""
    start = build_trainer(_job(env, _start_file(env)), CPU, task_nets=False).model.eval()
    _, val = open_splits(env / "prepared")
    loader = make_loader(val, batch_size=2, crop=None, train=False, world=CPU, seed=0, with_boxes=False)
    model.eval()
    with torch.no_grad():
        return sum(float((model.fuse(b["ir"], luminance(b["vi"])) - start.fuse(b["ir"], luminance(b["vi"]))).abs().mean())
                   for b in loader)


def test_the_anchor_holds_the_output_near_the_start_models(env: Path) -> None:
    free, _ = _fine_tune(env, 0.0)
    anchored, step = _fine_tune(env, 100.0)
    assert not step.anchor.training and not any(p.requires_grad for p in step.anchor.parameters())
    assert _drift(env, anchored) < 0.5 * _drift(env, free)
