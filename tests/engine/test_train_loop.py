"""The training loop on a tiny scratch model: events, checkpoints, resume, OOM, LoRA, locks, output."""

from __future__ import annotations

import errno
import json
import shutil
import subprocess
import sys

import pytest

torch = pytest.importorskip("torch")

from friendsim_tui import paths  # noqa: E402
from friendsim_tui.engine import checkpoints, kernels, plan  # noqa: E402
from friendsim_tui.engine import train as engine  # noqa: E402
from friendsim_tui.engine.text import EOT, ChatSpec  # noqa: E402

from engine_helpers import read_events, schema_problems, tiny_config  # noqa: E402


def test_events_schema_run_json_and_pipeline_output(crew):
    result = engine.train(crew, tiny_config(), "r1", log=lambda s: None)
    assert result.status == "done" and result.step == 6
    run = result.run_dir
    events = read_events(run)
    types = [e["type"] for e in events]
    assert types[0] == "start" and types[-1] == "done"
    assert types.count("step") == 6 and types.count("eval") == 2 and types.count("sample") == 2
    assert types.count("checkpoint") == 1  # step 3; the final step writes the model folder instead
    assert [p for e in events for p in schema_problems(e)] == []  # what runs.py declares, no more, no less
    assert all({"rss", "rss_peak", "system_used", "system_total"} <= set(e) for e in events if e["type"] == "step")
    start = events[0]
    assert start["step"] == 0 and start["lora"] is False and "lora_r" not in start
    steps = [e for e in events if e["type"] == "step"]
    assert [e["step"] for e in steps] == list(range(1, 7))
    assert [e["tokens"] for e in steps] == [8 * 64 * i for i in range(1, 7)]  # 4 x 2 blocks of 64 per step
    assert all(e["max_steps"] == 6 and e["loss"] > 0 for e in steps)
    evals = [e for e in events if e["type"] == "eval"]
    assert [e["step"] for e in evals] == [3, 6] and all(e["eval_loss"] > 0 for e in evals)
    sample = next(e for e in events if e["type"] == "sample")
    assert set(sample["samples"]) == {"Alice Smith", "Bob the Builder", "Carol"}
    done = events[-1]
    assert done["status"] == "done" and done["model"] == str(run / "model")

    info = json.loads((run / "run.json").read_text())
    assert info["status"] == "done" and info["config"]["max_steps"] == 6 and info["step"] == 6
    assert (run / "events.jsonl").stat().st_mode & 0o077 == 0  # private

    model_dir = run / "model"
    names = {p.name for p in model_dir.iterdir()}
    assert {"model.safetensors", "config.json", "generation_config.json", "tokenizer.json", "README.md",
            "friendsim.json"} <= names
    assert not any(n.endswith(".bin") for n in names)
    card = (model_dir / "README.md").read_text()
    assert "scratch:tiny" in card and "perplexity" in card and "messages: 450" in card
    from transformers import AutoTokenizer, GenerationConfig, pipeline

    tok = AutoTokenizer.from_pretrained(model_dir)
    assert GenerationConfig.from_pretrained(model_dir).eos_token_id == tok.convert_tokens_to_ids(EOT)
    assert sorted(ChatSpec.load(model_dir).speakers) == ["Alice Smith", "Bob the Builder", "Carol"]
    gen = pipeline("text-generation", model=str(model_dir))
    out = gen("<|session|><|speaker_0|>", max_new_tokens=5)
    assert out[0]["generated_text"].startswith("<|session|><|speaker_0|>")

    from friendsim_tui.services import training

    (listed,) = training.list_runs(crew)
    assert listed["name"] == "r1" and listed["status"] == "done" and listed["step"] == 6
    assert listed["path"] == str(model_dir) and listed["model_ready"]


def _losses(run_dir) -> dict[int, float]:
    return {e["step"]: e["loss"] for e in read_events(run_dir) if e["type"] == "step"}


