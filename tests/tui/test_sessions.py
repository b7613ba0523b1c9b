"""The Sessions screen: every saved chat of a workspace, opened from the chat (ctrl+o) or its setup (s);
open one, name it, delete it; and the sampling settings saved as the default for new chats."""

from __future__ import annotations

import pytest
from chat_helpers import SPEAKERS, ScreenHost, ScriptedSampler, chats_of, finished_run, opener
from tui_helpers import SIZE, wait_until

from friendsim_tui.config import Config, load_config
from friendsim_tui.store import Store
from friendsim_tui.tui.screens.chat import ChatScreen
from friendsim_tui.tui.screens.chat_setup import ChatSetupScreen
from friendsim_tui.tui.screens.sessions import SessionsScreen, last_used

WS, RUN = "weekend-crew", "gpt2-1120"
OLD = 1732700000.0  # 2024-11-27: far enough back that the list shows the date itself


@pytest.fixture
def workspace(home):
    Store.for_workspace(WS, create=True).close()
    return WS



def seed_sessions() -> dict[str, int]:
    """Three sessions: karaoke (Maya, newest, split into two branches), chess (Maya), jonas (Jonas, oldest)."""

    def seed(chats):
        ids = {}
        for name, player, when in (("jonas", "Jonas", OLD), ("chess", "Maya", OLD + 3600), ("karaoke", "Maya", OLD + 7200)):
            s = chats.new_session(RUN, player)
            first = chats.add_turn(s.id, "Jonas", f"{name}: first line", "model")
            chats.add_turn(s.id, player, f"{name}: my answer", "player")
            if name == "karaoke":
                chats.set_leaf(s.id, first.id)
                chats.add_turn(s.id, "Maya", "karaoke: another answer", "player")
            chats.conn.execute("UPDATE chat_sessions SET created=?, updated=? WHERE id=?", (when, when, s.id))
            ids[name] = s.id
        return ids

    return chats_of(seed)


def chat_app(sampler: ScriptedSampler, **kwargs) -> ScreenHost:
    return ScreenHost(lambda: ChatScreen(WS, RUN, "Maya", speakers=SPEAKERS, open_sampler=opener(sampler), **kwargs))


def rows(screen: SessionsScreen) -> list[str]:
    listing = screen.query_one("#sessions-list")
    return [str(listing.get_option_at_index(i).prompt) for i in range(listing.option_count)]


async def open_list(pilot) -> SessionsScreen:
    await pilot.press("ctrl+o")
    await wait_until(pilot, lambda: isinstance(pilot.app.screen, SessionsScreen) and pilot.app.screen.sessions,
                     "the session list")
    return pilot.app.screen


def test_last_used():
    now = 1764400000.0  # 2025-11-29, midday
    assert last_used(now - 60, now).startswith("today ")
    assert last_used(now - 86400, now).startswith("yesterday ")
    assert last_used(now - 5 * 86400, now) == "Nov 24"
    assert last_used(OLD, now) == "2024-11-27"


async def test_every_session_can_be_reopened_named_and_deleted(workspace):
    ids = seed_sessions()
    sampler = ScriptedSampler()
    app = chat_app(sampler)
    async with app.run_test(size=SIZE) as pilot:
        chat = app.screen
        await wait_until(pilot, lambda: chat.session is not None and chat.sampler is not None, "the chat")
        assert chat.session.id == ids["karaoke"], "c resumes the newest session of this run and friend"
        listing = await open_list(pilot)
        assert [r.lstrip("▸ ").split()[0] for r in rows(listing)] == ["“karaoke:", "“chess:", "“jonas:"]
        assert rows(listing)[0].startswith("▸") and "as Maya" in rows(listing)[0]
        assert "3 turns" in rows(listing)[0] and "2 branches" in rows(listing)[0]
        assert "2 turns" in rows(listing)[1] and "branch" not in rows(listing)[1]
        assert "as Jonas" in rows(listing)[2] and "2024-11-27" in rows(listing)[2]
        # an older session of the same run and friend opens in this chat
        await pilot.press("down", "enter")
        await wait_until(pilot, lambda: app.screen is chat and chat.session and chat.session.id == ids["chess"],
                         "the chess session")
        assert [t.text for t in chat.turns] == ["chess: first line", "chess: my answer"]
        # another friend's session opens a chat of its own
        listing = await open_list(pilot)
        await pilot.press("end", "enter")
        await wait_until(pilot, lambda: isinstance(app.screen, ChatScreen) and app.screen is not chat
                         and app.screen.session is not None, "Jonas's chat")
        assert app.screen.player == "Jonas" and app.screen.session.id == ids["jonas"]
        # (opening them answered the player's last lines: chess and jonas are the most recently used now)
        listing = await open_list(pilot)
        order = [s.id for s in listing.sessions]
        assert order == [ids["jonas"], ids["chess"], ids["karaoke"]]
        # name one: the list shows the name, and its place in the order stays
        listing.query_one("#sessions-list").highlighted = 2
        await pilot.press("r")
        await wait_until(pilot, lambda: app.screen.query("#prompt-input"), "the name prompt")
        app.screen.query_one("#prompt-input").value = "karaoke plans"
        await pilot.press("enter")
        await wait_until(pilot, lambda: app.screen is listing and "karaoke plans" in rows(listing)[2], "the name")
        assert [s.id for s in listing.sessions] == order
        # delete one (not the open one): asked first
        listing.query_one("#sessions-list").highlighted = 1
        await pilot.press("delete")
        await wait_until(pilot, lambda: app.screen.query("#choice-list"), "the confirmation")
        await pilot.press("enter")
        await wait_until(pilot, lambda: app.screen is listing and len(rows(listing)) == 2, "the deletion")
        # the session open in the chat below is not deleted from here
        listing.query_one("#sessions-list").highlighted = [s.id for s in listing.sessions].index(ids["jonas"])
        await pilot.press("delete")
        await pilot.pause()
        assert app.screen is listing and len(rows(listing)) == 2
    left = chats_of(lambda chats: {s.id: s.title for s in chats.list_sessions()})
    assert left == {ids["karaoke"]: "karaoke plans", ids["jonas"]: ""}


