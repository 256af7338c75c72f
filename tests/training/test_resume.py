"""Kill a real training process after its first checkpoint, re-run it, and check it continues from there."""

import json
import signal
import subprocess
import time
from pathlib import Path

from tests.training.fusion_env import stage_command, stage_env, train_section, write_env, write_params
from tsjnet.registry.checkpoint import read_checkpoint
from tsjnet.checkpoints import load_checkpoint
from tsjnet.training.joint import SECONDS_KEY

EPOCHS = 4
STARTUP_LIMIT_S = 300


def _run_until_first_checkpoint(command: list[str], cwd: Path, checkpoint: Path) -> None:
    process = subprocess.Popen(command, cwd=cwd, env=stage_env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + STARTUP_LIMIT_S
    try:
        while not checkpoint.is_file():
            if process.poll() is not None:
                raise AssertionError(f"training ended before its first checkpoint:\n{process.stdout.read().decode()}")
            assert time.monotonic() < deadline, "no checkpoint within the startup limit"
            time.sleep(0.05)
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait()
        process.stdout.close()


def test_killed_training_resumes_from_its_last_checkpoint(tmp_path: Path) -> None:
    write_env(tmp_path)
    train = train_section(tmp_path, epochs=EPOCHS)
    command = stage_command(write_params(tmp_path, train))
    checkpoint = Path(train["checkpoint"])

    _run_until_first_checkpoint(command, tmp_path, checkpoint)
    killed = load_checkpoint(checkpoint, required=("model", "epoch"))
    killed_after, seconds_before_kill = killed["epoch"], killed[SECONDS_KEY]
    assert 1 <= killed_after < EPOCHS and not Path(train["out"]).exists()

    result = subprocess.run(command, cwd=tmp_path, env=stage_env(), capture_output=True, text=True, timeout=600)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert f"resuming from {checkpoint} after epoch {killed_after}" in output
    ran = [epoch for epoch in range(1, EPOCHS + 1) if f"tsjnet_joint epoch {epoch}/{EPOCHS}:" in output]
    assert ran == list(range(killed_after + 1, EPOCHS + 1))  # finished epochs are not trained again
    finished = load_checkpoint(checkpoint, required=("model", "epoch"))
    assert finished["epoch"] == EPOCHS
    assert read_checkpoint(train["out"])["meta"]["metrics"]["epochs"] == EPOCHS
    metrics = json.loads(Path(train["metrics"]).read_text())
    assert metrics["epochs"] == EPOCHS
    # The epochs trained before the kill count: train_seconds is the whole training's time, not the resume's.
    assert 0 < seconds_before_kill < finished[SECONDS_KEY] <= metrics["train_seconds"] + 0.05
