import json
import subprocess
import sys

import pytest

from friendsim_tui import cli, paths


def run(capsys, *argv):
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_help_is_fast_and_does_not_import_heavy_packages():
    probe = (
        "import sys, contextlib, io\n"
        "from friendsim_tui import cli\n"
        "for argv in ([], ['import'], ['workspaces'], ['speakers'], ['dataset'], ['config']):\n"
        "    with contextlib.suppress(SystemExit), contextlib.redirect_stdout(io.StringIO()):\n"
        "        cli.main(argv + ['--help'])\n"
        "print(sorted(m for m in ('torch', 'transformers', 'textual') if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_import_json_summary_and_reimport(capsys, data_dir, transcript):
    p = transcript("Alice: hi there\nBob Smith: hey: what's up\nsecond line\nAlice: ok\n")
    code, out, _ = run(capsys, "--data-dir", str(data_dir), "import", str(p), "--workspace", "crew", "--json")
    assert code == 0
    summary = json.loads(out)
    assert summary["workspace"] == "crew"
    assert summary["messages_added"] == 3 and summary["messages_total"] == 3
    assert summary["speakers"] == {"Alice": 2, "Bob Smith": 1}
    assert summary["files"] == [{"path": str(p), "format": "Plain transcript (Name: text)", "read": 3, "kept": 3}]
    assert summary["skipped"] == {} and summary["warnings"] == []
    code, out, _ = run(capsys, "import", str(p), "--workspace", "crew", "--json")
    assert json.loads(out)["messages_added"] == 0

    code, out, _ = run(capsys, "workspaces", "--json")
    (ws,) = json.loads(out)
    assert ws["name"] == "crew" and ws["messages"] == 3 and ws["speakers"] == 2


def test_bad_file_fails_with_one_line_and_changes_nothing(capsys, data_dir, transcript, tmp_path):
    good = transcript("Alice: hi\n")
    assert run(capsys, "import", str(good), "-w", "crew")[0] == 0
    junk = tmp_path / "junk.bin"
    junk.write_bytes(bytes(range(256)) * 10)
    code, out, err = run(capsys, "import", str(good), str(junk), "-w", "crew", "--json")
    assert code != 0 and out == ""
    assert err.count("\n") == 1 and str(junk) in err
    code, out, _ = run(capsys, "workspaces", "--json")
    assert json.loads(out)[0]["messages"] == 1


def test_empty_and_missing_files(capsys, data_dir, tmp_path):
    empty = tmp_path / "empty.txt"
    empty.write_text("")
    code, _, err = run(capsys, "import", str(empty), "-w", "crew")
    assert code == 1 and "empty file" in err and str(empty) in err
    code, _, err = run(capsys, "import", str(tmp_path / "nope.csv"), "-w", "crew")
    assert code == 1 and "no such file" in err
    assert not paths.workspace_dir("crew").exists()


def test_speakers_rename_merge_and_exclude(capsys, data_dir, transcript):
    p = transcript("maya: hi\nMaya B: hello\nJonas: Well, hello.\n")
    run(capsys, "import", str(p), "-w", "crew")
    assert run(capsys, "speakers", "-w", "crew", "--rename", "Maya B", "maya")[0] == 0
    assert run(capsys, "speakers", "-w", "crew", "--exclude", "Jonas")[0] == 0
    code, out, _ = run(capsys, "speakers", "-w", "crew", "--json")
    speakers = {s["name"]: s for s in json.loads(out)}
    assert speakers["maya"]["messages"] == 2 and set(speakers["maya"]["aliases"]) == {"maya", "Maya B"}
    assert speakers["Jonas"]["excluded"] is True
    code, _, err = run(capsys, "speakers", "-w", "crew", "--exclude", "Nobody")
    assert code == 1 and "no speaker named 'Nobody'" in err
    code, out, _ = run(capsys, "dataset", "-w", "crew", "--json")
    assert set(json.loads(out)["speakers"]) == {"maya"}


def test_bad_config_is_reported(capsys, data_dir, tmp_path):
    cfg = tmp_path / "c.toml"
    cfg.write_text("[chat]\ncandidates = 'three'\n")
    code, _, err = run(capsys, "--config", str(cfg), "workspaces")
    assert code == 2 and str(cfg) in err and "candidates" in err


def test_invalid_workspace_name(capsys, data_dir, transcript):
    code, _, err = run(capsys, "import", str(transcript("A: b\n")), "-w", "../evil")
    assert code == 2 and "invalid workspace name" in err


def test_config_example(capsys, data_dir):
    code, out, _ = run(capsys, "config", "--example")
    assert code == 0 and "[chat]" in out


def test_config_path_prints_the_path_alone_and_config_says_whether_the_file_exists(capsys, data_dir, tmp_path):
    path = paths.config_file()
    assert run(capsys, "config", "--path") == (0, f"{path}\n", "")  # for scripts: `$EDITOR "$(... --path)"`
    assert run(capsys, "config") == (0, f"{path}  (not created yet; defaults in use)\n", "")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("[chat]\ncandidates = 3\n")
    assert run(capsys, "config", "--path") == (0, f"{path}\n", "")
    assert run(capsys, "config") == (0, f"{path}  (in use)\n", "")
    other = tmp_path / "other.toml"
    other.write_text("")
    assert run(capsys, "--config", str(other), "config", "--path") == (0, f"{other}\n", "")


def test_folder_import_skips_non_chat_files_with_a_warning(capsys, data_dir, tmp_path):
    export = tmp_path / "export"
    (export / "inbox" / "maya_123").mkdir(parents=True)
    (export / "inbox" / "maya_123" / "chat.txt").write_text("Maya: hi\nJonas: Well, hello.\n")
    (export / "autofill_information.json").write_text('{"autofill": []}')
    (export / "photo.jpg").write_bytes(b"\xff\xd8\xff")
    code, out, _ = run(capsys, "import", str(export), "-w", "crew", "--json")
    assert code == 0
    summary = json.loads(out)
    assert summary["messages_added"] == 2
    assert any("autofill_information.json" in w and "not a supported chat export" in w for w in summary["warnings"])
    assert any("photo.jpg" in w for w in summary["warnings"])
    # Named explicitly, the same non-chat file is an error.
    code, _, err = run(capsys, "import", str(export / "autofill_information.json"), "-w", "crew")
    assert code == 1 and "autofill_information.json" in err


def test_a_damaged_workspace_does_not_hide_the_others(capsys, data_dir, transcript):
    run(capsys, "import", str(transcript("A: hi\n")), "-w", "good")
    bad = paths.workspaces_dir() / "bad"
    bad.mkdir()
    (bad / "workspace.sqlite3").write_bytes(b"this is not a database" * 100)
    code, out, _ = run(capsys, "workspaces", "--json")
    items = {w["name"]: w for w in json.loads(out)}
    assert items["good"]["messages"] == 1 and "error" not in items["good"]
    assert "cannot be read" in items["bad"]["error"]
