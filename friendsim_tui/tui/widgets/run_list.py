"""A workspace's training runs as a list to pick from (attach to a running one, look at a finished one)."""

from __future__ import annotations

from typing import Any

from textual.content import Content
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from friendsim_tui.tui.run_state import DONE, FAILED, RUNNING, STOPPED, as_number
from friendsim_tui.tui.text import inert

_MARKS = {RUNNING: ("◷", "$success"), DONE: ("✓", "$success"), STOPPED: ("■", "$warning"), FAILED: ("✗", "$error")}
NAME_WIDTH = 28


def run_row(run: dict[str, Any], name_width: int = NAME_WIDTH) -> Content:
    """One run from ``services.training.list_runs``: mark, name (padded to ``name_width``), progress,
    status, latest losses. Meant for one line: show it with ``text-wrap: nowrap``."""
    status = str(run.get("status") or "")
    mark, style = _MARKS.get(status, ("?", "$text-muted"))
    step, max_steps = run.get("step") or 0, run.get("max_steps")
    facts = [f"step {step:,}/{max_steps:,}" if isinstance(max_steps, int) else f"step {step:,}", status]
    for label, key in (("loss", "loss"), ("eval", "eval_loss")):
        value = as_number(run.get(key))
        if value is not None:
            facts.append(f"{label} {value:.3f}")
    if run.get("base"):
        facts.append(inert(str(run["base"]), limit=24) + (" LoRA" if run.get("lora") else ""))
    name = inert(str(run.get("name", "?")), limit=name_width).ljust(name_width)
    return Content.assemble((mark, style), " ", (name, "bold"), " ", (" · ".join(facts), "$text-muted"))


def names_width(runs: list[dict[str, Any]]) -> int:
    """Room for the longest of these run names (up to NAME_WIDTH), so the facts start in one column."""
    return min(NAME_WIDTH, max((len(inert(str(run.get("name", "?")))) for run in runs), default=0))


class RunList(OptionList):
    """Runs, newest first; the option id is the run's name."""

    DEFAULT_CSS = """
    RunList {
        height: auto;
        max-height: 10;
        border: round $primary 60%;
        border-title-color: $text;
    }
    RunList:focus { border: round $primary; }
    RunList { text-wrap: nowrap; text-overflow: ellipsis; }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.border_title = "Runs"

    def set_runs(self, runs: list[dict[str, Any]]) -> None:
        highlighted = self.highlighted_option.id if self.highlighted_option else None
        self.clear_options()
        if not runs:
            self.add_option(Option(Content.styled("no runs yet: start one below", "$text-muted"), disabled=True))
            return
        width = names_width(runs)
        self.add_options(Option(run_row(run, width), id=str(run.get("name"))) for run in runs)
        names = [str(run.get("name")) for run in runs]
        self.highlighted = names.index(highlighted) if highlighted in names else 0
