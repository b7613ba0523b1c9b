"""DiscordChatExporter CSV: every header and date style, csv edge cases, and the import end to end."""

from __future__ import annotations

import random
import threading
from datetime import datetime, timezone
from pathlib import Path

import pytest
from hypothesis import given, settings, strategies as st

from friendsim_tui import paths
from friendsim_tui.importers import _dce, detect, dce_csv
from friendsim_tui.importers.base import ChatImportError, ImportReport
from friendsim_tui.services import importing
from friendsim_tui.services.importing import import_paths
from friendsim_tui.store import Store

FIXTURES = Path(__file__).parent.parent / "fixtures" / "dce"
HEADER = "AuthorID,Author,Date,Content,Attachments,Reactions\n"


def row(*fields: str, delim: str = ",") -> str:
    return delim.join('"' + f.replace('"', '""') + '"' for f in fields) + "\n"


def write(tmp_path: Path, text: str, name: str = "Friends - general [111222333].csv", encoding="utf-8") -> Path:
    p = tmp_path / name
    p.write_bytes(text.encode(encoding))
    return p


def parse(path: Path):
    report = ImportReport(str(path))
    return list(dce_csv.parse(path, report)), report


def utc(*args) -> float:
    return datetime(*args, tzinfo=timezone.utc).timestamp()


def test_current_export_names_texts_times_and_skips():
    path = FIXTURES / "Friends - general [111222333].csv"
    assert detect(path) is dce_csv
    msgs, report = parse(path)
    assert [(m.speaker_name, m.text) for m in msgs] == [
        ("alice", "hey, anyone up?"),
        ("bob", 'yeah "barely"\nwhy'),
        ("Carol Smith", "pizza 🍕 at 8"),
        ("alice", "deal"),
    ]
    # bob#1234 loses its discriminator; new-style names are never cut
    assert msgs[0].speaker_key == "discord:100000000000000001"
    assert msgs[1].speaker_key == "discord:100000000000000002"
    assert msgs[0].timestamp == pytest.approx(utc(2023, 9, 23, 10, 15, 48, 379000))
    assert msgs[0].conversation == "111222333" and msgs[0].conversation_title == "Friends - general"
    assert report.skipped == {"system": 2, "media-only": 1, "empty": 1}
    assert report.read == 8 and report.kept == 4
    assert report.speakers == {"alice": 2, "bob": 1, "Carol Smith": 1}
    assert report.first_ts == msgs[0].timestamp and report.last_ts == msgs[-1].timestamp


def test_old_header_without_author_id_keys_speakers_by_raw_name(tmp_path):
    p = write(
        tmp_path,
        "Author,Date,Content,Attachments,Reactions\n"
        + row("bob#1234", "01-Jan-18 12:00 AM", "happy new year", "", "")
        + row("bob#1234", "01-Jan-18 12:05 PM", "still here", "", "🎉 (2)"),
        name="chat.csv",
    )
    msgs, _ = parse(p)
    assert [(m.speaker_key, m.speaker_name) for m in msgs] == [("bob#1234", "bob")] * 2
    assert msgs[0].timestamp == utc(2018, 1, 1, 0, 0)
    assert msgs[1].timestamp == utc(2018, 1, 1, 12, 5)
    assert msgs[0].conversation == "chat"


def test_bracketed_old_dates_are_read(tmp_path):
    p = write(tmp_path, HEADER + row("1", "ann", "[01-Jan-18 12:00 AM]", "hi", "", ""))
    assert parse(p)[0][0].timestamp == utc(2018, 1, 1)


def test_localized_dates_infer_day_first_from_a_later_row(tmp_path):
    rows = [row("1", "ann", f"0{d}/10/2023 21:0{d}", f"msg {d}", "", "") for d in range(1, 6)]
    rows.append(row("1", "ann", "25/10/2023 21:00", "settles it", "", ""))
    msgs, report = parse(write(tmp_path, HEADER + "".join(rows)))
    assert msgs[0].timestamp == utc(2023, 10, 1, 21, 1)  # 1 October, not 10 January
    assert msgs[-1].timestamp == utc(2023, 10, 25, 21, 0)
    assert not report.warnings


