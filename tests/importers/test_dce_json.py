"""DiscordChatExporter JSON: metadata, message rules, streaming, damage recovery, the CLI on bad input."""

from __future__ import annotations

import json
import tracemalloc
from pathlib import Path

import pytest
from hypothesis import given, settings, strategies as st

from friendsim_tui import cli
from friendsim_tui.importers import detect, dce_json
from friendsim_tui.importers.base import ChatImportError, ImportReport
from friendsim_tui.services.importing import import_paths
from friendsim_tui.services.workspaces import list_workspaces
from friendsim_tui.store import Store

FIXTURE = Path(__file__).parent.parent / "fixtures" / "dce" / "Friends - Text Channels - general [111222333].json"


def parse(path: Path):
    report = ImportReport(str(path))
    return list(dce_json.parse(path, report)), report


def export(messages: list[dict], guild=("999", "Friends"), channel=("111", "general")) -> dict:
    return {
        "guild": {"id": guild[0], "name": guild[1], "iconUrl": ""},
        "channel": {"id": channel[0], "type": "GuildTextChat", "categoryId": None, "category": None,
                    "name": channel[1], "topic": None},
        "dateRange": {"after": None, "before": None},
        "exportedAt": "2024-01-01T00:00:00+00:00",
        "messages": messages,
        "messageCount": len(messages),
    }


def message(i: int, content: str = "hi", **extra) -> dict:
    m = {
        "id": str(1000 + i), "type": "Default", "timestamp": f"2024-01-01T10:{i // 60 % 60:02d}:{i % 60:02d}.5+01:00",
        "timestampEdited": None, "callEndedTimestamp": None, "isPinned": False, "content": content,
        "author": {"id": "42", "name": "zed", "discriminator": "0000", "nickname": "Zed", "color": None,
                   "isBot": False, "roles": [], "avatarUrl": ""},
        "attachments": [], "embeds": [], "stickers": [], "reactions": [], "mentions": [], "inlineEmojis": [],
    }
    m.update(extra)
    return m


def write(tmp_path: Path, doc, name: str = "export.json") -> Path:
    p = tmp_path / name
    p.write_text(json.dumps(doc, indent=2, ensure_ascii=False), encoding="utf-8")
    return p


def test_guild_export_names_texts_replies_and_skips():
    assert detect(FIXTURE) is dce_json
    msgs, report = parse(FIXTURE)
    assert [(m.speaker_name, m.text) for m in msgs] == [
        ("Alice A.", "hey, anyone up?"),  # nickname preferred
        ("bob", 'yeah "barely"\nwhy'),  # no nickname: name, discriminator never glued on
        ("Carol", "👋 hi all — pizza at 8?"),
    ]
    assert [m.speaker_key for m in msgs] == [f"discord:10000000000000000{i}" for i in (1, 2, 3)]
    assert msgs[1].reply_to == msgs[0].source_id == "1150000000000000001"
    assert msgs[0].timestamp == pytest.approx(1695464148.379)  # 13:15:48.379 at +03:00
    assert {m.conversation for m in msgs} == {"111222333"}
    assert msgs[0].conversation_title == "Friends / #general"
    assert report.skipped == {"system": 2, "media-only": 2, "bot": 1, "empty": 1}
    assert report.read == 9 and report.kept == 3


def test_direct_messages_are_titled_by_the_channel(tmp_path):
    p = write(tmp_path, export([message(1)], guild=("0", "Direct Messages"), channel=("5", "alice")))
    msgs, _ = parse(p)
    assert (msgs[0].conversation, msgs[0].conversation_title) == ("5", "alice")


def test_old_style_name_with_discriminator_is_stripped_only_when_present(tmp_path):
    a = {"id": "7", "name": "bob#1234", "isBot": False}
    b = {"id": "8", "name": "neo#42", "isBot": False}
    p = write(tmp_path, export([message(1, author=a), message(2, author=b)]))
    msgs, _ = parse(p)
    assert [m.speaker_name for m in msgs] == ["bob", "neo#42"]


def test_truncated_export_keeps_what_came_before_and_says_where_it_stopped(tmp_path):
    full = json.dumps(export([message(i, f"m{i}") for i in range(50)]), indent=2).encode()
    cut = full[: full.index(b'"m40"') + 2]
    p = tmp_path / "crashed.json"
    p.write_bytes(cut)
    assert detect(p) is dce_json
    msgs, report = parse(p)
    assert [m.text for m in msgs] == [f"m{i}" for i in range(40)]
    assert len(report.warnings) == 1
    assert f"stopped at byte {len(cut)}" in report.warnings[0] and str(p) in report.warnings[0]


def test_garbage_in_the_middle_stops_there_with_a_warning(tmp_path):
    text = json.dumps(export([message(i, f"m{i}") for i in range(5)]), indent=2)
    p = tmp_path / "bad.json"
    p.write_text(text.replace('"m3"', '"m3" oops'))
    msgs, report = parse(p)
    assert [m.text for m in msgs] == ["m0", "m1", "m2"]
    assert "stopped at byte" in report.warnings[0]


def test_damage_before_any_message_is_an_import_error_with_the_offset(tmp_path):
    p = tmp_path / "x.json"
    p.write_bytes(b'{"guild": {"id": "1", "name": "G"}, "channel": {"id": "2", "na')
    with pytest.raises(ChatImportError) as err:
        parse(p)
    assert str(p) in str(err.value) and "byte" in str(err.value)


