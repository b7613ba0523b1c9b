"""The Chat screen, driven by a scripted sampler (deterministic, no torch): candidates, picks, swipes,
edits, undo and branches, impersonation, forced speakers, settings, export, resume, a slow model that
must not stall the event loop, and hostile text that stays inert."""

from __future__ import annotations

import json
import threading

import pytest
from chat_helpers import (
    SPEAKERS, LoopGaps, RecordingSampler, ScreenHost, ScriptedSampler, assert_loop_kept_running, baseline_gaps,
    chats_of, finished_run, fork_at, opener, pairs,
)
from textual.content import Content
from tui_helpers import PATIENCE, SIZE, on_home, wait_until

from friendsim_tui.engine.sampler import SampleError
from friendsim_tui.services.chat import ChatError
from friendsim_tui.store import Store
from friendsim_tui.turns import Turn
from friendsim_tui.tui.screens.chat import ChatScreen
from friendsim_tui.tui.screens.chat_setup import ChatSetupScreen
from friendsim_tui.tui.widgets.chat_log import wrap_plain

WS, RUN = "weekend-crew", "gpt2-1120"
HOSTILE_TEXTS = ["[bold]x[/] and [/] here", "[@click=app.quit]y[/] click me", "\x1b[31mred\x1b[0m [0]"]


@pytest.fixture
def workspace(home):
    Store.for_workspace(WS, create=True).close()
    return WS



def chat_app(sampler: ScriptedSampler, **kwargs) -> ScreenHost:
    return ScreenHost(lambda: ChatScreen(WS, RUN, "Maya", speakers=SPEAKERS, open_sampler=opener(sampler), **kwargs))


def log_lines(app) -> list[str]:
    return [line.rstrip() for line in app.screen.log_widget.plain_lines()]


async def ready(pilot) -> ChatScreen:
    screen = pilot.app.screen
    await wait_until(pilot, lambda: screen.sampler is not None and screen.session is not None, "model and session")
    return screen


async def candidates_in(pilot, n: int) -> ChatScreen:
    screen = pilot.app.screen
    await wait_until(pilot, lambda: len(screen.candidates) >= n and screen.sampling is None, f"{n} candidates")
    return screen


async def say(pilot, text: str) -> None:
    screen = pilot.app.screen
    screen.input.focus()
    screen.input.value = text
    await pilot.press("enter")


async def offered(pilot, text: str, n: int = 3) -> ChatScreen:
    """Say ``text`` (empty: let the others talk) and wait for ``n`` candidates."""
    await say(pilot, text)
    return await candidates_in(pilot, n)


def saved_turns(run: str = RUN):
    def read(chats):
        session = chats.list_sessions(run)[0]
        return session, chats.path(session.id)

    return chats_of(read)


async def test_candidates_numbered_then_pick_records_all_and_the_choice(workspace):
    sampler = ScriptedSampler()
    app = chat_app(sampler)
    async with app.run_test(size=SIZE) as pilot:
        screen = await ready(pilot)
        await offered(pilot, "who's up for karaoke?", 3)
        options = screen.panel.option_list
        prompts = [str(options.get_option_at_index(i).prompt) for i in range(options.option_count)]
        assert [p.split()[0] for p in prompts] == ["1", "2", "3"]
        assert "Jonas line 0" in prompts[0] and "pixel_dan line 1" in prompts[1]
        assert sampler.calls[0]["history"] == [("Maya", "who's up for karaoke?")]
        assert sampler.calls[0]["n"] == 3 and sampler.calls[0]["player"] == "Maya"
        assert options.has_focus
        await pilot.press("2")
        assert log_lines(app)[-1].split() == ["pixel_dan", "pixel_dan", "line", "1"]
        assert "Maya (you)" in log_lines(app)[0]
        assert screen.candidates == [] and screen.input.has_focus
        await wait_until(pilot, lambda: len(saved_turns()[1]) == 2, "the pick saved")
    session, turns = saved_turns()
    assert [(t.speaker, t.text, t.source) for t in turns] == [
        ("Maya", "who's up for karaoke?", "player"), ("pixel_dan", "pixel_dan line 1", "model")]
    assert turns[1].chosen == 1
    assert [c.text for c in turns[1].candidates] == ["Jonas line 0", "pixel_dan line 1", "Jonas line 2"]


async def test_more_edit_undo_branch_and_empty_enter(workspace):
    sampler = ScriptedSampler()
    app = chat_app(sampler)
    async with app.run_test(size=SIZE) as pilot:
        screen = await ready(pilot)
        # empty enter: the others keep talking (nothing typed, model opens)
        await offered(pilot, "", 3)
        assert sampler.calls[-1]["history"] == []
        # ctrl+r: a swipe adds candidates for the same turn, the earlier ones excluded as duplicates
        await pilot.press("ctrl+r")
        await candidates_in(pilot, 6)
        assert sampler.calls[-1]["exclude"] == ["Jonas line 0", "pixel_dan line 1", "Jonas line 2"]
        assert len(screen.candidates) == 6
        # F2: edit the highlighted candidate, then take it
        screen.panel.option_list.highlighted = 4
        await pilot.press("f2")
        await wait_until(pilot, lambda: app.screen.query("#prompt-input"), "the edit prompt")
        app.screen.query_one("#prompt-input").value = "edited by me"
        await pilot.press("enter")
        await wait_until(pilot, lambda: app.screen is screen and len(screen.turns) == 1, "the edited turn")
        assert screen.turns[0].source == "edited" and screen.turns[0].text == "edited by me"
        assert "(edited)" in log_lines(app)[-1]
        # ctrl+z: undo brings its candidates back; another pick starts a second branch
        assert screen.input.has_focus
        await pilot.press("escape", "ctrl+z")
        assert screen.turns == [] and len(screen.candidates) == 6 and log_lines(app) == []
        await pilot.press("1")
        assert screen.turns[0].text == "Jonas line 0"
        await wait_until(pilot, lambda: len(saved_turns()[1]) == 1 and saved_turns()[1][0].text == "Jonas line 0",
                         "the new branch saved")
        # empty enter after a pick samples the next turn with the new history
        await offered(pilot, "", 3)
        assert sampler.calls[-1]["history"] == [("Jonas", "Jonas line 0")]
        await pilot.press("ctrl+z")  # undo the model turn
        assert screen.turns == []
        # undoing the player's own line puts it back in the input
        await offered(pilot, "my line", 3)
        await pilot.press("ctrl+z")
        assert screen.input.value == "my line" and screen.input.has_focus and screen.candidates == []
    session, _ = saved_turns()
    roots = chats_of(lambda chats: chats.children(session.id, None))
    assert [(t.text, t.source, t.chosen) for t in roots] == [
        ("edited by me", "edited", 4), ("Jonas line 0", "model", 0), ("my line", "player", None)]


