"""How long one role-play turn takes: 5 candidates after ~200 tokens of history, ours vs the original.

    python benchmarks/bench_candidates.py [--runs 5] [--shapes gpt2,distilgpt2,scratch:tiny] [--precision auto]

For each model shape (random weights, built here: the hub is not needed) this prints

- ours: ``Sampler.candidates(history, player, n=5, ChatConfig())`` — the history is run through the model
  once at batch 1, its KV cache is shared by 5 rows sampled together, each row stops at its own
  ``<|eot|>`` and leaves the batch; median wall time over ``--runs`` runs after one warm-up.
- original: the original project's simulate_conversation.py approach on the same model, same prompt, same
  precision, same run: ``generate(num_return_sequences=3, max_new_tokens=256)`` with plain sampling,
  keeping the first line of each continuation.

Turn length, honestly: a model with random weights never chooses ``<|eot|>``, so our rows would run to
``max_new_tokens`` (60, the ChatConfig default) every time. Two figures are printed for ours:
``ours@60`` (no row ever ends early: the worst case any model can give) and ``ours@chat`` (each row is
made to end its turn after a length drawn from a chat-like distribution, median 12 tokens, as a trained
model does — the forcing is a logits processor added to the sampler's loop here, in the benchmark only). The original always
generates 256 tokens, because it never stops at the end of a turn. The ratio uses ours@chat, and ours@60
is printed next to it. ``swipe`` is ours@chat again on the same history: the previous call's prompt
cache is reused, as when the user asks for more candidates for the same turn.

Weights: ``--precision auto`` samples as the app does: bf16 on a CPU with AMX/AVX512-BF16, int8 linear
layers on other CPUs (``[chat] quantize``, engine/quantize.py). ``ours@chat fp32`` is ours@chat with
``quantize = "off"``, to show what int8 adds. The original always runs the fp32 model as loaded: the same
weights, as the original project ran them.

The bound (benchmarks/bound.py), measured before each shape in the same process: the CPU path, matmul
GFLOP/s and memory read GB/s. Each forward pass a call makes is counted as it runs (rows, new tokens,
cached tokens) into the FLOPs it needs and the bytes it must read (every weight once, and the KV cache);
``bound`` is the least time those passes can take here (the slower of compute and memory, per pass,
added up) and ``share`` is bound / median time: how close to the hardware the whole call runs,
sampling, Python and all.

The machine this runs on may be shared: the load average is printed with each shape, and ``--threads 1``
shows what contention for the two cores costs.
"""

from __future__ import annotations

import argparse
import contextlib
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bound import Bound  # noqa: E402

from friendsim_tui.turns import Turn  # noqa: E402

SHAPES = {
    # name: (n_layer, n_head, n_embd, vocab, context)
    "gpt2": (12, 12, 768, 50257, 1024),
    "distilgpt2": (6, 12, 768, 50257, 1024),
    "scratch:tiny": (4, 4, 256, 4096, 256),
}
SPEAKERS = ["Alice", "Bob Smith", "Carol", "Dan"]
# Token lengths of chat turns: short replies dominate (median 12), a few long ones.
CHAT_TURN_LENGTHS = [3, 5, 6, 8, 9, 10, 11, 12, 12, 13, 14, 16, 18, 22, 28, 40]
WORDS = ("ok lol yeah sure tonight pizza later work car game see you what time eight nine maybe why "
         "because honestly never again haha nice one who is driving bring snacks").split()


