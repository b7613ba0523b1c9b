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
    ap.add_argument("--batch", type=int, default=64, help="micro-batch (blocks); default 64")
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
    from transformers import GPT2Config, GPT2LMHeadModel
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()
    t_begin = time.perf_counter()
    dev = torch.device("cuda")
    name = torch.cuda.get_device_name()
    bf16 = torch.cuda.is_bf16_supported()
    dtype = torch.bfloat16 if bf16 else torch.float16
    peak = args.peak_tflops or next((p for frag, p in PEAKS if frag in name), None)
    torch.backends.cuda.matmul.allow_tf32 = True
    torch.backends.cudnn.allow_tf32 = True
    torch.manual_seed(0)

    cfg = GPT2Config(n_positions=max(1024, args.block), attn_implementation="sdpa", use_cache=False)
    model = GPT2LMHeadModel(cfg).to(dev)
    model.train()
    n_params = sum(p.numel() for p in model.parameters())
    n_flop_params = n_params - model.transformer.wpe.weight.numel()
    flops_per_token = 6 * n_flop_params + 12 * cfg.n_layer * cfg.n_head * (cfg.n_embd // cfg.n_head) * args.block
    decay = [p for p in model.parameters() if p.dim() >= 2]
    rest = [p for p in model.parameters() if p.dim() < 2]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.01}, {"params": rest, "weight_decay": 0.0}],
                            lr=6e-4, betas=(0.9, 0.95), fused=True)
    scaler = None if bf16 else torch.amp.GradScaler("cuda")
    fwd = model if args.no_compile else torch.compile(model)
    x = torch.randint(0, cfg.vocab_size, (args.batch, args.block), device=dev)

    def step() -> torch.Tensor:
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

    print(f"bench_gpu: {name}, {n_params / 1e6:.1f}M params, micro-batch {args.batch} x block {args.block}, "
          f"{'bf16' if bf16 else 'fp16'} autocast, fused AdamW, SDPA, compile {'off' if args.no_compile else 'on'}",
          flush=True)
    try:
        t = time.perf_counter()
        for _ in range(args.warmup):
            step()
        torch.cuda.synchronize()
        print(f"warmup ({args.warmup} steps, compilation included): {time.perf_counter() - t:.1f}s", flush=True)
        torch.cuda.reset_peak_memory_stats()
        t = time.perf_counter()
        done = 0
        for _ in range(args.steps):
            loss = step()
            done += 1
            if time.perf_counter() - t_begin > args.time_limit:
                break
        loss.item()
        torch.cuda.synchronize()
        dt = time.perf_counter() - t
    except torch.OutOfMemoryError:
        print(f"bench_gpu: out of memory at micro-batch {args.batch}; try --batch {args.batch // 2}")
        return 1
    tokens = done * args.batch * args.block
    tps = tokens / dt
    achieved = tps * flops_per_token / 1e12
    print(f"steps timed: {done}, {dt / done * 1000:.1f} ms/step, loss {loss.item():.3f}")
    print(f"tokens/s: {tps:,.0f}")
    print(f"model TFLOPS: {achieved:.1f} ({flops_per_token / 1e9:.3f} GFLOP/token)")
    if peak:
        print(f"MFU: {100 * achieved / peak:.1f}% of {peak:.0f} TFLOPS dense {'bf16' if bf16 else 'fp16'} "
              f"({'given' if args.peak_tflops else 'by name'}; goal >= 40%)")
    else:
        print("MFU: unknown peak for this GPU; pass --peak-tflops")
    print(f"peak memory: {torch.cuda.max_memory_allocated() / 2**30:.1f} GiB allocated, "
          f"{torch.cuda.max_memory_reserved() / 2**30:.1f} GiB reserved; total {time.perf_counter() - t_begin:.0f}s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