SENTENCE = "sure, hey guys: [u] r e i f? 2 of us (ok) #1!"
"""Letters, digits, punctuation and spaces: every key here used to run a chat action somewhere."""


def focusable_widgets(screen) -> dict:
    return {w.id: w for w in screen.query("*") if w.focusable}


async def test_typing_goes_to_the_input_whatever_has_the_focus(workspace):
    """A whole sentence typed with each focusable widget focused: it lands in the input and nothing else
    happens (no undo, swipe, edit, pick, branch switch, dialog or sampling)."""
    sampler = ScriptedSampler()
    app = chat_app(sampler)
    async with app.run_test(size=SIZE) as pilot:
        screen = await ready(pilot)
        await offered(pilot, "hi", 3)
        await pilot.press("1")
        await offered(pilot, "", 3)  # two turns and three candidates: undo, pick, swipe and edit all could act
        widgets = focusable_widgets(screen)
        assert set(widgets) == {"chat-log", "candidate-list", "chat-input"}
        for name, widget in widgets.items():
            turns, on_offer, calls = list(screen.turns), list(screen.candidates), len(sampler.calls)
            screen.input.value = ""
            widget.focus()
            await pilot.pause()
            await pilot.press(*SENTENCE)
            await pilot.pause()
            assert screen.input.value == SENTENCE, name
            assert screen.input.has_focus and app.screen is screen, name
            assert screen.turns == turns and screen.candidates == on_offer, name
            assert len(sampler.calls) == calls and screen.sampling is None, name
        # digits pick only from the focused list, and the Footer shows 1-9 only there
        screen.panel.option_list.focus()
        await wait_until(pilot, lambda: "1" in footer_keys(screen), "1-9 in the Footer")
        screen.input.focus()
        await wait_until(pilot, lambda: "1" not in footer_keys(screen), "1-9 gone from the Footer")


def test_no_chat_action_sits_on_a_key_typed_in_a_sentence():
    """Every binding of the chat is a chord, a function key, esc or enter, except the digits (which act only
    while the candidate list has the focus), and each says what it does."""
    from textual.keys import _character_to_key

    typed = {_character_to_key(c) for c in SENTENCE + "abcdefghijklmnopqrstuvwxyz[]"} | set("0123456789")
    for binding in ChatScreen.BINDINGS:
        assert binding.key in set("123456789") or binding.key not in typed, binding.key
        assert binding.description or binding.key in set("23456789"), binding.key


async def test_f1_lists_every_chat_key_by_what_it_does(workspace, home):
    from friendsim_tui.tui.app import FriendSimApp
    from friendsim_tui.tui.screens.dialogs import HelpScreen

    app = FriendSimApp(start_dir=home, cursor_blink=False)
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: app.screen.id == "home", "home")
        app.push_screen(ChatScreen(WS, RUN, "Maya", speakers=SPEAKERS, open_sampler=opener(ScriptedSampler())))
        screen = await ready(pilot)
        await offered(pilot, "", 3)
        await pilot.press("f1")
        await wait_until(pilot, lambda: isinstance(app.screen, HelpScreen), "the help")
        listed = {key.action: (section.title, key.keys) for section in app.screen.sections for key in section.keys}
    for action, keys in {"more": ["^r"], "edit": ["f2"], "undo": ["^z"], "impersonate": ["^g"], "force": ["^f"],
                         "settings": ["^s"], "export": ["^e"], "new_session": ["^n"], "sessions": ["^o"],
                         "pick": ["1-9"]}.items():
        assert listed[action][1] == keys, action
        assert listed[action][0] == ChatScreen.HELP_GROUPS[action], action
    assert screen.HELP_TITLE == "Chat"


async def test_undoing_my_own_opening_line_gives_it_back_to_type_never_a_candidate_in_my_voice(workspace):
    sampler = ScriptedSampler()
    opening = Turn("Maya", "omg who's up for karaoke friday??")
    app = chat_app(sampler, seed_turns=[opening], autostart=True)
    async with app.run_test(size=SIZE) as pilot:
        screen = await candidates_in(pilot, 3)
        assert screen.panel.option_list.has_focus
        await pilot.press("ctrl+z")
        assert screen.turns == [] and screen.candidates == []
        assert screen.input.value == opening.text and screen.input.has_focus
        await pilot.press("ctrl+r")  # more: the others may open now, the player's line is never among them
        await candidates_in(pilot, 3)
        assert all(c.speaker != "Maya" for c in screen.candidates)
        await pilot.press("ctrl+z")  # nothing to undo: still nothing in Maya's voice
        assert all(c.speaker != "Maya" for c in screen.candidates)


async def test_typing_impersonate_and_force(workspace):
    sampler = ScriptedSampler()
    app = chat_app(sampler)
    async with app.run_test(size=SIZE) as pilot:
        screen = await ready(pilot)
        await offered(pilot, "[bold]hi[/] all", 3)
        assert log_lines(app)[0].startswith("Maya (you)") and log_lines(app)[0].endswith("[bold]hi[/] all")
        # ctrl+g: the model suggests the player's own line into the input
        await pilot.press("ctrl+g")
        await wait_until(pilot, lambda: screen.input.value.startswith("my own line"), "the suggestion")
        assert screen.input.has_focus and sampler.calls[-1]["kind"] == "impersonate"
        assert len(screen.candidates) == 3, "a suggestion leaves the candidates on offer"
        # ctrl+f: force who answers
        await pilot.press("escape")
        assert screen.panel.option_list.has_focus
        await pilot.press("ctrl+f")
        await wait_until(pilot, lambda: app.screen.query("#choice-list"), "the speaker choice")
        choices = app.screen.query_one("#choice-list")
        assert [str(choices.get_option_at_index(i).prompt) for i in range(choices.option_count)] == ["Jonas", "pixel_dan"]
        choices.highlighted = 1
        await pilot.press("enter")
        await wait_until(pilot, lambda: sampler.calls[-1]["kind"] == "candidates" and sampler.calls[-1]["force"],
                         "a forced request")
        await candidates_in(pilot, 3)
        assert sampler.calls[-1]["force"] == "pixel_dan"
        assert {c.speaker for c in screen.candidates} == {"pixel_dan"}


