"""`friendsim-tui train` and `friendsim-tui runs` from the command line."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from friendsim_tui import cli

TINY = "scratch:tiny,n_layer=2,n_embd=64,n_head=2,vocab=512"
QUICK = ["--base", TINY, "--block-size", "64", "--batch-size", "4", "--grad-accum", "1", "--max-steps", "3",
         "--save-steps", "2", "--eval-steps", "3", "--sample-steps", "3", "--precision", "fp32"]


def run(capsys, *argv):
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def crew(data_dir, transcript):
    lines = ["Alice: are we still on for saturday?", "Bob Smith: yes\nbring snacks", "Carol: i'll drive",
             "Alice: see you at 8", "Bob Smith: ok: cool"]
    for i in range(3):
        transcript("\n".join(lines * 30) + "\n", name=f"chat{i}.txt")
    code = cli.main(["import", str(transcript("Alice: hi\n", name="chat3.txt").parent), "-w", "crew"])
    assert code == 0
    return "crew"


def test_help_does_not_import_torch():
    """The real entry point, traced with -X importtime: `train --help` and `runs --help` load no torch stack."""
    for sub in ("train", "runs"):
        done = subprocess.run([sys.executable, "-X", "importtime", "-m", "friendsim_tui", sub, "--help"],
                              capture_output=True, text=True, check=True)
        assert "--workspace" in done.stdout
        loaded = {line.rsplit("|", 1)[-1].strip().split(".")[0] for line in done.stderr.splitlines()}
        assert not loaded & {"torch", "transformers", "peft", "accelerate", "numpy"}, sub


def test_train_then_runs_json_then_train_from_the_output(capsys, crew, data_dir):
    pytest.importorskip("torch")
    capsys.readouterr()
    code, out, err = run(capsys, "--data-dir", str(data_dir), "train", "-w", crew, "--run", "first", *QUICK)
    assert code == 0, err
    model = data_dir / "workspaces" / crew / "runs" / "first" / "model"
    assert out.strip() == str(model)
    assert "step 3/3" in err and "eval at step 3" in err and "done:" in err

    code, out, _ = run(capsys, "runs", "-w", crew, "--json")
    (r,) = json.loads(out)
    assert {k: r[k] for k in ("name", "status", "step", "max_steps", "path")} == {
        "name": "first", "status": "done", "step": 3, "max_steps": 3, "path": str(model)}
    assert r["events"].endswith("first/events.jsonl")
    code, out, _ = run(capsys, "runs", "-w", crew)
    assert code == 0 and "first" in out and "done" in out

    # the finished model folder is itself a base (local folder), here with LoRA
    code, out, err = run(capsys, "train", "-w", crew, "--run", "second", "--base", str(model), "--lora",
                         *QUICK[2:])
    assert code == 0, err
    events = [json.loads(x) for x in (model.parent.parent / "second" / "events.jsonl").read_text().splitlines()]
    assert events[0]["lora"] is True and events[0]["base"] == str(model)

    code, _, err = run(capsys, "train", "-w", crew, "--run", "first", *QUICK)
    assert code == 1 and "already exists" in err and err.count("\n") == 1  # refused before any work


def test_clear_one_line_errors(capsys, crew, data_dir):
    from friendsim_tui.store import Store

    Store.for_workspace("empty", create=True).close()
    cases = [
        (["train", "-w", "empty", *QUICK], "no messages to train on"),
        (["train", "-w", "ghost", *QUICK], "no workspace named 'ghost'"),
        (["train", "-w", crew, "--base", "gpt5"], "unknown base 'gpt5'"),
        (["train", "-w", crew, *QUICK, "--block-size", "65536"], "smaller than one block"),
        (["train", "-w", crew, "--resume"], "--resume needs --run"),
        (["train", "-w", crew, "--run", "nope", "--resume"], "no run named 'nope'"),
        (["train", "-w", crew, "--max-steps", "-1"], "max_steps = -1: must be >= 0"),
    ]
    for argv, message in cases:
        code, out, err = run(capsys, *argv)
        assert code in (1, 2), argv
        last = err.strip().splitlines()[-1]  # (a progress line may come before)
        assert message in last and last.startswith("friendsim-tui: ") and "Traceback" not in err, (argv, err)


def test_offline_hub_fails_fast_with_the_offline_choices(capsys, crew, monkeypatch, tmp_path):
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    code, _, err = run(capsys, "train", "-w", crew, "--base", "gpt2")
    assert code == 1 and "Offline choices: scratch:tiny" in err.strip().splitlines()[-1]


def test_list_bases_prints_the_catalog(capsys):
    code, out, _ = run(capsys, "train", "--list-bases")
    assert code == 0 and "gpt2-xl" in out and "scratch:tiny" in out and "GiB" in out


def test_resuming_a_run_whose_run_json_is_damaged_names_the_file(capsys, crew, data_dir):
    folder = data_dir / "workspaces" / crew / "runs" / "broken"
    folder.mkdir(parents=True)
    (folder / "run.json").write_text('{"status": "stopped", "config": {"base"')
    capsys.readouterr()
    code, out, err = run(capsys, "train", "-w", crew, "--run", "broken", "--resume")
    assert code == 1 and out == "" and err.count("\n") == 1, err
    assert err.startswith(f"friendsim-tui: {folder / 'run.json'} is damaged") and "JSONDecodeError" not in err
    assert sorted(p.name for p in folder.iterdir()) == ["run.json"]  # nothing else touched


def test_every_training_option_is_a_train_flag_that_sets_exactly_its_setting(capsys, monkeypatch, data_dir):
    """One definition (TrainConfig.OPTIONS): each option is a `train` flag with its help, and giving it changes
    that setting of the run's config and no other."""
    import dataclasses

    from friendsim_tui.config import TrainConfig
    from friendsim_tui.services import training

    monkeypatch.setenv("COLUMNS", "2000")  # argparse wraps help, at hyphens too
    with pytest.raises(SystemExit):
        cli.main(["train", "--help"])
    shown = " ".join(capsys.readouterr().out.split())
    defaults = TrainConfig()
    for name, option in TrainConfig.OPTIONS.items():
        assert option.flag in shown and " ".join(option.help.split()) in shown, name
        kind, default = TrainConfig.reader(name), getattr(defaults, name)
        if kind is bool:
            argv, value = [option.flag], True
        elif name in TrainConfig.CHOICES:
            value = TrainConfig.CHOICES[name][-1]
            argv = [option.flag, value]
        elif kind is str:
            argv, value = [option.flag, "distilgpt2"], "distilgpt2"
        else:
            value = default + (1 if kind is int else 0.25)
            argv = [option.flag, str(value)]
        got = []
        monkeypatch.setattr(training, "train_here", lambda ws, cfg, run, **kw: got.append(cfg) or _Stopped())
        code = cli.main(["train", "-w", "crew", *argv])
        assert code == training.EXIT_STOPPED, capsys.readouterr().err
        assert got == [dataclasses.replace(defaults, **{name: value})], name


class _Stopped:
    status = "stopped"
