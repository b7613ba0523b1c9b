"""Import screen: pick, preview, adjust speakers, import; errors name the file and write nothing."""

from __future__ import annotations

import time

from textual.widgets import Input
from tui_helpers import (
    SIZE,
    SMALL,
    browser_ready,
    help_lists_every_key,
    on_home,
    open_import,
    preview_in_import,
    preview_path,
    screen_text,
    speaker_rows,
    static_text,
    to_speakers,
    type_sentence_everywhere,
    wait_until,
    workspace_speakers,
    write,
)

from friendsim_tui.services.workspaces import list_workspaces


def counts() -> dict[str, int]:
    return {w["name"]: w["messages"] for w in list_workspaces()}


async def test_i_opens_import_for_the_current_workspace(workspaces, make_app):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await open_import(pilot, app, "weekend-crew")
        assert app.screen.query_one("#target", Input).value == "weekend-crew"
        assert static_text(app, "#import-title") == "Import into weekend-crew"
        await wait_until(pilot, lambda: static_text(app, "#target-note") == "existing workspace", "the target check")
        await pilot.press("escape")
        await wait_until(pilot, lambda: on_home(app, "weekend-crew"), "home again")


async def test_a_path_previews_formats_counts_and_speakers(workspaces, make_app):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await open_import(pilot, app)
        await pilot.press(*"~/exports/new chat.txt", "enter")  # the path field has the focus
        await wait_until(pilot, lambda: app.screen.preview is not None, "the preview")
        summary = static_text(app, "#preview-summary")
        assert "new chat.txt · Plain transcript (Name: text) · 5 messages" in summary
        assert "5 messages · 2000-01-01" in summary
        assert [r[:3] for r in speaker_rows(app, "#identities")] == [
            ("Maya", "new friend", "2"),
            ("Ravi", "new friend", "2"),
            ("NewBot", "new friend", "1"),
        ]
        assert counts() == {"family": 3, "weekend-crew": 10}  # nothing written by a preview


async def test_pick_a_file_in_the_browser(workspaces, make_app):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await open_import(pilot, app)
        (await browser_ready(pilot, app, 2)).focus()
        await pilot.press("down", "down", "enter")  # junk.bin, then "new chat.txt"
        await wait_until(pilot, lambda: app.screen.preview is not None, "the preview")
        assert app.screen.query_one("#path", Input).value == "~/exports/new chat.txt"
        assert len(speaker_rows(app, "#identities")) == 3


async def test_add_a_folder_from_the_browser(workspaces, make_app, home):
    for i in range(7):
        write(home / "exports" / "old" / f"chat{i}.txt", f"Maya: message {i}\n")
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await open_import(pilot, app)
        (await browser_ready(pilot, app, 3)).focus()
        await pilot.press("a")  # the highlighted root: the whole ~/exports folder
        await wait_until(pilot, lambda: app.screen.preview is not None, "the preview")
        summary = static_text(app, "#preview-summary").splitlines()
        assert summary[0] == "✓ new chat.txt · Plain transcript (Name: text) · 5 messages"
        assert summary[1:5] == [f"✓ old/chat{i}.txt · Plain transcript (Name: text) · 1 message" for i in range(4)]
        assert "✓ … and 3 more chat files" in summary
        assert any(line.startswith("✗ junk.bin") for line in summary)
        assert summary[-2].startswith("12 messages")


async def test_exclude_rename_then_import_updates_home(workspaces, make_app):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await preview_in_import(pilot, app, "~/exports/new chat.txt", "weekend-crew")
        assert speaker_rows(app, "#identities")[0][1] == "existing friend"
        await to_speakers(pilot, app)
        await pilot.press("end", "x")  # NewBot stays out of training
        assert speaker_rows(app, "#identities")[2][3] == "  ☐"
        await pilot.press("up", "r")  # Ravi
        await wait_until(pilot, lambda: app.screen.query("#prompt-input"), "the rename dialog")
        await pilot.press("ctrl+u", *"Ravindra", "enter")
        await wait_until(pilot, lambda: speaker_rows(app, "#identities")[1][1] == "Ravindra", "the new name")
        await pilot.press("enter")
        await wait_until(pilot, lambda: on_home(app, "weekend-crew") and app.screen.summary.messages == 15, "home")
        rows = {r[0]: r for r in speaker_rows(app)}
        assert rows["Maya"][1] == "7"
        assert rows["Ravindra"][1] == "2"
        assert rows["NewBot"][3] == "excluded"
        assert workspace_speakers("weekend-crew")["NewBot"] == (1, True)
        assert counts() == {"family": 3, "weekend-crew": 15}


