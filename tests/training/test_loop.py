from unittest import mock

import pytest
import torch

from tsjnet.training import loop
from tsjnet.training.loop import clip_and_step, seed_everything


def _scaled_step(scaler: torch.amp.GradScaler, max_norm: float) -> torch.Tensor:
    weight = torch.nn.Parameter(torch.zeros(2))
    optimizer = torch.optim.SGD([weight], lr=1.0)
    loss = (weight * torch.tensor([0.3, 0.4])).sum()  # gradient [0.3, 0.4], norm 0.5
    scaler.scale(loss).backward()
    clip_and_step(scaler, optimizer, [weight], max_norm)
    return weight.detach()


def test_gradients_are_unscaled_before_clipping() -> None:
    # With a loss scale of 1024 the scaled gradient norm is 512: clipping it to 1.0 before unscaling
    # would shrink the update ~1000x. Unscaled first, the norm 0.5 is under the limit and kept.
    scaler = torch.amp.GradScaler("cpu", init_scale=1024.0, enabled=True)
    assert torch.allclose(_scaled_step(scaler, max_norm=1.0), torch.tensor([-0.3, -0.4]))


def test_disabled_scaler_path_clips_plain_gradients() -> None:
    scaler = torch.amp.GradScaler("cpu", enabled=False)
    assert torch.allclose(_scaled_step(scaler, max_norm=0.25), torch.tensor([-0.15, -0.2]))


def test_call_order_is_unscale_clip_step_update() -> None:
    calls = mock.Mock()
    scaler = mock.Mock()
    scaler.unscale_.side_effect = lambda _: calls("unscale")
    scaler.step.side_effect = lambda _: calls("step")
    scaler.update.side_effect = lambda: calls("update")

    def clip(*args: object) -> torch.Tensor:
        calls("clip")
        return torch.tensor(1.0)

    with mock.patch.object(loop.torch.nn.utils, "clip_grad_norm_", side_effect=clip):
        clip_and_step(scaler, mock.Mock(), [], 1.0)
    assert [c.args[0] for c in calls.call_args_list] == ["unscale", "clip", "step", "update"]


def test_seed_everything_is_repeatable() -> None:
    first = (seed_everything(3), torch.rand(3))
    second = (seed_everything(3), torch.rand(3))
    assert torch.equal(first[1], second[1])
    assert torch.equal(torch.randperm(5, generator=first[0]), torch.randperm(5, generator=second[0]))


def _stepper(weight: torch.nn.Parameter) -> loop.Stepper:
    holder = torch.nn.Module()
    holder.weight = weight
    return loop.Stepper(torch.optim.SGD([weight], lr=0.1), torch.amp.GradScaler("cpu", enabled=False), holder, 10.0)


def test_train_epoch_steps_every_batch_and_averages_each_term() -> None:
    weight = torch.nn.Parameter(torch.ones(1))
    steps = []

    def terms(batch: float) -> dict[str, torch.Tensor]:
        part = batch * weight.sum()
        return {"part": part, "total": 2 * part}

    means = loop.train_epoch("net", (0, 1), [1.0, 3.0], terms, _stepper(weight), after_step=lambda: steps.append(1),
                             quiet=True)
    assert len(steps) == 2 and float(weight) < 1.0  # two SGD steps down the gradient
    assert means == pytest.approx({"part": (1.0 + 3.0 * 0.8) / 2, "total": 1.0 + 3.0 * 0.8})  # w: 1, then 0.8


def test_a_non_finite_loss_stops_the_epoch_naming_every_term() -> None:
    weight = torch.nn.Parameter(torch.ones(1))
    bad = {"ssim": torch.tensor(0.5), "total": torch.tensor(float("nan"))}
    with pytest.raises(FloatingPointError, match=r"tsjnet: loss became nan in epoch 3 \(\{'ssim': 0.5, 'total': nan\}\)"):
        loop.train_epoch("tsjnet", (2, 5), [0], lambda _: bad, _stepper(weight), quiet=True)