async def test_a_suggestion_over_what_i_typed_can_be_taken_back(workspace):
    sampler = ScriptedSampler()
    app = chat_app(sampler)
    async with app.run_test(size=SIZE) as pilot:
        screen = await ready(pilot)
        await offered(pilot, "hi", 3)
        screen.input.focus()
        screen.input.value = "half a thought"
        await pilot.press("ctrl+g")
        await wait_until(pilot, lambda: screen.input.value.startswith("my own line"), "the suggestion")
        assert "ctrl+z gives it back" in str(screen.panel.query_one("#candidate-status").render())
        await pilot.press("ctrl+z")
        assert screen.input.value == "half a thought", "the draft is back"
        assert len(screen.turns) == 1 and len(screen.candidates) == 3, "and nothing else was undone"
        await pilot.press("ctrl+z")  # the next ctrl+z is an undo again
        assert screen.turns == []


async def test_swipes_past_nine_show_the_newest_nine_and_every_one_is_saved(workspace):
    sampler = ScriptedSampler()
    app = chat_app(sampler)
    async with app.run_test(size=SIZE) as pilot:
        screen = await ready(pilot)
        await offered(pilot, "", 3)
        for total in (6, 9, 12):
            await pilot.press("ctrl+r")
            await wait_until(pilot, lambda: len(screen.offered) == total and screen.sampling is None, f"{total}")
        assert sampler.calls[-1]["exclude"] == [c.text for c in screen.offered[:9]]
        options = screen.panel.option_list
        labels = [str(options.get_option_at_index(i).prompt).split()[0] for i in range(options.option_count)]
        assert labels == [str(i) for i in range(1, 10)] and screen.candidates == screen.offered[3:]
        assert str(screen.panel.border_subtitle) == "3 older not shown"
        newest = screen.offered[-1]
        options.focus()
        await pilot.press("9")
        assert screen.turns[-1].text == newest.text
        await wait_until(pilot, lambda: len(saved_turns()[1]) == 1, "the pick saved")
    turn = saved_turns()[1][0]
    assert len(turn.candidates) == 12 and turn.chosen == 11 and turn.candidates[11].text == newest.text


async def test_notifications_never_cover_the_candidates_or_the_input(workspace):
    from textual.widgets._toast import Toast

    app = chat_app(ScriptedSampler())
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        screen = await ready(pilot)
        await offered(pilot, "hi", 3)
        screen.notify("A notification long enough to wrap onto a few lines of its own, " * 3, severity="warning")
        await wait_until(pilot, lambda: screen.query(Toast) and screen.query_one(Toast).region.height, "the toast")
        toast = screen.query_one(Toast).region
        for selector in ("#candidates", "#chat-input-row", "Footer"):
            assert not toast.overlaps(screen.query_one(selector).region), selector


async def test_settings_apply_to_the_next_sample_and_are_saved(workspace):
    sampler = ScriptedSampler()
    app = chat_app(sampler)
    async with app.run_test(size=SIZE) as pilot:
        screen = await ready(pilot)
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: app.screen.query("#set-temperature"), "the settings panel")
        app.screen.query_one("#set-temperature").value = "0.9"
        app.screen.query_one("#set-candidates").value = "0"
        await pilot.press("ctrl+s")
        # the error names the field as the dialog labels it (not the config key) and the cursor goes there
        error = str(app.screen.query_one("#settings-error").render())
        assert error == "Candidates per turn (N): must be from 1 to 9"
        assert app.screen.focused.id == "set-candidates"
        app.screen.query_one("#set-top_p").value = "lots"
        await pilot.press("ctrl+s")
        assert str(app.screen.query_one("#settings-error").render()) == "Top-p: not a number: lots"
        assert app.screen.focused.id == "set-top_p"
        app.screen.query_one("#set-top_p").value = "1"
        app.screen.query_one("#set-candidates").value = "2"
        app.screen.query_one("#set-top_k").value = "12"
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: app.screen is screen, "back in the chat")
        assert str(app.screen.query_one("#chat-settings").render()).startswith("T 0.9 · top-k 12")
        await offered(pilot, "", 2)
        call = sampler.calls[-1]
        assert call["n"] == 2 and call["settings"].temperature == 0.9 and call["settings"].top_k == 12
        await wait_until(pilot, lambda: saved_turns()[0].settings.get("temperature") == 0.9, "settings saved")
    assert saved_turns()[0].settings["candidates"] == 2


async def test_export_writes_a_file_in_the_workspace(workspace, home):
    sampler = ScriptedSampler()
    app = chat_app(sampler)
    notes = []
    async with app.run_test(size=SIZE) as pilot:
        screen = await ready(pilot)
        app.notify = lambda message, **kw: notes.append(message)  # noqa: E731 (record what the user is told)
        await offered(pilot, "[@click=app.quit]hi", 3)
        await pilot.press("1")
        for fmt in (0, 1):
            await pilot.press("ctrl+e")
            await wait_until(pilot, lambda: app.screen.query("#choice-list"), "the format choice")
            app.screen.query_one("#choice-list").highlighted = fmt
            await pilot.press("enter")
            await wait_until(pilot, lambda: len([n for n in notes if n.startswith("Saved to")]) == fmt + 1, "export")
        assert app.screen is screen
    from friendsim_tui import paths

    files = sorted((paths.workspace_dir(WS) / "exports").iterdir())
    assert [f.suffix for f in files] == [".md", ".txt"]
    md, txt = (f.read_text() for f in files)
    assert "**Maya** (you): \\[@click=app.quit\\]hi" in md and "Jonas line 0" in md
    assert "Maya: [@click=app.quit]hi" in txt
    assert all(f.stat().st_mode & 0o777 == 0o600 for f in files)
    saved = [n for n in notes if n.startswith("Saved to ")]
    assert [n.rsplit("/", 1)[-1] for n in saved] == [f.name for f in files], "the user is told each path"


