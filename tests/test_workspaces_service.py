"""The workspaces service: the one way the CLI and the app list and change a workspace's speakers."""

from __future__ import annotations

import pytest

from friendsim_tui import cli, paths
from friendsim_tui.services import importing, workspaces
from friendsim_tui.store import StoreError


@pytest.fixture
def crew(data_dir, transcript):
    importing.import_paths("crew", [transcript("Alice: hi\nBob: hey\nBob: you there?\nCarol: yo\n")])
    return "crew"


def names(workspace: str) -> dict[str, tuple[int, bool]]:
    return {s.name: (s.messages, s.excluded) for s in workspaces.speakers(workspace)}


def test_rename_merge_exclude_and_include_by_name_or_id(crew):
    workspaces.rename_speaker(crew, "alice", "Alicia")  # a name as typed, any case
    assert names(crew) == {"Alicia": (1, False), "Bob": (2, False), "Carol": (1, False)}
    bob = workspaces.find_speaker(crew, "bob").id
    assert workspaces.merge_speakers(crew, "Carol", bob) == bob
    assert names(crew) == {"Alicia": (1, False), "Bob": (3, False)}
    assert set(workspaces.find_speaker(crew, "Carol").aliases) == {"Bob", "Carol"}  # found by its alias
    workspaces.set_excluded(crew, "Alicia", True)
    assert names(crew)["Alicia"] == (1, True)
    workspaces.set_excluded(crew, workspaces.find_speaker(crew, "Alicia").id, False)
    assert names(crew)["Alicia"] == (1, False)


def test_an_unknown_speaker_or_workspace_is_a_one_line_error(crew):
    with pytest.raises(StoreError, match="no speaker named 'Zed' in crew"):
        workspaces.rename_speaker(crew, "Zed", "Z")
    with pytest.raises(StoreError, match="no workspace named 'ghost'"):
        workspaces.speakers("ghost")
    assert not workspaces.workspace_exists("ghost") and not workspaces.workspace_exists("../x")


def test_list_workspaces(crew):
    (entry,) = workspaces.list_workspaces()
    assert (entry["name"], entry["messages"], entry["speakers"]) == ("crew", 4, 3)


def test_cli_speakers_checks_every_name_before_changing_anything(crew, capsys):
    code = cli.main(["speakers", "-w", crew, "--rename", "Alice", "Alicia", "--exclude", "Zed"])
    _, err = capsys.readouterr()
    assert code == 1 and err.strip().splitlines() == [
        "friendsim-tui: no speaker named 'Zed' in crew (see `friendsim-tui speakers -w crew`)"
    ]
    assert "Alice" in names(crew)


def test_cli_speakers_with_a_bad_workspace_name_is_one_line(data_dir, capsys):
    assert cli.main(["speakers", "-w", "../etc"]) == 2
    _, err = capsys.readouterr()
    assert len(err.strip().splitlines()) == 1 and "invalid workspace name" in err


def test_cli_speakers_of_a_damaged_workspace_is_one_line_that_says_so(crew, capsys):
    bad = paths.workspaces_dir() / "bad"
    bad.mkdir()
    (bad / "workspace.sqlite3").write_bytes(b"this is not a database" * 100)
    assert cli.main(["speakers", "-w", "bad"]) == 1
    _, err = capsys.readouterr()
    assert err.count("\n") == 1 and "unexpected" not in err
    assert f"{bad / 'workspace.sqlite3'} cannot be read (file is not a database); move it aside" in err
    (entry,) = [w for w in workspaces.list_workspaces() if w["name"] == "bad"]
    assert entry["error"] == f"{bad / 'workspace.sqlite3'}: cannot be read (file is not a database)"