def test_us_localized_dates_with_am_pm(tmp_path):
    p = write(tmp_path, HEADER + row("1", "ann", "10/6/2023 12:37 AM", "late", "", "") + row("1", "ann", "10/13/2023 1:05 PM", "x", "", ""))
    msgs, report = parse(p)
    assert [m.timestamp for m in msgs] == [utc(2023, 10, 6, 0, 37), utc(2023, 10, 13, 13, 5)]


def test_ambiguous_localized_dates_are_read_and_reported(tmp_path):
    msgs, report = parse(write(tmp_path, HEADER + row("1", "ann", "10/6/2023 12:37 AM", "x", "", "")))
    assert msgs[0].timestamp == utc(2023, 10, 6, 0, 37)
    assert any("ambiguous" in w for w in report.warnings)


def test_bom_semicolons_and_excel_quoting(tmp_path):
    text = "\ufeffAuthorID;Author;Date;Content;Attachments;Reactions\n"
    text += '123;ann;2023-09-23T13:15:48.3790000+03:00;"one; two";;\n'
    text += '123;ann;2023-09-23T13:16:00.0000000+03:00;plain;;\n'
    p = write(tmp_path, text)
    assert detect(p) is dce_csv
    msgs, _ = parse(p)
    assert [m.text for m in msgs] == ["one; two", "plain"]


def test_excel_mangled_ids_and_windows_line_ends(tmp_path):
    text = "AuthorID;Author;Date;Content;Attachments;Reactions\r\n"
    text += '1,00E+17;ann;23/09/2023 13:15;"two\r\nlines";;\r\n'
    text += "1,00E+17;bob;23/09/2023 13:16;hi;;\r\n"
    msgs, _ = parse(write(tmp_path, text))
    assert [(m.speaker_key, m.text) for m in msgs] == [("ann", "two\nlines"), ("bob", "hi")]
    assert msgs[0].timestamp == utc(2023, 9, 23, 13, 15)


def test_field_larger_than_csv_default_limit(tmp_path):
    big = "x" * 200_000  # the csv module refuses fields over 131,072 characters by default
    msgs, _ = parse(write(tmp_path, HEADER + row("1", "ann", "2023-09-23T13:15:48.3790000+03:00", big, "", "")))
    assert msgs[0].text == big


def test_unmatched_quote_is_reported_with_its_line_and_earlier_rows_kept(tmp_path):
    good = row("1", "ann", "2023-09-23T13:15:48.3790000+03:00", "first\nsecond line", "", "")
    broken = '"1","ann","2023-09-23T13:16:48.3790000+03:00","oops,"",""\n'
    msgs, report = parse(write(tmp_path, HEADER + good + broken))
    assert [m.text for m in msgs] == ["first\nsecond line"]
    assert report.skipped["unparseable"] == 1
    problem = report.problems[0]
    assert problem.where == "line 4" and "unmatched quote" in problem.detail
    assert str(problem).startswith(str(tmp_path))


def test_rows_after_a_damaged_row_are_still_read(tmp_path):
    text = HEADER + row("1", "ann", "2023-09-23T13:15:48.3790000+03:00", "a", "", "")
    text += '"1","ann","2023-09-23T13:16:48.3790000+03:00","bad"x,"",""\n'
    text += row("1", "ann", "not a date", "b", "", "")
    text += '"1","ann"\n'
    text += row("1", "ann", "2023-09-23T13:17:48.3790000+03:00", "c", "", "")
    text += row("", " ", "2023-09-23T13:18:48.3790000+03:00", "who said this?", "", "")
    msgs, report = parse(write(tmp_path, text))
    assert [m.text for m in msgs] == ["a", "c"]
    assert [p.where for p in report.problems] == ["line 3", "line 4", "line 5", "line 7"]
    assert report.problems[3].detail == "no author"
    assert "bad date" in report.problems[1].detail and "expected 6 fields" in report.problems[2].detail


