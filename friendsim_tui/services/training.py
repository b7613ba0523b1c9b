"""Training runs, for the CLI and the dashboard alike: start one, list them, read their events, stop one.

Training itself runs in its own process (``friendsim-tui train``); this module only starts that process,
or runs the loop in the current one for the CLI, and reads the files a run leaves in its folder
(``run.json``, ``events.jsonl``, ``lock``; see friendsim_tui.engine.train). No torch at import time.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

from friendsim_tui import paths
from friendsim_tui.config import DatasetConfig, TrainConfig

EXIT_STOPPED = 3
STATUSES = ("running", "done", "stopped", "failed")


class TrainingFailed(Exception):
    """One line for the user: why the run could not start or finish."""


def runs_dir(workspace: str) -> Path:
    return paths.workspace_dir(workspace) / "runs"


def run_dir(workspace: str, run: str) -> Path:
    return runs_dir(workspace) / run


def new_run_name(base: str) -> str:
    slug = re.sub(r"[^A-Za-z0-9]+", "-", base.split("/")[-1].split(",")[0]).strip("-")[:24] or "run"
    return f"{time.strftime('%Y%m%d-%H%M%S')}-{slug}"


def is_main_process() -> bool:
    return int(os.environ.get("RANK", "0")) == 0


def train_here(workspace: str, cfg: TrainConfig, run: str | None = None, *, resume: bool = False,
               dataset_cfg: DatasetConfig | None = None, log=None):
    """Train in this process (the CLI's ``train``); returns the engine's TrainResult."""
    from friendsim_tui.engine.bases import BaseError
    from friendsim_tui.engine.train import TrainError, train

    run = run or new_run_name(cfg.base)
    try:
        return train(workspace, cfg, run, resume=resume, dataset_cfg=dataset_cfg, log=log)
    except (TrainError, BaseError) as exc:
        raise TrainingFailed(str(exc)) from None
    except Exception as exc:
        events = run_dir(workspace, run) / "events.jsonl"
        raise TrainingFailed(f"training failed: {type(exc).__name__}: {exc} (details in {events})") from exc


def start_run(workspace: str, *, run: str | None = None, resume: bool = False, base: str | None = None,
              options: dict | None = None, data_dir: Path | None = None, config: Path | None = None):
    """Start ``friendsim-tui train`` as a separate process (the dashboard uses this) and return
    ``(run name, Popen)``. The process keeps going when the app closes; its output goes to
    ``<run>/train.log`` and its progress to ``<run>/events.jsonl``.

    ``options`` maps CLI flags without dashes to values, e.g. ``{"max-steps": 200, "lora": True}``.
    """
    if resume and not run:
        raise TrainingFailed("resume needs a run name")
    run = run or new_run_name(base or "run")
    folder = run_dir(workspace, run)
    if not resume and (folder / "run.json").exists():
        raise TrainingFailed(f"run {run!r} already exists")
    paths.private_dir(runs_dir(workspace))
    paths.private_dir(folder)
    cmd = [sys.executable, "-m", "friendsim_tui", "--data-dir", str(data_dir or paths.data_dir())]
    if config:
        cmd += ["--config", str(config)]
    cmd += ["train", "--workspace", workspace, "--run", run]
    if base:
        cmd += ["--base", base]
    if resume:
        cmd.append("--resume")
    for key, value in (options or {}).items():
        if value is True:
            cmd.append(f"--{key}")
        elif value not in (None, False):
            cmd += [f"--{key}", str(value)]
    log = paths.open_private(folder / "train.log", "a")
    try:
        proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                start_new_session=True)
    finally:
        log.close()
    return run, proc


def request_stop(workspace: str, run: str) -> None:
    """Ask a running run to save a checkpoint and stop (the dashboard's stop key)."""
    folder = run_dir(workspace, run)
    if not (folder / "run.json").exists():
        raise TrainingFailed(f"no run named {run!r} in workspace {workspace!r}")
    if run_status(workspace, run)["status"] != "running":
        raise TrainingFailed(f"run {run!r} is not running")
    paths.open_private(folder / "STOP", "w").close()


def read_events(path: Path, offset: int = 0) -> tuple[list[dict], int]:
    """Events appended since ``offset`` and the offset to pass next time (a half-written last line waits)."""
    try:
        with open(path, "rb") as f:
            f.seek(offset)
            data = f.read()
    except OSError:
        return [], offset
    end = data.rfind(b"\n") + 1
    out = []
    for line in data[:end].splitlines():
        try:
            out.append(json.loads(line))
        except ValueError:
            continue
    return out, offset + end


def tail_events(path: Path, max_bytes: int = 65536) -> list[dict]:
    """The last events of a file (complete lines only), oldest first."""
    try:
        size = path.stat().st_size
    except OSError:
        return []
    start = max(0, size - max_bytes)
    events, _ = read_events(path, start)
    return events[1:] if start and events else events


def _lock_alive(folder: Path) -> bool:
    from friendsim_tui.engine.train import lock_alive  # psutil only; no torch at import

    return lock_alive(folder / "lock")


def run_status(workspace: str, run: str) -> dict:
    """What a run's files say, with ``status`` corrected by whether its process is still alive."""
    folder = run_dir(workspace, run)
    try:
        info = json.loads((folder / "run.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        info = {}
    events_path = folder / "events.jsonl"
    tail = tail_events(events_path)
    last_step = next((e for e in reversed(tail) if e.get("type") == "step"), {})
    last_eval = next((e for e in reversed(tail) if e.get("type") == "eval"), {})
    last_done = next((e for e in reversed(tail) if e.get("type") in ("done", "error")), None)
    status = info.get("status") or "failed"
    if _lock_alive(folder):
        status = "running"
    elif status == "running":  # its process is gone without saying so
        status = "stopped" if last_done and last_done.get("status") == "stopped" else "failed"
    model = folder / "model"
    return {
        "name": run,
        "status": status,
        "step": last_step.get("step", info.get("step", 0)),
        "max_steps": last_step.get("max_steps", info.get("max_steps")),
        "path": str(model),
        "model_ready": (model / "config.json").exists(),
        "events": str(events_path),
        "base": info.get("base") or info.get("config", {}).get("base"),
        "lora": bool(info.get("config", {}).get("lora")),
        "loss": last_step.get("loss"),
        "eval_loss": last_eval.get("loss"),
        "updated": info.get("updated"),
        "error": info.get("error"),
    }


def list_runs(workspace: str) -> list[dict]:
    """Every run of a workspace, newest first."""
    root = runs_dir(workspace)
    if not root.is_dir():
        return []
    names = [d.name for d in root.iterdir() if d.is_dir() and (d / "run.json").exists()]
    runs = [run_status(workspace, n) for n in names]
    return sorted(runs, key=lambda r: r.get("updated") or 0, reverse=True)
