"""Training runs, for the CLI and the dashboard alike: start one, list them, read their events, stop one.

Training itself runs in its own process (``friendsim-tui train``); this module only starts that process,
or runs the loop in the current one for the CLI, and reads the files a run leaves in its folder through
friendsim_tui.runs. No torch at import time.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

from friendsim_tui import paths, runs
from friendsim_tui.config import ConfigError, DatasetConfig, TrainConfig
from friendsim_tui.runs import run_dir  # the app's screens find a run's folder here too

EXIT_STOPPED = 3


class TrainingFailed(Exception):
    """One line for the user: why the run could not start or finish."""


def new_run_name(base: str) -> str:
    slug = re.sub(r"[^A-Za-z0-9]+", "-", base.split("/")[-1].split(",")[0]).strip("-")[:24] or "run"
    return f"{time.strftime('%Y%m%d-%H%M%S')}-{slug}"


def is_main_process() -> bool:
    return int(os.environ.get("RANK", "0")) == 0


def train_here(workspace: str, cfg: TrainConfig, run: str | None = None, *, resume: bool = False,
               dataset_cfg: DatasetConfig | None = None, log=None):
    """Train in this process (the CLI's ``train``); returns the engine's TrainResult."""
    from friendsim_tui.engine.bases import BaseError
    from friendsim_tui.engine.train import train

    run = run or new_run_name(cfg.base)
    try:
        return train(workspace, cfg, run, resume=resume, dataset_cfg=dataset_cfg, log=log)
    except (runs.RunError, BaseError) as exc:
        raise TrainingFailed(str(exc)) from None
    except Exception as exc:
        events = run_dir(workspace, run) / runs.EVENTS_FILE
        raise TrainingFailed(f"training failed: {type(exc).__name__}: {exc} (details in {events})") from exc


def check_trainable(workspace: str) -> None:
    """Raise TrainingFailed (one line) when ``workspace`` has nothing to train on, before any process
    starts: no messages yet, or every friend left out of training."""
    from friendsim_tui.store import Store, StoreError

    try:
        with Store.for_workspace(workspace) as store:
            speakers = store.speakers()
    except StoreError as exc:
        raise TrainingFailed(str(exc)) from None
    if not any(s.messages for s in speakers):
        raise TrainingFailed(f"{workspace} has no messages yet: import chat exports into it first")
    if not any(s.messages for s in speakers if not s.excluded):
        raise TrainingFailed(f"every friend in {workspace} is left out of training: take one back in first")


def start_run(workspace: str, cfg: TrainConfig | None = None, *, run: str | None = None, resume: bool = False,
              data_dir: Path | None = None, config: Path | None = None):
    """Start ``friendsim-tui train`` as a separate process (the dashboard uses this) and return
    ``(run name, Popen)``. The process keeps going when the app closes; its output goes to the run's
    train.log and its progress to its events.jsonl.

    ``cfg`` holds every setting of a new run; it reaches the process whole, in a private file in the run folder
    (runs.TRAIN_CONFIG_FILE, read by ``train --train-config``). A resumed run keeps its own settings.
    ``config`` is the settings file, for everything else (the dataset's settings).
    """
    if resume and not run:
        raise TrainingFailed("resume needs a run name")
    if not resume:
        if cfg is None:
            raise TrainingFailed("a new run needs its settings")
        try:
            cfg.validate("training settings")
        except ConfigError as exc:
            raise TrainingFailed(str(exc)) from None
    run = run or new_run_name(cfg.base)
    folder = _folder(workspace, run)
    if not resume and (folder / runs.RUN_FILE).exists():
        raise TrainingFailed(f"run {run!r} already exists")
    if not resume:
        check_trainable(workspace)  # say so now, not from a process that fails seconds later
    paths.private_dir(runs.runs_dir(workspace))
    paths.private_dir(folder)
    cmd = [sys.executable, "-m", "friendsim_tui", "--data-dir", str(data_dir or paths.data_dir())]
    if config:
        cmd += ["--config", str(config)]
    cmd += ["train", "--workspace", workspace, "--run", run]
    if resume:
        cmd.append("--resume")
    else:
        runs.write_json_atomic(folder / runs.TRAIN_CONFIG_FILE, cfg.to_json())
        cmd += ["--train-config", str(folder / runs.TRAIN_CONFIG_FILE)]
    log = paths.open_private(folder / runs.LOG_FILE, "a")
    try:
        proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                start_new_session=True)
    finally:
        log.close()
    return run, proc


def read_train_config(path: Path) -> TrainConfig:
    """The settings start_run wrote for a new run; TrainingFailed naming the file when it cannot be used."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise TrainingFailed(f"{path} cannot be read: {exc}") from None
    try:
        return TrainConfig.from_json(data, str(path))
    except ConfigError as exc:
        raise TrainingFailed(str(exc)) from None


def _folder(workspace: str, run: str) -> Path:
    """The run's folder; TrainingFailed for a name that is not a run name (or a workspace name that is not)."""
    try:
        return run_dir(workspace, run)
    except ValueError as exc:
        raise TrainingFailed(str(exc)) from None


def request_stop(workspace: str, run: str) -> None:
    """Ask a running run to save a checkpoint and stop (the dashboard's stop key)."""
    folder = _folder(workspace, run)
    if not (folder / runs.RUN_FILE).exists():
        raise TrainingFailed(f"no run named {run!r} in workspace {workspace!r}")
    if run_status(workspace, run)["status"] != runs.RUNNING:
        raise TrainingFailed(f"run {run!r} is not running")
    paths.open_private(folder / runs.STOP_FILE, "w").close()


def run_status(workspace: str, run: str) -> dict:
    """What a run's files say, with ``status`` corrected by whether its process is still alive."""
    return _status(run_dir(workspace, run))


def _status(folder: Path) -> dict:
    """A run's status (its files corrected by whether its process lives), its progress, and, unless it is done,
    ``resume_step``: where a resume continues. A run whose process vanished without writing its end says so in
    ``error``, and its ``step`` is the one it can resume from (the steps logged after that are lost).
    ``best_step``/``best_eval_loss``: the step with the lowest eval loss, whose weights the model gets; ``ended``:
    why a finished run stopped before its planned steps ("early stop", "time budget"); ``evaluation``: the
    held-out figures (engine.evaluate.KEYS) computed at the end of the run or by ``eval``."""
    tail = runs.last_events(folder)
    last_step = next((e for e in reversed(tail) if e.get("type") == "step"), {})
    last_eval = next((e for e in reversed(tail) if e.get("type") == "eval"), {})
    start = next((e for e in reversed(tail) if e.get("type") == "start"), {})
    last_session = next((e for e in reversed(tail) if e.get("type") in ("start", "done", "error")), {})
    last_done = last_session if last_session.get("type") in ("done", "error") else None  # its latest session's end
    model = folder / runs.MODEL_DIR
    model_ready = (model / "config.json").exists()
    try:
        info, damaged = runs.read_info(folder), None
    except runs.RunFileError as exc:  # the files beside it still tell most of the story
        info, damaged = {}, str(exc)
    ended = runs.STOPPED if last_done and last_done.get("status") == runs.STOPPED else runs.FAILED
    status = info.get("status") or runs.FAILED
    error = ((damaged if (folder / runs.RUN_FILE).exists() else None) or info.get("error")
             or (last_done or {}).get("message") or damaged)
    if runs.lock_alive(folder):
        status = runs.RUNNING
    elif damaged:  # a model folder is only ever renamed into place when a run has finished
        status = runs.DONE if model_ready else ended
    elif status == runs.RUNNING:  # its process is gone, its end written (then not run.json) or not at all
        status = ended
        error = error if last_done else runs.VANISHED
    resume = None if status == runs.DONE else runs.resume_step(folder)
    step = last_step.get("step", info.get("step", 0))
    return {
        "name": folder.name,
        "status": status,
        "step": resume if error == runs.VANISHED else step,
        "resume_step": resume,
        "max_steps": last_step.get("max_steps", info.get("max_steps")),
        "path": str(model),
        "model_ready": model_ready,
        "events": str(folder / runs.EVENTS_FILE),
        "base": info.get("base") or info.get("config", {}).get("base") or start.get("base"),
        "lora": bool(info.get("config", {}).get("lora", start.get("lora"))),
        "loss": last_step.get("loss"),
        "eval_loss": last_eval.get("eval_loss"),
        "best_step": info.get("best_step", last_eval.get("best_step")),
        "best_eval_loss": info.get("best_eval_loss", last_eval.get("best_eval_loss")),
        "ended": info.get("ended"),
        "evaluation": _figures(folder),
        "updated": info.get("updated") or _mtime(folder / runs.RUN_FILE) or _mtime(folder / runs.EVENTS_FILE),
        "error": error,
    }


def _figures(folder: Path) -> dict | None:
    """The held-out figures in the run folder (computed at the end of the run, or by ``eval``), if any."""
    try:
        data = json.loads((folder / runs.EVAL_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _mtime(path: Path) -> float | None:
    try:
        return path.stat().st_mtime
    except OSError:
        return None


def list_runs(workspace: str) -> list[dict]:
    """Every run of a workspace, newest first; one that failed before writing its run.json (its events
    say why) is listed as failed."""
    root = runs.runs_dir(workspace)
    if not root.is_dir():
        return []
    found = [_status(d) for d in root.iterdir()
             if d.is_dir() and ((d / runs.RUN_FILE).exists() or (d / runs.EVENTS_FILE).exists())]
    return sorted(found, key=lambda r: r.get("updated") or 0, reverse=True)