def test_cp1252_file_is_read_with_a_warning(tmp_path):
    p = write(tmp_path, HEADER + row("1", "Zoë", "2023-09-23T13:15:48.3790000+03:00", "café “ok”", "", ""), encoding="cp1252")
    msgs, report = parse(p)
    assert (msgs[0].speaker_name, msgs[0].text) == ("Zoë", "café “ok”")
    assert "cp1252" in report.warnings[0] and "offset" in report.warnings[0]


def test_nul_bytes_are_an_import_error(tmp_path):
    p = tmp_path / "x.csv"
    p.write_bytes(HEADER.encode() + b"\x00\x01")
    with pytest.raises(ChatImportError, match="binary"):
        parse(p)


def test_ids_are_stable_and_duplicates_within_a_file_are_kept(tmp_path):
    same = row("1", "ann", "10/13/2023 1:05 PM", "lol", "", "")
    p = write(tmp_path, HEADER + same + same)
    first, _ = parse(p)
    again, _ = parse(p)
    assert [m.source_id for m in first] == [m.source_id for m in again]
    assert len({m.source_id for m in first}) == 2


def test_an_iso_row_pasted_twice_is_one_message(tmp_path, data_dir):
    same = row("1", "ann", "2023-09-23T13:15:48.3790000+03:00", "lol", "", "")
    later = row("1", "ann", "2023-09-23T13:16:48.3790000+03:00", "lol", "", "")
    p = write(tmp_path, HEADER + same + later + same)
    assert import_paths("w", [p]).messages_added == 2


def test_reimport_adds_nothing_twice(tmp_path, data_dir):
    path = FIXTURES / "Friends - general [111222333].csv"
    first = import_paths("w", [path])
    assert first.messages_added == 4 and first.skipped == {"system": 2, "media-only": 1, "empty": 1}
    again = import_paths("w", [path])
    assert again.messages_added == 0 and again.messages_total == 4
    with Store.for_workspace("w") as store:
        texts = [m[3] for m in store.iter_messages()]
    assert texts[1] == 'yeah "barely"\nwhy'


def test_ids_are_content_keys_on_every_date_path(tmp_path):
    # The parser computes ids inline; they must stay what _dce.ContentKeys gives, or re-importing an
    # export after an upgrade would add every message twice.
    dates = [
        "2023-09-23T13:15:48.3790000+03:00", "2023-09-23T13:15:48.3790000+03:00",  # one row pasted twice
        "2023-09-23T13:15:59.0000000+03:00", "2023-09-23T13:47:00.0000000+03:00",  # same minute, same hour
        "2023-09-23T14:02:00.5000000+03:00", "2023-09-23T14:02:00.5000000+02:00",  # next hour, another offset
        "10/13/2023 1:05 PM", "10/13/2023 1:05 PM",  # minute precision, twice
    ]
    authors = [("1", "ann"), ("1", "ann"), ("2", "bob#1234"), ("2", "bob#1234"), ("1", "ann"), ("3", "cy"),
               ("1", "ann"), ("1", "ann")]
    texts = ["hi", "hi", "café 😂", "x", "later", "later", "old style", "old style"]
    p = write(tmp_path, HEADER + "".join(row(a, n, d, t, "", "") for (a, n), d, t in zip(authors, dates, texts)))
    msgs, _ = parse(p)
    keys = _dce.ContentKeys("111222333")
    assert [m.source_id for m in msgs] == [keys(m.timestamp, d, m.speaker_key, m.text) for m, d in zip(msgs, dates)]
    assert msgs[1].source_id == msgs[0].source_id + ".1" and msgs[7].source_id == msgs[6].source_id + ".1"


def _dump(workspace: str) -> list[str]:
    with Store.for_workspace(workspace) as store:
        return list(store.conn.iterdump())


