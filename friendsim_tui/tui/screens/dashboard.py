"""The training dashboard: follows one run through its events file.

Training runs in its own process (``friendsim-tui train``) and appends JSON lines to
``<run>/events.jsonl``; this screen tails that file on a timer, reading in a thread worker and folding
the events into a :class:`RunState` on the event loop. Leaving the screen (d / esc) or closing the app
leaves the training running; opening the dashboard again rebuilds everything from the file.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import IO

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Footer

from friendsim_tui.tui.events import FAILED, RUNNING, STOPPED, ReadResult, RunWatcher
from friendsim_tui.tui.widgets.loss_chart import LossChart
from friendsim_tui.tui.widgets.run_panels import (
    ChartRow,
    DevicePanel,
    RunHeader,
    RunProgress,
    RunStatus,
    SamplesPanel,
)

STOP_FILE = "STOP"
"""Created in the run folder to ask the training process to save a checkpoint and exit."""


def stop_file(run_dir: Path) -> Path:
    """The file the training process watches for a stop request (the engine's name when it has one)."""
    try:
        from friendsim_tui.engine import train

        name = getattr(train, "STOP_FILE", None)
    except Exception:  # the engine (torch) is not importable here: fall back to the agreed name
        name = None
    return Path(run_dir) / (name or STOP_FILE)


def workspace_of(run_dir: Path) -> str:
    """``<workspace>/runs/<run>`` -> the workspace's folder name."""
    run_dir = Path(run_dir)
    return run_dir.parent.parent.name if run_dir.parent.name == "runs" else run_dir.parent.name


def launch_log(workspace: str, run: str) -> Path:
    from friendsim_tui import paths

    logs = paths.private_dir(paths.data_dir() / "logs")
    return logs / f"train-{workspace}-{run}.log"


def launch_train(workspace: str, run: str, options: list[str] | None = None, *, resume: bool = False,
                 config_path: Path | None = None) -> subprocess.Popen:
    """Start ``friendsim-tui train`` as a process of its own (it outlives the app), output to a log file."""
    from friendsim_tui import paths

    cmd = [sys.executable, "-m", "friendsim_tui", "--data-dir", str(paths.data_dir())]
    if config_path:
        cmd += ["--config", str(config_path)]
    cmd += ["train", "--workspace", workspace, "--run", run, *(options or [])]
    if resume:
        cmd.append("--resume")
    log: IO[bytes] = paths.open_private(launch_log(workspace, run), "ab")
    try:
        return subprocess.Popen(
            cmd, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True, close_fds=True,
        )
    finally:
        log.close()


def _log_tail(path: Path, lines: int = 3) -> str:
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""
    kept = [line for line in text.splitlines() if line.strip()]
    return " ".join(kept[-lines:])


class DashboardScreen(Screen):
    """Live view of one training run: loss, progress, device, samples; stop, resume, detach."""

    BINDINGS = [
        Binding("s", "stop", "Stop & save"),
        Binding("r", "resume", "Resume"),
        Binding("d", "detach", "Detach (keeps training)"),
        Binding("escape", "back", "Back"),
    ]

    POLL_INTERVAL = 0.5

    class EventsRead(Message):
        """What one tail read brought (posted from the reading thread)."""

        def __init__(self, results: list[ReadResult]) -> None:
            super().__init__()
            self.results = results

    def __init__(
        self,
        run_dir: Path,
        *,
        workspace: str | None = None,
        process: subprocess.Popen | None = None,
        poll_interval: float | None = None,
    ) -> None:
        super().__init__()
        self.run_dir = Path(run_dir)
        self.run_name = self.run_dir.name
        self.workspace = workspace or workspace_of(self.run_dir)
        self.watcher = RunWatcher(self.run_dir)
        self.process = process
        """The train process when this app started it: an early exit is then shown as a failure."""
        self.process_error: str | None = None
        self.poll_interval = poll_interval or self.POLL_INTERVAL
        self._reading = False

    @property
    def state(self):
        return self.watcher.state

    def compose(self) -> ComposeResult:
        yield RunHeader(id="run-header")
        with ChartRow():
            yield LossChart(id="loss-chart")
            yield DevicePanel(id="device")
        yield RunProgress(id="progress")
        yield RunStatus(id="run-status")
        yield SamplesPanel(id="samples")
        yield Footer()

    def on_mount(self) -> None:
        self.sub_title = f"training {self.run_name}"
        self.refresh_view()
        self.poll()
        self.set_interval(self.poll_interval, self.poll)

    # -- tailing -----------------------------------------------------------------------------------

    def poll(self) -> None:
        """Read what was appended since the last poll (in a thread); one read at a time."""
        if not self._reading:
            self._reading = True
            self._read_events()

    @work(thread=True, exit_on_error=False, group="events")
    def _read_events(self) -> None:
        results: list[ReadResult] = []
        try:
            while len(results) < 16:
                result = self.watcher.tail.read()
                results.append(result)
                if not result.more:
                    break
        finally:
            self.post_message(self.EventsRead(results))

    def on_dashboard_screen_events_read(self, message: EventsRead) -> None:
        self._reading = False
        changed = [self.watcher.fold(result) for result in message.results]
        more = bool(message.results) and message.results[-1].more
        changed.append(self._check_process())
        if any(changed):
            self.refresh_view()
        if more:
            self.poll()  # catching up with a long file: keep reading without waiting for the timer

    def _check_process(self) -> bool:
        """Notice a train process we started that exited without writing its end to the events file."""
        if self.process is None or self.process.poll() is None:
            return False
        code, self.process = self.process.returncode, None
        if code != 0 and not self.state.finished:
            detail = _log_tail(launch_log(self.workspace, self.run_name))
            self.process_error = detail or f"the training process exited with code {code}"
            return True
        return False

    def refresh_view(self) -> None:
        state = self.state
        self.query_one(RunHeader).show(state, self.workspace, self.run_name)
        self.query_one(LossChart).set_data(state.steps, state.losses, [(s, v) for s, v, _ in state.evals])
        self.query_one(DevicePanel).show(state)
        self.query_one(RunProgress).show(state)
        self.query_one(RunStatus).show(state, None if state.status == RUNNING else self.process_error)
        self.query_one(SamplesPanel).show(state)
        self.refresh_bindings()

    # -- keys --------------------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # Keys that do nothing for the run as it stands are hidden from the footer.
        if action == "stop":
            return self.state.status == RUNNING and not self.state.stop_requested
        if action == "resume":
            return self.state.status in (STOPPED, FAILED) or self.process_error is not None
        return True

    def action_stop(self) -> None:
        if self.state.status != RUNNING:
            self.notify("This run is not running.", severity="warning")
            return
        path = stop_file(self.run_dir)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.touch()
        except OSError as exc:
            self.notify(f"Could not ask the run to stop: {exc}", severity="error")
            return
        self.state.stop_requested = True
        self.refresh_view()
        self.notify("Stopping: the run saves a checkpoint, then exits.")

    def action_resume(self) -> None:
        if self.state.status not in (STOPPED, FAILED) and self.process_error is None:
            self.notify("Only a stopped or failed run can be resumed.", severity="warning")
            return
        try:
            stop_file(self.run_dir).unlink(missing_ok=True)
        except OSError:
            pass
        config = getattr(self.app, "config", None)
        try:
            self.process = launch_train(
                self.workspace, self.run_name, resume=True, config_path=getattr(config, "source", None)
            )
        except OSError as exc:
            self.notify(f"Could not start training: {exc}", severity="error")
            return
        self.process_error = None
        self.notify(f"Resuming {self.run_name}…")
        self.refresh_view()

    def action_back(self) -> None:
        self.action_detach()

    def action_detach(self) -> None:
        if self.state.status == RUNNING:
            self.notify("Training keeps going; open the run again to follow it.")
        if len(self.app.screen_stack) > 1:
            self.app.pop_screen()
