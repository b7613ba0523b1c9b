"""GPT-2 (124M, random init) training throughput and MFU on one CUDA GPU, with friendsim's defaults.

    python benchmarks/bench_gpu.py                  # about 1-3 minutes; prints tokens/s and MFU
    python benchmarks/bench_gpu.py --batch 32 --block 1024 --no-compile

Self-contained (torch + transformers only) so it can be copied to any GPU box. The step is the one in
friendsim_tui/engine/train.py: bf16 autocast (fp16 + gradient scaler on GPUs without bf16), SDPA (flash)
attention, fused AdamW, gradient clipping, torch.compile, a large micro-batch. MFU counts 6N + 12*L*H*T
FLOPs per token (forward + backward, attention included; as in nanoGPT/PaLM) against the GPU's dense
bf16 peak. Exits 0 with a message where there is no CUDA GPU.
"""

from __future__ import annotations

import argparse
import sys
import time

# Dense bf16 tensor-core peaks (TFLOPS) by name fragment; the first match wins.
PEAKS = [("H200", 989.0), ("H100 PCIe", 756.0), ("H100", 989.0), ("GH200", 989.0), ("B200", 2250.0),
         ("A100", 312.0), ("A800", 312.0), ("L40S", 362.0), ("L40", 181.0), ("L4", 121.0), ("A10G", 125.0),
         ("A10", 125.0), ("RTX 4090", 165.0), ("RTX 3090", 71.0), ("V100", 125.0), ("T4", 65.0)]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--batch", type=int, nargs="+", default=[64, 128],
                    help="micro-batch sizes to try, in blocks (default: 64 128; the best is reported)")
    ap.add_argument("--block", type=int, default=256, help="tokens per block; friendsim's default 256")
    ap.add_argument("--steps", type=int, default=30, help="timed steps after warmup")
    ap.add_argument("--warmup", type=int, default=8, help="untimed steps (compilation happens here)")
    ap.add_argument("--no-compile", action="store_true")
    ap.add_argument("--peak-tflops", type=float, help="the GPU's dense bf16 peak, if its name is not known")
    ap.add_argument("--time-limit", type=float, default=240.0, help="stop timing after this many seconds")
    args = ap.parse_args()

    try:
        import torch
    except ImportError:
        print("bench_gpu: torch is not installed; nothing to measure")
        return 0
    if not torch.cuda.is_available():
        print("bench_gpu: no CUDA GPU here (torch.cuda.is_available() is False); nothing to measure")
        return 0
    from transformers import GPT2Config
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()
    t_begin = time.perf_counter()
    name = torch.cuda.get_device_name()
    bf16 = torch.cuda.is_bf16_supported()
    dtype = torch.bfloat16 if bf16 else torch.float16
    peak = args.peak_tflops or next((p for frag, p in PEAKS if frag in name), None)
    torch.backends.cuda.matmul.allow_tf32 = True
    torch.backends.cudnn.allow_tf32 = True

    cfg = GPT2Config(n_positions=max(1024, args.block), attn_implementation="sdpa", use_cache=False)
    print(f"bench_gpu: {name}, gpt2 124M random init, block {args.block}, {'bf16' if bf16 else 'fp16'} autocast, "
          f"fused AdamW, SDPA, compile {'off' if args.no_compile else 'on'}", flush=True)
    results = []
    for batch in args.batch:
        if results and time.perf_counter() - t_begin > args.time_limit * 0.6:
            print(f"skipping micro-batch {batch}: time budget")
            continue
        r = measure(args, cfg, dtype, batch, t_begin)
        if r is None:
            break
        results.append(r)
        tps, ms, loss, mem = r
        achieved = tps * flops_per_token(cfg, args.block) / 1e12
        mfu = f", MFU {100 * achieved / peak:.1f}%" if peak else ""
        print(f"  micro-batch {batch:>4}: {tps:>12,.0f} tokens/s, {ms:6.1f} ms/step, {achieved:6.1f} TFLOPS{mfu}, "
              f"peak {mem / 2**30:.1f} GiB, loss {loss:.3f}", flush=True)
    if not results:
        return 1
    tps = max(r[0] for r in results)
    achieved = tps * flops_per_token(cfg, args.block) / 1e12
    print(f"tokens/s: {tps:,.0f}  (best micro-batch; {flops_per_token(cfg, args.block) / 1e9:.3f} GFLOP/token)")
    if peak:
        print(f"MFU: {100 * achieved / peak:.1f}% of {peak:.0f} TFLOPS dense {'bf16' if bf16 else 'fp16'} "
              f"({'given' if args.peak_tflops else 'by name'}; goal >= 40%)")
    else:
        print("MFU: unknown peak for this GPU; pass --peak-tflops")
    print(f"total {time.perf_counter() - t_begin:.0f}s")
    return 0


def flops_per_token(cfg, block: int) -> float:
    n = cfg.n_layer * (12 * cfg.n_embd**2 + 13 * cfg.n_embd) + cfg.vocab_size * cfg.n_embd + 2 * cfg.n_embd
    return 6 * n + 12 * cfg.n_layer * cfg.n_embd * block  # weights (wpe excluded) + attention scores


def measure(args, cfg, dtype, batch: int, t_begin: float):
    """(tokens/s, ms/step, last loss, peak bytes) for one micro-batch size, or None on out of memory."""
    import torch
    from transformers import GPT2LMHeadModel

    torch.manual_seed(0)
    model = GPT2LMHeadModel(cfg).cuda()
    model.train()
    decay = [p for p in model.parameters() if p.dim() >= 2]
    rest = [p for p in model.parameters() if p.dim() < 2]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.01}, {"params": rest, "weight_decay": 0.0}],
                            lr=6e-4, betas=(0.9, 0.95), fused=True)
    scaler = None if dtype == torch.bfloat16 else torch.amp.GradScaler("cuda")
    fwd = model if args.no_compile else torch.compile(model)
    x = torch.randint(0, cfg.vocab_size, (batch, args.block), device="cuda")

    def step():
        with torch.autocast("cuda", dtype=dtype):
            loss = fwd(input_ids=x, labels=x).loss
        (scaler.scale(loss) if scaler else loss).backward()
        if scaler:
            scaler.unscale_(opt)
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        if scaler:
            scaler.step(opt)
            scaler.update()
        else:
            opt.step()
        opt.zero_grad(set_to_none=True)
        return loss

    try:
        t = time.perf_counter()
        for _ in range(args.warmup):
            step()
        torch.cuda.synchronize()
        print(f"  micro-batch {batch:>4}: warmup {args.warmup} steps (compilation included) "
              f"{time.perf_counter() - t:.1f}s", flush=True)
        torch.cuda.reset_peak_memory_stats()
        t = time.perf_counter()
        done = 0
        for _ in range(args.steps):
            loss = step()
            done += 1
            if time.perf_counter() - t_begin > args.time_limit:
                break
        loss = loss.item()
        torch.cuda.synchronize()
        dt = time.perf_counter() - t
    except torch.OutOfMemoryError:
        print(f"  micro-batch {batch}: out of memory")
        return None
    finally:
        del fwd, opt
    peak = torch.cuda.max_memory_allocated()
    del model
    torch.cuda.empty_cache()
    return done * batch * args.block / dt, 1000 * dt / done, loss, peak


if __name__ == "__main__":
    sys.exit(main())
