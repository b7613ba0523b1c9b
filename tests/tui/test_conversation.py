"""Conversation from a prompt, driven by a scripted sampler: samples side by side, continue in the chat,
export, settings, and a snapshot."""

from __future__ import annotations

import pytest
from chat_helpers import ScreenHost, ScriptedSampler, opener, pairs
from tui_helpers import SIZE, wait_until

from friendsim_tui.store import Store
from friendsim_tui.turns import Turn
from friendsim_tui.tui.screens.chat import ChatScreen
from friendsim_tui.tui.screens.conversation import ConversationScreen, conversation_text

WS, RUN = "weekend-crew", "gpt2-1120"


@pytest.fixture
def workspace(home):
    Store.for_workspace(WS, create=True).close()
    return WS


def conv_app(sampler: ScriptedSampler) -> ScreenHost:
    return ScreenHost(lambda: ConversationScreen(WS, RUN, open_sampler=opener(sampler), turns=4))


def column_lines(screen, i: int) -> list[str]:
    return [line.rstrip() for line in screen.query_one(f"#sample-{i}").plain_lines()]


async def generate(pilot, prompt: str) -> ConversationScreen:
    screen = pilot.app.screen
    await wait_until(pilot, lambda: screen.sampler is not None, "the model")
    field = screen.query_one("#conv-prompt")
    field.focus()
    field.value = prompt
    await pilot.press("enter")
    await wait_until(pilot, lambda: len(screen.samples) == screen.n and not screen.sampling, "the samples")
    return screen


async def test_prompt_with_a_known_name_then_continue_in_chat(workspace):
    sampler = ScriptedSampler()
    app = conv_app(sampler)
    async with app.run_test(size=SIZE) as pilot:
        screen = await generate(pilot, "maya: who's up for karaoke friday?")
        call = sampler.calls[-1]
        assert call["prompt"] == [("Maya", "who's up for karaoke friday?")] and call["opening"] is None
        assert call["turns"] == 4 and call["n"] == 3
        assert " ".join(column_lines(screen, 1)[:2]) == "Maya: who's up for karaoke friday?"
        assert "Jonas: sample 2 turn 1" in column_lines(screen, 2)
        # 1-3 continue in the chat from that sample: pick who you play, the model stays loaded
        await pilot.press("escape", "2")
        await wait_until(pilot, lambda: app.screen.query("#choice-list"), "who you play")
        app.screen.query_one("#choice-list").highlighted = 2
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, ChatScreen) and app.screen.session is not None,
                         "the chat")
        chat = app.screen
        assert chat.player == "pixel_dan" and chat.sampler is sampler
        assert pairs(chat.turns) == pairs(screen.samples[1])
        await pilot.press("escape", "escape")
        await wait_until(pilot, lambda: app.screen is screen, "back to the samples")


SENTENCE = "sure, 2 of us: [u] r e i f? (ok) #1 3!"


async def test_typing_goes_to_the_prompt_whatever_has_the_focus(workspace):
    """A sentence typed with each focusable widget focused lands in the prompt: no digit continues a sample
    into the chat, nothing is generated, no dialog opens. Digits continue a sample only from a sample."""
    sampler = ScriptedSampler()
    app = conv_app(sampler)
    async with app.run_test(size=SIZE) as pilot:
        screen = await generate(pilot, "")
        prompt = screen.query_one("#conv-prompt")
        widgets = {w.id: w for w in screen.query("*") if w.focusable}
        assert set(widgets) == {"conv-prompt", "sample-1", "sample-2", "sample-3"}
        for name, widget in widgets.items():
            calls = len(sampler.calls)
            prompt.value = ""
            widget.focus()
            await pilot.pause()
            await pilot.press(*SENTENCE)
            await pilot.pause()
            assert prompt.value == SENTENCE and prompt.has_focus, name
            assert app.screen is screen and len(sampler.calls) == calls and not screen.sampling, name
            assert "in a sample, 1-3 continue" in str(screen.query_one("#conv-status").render()), name
        assert screen.check_action("continue_chat", (0,)) is False, "1-3 are not offered in the prompt"
        screen.query_one("#sample-2").focus()
        await pilot.pause()
        assert screen.check_action("continue_chat", (0,)) is True
        assert str(screen.query_one("#conv-status").render()).startswith("3 samples · 1-3 continue it in the chat")
        await pilot.press("2")
        await wait_until(pilot, lambda: app.screen.query("#choice-list"), "who you play")


