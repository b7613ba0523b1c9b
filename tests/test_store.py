import sqlite3
import stat

import pytest

from friendsim_tui import paths
from friendsim_tui.store import SCHEMA_VERSION, Store, StoreError
from friendsim_tui.store.db import DiskFull


def rows(store, source="src", n=3):
    cid = store.conversation_id(source, "c1", "Chat")
    sid = store.speaker_id(source, "k-alice", "Alice")
    return [(source, f"id{i}", cid, sid, 1000.0 + i, f"hello {i}", None, None) for i in range(n)]


def test_workspace_files_are_private(data_dir):
    with Store.for_workspace("crew", create=True) as store:
        with store.transaction():
            store.insert_messages(rows(store))
    folder = paths.workspace_dir("crew")
    for d in (data_dir, folder):
        assert stat.S_IMODE(d.stat().st_mode) == 0o700
    for f in folder.iterdir():
        assert stat.S_IMODE(f.stat().st_mode) == 0o600, f


def test_missing_workspace_is_a_clear_error(data_dir):
    with pytest.raises(StoreError, match="no workspace named 'ghost'"):
        Store.for_workspace("ghost")


def test_reinserting_the_same_messages_adds_nothing(data_dir):
    with Store.for_workspace("w", create=True) as store:
        with store.transaction():
            assert store.insert_messages(rows(store)) == 3
        with store.transaction():
            assert store.insert_messages(rows(store, n=5)) == 2
        assert store.message_count() == 5


def test_failed_transaction_leaves_nothing(data_dir):
    with Store.for_workspace("w", create=True) as store:
        with pytest.raises(RuntimeError):
            with store.transaction():
                store.insert_messages(rows(store))
                raise RuntimeError("boom")
        assert store.message_count() == 0
        assert store.speakers() == []


def test_same_display_name_from_two_sources_is_one_friend(data_dir):
    with Store.for_workspace("w", create=True) as store:
        with store.transaction():
            a = store.speaker_id("discord", "discord:42", "bob")
            b = store.speaker_id("whatsapp", "Bob", "Bob")
        assert a == b
        (sp,) = store.speakers()
        assert set(sp.aliases) == {"bob", "Bob"}


def test_rename_onto_existing_name_merges(data_dir):
    with Store.for_workspace("w", create=True) as store:
        with store.transaction():
            cid = store.conversation_id("s", "c", "c")
            a = store.speaker_id("s", "maya#4821", "maya#4821")
            b = store.speaker_id("s", "maya", "Maya")
            store.insert_messages([("s", "1", cid, a, 1.0, "x", None, None), ("s", "2", cid, b, 2.0, "y", None, None)])
        survivor = store.rename_speaker(a, "maya")  # case-insensitive match with "Maya"
        assert survivor == b
        (sp,) = store.speakers()
        assert sp.messages == 2 and sp.name == "Maya"
        with pytest.raises(StoreError):
            store.rename_speaker(b, "  ")


def test_newer_schema_is_refused(data_dir, tmp_path):
    db = tmp_path / "x.sqlite3"
    conn = sqlite3.connect(db)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    conn.close()
    with pytest.raises(StoreError, match="newer friendsim-tui"):
        Store(db)


def test_bad_workspace_names_are_rejected(data_dir):
    for bad in ("", "../etc", ".hidden", "a/b", "x" * 80):
        with pytest.raises(ValueError):
            paths.workspace_dir(bad)


def test_two_accounts_of_one_source_with_one_name_stay_two_speakers(data_dir):
    with Store.for_workspace("w", create=True) as store:
        with store.transaction():
            first = store.speaker_id("discord", "discord:1", "Deleted User")
            second = store.speaker_id("discord", "discord:2", "Deleted User")
            third = store.speaker_id("discord", "discord:3", "deleted user")
        assert len({first, second, third}) == 3
        assert sorted(s.name for s in store.speakers()) == ["Deleted User", "Deleted User (2)", "deleted user (3)"]
        assert [(k.key, k.speaker) for k in store.kept_apart] == [
            ("discord:2", "Deleted User (2)"), ("discord:3", "deleted user (3)")
        ]
        assert "Deleted User" in store.kept_apart[0].warning() and "Deleted User (2)" in store.kept_apart[0].warning()
    # Imported again later, each account finds its own speaker.
    with Store.for_workspace("w") as store:
        with store.transaction():
            assert store.speaker_id("discord", "discord:2", "Deleted User") == second
            assert store.speaker_id("discord", "discord:1", "Deleted User") == first
        assert store.kept_apart == []


def test_a_discord_account_is_one_speaker_across_export_formats_and_a_namesake_is_not(data_dir):
    with Store.for_workspace("w", create=True) as store:
        with store.transaction():
            json_one = store.speaker_id("dce-json", "discord:1", "Deleted User")
            assert store.speaker_id("dce-csv", "discord:1", "Deleted User") == json_one
            assert store.speaker_id("dce-csv", "discord:2", "Deleted User") != json_one
        assert sorted(s.name for s in store.speakers()) == ["Deleted User", "Deleted User (2)"]
        assert store.kept_apart[0].warning().startswith("two discord accounts are both called 'Deleted User'")


