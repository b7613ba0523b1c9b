"""Candidates that copy an old message: marked "↺ said before" in the chat and the conversation screen, and
hidden (refilled like duplicates) when the chat's settings say so.

The model is the scripted one, paired with a real verbatim index of "training" messages by the service that
pairs them in the app (services.chat.CopyCheckingSampler)."""

from __future__ import annotations

from chat_helpers import ScreenHost, ScriptedSampler, chats_of, opener
from test_chat import RUN, SMALL, WS, candidates_in, chat_app, offered, ready, saved_turns, workspace  # noqa: F401
from tui_helpers import SIZE, wait_until

from friendsim_tui.services.chat import CopyCheckingSampler
from friendsim_tui.turns import Turn
from friendsim_tui.tui.screens.conversation import ConversationScreen
from friendsim_tui.verbatim import VerbatimIndex

TRAINING = ["We should totally do karaoke again, Friday!", "ok", "the ramen place on 5th was honestly the best "
            "thing that happened to me all week"]
COPY = "we should totally do KARAOKE again friday"
"""The first training message, other case and punctuation."""
RUN_OF_EIGHT = "lol the ramen place on 5th was honestly the best thing, agreed"
"""Eight words in a row of the third one."""
FRESH = ["Right. Same room as last week.", "yo i'm in if there's pizza", "ok"]
"""Nothing copied ("ok" is in the training messages, but two words copy nobody)."""


def copying(script: list[str]) -> CopyCheckingSampler:
    return CopyCheckingSampler(ScriptedSampler(script=script), VerbatimIndex.build(TRAINING))


def prompts(screen) -> list[str]:
    listing = screen.panel.option_list
    return [str(listing.get_option_at_index(i).prompt) for i in range(listing.option_count)]


async def test_a_candidate_that_copies_an_old_message_is_marked_said_before(workspace):
    app = chat_app(copying([COPY, FRESH[0], RUN_OF_EIGHT, FRESH[1], FRESH[2], "see you at 8 then"]))
    async with app.run_test(size=SIZE) as pilot:
        screen = await ready(pilot)
        await offered(pilot, "", 3)
        await pilot.press("ctrl+r")
        await candidates_in(pilot, 6)
        shown = prompts(screen)
        assert [p.endswith("↺ said before") for p in shown] == [True, False, True, False, False, False]
        assert [c.verbatim for c in screen.candidates] == [True, False, True, False, False, False]
        sid = screen.session.id
        await wait_until(pilot, lambda: len(chats_of(lambda chats: chats.session(sid).pending)) == 6,
                         "the swipe saved as pending")
    # the mark is kept with the candidates on offer: a resumed chat shows it again
    app = chat_app(copying(FRESH))
    async with app.run_test(size=SIZE) as pilot:
        screen = await ready(pilot)
        await wait_until(pilot, lambda: len(screen.candidates) == 6, "the pending candidates")
        assert [p.endswith("↺ said before") for p in prompts(screen)] == [True, False, True, False, False, False]


async def test_hiding_copies_in_the_settings_drops_them_and_refills_like_duplicates(workspace):
    model = copying([COPY, FRESH[0], FRESH[1], RUN_OF_EIGHT, FRESH[2], "see you at 8 then", COPY, "last one"])
    app = chat_app(model)
    async with app.run_test(size=SIZE) as pilot:
        screen = await ready(pilot)
        await offered(pilot, "", 3)
        assert [c.verbatim for c in screen.candidates] == [True, False, False]
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: app.screen.query("#set-hide_copies"), "the settings")
        app.screen.query_one("#set-hide_copies").focus()
        await pilot.press("space")
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: app.screen is screen, "back in the chat")
        assert screen.settings.hide_copies
        assert [c.text for c in screen.candidates] == FRESH[:2]  # the copy on offer goes at once
        assert str(screen.query_one("#chat-settings").render()).endswith("N 3 · copies hidden")

        await pilot.press("ctrl+r")  # more: each copy drawn is refused and another one drawn in its place
        await candidates_in(pilot, 5)
        assert [c.text for c in screen.candidates] == [*FRESH[:2], FRESH[2], "see you at 8 then", "last one"]
        assert not any(c.verbatim for c in screen.candidates)
        await wait_until(pilot, lambda: saved_turns()[0].settings.get("hide_copies") is True, "the setting saved")


async def test_conversation_samples_mark_each_copied_turn(workspace):
    model = copying([FRESH[0], COPY, FRESH[1]])
    app = ScreenHost(lambda: ConversationScreen(WS, RUN, open_sampler=opener(model), samples=2, turns=3))
    async with app.run_test(size=SIZE) as pilot:
        screen = pilot.app.screen
        await wait_until(pilot, lambda: screen.sampler is not None, "the model")
        screen.text_field().value = f"Maya: {COPY}"  # the person's own words are never marked
        await pilot.press("enter")
        await wait_until(pilot, lambda: len(screen.samples) == 2 and screen.sampling is None, "the samples")
        assert [(t.text, t.verbatim) for t in screen.samples[0]] == [
            (COPY, False), (FRESH[0], False), (COPY, True), (FRESH[1], False)]
        column = " ".join(line.strip() for line in screen._columns()[0].plain_lines())
        assert column.count("↺ said before") == 1
        assert column.index("↺ said before") > column.rindex("friday") > column.index(FRESH[0])


def test_snapshot_a_candidate_said_before_at_80x24(workspace, snap_compare):
    def seed(chats):
        s = chats.new_session(RUN, "Maya")
        chats.add_turn(s.id, "Jonas", "Well, chess club is tonight. Thoughts?", "model",
                       candidates=[Turn("Jonas", "Well, chess club is tonight. Thoughts?")], chosen=0)
        chats.add_turn(s.id, "Maya", "omg i forgot!! is it the usual place", "player")

    chats_of(seed)
    long_copy = "the ramen place on 5th was honestly the best thing that happened to me all week, [bold]no[/] cap"
    model = copying([FRESH[0], long_copy, COPY])

    async def run_before(pilot) -> None:
        screen = await ready(pilot)  # the chat ends on my line: the others answer at once
        await candidates_in(pilot, 3)
        screen.panel.option_list.highlighted = 0

    assert snap_compare(chat_app(model), terminal_size=SMALL, run_before=run_before)
