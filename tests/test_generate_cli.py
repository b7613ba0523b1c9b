"""`friendsim-tui generate`: candidates and conversations from a workspace's run, and its one-line errors."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytest.importorskip("torch")

from friendsim_tui import cli  # noqa: E402
from friendsim_tui.services import training  # noqa: E402

sys.path.insert(0, str(Path(__file__).parent / "engine"))
from test_sampler import NASTY, SPEAKERS, one_thread, tiny_model_dir  # noqa: E402,F401  (a shared fixture)

TRANSCRIPT = "".join(f"{s.split(':')[0]}: hello number {i}\n" for i, s in enumerate(SPEAKERS * 2)) + "Dave: hi\n"


@pytest.fixture(autouse=True)
def _threads():
    with one_thread():
        yield


@pytest.fixture
def workspace(data_dir, transcript, capsys, tiny_model_dir):
    """Workspace `crew` (speakers from a transcript, plus Dave who is not in the model) with one done run."""
    assert cli.main(["import", str(transcript(TRANSCRIPT)), "--workspace", "crew"]) == 0
    capsys.readouterr()
    add_run("crew", "20260101-000000-old", tiny_model_dir, "done", updated=time.time() - 100)
    add_run("crew", "20260102-000000-new", tiny_model_dir, "done", updated=time.time())
    add_run("crew", "20260103-000000-failed", None, "failed", updated=time.time() + 100)
    return "crew"


def add_run(workspace, name, model_dir, status, updated):
    folder = training.run_dir(workspace, name)
    folder.mkdir(parents=True)
    (folder / "run.json").write_text(json.dumps({"status": status, "updated": updated}))
    if model_dir is not None:
        shutil.copytree(model_dir, folder / "model")
    return folder


@pytest.fixture
def hot(tmp_path):
    """A settings file with lively sampling: the tiny model is too sure of itself at temperature 0.4."""
    p = tmp_path / "hot.toml"
    p.write_text("[chat]\ntemperature = 1.2\ntop_k = 0\nrepetition_penalty = 1.0\nmax_new_tokens = 12\n")
    return str(p)


def run(capsys, *argv):
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def write_history(tmp_path, rows, name="history.jsonl"):
    p = tmp_path / name
    p.write_text("".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in rows), encoding="utf-8")
    return p


def test_candidates_json(capsys, workspace, tmp_path, hot):
    hist = write_history(tmp_path, [{"speaker": "Alice", "text": NASTY}, {"speaker": "Bob Smith", "text": "hi"},
                                    "", {"speaker": "alice", "text": "anyone want pizza"}])
    code, out, err = run(capsys, "--config", hot, "generate", "-w", workspace, "--as", "Alice", "--history", str(hist),
                         "-n", "3", "--seed", "1", "--json")
    assert code == 0, err
    data = json.loads(out)
    assert out.count("\n") == 1
    assert data["run"] == "20260102-000000-new"  # the newest *completed* run
    assert len(data["candidates"]) == 3
    assert all(set(c) == {"speaker", "text", "verbatim"} and c["speaker"] != "Alice" and c["text"].strip()
               for c in data["candidates"])
    assert [c["verbatim"] for c in data["candidates"]] == [False] * 3  # no training data to have copied
    assert isinstance(data["sample_seconds"], float) and data["sample_seconds"] >= 0
    assert data["dropped_turns"] == 0


def test_a_history_longer_than_the_context_is_trimmed_and_said(capsys, workspace, tmp_path, hot):
    hist = write_history(tmp_path, [{"speaker": SPEAKERS[i % 3], "text": f"message number {i} " * 3}
                                    for i in range(200)])
    code, out, err = run(capsys, "--config", hot, "generate", "-w", workspace, "--as", "Alice", "--history", str(hist),
                         "-n", "2", "--seed", "5")
    assert code == 0, err
    assert len(out.splitlines()) == 2 and "oldest history turns were left out" in err


def test_candidates_text_output_and_named_run(capsys, workspace, hot):
    code, out, err = run(capsys, "--config", hot, "generate", "-w", workspace, "--run", "20260101-000000-old",
                         "--as", "Bob Smith", "-n", "2", "--seed", "2")
    assert code == 0, err
    lines = out.splitlines()
    assert len(lines) == 2 and lines[0].startswith("1. ") and "Bob Smith:" not in out
    assert "20260101-000000-old" in err
    # the default settings (temperature 0.4) on this overfitted model: fewer distinct lines, said so
    code, out, err = run(capsys, "generate", "-w", workspace, "--as", "Bob Smith", "-n", "5", "--seed", "2")
    assert code == 0 and 1 <= len(out.splitlines()) <= 5
    assert len(out.splitlines()) == 5 or "distinct candidates of 5" in err


def test_conversations_json(capsys, workspace, hot):
    code, out, err = run(capsys, "--config", hot, "generate", "-w", workspace, "--conversation",
                         "--prompt", "Carol: the third: hey all",
                         "--turns", "3", "-n", "2", "--seed", "3", "--json")
    assert code == 0, err
    data = json.loads(out)
    assert len(data["conversations"]) == 2
    for convo in data["conversations"]:
        assert convo[0] == {"speaker": "Carol: the third", "text": "hey all", "verbatim": False}
        assert 2 <= len(convo) <= 4 and all(t["speaker"] in SPEAKERS for t in convo)
    code, out, err = run(capsys, "generate", "-w", workspace, "--conversation", "--prompt", "so, pizza?",
                         "--turns", "2", "-n", "1", "--seed", "4")
    assert code == 0, err
    assert out.startswith("--- conversation 1\n") and ": so, pizza?\n" in out
    assert err.startswith("(1 conversation from run ")


def test_a_candidate_that_copies_a_training_message_is_marked_and_can_be_hidden(capsys, workspace, tmp_path):
    from friendsim_tui import runs
    from friendsim_tui.verbatim import VerbatimIndex

    warm = tmp_path / "warm.toml"
    warm.write_text("[chat]\ntemperature = 0.8\n")
    argv = ["generate", "-w", workspace, "--as", "Alice", "-n", "3", "--seed", "1"]
    code, out, err = run(capsys, "--config", str(warm), *argv, "--json")
    assert code == 0, err
    texts = [c["text"] for c in json.loads(out)["candidates"]]
    assert len(texts) == 3
    copied = texts[1]
    # the run's index (as training saves it) holds that candidate, as a friend might have written it
    folder = training.run_dir(workspace, "20260102-000000-new")
    VerbatimIndex.build(["something else entirely", copied.upper() + "!!"]).save(folder / runs.VERBATIM_INDEX)

    code, out, err = run(capsys, "--config", str(warm), *argv, "--json")
    assert code == 0, err
    cands = json.loads(out)["candidates"]
    assert [c["text"] for c in cands] == texts  # the same seed: the same candidates, now marked
    assert [c["verbatim"] for c in cands] == [False, True, False]
    code, out, err = run(capsys, "--config", str(warm), *argv)
    assert [line.endswith("(said before)") for line in out.splitlines()] == [False, True, False]

    hide = tmp_path / "hide.toml"
    hide.write_text(warm.read_text() + "hide_copies = true\n")
    code, out, err = run(capsys, "--config", str(hide), *argv, "--json")
    assert code == 0, err
    cands = json.loads(out)["candidates"]
    assert len(cands) == 3 and cands[0]["text"] == texts[0]
    assert copied not in [c["text"] for c in cands]  # refused, and another one drawn in its place
    assert not any(c["verbatim"] for c in cands)


def test_the_index_is_built_once_from_the_runs_training_data_and_holds_no_text(capsys, workspace, tiny_model_dir):
    import numpy as np
    from transformers import AutoTokenizer

    from friendsim_tui import runs
    from friendsim_tui.engine.text import ChatSpec, encode_turns
    from friendsim_tui.verbatim import VerbatimIndex
    from test_sampler import PAIRS

    folder = training.run_dir(workspace, "20260102-000000-new")
    tok = AutoTokenizer.from_pretrained(tiny_model_dir)
    ids = encode_turns(ChatSpec.load(tiny_model_dir), tok, PAIRS)
    (folder / "data").mkdir()
    np.array(ids, dtype=np.uint32).tofile(folder / "data" / "train.bin")
    path = folder / runs.VERBATIM_INDEX
    assert not path.exists()
    # the tiny model knows its training lines by heart: at the default temperature it says some of them again
    code, out, err = run(capsys, "generate", "-w", workspace, "--as", "Bob Smith", "-n", "5", "--seed", "2", "--json")
    assert code == 0, err
    assert path.is_file() and path.stat().st_mode & 0o777 == 0o600
    raw = path.read_bytes()
    assert b"coming" not in raw and b"pizza" not in raw
    index = VerbatimIndex.load(path)
    assert index.is_verbatim("Hey, are you coming TONIGHT?") and not index.is_verbatim("hey are you leaving tonight")
    cands = json.loads(out)["candidates"]
    assert any(c["verbatim"] for c in cands)
    assert [c["verbatim"] for c in cands] == [index.is_verbatim(c["text"]) for c in cands]
    before = path.stat().st_mtime_ns
    assert run(capsys, "generate", "-w", workspace, "--as", "Bob Smith", "-n", "1", "--seed", "3")[0] == 0
    assert path.stat().st_mtime_ns == before  # built once, then read


def one_line_error(capsys, *argv, code=1):
    got, out, err = run(capsys, *argv)
    assert got == code and out == ""
    assert err.startswith("friendsim-tui: ") and err.count("\n") == 1, err
    return err


def test_no_trained_run(capsys, data_dir, transcript):
    assert cli.main(["import", str(transcript(TRANSCRIPT)), "--workspace", "fresh"]) == 0
    capsys.readouterr()
    err = one_line_error(capsys, "generate", "-w", "fresh", "--as", "Alice")
    assert "no trained run" in err and "friendsim-tui train" in err
    assert "no workspace named 'ghost'" in one_line_error(capsys, "generate", "-w", "ghost", "--as", "Alice")


def test_bad_runs_and_model_folders(capsys, workspace, tiny_model_dir):
    err = one_line_error(capsys, "generate", "-w", workspace, "--run", "nope", "--as", "Alice")
    assert "no run named 'nope'" in err
    err = one_line_error(capsys, "generate", "-w", workspace, "--run", "20260103-000000-failed", "--as", "Alice")
    assert "no model folder" in err
    pickled = add_run(workspace, "pickled", tiny_model_dir, "done", time.time() - 1000) / "model"
    for f in pickled.glob("*.safetensors"):
        f.unlink()
    (pickled / "pytorch_model.bin").write_bytes(b"\x80\x02")
    err = one_line_error(capsys, "generate", "-w", workspace, "--run", "pickled", "--as", "Alice")
    assert "pickle" in err and "refused" in err
    nospec = add_run(workspace, "nospec", tiny_model_dir, "done", time.time() - 1000) / "model"
    (nospec / "friendsim.json").unlink()
    assert "friendsim.json" in one_line_error(capsys, "generate", "-w", workspace, "--run", "nospec", "--as", "Alice")


def test_unknown_speakers(capsys, workspace, tmp_path):
    err = one_line_error(capsys, "generate", "-w", workspace, "--as", "Zed")
    assert "no speaker named 'Zed'" in err and "Alice" in err
    err = one_line_error(capsys, "generate", "-w", workspace, "--as", "Dave")
    assert "not in this run's model" in err
    hist = write_history(tmp_path, [{"speaker": "Alice", "text": "hi"}, {"speaker": "Zed", "text": "yo"}])
    err = one_line_error(capsys, "generate", "-w", workspace, "--as", "Alice", "--history", str(hist))
    assert "turn 2" in err and "'Zed'" in err


@pytest.mark.parametrize("bad, why", [
    ("{not json", "not valid JSON"),
    ('{"speaker": "Alice"}', "expected"),
    ('["Alice", "hi"]', "expected"),
    ('{"speaker": "Alice", "text": 3}', "expected"),
])
def test_malformed_history_names_file_and_line(capsys, workspace, tmp_path, bad, why):
    hist = write_history(tmp_path, [{"speaker": "Alice", "text": "ok"}, "", bad])
    err = one_line_error(capsys, "generate", "-w", workspace, "--as", "Alice", "--history", str(hist))
    assert f"{hist}:3:" in err and why in err


def test_usage_errors(capsys, workspace, tmp_path):
    assert "--as SPEAKER is required" in one_line_error(capsys, "generate", "-w", workspace, code=2)
    assert "-n must be" in one_line_error(capsys, "generate", "-w", workspace, "--as", "Alice", "-n", "0", code=2)
    missing = tmp_path / "missing.jsonl"
    assert "history file not found" in one_line_error(capsys, "generate", "-w", workspace, "--as", "Alice",
                                                      "--history", str(missing))


def test_generate_help_stays_light():
    """--help, and importing the chat modules, never pull in torch, transformers or textual."""
    code = ("import sys; from friendsim_tui import cli, services; import friendsim_tui.services.chat, "
            "friendsim_tui.engine.sampler, friendsim_tui.store.chats\n"
            "try: cli.main(['generate', '--help'])\nexcept SystemExit: pass\n"
            "print([m for m in ('torch', 'transformers', 'textual') if m in sys.modules], file=sys.stderr)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "--conversation" in done.stdout and done.stderr.strip() == "[]"


def test_saved_session_settings_are_checked():
    from friendsim_tui.config import ChatConfig
    from friendsim_tui.services.chat import settings_from

    got = settings_from({"temperature": 0.9, "top_k": 10.0, "candidates": 50, "bogus": 1, "top_p": "x"},
                        ChatConfig(max_new_tokens=30))
    assert got == ChatConfig(temperature=0.9, top_k=10, max_new_tokens=30)  # candidates 50 is out of range
    assert settings_from(None) == ChatConfig()


def test_a_truncated_model_file_is_one_line_naming_it(capsys, workspace, tiny_model_dir):
    model = add_run(workspace, "cut", tiny_model_dir, "done", time.time() - 1000) / "model"
    weights = model / "model.safetensors"
    with open(weights, "r+b") as f:
        f.truncate(weights.stat().st_size // 2)
    err = one_line_error(capsys, "generate", "-w", workspace, "--run", "cut", "--as", "Alice")
    assert str(weights) in err and "damaged or cut short" in err and "train the run again" in err
    assert "SafetensorError" not in err and "Traceback" not in err


def test_a_damaged_run_json_still_finds_the_finished_model(capsys, workspace, hot):
    folder = training.run_dir(workspace, "20260102-000000-new")
    (folder / "run.json").write_text('{"status": "do')  # cut short: a crash while it was rewritten
    code, out, err = run(capsys, "--config", hot, "generate", "-w", workspace, "--as", "Alice", "-n", "1", "--json")
    assert code == 0, err
    assert json.loads(out)["run"] == "20260102-000000-new"  # still the newest completed run
    code, out, _ = run(capsys, "runs", "-w", workspace, "--json")
    listed = {r["name"]: r for r in json.loads(out)}["20260102-000000-new"]
    assert listed["status"] == "done" and listed["model_ready"]
    assert str(folder / "run.json") in listed["error"] and "damaged" in listed["error"]
