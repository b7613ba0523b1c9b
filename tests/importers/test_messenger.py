"""Facebook Messenger / Instagram exports: mojibake, thread folders split over files, events, bad input."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

import pytest
from hypothesis import given, settings, strategies as st

from friendsim_tui.importers import detect, messenger
from friendsim_tui.importers.base import ChatImportError, ImportReport
from friendsim_tui.services.importing import import_paths
from friendsim_tui.store import Store

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "messenger"
THREAD = FIXTURES / "your_facebook_activity" / "messages" / "inbox" / "zoealice_7265712394856123"
INSTAGRAM = next((FIXTURES / "instagram").rglob("message_1.json"))


def parse(path):
    report = ImportReport(str(path))
    return list(messenger.parse(Path(path), report)), report


def when(ts: float) -> str:
    return datetime.fromtimestamp(ts, timezone.utc).strftime("%Y-%m-%d %H:%M:%S")


def test_mojibake_is_repaired_in_names_titles_and_content():
    msgs, report = parse(THREAD / "message_1.json")
    assert [(m.speaker_name, when(m.timestamp), m.text) for m in msgs] == [
        ("Zoë Müller", "2024-01-12 09:15:00", "Bis später 👋"),
        ("Alice Smith", "2024-01-12 09:06:40", "Café at 5?\nOr 6?"),
    ]
    assert {m.conversation_title for m in msgs} == {"Zoë Müller"}
    assert report.speakers == {"Zoë Müller": 1, "Alice Smith": 1}
    # a photo alone, "X sent a photo.", an unsent message, a call
    assert dict(report.skipped) == {"media-only": 2, "deleted": 1, "system": 1}


def test_text_that_does_not_round_trip_is_left_alone():
    msgs, _ = parse(THREAD / "message_2.json")
    assert "Totally naïve question" in [m.text for m in msgs]
    assert "Hi Zoë! Wie geht's?" in [m.text for m in msgs]
    assert messenger.repair("na\u00efve") == "naïve"
    assert messenger.repair("Zo\u00c3\u00ab") == "Zoë"


def test_both_files_of_a_thread_join_one_conversation():
    a, _ = parse(THREAD / "message_1.json")
    b, _ = parse(THREAD / "message_2.json")
    assert {m.conversation for m in a + b} == {"zoealice_7265712394856123"}
    assert len({m.source_id for m in a + b}) == 5


def test_thread_key_falls_back_to_the_folder_name(tmp_path):
    doc = json.loads((THREAD / "message_1.json").read_text())
    del doc["thread_path"]
    folder = tmp_path / "inbox" / "bob_123"
    folder.mkdir(parents=True)
    p = folder / "message_3.json"
    p.write_text(json.dumps(doc))
    msgs, _ = parse(p)
    assert {m.conversation for m in msgs} == {"bob_123"}


def test_instagram_reactions_and_attachments_are_not_messages():
    msgs, report = parse(INSTAGRAM)
    assert [(m.speaker_name, m.text) for m in msgs] == [("alice.s", "😂😂 that reel"), ("Zoë", "Hey!")]
    assert dict(report.skipped) == {"system": 2, "media-only": 1}



@pytest.mark.parametrize(
    "sender, content, expected",
    [
        ("Zoë", "Alice's poll has multiple updates.", "system"),
        ("Zoë", "This poll is no longer available.", "system"),
        ("Zoë", "Bob joined the group.", "system"),
        ("Zoë", "You joined the group.", "system"),
        ("Zoë", "Alice sent an attachment.", "system"),  # a notice about someone else, in Zoë's name
        ("Alice", "Alice sent an attachment.", "media-only"),  # the attachment itself, as it was sent
        ("Zoë", "Alice added Bob to the group.", "system"),
        ("Zoë", "Alice started a video chat.", "system"),
        ("Zoë", "Alice set the nickname for Bob to Bobby.", "system"),
        ("Zoë", "I joined the group chat yesterday", None),
        ("Zoë", "my poll has multiple updates, check it", None),
    ],
)
def test_notices_are_system_lines_whoever_sent_them(tmp_path, sender, content, expected):
    p = tmp_path / "message_1.json"
    p.write_text(json.dumps({
        "participants": [{"name": "Zoë"}, {"name": "Alice"}], "title": "Group",
        "messages": [{"sender_name": sender, "timestamp_ms": 1705050000000, "content": content}],
    }))
    msgs, report = parse(p)
    if expected is None:
        assert [m.text for m in msgs] == [content] and not report.skipped
    else:
        assert msgs == [] and dict(report.skipped) == {expected: 1}

def test_a_thread_folder_imports_as_one_conversation_and_reimports_as_nothing(data_dir):
    first = import_paths("fb", [THREAD])
    assert first.messages_added == 5
    assert [f.kept for f in first.files] == [2, 3]
    assert first.speakers == {"Zoë Müller": 2, "Alice Smith": 3}
    with Store.for_workspace("fb") as store:
        convs = store.conn.execute("SELECT key, title FROM conversations").fetchall()
    assert convs == [("zoealice_7265712394856123", "Zoë Müller")]
    again = import_paths("fb", [THREAD / "message_2.json", THREAD / "message_1.json"])
    assert again.messages_added == 0 and again.messages_total == 5


def test_invalid_json_names_file_and_line(tmp_path):
    p = tmp_path / "message_1.json"
    p.write_text('{\n  "participants": [{"name": "A"}],\n  "messages": [\n    {"sender_name": "A",,}\n  ]\n}\n')
    with pytest.raises(ChatImportError) as exc:
        parse(p)
    msg = str(exc.value)
    assert "\n" not in msg and str(p) in msg and "line 4" in msg


def test_json_without_messages_is_an_error(tmp_path):
    p = tmp_path / "message_1.json"
    p.write_text('{"participants": [{"name": "A"}], "title": "A"}')
    with pytest.raises(ChatImportError) as exc:
        parse(p)
    assert str(p) in str(exc.value)


def test_damaged_records_are_counted_with_their_place(tmp_path):
    doc = {
        "participants": [{"name": "A"}],
        "messages": [
            {"sender_name": "A", "timestamp_ms": 1705050000000, "content": "ok"},
            {"sender_name": "A", "content": "no time"},
            "not an object",
            {"timestamp_ms": 1705050000000, "content": "no sender"},
        ],
        "title": "A",
        "thread_path": "inbox/a_1",
    }
    p = tmp_path / "message_1.json"
    p.write_text(json.dumps(doc))
    msgs, report = parse(p)
    assert [m.text for m in msgs] == ["ok"]
    assert report.skipped["unparseable"] == 3
    assert [x.where for x in report.problems] == ["messages[1]", "messages[2]", "messages[3]"]


# -- detection --------------------------------------------------------------------------------------
@pytest.mark.parametrize("path", sorted(FIXTURES.rglob("*.json")), ids=lambda p: p.parent.name + "/" + p.name)
def test_fixtures_are_detected_as_messenger(path):
    assert detect(path) is messenger


# -- robustness -------------------------------------------------------------------------------------
FUZZ = settings(settings.get_profile("importers"))  # registered in conftest.py
SEEDS = [(THREAD / "message_1.json").read_bytes(), INSTAGRAM.read_bytes()]
PIECES = [b"", b"{", b"}", b"[", b"]", b",", b":", b'"', b"null", b"1e999", b"NaN", b"[1]", b"{}", b"\xff", b"\\u00c3"]


@FUZZ
@given(st.binary(max_size=400))
def test_arbitrary_bytes_give_messages_or_import_error(tmp_path, never_crashes, data):
    p = tmp_path / "message_1.json"
    p.write_bytes(data)
    never_crashes(messenger, p)


@FUZZ
@given(st.data())
def test_mutated_exports_give_messages_or_import_error(tmp_path, never_crashes, mutated, data):
    p = tmp_path / "message_1.json"
    p.write_bytes(data.draw(mutated(SEEDS, PIECES)))
    never_crashes(messenger, p)


KEYS = ["sender_name", "timestamp_ms", "content", "type", "photos", "is_unsent", "share", "name"]


@FUZZ
@given(st.data())
def test_well_formed_json_with_odd_values(tmp_path, never_crashes, odd_json, data):
    values = odd_json(KEYS)
    messages = data.draw(st.lists(values, max_size=4))
    title = data.draw(values)
    participants = data.draw(values)
    thread_path = data.draw(values)
    p = tmp_path / "message_1.json"
    doc = {"participants": participants, "messages": messages, "title": title, "thread_path": thread_path}
    p.write_text(json.dumps(doc))
    never_crashes(messenger, p)
