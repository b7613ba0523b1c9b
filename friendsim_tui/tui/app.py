"""The FriendSim app shell: Home first, Import on a key; one stylesheet (app.tcss).

Keep this module's imports light (no torch/transformers, no services at module level): the first
screen must draw in well under a second and a half.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Callable

from textual.app import App
from textual.binding import Binding
from textual.screen import Screen

from friendsim_tui import crash
from friendsim_tui.tui.commands import ScreenCommands

if TYPE_CHECKING:
    from friendsim_tui.config import Config


class FriendSimApp(App[int]):
    CSS_PATH = "app.tcss"
    TITLE = "FriendSim"
    COMMANDS = App.COMMANDS | {ScreenCommands}
    COMMAND_PALETTE_BINDING = "ctrl+p"
    BINDINGS = [
        # F1 works everywhere, dialogs included (a priority binding); "?" only where no text field takes
        # it as a character (Textual gives a focused Input every printable key before other bindings).
        Binding("f1", "help", "Help", priority=True),
        Binding("question_mark", "help", "Help", key_display="?", show=False),
    ]

    def __init__(
        self,
        config: Config | None = None,
        *,
        start_dir: str | Path | None = None,
        cursor_blink: bool = True,
        on_start: Callable[[App], None] | None = None,
        warm_engine: bool = False,
    ) -> None:
        super().__init__()
        self.warm_engine = warm_engine
        """Import torch and transformers in the background once Home is up, so a chat opens fast."""
        self.on_start = on_start
        """Called once Home is up, e.g. to open the demo's dashboard on top of it."""
        self.config = config
        self.start_dir = Path(start_dir) if start_dir else Path.cwd()
        """Where the Import screen's file browser opens."""
        self.cursor_blink = cursor_blink
        """False in tests, so snapshots are stable (see widgets.text_input)."""
        self.workspace: str | None = None
        """The workspace shown on Home; the default target of an import."""
        self.workspace_names: list[str] = []

    def on_mount(self) -> None:
        if self.warm_engine:
            from friendsim_tui.services.models import warm_up

            self.call_after_refresh(warm_up)
        if self.on_start is not None:
            self.call_after_refresh(self.on_start, self)

    def action_help(self) -> None:
        """List every key of the current screen (the list closes itself on esc, ? or F1)."""
        from friendsim_tui.tui.screens.dialogs import HelpScreen, help_sections, screen_title

        if isinstance(self.screen, HelpScreen):
            self.screen.dismiss(None)
        else:
            self.push_screen(HelpScreen(screen_title(self.screen), help_sections(self.screen)))

    def get_default_screen(self) -> Screen:
        from friendsim_tui.tui.screens.home import HomeScreen

        return HomeScreen()

    # -- a bug that reaches the top ----------------------------------------------------------------
    # Textual's own report of an unhandled exception is a traceback with the local variables of every
    # frame: on screen, and holding the user's messages. We show one line instead and keep the details in
    # a private log on this machine (friendsim_tui.crash, as the command line does).

    crash_report: str | None = None
    """The one line to show once the app has gone, when a bug ended it (``run_app`` prints it)."""

    def _handle_exception(self, error: Exception) -> None:
        if self.crash_report is None:
            self.crash_report = crash.report(error)
        super()._handle_exception(error)

    def _fatal_error(self) -> None:
        self.bell()
        self._close_messages_no_wait()  # and no traceback among the exit renderables


def run_app(config: Config | None = None, on_start: Callable[[App], None] | None = None) -> int:
    """Run the app in the terminal; returns the process exit code."""
    app = FriendSimApp(config, on_start=on_start, warm_engine=True)
    app.run()
    if app.crash_report:
        print(app.crash_report, file=sys.stderr)
    return app.return_code or 0
