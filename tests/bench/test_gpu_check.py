"""The GPU check script runs end to end on CPU (tiny model; natten's reference path) and reports what it claims."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from tsjnet.bench import gpu_check


def test_gpu_check_runs_every_check_and_writes_its_verdict(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(Path(__file__).resolve().parents[2])  # the paper profile comes from the project's conf/
    out = tmp_path / "gpu_check.json"
    assert gpu_check.main(["--device", "cpu", "--tiny", "--repeats", "1", "--out", str(out)]) == 0
    results = json.loads(out.read_text())
    assert results["passed"] and len(results["attention_parity"]) == len(gpu_check.TINY_CASES)
    assert all(case["max_abs_error"] < gpu_check.TOLERANCE for case in results["attention_parity"])
    assert results["train_step"]["seconds_per_step"] > 0
    assert results["fused_latency"]["natten_s"] > 0 and results["fused_latency"]["our_kernel_s"] > 0


def test_a_disagreement_fails_the_check(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(gpu_check.natten, "na2d", lambda q, k, v, **kwargs: torch.zeros_like(q))
    case = gpu_check.attention_parity(torch.device("cpu"), ((9, 13, 3, 1),), head_dim=16)[0]
    assert not case["passed"] and case["max_abs_error"] > gpu_check.TOLERANCE