def test_stop_then_resume_matches_an_uninterrupted_run(crew, monkeypatch):
    full = engine.train(crew, tiny_config(), "full", log=lambda s: None)
    reference = _losses(full.run_dir)

    real = engine.Trainer._should_stop

    def stop_at_4(self):
        if self.step == 4 and not self.resume:
            self.stop_reason = "test"
            return True
        return real(self)

    monkeypatch.setattr(engine.Trainer, "_should_stop", stop_at_4)
    first = engine.train(crew, tiny_config(), "split", log=lambda s: None)
    assert first.status == "stopped" and first.step == 4
    run = first.run_dir
    assert json.loads((run / "run.json").read_text())["status"] == "stopped"
    state = json.loads((run / "checkpoints" / "step-00000004" / "trainer_state.json").read_text())
    assert state["step"] == 4 and state["data_position"] == 4 * 8
    assert not (run / "model").exists()

    # a second train without --resume on the same run is refused
    with pytest.raises(engine.TrainError, match="already exists"):
        engine.train(crew, tiny_config(), "split", log=lambda s: None)

    # resume ignores a different length on the command line: it continues to the original one
    second = engine.train(crew, tiny_config(max_steps=50), "split", resume=True, log=lambda s: None)
    assert second.status == "done" and second.step == 6
    resumed = _losses(run)
    for step in (5, 6):
        assert resumed[step] == pytest.approx(reference[step], rel=1e-5), (step, resumed, reference)
    starts = [e for e in read_events(run) if e["type"] == "start"]
    assert [s["step"] for s in starts] == [0, 4]


def test_half_written_and_corrupt_checkpoints_are_skipped(crew, monkeypatch):
    real = engine.Trainer._should_stop
    monkeypatch.setattr(engine.Trainer, "_should_stop",
                        lambda self: (self.step == 3 and not self.resume) or real(self))
    first = engine.train(crew, tiny_config(max_steps=6, save_steps=2), "ck", log=lambda s: None)
    assert first.step == 3
    ckpts = first.run_dir / "checkpoints"
    assert sorted(p.name for p in ckpts.iterdir()) == ["step-00000002", "step-00000003"]
    # a newer checkpoint whose model file was cut short, and one that was never finished (no manifest)
    corrupt = ckpts / "step-00000004"
    shutil.copytree(ckpts / "step-00000003", corrupt)
    with open(corrupt / "model.safetensors", "r+b") as f:
        f.truncate(100)
    unfinished = ckpts / "step-00000005"
    shutil.copytree(ckpts / "step-00000003", unfinished)
    (unfinished / "manifest.json").unlink()
    # a crash in the middle of writing leaves a temp folder, never a step- folder
    (ckpts / ".tmp-step-00000006").mkdir()

    logs: list[str] = []
    second = engine.train(crew, tiny_config(), "ck", resume=True, log=logs.append)
    assert second.status == "done"
    warnings = [e["message"] for e in read_events(first.run_dir) if e["type"] == "warning"]
    assert any("step-00000005" in w and "manifest" in w for w in warnings)
    assert any("step-00000004" in w and "truncated" in w for w in warnings)
    assert any("resumed from step-00000003" in line for line in logs)
    assert not (ckpts / ".tmp-step-00000006").exists()


def test_out_of_memory_halves_the_micro_batch_and_keeps_the_effective_batch(crew, monkeypatch):
    real = engine.Trainer._forward_backward
    calls = {"n": 0}

    def flaky(self, x, sync):
        calls["n"] += 1
        if calls["n"] == 1:
            raise torch.OutOfMemoryError("CUDA out of memory (injected)")
        return real(self, x, sync)

    monkeypatch.setattr(engine.Trainer, "_forward_backward", flaky)
    result = engine.train(crew, tiny_config(max_steps=4), "oom", log=lambda s: None)
    assert result.status == "done" and result.step == 4
    events = read_events(result.run_dir)
    (warning,) = [e for e in events if e["type"] == "warning"]
    assert warning["kind"] == "oom" and warning["batch_size"] == 2 and warning["grad_accum"] == 4
    steps = [e for e in events if e["type"] == "step"]
    assert [(e["batch_size"], e["grad_accum"]) for e in steps] == [(2, 4)] * 4
    assert [e["tokens"] for e in steps] == [512, 1024, 1536, 2048]


