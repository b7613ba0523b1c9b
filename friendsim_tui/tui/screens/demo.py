"""The demo's journey in one go: the dashboard while the sample trains, then the chat.

`friendsim-tui demo` opens this on top of Home. When the run is done, the dashboard stays for the user
to read how training went; enter opens the chat as one of the sample friends with an opening line, and
the first candidates are sampled at once.
"""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any, Sequence

from textual.binding import Binding

from friendsim_tui.turns import Turn
from friendsim_tui.tui.run_state import DONE
from friendsim_tui.tui.screens.dashboard import DashboardScreen


def open_demo_chat(app, workspace: str, run: str, player: str, opening: Sequence[Turn],
                   open_sampler: Any = None, replace: bool = False) -> None:
    from friendsim_tui.tui.screens.chat import ChatScreen

    screen = ChatScreen(workspace, run, player, seed_turns=list(opening), autostart=True, open_sampler=open_sampler)
    (app.switch_screen if replace else app.push_screen)(screen)


class DemoDashboard(DashboardScreen):
    """The training dashboard that offers the chat once the run is done (enter)."""

    BINDINGS = [Binding("enter", "open_chat", "Chat", tooltip="Go on to the chat with the model just trained")]

    def __init__(self, run_dir: Path, *, workspace: str, player: str, opening: Sequence[Turn],
                 process: subprocess.Popen | None = None, open_sampler: Any = None,
                 poll_interval: float | None = None) -> None:
        super().__init__(run_dir, workspace=workspace, process=process, poll_interval=poll_interval)
        self.player = player
        self.opening = list(opening)
        self._open_sampler = open_sampler
        self.announced = False
        self.handed_over = False
        """The chat has been opened."""

    def refresh_view(self) -> None:
        super().refresh_view()
        if self.state.status == DONE and not self.announced:
            self.announced = True
            self.notify(f"Training done. Press enter to chat: you play {self.player}.", markup=False, timeout=30)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "open_chat":
            return self.state.status == DONE and not self.handed_over
        return super().check_action(action, parameters)

    def action_open_chat(self) -> None:
        self.handed_over = True
        open_demo_chat(self.app, self.workspace, self.run_name, self.player, self.opening,
                       self._open_sampler, replace=True)
