"""A quiet line that says the model engine is loading in the background (and nothing once it is loaded)."""

from __future__ import annotations

from textual.content import Content
from textual.widgets import Static

from friendsim_tui.services import models
from friendsim_tui.tui.widgets.candidates import SPINNER


class EngineHint(Static):
    """``⠋ loading the model engine…`` while services.models warms up; hidden before and after."""

    DEFAULT_CSS = """
    EngineHint {
        width: auto;
        color: $text-muted;
        padding: 0 1;
    }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(Content(""), id=id)
        self._frame = 0

    def on_mount(self) -> None:
        self.display = False
        self._timer = self.set_interval(0.2, self._tick)

    def _tick(self) -> None:
        state = models.engine_state()
        if state == "warming":
            self._frame = (self._frame + 1) % len(SPINNER)
            self.update(Content(f"{SPINNER[self._frame]} loading the model engine…"))
            self.display = True
        elif self.display or state != "cold":
            self.display = False
            if state != "cold":  # ready or failed: nothing more to say
                self._timer.stop()
