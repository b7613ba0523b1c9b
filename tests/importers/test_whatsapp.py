"""WhatsApp exports: Android and iOS lines, locale date orders, markers, zips, re-import, bad input."""

from __future__ import annotations

import random
import zipfile
from datetime import datetime, timezone
from pathlib import Path

import pytest
from hypothesis import given, settings, strategies as st

from friendsim_tui.importers import detect, transcript, whatsapp
from friendsim_tui.importers.base import ChatImportError, ImportReport
from friendsim_tui.services.importing import import_paths

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "whatsapp"
ALICE = FIXTURES / "WhatsApp Chat with Alice.txt"
FAMILY = FIXTURES / "WhatsApp Chat - Family" / "_chat.txt"


def parse(path):
    report = ImportReport(str(path))
    return list(whatsapp.parse(Path(path), report)), report


def when(ts: float) -> str:
    return datetime.fromtimestamp(ts, timezone.utc).strftime("%Y-%m-%d %H:%M:%S")


def rows(msgs):
    return [(m.speaker_name, when(m.timestamp), m.text) for m in msgs]


def test_android_day_first_settled_by_a_later_date():
    msgs, report = parse(ALICE)
    # 05/01 .. 12/01 read either way; 13/01 later in the file makes the whole file day-first.
    assert rows(msgs) == [
        ("Alice", "2024-01-05 09:02:00", "Hey Bob!\nHow was the trip?\n\nTell me everything"),
        ("Bob", "2024-01-05 09:05:00", "It was great: 10/10"),
        ("+44 7700 900123", "2024-01-06 21:05:00", "look at this view"),
        ("Alice", "2024-01-13 00:15:00", "Happy Saturday 🎉"),
    ]
    assert {m.conversation for m in msgs} == {"Alice"}
    assert dict(report.skipped) == {"system": 3, "media-only": 2, "deleted": 1}
    assert report.read == 10 and report.kept == 4
    assert report.warnings == [] and report.problems == []
    assert report.speakers == {"Alice": 2, "Bob": 1, "+44 7700 900123": 1}
    assert all(m.source == "whatsapp" and m.speaker_key == m.speaker_name for m in msgs)
    assert len({m.source_id for m in msgs}) == len(msgs)


def test_ios_month_first_twelve_hour_clock_with_marks():
    msgs, report = parse(FAMILY)
    assert rows(msgs) == [
        ("Mom", "2023-12-01 22:06:00", "Dinner on Sunday?"),
        ("Dad", "2023-12-02 00:01:00", "Sure!\nBringing pie."),  # 12:01 AM is just after midnight
        ("Kim", "2023-12-13 07:46:00", "Running late"),  # "~ Kim": not in contacts; edit marker dropped
    ]
    assert {m.conversation for m in msgs} == {"Family"}  # from the folder the zip was unpacked into
    assert dict(report.skipped) == {"system": 2, "media-only": 2, "deleted": 1}
    assert report.warnings == []


@pytest.mark.parametrize(
    "fixture, conversation, expected, skipped",
    [
        (
            "WhatsApp Chat mit Jonas.txt",
            "Jonas",
            [("Jonas", "2023-12-24 18:01:00", "Frohe Weihnachten!"), ("Lena", "2023-12-25 09:30:00", "Danke, dir auch")],
            {"system": 1, "media-only": 1},
        ),
        (
            "WhatsApp Chat with Ana.txt",
            "Ana",
            [("Ana", "2024-01-13 22:05:00", "Hola"), ("Luis", "2024-01-13 22:06:00", "¿Qué tal?")],
            {"media-only": 1},
        ),
        (
            "WhatsApp Chat with Sven.txt",
            "Sven",
            [("Sven", "2024-02-03 08:15:00", "God morgon"), ("Maja", "2024-02-03 08:16:00", "Hej!")],
            {},
        ),
    ],
    ids=["german-dots-24h", "spanish-p.m.-nbsp", "year-first"],
)
def test_locale_variants(fixture, conversation, expected, skipped):
    msgs, report = parse(FIXTURES / fixture)
    assert rows(msgs) == expected
    assert {m.conversation for m in msgs} == {conversation}
    assert dict(report.skipped) == skipped
    assert report.warnings == []


