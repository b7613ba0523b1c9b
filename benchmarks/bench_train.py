"""Training speed and memory on this machine, printed as plain figures.

    python benchmarks/bench_train.py            # all three parts, about 8-10 minutes on 2 cores
    python benchmarks/bench_train.py --part a   # only the speed comparison (a, b or c)

(a) The original project's recipe -- Hugging Face Trainer defaults in fp32, batch 1, gradient accumulation
    16, block 256 -- against our defaults (friendsim_tui.engine.train), on a GPT-2-shaped model (124M
    parameters, vocab 50257; random weights made here, since the hub may be unreachable) and the same
    token blocks, in this one process. Prints tokens/s of each and the ratio.
(b) scratch:tiny on the bundled sample chat (friendsim_tui/data/sample/weekend-crew.json) with default
    settings: the loss curve, eval loss, the sample lines per friend, and the wall time (goal: < 3 min).
(c) Peak memory (process RSS, or CUDA peak) of a gpt2 full fine-tune at the defaults vs LoRA, each in
    its own process so the peaks do not mix.

Each measurement is a few optimizer steps; on a shared machine the figures move with the load.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SAMPLE = ROOT / "friendsim_tui" / "data" / "sample" / "weekend-crew.json"
BLOCK = 256


def log(msg: str) -> None:
    print(msg, flush=True)


def setup_workspace(data_dir: Path) -> str:
    from friendsim_tui import paths
    from friendsim_tui.services.importing import import_paths

    paths.set_data_dir(data_dir)
    if not SAMPLE.exists():
        sys.exit(f"bundled sample missing: {SAMPLE}")
    import_paths("bench", [SAMPLE])
    return "bench"


def make_gpt2_folder(folder: Path, workspace: str) -> Path:
    """A GPT-2 small shaped model with random weights and a byte-level BPE trained on the sample."""
    import torch
    from transformers import GPT2Config, GPT2LMHeadModel

    from friendsim_tui import dataset
    from friendsim_tui.engine.bases import add_chat_tokens, train_scratch_tokenizer
    from friendsim_tui.engine.text import ChatSpec
    from friendsim_tui.store import Store

    with Store.for_workspace(workspace) as store:
        ds = dataset.build(store)
    spec = ChatSpec(ds.speakers())
    tok = train_scratch_tokenizer((t.text for s in ds.train for t in s.turns), 50257, spec.special_tokens())
    add_chat_tokens(tok, spec.special_tokens())
    torch.manual_seed(0)
    model = GPT2LMHeadModel(GPT2Config(vocab_size=50257, attn_implementation="sdpa"))
    model.save_pretrained(folder, safe_serialization=True)
    tok.save_pretrained(folder)
    return folder


def steady_rate(events: list[dict], skip: int = 1) -> float:
    steps = [e for e in events if e["type"] == "step"][skip:]
    return sum(e["tokens_per_second"] * e["step_time"] for e in steps) / sum(e["step_time"] for e in steps)


def read_events(run_dir: Path) -> list[dict]:
    return [json.loads(x) for x in (run_dir / "events.jsonl").read_text().splitlines()]


def part_a(workspace: str, gpt2: Path, ours_steps: int, original_steps: int) -> None:
    import numpy as np
    import torch
    from transformers import GPT2LMHeadModel, Trainer, TrainerCallback, TrainingArguments

    from friendsim_tui.config import TrainConfig
    from friendsim_tui.engine.train import train

    log("\n== (a) original recipe vs our defaults: gpt2-shaped 124M, block 256 ==")
    cfg = TrainConfig(base=str(gpt2), block_size=BLOCK, max_steps=ours_steps, save_steps=10_000,
                      eval_steps=10_000, sample_steps=10_000)
    t = time.perf_counter()
    res = train(workspace, cfg, "bench-ours", log=lambda s: None)
    ev = read_events(res.run_dir)
    start = ev[0]
    ours = steady_rate(ev)
    ours_best = max(e["tokens_per_second"] for e in ev if e["type"] == "step" and e["step"] > 1)
    log(f"ours:     {ours:7.1f} tokens/s, best step {ours_best:7.1f}  (precision {start['precision']}, micro-batch {start['batch_size']} x "
        f"accumulation {start['grad_accum']}, fused AdamW, SDPA, {start['threads']} threads; "
        f"{ours_steps} steps, first excluded; {time.perf_counter() - t:.0f}s with setup)")

    # The same blocks for the original recipe.
    ids = np.fromfile(res.run_dir / "data" / "train.bin", dtype=np.uint32).astype(np.int64)
    blocks = torch.from_numpy(ids[: len(ids) // BLOCK * BLOCK]).view(-1, BLOCK)

    class Blocks(torch.utils.data.Dataset):
        def __len__(self):
            return blocks.shape[0]

        def __getitem__(self, i):
            return {"input_ids": blocks[i], "labels": blocks[i]}

    class Clock(TrainerCallback):
        def __init__(self):
            self.t = []

        def on_step_begin(self, args, state, control, **kw):
            self.t.append([time.perf_counter(), None])

        def on_step_end(self, args, state, control, **kw):
            self.t[-1][1] = time.perf_counter()

    model = GPT2LMHeadModel.from_pretrained(gpt2, use_safetensors=True)
    clock = Clock()
    with tempfile.TemporaryDirectory() as out:
        args = TrainingArguments(output_dir=out, per_device_train_batch_size=1, gradient_accumulation_steps=16,
                                 max_steps=original_steps, report_to="none", save_strategy="no",
                                 logging_strategy="no", use_cpu=not torch.cuda.is_available(),
                                 dataloader_num_workers=0, disable_tqdm=True)
        with contextlib.redirect_stdout(io.StringIO()):  # the Trainer prints its own summary dict
            Trainer(model=model, args=args, train_dataset=Blocks(), callbacks=[clock]).train()
    times = [b - a for a, b in clock.t]
    steady = times[1:] or times
    original = 16 * BLOCK * len(steady) / sum(steady)
    original_best = 16 * BLOCK / min(steady)
    log(f"original: {original:7.1f} tokens/s, best step {original_best:7.1f}  (HF Trainer defaults, fp32, batch 1 x accumulation 16; "
        f"{original_steps} steps of {16 * BLOCK} tokens{', first excluded' if len(times) > 1 else ''})")
    log(f"ratio:    {ours / original:7.2f}x on means, {ours_best / original_best:.2f}x on best steps (target >= 3x; "
        "best steps are the steadier figure on a shared machine)")


def part_b(workspace: str) -> None:
    from friendsim_tui.config import TrainConfig
    from friendsim_tui.engine.train import train

    log("\n== (b) scratch:tiny on the bundled sample, default settings ==")
    t = time.perf_counter()
    # defaults, except evals and samples about ten and five times a run (the default is every 100 steps)
    cfg = TrainConfig(base="scratch:tiny", eval_steps=0, sample_steps=0)
    res = train(workspace, cfg, "bench-tiny", log=lambda s: None)
    wall = time.perf_counter() - t
    ev = read_events(res.run_dir)
    steps = [e for e in ev if e["type"] == "step"]
    start = ev[0]
    log(f"{start['params'] / 1e6:.1f}M params, {start['train_blocks']} train blocks, {len(steps)} steps x "
        f"{start['blocks_per_step']} blocks of {start['block_size']}, {start['precision']}")
    every = max(1, len(steps) // 12)
    log("loss curve (step: train loss):  " + "  ".join(f"{e['step']}: {e['loss']:.2f}" for e in steps[::every]
                                                        + ([steps[-1]] if (len(steps) - 1) % every else [])))
    for e in ev:
        if e["type"] == "eval":
            log(f"eval at step {e['step']}: loss {e['loss']:.3f}, perplexity {e['perplexity']:.1f}")
    samples = [e for e in ev if e["type"] == "sample"]
    if samples:
        log(f"sample lines at step {samples[-1]['step']}:")
        for who, line in samples[-1]["samples"].items():
            log(f"  {who}: {line[:110]!r}")
    log(f"wall time {wall:.0f}s including tokenizer training and the final save (goal: under 180s); "
        f"{steady_rate(ev):.0f} tokens/s")


def part_c(data_dir: Path, workspace: str, gpt2: Path, steps: int) -> None:
    log("\n== (c) peak memory, gpt2-shaped full fine-tune at the defaults vs LoRA ==")
    for label, extra in (("full fine-tune", []), ("LoRA r=16", ["--lora"])):
        run = "bench-mem-" + ("lora" if extra else "full")
        cmd = [sys.executable, "-m", "friendsim_tui", "--data-dir", str(data_dir), "train", "--workspace",
               workspace, "--run", run, "--base", str(gpt2), "--max-steps", str(steps), "--save-steps", "10000",
               "--eval-steps", "10000", "--sample-steps", "10000", *extra]
        done = subprocess.run(cmd, capture_output=True, text=True)
        if done.returncode:
            log(f"{label}: failed: {done.stderr.strip().splitlines()[-1:]}")
            continue
        ev = read_events(data_dir / "workspaces" / workspace / "runs" / run)
        last = [e for e in ev if e["type"] == "step"][-1]
        peak = last.get("cuda_peak") or last["rss_peak"]
        kind = "CUDA peak" if last.get("cuda_peak") else "peak RSS"
        start = next(e for e in ev if e["type"] == "start")
        log(f"{label:<15} {kind} {peak / 2**30:5.2f} GiB, {start.get('rss_peak', 0) / 2**30:.2f} GiB before the "
            f"first step  (estimate {start['memory_estimate'] / 2**30:.2f} GiB; "
            f"trainable {start['trainable_params'] / 1e6:.1f}M of {start['params'] / 1e6:.1f}M params; "
            f"micro-batch {last['batch_size']})")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--part", choices=("a", "b", "c"), action="append", help="run only these parts")
    ap.add_argument("--ours-steps", type=int, default=5)
    ap.add_argument("--original-steps", type=int, default=2)
    ap.add_argument("--memory-steps", type=int, default=2)
    args = ap.parse_args()
    parts = args.part or ["a", "b", "c"]
    os.umask(0o077)
    import torch
    from transformers.utils import logging as hf_logging

    from friendsim_tui.engine import devices

    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()

    d = devices.detect()
    log(f"device: {d.name} ({d.kind}), {torch.get_num_threads()} threads, bf16 fast: {d.bf16}, "
        f"torch {torch.__version__}; load average {os.getloadavg()[0]:.1f}")
    with tempfile.TemporaryDirectory(prefix="friendsim-bench-") as tmp:
        data_dir = Path(tmp) / "data"
        ws = setup_workspace(data_dir)
        gpt2 = make_gpt2_folder(Path(tmp) / "gpt2-random", ws) if {"a", "c"} & set(parts) else None
        if "a" in parts:
            part_a(ws, gpt2, args.ours_steps, args.original_steps)
        if "b" in parts:
            part_b(ws)
        if "c" in parts:
            part_c(data_dir, ws, gpt2, args.memory_steps)
    log(f"\nload average at the end {os.getloadavg()[0]:.1f} (others share this machine: figures are noisy)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