def synthetic_tokenizer(vocab_size: int, special_tokens: list[str]):
    """A GPT-2-style byte-level BPE with exactly ``vocab_size`` entries (256 bytes + merges of byte pairs +
    <|endoftext|>) and our special tokens added: the real gpt2 files are on the hub, out of reach here.
    Only its size matters for speed; every id decodes to some text."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    from friendsim_tui.engine.bases import add_chat_tokens

    alphabet = sorted(pre_tokenizers.ByteLevel.alphabet())
    vocab = {ch: i for i, ch in enumerate(alphabet)}
    merges = []
    for a in alphabet:
        for b in alphabet:
            if len(vocab) >= vocab_size - 1:
                break
            vocab[a + b] = len(vocab)
            merges.append((a, b))
    vocab["<|endoftext|>"] = len(vocab)
    tok = Tokenizer(models.BPE(vocab=vocab, merges=merges))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, model_max_length=1_000_000)
    add_chat_tokens(fast, special_tokens)
    return fast


def build(shape: str, folder: Path) -> Path:
    import torch
    from transformers import GPT2Config, GPT2LMHeadModel

    from friendsim_tui.engine.text import ChatSpec

    n_layer, n_head, n_embd, vocab, ctx = SHAPES[shape]
    spec = ChatSpec(speakers=SPEAKERS, workspace="bench")
    tok = synthetic_tokenizer(vocab, spec.special_tokens())
    cfg = GPT2Config(n_layer=n_layer, n_head=n_head, n_embd=n_embd, n_positions=ctx, vocab_size=len(tok),
                     bos_token_id=tok.bos_token_id, eos_token_id=tok.eos_token_id, pad_token_id=tok.pad_token_id)
    torch.manual_seed(0)
    model = GPT2LMHeadModel(cfg).eval()
    model.save_pretrained(folder, safe_serialization=True)
    tok.save_pretrained(folder)
    spec.save(folder)
    return folder


def history_of(sampler, tokens: int = 200) -> list[Turn]:
    rnd = random.Random(0)
    turns: list[Turn] = []
    while len(sampler.prompt_ids(turns, 10_000)[0]) < tokens:
        turns.append(Turn(SPEAKERS[len(turns) % len(SPEAKERS)], " ".join(rnd.choices(WORDS, k=rnd.randint(2, 9)))))
    return turns


@contextlib.contextmanager
def chat_length_turns(sampler, seed: int):
    """Make each row end its turn after a chat-like length (what a trained model does on its own).

    A logits processor added to the sampler's loop, here only: row r is made to write its speaker token,
    then ``lengths[r]`` text tokens, then ``<|eot|>``, and never to end earlier. The loop drops rows from
    the batch as they end, so the processor follows which rows are still there.
    """
    import torch

    rnd = random.Random(seed)
    eot, end = sampler.eot_id, sampler.end_id
    real = sampler._decode

    class EndTurnAt:
        def __init__(self, prompt_len: int, rows: int):
            self.prompt_len = prompt_len
            self.lengths = torch.tensor([rnd.choice(CHAT_TURN_LENGTHS) for _ in range(rows)])
            self.alive = torch.arange(rows)
            self.ended = None

        def __call__(self, input_ids, scores):
            if self.ended is not None:  # the rows made to end at the last step have left the batch
                self.alive = self.alive[~self.ended]
            ended = (input_ids.shape[1] - self.prompt_len - 1) >= self.lengths[self.alive]
            done = ended.to(scores.device)
            neg = torch.finfo(scores.dtype).min
            scores[~done, eot] = neg
            scores[~done, end] = neg
            scores[done] = neg
            scores[done, eot] = 0.0
            self.ended = ended
            return scores

    def decode(input_ids, cache, processors, *args):
        forcing = EndTurnAt(input_ids.shape[1], input_ids.shape[0])
        return real(input_ids, cache, [*processors, forcing], *args)

    sampler._decode = decode
    try:
        yield
    finally:
        del sampler._decode


def original(sampler, history, settings):
    """simulate_conversation.py: 3 continuations of 256 tokens, plain sampling, first line of each kept."""
    import torch

    ids = torch.tensor([sampler.prompt_ids(history, 10_000)[0]])
    new = original_new_tokens(sampler, ids.shape[1])
    with torch.inference_mode(), sampler._autocast():
        out = sampler.model.generate(  # it had no end-of-turn token: every continuation ran its full length
            input_ids=ids, attention_mask=torch.ones_like(ids), do_sample=True, max_new_tokens=new, min_new_tokens=new,
            num_return_sequences=3, temperature=settings.temperature, top_k=settings.top_k,
            repetition_penalty=settings.repetition_penalty, pad_token_id=sampler.end_id, eos_token_id=None,
        )
    assert out.shape == (3, ids.shape[1] + new), out.shape
    texts = sampler.tokenizer.batch_decode(out[:, ids.shape[1]:], skip_special_tokens=True)
    return [t.split("\n", 1)[0] for t in texts]


def original_new_tokens(sampler, prompt_len: int) -> int:
    """256, or what still fits in the context (scratch:tiny has only 256 positions)."""
    return min(256, sampler.context - prompt_len)


def loop_gap(work) -> tuple[float, float]:
    """Run ``work`` in a thread (as the chat screen's worker does) while an asyncio loop ticks every 5 ms:
    (longest gap between ticks, seconds the work took). Torch releases the GIL inside its kernels; this
    checks that the Python around them does not starve the event loop."""
    import asyncio
    import threading

    async def watch():
        done = threading.Event()
        took = [0.0]

        def run():
            t0 = time.perf_counter()
            try:
                work()
            finally:
                took[0] = time.perf_counter() - t0
                done.set()

        threading.Thread(target=run, daemon=True).start()
        worst, last = 0.0, time.perf_counter()
        while not done.is_set():
            await asyncio.sleep(0.005)
            now = time.perf_counter()
            worst, last = max(worst, now - last - 0.005), now
        return worst, took[0]

    return asyncio.run(watch())


class Work:
    """The FLOPs and bytes of every forward pass ``net`` runs inside :meth:`counting`, for the bound.

    Per pass of ``rows`` x ``new`` tokens over ``past`` cached ones: 2 FLOPs per weight per token in the
    layers (the LM head only for the positions whose logits are kept), 4 * layers * width per token per
    attended position, and every weight read once plus the KV cache (keys and values, fp32). A prompt run
    at batch 1 and then continued by several rows is counted once in the cache, however it is stored:
    the least the work needs.
    """

    def __init__(self, net):
        import torch
        from transformers.pytorch_utils import Conv1D

        from friendsim_tui.engine.quantize import Int8Linear

        cfg = net.config
        self.net, self.layers, self.width = net, cfg.n_layer, cfg.n_embd
        head = net.get_output_embeddings()
        self.head_params = head.in_features * head.out_features
        self.body_params, self.weight_bytes, self.kind = 0, 0, "fp32"
        for module in net.modules():
            if isinstance(module, Int8Linear):
                params, size, self.kind = module.in_features * module.out_features, 1, "int8"
            elif isinstance(module, (Conv1D, torch.nn.Linear)):
                params, size = module.weight.numel(), module.weight.element_size()
                if module.weight.dtype != torch.float32:
                    self.kind = "bf16"
            else:
                continue
            self.weight_bytes += params * size
            if module is not head:
                self.body_params += params
        self.passes: list[tuple[int, int, int, int]] = []

    @contextlib.contextmanager
    def counting(self):
        real = self.net.forward

        def forward(*args, **kwargs):
            ids = kwargs["input_ids"]
            cache = kwargs.get("cache") or kwargs.get("past_key_values")
            past = cache.get_seq_length() if cache is not None else 0
            keep = kwargs.get("logits_to_keep") or ids.shape[1]
            self.passes.append((ids.shape[0], ids.shape[1], past, min(keep, ids.shape[1])))
            return real(*args, **kwargs)

        self.net.forward = forward
        try:
            yield self
        finally:
            del self.net.forward

    def least_seconds(self, bound: Bound) -> float:
        total, prompt = 0.0, 0
        per_token = 2 * self.layers * self.width * 4  # keys and values, fp32
        for rows, new, past, keep in self.passes:
            if rows == 1 and new > 1:  # the prompt, run once for every row
                prompt = past + new
            shared = min(prompt, past)
            linear = 2 * self.body_params * rows * new + 2 * self.head_params * rows * keep
            attention = 4 * self.layers * self.width * rows * new * (past + (new + 1) / 2)
            cache = (shared + rows * (past + new - shared)) * per_token
            compute = bound.seconds(flops=linear, kind=self.kind) + bound.seconds(flops=attention)
            total += max(compute, bound.seconds(bytes_read=self.weight_bytes + cache))
        return total


def timed_with_bound(fn, runs: int, net, bound: Bound) -> tuple[float, list[float], float]:
    """``timed``, and the least time the median run's forward passes could take here (``bound``): the work
    of every timed run is counted, and the run closest to the median time stands for it."""
    works: list[Work] = []

    def counted():
        work = Work(net)
        with work.counting():
            fn()
        works.append(work)

    med, times = timed(counted, runs)
    works = works[1:]  # the warm-up
    nearest = min(range(len(times)), key=lambda i: abs(times[i] - med))
    return med, times, works[nearest].least_seconds(bound)


def timed(fn, runs: int) -> tuple[float, list[float]]:
    fn()  # warm-up: allocator, oneDNN kernels
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), times


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--runs", type=int, default=5, help="timed runs of ours (after a warm-up)")
    ap.add_argument("--original-runs", type=int, default=3, help="timed runs of the original approach")
    ap.add_argument("--shapes", default="gpt2,distilgpt2,scratch:tiny")
    ap.add_argument("--precision", default="auto",
                    help="auto (bf16 where the hardware has it, else int8 linear layers), fp32, bf16, "
                         "autocast (fp32 weights, bf16 matmuls)")
    ap.add_argument("--compare", default="", metavar="P,P",
                    help="also time ours@chat with these precisions (fp32, bf16, autocast): is bf16 worth it here?")
    ap.add_argument("--threads", type=int, default=0, help="torch intra-op threads (0: torch's default)")
    args = ap.parse_args(argv)

    import dataclasses
    import os

    import torch

    if args.threads:
        torch.set_num_threads(args.threads)

    from friendsim_tui.config import ChatConfig
    from friendsim_tui.engine import devices
    from friendsim_tui.engine.sampler import Sampler

    settings = ChatConfig()
    fp32_settings = dataclasses.replace(settings, quantize="off")
    info = devices.detect()
    print(f"device: {info.kind} ({info.name}), torch {torch.__version__}, threads {torch.get_num_threads()}; "
          f"ChatConfig defaults: temperature {settings.temperature}, top_k {settings.top_k}, "
          f"repetition_penalty {settings.repetition_penalty}, max_new_tokens {settings.max_new_tokens}")
    print("ours@60: rows never end early (random weights); ours@chat: rows end after chat-like lengths "
          f"(median {statistics.median(CHAT_TURN_LENGTHS)} tokens); original: 3 x 256 tokens, first line kept")
    ok = True
    for shape in args.shapes.split(","):
        with tempfile.TemporaryDirectory() as tmp:
            t0 = time.perf_counter()
            folder = build(shape, Path(tmp) / "model")
            sampler = Sampler(folder, precision=args.precision)
            build_s = time.perf_counter() - t0
            history = history_of(sampler)
            prompt_len = len(sampler.prompt_ids(history, 10_000)[0])
            n_params = sum(p.numel() for p in sampler.model.parameters())
            player = SPEAKERS[0]
            ours_net = sampler._net_for(settings)

            def ours(cold: bool = True, how=settings):
                if cold:  # a new history every turn: no help from the previous call's prompt cache
                    sampler.forget_prefix()
                out = sampler.candidates(history, player, 5, how)
                assert len(out) == 5 and all(c.speaker != player for c in out), out

            bound = Bound.measure()
            print(f"\n{shape}-shaped: {n_params / 1e6:.1f}M params, sampling with {sampler.weights}, prompt "
                  f"{prompt_len} tokens (built+loaded in {build_s:.1f}s, int8 included)\n  bound: {bound.line()}")
            full = timed_with_bound(ours, args.runs, ours_net, bound)
            with chat_length_turns(sampler, seed=1):
                chat = timed_with_bound(ours, args.runs, ours_net, bound)
                swipe, _ = timed(lambda: ours(cold=False), args.runs)
                plain = None
                if ours_net is not sampler.model:  # what int8 adds: the same turns with the weights as loaded
                    plain = timed_with_bound(lambda: ours(how=fp32_settings), args.runs, sampler.model, bound)
            orig = timed_with_bound(lambda: original(sampler, history, settings), args.original_runs,
                                    sampler.model, bound)
            orig_new = original_new_tokens(sampler, prompt_len)
            rows = [("ours@chat  5 candidates  ", chat), ("ours@60    5 candidates  ", full)]
            if plain is not None:
                rows.append(("ours@chat  fp32 weights  ", plain))
            rows.append((f"original   3 x {orig_new:<3} tok   ", orig))
            for label, (med, all_, least) in rows:
                print(f"  {label}  median {med:6.3f}s  bound {least:6.3f}s  share {least / med:4.0%}  "
                      f"best {min(all_):6.3f}s  runs {' '.join(f'{t:.3f}' for t in all_)}")
            print(f"  swipe      5 more, same history (prompt cached)  median {swipe:6.3f}s")
            with chat_length_turns(sampler, seed=2):
                gap, took = loop_gap(ours)
            print(f"  event loop while sampling in a thread: longest extra gap {gap * 1000:.0f} ms "
                  f"(sampling took {took:.2f}s)")
            speedup_chat, speedup_full = orig[0] / chat[0], orig[0] / full[0]
            print(f"  speed-up over the original: {speedup_chat:.1f}x (ours@chat), {speedup_full:.1f}x (ours@60)"
                  + (f"; int8 over fp32 weights: {plain[0] / chat[0]:.1f}x (ours@chat)" if plain else "")
                  + f"; load average now {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
            if orig_new < 256:
                print(f"  (the original is capped at {orig_new} new tokens here: 256 do not fit in the "
                      f"{sampler.context}-token context after the prompt)")
            for alt in [p for p in args.compare.split(",") if p and p != args.precision]:
                other = Sampler(folder, precision=alt)
                with chat_length_turns(other, seed=1):
                    alt_s, _ = timed(lambda: other.candidates(history, player, 5, settings) and other.forget_prefix(),
                                     args.runs)
                print(f"  ours@chat with precision={alt}: median {alt_s:.3f}s")
                del other
            if shape == "gpt2":
                target = chat[0] < 1.0 and speedup_chat >= 8 and speedup_full >= 8
                ok &= target
                print(f"  target (gpt2: ours@chat median < 1.0 s, >= 8x the original at chat lengths and at 60 "
                      f"tokens): {'met' if target else 'NOT met'}")
            del sampler
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
