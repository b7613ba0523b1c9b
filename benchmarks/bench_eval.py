"""How long `friendsim-tui eval` takes: on the demo's run, and per 100 scored turns on a gpt2-shaped model.

    python benchmarks/bench_eval.py [--data-dir /tmp/fsdemo] [--shapes gpt2] [--turns 100] [--threads 0]

1. The demo run (workspace weekend-crew, run demo: scratch:tiny on the bundled sample chat). With
   ``--data-dir`` pointing at a data folder where `friendsim-tui demo --headless` already ran, that run is
   used; otherwise the demo is built first in a temporary folder (several minutes on two cores). Printed:
   the wall time of the command itself (``friendsim-tui eval -w weekend-crew``, a fresh process: imports,
   loading, the verbatim index and all), then its phases measured one by one in this process: loading the
   model, building the verbatim index, the loss pass, speaker attribution (up to 50 turns per speaker)
   and sampling the 200 turns of the verbatim rate.
2. A gpt2-shaped model (random weights, built offline: benchmarks/bench_candidates.py's ``build``) on
   synthetic held-out sessions of four speakers long enough to fill its 1024-token context: the time per
   100 scored turns of speaker attribution (each turn with up to a full window of context) and of the loss
   pass per 10,000 tokens. Random weights never end a turn, so sampling is left out here: one sampling
   call is what benchmarks/bench_candidates.py times (the verbatim rate makes 40 of them, 5 turns each).

The machine may be shared: the bound (benchmarks/bound.py, with the load average) is printed before each
part, and ``--threads 1`` shows what contention for the cores costs.
"""

from __future__ import annotations

import argparse
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bound import Bound  # noqa: E402

WORKSPACE, RUN = "weekend-crew", "demo"


def timed(fn):
    t0 = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t0


def demo_run(data_dir: Path) -> Path:
    """The demo's run folder under ``data_dir``, trained first when it is not there."""
    folder = data_dir / "workspaces" / WORKSPACE / "runs" / RUN
    if not (folder / "model" / "config.json").is_file():
        print(f"building the demo in {data_dir} (friendsim-tui demo --headless) ...", flush=True)
        subprocess.run([sys.executable, "-m", "friendsim_tui", "--data-dir", str(data_dir), "demo", "--headless"],
                       check=True, stdout=subprocess.DEVNULL)
    return folder


def bench_demo(data_dir: Path, threads: int) -> None:
    import numpy as np
    import torch

    from friendsim_tui import runs
    from friendsim_tui.config import ChatConfig
    from friendsim_tui.engine import evaluate as ev
    from friendsim_tui.engine.sampler import Sampler

    folder = demo_run(data_dir)
    print(Bound.measure().line())
    env = None
    if threads:
        import os

        env = {**os.environ, "OMP_NUM_THREADS": str(threads)}
    done, took = timed(lambda: subprocess.run(
        [sys.executable, "-m", "friendsim_tui", "--data-dir", str(data_dir), "eval", "-w", WORKSPACE, "--json"],
        check=True, capture_output=True, text=True, env=env))
    import json

    figures = json.loads(done.stdout)
    print(f"demo run: `friendsim-tui eval -w {WORKSPACE}` took {took:.1f}s wall ({figures['seconds']:.1f}s "
          f"inside the command); attribution {figures['attribution_accuracy']:.1%} (baseline "
          f"{figures['attribution_baseline']:.1%}), verbatim {figures['verbatim_rate']:.1%} of {figures['samples']}")

    sampler, load = timed(lambda: Sampler(folder / runs.MODEL_DIR))
    spec, tok, model = sampler.spec, sampler.tokenizer, sampler.model
    train_ids = np.fromfile(folder / "data" / "train.bin", dtype=np.uint32)
    eval_ids = np.fromfile(folder / "data" / "eval.bin", dtype=np.uint32)
    _, index = timed(lambda: ev.training_index(train_ids, spec, tok))
    vocab = ev.Vocab.of(spec, tok)
    sessions = ev.split_sessions(eval_ids, vocab)
    window = ev.window_of(model, runs.saved_config(folder).block_size)
    _, loss = timed(lambda: ev.token_losses(model, sessions, window))
    confusion, attribution = timed(lambda: ev.attribution(model, sessions, vocab, window))
    texts = ev.turn_texts(tok, sessions)
    samples, sampling = timed(lambda: ev.sample_turns(sampler, spec, sessions, texts, ev.SAMPLES, ChatConfig()))
    turns = int(confusion.sum())
    print(f"  phases (threads {torch.get_num_threads()}): load {load:.1f}s, verbatim index of {len(train_ids):,} "
          f"training tokens {index:.2f}s, loss over {len(eval_ids):,} held-out tokens {loss:.2f}s, attribution "
          f"of {turns} turns {attribution:.1f}s ({100 * attribution / max(1, turns):.1f}s per 100), sampling "
          f"{len(samples)} turns {sampling:.1f}s")


