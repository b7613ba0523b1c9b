import sqlite3

import pytest

from friendsim_tui.store import SCHEMA_VERSION, Store, StoreError
from friendsim_tui.safe_text import inert_lines as inert
from friendsim_tui.safe_text import md_escape
from friendsim_tui.store.chats import ChatStore
from friendsim_tui.turns import Turn

NASTY = "[bold]hi[/] [@click=app.quit]x[/] \x1b[31mred\x1b[0m \x1b]8;;http://evil\x07link"


@pytest.fixture
def chats(tmp_path):
    store = Store(tmp_path / "ws.sqlite3")
    yield ChatStore(store)
    store.close()


def texts(turns):
    return [t.text for t in turns]


def test_add_turns_and_path(chats):
    s = chats.new_session("run-1", "Alice", "evening", {"temperature": 0.7})
    assert chats.path(s.id) == [] and chats.history(s.id) == []
    chats.add_turn(s.id, "Alice", "hi", "player")
    t2 = chats.add_turn(s.id, "Bob", "yo", "model", candidates=[Turn("Bob", "yo"), Turn("Carol", "hey")], chosen=0)
    assert t2.candidates == (Turn("Bob", "yo"), Turn("Carol", "hey"))
    assert t2.chosen == 0 and t2.source == "model"
    assert chats.history(s.id) == [Turn("Alice", "hi"), Turn("Bob", "yo")]
    got = chats.session(s.id)
    assert got.leaf_id == t2.id and got.turns == 2 and got.settings == {"temperature": 0.7}


def test_branch_after_undo_keeps_both_branches(chats):
    s = chats.new_session("run-1", "Alice")
    a = chats.add_turn(s.id, "Alice", "hi")
    b1 = chats.add_turn(s.id, "Bob", "first answer", "model", candidates=[Turn("Bob", "first answer")],
                        chosen=0)
    chats.add_turn(s.id, "Alice", "and then?")
    assert chats.undo(s.id).id == b1.id
    assert chats.undo(s.id).id == a.id
    assert texts(chats.path(s.id)) == ["hi"]
    b2 = chats.add_turn(s.id, "Carol", "second answer", "edited",
                        candidates=[Turn("Carol", "second answr")], chosen=0)
    assert texts(chats.path(s.id)) == ["hi", "second answer"]
    # both branches are still there, in order
    assert [t.id for t in chats.children(s.id, a.id)] == [b1.id, b2.id]
    assert texts(chats.path(s.id, b1.id)) == ["hi", "first answer"]
    chats.set_leaf(s.id, chats.children(s.id, b1.id)[0].id)
    assert texts(chats.path(s.id)) == ["hi", "first answer", "and then?"]
    assert chats.session(s.id).turns == 4


def test_undo_to_the_start_and_branch_there(chats):
    s = chats.new_session("r", "Alice")
    first = chats.add_turn(s.id, "Bob", "opening", "model")
    assert chats.undo(s.id) is None and chats.path(s.id) == []
    assert chats.undo(s.id) is None  # nothing left to undo: still fine
    other = chats.add_turn(s.id, "Carol", "another opening", "model")
    assert [t.id for t in chats.children(s.id, None)] == [first.id, other.id]