def test_namesakes_still_join_across_sources_and_by_choice(data_dir):
    with Store.for_workspace("w", create=True) as store:
        with store.transaction():
            bob = store.speaker_id("discord", "discord:1", "Bob")
            assert store.speaker_id("whatsapp", "Bob", "Bob") == bob  # another source: the same friend
            assert store.speaker_id("whatsapp", "bob", "bob") == bob  # a source that knows only names
            # the user chose this name for a second Discord account: they are one person
            assert store.speaker_id("discord", "discord:2", "Bob", merge=True) == bob
        assert [s.name for s in store.speakers()] == ["Bob"] and store.kept_apart == []


def big_rows(store, n=2000):
    cid = store.conversation_id("src", "c1", "Chat")
    sid = store.speaker_id("src", "k-alice", "Alice")
    return [("src", f"big{i}", cid, sid, 2000.0 + i, "x" * 300, None, None) for i in range(n)]


def test_disk_full_in_a_transaction_is_one_error_and_undoes_it(data_dir):
    with Store.for_workspace("w", create=True) as store:
        with store.transaction():
            store.insert_messages(rows(store))
        before = list(store.conn.iterdump())
        pages = store.conn.execute("PRAGMA page_count").fetchone()[0]
        store.conn.execute(f"PRAGMA max_page_count = {pages + 1}")  # the database is "full" one page on
        with pytest.raises(DiskFull, match="the disk is full") as raised:
            with store.transaction():
                store.insert_messages(big_rows(store))
        # SQLite undid the transaction itself; no second error ("cannot rollback") hides this one
        assert "cannot rollback" not in repr(raised.value.__context__)
        assert "\n" not in str(raised.value)
        assert list(store.conn.iterdump()) == before
        store.conn.execute("PRAGMA max_page_count = 1073741823")
        with store.transaction():  # the store is still usable once there is room
            assert store.insert_messages(big_rows(store)) == 2000


def test_a_batch_of_rows_goes_in_with_its_speakers_and_without_duplicates(data_dir):
    # 450 rows: two statements of ROWS_PER_INSERT rows and the rest one by one; speakers by local number
    with Store.for_workspace("w", create=True) as store:
        with store.transaction():
            cid = store.conversation_id("src", "c1", "Chat")
            ann, bob = store.speaker_id("src", "k-ann", "Ann"), store.speaker_id("src", "k-bob", "Bob")
            batch = [(f"id{i}", i % 2, 1000.0 + i, f"text {i}", "id0" if i == 7 else "") for i in range(450)]
            batch[300] = batch[10]  # the same message twice in one batch
            assert store.insert_batch("src", cid, [ann, bob], batch, None) == 449
        with store.transaction():  # the next file numbers its speakers afresh: bob is 0 there
            again = [("id1", 0, 1001.0, "text 1", ""), ("new", 0, 5000.0, "new one", ""), ("id2", 1, 1002.0, "x", "")]
            assert store.insert_batch("src", cid, [bob, ann], again, None) == 1
        got = {r[0]: r[1:] for r in store.conn.execute(
            "SELECT source_id, speaker_id, ts, text, reply_to, conversation_id FROM messages")}
    assert len(got) == 450
    assert got["id0"] == (ann, 1000.0, "text 0", None, cid) and got["id7"] == (bob, 1007.0, "text 7", "id0", cid)
    assert got["id449"] == (bob, 1449.0, "text 449", None, cid)
    assert got["new"] == (bob, 5000.0, "new one", None, cid)


def _schema(store) -> list[tuple]:
    return store.conn.execute("SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY name").fetchall()


def test_a_bulk_insert_builds_the_indexes_it_dropped_or_leaves_them_as_they_were(data_dir):
    with Store.for_workspace("w", create=True) as store:
        schema = _schema(store)
        with store.transaction(), store.bulk_insert(new_messages=1000):
            indexes = [r[1] for r in _schema(store) if r[0] == "index" and r[2] == "messages"]
            assert indexes == ["sqlite_autoindex_messages_1"]  # only the uniqueness key is left
            store.insert_messages(rows(store))
            with pytest.raises(sqlite3.IntegrityError):  # and it still holds
                store.conn.execute("INSERT INTO messages(source, source_id, conversation_id, speaker_id, ts, text) "
                                   "VALUES ('src', 'id1', 1, 1, 1.0, 'x')")
        assert _schema(store) == schema
        with pytest.raises(RuntimeError):
            with store.transaction(), store.bulk_insert(new_messages=1000):
                store.insert_messages(big_rows(store))
                raise RuntimeError("the import failed")
        assert _schema(store) == schema and store.message_count() == 3
        with store.transaction(), store.bulk_insert(new_messages=2):  # fewer than stored: kept up row by row
            assert _schema(store) == schema
