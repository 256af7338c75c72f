"""Data-parallel training under torchrun: two CPU processes with gloo finish with identical weights."""

import subprocess
from pathlib import Path

import pytest

from tests.training.fusion_env import stage_command, stage_env, train_section, write_env, write_params
from tsjnet.registry.checkpoint import read_checkpoint


@pytest.mark.slow
def test_two_gloo_processes_train_in_step(tmp_path: Path) -> None:
    write_env(tmp_path)
    train = train_section(tmp_path, epochs=1)
    launcher = ("-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2")
    result = subprocess.run(stage_command(write_params(tmp_path, train), *launcher), cwd=tmp_path,
                            env=stage_env(), capture_output=True, text=True, timeout=600)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "weights identical on all 2 ranks" in output  # checked by tsjnet.training.distributed.check_in_sync
    assert "(2 process(es))" in output and output.count("train: ") == 1  # one summary: rank 0 alone reports
    assert read_checkpoint(train["out"])["model"] == "tsjnet_tiny"
