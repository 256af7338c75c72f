from unittest import mock

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
