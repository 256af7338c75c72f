import json
import math
from pathlib import Path

import pytest
import torch

from tests.params import section
from tests.training.fusion_env import make_job, run_section, train_section, write_env
from tsjnet.models.classical import classical_laplacian
from tsjnet.registry.checkpoint import load_fusion_model, read_checkpoint
from tsjnet.checkpoints import load_checkpoint
from tsjnet.training.distributed import World
from tsjnet.training.fusion_data import make_loader, open_splits
from tsjnet.training.joint import Trainer, batch_terms, build_trainer, train_fusion

CPU = World(0, 1, torch.device("cpu"))
ALL_ON = {"fusion": 1.0, "det": 1.0, "seg": 1.0}
MFF_TERMS = {"diversity", "ssim", "recon_vi", "recon_ir", "intensity", "texture", "weighted_ssim"}


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("fusion_env")
    write_env(root)
    return root


def _batch(root: Path) -> dict:
    torch.manual_seed(0)
    train, _ = open_splits(root / "prepared")
    return next(iter(make_loader(train, batch_size=2, crop=(64, 64), train=True, world=CPU, seed=0)))


class RecordingLog:
    def __init__(self) -> None:
        self.logged: list[tuple[dict[str, float], int]] = []
        self.grids: list[torch.Tensor] = []

    def metrics(self, values: dict[str, float], step: int) -> None:
        self.logged.append((values, step))

    def images(self, grid: torch.Tensor, step: int) -> None:
        self.grids.append(grid)


@pytest.fixture(scope="module")
def trainer(env: Path) -> Trainer:
    return build_trainer(make_job(env), CPU)


def test_every_loss_term_is_present_and_finite(env: Path, trainer: Trainer) -> None:
    terms = batch_terms(trainer, _batch(env), ALL_ON)
    expected = MFF_TERMS | {"fusion", "det_infrared", "det_visible", "det_fusion", "det", "seg", "total"}
    assert set(terms) == expected
    values = {key: value.item() for key, value in terms.items()}
    assert all(math.isfinite(value) for value in values.values())
    assert values["det"] == pytest.approx(values["det_infrared"] + values["det_visible"] + values["det_fusion"])
    assert values["total"] == pytest.approx(values["fusion"] + values["det"] + values["seg"])


@pytest.mark.parametrize("group", ["det", "seg"])
def test_task_losses_train_the_fusion_net_but_not_the_task_nets(env: Path, trainer: Trainer, group: str) -> None:
    trainer.optimizer.zero_grad(set_to_none=True)
    batch_terms(trainer, _batch(env), ALL_ON)[group].backward()
    task_nets = [*trainer.judges.detectors.values(), trainer.judges.segmenter]
    assert all(not p.requires_grad and p.grad is None for net in task_nets for p in net.parameters())
    grads = [p.grad for p in trainer.model.parameters() if p.grad is not None]
    assert grads and sum(float(g.abs().sum()) for g in grads) > 0  # the gradient reached the fusion network


def test_a_trainer_without_task_nets_loads_no_checkpoint_and_refuses_task_weights(env: Path, tmp_path: Path) -> None:
    params = section("train", **train_section(tmp_path)).fusion_only()
    trainer = build_trainer(make_job(tmp_path, params), CPU, task_nets=False)  # tmp_path has no task networks
    assert trainer.judges is None
    terms = batch_terms(trainer, _batch(env), trainer.weighting.base)
    assert not {"det", "seg"} & set(terms) and torch.isfinite(terms["total"])
    with pytest.raises(ValueError, match="w_det = w_seg = 0"):
        build_trainer(make_job(tmp_path), CPU, task_nets=False)


def test_plateau_schedule_divides_lr_by_ten_after_three_stalls(trainer: Trainer) -> None:
    lrs = []
    for val_loss in [1.0, 0.9, 0.9, 0.9, 0.9]:  # improvements, then stalls 1, 2, 3
        trainer.scheduler.step(val_loss)
        lrs.append(trainer.optimizer.param_groups[0]["lr"])
    assert lrs[:4] == [1e-3] * 4
    assert lrs[4] == pytest.approx(1e-4)


