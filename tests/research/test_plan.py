from __future__ import annotations

from pathlib import Path

import pytest

from tests.params import make_params
from tests.research.conftest import research_params
from tsjnet.config import ParamsError
from tsjnet.config.research import REQUIRED_VARIANTS
from tsjnet.research.plan import BASELINE, plan_runs, variant_params


def test_every_variant_and_the_baseline_train_once_per_seed_with_one_budget(tmp_path: Path) -> None:
    params = research_params(tmp_path)
    runs = plan_runs(params)
    assert [(r.method, r.seed) for r in runs] == [(m, s) for s in (0, 1) for m in (*REQUIRED_VARIANTS, BASELINE)]
    assert {r.job.params.epochs for r in runs} == {params.train.epochs}  # the baseline gets the variants' epochs
    assert all(r.job.seed == r.seed and Path(r.job.params.out).parent == tmp_path / "research" / f"seed{r.seed}" / r.method
               for r in runs)


def test_a_variant_is_train_with_common_and_its_set_and_shares_its_networks_warm_up(tmp_path: Path) -> None:
    params = research_params(tmp_path)
    tsjnet, no_dsm, seg = (variant_params(params, name, 1) for name in ("tsjnet", "tsjnet_no_dsm", "seg_only"))
    assert (tsjnet.w_det, tsjnet.w_seg, tsjnet.dsm, tsjnet.init_from) == (1.0, 3.0, True, None)
    assert (seg.w_det, seg.w_seg) == (0.0, 3.0) and no_dsm.model_kwargs() == tsjnet.model_kwargs() | {"use_dsm": False}
    assert tsjnet.warmup_checkpoint == seg.warmup_checkpoint != no_dsm.warmup_checkpoint  # one warm-up per network
    assert Path(tsjnet.warmup_checkpoint).parent.name == "seed1"


def test_a_bad_variant_fails_naming_it_before_anything_trains(tmp_path: Path) -> None:
    variants = [v.model_dump() for v in make_params().research.variants]
    variants[1]["set"] |= {"w_seg": -1.0}
    with pytest.raises(ParamsError, match="research.variants 'seg_only'.*w_seg"):
        plan_runs(research_params(tmp_path, variants=variants))


def test_the_questions_need_every_variant() -> None:
    variants = [v.model_dump() for v in make_params().research.variants if v.name != "det_only"]
    with pytest.raises(ParamsError, match="missing: \\['det_only'\\]"):
        make_params({"research": {"variants": variants}})


def test_a_variant_name_must_be_a_plain_folder_name() -> None:
    variants = [v.model_dump() for v in make_params().research.variants] + [{"name": "no/dsm", "set": {}}]
    with pytest.raises(ParamsError, match="research.variants.5.name.*'no/dsm' must be letters"):
        make_params({"research": {"variants": variants}})