async def merge_highlighted(pilot, app, into: str) -> list[str]:
    """m on the highlighted speaker, then pick ``into``; returns the names the merge dialog offered."""
    await pilot.press("m")
    await wait_until(pilot, lambda: app.screen.query("#choice-list"), "the merge dialog")
    choices = app.screen.query_one("#choice-list")
    names = [str(choices.get_option_at_index(i).prompt) for i in range(choices.option_count)]
    await pilot.press(*["down"] * names.index(into), "enter")
    await wait_until(pilot, lambda: app.screen.id == "import", "the import screen again")
    return names


async def test_merge_into_another_speaker(workspaces, make_app):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await preview_in_import(pilot, app, "~/exports/new chat.txt", "weekend-crew")
        await to_speakers(pilot, app)
        await pilot.press("down")  # Ravi
        assert await merge_highlighted(pilot, app, "Jonas") == ["Jonas", "Maya", "NewBot", "pixel_dan"]
        await wait_until(pilot, lambda: speaker_rows(app, "#identities")[1][1] == "Jonas (existing)", "merge")
        await pilot.press("enter")
        await wait_until(pilot, lambda: on_home(app, "weekend-crew") and app.screen.summary.messages == 15, "home")
        assert workspace_speakers("weekend-crew")["Jonas"] == (5, False)
        assert "Ravi" not in workspace_speakers("weekend-crew")


async def test_import_into_a_new_workspace(workspaces, make_app):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await open_import(pilot, app)
        await preview_path(pilot, app, "~/exports")  # a folder: every chat in it
        assert "✗ junk.bin" in static_text(app, "#preview-summary")
        app.screen.query_one("#target", Input).focus()
        await pilot.press("ctrl+u")
        assert static_text(app, "#status") == "Type the name of the workspace to import into."
        await pilot.press("enter")  # no name: nothing happens
        assert app.screen.id == "import" and not app.screen.importing
        await pilot.press(*"sports")
        assert static_text(app, "#status") == "enter imports 5 messages into sports"
        await pilot.press("enter")
        await wait_until(pilot, lambda: on_home(app, "sports"), "home with the new workspace")
        assert counts() == {"family": 3, "sports": 5, "weekend-crew": 10}


async def test_junk_file_shows_an_error_and_writes_nothing(workspaces, make_app):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await preview_in_import(pilot, app, "~/exports/junk.bin")
        summary = static_text(app, "#preview-summary")
        assert summary.startswith("✗ junk.bin") and "not a supported chat export" in summary
        assert app.screen.query_one("#identities").display is False
        await pilot.press("enter")
        await wait_until(pilot, lambda: "Nothing to import" in static_text(app, "#status"), "the refusal")
        assert app.screen.id == "import"
        assert counts() == {"family": 3, "weekend-crew": 10}


async def test_a_file_broken_after_the_preview_fails_the_import_whole(workspaces, make_app, home):
    app = make_app()
    good = write(home / "exports" / "more" / "a.txt", "Maya: one\nJonas: two\n")
    later = write(home / "exports" / "more" / "b.txt", "Maya: three\n")
    async with app.run_test(size=SIZE) as pilot:
        await preview_in_import(pilot, app, "~/exports/more", "weekend-crew")
        assert "3 messages" in static_text(app, "#preview-summary")
        assert good.exists()
        later.write_bytes(b"\x00\x00 not a chat any more")
        await pilot.press("enter")
        await wait_until(pilot, lambda: "unchanged" in static_text(app, "#status"), "the failure")
        assert "b.txt" in static_text(app, "#problems")
        assert counts() == {"family": 3, "weekend-crew": 10}