def test_lora_trains_adapters_and_writes_a_merged_model(crew):
    result = engine.train(crew, tiny_config(lora=True, max_steps=2, sample_steps=2, eval_steps=2), "lora",
                          log=lambda s: None)
    start = read_events(result.run_dir)[0]
    assert start["lora"] is True and start["lora_r"] == 16 and start["trainable_params"] < start["params"] / 2
    from transformers import AutoModelForCausalLM

    model = AutoModelForCausalLM.from_pretrained(result.model_dir)
    assert not any("lora" in n for n, _ in model.named_parameters())


def test_a_running_run_is_refused_and_listed_as_running(crew):
    from friendsim_tui.services import training

    engine.train(crew, tiny_config(max_steps=1), "busy", log=lambda s: None)
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        import psutil

        lock = training.run_dir(crew, "busy") / "lock"
        lock.write_text(json.dumps({"pid": sleeper.pid, "create_time": psutil.Process(sleeper.pid).create_time()}))
        with pytest.raises(engine.RunLocked, match="already training"):
            engine.train(crew, tiny_config(), "busy", resume=True, log=lambda s: None)
        assert training.run_status(crew, "busy")["status"] == "running"
    finally:
        sleeper.kill()
        sleeper.wait()
    assert training.run_status(crew, "busy")["status"] == "done"  # the lock's process is gone
    with pytest.raises(engine.TrainError, match="already finished"):
        engine.train(crew, tiny_config(), "busy", resume=True, log=lambda s: None)


def test_preflight_memory_estimate_warns_before_a_run_that_cannot_fit(crew, monkeypatch):
    monkeypatch.setattr(plan, "available_memory", lambda device: 1000)
    logs: list[str] = []
    result = engine.train(crew, tiny_config(max_steps=1), "tight", log=logs.append)
    warning = next(e for e in read_events(result.run_dir) if e["type"] == "warning")
    assert "may run out of memory" in warning["message"] and warning["memory_estimate"] > 1000
    assert any(line.startswith("warning: this run needs about") for line in logs)


def test_bad_input_messages(data_dir, crew):
    from friendsim_tui.store import Store

    Store.for_workspace("empty", create=True).close()
    with pytest.raises(engine.TrainError, match="no messages to train on"):
        engine.train("empty", tiny_config(), "r", log=lambda s: None)
    with pytest.raises(engine.TrainError, match="no workspace named"):
        engine.train("nope", tiny_config(), "r", log=lambda s: None)
    with pytest.raises(engine.TrainError, match="smaller than one block"):
        engine.train(crew, tiny_config(block_size=100_000), "big", log=lambda s: None)
    with pytest.raises(engine.TrainError, match="no run named"):
        engine.train(crew, tiny_config(), "ghost", resume=True, log=lambda s: None)
    with pytest.raises(engine.TrainError, match="unknown base 'gpt5'"):
        engine.train(crew, tiny_config(base="gpt5"), "r2", log=lambda s: None)


def test_lr_schedule_and_plan():
    assert plan.lr_factor(0, 10, 100, "cosine") < plan.lr_factor(9, 10, 100, "cosine") <= 1.0
    assert plan.lr_factor(100, 10, 100, "cosine") == pytest.approx(0.1)
    assert plan.lr_factor(55, 10, 100, "linear") == pytest.approx(1 - 0.9 * 0.5)
    made = plan.make_plan(tiny_config(batch_size=0, grad_accum=0, max_steps=0, epochs=2), n_blocks=100,
                            world=2, auto_b=8, lr=1e-3, precision="bf16")
    assert (made.batch_size, made.grad_accum, made.blocks_per_step) == (8, 1, 16)
    assert made.max_steps == 13  # ceil(2 epochs * 100 blocks / 16)
    scratch = plan.make_plan(tiny_config(batch_size=0, grad_accum=0, max_steps=0, epochs=0), n_blocks=100,
                               world=1, auto_b=16, lr=2e-3, precision="bf16", scratch=True)
    assert (scratch.batch_size, scratch.grad_accum, scratch.blocks_per_step, scratch.max_steps) == (8, 1, 8, 100)