def test_switch_branch_follows_the_newest_line_and_comes_back(chats):
    s = chats.new_session("r", "Alice")
    hi = chats.add_turn(s.id, "Alice", "hi")
    a = chats.add_turn(s.id, "Bob", "answer a", "model")
    chats.add_turn(s.id, "Alice", "a, old line")
    chats.undo(s.id)
    a_new = chats.add_turn(s.id, "Alice", "a, newer line")
    chats.set_leaf(s.id, hi.id)
    b = chats.add_turn(s.id, "Carol", "answer b", "model")
    chats.set_pending(s.id, [Turn("Bob", "on offer")])
    assert chats.newest_leaf(s.id, a.id).id == a_new.id
    assert chats.newest_leaf(s.id, b.id).id == b.id
    fork = chats.fork(s.id)
    assert (fork.depth, fork.index, fork.count) == (1, 1, 2) and [t.id for t in fork.branches] == [a.id, b.id]
    assert chats.fork(s.id, path=chats.path(s.id)) == fork == chats.fork(s.id, b.id)
    assert chats.fork(s.id, a_new.id).depth == 2, "another leaf: the split nearest to it"
    # back to branch a: its newest continuation, the pending candidates dropped
    assert chats.switch_branch(s.id, -1).id == a_new.id
    assert texts(chats.path(s.id)) == ["hi", "answer a", "a, newer line"]
    assert chats.session(s.id).pending == ()
    # the path now last splits after "answer a": a, newer line is the second of two lines there
    fork = chats.fork(s.id)
    assert (fork.depth, fork.index, fork.count) == (2, 1, 2)
    assert chats.switch_branch(s.id, 1) is None, "no third line there: nothing changes"
    assert texts(chats.path(s.id)) == ["hi", "answer a", "a, newer line"]
    leaf = chats.switch_branch(s.id, -1)
    assert chats.session(s.id).leaf_id == leaf.id and texts(chats.path(s.id)) == ["hi", "answer a", "a, old line"]
    # a turn with no siblings below the split: the fork is still the deepest turn that has some
    chats.add_turn(s.id, "Bob", "go on")
    assert (chats.fork(s.id).depth, chats.fork(s.id).index) == (2, 0)
    chats.undo(s.id)
    chats.undo(s.id)
    assert (chats.fork(s.id).depth, chats.fork(s.id).index) == (1, 0)
    assert texts(chats.path(s.id, chats.switch_branch(s.id, 1).id)) == ["hi", "answer b"]


def test_fork_none_without_branches_and_at_the_start(chats):
    s = chats.new_session("r", "Alice")
    assert chats.fork(s.id) is None and chats.switch_branch(s.id, 1) is None
    first = chats.add_turn(s.id, "Alice", "hi")
    chats.add_turn(s.id, "Bob", "yo", "model")
    assert chats.fork(s.id) is None and chats.switch_branch(s.id, -1) is None
    chats.set_leaf(s.id, None)
    other = chats.add_turn(s.id, "Carol", "another opening", "model")
    fork = chats.fork(s.id)
    assert (fork.depth, fork.index, [t.id for t in fork.branches]) == (0, 1, [first.id, other.id])
    assert texts(chats.path(s.id, chats.switch_branch(s.id, -1).id)) == ["hi", "yo"]
    with pytest.raises(StoreError):
        chats.newest_leaf(chats.new_session("r", "Bob").id, first.id)


def test_resume_gives_the_same_path(tmp_path):
    path = tmp_path / "ws.sqlite3"
    with Store(path) as store:
        chats = ChatStore(store)
        s = chats.new_session("run-1", "Alice", "t")
        for i in range(5):
            chats.add_turn(s.id, "Alice" if i % 2 else "Bob", f"line {i}", "player" if i % 2 else "model")
        chats.undo(s.id)
        chats.add_turn(s.id, "Bob", "branch", "model")
        chats.set_pending(s.id, [Turn("Carol", "pending one"), Turn("Bob", NASTY)])
        before = chats.path(s.id)
    with Store(path) as store:
        chats = ChatStore(store)
        (again,) = chats.list_sessions()
        assert chats.path(again.id) == before
        assert texts(before) == ["line 0", "line 1", "line 2", "line 3", "branch"]
        assert again.pending == (Turn("Carol", "pending one"), Turn("Bob", NASTY))


def test_pending_cleared_by_a_new_turn_and_text_kept_exactly(chats):
    s = chats.new_session("r", "Alice")
    chats.set_pending(s.id, [Turn("Bob", "maybe")])
    chats.add_turn(s.id, "Bob", NASTY, "model", candidates=[Turn("Bob", NASTY)], chosen=0)
    got = chats.session(s.id)
    assert got.pending == ()
    assert chats.path(s.id)[0].text == NASTY


def test_list_sessions_newest_first_and_by_run(chats):
    a = chats.new_session("run-a", "Alice", "one")
    b = chats.new_session("run-b", "Bob", "two")
    chats.add_turn(a.id, "Alice", "bump")  # a is now the most recently used
    assert [s.id for s in chats.list_sessions()] == [a.id, b.id]
    assert [s.id for s in chats.list_sessions("run-b")] == [b.id]
    assert chats.list_sessions()[0].turns == 1
    chats.rename(b.id, "renamed")
    chats.save_settings(b.id, {"candidates": 5})
    assert chats.session(b.id).title == "renamed" and chats.session(b.id).settings == {"candidates": 5}
    chats.delete_session(a.id)
    assert [s.id for s in chats.list_sessions()] == [b.id]


