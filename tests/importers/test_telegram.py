"""Telegram Desktop exports: single chat and full account, text pieces, service/media, truncation, bad input."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

import pytest
from hypothesis import given, settings, strategies as st

from friendsim_tui.importers import detect, telegram
from friendsim_tui.importers.base import ChatImportError, ImportReport
from friendsim_tui.services.importing import import_paths

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "telegram"
GROUP = FIXTURES / "result.json"
FULL = FIXTURES / "full_export.json"


def parse(path):
    report = ImportReport(str(path))
    return list(telegram.parse(Path(path), report)), report


def when(ts: float) -> str:
    return datetime.fromtimestamp(ts, timezone.utc).strftime("%Y-%m-%d %H:%M:%S")


def test_single_chat():
    msgs, report = parse(GROUP)
    assert [(m.speaker_name, m.text) for m in msgs] == [
        ("Alice", "Hey all! Hike on Saturday?"),
        ("Bob", "Check https://example.com/trail — it's steep\nbring water"),  # list of pieces, joined
        ("Carol", "count me in"),
        ("Carol", "Last time 📸"),  # a photo with a caption keeps the caption
        ("Deleted Account", "see you there"),  # "from": null
    ]
    assert {(m.conversation, m.conversation_title) for m in msgs} == {("4011155822", "Weekend crew")}
    assert [m.speaker_key for m in msgs] == ["user111", "user222", "user333", "user333", "user999"]
    assert [m.source_id for m in msgs] == [f"4011155822:{i}" for i in (2, 3, 6, 7, 9)]
    assert msgs[2].reply_to == "4011155822:2"
    # date_unixtime wins over the wall-clock "date" (written at UTC+1 here)
    assert when(msgs[0].timestamp) == "2024-01-12 10:01:00"
    assert dict(report.skipped) == {"system": 2, "media-only": 3}
    assert report.read == 10 and report.warnings == [] and report.problems == []


def test_full_account_export_reads_every_chat():
    msgs, report = parse(FULL)
    by_chat = {}
    for m in msgs:
        by_chat.setdefault(m.conversation_title, []).append(m.text)
    assert by_chat == {
        "Bob": ["coffee?", "yes!\nusual place"],
        "Saved Messages": ["note to self"],
        "TriviaBot": ["/start"],
        "Old club": ["bye all"],  # left_chats are read too
    }
    assert dict(report.skipped) == {"system": 1, "bot": 1}
    assert msgs[1].reply_to == "222:501"
    assert report.speakers == {"Alice": 3, "Bob": 1, "Dan": 1}


def test_date_without_unixtime_is_read_as_utc(tmp_path):
    doc = json.loads(GROUP.read_text())
    for m in doc["messages"]:
        m.pop("date_unixtime")
    p = tmp_path / "result.json"
    p.write_text(json.dumps(doc, ensure_ascii=False, indent=1))
    msgs, _ = parse(p)
    assert when(msgs[0].timestamp) == "2024-01-12 11:01:00"


def test_truncated_export_keeps_what_was_read_and_warns_with_offset(tmp_path):
    data = GROUP.read_bytes()
    cut = data.index(b'"id": 7')  # in the middle of message 7
    p = tmp_path / "result.json"
    p.write_bytes(data[:cut])
    msgs, report = parse(p)
    assert [m.source_id.split(":")[1] for m in msgs] == ["2", "3", "6"]
    assert len(report.warnings) == 1
    assert f"byte {cut}" in report.warnings[0] and "truncated" in report.warnings[0]
    assert str(p) in report.warnings[0]


def test_damage_in_the_middle_is_located_exactly(tmp_path):
    data = GROUP.read_bytes()
    at = data.index(b'"id": 6')
    p = tmp_path / "result.json"
    p.write_bytes(data[:at] + b"@@" + data[at:])
    msgs, report = parse(p)
    assert len(msgs) == 2
    assert f"damaged JSON at byte {at} " in report.warnings[0]


def test_json_that_is_not_a_chat_is_an_error(tmp_path):
    p = tmp_path / "result.json"
    p.write_text('{"name": "x", "type": "personal_chat", "id": 1}')
    with pytest.raises(ChatImportError) as exc:
        parse(p)
    assert "\n" not in str(exc.value) and str(p) in str(exc.value) and "byte" in str(exc.value)


def test_broken_json_before_any_chat_is_an_error_with_offset(tmp_path):
    p = tmp_path / "result.json"
    p.write_bytes(b'{"name": "x", "type": oops')
    with pytest.raises(ChatImportError) as exc:
        parse(p)
    assert "(byte 22)" in str(exc.value)


def test_reimport_through_the_service_adds_nothing_twice(data_dir):
    first = import_paths("tg", [GROUP, FULL])
    assert first.messages_added == 10
    assert first.skipped == {"system": 3, "media-only": 3, "bot": 1}
    again = import_paths("tg", [FULL, GROUP])
    assert again.messages_added == 0 and again.messages_total == 10


def test_truncated_export_through_the_service_is_imported_with_a_warning(data_dir, tmp_path):
    data = GROUP.read_bytes()
    p = tmp_path / "result.json"
    p.write_bytes(data[: data.index(b'"id": 7')])
    result = import_paths("tg", [p])
    assert result.messages_added == 3
    assert any("truncated" in w for w in result.warnings)


# -- detection --------------------------------------------------------------------------------------
@pytest.mark.parametrize("path", [GROUP, FULL], ids=lambda p: p.name)
def test_fixtures_are_detected_as_telegram(path):
    assert detect(path) is telegram


def test_other_json_is_not_taken_for_telegram(tmp_path):
    p = tmp_path / "package.json"
    p.write_text('{"name": "x", "type": "module", "messages": []}')
    assert not telegram.sniff(p, p.read_bytes())
    try:
        assert detect(p) is not telegram
    except ChatImportError:
        pass


def test_empty_chat_is_detected_and_gives_nothing(tmp_path):
    p = tmp_path / "result.json"
    p.write_text('{\n "name": "Quiet",\n "type": "personal_chat",\n "id": 5,\n "messages": []\n}\n')
    assert detect(p) is telegram
    msgs, report = parse(p)
    assert msgs == [] and report.read == 0


# -- robustness -------------------------------------------------------------------------------------
FUZZ = settings(settings.get_profile("importers"))  # registered in conftest.py
SEEDS = [GROUP.read_bytes(), FULL.read_bytes()]
PIECES = [b"", b"{", b"}", b"[", b"]", b",", b":", b'"', b"null", b"1e999", b'"nan"', b"[1]", b"{}", b"\xff", b"\\u0000"]


@FUZZ
@given(st.binary(max_size=400))
def test_arbitrary_bytes_give_messages_or_import_error(tmp_path, never_crashes, data):
    p = tmp_path / "result.json"
    p.write_bytes(data)
    never_crashes(telegram, p)


@FUZZ
@given(st.data())
def test_mutated_exports_give_messages_or_import_error(tmp_path, never_crashes, mutated, data):
    p = tmp_path / "result.json"
    p.write_bytes(data.draw(mutated(SEEDS, PIECES)))
    never_crashes(telegram, p)


KEYS = ["id", "type", "text", "from", "from_id", "date", "date_unixtime", "photo", "reply_to_message_id", "messages"]


@FUZZ
@given(st.data())
def test_well_formed_json_with_odd_values(tmp_path, never_crashes, odd_json, data):
    values = odd_json(KEYS)
    messages = data.draw(st.lists(values, max_size=4))
    chat_id = data.draw(values)
    p = tmp_path / "result.json"
    p.write_text(json.dumps({"name": "x", "type": "personal_chat", "id": chat_id, "messages": messages}))
    never_crashes(telegram, p)