@pytest.mark.parametrize(
    "line, expected",
    [
        ("[13.01.24, 21:05:09] Eva: hi", "2024-01-13 21:05:09"),
        ("13-01-2024 21:05 - Eva: hi", "2024-01-13 21:05:00"),
        ("1/13/24, 9:05 PM - Eva: hi", "2024-01-13 21:05:00"),
        ("1/13/24, 9:05 pm - Eva: hi", "2024-01-13 21:05:00"),
        ("13/01/2024, 9:05 a.m. - Eva: hi", "2024-01-13 09:05:00"),
        ("13/01/2024, 12:05 a.m. - Eva: hi", "2024-01-13 00:05:00"),
        ("\u200e[1/13/24, 9:05:00\u202fPM] Eva: hi", "2024-01-13 21:05:00"),
        ("2024/01/13, 21:05 - Eva: hi", "2024-01-13 21:05:00"),
        ("13.01.24 21.05 - Eva: hi", "2024-01-13 21:05:00"),
        # Chinese, Japanese and Korean phones: year first, the AM/PM word before the time
        ("2024/1/13 下午9:05 - Eva: hi", "2024-01-13 21:05:00"),
        ("[2024/1/13 上午9:05:07] Eva: hi", "2024-01-13 09:05:07"),
        ("2024/01/13 午後9:05 - Eva: hi", "2024-01-13 21:05:00"),
        ("2024/01/13 21:05 - Eva: hi", "2024-01-13 21:05:00"),
        ("2024. 1. 13. 오후 9:05 - Eva: hi", "2024-01-13 21:05:00"),
        ("[2024. 1. 13. 오전 12:05:00] Eva: hi", "2024-01-13 00:05:00"),
        ("13/1/2567 21:05 - Eva: hi", "2024-01-13 21:05:00"),  # Thai phones: the Buddhist era
        ("2022/12/14, 13:34. - Eva: hi", "2022-12-14 13:34:00"),  # a period after the time
        ("06/20/2020, 00:08 a. m. - Eva: hi", "2020-06-20 00:08:00"),  # hour 00 on a 12-hour clock
        ("06/20/2020, 00:08 p. m. - Eva: hi", "2020-06-20 12:08:00"),
    ],
)
def test_one_line_in_each_date_style(tmp_path, line, expected):
    p = tmp_path / "chat.txt"
    p.write_text(line + "\n", encoding="utf-8")
    msgs, report = parse(p)
    assert rows(msgs) == [("Eva", expected, "hi")]


@pytest.mark.parametrize(
    "rest, expected",
    [
        ('Robert "Bob" Smith: hi', ("Robert \"Bob\" Smith", "hi")),
        ("Alice: the details were omitted", ("Alice", "the details were omitted")),
        ("Alice: see (attached) notes <3", ("Alice", "see (attached) notes <3")),
        ("Alice: 09:30 - Bob: quoted", ("Alice", "09:30 - Bob: quoted")),
        ('Alice created group "Plans: 2024"', "system"),
        ("Alice changed the subject from \u201cA\u201d to \u201cB: c\u201d", "system"),
        ("You deleted this message", "system"),
        ("Alice: You deleted this message", "deleted"),
        ("Alice: \u200eaudio omitted", "media-only"),
        ("Alice: <media omitted>", "media-only"),  # some exports write the marker in lower case
        ("Alice: <MEDIEN AUSGELASSEN>", "media-only"),
        ("Alice: \u200eImage Omitted", "media-only"),
        ("Alice: <attached: 00000043-Report.pdf>", "media-only"),
        ("Alice: Report.pdf \u2022 \u200e3 pages \u200e<attached: 00000043-Report.pdf>", "media-only"),
        ("Alice: <attached: 00000044-PHOTO.jpg>\nwhat a view", ("Alice", "what a view")),
        ("Alice: \u200eLocation: https://maps.google.com/?q=1,2", "media-only"),
        ("Family: \u200eAlice changed the group description", "system"),
    ],
)
def test_message_or_event(tmp_path, rest, expected):
    p = tmp_path / "chat.txt"
    p.write_text(f"13/01/24, 10:00 - {rest}\n", encoding="utf-8")
    msgs, report = parse(p)
    if isinstance(expected, tuple):
        assert [(m.speaker_name, m.text) for m in msgs] == [expected]
    else:
        assert msgs == [] and dict(report.skipped) == {expected: 1}


def test_order_is_read_from_the_whole_file_not_line_by_line(tmp_path):
    # Month-first: the first lines are ambiguous; the last one (second field 20) settles it for all.
    p = tmp_path / "chat.txt"
    p.write_text("03/04/24, 10:00 - A: one\n04/05/24, 10:00 - B: two\n04/20/24, 10:00 - A: three\n")
    msgs, report = parse(p)
    assert [when(m.timestamp)[:10] for m in msgs] == ["2024-03-04", "2024-04-05", "2024-04-20"]
    assert report.warnings == []


