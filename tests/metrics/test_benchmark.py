"""benchmark_metrics returns a timing per metric group (structure only: timings are not asserted)."""

from __future__ import annotations

import torch

from tsjnet.metrics.benchmark import benchmark_metrics
from tsjnet.metrics.suite import METRIC_GROUPS


def test_benchmark_reports_every_group_and_restores_torch_threads() -> None:
    threads = torch.get_num_threads()
    result = benchmark_metrics(height=32, width=40, repeats=1)
    assert result["shape"] == [32, 40]
    assert set(result["seconds"]) == set(METRIC_GROUPS)
    assert result["total_seconds"] == sum(result["seconds"].values()) > 0
    assert torch.get_num_threads() == threads
