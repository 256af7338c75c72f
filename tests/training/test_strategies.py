import math

import pytest

from tests.params import section
from tsjnet.training.strategies import LossWeighting, SeafusionRounds, SegmifDynamic, dwa_factors, make_weighting

BASE = {"fusion": 1.0, "det": 0.5, "seg": 2.0}


def test_joint_weights_are_the_params_every_epoch() -> None:
    weighting = make_weighting(section("train", w_det=0.5, w_seg=2.0, task_warmup_epochs=0))
    assert type(weighting) is LossWeighting
    assert weighting.weights(0) == weighting.weights(7) == BASE


def test_seafusion_rounds_grow_the_semantic_weight_per_round() -> None:
    weighting = make_weighting(section("train", w_det=0.5, w_seg=2.0, strategy="seafusion_rounds", task_warmup_epochs=0,
                                       rounds={"epochs_per_round": 2}))
    assert isinstance(weighting, SeafusionRounds)
    assert [weighting.weights(epoch)["seg"] for epoch in range(6)] == [2.0, 2.0, 4.0, 4.0, 6.0, 6.0]
    assert all(weighting.weights(epoch)["det"] == 0.5 for epoch in range(6))
    assert [weighting.round_ended(epoch) for epoch in range(4)] == [False, True, False, True]


def test_dwa_factors_follow_the_softmax_of_loss_ratios() -> None:
    # Ratios 1.0 (det stalled) and 0.5 (seg halved): det must gain weight, seg lose it, mean stays 1.
    factors = dwa_factors({"det": 1.0, "seg": 0.5}, {"det": 1.0, "seg": 1.0}, temperature=2.0)
    expected_det = 2 * math.exp(1.0 / 2) / (math.exp(1.0 / 2) + math.exp(0.5 / 2))
    assert factors["det"] == pytest.approx(expected_det)
    assert factors["det"] > 1 > factors["seg"]
    assert sum(factors.values()) == pytest.approx(2.0)


def test_dwa_temperature_flattens_and_equal_ratios_give_ones() -> None:
    assert dwa_factors({"a": 2.0, "b": 3.0}, {"a": 2.0, "b": 3.0}, 1.0) == pytest.approx({"a": 1.0, "b": 1.0})
    sharp = dwa_factors({"a": 1.0, "b": 0.5}, {"a": 1.0, "b": 1.0}, temperature=0.1)
    flat = dwa_factors({"a": 1.0, "b": 0.5}, {"a": 1.0, "b": 1.0}, temperature=100.0)
    assert sharp["a"] > flat["a"] > 1.0 and flat["a"] == pytest.approx(1.0, abs=0.01)


def test_segmif_dynamic_weights_react_to_the_last_two_epochs() -> None:
    weighting = make_weighting(section("train", w_det=0.0, w_seg=2.0, strategy="segmif_dynamic", task_warmup_epochs=0,
                                       dynamic={"temperature": 1.0}))
    assert isinstance(weighting, SegmifDynamic)
    weighting.update(0, {"fusion": 1.0, "seg": 1.0})
    assert weighting.weights(1) == {"fusion": 1.0, "det": 0.0, "seg": 2.0}  # one epoch: no ratio yet
    weighting.update(1, {"fusion": 0.5, "seg": 1.0})  # fusion halved, seg stalled
    weights = weighting.weights(2)
    factors = dwa_factors({"fusion": 0.5, "seg": 1.0}, {"fusion": 1.0, "seg": 1.0}, 1.0)
    assert weights == pytest.approx({"fusion": factors["fusion"], "det": 0.0, "seg": 2.0 * factors["seg"]})
    assert weights["seg"] > 2.0 and weights["fusion"] < 1.0  # the stalled loss gets more weight

    restored = SegmifDynamic(weighting.base, 1.0)
    restored.load_state_dict(weighting.state_dict())
    assert restored.weights(2) == weights  # a resumed run continues the same schedule


@pytest.mark.parametrize("strategy", ["joint", "seafusion_rounds", "segmif_dynamic"])
def test_warmup_epochs_train_fusion_alone_then_the_schedule_starts(strategy: str) -> None:
    params = section("train", w_det=0.5, w_seg=2.0, strategy=strategy, epochs=6, task_warmup_epochs=2,
                     rounds={"epochs_per_round": 2})
    weighting = make_weighting(params)
    after = make_weighting(params.model_copy(update={"task_warmup_epochs": 0}))
    assert weighting.weights(0) == weighting.weights(1) == {"fusion": 1.0, "det": 0.0, "seg": 0.0}
    weighting.update(1, {"fusion": 1.0})  # a warm-up epoch has no task losses: nothing to record
    assert [weighting.weights(e) for e in range(2, 6)] == [after.weights(e) for e in range(4)]
    assert [weighting.round_ended(e) for e in range(6)] == [False, False] + [after.round_ended(e) for e in range(4)]


def test_warmup_must_leave_epochs_for_the_task_losses() -> None:
    with pytest.raises(ValueError, match="task_warmup_epochs"):
        section("train", w_seg=1.0, epochs=4, task_warmup_epochs=4)
    assert section("train", w_det=0.0, w_seg=0.0, epochs=4, task_warmup_epochs=4).task_warmup_epochs == 4
