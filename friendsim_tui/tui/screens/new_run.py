"""Train: a workspace's runs (enter attaches the dashboard) and the form that starts a new one.

Opened with ``open_running`` (the Home screen's ``t``), a run that is training right now opens its
dashboard at once; esc from there comes back here. The list of runs follows their progress while the
screen is shown.
"""

from __future__ import annotations

from functools import partial
from typing import Any

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.content import Content
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Footer, OptionList

from friendsim_tui.config import TrainConfig
from friendsim_tui.tui.commands import PaletteCommand
from friendsim_tui.tui.run_state import RUNNING
from friendsim_tui.tui.screens.dashboard import DashboardScreen
from friendsim_tui.tui.text import inert_content
from friendsim_tui.tui.widgets.run_form import RunForm
from friendsim_tui.tui.widgets.run_list import RunList
from friendsim_tui.tui.widgets.run_panels import RunHeader


RUNS_EVERY = 2.0
"""Seconds between reads of the run list while the screen is shown (steps, statuses)."""


class NewRunScreen(Screen):
    BINDINGS = [
        Binding("ctrl+s", "start", "Start training", tooltip="Start a run with the form's settings"),
        Binding("escape", "back", "Back"),
    ]
    HELP_TITLE = "Train"

    class RunsLoaded(Message):
        def __init__(self, runs: list[dict[str, Any]] | None, error: str | None = None) -> None:
            super().__init__()
            self.runs = runs
            self.error = error

    class CatalogLoaded(Message):
        def __init__(self, rows: list[dict[str, Any]]) -> None:
            super().__init__()
            self.rows = rows

    def __init__(self, workspace: str, *, open_running: bool = False) -> None:
        super().__init__()
        self.workspace = workspace
        self.open_running = open_running
        self.runs: list[dict[str, Any]] | None = None

    @property
    def defaults(self) -> TrainConfig:
        config = getattr(self.app, "config", None)
        return getattr(config, "train", None) or TrainConfig()

    def compose(self) -> ComposeResult:
        yield RunHeader(Content.assemble("Train ", inert_content(self.workspace)))
        with VerticalScroll():
            yield RunList(id="run-list")
            yield RunForm(self.defaults, id="run-form")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#base").focus()  # enter opens the bases; the run list takes the focus if it has runs
        self._load_runs()
        self._load_catalog(self.defaults.block_size)
        self.set_interval(RUNS_EVERY, self._refresh_runs)

    def _refresh_runs(self) -> None:
        if self.is_current and self.runs is not None:
            self._load_runs()

    def help_here(self, focused) -> list[tuple[str, str]]:
        return [("enter", "Open the highlighted run's dashboard")] if focused.id == "run-list" else []

    def on_screen_resume(self) -> None:
        if self.runs is not None:  # back from a dashboard: statuses may have changed
            self._load_runs()

    # -- loading (threads: list_runs reads files and locks, the catalog asks torch about memory) -----

    @work(thread=True, exclusive=True, exit_on_error=False, group="runs")
    def _load_runs(self) -> None:
        from friendsim_tui.services import training

        try:
            self.post_message(self.RunsLoaded(training.list_runs(self.workspace)))
        except Exception as exc:  # an unreadable workspace: say so, keep the form usable
            self.post_message(self.RunsLoaded(None, f"{type(exc).__name__}: {exc}"))

    @work(thread=True, exclusive=True, exit_on_error=False, group="catalog")
    def _load_catalog(self, block_size: int) -> None:
        from friendsim_tui.engine import bases

        try:
            rows = bases.catalog(block_size=block_size)
        except Exception:
            rows = [{"id": entry.id, "params": entry.params, "note": entry.note} for entry in bases.CATALOG]
        self.post_message(self.CatalogLoaded(rows))

    def on_new_run_screen_runs_loaded(self, message: RunsLoaded) -> None:
        first = self.runs is None
        runs = message.runs or []
        if runs != self.runs:
            self.runs = runs
            self.query_one(RunList).set_runs(self.runs)
        if message.error and first:
            self.notify(f"Could not list runs: {message.error}", severity="error")
        if first and self.runs and self.focused is self.query_one("#base"):
            self.query_one(RunList).focus()  # enter opens the newest run
        running = [r for r in self.runs if r.get("status") == RUNNING]
        if first and self.open_running and running:
            self._open(str(running[0]["name"]))

    def on_new_run_screen_catalog_loaded(self, message: CatalogLoaded) -> None:
        self.query_one(RunForm).set_catalog(message.rows)

    # -- actions -----------------------------------------------------------------------------------

    @on(OptionList.OptionSelected, "#run-list")
    def _attach_run(self, event: OptionList.OptionSelected) -> None:
        if event.option.id:
            self._open(event.option.id)

    def _open(self, run: str, process=None) -> None:
        from friendsim_tui.services import training

        try:
            folder = training.run_dir(self.workspace, run)
        except ValueError as exc:  # a folder made by hand, named as no run can be
            self.notify(str(exc), severity="error")
            return
        self.app.push_screen(DashboardScreen(folder, workspace=self.workspace, process=process))

    def action_start(self) -> None:
        from friendsim_tui.services import training

        form = self.query_one(RunForm)
        try:
            cfg, name = form.request()
        except ValueError as exc:
            form.show_error(str(exc))
            return
        config = getattr(self.app, "config", None)
        try:  # start_run refuses a workspace with nothing to train on before it starts anything
            run, process = training.start_run(self.workspace, cfg, run=name, config=getattr(config, "source", None))
        except (training.TrainingFailed, OSError, ValueError) as exc:
            form.show_error(f"Could not start training: {exc}")
            return
        form.show_error("")
        self._open(run, process)

    def palette_commands(self) -> list[PaletteCommand]:
        cmds = [PaletteCommand("Start training", "Start a run with the form's settings (ctrl+s)", self.action_start)]
        for run in self.runs or []:
            name = str(run.get("name"))
            cmds.append(PaletteCommand(f"Open run {name}", "Open its dashboard", partial(self._open, name)))
        return cmds

    def action_back(self) -> None:
        self.app.pop_screen()
