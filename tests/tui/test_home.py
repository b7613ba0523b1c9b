"""Home screen: workspaces, the selected one's speakers, rename/exclude, new workspace, palette."""

from __future__ import annotations

from textual.widgets import OptionList
from tui_helpers import (
    SIZE,
    SMALL,
    help_lists_every_key,
    on_home,
    screen_text,
    speaker_rows,
    static_text,
    type_sentence_everywhere,
    wait_until,
    workspace_speakers,
)


async def test_lists_workspaces_and_shows_the_selected_ones_speakers(workspaces, make_app):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: on_home(app, "family"), "the first workspace")
        listing = app.screen.query_one("#workspaces", OptionList)
        prompts = [str(listing.get_option_at_index(i).prompt) for i in range(listing.option_count)]
        assert prompts[0].split() == ["family", "3", "msg"]
        assert prompts[1].split() == ["weekend-crew", "10", "msg"]
        assert prompts[2] == "+ new workspace"
        assert [r[:2] for r in speaker_rows(app)] == [("Mum", "2"), ("Dad", "1")]

        await pilot.press("down")
        await wait_until(pilot, lambda: on_home(app, "weekend-crew"), "weekend-crew")
        assert [r[:2] for r in speaker_rows(app)] == [("Maya", "5"), ("Jonas", "3"), ("pixel_dan", "2")]
        assert static_text(app, "#summary-line") == "10 messages · 3 friends · 2000-01-01"
        assert "workspace: weekend-crew" in static_text(app, "#current-workspace")
        assert app.workspace == "weekend-crew"


async def test_exclude_and_rename_a_speaker(workspaces, make_app):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: on_home(app, "family"), "home")
        await pilot.press("down")
        await wait_until(pilot, lambda: on_home(app, "weekend-crew"), "weekend-crew")
        await pilot.press("tab", "down", "down", "x")  # pixel_dan
        await wait_until(pilot, lambda: speaker_rows(app)[2][3] == "excluded", "pixel_dan excluded")
        assert workspace_speakers("weekend-crew")["pixel_dan"] == (2, True)
        assert "2 friends" in static_text(app, "#summary-line")

        await pilot.press("x")
        await wait_until(pilot, lambda: speaker_rows(app)[2][3] == "", "pixel_dan included")
        assert workspace_speakers("weekend-crew")["pixel_dan"] == (2, False)

        await pilot.press("r")
        await wait_until(pilot, lambda: app.screen.query("#prompt-input"), "the rename dialog")
        await pilot.press("ctrl+u", *"Dan", "enter")
        await wait_until(pilot, lambda: ("Dan", "2") in [r[:2] for r in speaker_rows(app)], "Dan")
        assert "Dan" in workspace_speakers("weekend-crew")

        # Renaming to an existing name merges the two speakers.
        await pilot.press("r")
        await wait_until(pilot, lambda: app.screen.query("#prompt-input"), "the rename dialog")
        await pilot.press("ctrl+u", *"Jonas", "enter")
        await wait_until(pilot, lambda: len(speaker_rows(app)) == 2, "the merge")
        assert workspace_speakers("weekend-crew") == {"Maya": (5, False), "Jonas": (5, False)}


async def test_new_workspace(workspaces, make_app):
    """Any script and emoji make a name; what no file system can hold is refused, saying exactly why."""
    from friendsim_tui import paths

    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: on_home(app, "family"), "home")
        await pilot.press("n")
        await wait_until(pilot, lambda: app.screen.query("#prompt-input"), "the name dialog")
        await pilot.press(*"bad/name", "enter")
        await wait_until(pilot, lambda: "'/' cannot be in it" in static_text(app, "#prompt-error"), "an error")
        app.screen.query_one("#prompt-input").value = "Émoji crew 🎉"  # (a terminal sends it as one paste)
        await pilot.press("enter")
        await wait_until(pilot, lambda: on_home(app, "Émoji crew 🎉"), "the new workspace")
        assert "No messages yet" in static_text(app, "#summary-line")
        assert "Émoji crew 🎉" in app.workspace_names
        assert (paths.workspaces_dir() / "Émoji crew 🎉").is_dir()


async def test_no_workspaces_yet(home, make_app):
    app = make_app(start_dir=home)
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: app.screen.workspaces is not None, "the (empty) list")
        assert "No workspaces yet" in static_text(app, "#summary-line")
        await pilot.press("i")
        await wait_until(pilot, lambda: app.screen.id == "import", "the import screen")
        assert static_text(app, "#import-title") == "Import into a new workspace"