async def test_resume_shows_previous_turns_and_pending_candidates(workspace):
    def seed(chats):
        s = chats.new_session(RUN, "Maya", settings={"temperature": 0.7})
        chats.add_turn(s.id, "Jonas", "Well, chess club is tonight.", "model",
                       candidates=[Turn("Jonas", "Well, chess club is tonight.")], chosen=0)
        chats.add_turn(s.id, "Maya", "omg i forgot", "player")
        chats.set_pending(s.id, [Turn("Jonas", "Right. Same room."), Turn("pixel_dan", "pizza?")])
        other = chats.new_session(RUN, "Jonas")  # another player's session is not resumed
        chats.add_turn(other.id, "Jonas", "not this one", "player")
        return s.id

    sid = chats_of(seed)
    chats_of(lambda chats: chats.set_pending(sid, [Turn("Jonas", "Right. Same room."), Turn("pixel_dan", "pizza?")]))
    sampler = ScriptedSampler()
    app = chat_app(sampler)
    async with app.run_test(size=SIZE) as pilot:
        screen = await ready(pilot)
        assert screen.session.id == sid
        assert [line.split()[0] for line in log_lines(app)] == ["Jonas", "Maya"]
        assert pairs(screen.candidates) == [("Jonas", "Right. Same room."), ("pixel_dan", "pizza?")]
        assert screen.settings.temperature == 0.7 and sampler.calls == []
        await pilot.press("2")
        await wait_until(pilot, lambda: len(saved_turns()[1]) == 3, "the pick saved")
    assert saved_turns()[1][-1].text == "pizza?"


async def test_long_session_is_line_rendered(workspace):
    def seed(chats):
        s = chats.new_session(RUN, "Maya")
        for i in range(3000):
            chats.add_turn(s.id, SPEAKERS[i % 3], f"message {i}", "player" if i % 3 == 0 else "model")

    chats_of(seed)
    app = chat_app(ScriptedSampler())
    async with app.run_test(size=SIZE) as pilot:
        screen = await ready(pilot)
        log = screen.log_widget
        assert len(screen.turns) == 3000 and log.line_count == 3000
        assert len(list(log.query("*"))) == 0, "one widget, no children per message"
        await wait_until(pilot, lambda: log.max_scroll_y > 0 and log.scroll_y == log.max_scroll_y,
                         "the log opening at the newest turn")
        # every turn is re-wrapped as plain text on a resize, but only the rows on screen are ever styled
        styled: list[int] = []
        row_content = log._row_content
        log._row_content = lambda y: styled.append(y) or row_content(y)
        await pilot.resize_terminal(70, 30)
        await wait_until(pilot, lambda: log._wrapped_at < 70 and styled, "the re-wrap, drawn")
        await offered(pilot, "and one more", 3)
        await pilot.press("1")
        await wait_until(pilot, lambda: log._rows[-1][2].split()[-1] == "0", "Jonas line 0, at the bottom")
        await pilot.pause()
        assert min(styled) >= log.line_count - 3 * log.size.height, "rows far above the view were never drawn"


def test_wrap_plain():
    assert wrap_plain("hello world this is a test", 10) == ["hello", "world this", "is a test"]
    assert wrap_plain("a" * 25, 10) == ["a" * 10, "a" * 10, "a" * 5]
    assert wrap_plain("line1\nline2 is longer than ten", 10) == ["line1", "line2 is", "longer", "than ten"]
    assert wrap_plain("日本語のテキストです日本語", 10) == ["日本語のテ", "キストです", "日本語"]
    assert wrap_plain("", 10) == [""]


async def test_the_event_loop_never_stalls_while_a_slow_model_samples(workspace):
    sampler = RecordingSampler(ScriptedSampler(delay=0.25))  # 0.25 s per candidate, in the worker thread
    app = chat_app(sampler)
    async with app.run_test(size=SIZE) as pilot:
        screen = await ready(pilot)
        baseline = await baseline_gaps(pilot)
        async with LoopGaps() as gaps:
            await say(pilot, "anyone?")
            await candidates_in(pilot, 3)
            await pilot.press("ctrl+r")
            await candidates_in(pilot, 6)
    assert_loop_kept_running(gaps, baseline, sampler)


async def test_candidates_show_as_they_come_and_the_status_says_more_are_coming(workspace):
    sampler = ScriptedSampler()
    sampler.hold(allow=1)
    app = chat_app(sampler)
    async with app.run_test(size=SIZE) as pilot:
        screen = await ready(pilot)
        await say(pilot, "anyone?")
        await wait_until(pilot, lambda: screen.sampling == "candidates" and screen.candidates, "the first candidate")
        assert len(screen.candidates) == 1
        assert "sampling 2 more…" in str(screen.panel.query_one("#candidate-status").render())
        sampler.release()
        await candidates_in(pilot, 3)
        assert "sampling" not in str(screen.panel.query_one("#candidate-status").render())


async def test_leaving_cancels_sampling(workspace):
    sampler = ScriptedSampler()
    sampler.hold()  # the model never answers until cancelled
    app = chat_app(sampler)
    async with app.run_test(size=SIZE) as pilot:
        screen = await ready(pilot)
        await say(pilot, "hello")
        await wait_until(pilot, lambda: screen.sampling == "candidates", "sampling")
        screen.panel.option_list.focus()
        await pilot.press("escape")
        assert sampler.cancelled.is_set()


