"""The numbers a run trains by, from the settings, the data and the device: micro-batch, gradient accumulation,
length, learning rate and its schedule, eval/sample intervals; and whether the run is likely to fit in memory.
Settings left at 0 get defaults here; a resumed run keeps the plan it started with."""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

from friendsim_tui.config import TrainConfig
from friendsim_tui.engine import bases, devices


@dataclass
class Plan:
    batch_size: int
    grad_accum: int
    blocks_per_step: int
    max_steps: int
    learning_rate: float
    warmup_steps: int
    precision: str
    eval_steps: int = 100
    sample_steps: int = 100


def default_lr(kind: str, lora: bool, n_embd: int) -> float:
    if lora:
        return 2e-4
    if kind == "scratch":
        return 2e-3 if n_embd <= 256 else 1e-3
    return 5e-5


def auto_batch(device: devices.DeviceInfo, params: int, model_cfg, block: int, lora: bool, precision: str,
               available: int) -> int:
    start = 64 if device.kind == "cuda" else 16
    b = start
    while b > 1:
        need = bases.estimate_memory(params, n_layer=model_cfg["n_layer"], n_embd=model_cfg["n_embd"],
                                     vocab=model_cfg["vocab"], block_size=block, batch_size=b, lora=lora,
                                     precision=precision)
        if need <= 0.8 * available:
            break
        b //= 2
    return b


def make_plan(cfg: TrainConfig, n_blocks: int, world: int, auto_b: int, lr: float, precision: str,
              saved: dict | None = None, scratch: bool = False) -> Plan:
    """Micro-batch, accumulation, length and learning rate. Unset values (0) get defaults: an effective batch
    of 16 blocks (8 from scratch: a model learning from zero on a small chat gains more from more updates),
    3 epochs for a pretrained base and 8 from scratch."""
    if saved:  # resume: the effective batch and length are part of the run
        bps = saved["blocks_per_step"]
        batch = max(1, min(saved["batch_size"], bps // world))
        accum = max(1, bps // (batch * world))
        known = {f.name for f in dataclasses.fields(Plan)} - {"batch_size", "grad_accum", "precision"}
        return Plan(batch, accum, precision=precision, **{k: v for k, v in saved.items() if k in known})
    target = min(8 if scratch else 16, n_blocks)
    batch = cfg.batch_size or max(1, min(auto_b, target // world or 1))
    accum = cfg.grad_accum or max(1, math.ceil(target / (batch * world)))
    bps = batch * accum * world
    max_steps = set_length(cfg, n_blocks, bps) or max(1, math.ceil((8.0 if scratch else 3.0) * n_blocks / bps))
    if cfg.time_budget and not set_length(cfg, n_blocks, bps):  # the budget sizes it once a few steps are timed
        max_steps = max(max_steps, MEASURE_STEPS + 2)
    warmup = int(cfg.warmup_ratio * max_steps)
    return Plan(batch, accum, bps, max_steps, cfg.learning_rate or lr, warmup, precision, *intervals(cfg, max_steps))


MEASURE_STEPS = 4
"""With a time budget: steps timed before the run's length is set (the session's first, a warm-up, not counted)."""


def set_length(cfg: TrainConfig, n_blocks: int, blocks_per_step: int) -> int | None:
    """The steps the settings ask for (max_steps, else epochs); None when the length is automatic."""
    if cfg.max_steps:
        return cfg.max_steps
    if cfg.epochs:
        return max(1, math.ceil(cfg.epochs * n_blocks / blocks_per_step))
    return None


def intervals(cfg: TrainConfig, max_steps: int, evals: int = 10, samples: int = 5) -> tuple[int, int]:
    """Steps between evals and between samples: the settings', or about ``evals`` evals and ``samples`` samples
    a run, at most 100 steps apart."""
    return (cfg.eval_steps or max(1, min(100, max_steps // evals)),
            cfg.sample_steps or max(1, min(100, max_steps // samples)))


def lr_factor(step: int, warmup: int, total: int, schedule: str) -> float:
    if warmup and step < warmup:
        return (step + 1) / (warmup + 1)
    progress = min(1.0, (step - warmup) / max(1, total - warmup))
    if schedule == "linear":
        return 1.0 - 0.9 * progress
    if schedule == "constant":
        return 1.0
    return 0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * progress))  # cosine down to 10%


def model_shape(model) -> dict[str, int]:
    """Layers, width and vocabulary, as bases.estimate_memory takes them (GPT-2 names, else Llama-style ones)."""
    mc = model.config
    return {"n_layer": getattr(mc, "n_layer", None) or getattr(mc, "num_hidden_layers", 12),
            "n_embd": getattr(mc, "n_embd", None) or getattr(mc, "hidden_size", 768),
            "vocab": mc.vocab_size}


def available_memory(device: devices.DeviceInfo) -> int:
    """Bytes free for training: the GPU's free memory, else the machine's available RAM."""
    import psutil
    import torch

    if device.kind == "cuda":
        return torch.cuda.mem_get_info(device.index)[0]
    return psutil.virtual_memory().available


@dataclass
class Memory:
    need: int
    """bases.estimate_memory for the plan's micro-batch."""
    available: int

    def warning(self, device_name: str) -> str | None:
        if self.need <= self.available:
            return None
        return (f"this run needs about {gib(self.need)} but {gib(self.available)} is free on {device_name}; "
                "it may run out of memory: try --lora, a smaller base, or a smaller --block-size")


def plan_run(cfg: TrainConfig, device: devices.DeviceInfo, model, n_blocks: int, world: int, precision: str, *,
             saved: dict | None = None, saved_batch: int | None = None) -> tuple[Plan, Memory]:
    """The run's plan for ``model`` (already on its final form: LoRA-wrapped or not) and its memory check.
    ``saved``: the plan a resumed run started with; ``saved_batch``: the micro-batch of its checkpoint (an
    out-of-memory error may have halved it: keep what it taught)."""
    params = sum(p.numel() for p in model.parameters())
    shape = model_shape(model)
    available = available_memory(device)
    scratch = cfg.base.startswith("scratch:")
    auto_b = auto_batch(device, params, shape, cfg.block_size, cfg.lora, precision, available)
    lr = default_lr("scratch" if scratch else "pretrained", cfg.lora, shape["n_embd"])
    plan = make_plan(cfg, n_blocks, world, auto_b, lr, precision, saved, scratch=scratch)
    if saved_batch is not None:
        plan.batch_size = max(1, min(plan.batch_size, saved_batch))
        plan.grad_accum = max(1, plan.blocks_per_step // (plan.batch_size * world))
    need = bases.estimate_memory(params, **shape, block_size=cfg.block_size, batch_size=plan.batch_size,
                                 lora=cfg.lora, precision=precision)
    return plan, Memory(need, available)


def gib(n: float) -> str:
    return f"{n / 2**30:.1f} GiB"