async def test_empty_prompt_opening_line_settings_and_export(workspace):
    sampler = ScriptedSampler()
    app = conv_app(sampler)
    notes = []
    async with app.run_test(size=SIZE) as pilot:
        screen = await generate(pilot, "")
        assert sampler.calls[-1]["prompt"] == [] and sampler.calls[-1]["opening"] is None
        await generate(pilot, "anyone up for karaoke?")
        assert sampler.calls[-1]["opening"] == "anyone up for karaoke?"
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: app.screen.query("#set-samples"), "the settings")
        app.screen.query_one("#set-samples").value = "2"
        app.screen.query_one("#set-turns").value = "6"
        app.screen.query_one("#set-temperature").value = "0.8"
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: app.screen is screen and len(screen.query(".conv-sample")) == 2, "2 columns")
        await generate(pilot, "")
        call = sampler.calls[-1]
        assert call["n"] == 2 and call["turns"] == 6 and call["settings"].temperature == 0.8
        app.notify = lambda message, **kw: notes.append(message)  # noqa: E731
        await pilot.press("ctrl+e")
        await wait_until(pilot, lambda: app.screen.query("#choice-list"), "the format")
        await pilot.press("enter")
        await wait_until(pilot, lambda: notes, "the export")
    from friendsim_tui import paths

    (path,) = (paths.workspace_dir(WS) / "exports").iterdir()
    assert path.suffix == ".md" and "## Sample 2" in path.read_text() and "Saved to" in notes[0]


def test_exported_samples_are_inert_and_escaped_as_a_chat_export_is():
    samples = [[Turn("Maya", "who's in?\n- me"), Turn("Jonas", "[@click=app.quit]x[/] \x1b[31mred")]]
    txt = conversation_text(WS, RUN, "Maya: who's in?", samples, markdown=False)
    md = conversation_text(WS, RUN, "Maya: who's in?", samples, markdown=True)
    assert "\x1b" not in txt + md
    assert "-- Sample 1 --\nMaya: who's in?\n  - me\nJonas: [@click=app.quit]x[/] ␛[31mred\n" in txt
    assert "## Sample 1\n\n**Maya**: who's in?  \n\\- me\n\n**Jonas**: \\[@click=app.quit\\]x\\[/\\] ␛\\[31mred\n" in md


def test_snapshot_conversation(workspace, snap_compare):
    sampler = ScriptedSampler(script=["bro say less", "Right. 8pm?", "[bold]x[/] \x1b[31m [@click=app.quit]y",
                                      "it's INDOORS jonas"])

    async def run_before(pilot) -> None:
        await generate(pilot, "Maya: who's up for karaoke friday?")
        pilot.app.screen.query_one("#sample-1").focus()

    assert snap_compare(conv_app(sampler), terminal_size=SIZE, run_before=run_before)


def test_snapshot_conversation_at_80x24(workspace, snap_compare):
    sampler = ScriptedSampler(script=["bro say less", "Right. 8pm?", "it's INDOORS jonas"])

    async def run_before(pilot) -> None:
        await generate(pilot, "Maya: who's up for karaoke friday?")
        pilot.app.screen.query_one("#sample-1").focus()

    assert snap_compare(conv_app(sampler), terminal_size=(80, 24), run_before=run_before)


def test_snapshot_conversation_settings_at_80x24(workspace, snap_compare):
    async def run_before(pilot) -> None:
        screen = pilot.app.screen
        await wait_until(pilot, lambda: screen.sampler is not None, "the model")
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: pilot.app.screen.query("#set-samples"), "the settings")

    assert snap_compare(conv_app(ScriptedSampler()), terminal_size=(80, 24), run_before=run_before)
