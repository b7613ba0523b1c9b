"""DiscordChatExporter PlainText: preamble, headers, blocks, locale dates, damage, and the import end to end."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import pytest
from hypothesis import given, settings, strategies as st

from friendsim_tui.importers import detect, dce_txt
from friendsim_tui.importers.base import ChatImportError, ImportReport
from friendsim_tui.services.importing import import_paths

FIXTURE = Path(__file__).parent.parent / "fixtures" / "dce" / "Friends - Text Channels - general [111222333].txt"
SEP = "=" * 62


def parse(path: Path):
    report = ImportReport(str(path))
    return list(dce_txt.parse(path, report)), report


def utc(*args) -> float:
    return datetime(*args, tzinfo=timezone.utc).timestamp()


def export(*messages: tuple[str, str, str], guild="Direct Messages", channel="alice", footer=True) -> str:
    """A PlainText export as DCE writes it: each message is (date, author, content)."""
    out = [SEP, f"Guild: {guild}", f"Channel: {channel}", SEP, ""]
    for date, author, content in messages:
        out += [f"[{date}] {author}", content, "", ""]
    if footer:
        out += [SEP, f"Exported {len(messages)} message(s)", SEP]
    return "\n".join(out) + "\n"


def write(tmp_path: Path, text: str, name: str = "Direct Messages - alice [42].txt", encoding="utf-8") -> Path:
    p = tmp_path / name
    p.write_bytes(text.encode(encoding))
    return p


def test_export_with_blocks_names_texts_and_skips():
    assert detect(FIXTURE) is dce_txt
    msgs, report = parse(FIXTURE)
    assert [(m.speaker_name, m.text) for m in msgs] == [
        ("alice", "hey, anyone up?"),
        ("bob", 'yeah "barely"\nwhy\n\n[not a header] just brackets'),
        ("Carol Smith", "pizza 🍕 at 8"),  # (pinned) and the {Embed}/{Reactions} blocks are not text
        ("alice", "deal"),
    ]
    assert msgs[1].speaker_key == "bob#1234"
    assert msgs[0].timestamp == utc(2023, 9, 23, 13, 15)
    assert (msgs[0].conversation, msgs[0].conversation_title) == ("111222333", "Friends / #general")
    assert report.skipped == {"system": 1, "media-only": 2, "empty": 1}
    assert report.read == 8 and not report.warnings and not report.problems


def test_day_first_locale_is_inferred_from_the_whole_file(tmp_path):
    dates = [f"0{d}/03/2024 18:0{d}" for d in range(1, 8)] + ["14/03/2024 09:00"]
    p = write(tmp_path, export(*[(d, "alice", f"m{i}") for i, d in enumerate(dates)]))
    msgs, report = parse(p)
    assert msgs[0].timestamp == utc(2024, 3, 1, 18, 1)
    assert msgs[-1].timestamp == utc(2024, 3, 14, 9, 0)
    assert msgs[0].conversation == "42" and msgs[0].conversation_title == "alice"
    assert not report.warnings


def test_very_old_bracketed_dates_and_german_dates(tmp_path):
    msgs, _ = parse(write(tmp_path, export(("01-Jan-18 12:00 AM", "bob#1234", "old"))))
    assert msgs[0].timestamp == utc(2018, 1, 1)
    msgs, _ = parse(write(tmp_path, export(("24.12.2023 18:30", "bob", "frohe")), name="b.txt"))
    assert msgs[0].timestamp == utc(2023, 12, 24, 18, 30)


def test_unreadable_header_date_is_reported_with_its_line(tmp_path):
    text = export(("3/1/2024 6:01 PM", "alice", "ok"), ("3/45/2024 99:99 PM", "bob", "lost"), ("3/2/2024 6:02 PM", "alice", "fine"))
    msgs, report = parse(write(tmp_path, text))
    assert [m.text for m in msgs] == ["ok", "fine"]
    assert report.problems[0].where == "line 10" and "bad date" in report.problems[0].detail


def test_cut_short_export_keeps_messages_and_warns(tmp_path):
    text = export(("3/1/2024 6:01 PM", "alice", "one"), ("3/13/2024 6:02 PM", "bob", "two"), footer=False)
    msgs, report = parse(write(tmp_path, text))
    assert [m.text for m in msgs] == ["one", "two"]
    assert "footer" in report.warnings[0]


def test_cp1252_export_is_read_with_a_warning(tmp_path):
    p = write(tmp_path, export(("3/13/2024 6:01 PM", "Zoë", "café")), encoding="cp1252")
    msgs, report = parse(p)
    assert (msgs[0].speaker_name, msgs[0].text) == ("Zoë", "café")
    assert any("cp1252" in w for w in report.warnings)


def test_not_plaintext_is_refused(tmp_path):
    p = write(tmp_path, "hello\nworld\n", name="x.txt")
    assert not dce_txt.sniff(p, p.read_bytes())
    with pytest.raises(ChatImportError, match="line 1"):
        parse(p)


def test_reimport_adds_nothing_twice(data_dir):
    first = import_paths("w", [FIXTURE])
    assert first.messages_added == 4 and first.files[0].format == dce_txt.label
    again = import_paths("w", [FIXTURE])
    assert again.messages_added == 0 and again.messages_total == 4


FUZZ = settings(settings.get_profile("importers"))  # registered in conftest.py
PIECES = [b"[", b"]", b"\n", b"\r", b"{Attachments}\n", b"\xff", b"\x00", SEP.encode(), b"[13/13/2024 6:01 PM] x\n"]


@FUZZ
@given(st.binary(max_size=300))
def test_arbitrary_bytes_give_messages_or_import_error(tmp_path, never_crashes, data):
    p = tmp_path / "fuzz.txt"
    p.write_bytes(f"{SEP}\nGuild: G\nChannel: c\n{SEP}\n\n[3/1/2024 6:01 PM] a\n".encode() + data)
    never_crashes(dce_txt, p)


@FUZZ
@given(st.data())
def test_mutated_exports_give_messages_or_import_error(tmp_path, never_crashes, mutated, data):
    p = tmp_path / "mutated.txt"
    p.write_bytes(data.draw(mutated([FIXTURE.read_bytes()], PIECES)))
    never_crashes(dce_txt, p)