async def test_a_model_that_cannot_load_or_sample_says_why_and_the_session_stays(workspace):
    def broken(workspace, run):
        raise ChatError(f"run {run!r}: pytorch_model.bin only: pickle checkpoints are refused")

    app = ScreenHost(lambda: ChatScreen(WS, RUN, "Maya", speakers=SPEAKERS, open_sampler=broken))
    async with app.run_test(size=SIZE) as pilot:
        screen = app.screen
        await wait_until(pilot, lambda: screen.model_error and screen.session is not None, "the failure")
        assert "pickle checkpoints are refused" in str(screen.panel.query_one("#candidate-status").render())
        await say(pilot, "still here?")
        assert [t.text for t in screen.turns] == ["still here?"] and screen.sampling is None

    class Stubborn(ScriptedSampler):
        def candidates(self, *args, **kwargs):
            raise SampleError("the model only produced turns in the wrong voice after 4 tries")

    app = chat_app(Stubborn())
    async with app.run_test(size=SIZE) as pilot:
        screen = await ready(pilot)
        assert [t.text for t in screen.turns] == ["still here?"]  # resumed
        await pilot.press("enter")  # (the input has focus) let them talk
        await wait_until(pilot, lambda: "wrong voice" in str(screen.panel.query_one("#candidate-status").render()),
                         "the sampling error")
        assert app.is_running and screen.sampling is None and screen.candidates == []
    assert [t.text for t in saved_turns()[1]] == ["still here?"]


async def test_ctrl_n_starts_a_new_session_and_keeps_the_old_one(workspace):
    app = chat_app(ScriptedSampler())
    async with app.run_test(size=SIZE) as pilot:
        screen = await ready(pilot)
        await offered(pilot, "first session")
        first = screen.session.id
        await pilot.press("ctrl+n")
        await wait_until(pilot, lambda: screen.session is not None and screen.session.id != first, "a new session")
        assert screen.turns == [] and log_lines(app) == [] and screen.candidates == []
    sessions = chats_of(lambda chats: [(s.id, s.turns) for s in chats.list_sessions(RUN)])
    assert sorted(sessions) == [(first, 1), (first + 1, 0)]


# -- switching between saved branches ([ and ]) -------------------------------------------------------------


def footer_keys(screen) -> dict[str, bool]:
    """{key: enabled} of the keys the Footer shows."""
    from textual.widgets._footer import FooterKey

    return {k.key: not k.has_class("-disabled") for k in screen.query(FooterKey)}


def saved_path_texts() -> list[str]:
    """The texts of the stored session's current path, read afresh from the store."""
    return chats_of(lambda chats: [t.text for t in chats.path(chats.list_sessions(RUN)[0].id)])


def texts_shown(app) -> list[str]:
    return [t.text for t in app.screen.turns]


async def test_alt_arrows_switch_between_saved_branches_and_the_session_follows(workspace):
    sampler = ScriptedSampler()
    app = chat_app(sampler)
    async with app.run_test(size=SIZE) as pilot:
        screen = await ready(pilot)
        # branch 1: two picks in a row
        await offered(pilot, "", 3)
        await pilot.press("1")
        await offered(pilot, "", 3)
        await pilot.press("1")
        first = texts_shown(app)
        assert len(first) == 2
        assert "alt+left" not in footer_keys(screen) and screen.check_action("branch", (-1,)) is False
        # undo both, pick another first turn: branch 2
        await pilot.press("escape", "ctrl+z", "ctrl+z")
        assert screen.turns == [] and len(screen.candidates) == 3
        await pilot.press("2")
        second = texts_shown(app)
        assert second[0] != first[0]
        await wait_until(pilot, lambda: fork_at(screen) == (0, 1, 2), "the split shown")
        assert log_lines(app)[0].startswith(f"{second[0].split()[0]} \u20392/2\u203a")
        assert str(screen.log_widget.border_subtitle) == "branch 2/2 · alt+← → switch"
        assert saved_path_texts() == second
        helps = {c.title: Content.from_markup(c.help).plain for c in screen.palette_commands()}
        assert helps["Previous branch"].endswith("(alt+←)") and helps["Next branch"].endswith("(alt+→)")
        # (the Footer leaves out the keys that type into the input while it has focus)
        await pilot.press("escape")
        assert screen.log_widget.has_focus
        await wait_until(pilot, lambda: footer_keys(screen).get("alt+left") is True, "alt+← in the Footer")
        assert footer_keys(screen)["alt+right"] is False, "no branch after the last one"
        # [ : back to branch 1, shown to its newest turn, and the session's leaf follows
        await pilot.press("alt+left")
        await wait_until(pilot, lambda: texts_shown(app) == first and screen.session is not None, "branch 1")
        assert [line.split()[-1] for line in log_lines(app)] == [t.split()[-1] for t in first]
        assert "\u20391/2\u203a" in log_lines(app)[0] and fork_at(screen) == (0, 0, 2)
        assert screen.candidates == [] and screen.sampling is None
        assert saved_path_texts() == first
        await wait_until(pilot, lambda: footer_keys(screen).get("alt+left") is False, "alt+← dimmed")
        # alt+← again at the first branch: nothing happens
        await pilot.press("alt+left")
        await pilot.pause()
        assert texts_shown(app) == first and screen.session is not None
        # ] : branch 2 again
        await pilot.press("alt+right")
        await wait_until(pilot, lambda: texts_shown(app) == second and fork_at(screen) == (0, 1, 2), "branch 2")
        assert saved_path_texts() == second
        # a pick on the branch goes on from it
        await offered(pilot, "", 3)
        await pilot.press("1")
        await wait_until(pilot, lambda: len(saved_path_texts()) == 2, "the pick saved")
        assert saved_path_texts()[0] == second[0]
        await pilot.press("escape", "alt+left")
        await wait_until(pilot, lambda: texts_shown(app) == first, "branch 1 again")
    # the session reopens where it was left: branch 1, with the split shown
    assert saved_path_texts() == first
    app = chat_app(ScriptedSampler())
    async with app.run_test(size=SIZE) as pilot:
        screen = await ready(pilot)
        assert texts_shown(app) == first and fork_at(screen) == (0, 0, 2)
        assert "\u20391/2\u203a" in log_lines(app)[0]