def test_chunked_loss_matches_the_stock_loss_and_its_gradients():
    from transformers.loss.loss_utils import ForCausalLMLoss

    torch.manual_seed(0)
    logits = torch.randn(3, 700, 50, dtype=torch.bfloat16, requires_grad=True)
    labels = torch.randint(0, 50, (3, 700))
    labels[0, :10] = -100
    ours = kernels.chunked_causal_lm_loss(logits, labels, 50)
    (g_ours,) = torch.autograd.grad(ours, logits)
    stock = ForCausalLMLoss(logits, labels, 50)
    (g_stock,) = torch.autograd.grad(stock, logits)
    assert ours.item() == pytest.approx(stock.item(), rel=1e-5)
    assert torch.allclose(g_ours.float(), g_stock.float(), atol=1e-3)


def test_fast_kernels_keep_the_model_function():
    from transformers import GPT2Config, GPT2LMHeadModel

    torch.manual_seed(0)
    model = GPT2LMHeadModel(GPT2Config(n_layer=2, n_embd=64, n_head=2, vocab_size=300, n_positions=32)).eval()
    x = torch.randint(0, 300, (2, 32))
    with torch.no_grad():
        before = model(input_ids=x).logits
        kernels.fast_training_kernels(model, 0.0)
        after = model(input_ids=x).logits
    assert torch.allclose(before, after, atol=1e-5)
    assert all(m.p == 0.0 for m in model.modules() if isinstance(m, torch.nn.Dropout))


class _FullDisk:
    """A file on a disk that fills up: its first kilobyte is written, then writes fail with ENOSPC."""

    def __init__(self, f):
        self.f, self.room = f, 1024

    def write(self, data):
        if len(data) > self.room:
            raise OSError(errno.ENOSPC, "No space left on device")
        self.room -= len(data)
        return self.f.write(data)

    def flush(self):
        pass

    def fileno(self):
        return self.f.fileno()

    def close(self):
        self.f.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.f.close()


def _disk_fills_up(monkeypatch, when, files=("state.pt",), room=1024):
    """From the moment ``when(path)`` is first true, new files named in ``files`` (all: None) take only
    ``room`` bytes."""
    real = paths.open_private
    full = {"now": False}

    def open_private(path, mode="w", **kw):
        full["now"] = full["now"] or when(path)
        if full["now"] and (files is None or path.name in files):
            disk = _FullDisk(real(path, mode, **kw))
            disk.room = room
            return disk
        return real(path, mode, **kw)

    monkeypatch.setattr(paths, "open_private", open_private)
    return full


def test_a_full_disk_at_a_checkpoint_keeps_the_previous_one_and_training_goes_on(crew, monkeypatch):
    """torch.save on a full disk raises RuntimeError (not OSError): the run used to fail there, leaving the
    temp folder behind and run.json saying running."""
    _disk_fills_up(monkeypatch, lambda path: "step-00000004" in str(path))
    result = engine.train(crew, tiny_config(max_steps=5, save_steps=2), "full-disk", log=lambda s: None)
    assert result.status == "done"
    ckpts = result.run_dir / "checkpoints"
    assert [p.name for p in ckpts.iterdir()] == ["step-00000002"]  # no .tmp-step-00000004 left behind
    checkpoints.validate(ckpts / "step-00000002")
    (warning,) = [e for e in read_events(result.run_dir) if e["type"] == "warning"]
    assert warning["kind"] == "checkpoint" and warning["step"] == 4
    assert "could not save checkpoint at step 4: No space left on device" in warning["message"]
    assert "the previous one is kept" in warning["message"]
    assert json.loads((result.run_dir / "run.json").read_text())["status"] == "done"


def test_a_disk_that_stays_full_fails_the_run_with_a_status_that_says_why(crew, monkeypatch):
    """Checkpoint, run.json's usual atomic rewrite and the model folder all fail: run.json still ends up
    saying failed, never running, and the message says what to do."""
    full = _disk_fills_up(monkeypatch, lambda path: "step-00000004" in str(path), files=None, room=0)

    def save_model(self, out, card):
        raise OSError(errno.ENOSPC, "No space left on device", str(out / "model.safetensors"))

    monkeypatch.setattr(engine.Trainer, "_save_model", save_model)
    with pytest.raises(engine.TrainError, match="No space left on device") as caught:
        engine.train(crew, tiny_config(max_steps=5, save_steps=2), "stays-full", log=lambda s: None)
    assert full["now"] and "--resume" in str(caught.value)
    folder = engine.runs.run_dir(crew, "stays-full")
    info = json.loads((folder / "run.json").read_text())
    assert info["status"] == "failed" and "No space left on device" in info["error"]
    assert sorted(p.name for p in (folder / "checkpoints").iterdir()) == ["step-00000002"]
    assert not (folder / "lock").exists() and not list(folder.glob(".*tmp*"))