async def test_command_palette_lists_actions(workspaces, make_app):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: on_home(app, "family"), "home")
        await pilot.press("ctrl+p")
        await pilot.press(*"switch to")
        await wait_until(pilot, lambda: "weekend-crew" in str(app.screen.query_one("CommandList").get_option_at_index(0).prompt), "a hit")
        await pilot.press("enter")
        await wait_until(pilot, lambda: on_home(app, "weekend-crew"), "the switch")

        await pilot.press("ctrl+p", *"import chats")
        await wait_until(pilot, lambda: app.screen.query("CommandList") and app.screen.query_one("CommandList").option_count, "hits")
        await pilot.press("enter")
        await wait_until(pilot, lambda: app.screen.id == "import", "the import screen")


async def test_hostile_names_stay_inert(hostile, make_app):
    """Markup, actions and escapes in names show as characters; clicking them does nothing."""
    app = make_app(start_dir=hostile)
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: on_home(app, "markup"), "the markup workspace")
        names = [r[0] for r in speaker_rows(app)]
        assert names == ["[bold]x[/]", "␛[31mred", "[@click=app.quit]y"]
        for row in range(3):
            await pilot.click("#speakers", offset=(4, 1 + row))
            await pilot.click("#speakers", offset=(4, 1 + row), times=2)
        await pilot.press("end", "r")  # the clicks focused the table
        await wait_until(pilot, lambda: app.screen.query("#prompt-input"), "the rename dialog")
        assert app.screen.query_one("#prompt-input").value == "[@click=app.quit]y"
        await pilot.press("escape", "up", "r")
        await wait_until(pilot, lambda: app.screen.query("#prompt-input"), "the rename dialog")
        assert app.screen.query_one("#prompt-input").value == "␛[31mred"  # never a raw escape in an Input
        await pilot.press("enter")  # unchanged: the name keeps its real characters
        await wait_until(pilot, lambda: app.screen.id == "home", "home")
        assert "\x1b[31mred" in workspace_speakers("markup")
        assert app.is_running
        assert workspace_speakers("markup")["[@click=app.quit]y"] == (1, False)
        svg = app.export_screenshot()
        assert "[@click=app.quit]y" in svg and "\x1b" not in svg


async def test_runs_of_the_workspace_are_listed(workspaces, make_app):
    import json

    from friendsim_tui.services.training import run_dir

    for name, status, updated in (("gpt2-1120", "done", 2.0), ("smollm-lora", "stopped", 1.0)):
        folder = run_dir("family", name)
        folder.mkdir(parents=True)
        (folder / "run.json").write_text(json.dumps({"status": status, "updated": updated, "base": "gpt2"}))
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: on_home(app, "family"), "home")
        runs = static_text(app, "#runs").splitlines()
        assert [line.split()[:2] for line in runs] == [["✓", "gpt2-1120"], ["■", "smollm-lora"]]
        await pilot.press("down")
        await wait_until(pilot, lambda: on_home(app, "weekend-crew"), "weekend-crew")
        assert static_text(app, "#runs") == "No trained runs yet."


async def test_an_unreadable_workspace_is_reported_not_fatal(workspaces, make_app, home):
    from friendsim_tui import paths

    (paths.workspace_dir("family") / "workspace.sqlite3").write_bytes(b"not a database" * 100)
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        options = app.screen.query_one("#workspaces", OptionList)

        def prompts() -> list[str]:
            return [str(options.get_option_at_index(i).prompt) for i in range(options.option_count)]

        await wait_until(pilot, lambda: any("damaged" in p for p in prompts()), "the damaged workspace")
        assert any(p.startswith("family") and "damaged" in p for p in prompts())
        assert any("weekend-crew" in p and "msg" in p for p in prompts())  # the healthy one is still there
        assert app.is_running


# -- keys: typing never fires an action, the help lists every key, 80x24 ---------------------------------