def synthetic_sessions(spec, tok, sessions: int, tokens: int, seed: int = 0):
    """Held-out ids: ``sessions`` sessions of about ``tokens`` tokens, four speakers, chat-length turns."""
    import numpy as np

    from bench_candidates import CHAT_TURN_LENGTHS
    from friendsim_tui.engine.text import encode_turns

    rnd = random.Random(seed)
    out: list[int] = []
    for _ in range(sessions):
        turns, size = [], 0
        while size < tokens:
            n = rnd.choice(CHAT_TURN_LENGTHS)
            text = "".join(chr(rnd.randint(97, 122)) if rnd.random() > 0.2 else " " for _ in range(2 * n))
            turns.append((rnd.choice(spec.speakers), text))
            size += n + 2
        out.extend(encode_turns(spec, tok, turns))
    return np.array(out, dtype=np.uint32)


def bench_shape(shape: str, turns: int) -> None:
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from bench_candidates import build
    from friendsim_tui.engine import evaluate as ev
    from friendsim_tui.engine.text import ChatSpec

    with tempfile.TemporaryDirectory() as tmp:
        folder = build(shape, Path(tmp))
        model = AutoModelForCausalLM.from_pretrained(folder, use_safetensors=True).eval()
        tok = AutoTokenizer.from_pretrained(folder)
        spec = ChatSpec.load(folder)
    print(Bound.measure().line())
    ids = synthetic_sessions(spec, tok, sessions=4, tokens=3000)
    vocab = ev.Vocab.of(spec, tok)
    sessions = ev.split_sessions(ids, vocab)
    window = ev.window_of(model)
    cap = max(1, turns // len(spec.speakers))
    picks = ev.pick_turns(sessions, len(spec.speakers), window, cap)[:turns]
    ev.attribution(model, sessions[:1], vocab, window, cap=1)  # warm-up
    seen, took = timed(lambda: list(ev.turn_scores(model, sessions, list(vocab.speakers), window, picks)))
    context = sum(t.start - base for _, t, base, _ in seen) / max(1, len(seen))
    counted = sum(len(s.ids) for s in sessions)
    _, loss = timed(lambda: ev.token_losses(model, sessions, window))
    print(f"{shape} (random weights, {sum(p.numel() for p in model.parameters()) / 1e6:.0f}M parameters, threads "
          f"{torch.get_num_threads()}): attribution {100 * took / len(seen):.1f}s per 100 scored turns "
          f"({len(seen)} turns, {len(spec.speakers)} speakers, mean context {context:.0f} tokens); loss pass "
          f"{10_000 * loss / counted:.1f}s per 10,000 tokens")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data-dir", type=Path, help="a data folder holding the demo run (default: build one)")
    ap.add_argument("--shapes", default="gpt2", help="model shapes for the per-100-turns figure ('' skips)")
    ap.add_argument("--turns", type=int, default=100, help="scored turns per shape")
    ap.add_argument("--threads", type=int, default=0, help="torch intra-op threads (0: torch's default)")
    ap.add_argument("--skip-demo", action="store_true")
    args = ap.parse_args(argv)
    import torch

    if args.threads:
        torch.set_num_threads(args.threads)
    if not args.skip_demo:
        if args.data_dir:
            bench_demo(args.data_dir, args.threads)
        else:
            with tempfile.TemporaryDirectory() as tmp:
                bench_demo(Path(tmp), args.threads)
    for shape in filter(None, args.shapes.split(",")):
        bench_shape(shape, args.turns)
    return 0


if __name__ == "__main__":
    sys.exit(main())
