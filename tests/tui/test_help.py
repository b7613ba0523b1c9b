"""The help (F1 anywhere, ? outside text fields) over screens it knows nothing about: it reads their
BINDINGS, so a screen's keys are listed without the screen doing anything for it."""

from __future__ import annotations

from chat_helpers import SPEAKERS, ScriptedSampler, opener
from tui_helpers import SIZE, static_text, wait_until

from friendsim_tui.tui.app import FriendSimApp


def _described(screen) -> list[str]:
    """What each of the screen's own bindings does, as the help words it (its tooltip, else its description)."""
    return [b.tooltip or b.description for b in type(screen).BINDINGS if b.tooltip or b.description]


async def test_help_lists_the_chat_screens_keys_from_its_bindings(home):
    from friendsim_tui.store import Store
    from friendsim_tui.tui.screens.chat import ChatScreen
    from friendsim_tui.tui.screens.dialogs import HelpScreen

    Store.for_workspace("weekend-crew", create=True).close()
    sampler = ScriptedSampler()

    def open_chat(app) -> None:
        app.push_screen(ChatScreen("weekend-crew", "gpt2-1120", "Maya", speakers=SPEAKERS,
                                   open_sampler=opener(sampler)))

    app = FriendSimApp(start_dir=home, cursor_blink=False, on_start=open_chat)
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: isinstance(app.screen, ChatScreen) and app.screen.sampler is not None,
                         "the chat")
        chat = app.screen
        await pilot.press("f1")  # whatever has the focus, a text field included
        await wait_until(pilot, lambda: isinstance(app.screen, HelpScreen), "the help")
        text = static_text(app, "#help-keys")
        for words in _described(chat):
            assert words in text, f"{words!r} missing from the chat's help:\n{text}"
        keys = {key.action: key for section in app.screen.sections for key in section.keys}
        assert keys["pick"].keys[0] == "1-9"  # one line for the nine digits
        if isinstance(chat.focused, __import__("textual.widgets", fromlist=["Input"]).Input):
            assert keys["pick"].note == "not while typing in a text field"
        await pilot.press("escape")
        await wait_until(pilot, lambda: app.screen is chat, "the chat again")