def test_a_crash_mid_run_is_an_error_event_and_status_failed(crew, monkeypatch):
    from friendsim_tui.services import training

    def boom(self, x, sync):
        if self.step == 2:
            raise RuntimeError("boom")
        return real(self, x, sync)

    real = engine.Trainer._forward_backward
    monkeypatch.setattr(engine.Trainer, "_forward_backward", boom)
    with pytest.raises(RuntimeError, match="boom"):
        engine.train(crew, tiny_config(), "crash", log=lambda s: None)
    folder = training.run_dir(crew, "crash")
    err = read_events(folder)[-1]
    assert err["type"] == "error" and err["message"] == "RuntimeError: boom" and "traceback" in err
    status = training.run_status(crew, "crash")
    assert status["status"] == "failed" and status["error"] == "RuntimeError: boom" and status["step"] == 2
    assert not (folder / "lock").exists()


def test_a_failing_torch_compile_falls_back_to_eager(crew, monkeypatch):
    def broken_compile(module, **kw):
        def run(*a, **k):
            raise RuntimeError("inductor exploded")
        return run

    monkeypatch.setattr(torch, "compile", broken_compile)
    result = engine.train(crew, tiny_config(max_steps=2, compile="on"), "compiled", log=lambda s: None)
    assert result.status == "done"
    events = read_events(result.run_dir)
    (warning,) = [e for e in events if e["type"] == "warning"]
    assert warning["kind"] == "compile" and "inductor exploded" in warning["message"]
    assert events[0]["compile"] is True and [e["step"] for e in events if e["type"] == "step"] == [1, 2]


def _flip(path, start: int, count: int = 64) -> None:
    """Damage ``count`` bytes of a file from ``start`` (negative: from the end), keeping its size."""
    data = bytearray(path.read_bytes())
    start = start % len(data)
    data[start: start + count] = bytes(b ^ 0x5A for b in data[start: start + count])
    path.write_bytes(bytes(data))


@pytest.mark.parametrize("damage", ["pickle", "tensors", "pickle, manifest without checksums"])
def test_a_damaged_state_file_in_the_newest_checkpoint_falls_back_to_the_previous_one(crew, monkeypatch, damage):
    """Same size, other bytes (bit rot, a torn write): the size check cannot see it. A damaged pickle fails to
    load, with torch advising weights_only=False (never shown); damaged tensors load as garbage and the run
    would go on from there. A manifest from before checksums records sizes only: the load then tells."""
    real = engine.Trainer._should_stop
    monkeypatch.setattr(engine.Trainer, "_should_stop",
                        lambda self: (self.step == 3 and not self.resume) or real(self))
    first = engine.train(crew, tiny_config(max_steps=6, save_steps=2, sample_steps=100), "rot", log=lambda s: None)
    ckpts = first.run_dir / "checkpoints"
    assert sorted(p.name for p in ckpts.iterdir()) == ["step-00000002", "step-00000003"]
    newest = ckpts / "step-00000003"
    if "without checksums" in damage:
        manifest = json.loads((newest / "manifest.json").read_text())
        manifest["files"] = {name: entry["size"] for name, entry in manifest["files"].items()}
        (newest / "manifest.json").write_text(json.dumps(manifest))
    _flip(newest / "state.pt", -2000 if damage == "tensors" else 100)

    logs: list[str] = []
    second = engine.train(crew, tiny_config(sample_steps=100), "rot", resume=True, log=logs.append)
    assert second.status == "done" and any("resumed from step-00000002" in line for line in logs)
    events = read_events(first.run_dir)
    (warning,) = [e for e in events if e["type"] == "warning"]
    why = "state.pt is unreadable" if "without checksums" in damage else "state.pt is damaged"
    assert "step-00000003" in warning["message"] and why in warning["message"]
    assert [e["step"] for e in events if e["type"] == "start"] == [0, 2]
    assert "weights_only" not in "\n".join(logs) + (first.run_dir / "events.jsonl").read_text()
