"""`friendsim-tui eval`: a run's held-out figures from the command line, on runs made by the real training path."""

from __future__ import annotations

import json
import os
import shutil
import stat

import pytest

from friendsim_tui import cli

pytest.importorskip("torch")

TINY = "scratch:tiny,n_layer=2,n_embd=64,n_head=2,vocab=512"
QUICK = ["--base", TINY, "--block-size", "64", "--batch-size", "4", "--grad-accum", "1", "--max-steps", "4",
         "--save-steps", "2", "--eval-steps", "4", "--sample-steps", "4", "--precision", "fp32"]
KEYS = ["run", "step", "eval_loss", "perplexity", "attribution_accuracy", "attribution_baseline", "confusion",
        "speakers", "verbatim_rate", "distinct_2", "samples", "seconds"]  # the list, in its order
LINES = {
    "Alice": ["are we still on for saturday?", "see you at 8", "i'll bring the big speaker and the cables too"],
    "Bob Smith": ["yes\nbring snacks", "ok: cool", "the car is full of camping stuff already"],
    "Carol": ["i'll drive", "who has the tent", "remember the last time we forgot the tent"],
}


def run(capsys, *argv):
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture(autouse=True)
def _one_thread():
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def make_workspace(home, name: str, speakers: list[str], files: int, repeat: int, *, steps: int = 4) -> str:
    """Import ``files`` transcripts (one session each; the newest is held out) and train a tiny run 'first'."""
    chats = home.parent / f"{name}-chats"
    chats.mkdir(parents=True)
    for f in range(files):
        lines = [f"{s}: {t}" for i in range(repeat) for s in speakers for t in LINES[s][i % 3:i % 3 + 1]]
        (chats / f"{f}.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert cli.main(["--data-dir", str(home), "import", *sorted(map(str, chats.iterdir())), "-w", name]) == 0
    assert cli.main(["--data-dir", str(home), "train", "-w", name, "--run", "first", *QUICK]) == 0
    return name


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A home with a three-speaker workspace 'crew' (five sessions, one held out) and its finished
    4-step run 'first' (checkpoint at step 2), trained once for the module."""
    from friendsim_tui import paths

    home = tmp_path_factory.mktemp("eval-cli") / "home"
    make_workspace(home, "crew", list(LINES), files=5, repeat=40)
    paths.set_data_dir(None)
    return home


@pytest.fixture
def crew(trained, data_dir, capsys):
    """This test's own copy of the trained home; the run folder of 'crew'/'first'."""
    shutil.copytree(trained, data_dir)
    capsys.readouterr()
    return data_dir / "workspaces" / "crew" / "runs" / "first"


def written(folder) -> dict:
    """What eval may write in a run folder, as (name: (size, mtime)): the figures, the index, temporary folders."""
    found = [folder / "eval.json", folder / "verbatim.npy", *folder.glob(".tmp-eval-*")]
    return {p.name: (p.stat().st_size, p.stat().st_mtime_ns) for p in found if p.exists()}


def test_eval_json_has_exactly_the_figures_and_saves_them_privately(capsys, crew):
    code, out, err = run(capsys, "eval", "-w", "crew", "--json", "--samples", "10")
    assert code == 0, err
    figures = json.loads(out)
    assert list(figures) == KEYS
    assert figures["run"] == "first" and figures["step"] == 4
    assert figures["eval_loss"] > 0 and figures["perplexity"] > 1
    assert set(figures["speakers"]) == set(LINES)
    for s in figures["speakers"].values():
        assert set(s) == {"turns", "eval_loss", "perplexity", "attribution"}
        assert s["turns"] > 0 and s["eval_loss"] > 0
    scored = sum(n for row in figures["confusion"].values() for n in row.values())
    assert scored > 0 and 0 <= figures["attribution_accuracy"] <= 1
    assert 0.33 <= figures["attribution_baseline"] <= 1  # three speakers: at least a third each
    assert figures["samples"] == 10 and 0 <= figures["verbatim_rate"] <= 1
    assert figures["distinct_2"] is None or 0 < figures["distinct_2"] <= 1
    assert err == ""

    saved = json.loads((crew / "eval.json").read_text())
    assert {k: saved[k] for k in KEYS if k != "seconds"} == {k: figures[k] for k in KEYS if k != "seconds"}
    assert saved["source"] == "model" and saved["notes"] == []
    for name in ("eval.json", "verbatim.npy"):
        assert stat.S_IMODE(os.stat(crew / name).st_mode) == 0o600
    index = (crew / "verbatim.npy").read_bytes().lower()
    assert b"camping" not in index and b"saturday" not in index
    assert not list(crew.glob(".tmp-eval-*"))

    # the readable table: the same figures, one speaker a line, and the confusion table
    code, out, err = run(capsys, "eval", "-w", "crew", "--run", "first", "--samples", "0")
    assert code == 0, err
    assert "run first at step 4" in out and "speaker attribution" in out and "eval loss" in out
    assert "verbatim" not in out  # --samples 0 skips sampling
    for name in LINES:
        assert any(line.startswith(name) for line in out.splitlines())
    assert "whose voice the model heard" in out


def test_verbatim_rate_counts_sampled_copies_of_training_messages(capsys, crew, monkeypatch):
    """A model that only ever repeats a training message scores 100%; one that writes new words scores 0%."""
    from friendsim_tui.engine import sampler
    from friendsim_tui.turns import Turn

    def parrot(self, history, player, n=None, settings=None, force_speaker=None, **kw):
        return [Turn(force_speaker, f"The car is full of CAMPING stuff already{'!' * i}") for i in range(n)]

    monkeypatch.setattr(sampler.Sampler, "candidates", parrot)
    code, out, err = run(capsys, "eval", "-w", "crew", "--json", "--samples", "12")
    figures = json.loads(out)
    assert code == 0 and figures["samples"] == 12 and figures["verbatim_rate"] == 1.0, err
    assert figures["distinct_2"] == pytest.approx(6 / 72, abs=1e-4)  # rounded to 4 places

    def fresh(self, history, player, n=None, settings=None, force_speaker=None, **kw):
        return [Turn(force_speaker, f"purple elephants dance quietly {i} times") for i in range(n)]

    monkeypatch.setattr(sampler.Sampler, "candidates", fresh)
    code, out, err = run(capsys, "eval", "-w", "crew", "--json", "--samples", "12")
    assert code == 0 and json.loads(out)["verbatim_rate"] == 0.0, err


def test_a_run_still_training_is_evaluated_from_its_newest_checkpoint(capsys, crew):
    import psutil

    shutil.rmtree(crew / "model")  # as it is before the run's end
    (crew / "lock").write_text(json.dumps({"pid": os.getpid(), "create_time": psutil.Process().create_time()}))
    try:
        code, out, err = run(capsys, "eval", "-w", "crew", "--json", "--samples", "5")
    finally:
        (crew / "lock").unlink()
    assert code == 0, err
    figures = json.loads(out)
    assert list(figures) == KEYS and figures["step"] == 2 and figures["eval_loss"] > 0  # saved at step 2 of 4
    assert err.startswith("note: run 'first' is still training: evaluated its newest checkpoint (step 2)")
    assert json.loads((crew / "eval.json").read_text())["source"] == "checkpoint"
    assert not list(crew.glob(".tmp-eval-*"))


def test_a_checkpoint_is_evaluated_with_its_own_weights(capsys, crew):
    """The figures from a checkpoint are those of the step-0 model with the checkpoint's weights loaded."""
    import numpy as np
    from safetensors.torch import load_file
    from transformers import AutoConfig, AutoModelForCausalLM, AutoTokenizer

    from friendsim_tui.engine.evaluate import evaluate_model
    from friendsim_tui.engine.text import ChatSpec

    shutil.rmtree(crew / "model")  # a stopped run: no model, checkpoints only
    code, out, err = run(capsys, "eval", "-w", "crew", "--run", "first", "--json", "--samples", "0")
    assert code == 0, err
    figures = json.loads(out)
    assert "evaluated its newest checkpoint (step 2)" in err

    model = AutoModelForCausalLM.from_config(AutoConfig.from_pretrained(crew / "init"))
    model.load_state_dict(load_file(str(crew / "checkpoints" / "step-00000002" / "model.safetensors")), strict=False)
    mine = evaluate_model(model.eval(), AutoTokenizer.from_pretrained(crew / "init"), ChatSpec.load(crew),
                          np.fromfile(crew / "data" / "eval.bin", dtype=np.uint32), block_size=64)
    for key in ("eval_loss", "attribution_accuracy", "confusion", "speakers"):
        assert figures[key] == mine[key], key


def test_the_training_loops_end_of_run_call_saves_what_eval_prints(capsys, crew):
    """engine.evaluate.end_of_run, for the training loop: the model in memory, the same figures and files."""
    import numpy as np
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from friendsim_tui.engine.evaluate import end_of_run
    from friendsim_tui.engine.text import ChatSpec

    model = AutoModelForCausalLM.from_pretrained(crew / "model").eval()
    data = {name: np.fromfile(crew / "data" / f"{name}.bin", dtype=np.uint32) for name in ("train", "eval")}
    result = end_of_run(crew, model, AutoTokenizer.from_pretrained(crew / "model"), ChatSpec.load(crew / "model"),
                        data["eval"], data["train"], model_dir=crew / "model", step=4, block_size=64, samples=5)
    assert list(result) == KEYS and result["samples"] == 5
    saved = json.loads((crew / "eval.json").read_text())
    assert saved == {**result, "source": "model", "notes": []}
    assert stat.S_IMODE(os.stat(crew / "verbatim.npy").st_mode) == 0o600

    code, out, err = run(capsys, "eval", "-w", "crew", "--json", "--samples", "0")
    assert code == 0, err
    printed = json.loads(out)
    for key in ("run", "step", "eval_loss", "perplexity", "attribution_accuracy", "confusion", "speakers"):
        assert printed[key] == result[key], key


def test_the_step_reported_is_the_one_whose_weights_the_model_holds(capsys, crew):
    """A run's model gets the weights of its step with the lowest eval loss, not always the last step's."""
    info = json.loads((crew / "run.json").read_text())
    info["best_step"] = 3
    (crew / "run.json").write_text(json.dumps(info))
    code, out, err = run(capsys, "eval", "-w", "crew", "--json", "--samples", "0")
    assert code == 0 and json.loads(out)["step"] == 3, err


def test_a_single_speaker_workspace_reports_all_but_attribution(capsys, data_dir):
    make_workspace(data_dir, "solo", ["Alice"], files=4, repeat=60)
    capsys.readouterr()
    code, out, err = run(capsys, "eval", "-w", "solo", "--json", "--samples", "5")
    assert code == 0, err
    figures = json.loads(out)
    assert list(figures) == KEYS
    assert figures["attribution_accuracy"] is None and figures["attribution_baseline"] is None
    assert figures["confusion"] == {} and figures["speakers"]["Alice"]["attribution"] is None
    assert figures["eval_loss"] > 0 and figures["samples"] == 5
    assert err.strip() == "note: speaker attribution needs two speakers; run 'first' knows only one"


def one_line_failure(capsys, argv, folder=None):
    before = written(folder) if folder is not None and folder.exists() else {}
    code, out, err = run(capsys, *argv)
    assert code == 1 and out == "" and err.count("\n") == 1 and err.startswith("friendsim-tui: "), (code, out, err)
    assert "Traceback" not in err and "unexpected error" not in err, err
    if folder is not None and folder.exists():
        assert written(folder) == before  # nothing written
    return err


def test_a_tiny_workspace_without_held_out_sessions_is_one_line(capsys, data_dir):
    make_workspace(data_dir, "tiny", list(LINES), files=1, repeat=20)
    capsys.readouterr()
    folder = data_dir / "workspaces" / "tiny" / "runs" / "first"
    assert (folder / "data" / "eval.bin").stat().st_size == 0
    err = one_line_failure(capsys, ["eval", "-w", "tiny"], folder)
    assert "no held-out sessions" in err and "import more chats" in err
    assert not written(folder)


def test_damaged_runs_and_missing_ones_are_one_line_and_nothing_written(capsys, crew):
    cases = [
        (["eval", "-w", "ghost"], "no workspace named 'ghost'"),
        (["eval", "-w", "crew", "--run", "nope"], "no run named 'nope'"),
        (["eval", "-w", "crew", "--run", "../x"], "invalid run name"),
        (["eval", "-w", "crew", "--samples", "-3"], "--samples must be between 0 and 10000"),
    ]
    for argv, message in cases:
        code, out, err = run(capsys, *argv)
        assert code in (1, 2) and message in err and err.count("\n") == 1, (argv, err)

    (crew / "data" / "eval.bin").rename(crew / "eval.bin.away")
    assert "data/eval.bin is missing" in one_line_failure(capsys, ["eval", "-w", "crew"], crew)
    (crew / "eval.bin.away").rename(crew / "data" / "eval.bin")

    weights = crew / "model" / "model.safetensors"
    good = weights.read_bytes()
    weights.write_bytes(good[: len(good) // 2])
    assert "is damaged" in one_line_failure(capsys, ["eval", "-w", "crew"], crew)
    weights.write_bytes(b"\0" * 64)
    assert "is damaged" in one_line_failure(capsys, ["eval", "-w", "crew"], crew)
    weights.write_bytes(good)

    (crew / "model" / "friendsim.json").write_text("{")
    assert "is damaged" in one_line_failure(capsys, ["eval", "-w", "crew"], crew)

    (crew / "model" / "friendsim.json").unlink()
    shutil.copyfile(crew / "friendsim.json", crew / "model" / "friendsim.json")
    info = (crew / "run.json").read_text()
    (crew / "run.json").write_text(info[: len(info) // 2])
    err = one_line_failure(capsys, ["eval", "-w", "crew", "--run", "first"], crew)
    assert "run.json" in err and "damaged" in err


def test_a_run_with_neither_model_nor_checkpoint_is_one_line(capsys, crew):
    shutil.rmtree(crew / "model")
    shutil.rmtree(crew / "checkpoints")
    err = one_line_failure(capsys, ["eval", "-w", "crew", "--run", "first"], crew)
    assert "no model and no complete checkpoint" in err
    err = one_line_failure(capsys, ["eval", "-w", "crew"], crew)
    assert "no trained run yet" in err


def test_eval_help_does_not_load_torch():
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-X", "importtime", "-m", "friendsim_tui", "eval", "--help"],
                          capture_output=True, text=True, check=True)
    assert "--samples" in done.stdout
    loaded = {line.rsplit("|", 1)[-1].strip().split(".")[0] for line in done.stderr.splitlines()}
    assert not loaded & {"torch", "transformers", "numpy"}
