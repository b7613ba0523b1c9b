"""Two writers on one workspace: the second waits (and says so), then writes, or gives up in one line."""

from __future__ import annotations

import sqlite3
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from friendsim_tui import cli, paths
from friendsim_tui.services import importing, workspaces
from friendsim_tui.store import Store, db
from friendsim_tui.store.chats import ChatStore
from friendsim_tui.store.db import DB_NAME, WAITING, WorkspaceBusy
from friendsim_tui.turns import Turn

GUARD = 300
"""Seconds before a test gives up on an event that should come at once (a hang, not a timing check)."""


def waits_for_the_lock(future, waiting: threading.Event) -> None:
    """Block until the write in ``future`` says it is waiting; a write that ends first (it failed, or it
    never waited) fails the test with what happened."""
    future.add_done_callback(lambda _: waiting.set())
    assert waiting.wait(GUARD)
    if future.done():
        future.result()  # its exception, if it has one
        pytest.fail("the write finished without waiting for the other writer")


@pytest.fixture
def tell_at_once(monkeypatch):
    """A write that finds the workspace busy says so at once instead of after a quiet half second."""
    monkeypatch.setattr(db, "QUIET_WAIT", 0.0)


@pytest.fixture
def workspace(data_dir, transcript):
    importing.import_paths("w", [transcript("Alice: hi\nBob: hey\n", "first.txt")])
    return paths.workspace_dir("w") / DB_NAME


class Holder:
    """Another connection holding the workspace's write lock, as an import does while it runs."""

    def __init__(self, path) -> None:
        self.conn = sqlite3.connect(path, isolation_level=None)
        self.conn.execute("BEGIN IMMEDIATE")
        self.conn.execute("INSERT INTO imports(at, summary) VALUES (0, '{}')")

    def finish(self) -> None:
        self.conn.execute("COMMIT")
        self.conn.close()

    def give_up(self) -> None:
        self.conn.execute("ROLLBACK")
        self.conn.close()


def test_a_second_import_waits_for_the_first_then_imports(workspace, transcript, tell_at_once):
    first_holds, first_may_finish, told = threading.Event(), threading.Event(), []
    second_waits = threading.Event()

    def first_progress(index, count, path, done, total):  # runs inside the first import's transaction
        first_holds.set()
        assert first_may_finish.wait(GUARD)

    def waiting(message: str) -> None:
        told.append(message)
        second_waits.set()

    with ThreadPoolExecutor(2) as pool:
        first = pool.submit(importing.import_paths, "w", [transcript("Carol: one\n", "a.txt")], progress=first_progress)
        assert first_holds.wait(GUARD)
        second = pool.submit(importing.import_paths, "w", [transcript("Dan: two\n", "b.txt")], on_wait=waiting)
        waits_for_the_lock(second, second_waits)
        first_may_finish.set()
        assert first.result().messages_added == 1
        assert second.result().messages_added == 1
    assert told == [WAITING] == ["waiting for another import to finish…"]
    with Store(workspace) as store:
        assert store.message_count() == 4


@pytest.mark.parametrize("command", [
    ["speakers", "-w", "w", "--rename", "Alice", "Alicia"],
    ["speakers", "-w", "w", "--exclude", "Alice"],
    ["import", "{file}", "-w", "w"],
])
def test_a_writer_that_waits_too_long_fails_in_one_line(workspace, transcript, capsys, monkeypatch, tell_at_once,
                                                        command):
    monkeypatch.setattr(db, "BUSY_TIMEOUT", 0.05)
    file = transcript("Erin: late\n", "late.txt")
    holder = Holder(workspace)
    try:
        code = cli.main([str(file) if a == "{file}" else a for a in command])
    finally:
        holder.give_up()
    out, err = capsys.readouterr()
    assert code == 1 and out == ""
    assert err.splitlines() == [
        "waiting for another import to finish…",
        "friendsim-tui: workspace 'w' is still busy with another import after waiting 0.05 s; "
        "try again when it has finished",
    ]
    assert {s.name: s.excluded for s in workspaces.speakers("w")} == {"Alice": False, "Bob": False}
    with Store(workspace) as store:
        assert store.message_count() == 2


def test_renaming_a_speaker_waits_for_an_import_and_then_renames(workspace, tell_at_once):
    holder, waits = Holder(workspace), threading.Event()
    with ThreadPoolExecutor(1) as pool:
        renamed = pool.submit(workspaces.rename_speaker, "w", "Alice", "Alicia", on_wait=lambda _: waits.set())
        waits_for_the_lock(renamed, waits)
        holder.finish()
        renamed.result()
    assert sorted(s.name for s in workspaces.speakers("w")) == ["Alicia", "Bob"]


def test_chat_writes_wait_for_an_import_rather_than_fail(workspace, tell_at_once):
    waits = threading.Event()
    store = Store(workspace, on_wait=lambda _: waits.set())  # the chat screen passes none; here it shows the wait
    chats = ChatStore(store)
    session = chats.new_session("run", "Alice")
    with ThreadPoolExecutor(1) as pool:
        for write in (
            lambda: chats.add_turn(session.id, "Alice", "hello?"),  # a transaction
            lambda: chats.set_pending(session.id, [Turn("Bob", "hey")]),  # a single statement
        ):
            waits.clear()
            holder = Holder(workspace)
            pending = pool.submit(write)
            waits_for_the_lock(pending, waits)
            holder.finish()
            pending.result()
    assert [(t.speaker, t.text) for t in chats.history(session.id)] == [("Alice", "hello?")]
    assert [(t.speaker, t.text) for t in chats.session(session.id).pending] == [("Bob", "hey")]
    store.close()


def test_a_chat_write_that_waits_too_long_is_a_one_line_store_error(workspace, monkeypatch, tell_at_once):
    monkeypatch.setattr(db, "BUSY_TIMEOUT", 0.05)
    with Store(workspace) as store:
        chats = ChatStore(store)
        session = chats.new_session("run", "Alice")
        holder = Holder(workspace)
        try:
            with pytest.raises(WorkspaceBusy) as raised:
                chats.add_turn(session.id, "Alice", "hello?")
        finally:
            holder.give_up()
        assert "\n" not in str(raised.value)
        assert chats.add_turn(session.id, "Alice", "hello?").text == "hello?"  # the store is still usable


def test_opening_a_new_workspace_that_another_connection_is_creating(data_dir, tell_at_once):
    """Two first imports into a new workspace at once: the second must not create the tables again."""
    path = data_dir / "new.sqlite3"
    data_dir.mkdir(parents=True, exist_ok=True)
    creator = sqlite3.connect(path, isolation_level=None)
    creator.execute("PRAGMA journal_mode=WAL")
    creator.execute("BEGIN IMMEDIATE")
    waits = threading.Event()
    with ThreadPoolExecutor(1) as pool:
        opened = pool.submit(Store, path, on_wait=lambda _: waits.set())
        waits_for_the_lock(opened, waits)
        for migration in db.MIGRATIONS:
            for stmt in db._split_sql(migration):
                creator.execute(stmt)
        creator.execute(f"PRAGMA user_version = {db.SCHEMA_VERSION}")
        creator.execute("COMMIT")
        creator.close()
        with opened.result() as store:
            assert store.message_count() == 0