def test_ambiguous_order_warns_and_uses_the_documented_default():
    msgs, report = parse(FIXTURES / "ambiguous.txt")
    assert [when(m.timestamp)[:10] for m in msgs] == ["2024-02-01", "2024-04-03"]  # day/month/year
    assert len(report.warnings) == 1 and "ambiguous" in report.warnings[0]
    assert "ambiguous.txt" in report.warnings[0]


def test_ambiguous_order_follows_the_direction_dates_run(tmp_path):
    # No field above 12, but read day-first the dates run forward (10 Jan, 11 Jan, 1 Feb) while
    # month-first they would jump back (1 Oct, 1 Nov, 2 Jan).
    p = tmp_path / "chat.txt"
    p.write_text("10/01/24, 10:00 - A: one\n11/01/24, 10:00 - B: two\n01/02/24, 10:00 - A: three\n")
    msgs, report = parse(p)
    assert [when(m.timestamp)[:10] for m in msgs] == ["2024-01-10", "2024-01-11", "2024-02-01"]
    assert "ambiguous" in report.warnings[0] and "run forward" in report.warnings[0]


def test_impossible_date_is_counted_with_its_line(tmp_path):
    p = tmp_path / "chat.txt"
    p.write_text("13/01/24, 10:00 - A: ok\nsecond line\n31/02/24, 10:00 - B: no such day\n14/01/24, 25:00 - B: bad hour\n")
    msgs, report = parse(p)
    assert [m.text for m in msgs] == ["ok\nsecond line"]
    assert report.skipped["unparseable"] == 2
    assert [p.where for p in report.problems] == ["line 3", "line 4"]
    assert str(report.problems[0]).startswith(str(p))


def test_a_line_that_looks_like_a_header_is_never_glued_to_the_message_before_it(tmp_path):
    p = tmp_path / "chat.txt"
    p.write_text(
        "14/12/22, 13:30 - Alice: first\n"
        "and its second line\n"
        "14/12/22, 13:34h - Bob: a header this reader does not know\n"
        "with a line of its own\n"
        "[14/12/22, 13:35 - Bob: brackets that do not close\n"
        "14/12/22, 13:36 - Alice: last\n"
    )
    msgs, report = parse(p)
    assert [(m.speaker_name, m.text) for m in msgs] == [("Alice", "first\nand its second line"), ("Alice", "last")]
    assert report.skipped["unparseable"] == 2 and report.read == 4
    assert [(pr.where, pr.detail) for pr in report.problems] == [
        ("line 3", "looks like a message header but cannot be read: '14/12/22, 13:34h - Bob: a header this reader '"),
        ("line 5", "looks like a message header but cannot be read: '[14/12/22, 13:35 - Bob: brackets that do not '"),
    ]
    assert report.warnings == [
        f"{p}: 2 lines look like message headers but cannot be read (first at line 3); "
        "counted as unparseable, not added to the message before them"
    ]


def test_a_mixed_file_reads_year_first_lines_with_a_period_after_the_time(tmp_path):
    p = tmp_path / "chat.txt"
    p.write_text(
        "14/12/22, 13:30 - Alice: day first\n"
        "2022/12/14, 13:34. - Bob: year first, with a period\n"
        "15/12/22, 09:00 - Alice: day first again\n"
    )
    msgs, report = parse(p)
    assert rows(msgs) == [
        ("Alice", "2022-12-14 13:30:00", "day first"),
        ("Bob", "2022-12-14 13:34:00", "year first, with a period"),
        ("Alice", "2022-12-15 09:00:00", "day first again"),
    ]
    assert report.problems == [] and report.warnings == []


def test_a_file_without_timestamps_is_an_error_naming_file_and_line(tmp_path):
    p = tmp_path / "notes.txt"
    p.write_text("Alice: hello\nBob: hi\n")
    with pytest.raises(ChatImportError) as exc:
        parse(p)
    msg = str(exc.value)
    assert "\n" not in msg and str(p) in msg and "line 1" in msg


def test_text_before_the_first_message_is_reported(tmp_path):
    p = tmp_path / "chat.txt"
    p.write_text("garbage\n13/01/24, 10:00 - A: ok\n")
    msgs, report = parse(p)
    assert [m.text for m in msgs] == ["ok"]
    assert report.problems[0].where == "line 1"


def test_windows_line_endings_and_bom(tmp_path):
    p = tmp_path / "chat.txt"
    p.write_bytes("\ufeff13/01/24, 10:00 - A: one\r\ntwo\r\n13/01/24, 10:01 - B: three\r\n".encode())
    msgs, _ = parse(p)
    assert [m.text for m in msgs] == ["one\ntwo", "three"]


