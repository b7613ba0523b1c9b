"""SVG snapshots of each screen at a fixed size (100x30, and 80x24 at the end), cursor blink off.

Update with ``pytest tests/tui --snapshot-update`` and look at the report before committing.
"""

from __future__ import annotations

from chat_helpers import SPEAKERS, ScreenHost, ScriptedSampler, fork_at, opener
from tui_helpers import SIZE, SMALL, browser_ready, on_home, open_import, preview_path, to_speakers, wait_until


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
        await to_speakers(pilot, pilot.app)
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


def test_chat_after_switching_branch(home, snap_compare):
    """Three saved answers to one line; [ from the third shows the second, with the line that followed it:
    the split is marked on its turn (‹2/3›) and in the log's border, and the Footer shows [ ] Branch."""
    from friendsim_tui.store import Store
    from friendsim_tui.store.chats import ChatStore
    from friendsim_tui.tui.screens.chat import ChatScreen

    with Store.for_workspace("weekend-crew", create=True) as store:
        chats = ChatStore(store)
        s = chats.new_session("gpt2-1120", "Maya")
        chats.add_turn(s.id, "Jonas", "Well, chess club is tonight. Thoughts?", "model")
        asked = chats.add_turn(s.id, "Maya", "omg i forgot!! is it the usual place", "player")
        for answer, then in (("bro say less", None), ("nah they moved it to [b]room 4[/b]", "Right. Room 4, 7pm."),
                             ("no idea lol", None)):
            chats.set_leaf(s.id, asked.id)
            chats.add_turn(s.id, "pixel_dan", answer, "model")
            if then:
                chats.add_turn(s.id, "Jonas", then, "model")
    app = ScreenHost(lambda: ChatScreen("weekend-crew", "gpt2-1120", "Maya", speakers=SPEAKERS,
                                        open_sampler=opener(ScriptedSampler())))

    async def run_before(pilot):
        screen = pilot.app.screen
        await wait_until(pilot, lambda: screen.sampler is not None and fork_at(screen) == (2, 2, 3), "branch 3/3")
        await pilot.press("escape", "alt+left")
        await wait_until(pilot, lambda: fork_at(screen) == (2, 1, 3) and screen.session is not None, "branch 2/3")

    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)


# -- 80x24, the smallest terminal the app is made for ---------------------------------------------------


def test_small_home(workspaces, make_app, snap_compare):
    async def run_before(pilot):
        await wait_until(pilot, lambda: on_home(pilot.app, "family"), "home")
        await pilot.press("down")
        await wait_until(pilot, lambda: on_home(pilot.app, "weekend-crew"), "weekend-crew")

    assert snap_compare(make_app(), terminal_size=SMALL, run_before=run_before)


def test_small_help_on_home(workspaces, make_app, snap_compare):
    async def run_before(pilot):
        await wait_until(pilot, lambda: on_home(pilot.app, "family"), "home")
        await pilot.press("f1")
        await wait_until(pilot, lambda: pilot.app.screen.id == "help", "the help")

    assert snap_compare(make_app(), terminal_size=SMALL, run_before=run_before)


def test_small_import_preview(workspaces, make_app, snap_compare):
    async def run_before(pilot):
        await _preview(pilot, "weekend-crew", 2, "~/exports/new chat.txt")
        await to_speakers(pilot, pilot.app)

    assert snap_compare(make_app(), terminal_size=SMALL, run_before=run_before)


def _fixed_machine(monkeypatch) -> None:
    """The catalog's memory hints for a fixed machine, not this one."""
    from friendsim_tui.engine import bases

    monkeypatch.setattr(bases, "machine_memory", lambda: {"kind": "ram", "total": 24 * 2**30, "available": 20 * 2**30})


def test_small_train_form(workspaces, make_app, snap_compare, monkeypatch):
    from friendsim_tui.tui.screens.new_run import NewRunScreen

    _fixed_machine(monkeypatch)

    async def run_before(pilot):
        app = pilot.app
        await wait_until(pilot, lambda: on_home(app, "family"), "home")
        await pilot.press("t")
        await wait_until(pilot, lambda: isinstance(app.screen, NewRunScreen) and app.screen.runs is not None
                         and app.screen.query_one("#run-form").catalog, "the train screen")

    assert snap_compare(make_app(), terminal_size=SMALL, run_before=run_before)


def test_small_dashboard(workspaces, make_app, snap_compare, tmp_path):
    from test_dashboard import Run

    from friendsim_tui.services.training import run_dir
    from friendsim_tui.tui.screens.dashboard import DashboardScreen

    run = Run(run_dir("weekend-crew", "20261120-tiny"))
    run.start(max_steps=240)
    run.steps(1, 120, max_steps=240)
    run.evaluate(100, 2.71, max_steps=240)
    run.checkpoint(100)
    run.sample(100, {"Maya": "omg the ramen place was SO good lol", "Jonas": "Well, to be fair, the train was late."})

    async def run_before(pilot):
        app = pilot.app
        await wait_until(pilot, lambda: on_home(app, "family"), "home")
        await app.push_screen(DashboardScreen(run.dir, workspace="weekend-crew", poll_interval=0.05))
        await wait_until(pilot, lambda: app.screen.state.step == 120 and app.screen.state.samples, "the run")
        await pilot.pause()

    assert snap_compare(make_app(), terminal_size=SMALL, run_before=run_before)