async def test_switching_cancels_sampling_and_a_branch_ending_on_my_line_is_answered(workspace):
    sampler = ScriptedSampler()
    app = chat_app(sampler)
    async with app.run_test(size=SIZE) as pilot:
        screen = await ready(pilot)
        await offered(pilot, "hello", 3)
        await pilot.press("1")
        answered = texts_shown(app)
        # undo the answer and my line (it comes back into the input), then say something else
        await pilot.press("escape", "ctrl+z", "ctrl+z")
        assert screen.input.value == "hello" and screen.turns == []
        sampler.hold()  # the answer to "bye" stays on its way until the test lets it come
        await say(pilot, "bye")
        await wait_until(pilot, lambda: screen.sampling == "candidates", "sampling for bye")
        await wait_until(pilot, lambda: fork_at(screen) == (0, 1, 2), "the split shown")
        calls = len(sampler.calls)
        # alt+← while sampling: the sampling stops, nothing it brought stays on offer
        screen.log_widget.focus()
        await pilot.press("alt+left")
        assert sampler.cancelled.is_set()
        await wait_until(pilot, lambda: texts_shown(app) == answered and screen.session is not None, "branch 1")
        await wait_until(pilot, lambda: screen.sampling is None, "the cancelled sampling to end")
        sampler.release()
        await pilot.pause()
        assert screen.candidates == [] and screen.sampling is None and len(sampler.calls) == calls
        # alt+→ : my line "bye" is the newest turn of branch 2: as on resume, the others answer it
        await pilot.press("alt+right")
        await wait_until(pilot, lambda: texts_shown(app) == ["bye"], "branch 2")
        await candidates_in(pilot, 3)
        assert sampler.calls[-1]["history"] == [("Maya", "bye")]
        await wait_until(pilot, lambda: chats_of(lambda c: len(c.list_sessions(RUN)[0].pending)) == 3,
                         "the candidates saved")


async def test_branch_keys_hidden_and_harmless_with_one_branch_and_brackets_type_in_the_input(workspace):
    sampler = ScriptedSampler()
    app = chat_app(sampler)
    async with app.run_test(size=SIZE) as pilot:
        screen = await ready(pilot)
        await offered(pilot, "hi", 3)
        await pilot.press("1")
        await wait_until(pilot, lambda: len(saved_path_texts()) == 2, "the pick saved")
        shown, calls = texts_shown(app), len(sampler.calls)
        assert screen.fork is None and screen.check_action("branch", (1,)) is False
        assert "branch" not in " ".join(c.title.lower() for c in screen.palette_commands())
        # in the input a bracket is a bracket
        assert screen.input.has_focus
        await pilot.press("left_square_bracket", "x", "right_square_bracket")
        assert screen.input.value == "[x]" and texts_shown(app) == shown
        # with one branch the branch keys are hidden and do nothing at all
        screen.input.value = ""
        screen.log_widget.focus()
        await wait_until(pilot, lambda: "ctrl+z" in footer_keys(screen), "the Footer for the log")
        assert not {"alt+left", "alt+right"} & set(footer_keys(screen))
        await pilot.press("alt+left", "alt+right")
        await pilot.pause(0.1)
        assert texts_shown(app) == shown and screen.session is not None and len(sampler.calls) == calls
        assert saved_path_texts() == shown and screen.log_widget.border_subtitle is None


# -- opening fast: the engine warmed in the background, a request made while the model loads ------------------


async def test_enter_while_the_model_loads_is_answered_once_it_is_loaded(workspace):
    sampler = ScriptedSampler()
    gate = threading.Event()

    def slow_open(workspace, run):
        gate.wait(PATIENCE)
        return None, sampler

    app = ScreenHost(lambda: ChatScreen(WS, RUN, "Maya", speakers=SPEAKERS, open_sampler=slow_open))
    async with app.run_test(size=SIZE) as pilot:
        screen = app.screen
        await wait_until(pilot, lambda: screen.session is not None, "the session")
        assert screen.sampler is None and screen.input.has_focus
        await pilot.press("enter")  # nothing typed: let the others talk, as soon as they can
        gate.set()
        await candidates_in(pilot, 3)
        assert len(sampler.calls) == 1 and sampler.calls[0]["history"] == []


async def test_the_chat_says_the_engine_is_starting_then_loads_through_the_shared_cache(workspace, monkeypatch):
    from friendsim_tui.services import models

    warm = threading.Event()
    sampler = ScriptedSampler()
    opened = []
    monkeypatch.setattr(models, "_state", "warming")
    monkeypatch.setattr(models, "_warm", warm)
    monkeypatch.setattr(models, "open_sampler", lambda ws, run: opened.append((ws, run)) or (None, sampler))
    app = ScreenHost(lambda: ChatScreen(WS, RUN, "Maya", speakers=SPEAKERS))  # the app's own way to load
    async with app.run_test(size=SIZE) as pilot:
        screen = app.screen
        status = screen.panel.query_one("#candidate-status")
        await wait_until(pilot, lambda: "starting the model engine (torch, transformers)" in str(status.render()),
                         "the engine note")
        assert opened == [], "nothing is loaded before the engine is imported"
        warm.set()
        await wait_until(pilot, lambda: screen.sampler is sampler, "the model")
        assert opened == [(WS, RUN)]


@pytest.mark.parametrize("engine", ["ready", "cold"])
async def test_the_setup_loads_the_highlighted_runs_model_while_the_friend_is_picked(workspace, monkeypatch, engine):
    from friendsim_tui.services import models

    fake_run(RUN, updated=2.0)
    fake_run("older", speakers=["Ann", "Bo"])
    opened = []
    monkeypatch.setattr(models, "_state", engine)
    monkeypatch.setattr(models, "open_sampler", lambda ws, run: opened.append(run) or (None, ScriptedSampler()))
    monkeypatch.setattr(ChatSetupScreen, "PREFETCH_DELAY", 0.01)
    app = ScreenHost(lambda: ChatSetupScreen(WS))
    async with app.run_test(size=SIZE) as pilot:
        setup = app.screen
        await wait_until(pilot, lambda: setup.runs and RUN in setup.speakers, "runs and speakers")
        if engine == "cold":  # an app that never started the engine (tests, scripts) loads only on opening
            await pilot.pause()
            assert opened == []
            return
        await wait_until(pilot, lambda: opened == [RUN], "the newest run's model loading")
        await pilot.press("down")
        await wait_until(pilot, lambda: opened == [RUN, "older"], "the other run's model loading")


