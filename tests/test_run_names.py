"""Run names are checked once (friendsim_tui.runs.check_run_name), before anything touches the disk."""

from __future__ import annotations

import pytest

from friendsim_tui import cli, runs
from friendsim_tui.config import TrainConfig
from friendsim_tui.services import training

BAD = ["../../../escaped", "a/b", "a\\b", "..", ".hidden", "tab\there", "new\nline", "", "x" * 65, "trailing.",
       "Zoë"]


def tree(root):
    return sorted(str(p.relative_to(root)) for p in root.rglob("*"))


@pytest.mark.parametrize("name", BAD)
def test_bad_names_are_refused_with_one_line(name):
    with pytest.raises(runs.RunNameError, match="invalid run name"):
        runs.check_run_name(name)


@pytest.mark.parametrize("name", ["20261120-143000-gpt2", "my run 2", "v1.5_lora", "A"])
def test_good_names_pass(name):
    assert runs.check_run_name(name) == name


def test_train_and_start_run_refuse_an_escaping_name_before_touching_the_disk(capsys, data_dir, tmp_path):
    data_dir.mkdir()
    before = tree(tmp_path)
    code = cli.main(["--data-dir", str(data_dir), "train", "-w", "crew", "--run", "../../../escaped"])
    out, err = capsys.readouterr()
    assert code == 2 and out == "" and err.count("\n") == 1
    assert err.startswith("friendsim-tui: invalid run name '../../../escaped'")
    with pytest.raises(training.TrainingFailed, match="invalid run name"):
        training.start_run("crew", TrainConfig(), run="../../../escaped", data_dir=data_dir)
    with pytest.raises(training.TrainingFailed, match="invalid run name"):
        training.request_stop("crew", "../escaped")
    assert tree(tmp_path) == before