async def test_n_in_the_list_starts_a_new_session_and_the_setup_opens_any(workspace):
    ids = seed_sessions()
    finished_run(WS, RUN)
    sampler = ScriptedSampler()
    app = ScreenHost(lambda: ChatSetupScreen(WS, open_sampler=opener(sampler)))
    async with app.run_test(size=SIZE) as pilot:
        setup = app.screen
        await wait_until(pilot, lambda: setup.runs, "the runs")
        await pilot.press("s")
        await wait_until(pilot, lambda: isinstance(app.screen, SessionsScreen) and app.screen.sessions, "the list")
        assert app.screen.check_action("new", ()) is False, "from the setup there is no run and friend to start"
        await pilot.press("down", "enter")
        await wait_until(pilot, lambda: isinstance(app.screen, ChatScreen) and app.screen.session is not None,
                         "the chat")
        chat = app.screen
        assert chat.session.id == ids["chess"] and chat.player == "Maya"
        await open_list(pilot)
        await pilot.press("n")
        await wait_until(pilot, lambda: app.screen is chat and chat.session is not None
                         and chat.session.id not in ids.values(), "a new session")
        assert chat.turns == []


async def test_sampling_settings_saved_as_the_default_for_new_chats(workspace, home):
    from friendsim_tui import paths

    config_file = paths.config_file()
    config_file.write_text('[train]\nbase = "gpt2"  # mine\n', encoding="utf-8")
    sampler = ScriptedSampler()
    app = chat_app(sampler)
    app.config = Config(source=config_file)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        chat = app.screen
        await wait_until(pilot, lambda: chat.session is not None and chat.sampler is not None, "the chat")
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: app.screen.query("#set-temperature"), "the settings")
        assert str(config_file.name) in str(app.screen.query_one("#settings-default").label)
        app.screen.query_one("#set-temperature").value = "0.8"
        app.screen.query_one("#set-candidates").value = "4"
        app.screen.query_one("#settings-default").value = True
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: app.config.chat.temperature == 0.8, "the default saved")
        first = chat.session.id
        await pilot.press("ctrl+n")  # a new session starts from the new default
        await wait_until(pilot, lambda: chat.session is not None and chat.session.id != first, "a new session")
        assert chat.settings.temperature == 0.8 and chat.settings.candidates == 4
    saved = load_config(config_file)
    assert saved.chat.temperature == 0.8 and saved.chat.candidates == 4 and saved.train.base == "gpt2"
    assert config_file.read_text(encoding="utf-8").startswith('[train]\nbase = "gpt2"  # mine\n')


def test_snapshot_sessions_at_80x24(workspace, snap_compare):
    seed_sessions()
    chats_of(lambda chats: chats.rename(chats.list_sessions()[1].id, "[bold]chess[/] \x1b[31mnight"))

    async def run_before(pilot) -> None:
        await wait_until(pilot, lambda: pilot.app.screen.sessions, "the list")

    assert snap_compare(ScreenHost(lambda: SessionsScreen(WS, current=1, can_new=True)), terminal_size=(80, 24),
                        run_before=run_before)