def test_the_last_anneal_epochs_run_at_the_plateau_factors_lr(env: Path, tmp_path: Path) -> None:
    params = section("train", **train_section(tmp_path, epochs=3, anneal_epochs=2, w_det=0.0, w_seg=0.0))
    log = RecordingLog()
    train_fusion(make_job(env, params), CPU, log)
    assert [values["lr"] for values, _ in log.logged if "lr" in values] == pytest.approx([1e-3, 1e-4, 1e-4])
    assert load_checkpoint(params.checkpoint)["anneal_from"] == 1


def test_an_annealed_checkpoint_is_not_extended_but_one_without_anneal_is(env: Path, tmp_path: Path) -> None:
    """`epochs` may grow on resume; with a final low-lr phase that phase would then start too early."""
    for anneal_epochs, resumed_steps in ((1, {1, 2, 3}), (0, {3})):
        folder = tmp_path / str(anneal_epochs)
        short = section("train", **train_section(folder, epochs=2, anneal_epochs=anneal_epochs, w_det=0.0, w_seg=0.0))
        train_fusion(make_job(env, short), CPU)
        log = RecordingLog()
        train_fusion(make_job(env, short.model_copy(update={"epochs": 3})), CPU, log)
        assert {step for values, step in log.logged if "lr" in values} == resumed_steps


def test_joint_training_writes_model_metrics_and_logs(env: Path, tmp_path: Path) -> None:
    job = make_job(env, section("train", **train_section(tmp_path)))
    log = RecordingLog()
    final = train_fusion(job, CPU, log)
    model = load_fusion_model(job.params.out, device="cpu")
    assert model.fuse(torch.rand(1, 1, 40, 48), torch.rand(1, 1, 40, 48)).shape == (1, 1, 40, 48)
    assert read_checkpoint(job.params.out)["model"] == "tsjnet_tiny"
    written = json.loads(Path(job.params.metrics).read_text())
    for name in ("infrared", "visible", "fusion"):
        assert 0 <= written[f"val_miou_{name}"] <= 1 and f"val_map50_{name}" in written
    assert written == pytest.approx(final)
    epoch_metrics, step = log.logged[0]
    assert step == 1 and {"train/det", "train/seg", "val/total", "lr", "weight/seg"} <= set(epoch_metrics)
    assert all(math.isfinite(v) for v in epoch_metrics.values())
    assert log.grids[0].shape[0] == 3 and log.grids[0].shape[-1] > 3 * 64  # IR | VIS | fused
    assert load_checkpoint(job.params.checkpoint, required=("model", "epoch"))["epoch"] == 1


def test_task_warmup_trains_the_fusion_loss_alone_before_the_task_losses(env: Path, tmp_path: Path) -> None:
    params = section("train", **train_section(tmp_path, epochs=2, task_warmup_epochs=1, w_det=0.0, w_seg=2.0))
    log = RecordingLog()
    train_fusion(make_job(env, params), CPU, log)
    (warmup, _), (joint, _) = log.logged[:2]
    assert warmup["weight/seg"] == 0.0 and "train/seg" not in warmup  # the segmenter never ran in the warm-up
    assert joint["weight/seg"] == 2.0 and math.isfinite(joint["train/seg"])
    assert "val/seg" not in warmup and "val/seg" in joint  # the plateau monitor restarts when the task losses join


def test_fusion_only_ablation_branches_off_the_joint_runs_warmup(env: Path, tmp_path: Path) -> None:
    joint = section("train", **train_section(tmp_path, epochs=2, task_warmup_epochs=1, w_det=0.0, w_seg=2.0))
    snapshot = Path(joint.warmup_checkpoint)
    train_fusion(make_job(env, joint), CPU)
    assert load_checkpoint(snapshot, required=("model", "epoch"))["epoch"] == 1

    log = RecordingLog()
    train_fusion(make_job(env, joint.fusion_only()), CPU, log)
    assert {step for _, step in log.logged} == {2}  # epoch 1 came from the joint run's warm-up

    # The warm-up is the same computation as a fusion-only run's first epoch, bit for bit.
    alone = section("train", **train_section(tmp_path / "alone", epochs=1, w_det=0.0, w_seg=0.0, task_warmup_epochs=1))
    train_fusion(make_job(env, alone), CPU)
    warmed, trained = load_checkpoint(snapshot)["model"], load_checkpoint(alone.checkpoint)["model"]
    assert all(torch.equal(warmed[key], trained[key]) for key in trained)


