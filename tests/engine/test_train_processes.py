"""Training as its own process: SIGTERM and the dashboard's stop file save and exit; DDP with 2 processes."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest
from engine_helpers import TINY, read_events

from friendsim_tui.config import TrainConfig
from friendsim_tui.services import training

pytest.importorskip("torch")

SETTINGS = {"base": TINY, "block_size": 64, "batch_size": 2, "grad_accum": 2, "precision": "fp32",
            "save_steps": 100_000, "eval_steps": 100_000, "sample_steps": 100_000}


def _wait_for(predicate, timeout: float = 60.0, proc=None):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            return
        if proc is not None and proc.poll() is not None:
            break
        time.sleep(0.1)
    raise AssertionError("timed out" if proc is None or proc.poll() is None else f"exited {proc.returncode}")


def _steps(run_dir) -> list[int]:
    if not (run_dir / "events.jsonl").exists():
        return []
    return [e["step"] for e in read_events(run_dir) if e["type"] == "step"]


def _stop_when(proc, ready, stop) -> int:
    """Wait until ``ready()``, call ``stop()``, return the exit code (the process never outlives the test)."""
    try:
        _wait_for(ready, proc=proc)
        stop()
        return proc.wait(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()


def test_sigterm_and_the_stop_file_save_a_checkpoint_and_exit_cleanly(crew, data_dir):
    # settings that no flag sets reach the process too: the whole config travels, not a flag list
    cfg = TrainConfig(**SETTINGS, max_steps=100_000, seed=3, schedule="linear", warmup_ratio=0.2, dropout=0.1)
    run, proc = training.start_run(crew, cfg, run="long", data_dir=data_dir)
    folder = training.run_dir(crew, run)

    def sigterm():
        assert training.run_status(crew, run)["status"] == "running"
        proc.send_signal(signal.SIGTERM)

    assert _stop_when(proc, lambda: len(_steps(folder)) >= 2, sigterm) == training.EXIT_STOPPED
    events = read_events(folder)
    done = events[-1]
    assert done["type"] == "done" and done["status"] == "stopped" and done["reason"] == "SIGTERM"
    stopped_at = done["step"]
    assert (folder / "checkpoints" / f"step-{stopped_at:08d}" / "manifest.json").exists()
    status = training.run_status(crew, run)
    assert status["status"] == "stopped" and status["step"] == stopped_at
    assert json.loads((folder / "run.json").read_text())["config"] == cfg.to_json()
    assert not (folder / "lock").exists()

    # resume, then stop through the file the dashboard writes
    _, proc = training.start_run(crew, run=run, resume=True, data_dir=data_dir)
    code = _stop_when(proc, lambda: max(_steps(folder)) > stopped_at + 1, lambda: training.request_stop(crew, run))
    assert code == training.EXIT_STOPPED
    events = read_events(folder)
    assert [e["step"] for e in events if e["type"] == "start"] == [0, stopped_at]
    assert events[-1]["type"] == "done" and events[-1]["reason"] == "stop requested"
    assert json.loads((folder / "run.json").read_text())["status"] == "stopped"
    with pytest.raises(training.TrainingFailed, match="not running"):
        training.request_stop(crew, run)


def test_two_processes_with_gloo_train_end_to_end(crew, data_dir):
    env = dict(os.environ, OMP_NUM_THREADS="1")
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
           "-m", "friendsim_tui", "--data-dir", str(data_dir), "train", "--workspace", crew, "--run-name", "ddp"]
    for name, value in (SETTINGS | {"max_steps": 4, "eval_steps": 2, "sample_steps": 4}).items():
        cmd += [TrainConfig.OPTIONS[name].flag, str(value)]
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stderr[-3000:]
    folder = training.run_dir(crew, "ddp")
    events = read_events(folder)
    start = events[0]
    assert start["world_size"] == 2 and start["blocks_per_step"] == 2 * 2 * 2
    assert [e["step"] for e in events if e["type"] == "step"] == [1, 2, 3, 4]  # only rank 0 writes
    assert [e["type"] for e in events].count("eval") == 2 and events[-1]["type"] == "done"
    assert done.stdout.strip().splitlines() == [str(folder / "model")]  # rank 0 prints the model folder
    from transformers import pipeline

    pipeline("text-generation", model=str(folder / "model"))


def test_a_killed_run_lists_the_step_it_resumes_from_and_that_it_ended_without_a_word(crew, data_dir, capsys):
    from friendsim_tui import cli, runs

    cfg = TrainConfig(**SETTINGS | {"max_steps": 100_000, "save_steps": 3})
    run, proc = training.start_run(crew, cfg, run="killed", data_dir=data_dir)
    folder = training.run_dir(crew, run)

    def saved_and_logged() -> tuple[int | None, int]:
        """(the newest complete checkpoint's step, the last step in the events)."""
        complete = sorted(d.name for d in (folder / "checkpoints").glob("step-*") if (d / "manifest.json").exists()) \
            if (folder / "checkpoints").exists() else []
        steps = [e["step"] for e in runs.last_events(folder) if e["type"] == "step"]
        return (int(complete[-1][5:]) if complete else None), (steps[-1] if steps else 0)

    def ahead_of_its_checkpoint() -> bool:
        saved, logged = saved_and_logged()
        return saved is not None and logged > saved

    try:
        while True:  # freeze it at a moment its log has gone past its newest checkpoint, then kill it
            _wait_for(ahead_of_its_checkpoint, proc=proc)
            proc.send_signal(signal.SIGSTOP)
            if ahead_of_its_checkpoint():
                break
            proc.send_signal(signal.SIGCONT)
        saved, logged = saved_and_logged()
        proc.kill()
        proc.wait(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert json.loads((folder / "run.json").read_text())["status"] == "running"  # nobody could say otherwise

    capsys.readouterr()
    assert cli.main(["runs", "-w", crew, "--json"]) == 0
    (listed,) = json.loads(capsys.readouterr().out)
    assert listed["status"] == "failed" and listed["step"] == saved < logged
    assert "ended without a word" in listed["error"]
    assert cli.main(["runs", "-w", crew]) == 0
    line = capsys.readouterr().out.strip()
    assert line.startswith("killed") and "failed" in line and f"{saved}/100000" in line
    assert "ended without a word" in line
