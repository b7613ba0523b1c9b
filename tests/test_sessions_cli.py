"""`friendsim-tui sessions -w NAME`: the chat sessions saved in a workspace, renamed or deleted headless."""

from __future__ import annotations

import json

import pytest

from friendsim_tui import cli
from friendsim_tui.store import Store
from friendsim_tui.store.chats import ChatStore


@pytest.fixture
def sessions(data_dir):
    with Store.for_workspace("crew", create=True) as store:
        chats = ChatStore(store)
        a = chats.new_session("run-a", "Ann")
        first = chats.add_turn(a.id, "Bo", "who is up for \x1b[31mkaraoke\x1b[0m [bold]friday[/]?", "model")
        chats.add_turn(a.id, "Ann", "me!", "player")
        chats.set_leaf(a.id, first.id)
        chats.add_turn(a.id, "Ann", "not me", "player")
        b = chats.new_session("run-b", "Bo", title="chess night")
        chats.conn.execute("UPDATE chat_sessions SET updated = updated - 100 WHERE id=?", (a.id,))
    return a.id, b.id


def test_list_text_and_json(sessions, capsys):
    a, b = sessions
    assert cli.main(["sessions", "-w", "crew"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].split() == ["ID", "NAME", "AS", "RUN", "TURNS", "BRANCHES", "LAST", "USED"]
    assert out[1].split()[:5] == [str(b), "chess", "night", "Bo", "run-b"], "most recently used first"
    assert out[2].split()[0] == str(a) and " 3 " in out[2] and "\x1b" not in out[2] and "␛[31mkaraoke" in out[2]
    assert cli.main(["sessions", "-w", "crew", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [(r["id"], r["player"], r["run"], r["turns"], r["branches"]) for r in rows] == [
        (b, "Bo", "run-b", 0, 0), (a, "Ann", "run-a", 3, 2)]
    assert rows[1]["name"].startswith("“who is up for \x1b[31mkaraoke") and rows[1]["title"] == ""
    assert rows[0]["last_used"] > rows[1]["last_used"]


def test_rename_and_delete(sessions, capsys):
    a, b = sessions
    assert cli.main(["sessions", "-w", "crew", "--rename", str(a), "karaoke plans", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [(r["id"], r["title"]) for r in rows] == [(b, "chess night"), (a, "karaoke plans")], "order kept"
    assert cli.main(["sessions", "-w", "crew", "--delete", str(b), "--json"]) == 0
    assert [r["id"] for r in json.loads(capsys.readouterr().out)] == [a]


@pytest.mark.parametrize("argv, code, message", [
    (["sessions", "-w", "crew", "--delete", "99"], 1, "no chat session 99"),
    (["sessions", "-w", "crew", "--rename", "x", "name"], 2, "session ID (a number)"),
    (["sessions", "-w", "nowhere"], 1, "nowhere"),
])
def test_mistakes_end_in_one_line(sessions, capsys, argv, code, message):
    assert cli.main(argv) == code
    err = capsys.readouterr().err.strip()
    assert message in err and len(err.splitlines()) == 1


def test_no_sessions_yet(data_dir, capsys):
    Store.for_workspace("empty", create=True).close()
    assert cli.main(["sessions", "-w", "empty"]) == 0
    assert "No chat sessions in empty yet" in capsys.readouterr().out
