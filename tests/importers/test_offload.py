"""Large files are parsed in a child process: the workspace must come out exactly as in one process,
and a failing, dying or cancelled child must leave the workspace as it was."""

from __future__ import annotations

import json
from pathlib import Path

import psutil
import pytest

from friendsim_tui.importers import offload
from friendsim_tui.importers.base import ChatImportError, ImportReport
from friendsim_tui.demo_chat import sample_path
from friendsim_tui.services import importing
from friendsim_tui.store import Store

FIXTURES = Path(__file__).parent.parent / "fixtures"
FILES = [
    sample_path(),  # DCE JSON, ~3,300 messages
    FIXTURES / "dce" / "Friends - general [111222333].csv",
    FIXTURES / "whatsapp" / "WhatsApp Chat with Alice.txt",
]


def _contents(workspace: str) -> list[tuple]:
    with Store.for_workspace(workspace) as store:
        return store.conn.execute(
            "SELECT m.source, m.source_id, c.title, s.name, m.ts, m.text, m.reply_to FROM messages m "
            "JOIN conversations c ON c.id=m.conversation_id JOIN speakers s ON s.id=m.speaker_id "
            "ORDER BY m.source, m.source_id"
        ).fetchall()


class _Spy(offload.ChildBatches):
    started: list[Path] = []

    def __enter__(self):
        _Spy.started.append(self.path)
        return super().__enter__()


@pytest.fixture(autouse=True)
def _workspaces(data_dir):
    return data_dir


@pytest.fixture
def every_file_in_a_child(monkeypatch):
    _Spy.started = []
    monkeypatch.setattr(offload, "OFFLOAD_MIN_BYTES", 0)
    monkeypatch.setattr(offload, "BATCH", 700)  # several batches per file, identities first seen mid-file
    monkeypatch.setattr(importing, "ChildBatches", _Spy)
    monkeypatch.delenv("FRIENDSIM_IMPORT_IN_PROCESS", raising=False)
    return _Spy


def test_child_process_import_matches_in_process_import(monkeypatch, every_file_in_a_child):
    monkeypatch.setenv("FRIENDSIM_IMPORT_IN_PROCESS", "1")
    here = importing.import_paths("here", FILES)
    assert every_file_in_a_child.started == []
    monkeypatch.delenv("FRIENDSIM_IMPORT_IN_PROCESS")
    seen = []
    child = importing.import_paths("child", FILES, progress=lambda i, n, path, done, total: seen.append((i, done)))

    assert every_file_in_a_child.started == FILES
    assert child.messages_added == here.messages_added > 3000
    expected = here.to_json()
    got = child.to_json()
    assert got.pop("workspace") == "child" and expected.pop("workspace") == "here"
    assert got == expected  # per-file counts, skips, speakers and warnings, as in one process
    assert _contents("child") == _contents("here")
    assert {i for i, _ in seen} == {0, 1, 2}  # progress came back from every child

    # importing the same files again, through children, adds nothing
    assert importing.import_paths("child", FILES).messages_added == 0


def test_a_message_id_seen_twice_is_counted_once_in_a_child_as_in_process(tmp_path, monkeypatch, every_file_in_a_child):
    amy = {"id": "43", "name": "amy", "nickname": "Amy"}
    zed = {"id": "42", "name": "zed", "nickname": "Zed"}
    messages = [
        {"id": str(1000 + i % 5), "type": "Default", "timestamp": f"2024-01-01T10:00:{i % 5:02d}+00:00",
         "content": f"message {i % 5}", "author": amy if i % 5 == 1 else zed}
        for i in range(12)  # ids 1000-1004, the first two of them three times
    ]
    p = tmp_path / "G - general [7].json"
    p.write_text(json.dumps({"guild": {"id": "1", "name": "G"}, "channel": {"id": "7", "name": "general"},
                             "messages": messages}))
    monkeypatch.setenv("FRIENDSIM_IMPORT_IN_PROCESS", "1")
    here = importing.import_paths("here", [p])
    monkeypatch.delenv("FRIENDSIM_IMPORT_IN_PROCESS")
    child = importing.import_paths("child", [p])
    assert every_file_in_a_child.started == [p]
    for result in (here, child):
        assert result.messages_added == 5
        assert (result.files[0].read, result.files[0].kept, dict(result.files[0].skipped)) == (12, 5, {"duplicate": 7})
        assert result.speakers == {"Zed": 4, "Amy": 1}