def test_an_import_into_a_new_workspace_leaves_its_schema_as_a_new_one_has(data_dir):
    with Store.for_workspace("empty", create=True) as store:
        schema = store.conn.execute("SELECT type, name, sql FROM sqlite_master ORDER BY name").fetchall()
    import_paths("w", [FIXTURES / "Friends - general [111222333].csv"])  # its indexes are built after the rows
    with Store.for_workspace("w") as store:
        assert store.conn.execute("SELECT type, name, sql FROM sqlite_master ORDER BY name").fetchall() == schema
        assert store.conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)


def test_a_failure_after_batches_were_inserted_leaves_the_workspace_as_it_was(tmp_path, data_dir, monkeypatch):
    import_paths("w", [FIXTURES / "Friends - general [111222333].csv"])
    before = _dump("w")
    rows = [row("1", "ann", f"2023-09-23T{i // 3600 % 24:02d}:{i // 60 % 60:02d}:{i % 60:02d}.0000000+00:00", f"m{i}", "", "")
            for i in range(45_000)]  # more than two insert batches
    big = write(tmp_path, HEADER + "".join(rows), name="big.csv")
    real = dce_csv.batches

    def fails_at_the_end(path, report, progress=None, size=20_000):
        yield from real(path, report, progress, size)
        raise ChatImportError(path, "disk on fire", "line 45002")

    monkeypatch.setattr(dce_csv, "batches", fails_at_the_end)
    with pytest.raises(ChatImportError, match="disk on fire"):
        import_paths("w", [big])
    with Store.for_workspace("w") as store:
        assert store.message_count() == 4 and len(store.imports()) == 1
    assert _dump("w") == before  # the indexes it had dropped for its rows too


def test_a_large_import_returns_before_its_checkpoint_which_a_thread_finishes(data_dir, monkeypatch):
    monkeypatch.setattr(importing, "BACKGROUND_CHECKPOINT", 1)
    assert import_paths("w", [FIXTURES / "Friends - general [111222333].csv"]).messages_added == 4
    for thread in threading.enumerate():
        if thread.name == "friendsim-checkpoint":
            thread.join()
    db = paths.workspace_dir("w") / "workspace.sqlite3"
    assert not Path(f"{db}-wal").exists()  # the last connection checkpointed and closed
    with Store.for_workspace("w") as store:
        assert store.message_count() == 4


def test_large_generated_file_imports_with_progress(tmp_path, data_dir):
    rng = random.Random(5)
    lines = [HEADER]
    for i in range(3000):
        lines.append(row(str(i % 7), f"user{i % 7}", f"2023-09-{1 + i // 1000:02d}T{i // 60 % 24:02d}:{i % 60:02d}:01.1230000+00:00",
                         "x" * rng.randint(1, 40) + ("\nmore" if i % 10 == 0 else ""), "", ""))
    p = write(tmp_path, "".join(lines))
    seen = []
    result = import_paths("w", [p], progress=lambda i, n, path, done, total: seen.append((done, total)))
    assert result.messages_added == 3000
    assert seen and seen[-1][0] == seen[-1][1] == p.stat().st_size


FUZZ = settings(settings.get_profile("importers"))  # registered in conftest.py
PIECES = [b'"', b",", b"\n", b"\r", b";", b"\xff", b"\x00", b"#1234", b"10/13/2023 1:05 PM", b"[01-Jan-18 12:00 AM]"]


@FUZZ
@given(st.binary(max_size=300))
def test_arbitrary_bytes_give_messages_or_import_error(tmp_path, never_crashes, data):
    p = tmp_path / "fuzz.csv"
    p.write_bytes(HEADER.encode() + data)
    never_crashes(dce_csv, p)


@FUZZ
@given(st.data())
def test_mutated_exports_give_messages_or_import_error(tmp_path, never_crashes, mutated, data):
    p = tmp_path / "mutated.csv"
    p.write_bytes(data.draw(mutated([(FIXTURES / "Friends - general [111222333].csv").read_bytes()], PIECES)))
    never_crashes(dce_csv, p)