def test_bad_input_is_refused_and_changes_nothing(chats):
    s = chats.new_session("r", "Alice")
    other = chats.new_session("r", "Bob")
    t = chats.add_turn(other.id, "Bob", "elsewhere")
    with pytest.raises(StoreError):
        chats.add_turn(s.id, "Bob", "x", "robot")
    with pytest.raises(StoreError):
        chats.add_turn(s.id, "Bob", "x", "model", candidates=[Turn("Bob", "x")], chosen=3)
    with pytest.raises(StoreError):
        chats.add_turn(s.id, "Bob", "x", parent_id=t.id)
    with pytest.raises(StoreError):
        chats.set_leaf(s.id, t.id)
    with pytest.raises(StoreError):
        chats.session(999)
    assert chats.path(s.id) == [] and chats.session(s.id).turns == 0


def test_exports_are_inert(chats):
    s = chats.new_session("run-1", "Alice", "night")
    chats.add_turn(s.id, "Alice", "hi\nsecond line", "player")
    chats.add_turn(s.id, "Bob", NASTY, "model")
    chats.add_turn(s.id, "Carol", "- not a list <b>bold</b> *x*", "edited")
    text = chats.export_text(s.id)
    assert "\x1b" not in text and "\x07" not in text
    assert "Alice: hi\n  second line\n" in text
    assert "Bob: [bold]hi[/] [@click=app.quit]x[/] ␛[31mred" in text
    md = chats.export_markdown(s.id)
    assert "\x1b" not in md
    assert "**Alice** (you): hi  \nsecond line" in md
    assert "**Carol** (edited): \\- not a list \\<b\\>bold\\</b\\> \\*x\\*" in md
    assert "\\[bold\\]hi\\[/\\]" in md


def test_inert_and_md_escape():
    assert inert("a\x1b[0mb\tc\r\nd\x00\x9b\u202e") == "a␛[0mb\tc\nd␀\\u009b\\u202e"
    assert md_escape("1. one") == "1\\. one"
    assert md_escape("# title") == "\\# title"


def test_migration_from_schema_1(tmp_path):
    """A workspace made before chat sessions existed gains the tables and keeps its messages."""
    path = tmp_path / "old.sqlite3"
    from friendsim_tui.store.db import MIGRATIONS, _split_sql

    conn = sqlite3.connect(path)
    for stmt in _split_sql(MIGRATIONS[0]):
        conn.execute(stmt)
    conn.execute("INSERT INTO speakers(name) VALUES ('Alice')")
    conn.execute("PRAGMA user_version = 1")
    conn.commit()
    conn.close()
    with Store(path) as store:
        assert store.conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION >= 2
        assert [s.name for s in store.speakers()] == ["Alice"]
        chats = ChatStore(store)
        s = chats.new_session("r", "Alice")
        chats.add_turn(s.id, "Alice", "works")
        assert chats.history(s.id) == [Turn("Alice", "works")]


def test_session_list_counts_turns_and_branches_and_renaming_keeps_the_order(chats):
    a = chats.new_session("r", "Alice")
    first = chats.add_turn(a.id, "Bob", "opening line", "model")
    chats.add_turn(a.id, "Alice", "one way")
    chats.set_leaf(a.id, first.id)
    chats.add_turn(a.id, "Alice", "another way")
    b = chats.new_session("r", "Bob")
    listed = chats.list_sessions()
    assert [s.id for s in listed] == [b.id, a.id]
    assert [(s.turns, s.branches, s.opening) for s in listed] == [(0, 0, ""), (3, 2, "opening line")]
    assert chats.session(a.id) == listed[1]
    chats.rename(a.id, "two ways")
    assert [(s.id, s.title) for s in chats.list_sessions()] == [(b.id, ""), (a.id, "two ways")], \
        "naming a session is not using it"
