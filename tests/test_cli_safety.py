"""What the command line shows a person: never a raw control character from their data, never a traceback,
and nothing at all when the reader of a pipe has gone."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys

import pytest

from friendsim_tui import cli, paths
from friendsim_tui.safe_text import inert, inert_lines

# Controls that act on a terminal: CSI colour, an OSC title/hyperlink ended by BEL, backspace, carriage
# return, a C1 CSI (U+009B) and a right-to-left override.
HOSTILE_NAME = "Eve\x1b[31m\x9b2J\u202e"
HOSTILE_TEXT = "hi \x1b]0;pwned\x07 there\x08\x08\rX \x9b31m red"
RAW = ["\x1b", "\x07", "\x08", "\r", "\x9b", "\u202e"]


def run(capsys, *argv):
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def assert_inert(text: str) -> None:
    assert not any(ch in text for ch in RAW), repr(text)


def test_the_rule_shows_every_control_and_keeps_the_characters():
    assert inert("a\x1b[0m\tb\nc\x7f\x85\u2028") == "a␛[0m␉b␊c\\u007f\\u0085\\u2028"
    assert inert_lines("a\x1b\tb\r\nc\rd") == "a␛\tb\nc␍d"
    assert inert("x" * 10, limit=5) == "xxxx…"


@pytest.fixture
def hostile_workspace(capsys, data_dir, tmp_path):
    chat = tmp_path / "chat.txt"
    chat.write_text(f"{HOSTILE_NAME}: {HOSTILE_TEXT}\nBob: ok\n{HOSTILE_NAME}: again\nBob: fine\n", encoding="utf-8")
    code, out, err = run(capsys, "import", str(chat), "-w", "crew")
    assert code == 0
    return out, err


def test_import_speakers_and_dataset_print_names_and_text_inertly(capsys, hostile_workspace):
    out, err = hostile_workspace
    assert "Eve␛[31m\\u009b2J\\u202e" in out
    assert_inert(out + err)
    for argv in (["speakers", "-w", "crew"], ["dataset", "-w", "crew"], ["workspaces"]):
        code, out, err = run(capsys, *argv)
        assert code == 0, err
        assert_inert(out + err)
    code, out, err = run(capsys, "speakers", "-w", "crew", "--rename", "nobody\x1b[2J", "x")
    assert code != 0 and "nobody" in err
    assert_inert(out + err)


def test_json_output_is_valid_has_no_raw_controls_and_decodes_to_the_exact_names(capsys, hostile_workspace):
    for argv in (["speakers", "-w", "crew", "--json"], ["dataset", "-w", "crew", "--json"]):
        code, out, err = run(capsys, *argv)
        assert code == 0
        assert_inert(out)
        assert "\u0085" not in out and "\x9b" not in out
        data = json.loads(out)
        names = [s["name"] for s in data] if isinstance(data, list) else list(data["speakers"])
        assert HOSTILE_NAME in names


def test_an_import_error_names_a_hostile_file_inertly(capsys, data_dir, tmp_path):
    junk = tmp_path / "notes\x1b]0;pwned\x07.txt"
    junk.write_bytes(b"\x00\x01\x02 not a chat")
    code, out, err = run(capsys, "import", str(junk), "-w", "crew")
    assert code != 0 and err.count("\n") == 1
    assert "notes␛]0;pwned␇.txt" in err
    assert_inert(err)


def test_an_unexpected_failure_is_one_line_naming_a_private_log(capsys, data_dir, monkeypatch):
    from friendsim_tui.services import importing

    def broken():
        raise RuntimeError("the disk answered in Klingon\nsecond line")

    monkeypatch.setattr(importing, "list_workspaces", broken, raising=False)
    monkeypatch.setitem(cli._COMMANDS, "workspaces", lambda args, config: broken())
    code, out, err = run(capsys, "workspaces")
    assert code == 1 and out == ""
    assert err.count("\n") == 1 and "Traceback" not in err
    assert "unexpected error (RuntimeError: the disk answered in Klingon)" in err
    log = paths.logs_dir() / err.split("the details are in ")[1].strip().rsplit("/", 1)[1]
    assert log.is_file() and stat.S_IMODE(log.stat().st_mode) == 0o600
    assert stat.S_IMODE(log.parent.stat().st_mode) == 0o700
    details = log.read_text(encoding="utf-8")
    assert "Traceback" in details and "Klingon" in details


def test_a_closed_pipe_ends_quietly(tmp_path):
    """``friendsim-tui config --example | head -c 10``: the reader is gone before we write."""
    read_end, write_end = os.pipe()
    os.close(read_end)  # nobody will ever read: every write fails with EPIPE
    proc = subprocess.run([sys.executable, "-m", "friendsim_tui", "--data-dir", str(tmp_path), "config", "--example"],
                          stdout=write_end, stderr=subprocess.PIPE, text=True, timeout=120)
    os.close(write_end)
    assert proc.stderr == ""
    assert proc.returncode == 141


def test_a_shared_data_folder_keeps_its_mode_and_what_we_create_is_private(capsys, tmp_path):
    shared = tmp_path / "shared"
    shared.mkdir()
    os.chmod(shared, 0o1777)
    chat = tmp_path / "chat.txt"
    chat.write_text("Alice: hi\nBob: hey\n", encoding="utf-8")
    try:
        code, out, err = run(capsys, "--data-dir", str(shared), "import", str(chat), "-w", "crew")
    finally:
        paths.set_data_dir(None)
    assert code == 0, err
    assert stat.S_IMODE(shared.stat().st_mode) == 0o1777
    for folder in (shared / "workspaces", shared / "workspaces" / "crew"):
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    db = shared / "workspaces" / "crew" / "workspace.sqlite3"
    assert stat.S_IMODE(db.stat().st_mode) == 0o600