def test_progress_is_throttled_and_cancellable():
    from friendsim_tui.tui.screens.importing import _Cancelled, _Progress

    class Target:
        posted: list = []

        def post_message(self, message) -> bool:
            self.posted.append(message)
            return True

    class Worker:
        is_cancelled = False

    target, worker = Target(), Worker()
    progress = _Progress(target, worker, "Reading")
    start = time.monotonic()
    for done in range(20_000):
        progress(0, 2, "/x/a.txt", done, 20_000)
    elapsed = time.monotonic() - start
    assert len(target.posted) <= 1 + 10 * elapsed + 1
    assert target.posted[0].label == "Reading a.txt  (1/2)"
    worker.is_cancelled = True
    try:
        progress(1, 2, "/x/b.txt", 1, 2)
    except _Cancelled:
        pass
    else:
        raise AssertionError("a cancelled worker must stop reading")


async def test_hostile_file_and_speaker_names_stay_inert(hostile, make_app):
    app = make_app(hostile)
    async with app.run_test(size=SIZE) as pilot:
        await preview_in_import(pilot, app, "[@click=app.quit]chat.txt", "markup")
        assert static_text(app, "#preview-summary").startswith("✓ [@click=app.quit]chat.txt · Plain transcript")
        assert [r[0] for r in speaker_rows(app, "#identities")] == ["[bold]x[/]", "␛[31mred", "[@click=app.quit]y"]
        await pilot.click("#preview-summary", offset=(4, 0))
        for y in range(1, 4):
            await pilot.click("#identities", offset=(3, y), times=2)
        await pilot.click("#files", offset=(8, 1))
        await pilot.press("escape")
        await wait_until(pilot, lambda: app.screen.id == "home", "home")
        assert app.is_running
        assert workspace_speakers("markup")["[bold]x[/]"] == (2, False)  # nothing imported by clicks


async def test_progress_messages_move_the_bar(workspaces, make_app):
    from textual.widgets import ProgressBar

    from friendsim_tui.tui.messages import WorkProgress

    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await open_import(pilot, app)
        screen = app.screen
        screen._working(True)
        screen.post_message(WorkProgress(0.68, "Importing weekend crew.json  (2/3)"))
        bar = screen.query_one("#progress", ProgressBar)
        await wait_until(pilot, lambda: bar.progress == 68, "the bar")
        assert bar.display and static_text(app, "#status") == "Importing weekend crew.json  (2/3)"


async def test_escape_cancels_a_running_import(workspaces, make_app, monkeypatch):
    from friendsim_tui.services import importing

    def slow_import(workspace, paths, choices=None, progress=None):
        for done in range(1000):  # stands in for a long import: only the progress callback can stop it
            progress(0, 1, str(paths[0]), done, 1000)
            time.sleep(0.01)
        raise AssertionError("the import was not cancelled")

    monkeypatch.setattr(importing, "import_paths", slow_import)
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await preview_in_import(pilot, app, "~/exports/new chat.txt", "weekend-crew")
        await pilot.press("enter")
        await wait_until(pilot, lambda: "Importing new chat.txt" in static_text(app, "#status"), "progress")
        await pilot.press("escape")
        await wait_until(pilot, lambda: "cancelled" in static_text(app, "#problems"), "the cancel")
        assert app.screen.id == "import" and not app.screen.importing
        assert counts() == {"family": 3, "weekend-crew": 10}


async def test_first_import_suggests_a_workspace_name_from_the_export(home, make_app):
    from pathlib import Path

    from friendsim_tui.tui.screens.importing import suggest_workspace_name

    write(home / "exports" / "Direct Messages - maya [1234].txt", "Maya: hi\nRavi: hey\n")
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: app.screen.id == "home", "home")
        await pilot.press("i")
        await wait_until(pilot, lambda: app.screen.id == "import", "the import screen")
        assert app.screen.query_one("#target", Input).value == ""
        await preview_path(pilot, app, "~/exports/Direct Messages - maya [1234].txt")
        await wait_until(pilot, lambda: app.screen.preview is not None, "the preview")
        assert app.screen.query_one("#target", Input).value == "Direct Messages - maya"
        await pilot.press("enter")  # nothing else to type: enter imports into the suggested workspace
        await wait_until(pilot, lambda: counts() == {"Direct Messages - maya": 2}, "the import")
    assert suggest_workspace_name(Path("exports/WhatsApp Chat with Bob.zip")) == "Bob"
    assert suggest_workspace_name(Path("inbox/maya_123/message_1.json")) == "maya_123"
    assert suggest_workspace_name(Path("chat [99].csv")) == "chat"


