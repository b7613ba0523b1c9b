"""The training dashboard: follows one run through its events file.

Training runs in its own process (``friendsim-tui train``) and appends JSON lines to
``<run>/events.jsonl``; this screen tails that file on a timer, reading in a thread worker and folding
the events into a :class:`RunState` on the event loop. Leaving the screen (d / esc) or closing the app
leaves the training running; opening the dashboard again rebuilds everything from the file. Once the run
has finished, the same worker reads its held-out figures (computed at the end of the run) for the
"Who sounds like whom" panel.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Footer

from friendsim_tui.runs import LOG_FILE
from friendsim_tui.tui.commands import PaletteCommand
from friendsim_tui.tui.run_state import DONE, FAILED, RUNNING, STOPPED, WAITING, ReadResult, RunState, RunWatcher
from friendsim_tui.tui.widgets.attribution import WhoPanel
from friendsim_tui.tui.widgets.loss_chart import LossChart
from friendsim_tui.tui.widgets.run_panels import (
    ChartRow,
    DevicePanel,
    RunHeader,
    RunProgress,
    RunStatus,
    SamplesPanel,
)

TRAIN_LOG = LOG_FILE
"""Where services.training.start_run sends the train process's output (read when it dies early)."""
LIVENESS_EVERY = 4
"""Check that the train process is still alive every this many polls (about every 2 s)."""


def workspace_of(run_dir: Path) -> str:
    """``<workspace>/runs/<run>`` -> the workspace's folder name."""
    run_dir = Path(run_dir)
    return run_dir.parent.parent.name if run_dir.parent.name == "runs" else run_dir.parent.name


def _log_size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


CLI_PREFIX = "friendsim-tui: "
"""How the train command starts the one line that says why it failed."""


def _log_tail(path: Path, start: int = 0, lines: int = 3) -> str:
    """The last lines the train process wrote to its log after ``start`` (earlier tries are older); when
    one of them is the command's own one-line failure, just that line, without the command's name."""
    try:
        with open(path, "rb") as fh:
            fh.seek(start)
            text = fh.read().decode("utf-8", errors="replace")
    except OSError:
        return ""
    kept = [line.strip() for line in text.splitlines() if line.strip()]
    failure = next((line for line in reversed(kept) if line.startswith(CLI_PREFIX)), None)
    return failure.removeprefix(CLI_PREFIX) if failure else " ".join(kept[-lines:])


def _service_status(workspace: str, run: str) -> str | None:
    """running / done / stopped / failed as the run's files and lock say; None when it cannot tell."""
    from friendsim_tui.services import training

    try:
        return training.run_status(workspace, run)["status"]
    except Exception:  # a folder outside any workspace, unreadable files: keep what the events say
        return None


def _service_figures(workspace: str, run: str) -> dict:
    """The held-out figures of a finished run (engine.evaluate.KEYS); empty when it has none or cannot tell."""
    from friendsim_tui.services import training

    try:
        figures = training.run_status(workspace, run).get("evaluation")
    except Exception:  # a folder outside any workspace, unreadable files: the panel keeps the last eval's
        return {}
    return figures if isinstance(figures, dict) else {}