async def test_home_says_while_the_model_engine_loads(workspaces, make_app, monkeypatch):
    from friendsim_tui.services import models
    from friendsim_tui.tui.widgets.engine_hint import EngineHint

    monkeypatch.setattr(models, "_state", "warming")
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: app.screen.id == "home", "home")
        hint = app.screen.query_one(EngineHint)
        await wait_until(pilot, lambda: hint.display and "loading the model engine…" in str(hint.render()), "the hint")
        monkeypatch.setattr(models, "_state", "ready")
        await wait_until(pilot, lambda: not hint.display, "the hint gone")


async def test_the_app_warms_the_engine_once_home_is_up(home, monkeypatch):
    from friendsim_tui.services import models
    from friendsim_tui.tui.app import FriendSimApp

    calls = []
    monkeypatch.setattr(models, "warm_up", lambda: calls.append(1))
    app = FriendSimApp(start_dir=home, cursor_blink=False, warm_engine=True)
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: calls, "the warm-up")
    assert calls == [1]


# -- setup and Home wiring ---------------------------------------------------------------------------------


def fake_run(name: str, speakers=SPEAKERS, updated: float = 1.0) -> None:
    finished_run(WS, name, speakers, updated)


async def test_setup_lists_runs_and_speakers_then_opens_the_chat(workspace):
    fake_run(RUN, updated=2.0)
    fake_run("older", speakers=["Ann", "Bo"])
    sampler = ScriptedSampler()
    app = ScreenHost(lambda: ChatSetupScreen(WS, open_sampler=opener(sampler)))
    async with app.run_test(size=SIZE) as pilot:
        setup = app.screen
        await wait_until(pilot, lambda: setup.runs and RUN in setup.speakers, "runs and speakers")
        players = setup.query_one("#setup-players")
        assert [str(players.get_option_at_index(i).prompt) for i in range(players.option_count)] == SPEAKERS
        await pilot.press("down")
        await wait_until(pilot, lambda: "older" in setup.speakers and players.option_count == 2, "the other run")
        await pilot.press("up", "enter")  # the newest run, then the speakers list
        await wait_until(pilot, lambda: players.has_focus and players.option_count == 3, "players focused")
        await pilot.press("down", "enter")
        await wait_until(pilot, lambda: isinstance(app.screen, ChatScreen), "the chat")
        screen = await ready(pilot)
        assert screen.player == "Jonas" and screen.run == RUN
        assert str(screen.query_one("#chat-who").render()) == "Playing as Jonas · run gpt2-1120 · with Maya, pixel_dan"
        assert str(screen.query_one("#chat-settings").render()) == "T 0.4 · top-k 40 · rep 1.2 · N 3"


async def test_conversation_setup_asks_for_a_run_only(workspace):
    from friendsim_tui.tui.screens.conversation import ConversationScreen

    fake_run(RUN)
    app = ScreenHost(lambda: ChatSetupScreen(WS, need_player=False, open_sampler=opener(ScriptedSampler())))
    async with app.run_test(size=SIZE) as pilot:
        setup = app.screen
        await wait_until(pilot, lambda: setup.runs, "the runs")
        assert str(setup.query_one("#setup-note").render()) == \
            "Pick a run (enter): its model writes conversations from your prompt."
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, ConversationScreen), "the conversation screen")


async def test_home_c_without_a_run_offers_training(workspaces, make_app):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: app.screen.id == "home" and app.screen.summary is not None, "home")
        await pilot.press("c")
        await wait_until(pilot, lambda: isinstance(app.screen, ChatSetupScreen) and app.screen.runs is not None,
                         "the chat setup")
        note = str(app.screen.query_one("#setup-note").render())
        assert "No trained run in workspace" in note and "press t to train" in note
        await pilot.press("t")
        await wait_until(pilot, lambda: app.screen.__class__.__name__ == "NewRunScreen", "the Train screen")
        await pilot.press("escape", "escape")
        await wait_until(pilot, lambda: on_home(app, app.workspace), "home again")
        await pilot.press("g")
        await wait_until(pilot, lambda: isinstance(app.screen, ChatSetupScreen) and not app.screen.need_player,
                         "the conversation setup")


# -- snapshots ---------------------------------------------------------------------------------------------


def _seed_history(texts):
    def seed(chats):
        s = chats.new_session(RUN, "Maya")
        chats.add_turn(s.id, "Jonas", texts[0], "model", candidates=[Turn("Jonas", texts[0])], chosen=0)
        chats.add_turn(s.id, "Maya", texts[1], "player")
        chats.add_turn(s.id, "pixel_dan", texts[2], "model", candidates=[Turn("pixel_dan", texts[2])], chosen=0)

    chats_of(seed)


def _with_candidates(n: int):
    async def run_before(pilot) -> None:
        screen = await ready(pilot)
        await say(pilot, "")
        await candidates_in(pilot, n)
        screen.panel.option_list.highlighted = 0

    return run_before


def test_snapshot_chat_with_candidates(workspace, snap_compare):
    _seed_history(["Well, chess club is tonight. Thoughts?", "omg i forgot!! is it the usual place",
                   "bro say less"])
    sampler = ScriptedSampler(script=["Right. Same room as last week.", "yo i'm in if there's pizza",
                                      "Hmm. I'll check the schedule."])
    assert snap_compare(chat_app(sampler), terminal_size=SIZE, run_before=_with_candidates(3))


def test_snapshot_hostile_text_is_inert_and_clicks_do_nothing(workspace, snap_compare):
    _seed_history(HOSTILE_TEXTS)
    sampler = ScriptedSampler(script=HOSTILE_TEXTS)
    app = chat_app(sampler)

    async def run_before(pilot) -> None:
        await _with_candidates(3)(pilot)
        screen = pilot.app.screen
        log = [line.rstrip() for line in screen.log_widget.plain_lines()]
        assert any("[@click=app.quit]y[/] click me" in line for line in log)
        assert any("␛[31mred␛[0m [0]" in line for line in log)
        for offset in ((16, 2), (16, 3), (16, 4), (6, 7), (8, 8), (8, 9)):  # on the texts and the candidates
            await pilot.click(offset=offset)
        await pilot.pause()
        assert pilot.app.is_running and pilot.app.screen is screen
        screen.panel.option_list.focus()

    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)
    assert app.return_code is None or app.return_code == 0