# -- keys follow the focus; the preview says what the import will do --------------------------------------


def plan_state(app):
    """What a speaker key or an import would change on the Import screen."""
    screen = app.screen
    return (screen.importing, [(k, vars(d)) for k, d in sorted(screen.plan.decisions.items())],
            len(app.screen_stack))


async def test_typing_a_second_path_after_enter_types_it(workspaces, make_app, home):
    """Enter previews; the focus stays in Path, so the next path typed goes there, not to r/m/x."""
    write(home / "exports" / "more.txt", "Maya: hi again\n")
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await open_import(pilot, app, "weekend-crew")
        await pilot.press(*"~/exports/new chat.txt", "enter")
        await wait_until(pilot, lambda: app.screen.preview is not None, "the preview")
        state = plan_state(app)
        await pilot.press("ctrl+u", *"~/exports/more.txt")
        assert app.screen.query_one("#path", Input).value == "~/exports/more.txt"
        assert plan_state(app) == state and speaker_rows(app, "#identities")[1][1] == "new friend"
        await pilot.press("enter")
        await wait_until(pilot, lambda: app.screen.preview and app.screen.preview.total_kept == 1, "the new preview")
        assert counts() == {"family": 3, "weekend-crew": 10}  # nothing imported yet
        await pilot.press("enter")  # enter again on what the preview shows imports it
        await wait_until(pilot, lambda: on_home(app, "weekend-crew") and app.screen.summary.messages == 11, "home")


async def test_typing_in_every_field_fires_nothing_and_help_lists_every_key(workspaces, make_app):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await preview_in_import(pilot, app, "~/exports/new chat.txt", "weekend-crew")
        await type_sentence_everywhere(pilot, lambda: plan_state(app))
        for widget in ("#path", "#target", "#files", "#identities"):
            app.screen.query_one(widget).focus()
            await pilot.pause()
            text = await help_lists_every_key(pilot)
            if widget == "#identities":
                assert "Rename the speaker" in text and "Import what the preview shows" in text
            if widget == "#path":
                assert "Preview the path; enter again imports it" in text
        await pilot.press("escape")
        await wait_until(pilot, lambda: app.screen.id == "home", "home")
        assert counts() == {"family": 3, "weekend-crew": 10}


MERGE_EXPORT = "Maya B: hi\nmaya#4821: hey\nJonas: yo\nMaya B: hello again\n"


async def test_renaming_a_merge_target_keeps_the_merge(home, make_app):
    """m Maya B -> maya#4821, then r maya#4821 -> Maya: both are Maya, in the preview and after the import."""
    write(home / "exports" / "crew.txt", MERGE_EXPORT)
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: app.screen.id == "home" and app.screen.workspaces is not None, "home")
        await pilot.press("i")
        await wait_until(pilot, lambda: app.screen.id == "import", "the import screen")
        await preview_path(pilot, app, "~/exports/crew.txt")
        await to_speakers(pilot, app)
        assert [r[0] for r in speaker_rows(app, "#identities")] == ["Maya B", "maya#4821", "Jonas"]
        await merge_highlighted(pilot, app, "maya#4821")  # Maya B
        await wait_until(pilot, lambda: speaker_rows(app, "#identities")[0][1] == "maya#4821 (merged)", "merged")
        await pilot.press("down", "r")  # maya#4821
        await wait_until(pilot, lambda: app.screen.query("#prompt-input"), "the rename dialog")
        await pilot.press("ctrl+u", *"Maya", "enter")
        await wait_until(pilot, lambda: speaker_rows(app, "#identities")[1][1] == "Maya (merged)", "renamed")
        assert speaker_rows(app, "#identities")[0][1] == "Maya (merged)"  # the merge followed the rename
        await pilot.press("enter")
        await wait_until(pilot, lambda: app.screen.id == "home" and app.screen.summary is not None
                         and app.screen.summary.messages == 4, "home")
        assert workspace_speakers("crew") == {"Maya": (3, False), "Jonas": (1, False)}