def test_renames_and_exclusions_apply_to_messages_parsed_in_a_child(every_file_in_a_child):
    csv = FILES[1]
    choices = {
        ("dce-csv", "discord:100000000000000001"): importing.SpeakerChoice(name="Alice A."),
        ("dce-csv", "discord:100000000000000002"): importing.SpeakerChoice(exclude=True),
    }
    result = importing.import_paths("w", [csv], choices)
    assert every_file_in_a_child.started == [csv]
    assert result.speakers["Alice A."] == 2
    with Store.for_workspace("w") as store:
        by_name = {s.name: s for s in store.speakers()}
    assert by_name["Alice A."].messages == 2 and by_name["bob"].excluded


def test_a_file_the_child_cannot_read_is_the_usual_error(tmp_path):
    junk = tmp_path / "notes.txt"
    junk.write_text("just some notes\nnothing like a chat\n")
    with offload.ChildBatches(junk, ImportReport(str(junk))) as batches:
        with pytest.raises(ChatImportError) as err:
            list(batches)
    assert err.value.path == str(junk)
    assert "notes.txt" in str(err.value)


def _write_ws_with_one_message(tmp_path) -> Path:
    first = tmp_path / "first.txt"
    first.write_text("Ana: hello\nBo: hi\n")
    importing.import_paths("w", [first])
    return first


def test_a_child_that_dies_fails_the_import_and_writes_nothing(tmp_path, monkeypatch, every_file_in_a_child):
    monkeypatch.setattr(offload, "OFFLOAD_MIN_BYTES", 10_000)  # the small transcript stays in process
    _write_ws_with_one_message(tmp_path)

    class Dies(offload.ChildBatches):
        def __enter__(self):
            super().__enter__()
            self._proc.kill()  # before it can have parsed anything: it needs ~0.1 s to start
            return self

    monkeypatch.setattr(importing, "ChildBatches", Dies)
    with pytest.raises(RuntimeError, match="stopped unexpectedly"):
        importing.import_paths("w", [FILES[0]])
    assert [r[5] for r in _contents("w")] == ["hello", "hi"]


def test_cancelling_stops_the_child_and_writes_nothing(tmp_path, monkeypatch, every_file_in_a_child):
    monkeypatch.setattr(offload, "OFFLOAD_MIN_BYTES", 10_000)
    _write_ws_with_one_message(tmp_path)

    class Cancelled(Exception):
        pass

    def cancel(i, n, path, done, total):
        raise Cancelled()

    with pytest.raises(Cancelled):
        importing.import_paths("w", [FILES[0]], progress=cancel)
    assert every_file_in_a_child.started == [FILES[0]]
    assert psutil.Process().children() == []  # the child was stopped and reaped
    assert [r[5] for r in _contents("w")] == ["hello", "hi"]
    summaries = [json.dumps(s) for _, _, s in Store.for_workspace("w").imports()]
    assert len(summaries) == 1  # only the first import is recorded


def test_small_files_and_one_core_stay_in_process(tmp_path, monkeypatch):
    monkeypatch.delenv("FRIENDSIM_IMPORT_IN_PROCESS", raising=False)
    small = FILES[1]
    assert not offload.offload_worth_it(small)
    monkeypatch.setattr(offload, "OFFLOAD_MIN_BYTES", 0)
    assert offload.offload_worth_it(small)
    monkeypatch.setattr(offload.os, "cpu_count", lambda: 1)
    assert not offload.offload_worth_it(small)
