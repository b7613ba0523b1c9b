from friendsim_tui.importers import detect
from friendsim_tui.importers.base import ChatImportError, ImportReport
from friendsim_tui.importers import transcript

import pytest
from hypothesis import given, settings, strategies as st


def parse(path):
    report = ImportReport(str(path))
    return list(transcript.parse(path, report)), report


def test_names_with_spaces_and_colons_in_text(tmp_path):
    p = tmp_path / "old.txt"
    p.write_text("Bob Smith: time: 10pm\nAlice: ok\nsee you\n\nAlice:   \n")
    msgs, report = parse(p)
    assert [(m.speaker_name, m.text) for m in msgs] == [("Bob Smith", "time: 10pm"), ("Alice", "ok\nsee you")]
    assert report.skipped["empty"] == 1
    assert msgs[0].timestamp < msgs[1].timestamp
    assert detect(p) is transcript


def test_ids_are_stable_across_reads(tmp_path):
    p = tmp_path / "t.txt"
    p.write_text("A: x\nA: x\nB: y\n")
    first, _ = parse(p)
    again, _ = parse(p)
    assert [m.source_id for m in first] == [m.source_id for m in again]
    assert len({m.source_id for m in first}) == 3


def test_cp1252_file_is_read_with_a_warning(tmp_path):
    p = tmp_path / "t.txt"
    p.write_bytes("Zoë: café\n".encode("cp1252"))
    msgs, report = parse(p)
    assert msgs[0].text == "café" and msgs[0].speaker_name == "Zoë"
    assert "cp1252" in report.warnings[0]


def test_urls_are_not_speakers(tmp_path):
    p = tmp_path / "t.txt"
    p.write_text("https://example.com: nope\n")
    with pytest.raises(ChatImportError):
        detect(p)


@settings(max_examples=150, deadline=None)
@given(st.binary(max_size=400))
def test_arbitrary_bytes_give_messages_or_import_error(tmp_path_factory, data):
    p = tmp_path_factory.mktemp("fuzz") / "x.txt"
    p.write_bytes(data)
    try:
        msgs, _ = parse(p)
    except ChatImportError:
        return
    assert all(m.text for m in msgs)


def test_json_is_not_a_transcript(tmp_path):
    p = tmp_path / "settings.json"
    p.write_text('{"name": "x", "value": 1}\n')
    with pytest.raises(ChatImportError, match="not a supported chat export"):
        detect(p)
