"""The training process's bookkeeping in its run folder, through friendsim_tui.runs: it takes the run (may it
start or resume? the lock; what a crash left behind), keeps run.json and the events, records a failure so that
no reader is left thinking the run still trains, and lets the run go. Torch-free.

Only rank 0 writes: on other ranks ``main`` is False, the event log has no file and run.json is left alone.
"""

from __future__ import annotations

import errno
import shutil
import traceback
from pathlib import Path
from typing import Callable

from friendsim_tui import paths, runs
from friendsim_tui.engine import bases
from friendsim_tui.engine.text import SPEC_FILE
from friendsim_tui.runs import EventLog, RunError


class TrainError(RunError):
    """A run that cannot start or continue; the message is one clear line for the user."""


class RunFiles:
    def __init__(self, workspace: str, run: str, *, resume: bool, main: bool, log: Callable[[str], None]):
        self.dir = runs.run_dir(workspace, run)  # checks both names
        self.workspace, self.run, self.resume, self.main, self.log = workspace, run, resume, main, log
        self.events = EventLog(None)
        self.locked = False

    @property
    def checkpoints(self) -> Path:
        return self.dir / runs.CHECKPOINTS_DIR

    @property
    def resume_hint(self) -> str:
        return f"continue with: train --workspace {self.workspace!r} --run {self.run!r} --resume"

    def take(self) -> None:
        """Rank 0: make sure the run may start (a new name) or resume (an unfinished run nobody trains), take its
        lock, and clear a stop request and the temp folders a crash left. A resumed run's events open now; a new
        run's once it is prepared (a run that fails while preparing leaves its name free)."""
        exists = (self.dir / runs.RUN_FILE).exists()
        if self.resume and not exists:
            raise TrainError(f"no run named {self.run!r} in workspace {self.workspace!r} to resume")
        if not self.resume and exists:
            raise TrainError(f"run {self.run!r} already exists: add --resume to continue it, or pick another --run")
        if self.resume and runs.lock_alive(self.dir):
            runs.acquire_lock(self.dir, self.run)  # raises RunLocked naming the pid
        if self.resume and runs.read_info(self.dir).get("status") == runs.DONE:
            raise TrainError(f"run {self.run!r} already finished; its model is in {self.dir / runs.MODEL_DIR}")
        paths.private_dir(runs.runs_dir(self.workspace))
        paths.private_dir(self.dir)
        runs.acquire_lock(self.dir, self.run)
        self.locked = True
        (self.dir / runs.STOP_FILE).unlink(missing_ok=True)
        for tmp in [*self.dir.glob(".tmp-*"), *self.checkpoints.glob(".tmp-*")]:
            shutil.rmtree(tmp, ignore_errors=True)
        if self.resume:
            self.open_events()

    def open_events(self) -> None:
        if self.main and self.events.path is None:
            self.events = EventLog(self.dir / runs.EVENTS_FILE)

    def emit(self, event: runs.Event) -> None:
        self.events.emit(event)

    def update(self, **fields) -> None:
        """Merge ``fields`` into run.json."""
        if self.main:
            runs.update_info(self.dir, name=self.run, workspace=self.workspace, **fields)

    def warn(self, kind: str, message: str, **extra) -> None:
        """A warning on stderr and in the events (``kind``: see runs.WarningEvent)."""
        self.log(f"warning: {message}")
        self.events.emit(runs.WarningEvent(type="warning", kind=kind, message=message, **extra))

    def disk_full(self, exc: BaseException) -> TrainError | None:
        """A TrainError that says what to do, for a write that failed because the disk (or quota) is full."""
        if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT):
            return TrainError(f"{exc.strerror} ({exc.filename or self.dir}): free some space, then {self.resume_hint}")
        return None

    def record_failure(self, exc: BaseException, step: int) -> None:
        """An error event, and status failed; a new run that never got going leaves no half-made run behind.
        Each write is tried on its own: on a full disk the event may not fit, and run.json must still say failed."""
        ours = isinstance(exc, (RunError, bases.BaseError))
        message = str(exc) if ours else f"{type(exc).__name__}: {exc}"
        event = runs.ErrorEvent(type="error", message=message, step=step)
        if not ours:
            event["traceback"] = traceback.format_exc(limit=8)
        try:
            self.open_events()
            self.emit(event)
        except OSError:
            pass
        if (self.dir / runs.RUN_FILE).exists():
            try:
                self.update(status=runs.FAILED, error=message)
            except OSError:  # readers still see that the lock's process is gone and say failed
                pass
        else:  # failed while preparing: the name stays free for the next try
            for name in (runs.DATA_DIR, runs.INIT_DIR):
                shutil.rmtree(self.dir / name, ignore_errors=True)
            (self.dir / SPEC_FILE).unlink(missing_ok=True)

    def close(self) -> None:
        self.events.close()
        if self.locked:
            runs.release_lock(self.dir)
            self.locked = False
