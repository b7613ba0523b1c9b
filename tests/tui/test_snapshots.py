"""SVG snapshots of each screen at a fixed size (100x30), cursor blink off.

Update with ``pytest tests/tui --snapshot-update`` and look at the report before committing.
"""

from __future__ import annotations

from tui_helpers import SIZE, browser_ready, on_home, open_import, preview_path, wait_until


async def _preview(pilot, workspace: str, folder_entries: int, typed: str) -> None:
    """Open Import for ``workspace``, let the browser and the target check settle, preview ``typed``."""
    app = pilot.app
    await open_import(pilot, app, workspace)
    await browser_ready(pilot, app, folder_entries)
    await wait_until(pilot, lambda: app.screen.query_one("#target-note").render().plain, "the target check")
    await preview_path(pilot, app, typed)


def test_home(workspaces, make_app, snap_compare):
    async def run_before(pilot):
        app = pilot.app
        await wait_until(pilot, lambda: on_home(app, "family"), "home")
        await pilot.press("down")
        await wait_until(pilot, lambda: on_home(app, "weekend-crew"), "weekend-crew")

    assert snap_compare(make_app(), terminal_size=SIZE, run_before=run_before)


def test_import_preview(workspaces, make_app, snap_compare):
    async def run_before(pilot):
        await _preview(pilot, "weekend-crew", 2, "~/exports/new chat.txt")
        await pilot.press("end", "x")  # NewBot out of training

    assert snap_compare(make_app(), terminal_size=SIZE, run_before=run_before)


def test_import_error(workspaces, make_app, snap_compare):
    def run_before(pilot):
        return _preview(pilot, "weekend-crew", 2, "~/exports/junk.bin")

    assert snap_compare(make_app(), terminal_size=SIZE, run_before=run_before)


def test_markup_in_data_home(hostile, make_app, snap_compare):
    """Speaker names holding [bold]x[/], [@click=app.quit]y and an ANSI escape show literally."""

    async def run_before(pilot):
        await wait_until(pilot, lambda: on_home(pilot.app, "markup"), "home")

    assert snap_compare(make_app(hostile), terminal_size=SIZE, run_before=run_before)


def test_markup_in_data_import(hostile, make_app, snap_compare):
    """A file named [@click=app.quit]chat.txt whose speakers hold markup and escapes, previewed literally."""

    def run_before(pilot):
        return _preview(pilot, "markup", 1, "[@click=app.quit]chat.txt")

    assert snap_compare(make_app(hostile), terminal_size=SIZE, run_before=run_before)