class DashboardScreen(Screen):
    """Live view of one training run: loss, progress, device, samples; stop, resume, detach."""

    BINDINGS = [
        Binding("s", "stop", "Stop & save", tooltip="Save a checkpoint, then stop the run"),
        Binding("r", "resume", "Resume", tooltip="Go on from the newest checkpoint"),
        Binding("d", "detach", "Detach (keeps training)", tooltip="Leave the dashboard; the run keeps training"),
        Binding("escape", "back", "Back"),
    ]
    HELP_TITLE = "Training dashboard"
    VERTICAL_BREAKPOINTS = [(0, "-short"), (30, "-tall")]
    """Short terminals put the samples and "Who sounds like whom" side by side, to leave the loss chart room."""

    POLL_INTERVAL = 0.5

    class EventsRead(Message):
        """What one tail read brought (posted from the reading thread)."""

        def __init__(self, results: list[ReadResult], status: str | None = None, log_line: str | None = None,
                     exited: tuple[subprocess.Popen, int] | None = None, figures: dict | None = None) -> None:
            super().__init__()
            self.results = results
            self.figures = figures
            """The finished run's held-out figures, when this read was asked for them (else None)."""
            self.status = status
            """What the run's lock and run.json say, when this read checked (else None)."""
            self.log_line = log_line
            """The train process's latest output line, while it starts up (else None)."""
            self.exited = exited
            """(process, exit code) when the process this app started had exited before the read."""

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
        self._log_start = _log_size(self.run_dir / TRAIN_LOG)
        self.log_line: str | None = None
        """What the train process last printed while starting up (shown until its first event)."""
        self.poll_interval = poll_interval or self.POLL_INTERVAL
        self._reading = False
        self._polls = 0
        self.figures: dict | None = None
        """The held-out figures of the finished run ({} when it has none); None until read."""

    @property
    def state(self) -> RunState:
        return self.watcher.state

    def compose(self) -> ComposeResult:
        yield RunHeader(id="run-header")
        with ChartRow():
            yield LossChart(id="run-loss")
            yield DevicePanel(id="run-device")
        yield RunProgress(id="run-progress")
        yield RunStatus(id="run-status")
        with Horizontal(id="run-voices"):
            yield SamplesPanel(id="run-samples")
            yield WhoPanel(id="run-who")
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
            self._polls += 1
            check = self.state.status == RUNNING and self._polls % LIVENESS_EVERY == 0
            starting = self.state.status == WAITING or self.state.resuming
            figures = self.state.status == DONE and self.figures is None and not self.state.resuming
            self._read_events(check, starting, figures)

    @work(thread=True, exit_on_error=False, group="events")
    def _read_events(self, check_alive: bool = False, read_log: bool = False, read_figures: bool = False) -> None:
        results: list[ReadResult] = []
        status = log_line = exited = figures = None
        try:
            if read_figures:  # written before the run's end: there by the time its done event is read
                figures = _service_figures(self.workspace, self.run_name)
            # Whether our process exited is asked before reading: everything it wrote is then read too.
            process = self.process
            if process is not None and process.poll() is not None:
                exited = (process, process.returncode)
            if read_log:  # loading a base or building a tokenizer takes a while: say what it is doing
                log_line = _log_tail(self.run_dir / TRAIN_LOG, self._log_start, lines=1) or None
            # Liveness first, events second: a process that wrote its end and then exited is never
            # mistaken for one that vanished.
            if check_alive:
                status = _service_status(self.workspace, self.run_name)
            while len(results) < 16:
                result = self.watcher.tail.read()
                results.append(result)
                if not result.more:
                    break
        finally:
            self.post_message(self.EventsRead(results, status, log_line, exited, figures))

    def on_dashboard_screen_events_read(self, message: EventsRead) -> None:
        self._reading = False
        changed = [self.watcher.fold(result) for result in message.results]
        if message.figures is not None and self.state.status == DONE:
            self.figures = message.figures
            changed.append(True)
        elif self.state.status != DONE and self.figures is not None:  # resumed or trained again: read them anew
            self.figures = None
            changed.append(True)
        if message.log_line != self.log_line:
            self.log_line = message.log_line
            changed.append(True)
        more = bool(message.results) and message.results[-1].more
        if message.exited and not more and message.exited[0] is self.process:
            changed.append(self._process_exited(message.exited[1]))
        if message.status is not None and message.status != RUNNING and self.state.status == RUNNING:
            # The process is gone without writing its end (killed, out of memory, power loss).
            self.state.mark_gone(message.status)
            changed.append(True)
        if any(changed):
            self.refresh_view()
        if more:
            self.poll()  # catching up with a long file: keep reading without waiting for the timer

    def _process_exited(self, code: int) -> bool:
        """The train process we started has exited: a failure when it did not write its end first."""
        self.process = None
        if code != 0 and (not self.state.finished or self.state.resuming):  # (a resume that failed to start too)
            detail = _log_tail(self.run_dir / TRAIN_LOG, self._log_start)
            self.process_error = detail or f"the training process exited with code {code}"
            self.state.apply({"type": "error", "message": self.process_error})  # failed, even before it started
            return True
        return False

    def refresh_view(self) -> None:
        state = self.state
        self.query_one(RunHeader).show(state, self.workspace, self.run_name)
        self.query_one(LossChart).set_data(state.steps, state.losses, [(s, v) for s, v, _ in state.evals],
                                           state.attributions)
        self.query_one(DevicePanel).show(state)
        self.query_one(RunProgress).show(state)
        self.query_one(RunStatus).show(state, None if state.status == RUNNING else self.process_error, self.log_line)
        self.query_one(SamplesPanel).show(state)
        self.query_one(WhoPanel).show(state, self.figures)
        self.refresh_bindings()

    # -- keys --------------------------------------------------------------------------------------

    @property
    def may_be_training(self) -> bool:
        """A process may be training this run: it runs, is starting, or is resuming."""
        return self.state.status in (RUNNING, WAITING) or self.state.resuming

    @property
    def can_resume(self) -> bool:
        """Stopped or failed, with a checkpoint to go on from (resuming needs one)."""
        ended = self.state.status in (STOPPED, FAILED) or self.process_error is not None
        return ended and bool(self.state.checkpoints) and not self.state.resuming

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # Keys that do nothing for the run as it stands are hidden from the footer.
        if action == "stop":
            return self.state.status == RUNNING and not self.state.stop_requested
        if action == "resume":
            return self.can_resume
        if action == "detach":
            return self.may_be_training  # once it has ended, esc Back says it all
        return True

    def palette_commands(self) -> list[PaletteCommand]:
        cmds = []
        if self.check_action("stop", ()):
            cmds.append(PaletteCommand("Stop & save", "Save a checkpoint and stop this run (s)", self.action_stop))
        if self.check_action("resume", ()):
            cmds.append(PaletteCommand("Resume run", "Continue from the newest checkpoint (r)", self.action_resume))
        if self.check_action("detach", ()):
            cmds.append(PaletteCommand("Detach", "Leave the dashboard; training keeps going (d)", self.action_detach))
        else:
            cmds.append(PaletteCommand("Back", "Leave the dashboard (esc)", self.action_back))
        return cmds

    def action_stop(self) -> None:
        from friendsim_tui.services import training

        if self.state.status != RUNNING:
            self.notify("This run is not running.", severity="warning")
            return
        try:
            training.request_stop(self.workspace, self.run_name)
        except (training.TrainingFailed, OSError) as exc:
            self.notify(f"Could not ask the run to stop: {exc}", severity="error")
            return
        self.state.stop_requested = True
        self.refresh_view()
        self.notify("Stopping: the run saves a checkpoint, then exits.")

    def action_resume(self) -> None:
        from friendsim_tui.services import training

        if not self.can_resume:
            self.notify("Only a stopped or failed run with a checkpoint can be resumed.", severity="warning")
            return
        config = getattr(self.app, "config", None)
        self._log_start = _log_size(self.run_dir / TRAIN_LOG)
        try:
            _run, self.process = training.start_run(
                self.workspace, run=self.run_name, resume=True, config=getattr(config, "source", None)
            )
        except (training.TrainingFailed, OSError) as exc:
            self.notify(f"Could not resume: {exc}", severity="error")
            return
        self.process_error = None
        self.state.resuming = True
        self.notify(f"Resuming {self.run_name}…")
        self.refresh_view()

    def action_back(self) -> None:
        self.action_detach()

    def action_detach(self) -> None:
        if self.state.status == RUNNING:
            self.notify("Training keeps going; open the run again to follow it.")
        if len(self.app.screen_stack) > 1:
            self.app.pop_screen()
