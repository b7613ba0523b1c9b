"""Home screen: workspaces, the selected one's speakers, rename/exclude, new workspace, palette."""

from __future__ import annotations

from textual.widgets import OptionList
from tui_helpers import SIZE, on_home, speaker_rows, static_text, wait_until, workspace_speakers


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
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: on_home(app, "family"), "home")
        await pilot.press("n")
        await wait_until(pilot, lambda: app.screen.query("#prompt-input"), "the name dialog")
        await pilot.press(*"bad/name", "enter")
        await wait_until(pilot, lambda: "invalid workspace name" in static_text(app, "#prompt-error"), "an error")
        await pilot.press("ctrl+u", *"trip 2025", "enter")
        await wait_until(pilot, lambda: on_home(app, "trip 2025"), "the new workspace")
        assert "No messages yet" in static_text(app, "#summary-line")
        assert "trip 2025" in app.workspace_names


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