PHONE = "\u202a+49 151 23456789\u202c"  # how WhatsApp writes a number that is not in the contacts
CLEAN = (
    f"13/01/24, 10:00 - {PHONE}: Party tonight 🎉\n"
    "13/01/24, 10:01 - Alice: café? ok\n"
    f"13/01/24, 10:02 - {PHONE}: sure 🎉\n"
).encode()


def test_one_bad_byte_is_replaced_and_the_rest_is_read_as_utf8(tmp_path, data_dir):
    damaged = tmp_path / "WhatsApp Chat with Party.txt"
    damaged.write_bytes(CLEAN.replace("sure 🎉".encode(), "sure 🎉".encode()[:-1]))  # a cut emoji
    msgs, report = parse(damaged)
    assert [(m.speaker_name, m.text) for m in msgs] == [
        ("+49 151 23456789", "Party tonight 🎉"),
        ("Alice", "café? ok"),
        ("+49 151 23456789", "sure \ufffd"),
    ]
    bad_at = CLEAN.index("sure 🎉".encode()) + 5
    assert report.warnings == [
        f"{damaged}: 1 byte sequence that is not UTF-8 (first at byte {bad_at}) replaced with \ufffd; "
        "the rest read as UTF-8"
    ]
    first = import_paths("party", [damaged])
    assert first.messages_added == 3 and sorted(first.speakers) == ["+49 151 23456789", "Alice"]
    clean = tmp_path / "clean" / damaged.name
    clean.parent.mkdir()
    clean.write_bytes(CLEAN)
    again = import_paths("party", [clean])
    assert again.messages_added == 1  # the repaired message; not the whole chat again under new names
    assert sorted(again.speakers) == ["+49 151 23456789", "Alice"]


def test_a_file_that_is_not_utf8_as_a_whole_is_read_as_cp1252(tmp_path):
    p = tmp_path / "WhatsApp Chat with Jürgen.txt"
    p.write_bytes("13/01/24, 10:00 - Jürgen: Grüße aus München, schönes Wochenende\n".encode("cp1252"))
    msgs, report = parse(p)
    assert [(m.speaker_name, m.text) for m in msgs] == [("Jürgen", "Grüße aus München, schönes Wochenende")]
    assert report.warnings == [f"{p}: not UTF-8 (first bad byte at offset 19); read as cp1252"]


def make_zip(tmp_path: Path, zip_name: str, member: str, source: Path) -> Path:
    z = tmp_path / zip_name
    with zipfile.ZipFile(z, "w") as zf:
        zf.write(source, member)
        zf.writestr("00000042-PHOTO-2023-12-02-12-30-00.jpg", b"\xff\xd8\xff")
    return z


def test_zip_with_ios_chat_txt(tmp_path):
    z = make_zip(tmp_path, "WhatsApp Chat - Family.zip", "_chat.txt", FAMILY)
    assert detect(z) is whatsapp
    msgs, _ = parse(z)
    assert [m.speaker_name for m in msgs] == ["Mom", "Dad", "Kim"]
    assert {m.conversation for m in msgs} == {"Family"}


def test_zip_with_android_named_member(tmp_path):
    z = make_zip(tmp_path, "export (1).zip", "WhatsApp Chat with Alice.txt", ALICE)
    assert detect(z) is whatsapp
    msgs, _ = parse(z)
    assert {m.conversation for m in msgs} == {"Alice"}
    assert len(msgs) == 4


def test_zip_without_a_chat_is_an_error(tmp_path):
    z = tmp_path / "photos.zip"
    with zipfile.ZipFile(z, "w") as zf:
        zf.writestr("a.jpg", b"x")
        zf.writestr("b.jpg", b"y")
    with pytest.raises(ChatImportError) as exc:
        parse(z)
    assert str(z) in str(exc.value)


def test_reimport_through_the_service_adds_nothing_twice(data_dir, tmp_path):
    z = make_zip(tmp_path, "WhatsApp Chat - Family.zip", "_chat.txt", FAMILY)
    first = import_paths("friends", [ALICE, z])
    assert first.messages_added == 7
    assert first.skipped["deleted"] == 2 and first.skipped["media-only"] == 4
    assert [f.format for f in first.files] == [whatsapp.label, whatsapp.label]
    again = import_paths("friends", [ALICE, FAMILY, z])  # the unzipped folder holds the same chat
    assert again.messages_added == 0
    assert again.messages_total == 7