async def test_a_merge_can_be_undone_in_the_preview(workspaces, make_app):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await preview_in_import(pilot, app, "~/exports/new chat.txt", "weekend-crew")
        await to_speakers(pilot, app)
        await pilot.press("down")  # Ravi
        await merge_highlighted(pilot, app, "Jonas")
        await wait_until(pilot, lambda: speaker_rows(app, "#identities")[1][1] == "Jonas (existing)", "merged")
        assert "u Unmerge" in screen_text(app).splitlines()[-1]
        await pilot.press("u")
        await wait_until(pilot, lambda: speaker_rows(app, "#identities")[1][1] == "new friend", "unmerged")
        assert "Unmerge" not in screen_text(app).splitlines()[-1]
        await pilot.press("enter")
        await wait_until(pilot, lambda: on_home(app, "weekend-crew") and app.screen.summary.messages == 15, "home")
        assert workspace_speakers("weekend-crew")["Ravi"] == (2, False)
        assert workspace_speakers("weekend-crew")["Jonas"] == (3, False)


async def test_a_reimport_preview_shows_saved_names_and_exclusions(workspaces, make_app, home):
    from friendsim_tui.services.importing import SpeakerChoice, import_paths

    import_paths("weekend-crew", [home / "exports" / "new chat.txt"],
                 {("transcript", "Ravi"): SpeakerChoice(name="Ravindra"),
                  ("transcript", "NewBot"): SpeakerChoice(exclude=True)})
    write(home / "exports" / "later.txt", "Ravi: back again\nNewBot: Reminder: recycling day\nMaya: hi\n")
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await open_import(pilot, app, "weekend-crew")
        await wait_until(pilot, lambda: static_text(app, "#target-note") == "existing workspace", "the target")
        await preview_path(pilot, app, "~/exports/later.txt")
        rows = {r[0]: r for r in speaker_rows(app, "#identities")}
        assert rows["Ravi"][1] == "Ravindra (saved)" and rows["Ravi"][3] == "  ☑"
        assert rows["NewBot"][1] == "existing friend" and rows["NewBot"][3] == "  ☐"
        assert rows["Maya"][1] == "existing friend"
        await to_speakers(pilot, app)
        await pilot.press("down", "x")  # NewBot: the workspace leaves it out; only Home takes it back in
        assert speaker_rows(app, "#identities")[1][3] == "  ☐"
        await pilot.press("r")  # a saved account cannot be renamed here: the import would not follow
        await pilot.pause()
        assert not app.screen.query("#prompt-input") and app.screen.id == "import"
        await pilot.press("enter")
        await wait_until(pilot, lambda: on_home(app, "weekend-crew") and app.screen.summary.messages == 18, "home")
        speakers = workspace_speakers("weekend-crew")
        assert speakers["Ravindra"] == (3, False) and speakers["NewBot"] == (2, True) and "Ravi" not in speakers


async def test_at_80_columns_the_hint_shows_whole_and_long_file_names_stay_apart(workspaces, make_app, home):
    from friendsim_tui.tui.screens.importing import FIRST_HINT

    for name in ("Friends - Telegram export.json", "Friends - Twitter export.json"):
        write(home / "exports" / name, "{}")
    app = make_app()
    async with app.run_test(size=SMALL) as pilot:
        await open_import(pilot, app)
        await browser_ready(pilot, app, 4)
        await pilot.pause()
        shown = screen_text(app).splitlines()
        assert any(line.strip() == FIRST_HINT for line in shown), "\n".join(shown)
        names = [line.split("📄")[1].split("│")[0].strip() for line in shown if "Friends" in line]
        assert len(names) == 2 and names[0] != names[1], names
        assert all(n.startswith("Friends - T") and n.endswith("export.json") for n in names), names