async def test_typing_in_every_field_fires_nothing_and_help_lists_every_key(workspaces, make_app):
    """Home's only text field is the new-workspace name; the lists' keys are all in the help (f1 or ?)."""
    from friendsim_tui.tui.screens.dialogs import HelpScreen

    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: on_home(app, "family"), "home")
        for widget in ("#workspaces", "#speakers"):
            app.screen.query_one(widget).focus()
            text = await help_lists_every_key(pilot)
            assert "n" in text and "New workspace" in text  # not in the Footer (no room at 80 columns)
        await pilot.press("n")
        await wait_until(pilot, lambda: app.screen.query("#prompt-input"), "the name dialog")
        await type_sentence_everywhere(pilot, lambda: (app.workspace_names, len(app.screen_stack)))
        await pilot.press("f1")  # F1 works in a text field too
        await wait_until(pilot, lambda: isinstance(app.screen, HelpScreen), "the help over the dialog")
        assert "Cancel" in static_text(app, "#help-keys")
        await pilot.press("escape")
        await wait_until(pilot, lambda: app.screen.query("#prompt-input"), "the dialog again")
        await pilot.press("escape")
        await wait_until(pilot, lambda: app.screen.id == "home", "home")
        assert app.workspace_names == ["family", "weekend-crew"]


async def test_help_groups_keys_and_says_which_do_nothing_now(home, make_app):
    app = make_app(start_dir=home)
    async with app.run_test(size=SMALL) as pilot:
        await wait_until(pilot, lambda: app.screen.workspaces is not None, "the (empty) list")
        await pilot.press("question_mark")
        await wait_until(pilot, lambda: app.screen.id == "help", "the help")
        help_screen = app.screen
        assert [section.title for section in help_screen.sections] == ["Go to", "Workspaces", "Friends", "Home",
                                                                       "Anywhere"]
        keys = {key.keys[0]: key for section in help_screen.sections for key in section.keys}
        assert keys["r"].note == "not now" and keys["x"].note == "not now"  # no friend to rename yet
        assert keys["i"].note == ""
        assert keys["f1"].keys == ["f1", "?"]
        assert "Dimmed: not now." in static_text(app, ".dialog-keys")
        lines = static_text(app, "#help-keys").splitlines()
        assert any(line.startswith("f1, ?") and line.endswith("Help") for line in lines)
        await pilot.press("escape")
        await wait_until(pilot, lambda: app.screen.id == "home", "home")


async def test_home_shows_the_workspace_the_app_switched_to_while_covered(workspaces, make_app):
    """The demo opens weekend-crew's dashboard and chat over Home; back on Home, the header, the list's
    highlight, the panel's title and its contents all name weekend-crew."""
    from textual.screen import Screen

    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: on_home(app, "family"), "home")
        home = app.screen
        await app.push_screen(Screen())
        app.workspace = "weekend-crew"  # what `friendsim-tui demo` does as it opens its screens
        app.pop_screen()
        await wait_until(pilot, lambda: on_home(app, "weekend-crew"), "weekend-crew's contents")
        await pilot.pause()
        assert static_text(app, "#current-workspace") == "workspace: weekend-crew"
        assert str(home.query_one("#summary").border_title) == "weekend-crew"
        listing = home.query_one("#workspaces", OptionList)
        assert listing.highlighted_option.id == "ws:weekend-crew"
        assert [r[0] for r in speaker_rows(app)] == ["Maya", "Jonas", "pixel_dan"]


async def test_at_80_columns_shares_and_runs_show_whole(workspaces, make_app):
    import json

    from friendsim_tui.services.training import run_dir

    folder = run_dir("weekend-crew", "20261120-demo")
    folder.mkdir(parents=True)
    (folder / "run.json").write_text(json.dumps({"status": "done", "updated": 2.0, "base": "scratch:tiny",
                                                 "step": 240, "max_steps": 240}))
    (folder / "events.jsonl").write_text(json.dumps({"type": "step", "step": 240, "max_steps": 240,
                                                     "loss": 1.234}) + "\n")
    app = make_app()
    async with app.run_test(size=SMALL) as pilot:
        await wait_until(pilot, lambda: on_home(app, "family"), "home")
        await pilot.press("down")
        await wait_until(pilot, lambda: on_home(app, "weekend-crew"), "weekend-crew")
        await pilot.pause()
        shown = screen_text(app)
        for name, share in (("Maya", "50%"), ("Jonas", "30%"), ("pixel_dan", "20%")):
            assert any(name in line and share in line for line in shown.splitlines()), shown
        run_line = next(line for line in shown.splitlines() if "20261120-demo" in line)
        assert "step 240/240" in run_line, shown
        footer = shown.splitlines()[-1]
        for key in ("i Import", "r Rename", "x Exclude", "q Quit", "f1 Help"):
            assert key in footer, footer