# -- detection --------------------------------------------------------------------------------------
@pytest.mark.parametrize("path", sorted(p for p in FIXTURES.rglob("*.txt")), ids=lambda p: p.name)
def test_fixtures_are_detected_as_whatsapp(path):
    assert detect(path) is whatsapp


def test_plain_transcript_is_not_taken_for_whatsapp(tmp_path):
    p = tmp_path / "chat.txt"
    p.write_text("Alice: 10:05 - not a date\nBob Smith: 01/12/24 is a date though\nAlice: ok\n")
    assert not whatsapp.sniff(p, p.read_bytes())
    assert detect(p) is transcript


# -- robustness -------------------------------------------------------------------------------------
FUZZ = settings(settings.get_profile("importers"))  # registered in conftest.py
SEEDS = [ALICE.read_bytes(), FAMILY.read_bytes(), (FIXTURES / "WhatsApp Chat with Ana.txt").read_bytes()]
PIECES = [b"\n", b"/", b".", b":", b": ", b" - ", b"[", b"]", b"\xe2\x80\x8e", b"\xe2\x80\xaf", b"PM", b"99", b"<", b">", b"\x00", b"\xff"]


@FUZZ
@given(st.binary(max_size=600))
def test_arbitrary_bytes_give_messages_or_import_error(tmp_path, never_crashes, data):
    p = tmp_path / "fuzz.txt"
    p.write_bytes(data)
    never_crashes(whatsapp, p)


@FUZZ
@given(st.data())
def test_mutated_exports_give_messages_or_import_error(tmp_path, never_crashes, mutated, data):
    p = tmp_path / "mutated.txt"
    p.write_bytes(data.draw(mutated(SEEDS, PIECES)))
    never_crashes(whatsapp, p)


@FUZZ
@given(st.binary(max_size=300))
def test_zip_holding_arbitrary_bytes(tmp_path, never_crashes, data):
    z = tmp_path / "WhatsApp Chat with X.zip"
    with zipfile.ZipFile(z, "w") as zf:
        zf.writestr("_chat.txt", data)
    never_crashes(whatsapp, z)


def test_truncated_zip_is_an_import_error(tmp_path, never_crashes):
    z = make_zip(tmp_path, "WhatsApp Chat - Family.zip", "_chat.txt", FAMILY)
    data = z.read_bytes()
    rng = random.Random(1)
    for cut in sorted(rng.sample(range(1, len(data)), 10)):
        z.write_bytes(data[:cut])
        never_crashes(whatsapp, z)


def test_two_digit_years_written_first(tmp_path):
    korean = tmp_path / "ko.txt"
    korean.write_text("24. 1. 30. 오후 10:05 - 민지: 안녕\n24. 2. 1. 오전 9:05 - 서준: 응\n", encoding="utf-8")
    msgs, report = parse(korean)
    assert rows(msgs) == [("민지", "2024-01-30 22:05:00", "안녕"), ("서준", "2024-02-01 09:05:00", "응")]
    assert not report.warnings
    # '24/01/30' also reads as the 24th of January 2030; only year first makes the file run forward
    slashes = tmp_path / "yy.txt"
    lines = [f"24/{m:02d}/{d:02d} 10:0{i % 10} - {'Ann' if i % 2 else 'Bo'}: line {i}"
             for i, (m, d) in enumerate([(1, 20), (1, 30), (2, 3), (2, 17), (3, 1), (3, 2)])]
    slashes.write_text("\n".join(lines) + "\n", encoding="utf-8")
    msgs, report = parse(slashes)
    assert [when(m.timestamp)[:10] for m in msgs] == [
        "2024-01-20", "2024-01-30", "2024-02-03", "2024-02-17", "2024-03-01", "2024-03-02"]
    assert any("year/month/day" in w for w in report.warnings)


def test_two_digit_year_first_within_one_month(tmp_path):
    p = tmp_path / "yy.txt"
    p.write_text("".join(f"24/01/{d:02d} 10:00 - Ann: day {d}\n" for d in (12, 14, 20, 21)), encoding="utf-8")
    msgs, report = parse(p)
    assert [when(m.timestamp)[:10] for m in msgs] == ["2024-01-12", "2024-01-14", "2024-01-20", "2024-01-21"]
    assert any("year/month/day" in w for w in report.warnings)
    # the 24th of several months, day first, stays day first
    q = tmp_path / "dmy.txt"
    q.write_text("".join(f"24/{m:02d}/23 10:00 - Ann: month {m}\n" for m in (1, 2, 3)), encoding="utf-8")
    msgs, _ = parse(q)
    assert [when(m.timestamp)[:10] for m in msgs] == ["2023-01-24", "2023-02-24", "2023-03-24"]