@pytest.mark.parametrize(("anneal_epochs", "shared"), [(1, True), (2, False)])
def test_a_warmup_is_shared_unless_the_low_lr_phase_starts_inside_it(env: Path, tmp_path: Path, anneal_epochs: int,
                                                                    shared: bool) -> None:
    annealed = section("train", **train_section(tmp_path, epochs=2, task_warmup_epochs=1, w_det=0.0, w_seg=2.0,
                                                anneal_epochs=anneal_epochs))
    train_fusion(make_job(env, annealed), CPU)
    log = RecordingLog()
    train_fusion(make_job(env, annealed.fusion_only().model_copy(update={"anneal_epochs": 0})), CPU, log)
    assert {step for values, step in log.logged if "lr" in values} == ({2} if shared else {1, 2})


@pytest.mark.parametrize("strategy", ["joint", "seafusion_rounds"])
def test_joint_run_starts_from_the_ablations_warmup_when_that_ran_first(env: Path, tmp_path: Path,
                                                                         strategy: str) -> None:
    joint = section("train", **train_section(tmp_path, epochs=2, task_warmup_epochs=1, w_det=0.0, w_seg=2.0,
                                        strategy=strategy, rounds={"epochs_per_round": 1, "segmenter_steps": 1}))
    train_fusion(make_job(env, joint.fusion_only()), CPU)
    log = RecordingLog()
    train_fusion(make_job(env, joint), CPU, log)
    assert {step for _, step in log.logged} == {2} and log.logged[0][0]["weight/seg"] == 2.0


def test_fusion_only_ablation_without_dsm_runs_no_task_network(env: Path, tmp_path: Path) -> None:
    params = section("train", **train_section(tmp_path, dsm=False)).fusion_only()
    assert (params.w_det, params.w_seg, params.out) == (0.0, 0.0, str(tmp_path / "models" / "fusion_only.pt"))
    log = RecordingLog()
    train_fusion(make_job(env, params, model_kwargs=params.model_kwargs()), CPU, log)
    assert not {"train/det", "train/seg"} & set(log.logged[0][0])  # the task networks never ran
    assert read_checkpoint(params.out)["kwargs"] == params.model_kwargs() and params.model_kwargs()["use_dsm"] is False
    assert isinstance(load_fusion_model(params.out, device="cpu").dsm, torch.nn.Identity)


def test_blend_decoder_trains_and_its_checkpoint_rebuilds_it(env: Path, tmp_path: Path) -> None:
    params = section("train", **train_section(tmp_path, blend_residual=0.25, blend_levels=4)).fusion_only()
    train_fusion(make_job(env, params, model_kwargs=params.model_kwargs()), CPU)
    assert read_checkpoint(params.out)["kwargs"] == {"blend_residual": 0.25, "blend_levels": 4}
    model = load_fusion_model(params.out, device="cpu")
    ir, vi = torch.rand(2, 1, 1, 64, 64).unbind(0)  # no padding: the untrained network is exactly this rule
    with torch.no_grad():  # it left the Laplacian rule it starts from
        assert not torch.allclose(model.fuse(ir, vi), classical_laplacian(levels=4).fuse(ir, vi), atol=1e-4)


def test_seafusion_baseline_rounds_through_the_same_trainer(env: Path, tmp_path: Path) -> None:
    params = section("train_baseline", **run_section(tmp_path, "seafusion", model="seafusion", epochs=2, w_seg=1.0,
                                          strategy="seafusion_rounds",
                                          rounds={"epochs_per_round": 1, "segmenter_steps": 1}))
    log = RecordingLog()
    train_fusion(make_job(env, params, name="seafusion"), CPU, log)
    assert [m["weight/seg"] for m, _ in log.logged[:2]] == [1.0, 2.0]  # w_seg * round
    assert "train/det" not in log.logged[0][0]  # w_det = 0: the detectors never ran
    adapted = load_checkpoint(params.checkpoint, required=("segmenter",))["segmenter"]
    original = load_checkpoint(env / "segmenter.pt")["model"]
    assert any(not torch.equal(adapted[k], original[k]) for k in original)  # fine-tuned between the rounds
    assert read_checkpoint(params.out)["model"] == "seafusion"
