"""Workspace names in any script (and emoji), and CLI columns that stay aligned when names hold wide
characters."""

from __future__ import annotations

import pytest
from rich.cells import cell_len

from friendsim_tui import cli, paths

def run(capsys, *argv):
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize("name", ["Émoji crew 🎉", "日本語の友達", "👩\u200d👩\u200d👧 family", "Zoë crew", "weekend-crew"])
def test_names_in_any_script_are_accepted(name, data_dir):
    assert paths.check_workspace_name(name) == name
    assert paths.workspace_dir(name).name == name


@pytest.mark.parametrize("name, why", [
    ("bad/name", "'/' cannot be in it"),
    ("back\\slash", "'\\\\' cannot be in it"),
    ("esc\x1bape", "'\\x1b' cannot be in it"),
    ("right\u202eleft", "'\\u202e' cannot be in it"),
    ("tab\there", "'\\t' cannot be in it"),
    (".hidden", "start it with a letter, a digit or an emoji"),
    (" lead", "start it with a letter, a digit or an emoji"),
    ("trail.", "cannot end with a space or '.'"),
    ("a..b", "'..' cannot be in it"),
    ("NUL", "Windows keeps that name for a device"),
    ("com1.txt", "Windows keeps that name for a device"),
    ("x" * 65, "at most 64 characters"),
    ("", "a workspace needs a name"),
])
def test_names_no_system_can_store_are_refused_saying_why(name, why):
    with pytest.raises(paths.WorkspaceNameError) as caught:
        paths.check_workspace_name(name)
    assert why in str(caught.value)


def test_a_name_is_kept_in_one_unicode_form():
    """'é' typed as e + a combining accent names the same folder as 'é' typed as one character."""
    assert paths.check_workspace_name("Cafe\u0301 crew") == "Caf\u00e9 crew"


def test_run_names_stay_ascii():
    from friendsim_tui.runs import RunNameError, check_run_name

    assert check_run_name("20261120-gpt2") == "20261120-gpt2"
    with pytest.raises(RunNameError):
        check_run_name("Émoji run")


def _column_ends(out: str, marker) -> set[int]:
    """The terminal cell where each line's number column ends (the number found by ``marker``)."""
    ends = set()
    for line in out.splitlines():
        number = marker(line)
        if number:
            ends.add(cell_len(line[: line.index(number) + len(number)]))
    return ends


def test_cli_columns_line_up_with_emoji_and_cjk_names(capsys, data_dir, transcript):
    p = transcript("Zoë 🎉: hi\n日本の友達: こんにちは\nBob: yo\nZoë 🎉: again\n")
    assert run(capsys, "import", str(p), "-w", "Émoji crew 🎉")[0] == 0
    run(capsys, "import", str(transcript("Al: hi\n", "other.txt")), "-w", "plain")

    def count(line: str) -> str:
        return next((w for w in line.split() if w.replace(",", "").isdigit()), "")

    code, out, _ = run(capsys, "speakers", "-w", "Émoji crew 🎉")
    assert code == 0 and len(out.splitlines()) == 3 and len(_column_ends(out, count)) == 1, out
    code, out, _ = run(capsys, "dataset", "-w", "Émoji crew 🎉")
    rows = "\n".join(out.splitlines()[1:])
    assert code == 0 and len(rows.splitlines()) == 3 and len(_column_ends(rows, count)) == 1, out
    code, out, _ = run(capsys, "workspaces")
    assert code == 0 and "Émoji crew 🎉" in out and len(_column_ends(out, count)) == 1, out
