"""Data and helpers shared by the app's tests (imported by conftest and the test modules)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Callable

SIZE = (100, 30)
"""Terminal size of every snapshot."""

SMALL = (80, 24)
"""The smallest terminal the app is made for: every screen has a snapshot at this size too."""

SENTENCE = "Hi r m x, u a? i t c g n q s d e f! 0 9 (ok) [b] -_.;:'\"/~"
"""What a person might type mid-sentence: letters that are keys elsewhere, digits, punctuation, space."""

PATIENCE = 60.0
"""How long a test waits for something the app should do before calling it a failure. Generous on purpose:
it only runs out when the test fails anyway, and a loaded 2-core machine can be many times slower than
a quiet one."""


WEEKEND_CREW = """\
Maya: omg the ramen place was SO good lol
Jonas: Well, to be fair, the train was late again.
pixel_dan: bro the patch notes are cooked
Maya: who's up for karaoke friday?
Jonas: Hmm. Depends on the weather.
Maya: it's INDOORS jonas
pixel_dan: say less
Maya: 8pm then
Jonas: Right. 8pm.
Maya: bring snacks
"""

FAMILY = """\
Mum: dinner at 7
Dad: I'll bring the bread.
Mum: thanks love
"""

NEW_CHAT = """\
Maya: did anyone see the match
Ravi: yes!! what a finish
Ravi: still can't believe it
Maya: same
NewBot: Reminder: trash day
"""


# Speaker names and messages that would do harm if parsed as markup or passed to the terminal.
HOSTILE = (
    "\x1b[31mred: \x1b[31mred text\x1b[0m and \x1b]8;;http://x\x07link\n"
    "[bold]x[/]: hello [bold]x[/] and [0] and [/]\n"
    "[@click=app.quit]y: click [@click=app.quit]me[/]\n"
    "[bold]x[/]: again\n"
)


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


async def wait_until(pilot, predicate: Callable[[], object], what: str = "condition",
                     timeout: float = PATIENCE) -> None:
    """Poll the UI until ``predicate()`` holds, instead of sleeping blindly."""
    deadline = time.monotonic() + timeout
    while True:
        await pilot.pause()
        try:
            if predicate():
                return
        except Exception:  # e.g. a widget not mounted yet
            pass
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        await pilot.pause(0.02)


def speaker_rows(app, table_id: str = "#speakers") -> list[tuple[str, ...]]:
    """The plain text of each row of a RowTable on the current screen."""
    table = app.screen.query_one(table_id)
    return [tuple(getattr(cell, "plain", str(cell)) for cell in table.get_row_at(i)) for i in range(table.row_count)]


def screen_text(app) -> str:
    """Everything the terminal shows now, as plain text lines (what a person reads)."""
    from textual.strip import Strip

    update = app.screen._compositor.render_full_update(simplify=True)
    return "\n".join(Strip.join(strips).text for strips in update.strips)


async def type_sentence_everywhere(pilot, state: Callable[[], object] = lambda: None) -> None:
    """Focus each text field of the current screen in turn and type :data:`SENTENCE` into it: every
    character lands in the field (as far as the field accepts it), no action fires, no dialog opens,
    and ``state()`` (what an action would change) stays as it was."""
    import re

    from textual.widgets import Input

    app = pilot.app
    screen = app.screen
    fields = [w for w in screen.query(Input) if w.focusable]
    assert fields, "the screen has no text field"
    before = state()
    for field in fields:
        kept = field.value
        field.value = ""
        field.focus()
        await pilot.press(*SENTENCE)
        await pilot.pause()
        assert app.screen is screen, f"typing in #{field.id} left the screen for {app.screen!r}"
        accepted = ""
        for c in SENTENCE:  # a restricted field (numbers, run names) takes what it allows
            if field.restrict is None or re.fullmatch(field.restrict, accepted + c):
                accepted += c
        assert field.value == accepted[: field.max_length or None], (field.id, field.value)
        assert state() == before, f"typing in #{field.id} changed {before!r} to {state()!r}"
        field.value = kept


async def help_lists_every_key(pilot) -> str:
    """F1 on the current screen: the help lists each key that works now with what it does; returns the
    help's text. ``?`` closes it again."""
    from textual.screen import Screen

    app = pilot.app
    screen = app.screen
    textual_own = {b.action for b in Screen.BINDINGS}  # tab, shift+tab, copy: the help words them its own way
    expected = [b.binding.tooltip or b.binding.description for b in screen.active_bindings.values()
                if b.enabled and b.node is screen and b.binding.description and b.binding.action not in textual_own]
    await pilot.press("f1")
    await wait_until(pilot, lambda: app.screen.id == "help", "the help")
    text = str(app.screen.query_one("#help-keys").render())
    for description in expected:
        assert description.lower() in text.lower(), f"{description!r} missing from the help:\n{text}"
    await pilot.press("question_mark")
    await wait_until(pilot, lambda: app.screen is screen, "the help closed")
    return text


def static_text(app, selector: str) -> str:
    """The plain text a Static shows."""
    return str(app.screen.query_one(selector).render())


def workspace_speakers(name: str) -> dict[str, tuple[int, bool]]:
    """{speaker name: (messages, excluded)} read straight from the store."""
    from friendsim_tui.store import Store

    with Store.for_workspace(name) as store:
        return {s.name: (s.messages, s.excluded) for s in store.speakers()}


def on_home(app, name: str) -> bool:
    summary = getattr(app.screen, "summary", None)
    return app.screen.id == "home" and summary is not None and summary.name == name


async def open_import(pilot, app, workspace: str | None = None) -> None:
    """Wait for Home, show ``workspace`` (default: the first one), and press i."""
    await wait_until(pilot, lambda: app.screen.id == "home" and app.screen.summary is not None, "home")
    if workspace is not None and not on_home(app, workspace):
        app.screen.select_workspace(workspace)
        await wait_until(pilot, lambda: on_home(app, workspace), workspace)
    await pilot.press("i")
    await wait_until(pilot, lambda: app.screen.id == "import", "the import screen")


async def preview_path(pilot, app, typed: str) -> None:
    """Put ``typed`` in the Import screen's path field, press enter, wait for the preview."""
    field = app.screen.query_one("#path")
    field.focus()
    field.value = typed  # (typing it key by key is slow and tests Textual's Input, not us)
    await pilot.press("enter")
    await wait_until(pilot, lambda: app.screen.preview is not None or "cannot" in static_text(app, "#problems"), "the preview")


async def to_speakers(pilot, app) -> None:
    """Tab from wherever the focus is to the Import screen's speakers table (as a person would)."""
    table = app.screen.query_one("#identities")
    for _ in range(6):
        if app.screen.focused is table:
            return
        await pilot.press("tab")
    raise AssertionError(f"tab never reached the speakers table (focus: {app.screen.focused!r})")


async def preview_in_import(pilot, app, typed: str, workspace: str | None = None) -> None:
    """From Home: open Import for ``workspace`` and preview ``typed``."""
    await open_import(pilot, app, workspace)
    await preview_path(pilot, app, typed)


async def browser_ready(pilot, app, entries: int):
    """The Import screen's file browser once it lists ``entries`` entries at its root."""
    tree = app.screen.query_one("#files")
    await wait_until(pilot, lambda: len(tree.root.children) == entries, "the folder listing")
    return tree