@pytest.mark.parametrize(
    "doc",
    [
        {"foo": 1},
        [1, 2, 3],
        {"name": "Bob", "type": "personal_chat", "id": 1, "messages": [{"id": 1, "type": "message", "text": "hi"}]},
    ],
)
def test_json_that_is_no_dce_export_is_refused(tmp_path, doc):
    p = write(tmp_path, doc)
    with pytest.raises(ChatImportError, match="not a"):
        detect(p) if dce_json.sniff(p, p.read_bytes()) else parse(p)
    with pytest.raises(ChatImportError) as err:
        parse(p)
    assert str(p) in str(err.value)


def test_bom_and_unparseable_messages(tmp_path):
    bad = message(2)
    bad["timestamp"] = "yesterday"
    p = tmp_path / "bom.json"
    p.write_bytes(b"\xef\xbb\xbf" + json.dumps(export([message(1), bad, message(3, author=[])])).encode())
    assert detect(p) is dce_json
    msgs, report = parse(p)
    assert len(msgs) == 1 and report.skipped["unparseable"] == 2
    assert report.problems[0].where.startswith("message 2 (id 1002), byte")


def test_streaming_keeps_memory_bounded(tmp_path):
    p = write(tmp_path, export([message(i, "words " * 40) for i in range(8000)]))
    size = p.stat().st_size
    tracemalloc.start()
    try:
        n = sum(1 for _ in dce_json.parse(p, ImportReport(str(p))))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert n == 8000 and size > 6_000_000
    assert peak < 2_000_000  # a fixed budget, not a share of the file


def test_a_message_id_seen_twice_is_kept_and_counted_once(tmp_path):
    amy = {"id": "43", "name": "amy", "discriminator": "0000", "nickname": "Amy", "isBot": False}
    p = write(tmp_path, export([message(1, "one"), message(2, "two", author=amy), message(1, "one"), message(3, "three")]))
    msgs, report = parse(p)
    assert [m.text for m in msgs] == ["one", "two", "three"]
    assert report.kept == 3 and report.read == 4 and dict(report.skipped) == {"duplicate": 1}
    assert report.speakers == {"Zed": 2, "Amy": 1}


def test_progress_reports_bytes(tmp_path):
    p = write(tmp_path, export([message(i) for i in range(9000)]))
    seen = []
    list(dce_json.parse(p, ImportReport(str(p)), lambda done, total: seen.append((done, total))))
    assert len(seen) >= 3 and seen[-1] == (p.stat().st_size, p.stat().st_size)
    assert [d for d, _ in seen] == sorted(d for d, _ in seen)


def test_reimport_adds_nothing_twice(data_dir):
    first = import_paths("w", [FIXTURE])
    assert first.messages_added == 3 and first.speakers == {"Alice A.": 1, "bob": 1, "Carol": 1}
    again = import_paths("w", [FIXTURE])
    assert again.messages_added == 0 and again.messages_total == 3


def test_cli_import_of_bad_json_fails_on_one_line_and_leaves_the_workspace_alone(tmp_path, data_dir, capsys):
    assert cli.main(["import", str(FIXTURE), "--workspace", "w", "--json"]) == 0
    capsys.readouterr()
    before = list_workspaces()
    bad = tmp_path / "bad.json"
    bad.write_text('{"foo": 1}')
    good = write(tmp_path, export([message(i) for i in range(3)]), name="good.json")
    code = cli.main(["import", str(good), str(bad), "--workspace", "w", "--json"])
    out, err = capsys.readouterr()
    assert code != 0 and out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1 and str(bad) in lines[0]
    assert list_workspaces() == before
    with Store.for_workspace("w") as store:
        assert store.message_count() == 3


FUZZ = settings(settings.get_profile("importers"))  # registered in conftest.py
PIECES = [b'"', b"{", b"]", b",", b"null", b"\xff", b"[[[[", b"1e999", b'"type": 3', b'"author": []']


@FUZZ
@given(st.binary(max_size=300))
def test_arbitrary_bytes_give_messages_or_import_error(tmp_path, never_crashes, data):
    p = tmp_path / "fuzz.json"
    p.write_bytes(b'{"guild": {"id": "1"}, "channel": {"id": "2"}, "messages": [' + data)
    never_crashes(dce_json, p)


@FUZZ
@given(st.data())
def test_mutated_exports_give_messages_or_import_error(tmp_path, never_crashes, mutated, data):
    p = tmp_path / "mutated.json"
    p.write_bytes(data.draw(mutated([FIXTURE.read_bytes()], PIECES)))
    never_crashes(dce_json, p)


@settings(FUZZ, max_examples=60)  # recursive values are slow to draw
@given(st.data())
def test_messages_with_odd_values_give_messages_or_import_error(tmp_path, never_crashes, odd_json, data):
    keys = ["id", "type", "timestamp", "content", "author", "isBot", "name", "nickname", "attachments",
            "stickers", "embeds", "reference", "messageId"]
    p = tmp_path / "odd.json"
    p.write_text(json.dumps(export(data.draw(st.lists(odd_json(keys), max_size=4)))))
    never_crashes(dce_json, p)