# -- 80x24, the smallest terminal we promise -----------------------------------------------------------------

SMALL = (80, 24)


def test_snapshot_chat_at_80x24_after_a_split(workspace, snap_compare):
    """The whole header (who, run, sampling settings), the candidates, and the Footer down to esc Back with the
    branch keys showing (the widest the Footer gets)."""
    _seed_history(["Well, chess club is tonight. Thoughts?", "omg i forgot!! is it the usual place",
                   "bro say less"])

    def branch(chats):
        s = chats.list_sessions(RUN)[0]
        path = chats.path(s.id)
        chats.set_leaf(s.id, path[1].id)
        chats.add_turn(s.id, "Jonas", "Same room as always.", "model", candidates=[Turn("Jonas", "Same room")],
                       chosen=0)

    chats_of(branch)
    sampler = ScriptedSampler(script=["Right. Same room as last week.", "yo i'm in if there's pizza",
                                      "Hmm. I'll check the schedule."])

    async def run_before(pilot) -> None:
        screen = await ready(pilot)
        await wait_until(pilot, lambda: screen.fork is not None, "the split")
        await say(pilot, "")
        await candidates_in(pilot, 3)

    assert snap_compare(chat_app(sampler), terminal_size=SMALL, run_before=run_before)


async def test_chat_footer_at_80_columns_keeps_esc_back_and_the_header_its_settings(workspace):
    app = chat_app(ScriptedSampler())
    async with app.run_test(size=SMALL) as pilot:
        screen = await ready(pilot)
        await offered(pilot, "", 3)
        screen.panel.option_list.focus()
        await wait_until(pilot, lambda: "1" in footer_keys(screen), "the list's Footer")
        from textual.widgets._footer import FooterKey

        back = next(k for k in screen.query(FooterKey) if k.key == "escape")
        assert back.region.width > 0 and back.region.right <= SMALL[0]
        settings = screen.query_one("#chat-settings")
        assert str(settings.render()) == "T 0.4 · top-k 40 · rep 1.2 · N 3"
        assert settings.region.width >= len("T 0.4 · top-k 40 · rep 1.2 · N 3") and settings.region.right <= SMALL[0]


def test_snapshot_setup_at_80x24(workspace, snap_compare):
    fake_run(RUN, updated=2.0)
    fake_run("older-run-with-a-long-name", speakers=["Ann", "Bo"])

    async def run_before(pilot) -> None:
        setup = pilot.app.screen
        await wait_until(pilot, lambda: setup.runs and setup.query_one("#setup-players").option_count == 3,
                         "runs and speakers")

    assert snap_compare(ScreenHost(lambda: ChatSetupScreen(WS)), terminal_size=SMALL, run_before=run_before)


def test_snapshot_settings_at_80x24(workspace, snap_compare):
    async def run_before(pilot) -> None:
        await ready(pilot)
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: pilot.app.screen.query("#set-candidates"), "the settings")
        pilot.app.screen.query_one("#set-candidates").value = "12"
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: pilot.app.screen.focused.id == "set-candidates", "the error")

    assert snap_compare(chat_app(ScriptedSampler()), terminal_size=SMALL, run_before=run_before)


# -- one real model (tiny, trained for a few steps like the engine tests' one) ------------------------------


def _build_tiny_run(run: str):
    """A completed run whose model is the engine tests' tiny GPT-2 (speakers Alice, Bob Smith, ...)."""
    import importlib.util
    from pathlib import Path

    from friendsim_tui.services.training import run_dir

    source = Path(__file__).parents[1] / "engine" / "test_sampler.py"
    spec = importlib.util.spec_from_file_location("engine_test_sampler", source)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    folder = run_dir(WS, run)
    module.build_tiny_model(folder / "model", steps=40)
    (folder / "run.json").write_text(json.dumps({"status": "done", "updated": 1.0}))
    return module


async def test_a_real_tiny_model_in_the_chat(workspace):
    torch = pytest.importorskip("torch")
    from friendsim_tui.services.chat import open_sampler

    engine = _build_tiny_run("tiny")
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    recorded: list[RecordingSampler] = []

    def open_recorded(workspace, run):
        choice, sampler = open_sampler(workspace, run)  # the real model, loaded as the app loads it
        recorded.append(RecordingSampler(sampler))
        return choice, recorded[-1]

    app = ScreenHost(lambda: ChatScreen(WS, "tiny", "Alice", open_sampler=open_recorded))
    try:
        async with app.run_test(size=SIZE) as pilot:
            screen = pilot.app.screen
            await wait_until(pilot, lambda: screen.sampler is not None and screen.session is not None, "the model")
            assert screen.speakers == list(engine.SPEAKERS)
            baseline = await baseline_gaps(pilot)
            async with LoopGaps() as gaps:
                await offered(pilot, "")
                await pilot.press("ctrl+r")  # a swipe: fewer than 3 new ones if the tiny model repeats itself
                await wait_until(pilot, lambda: screen.sampling is None, "the swipe")
            assert len(screen.candidates) >= 3
            assert all(c.speaker != "Alice" and c.text.strip() for c in screen.candidates)
            await pilot.press("1")
            await wait_until(pilot, lambda: len(saved_turns("tiny")[1]) == 1, "the pick saved")
    finally:
        torch.set_num_threads(threads)
    assert_loop_kept_running(gaps, baseline, recorded[0])


def test_snapshot_setup_with_markup_in_speaker_names(workspace, snap_compare):
    """(Run names cannot hold markup: runs.check_run_name refuses brackets. Speaker names can.)"""
    fake_run("run.2 final-ish", speakers=["[bold]x[/]", "\x1b[31mred", "[@click=app.quit]y"], updated=2.0)
    fake_run(RUN)

    async def run_before(pilot) -> None:
        setup = pilot.app.screen
        await wait_until(pilot, lambda: setup.runs and setup.query_one("#setup-players").option_count == 3,
                         "runs and speakers")

    assert snap_compare(ScreenHost(lambda: ChatSetupScreen(WS)), terminal_size=SIZE, run_before=run_before)
