"""The training loop: a plain PyTorch loop a reader can hold in their head (after nanoGPT).

Why not the HF Trainer: we need every step as an event, our own checkpoint format (written to a temp
folder, renamed into place, validated on resume), OOM recovery that halves the micro-batch mid-run, and
a stop file the dashboard can drop in the run folder. Each of those fights the Trainer; the loop is short.

The run folder and the files everyone reads are named and described in friendsim_tui.runs; the engine's own::

    init/             tokenizer + model config at step 0 (resume rebuilds from here)
    data/             train.bin / eval.bin: packed uint32 token ids (resume sees identical data)
    checkpoints/step-00000200/   model.safetensors (trainable weights), state.pt (optimizer, scheduler,
                      RNG), trainer_state.json, manifest.json (written last: names and sizes)
    model/            the final Hugging Face model folder (safetensors, tokenizer, generation_config,
                      README.md model card, friendsim.json)

Distributed: under ``torchrun`` / ``accelerate launch`` (WORLD_SIZE > 1) every process trains a shard of
each step with DDP (gloo on CPU, nccl on CUDA); only rank 0 writes files and events.
"""

from __future__ import annotations

import dataclasses
import errno
import json
import math
import os
import shutil
import signal
import sys
import time
import traceback
from contextlib import nullcontext
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable

from friendsim_tui import paths, runs
from friendsim_tui.config import DatasetConfig, TrainConfig
from friendsim_tui.engine import bases, devices
from friendsim_tui.engine.text import EOT, ChatSpec, encode_turns
from friendsim_tui.runs import EventLog, RunError, RunLocked, saved_config  # noqa: F401  (RunLocked: for callers)

KEEP_CHECKPOINTS = 2
SAMPLE_SPEAKERS = 8


class TrainError(RunError):
    """A run that cannot start or continue; the message is one clear line for the user."""


# ---------------------------------------------------------------------------------------------
# Distributed plumbing (a no-op for one process)


@dataclass
class Dist:
    rank: int = 0
    world: int = 1
    local_rank: int = 0
    local_world: int = 1

    @classmethod
    def from_env(cls) -> "Dist":
        env = os.environ
        return cls(int(env.get("RANK", 0)), int(env.get("WORLD_SIZE", 1)), int(env.get("LOCAL_RANK", 0)),
                   int(env.get("LOCAL_WORLD_SIZE", env.get("WORLD_SIZE", 1))))

    @property
    def main(self) -> bool:
        return self.rank == 0

    def init(self, cuda: bool) -> None:
        import torch.distributed as td

        if self.world > 1 and not td.is_initialized():
            td.init_process_group(backend="nccl" if cuda else "gloo")

    def barrier(self) -> None:
        if self.world > 1:
            import torch.distributed as td

            td.barrier()

    def broadcast(self, obj):
        if self.world == 1:
            return obj
        import torch.distributed as td

        box = [obj]
        td.broadcast_object_list(box, src=0)
        return box[0]

    def all_sum(self, values: list[float]) -> list[float]:
        if self.world == 1:
            return values
        import torch
        import torch.distributed as td

        t = torch.tensor(values, dtype=torch.float64)
        td.all_reduce(t)
        return t.tolist()

    def close(self) -> None:
        if self.world > 1:
            import torch.distributed as td

            if td.is_initialized():
                td.destroy_process_group()


# ---------------------------------------------------------------------------------------------
# Data


def _block_view(ids, block_size: int):
    import torch

    n = len(ids) // block_size
    return torch.from_numpy(ids[: n * block_size].astype("int64")).view(n, block_size)


class BlockStream:
    """Blocks in a seeded order per epoch. Step s always reads global blocks [s*E, (s+1)*E), so the data
    position is just the step: a resumed run reads exactly what the original would have."""

    def __init__(self, blocks, seed: int):
        self.blocks, self.seed, self._perm = blocks, seed, (-1, None)

    def __len__(self) -> int:
        return self.blocks.shape[0]

    def take(self, start: int, count: int):
        import torch

        rows = []
        n = len(self)
        for k in range(start, start + count):
            epoch, i = divmod(k, n)
            if self._perm[0] != epoch:
                g = torch.Generator().manual_seed(self.seed * 100_003 + epoch)
                self._perm = (epoch, torch.randperm(n, generator=g))
            rows.append(self._perm[1][i])
        return self.blocks[torch.stack(rows)]


# ---------------------------------------------------------------------------------------------
# Settings derived from config, data and device


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
    epochs = cfg.epochs or (8.0 if scratch else 3.0)
    max_steps = cfg.max_steps or max(1, math.ceil(epochs * n_blocks / bps))
    warmup = int(cfg.warmup_ratio * max_steps)
    every = max(1, min(100, max_steps // 10))  # about ten evals per run, at most 100 steps apart
    return Plan(batch, accum, bps, max_steps, cfg.learning_rate or lr, warmup, precision,
                cfg.eval_steps or every, cfg.sample_steps or max(1, min(100, max_steps // 5)))


def lr_factor(step: int, warmup: int, total: int, schedule: str) -> float:
    if warmup and step < warmup:
        return (step + 1) / (warmup + 1)
    progress = min(1.0, (step - warmup) / max(1, total - warmup))
    if schedule == "linear":
        return 1.0 - 0.9 * progress
    if schedule == "constant":
        return 1.0
    return 0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * progress))  # cosine down to 10%


def fast_training_kernels(model, dropout: float) -> None:
    """Dropout at ``dropout`` (0 by default: dropout costs ~15% of a CPU step and turns off the fused SDPA
    kernels) and GPT-2's hand-written tanh GELU swapped for torch's fused one (the same formula)."""
    import torch
    from transformers.activations import GELUTanh, NewGELUActivation

    for module in model.modules():
        if isinstance(module, torch.nn.Dropout):
            module.p = dropout
        for name, child in module.named_children():
            if isinstance(child, NewGELUActivation):
                setattr(module, name, GELUTanh())


LOSS_CHUNK = 2048
"""Tokens per cross-entropy chunk: fp32 values exist for one chunk at a time, never for the whole batch."""


def chunked_causal_lm_loss(logits, labels, vocab_size=None, num_items_in_batch=None, ignore_index=-100,
                           shift_labels=None, **kwargs):
    """Drop-in for transformers' ForCausalLMLoss, faster and without its fp32 copies of all logits.

    The stock loss upcasts the whole (batch, block, vocab) logits to fp32 and keeps the log-softmax for
    backward: ~2.5 GB for GPT-2 at micro-batch 16, and several passes over it. Here each chunk of tokens is
    upcast once; its loss and its gradient (softmax minus one-hot) are computed together in the forward
    pass and the gradient is kept in the logits' own dtype, so backward is one scaling.
    """
    import torch.nn.functional as F

    if shift_labels is None:
        shift_labels = F.pad(labels, (0, 1), value=ignore_index)[..., 1:]
    targets = shift_labels.reshape(-1).to(logits.device)
    total = _ChunkedCrossEntropy.apply(logits, targets, ignore_index)
    count = num_items_in_batch if num_items_in_batch is not None else (targets != ignore_index).sum()
    if hasattr(count, "to"):
        count = count.to(total.device)
    return total / count


def _chunked_ce_class():
    import torch

    class ChunkedCrossEntropy(torch.autograd.Function):
        """Sum of token cross-entropies; the gradient is computed in forward, chunk by chunk."""

        @staticmethod
        def forward(ctx, logits, targets, ignore_index):
            flat = logits.reshape(-1, logits.shape[-1])
            grad = torch.empty_like(flat) if logits.requires_grad else None
            total = torch.zeros((), dtype=torch.float32, device=logits.device)
            for start in range(0, flat.shape[0], LOSS_CHUNK):
                x = flat[start: start + LOSS_CHUNK].float()
                tg = targets[start: start + LOSS_CHUNK]
                valid = (tg != ignore_index).unsqueeze(1)
                safe = tg.clamp_min(0).unsqueeze(1)
                lse = torch.logsumexp(x, dim=-1, keepdim=True)
                total += ((lse - x.gather(1, safe)) * valid).sum()
                if grad is not None:
                    x.sub_(lse).exp_()  # softmax, in place
                    x.scatter_add_(1, safe, -torch.ones_like(lse))
                    grad[start: start + LOSS_CHUNK] = x.mul_(valid)
            ctx.save_for_backward(grad)
            ctx.shape = logits.shape
            return total

        @staticmethod
        def backward(ctx, grad_total):
            (grad,) = ctx.saved_tensors
            return grad.mul_(grad_total.to(grad.dtype)).view(ctx.shape), None, None  # used once: in place

    return ChunkedCrossEntropy


class _LazyFunction:
    """Defers building the autograd.Function until torch is imported (this module stays torch-free)."""

    _cls = None

    @classmethod
    def apply(cls, *args):
        if cls._cls is None:
            cls._cls = _chunked_ce_class()
        return cls._cls.apply(*args)


_ChunkedCrossEntropy = _LazyFunction


def is_oom(exc: BaseException) -> bool:
    import torch

    if isinstance(exc, torch.OutOfMemoryError):
        return True
    text = str(exc)
    return isinstance(exc, RuntimeError) and ("out of memory" in text or "can't allocate memory" in text)


def gib(n: float) -> str:
    return f"{n / 2**30:.1f} GiB"


# ---------------------------------------------------------------------------------------------


@dataclass
class TrainResult:
    status: str
    run_dir: Path
    step: int
    max_steps: int
    model_dir: Path | None = None
    eval: dict = field(default_factory=dict)
    message: str = ""


class Trainer:
    """One run: ``Trainer(workspace, run, cfg).run()``. See the module docstring for the files."""

    def __init__(self, workspace: str, run: str, cfg: TrainConfig, *, resume: bool = False,
                 dataset_cfg: DatasetConfig | None = None, log: Callable[[str], None] | None = None):
        self.dir = runs.run_dir(workspace, run)  # checks both names
        self.workspace, self.run_name, self.cfg, self.resume = workspace, run, cfg, resume
        self.dataset_cfg = dataset_cfg or DatasetConfig()
        self.dist = Dist.from_env()
        self.log = log if log is not None else (lambda s: print(s, file=sys.stderr, flush=True))
        if not self.dist.main:
            self.log = lambda s: None
        self.events = EventLog(None)
        self.stop_reason: str | None = None
        self.locked = False
        self.model = self.ddp = self.optimizer = self.scheduler = self.scaler = None

    # -- paths --------------------------------------------------------------------------------
    @property
    def ckpt_dir(self) -> Path:
        return self.dir / runs.CHECKPOINTS_DIR

    # -- entry point --------------------------------------------------------------------------
    def run(self) -> TrainResult:
        import torch

        from transformers.utils import logging as hf_logging

        hf_logging.set_verbosity_error()  # our progress lines and events say what matters
        hf_logging.disable_progress_bar()
        if "OMP_NUM_THREADS" not in os.environ:
            torch.set_num_threads(max(1, devices.cpu_threads() // self.dist.local_world))
        self.device = devices.detect(local_rank=self.dist.local_rank)
        if self.device.kind == "cuda":
            torch.cuda.set_device(self.device.index)
            torch.backends.cuda.matmul.allow_tf32 = True  # fp32 leftovers (optimizer, norms) on tensor cores
            torch.backends.cudnn.allow_tf32 = True
        self.dist.init(self.device.kind == "cuda")
        try:
            failure: Exception | None = None
            if self.dist.main:
                try:
                    self._setup_files()
                except (RunError, bases.BaseError) as exc:
                    failure = exc if isinstance(exc, RunError) else TrainError(str(exc))
            err = self.dist.broadcast(str(failure) if failure else None)
            if err:
                raise failure or TrainError(err)
            self._build()
            handlers = self._install_signals()
            try:
                return self._loop()
            finally:
                self._restore_signals(handlers)
        except BaseException as exc:
            full = self._disk_full(exc)
            if self.locked:
                self._record_failure(full or exc)
            if full:
                raise full from None
            raise
        finally:
            self.events.close()
            if self.locked:
                runs.release_lock(self.dir)
            self.dist.close()

    @property
    def resume_hint(self) -> str:
        return f"continue with: train --workspace {self.workspace!r} --run {self.run_name!r} --resume"

    def _disk_full(self, exc: BaseException) -> TrainError | None:
        """A TrainError that says what to do, for a write that failed because the disk (or quota) is full."""
        if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT):
            return TrainError(f"{exc.strerror} ({exc.filename or self.dir}): free some space, then {self.resume_hint}")
        return None

    def _record_failure(self, exc: BaseException) -> None:
        """An error event, and status failed; a new run that never got going leaves no half-made run behind.
        Each write is tried on its own: on a full disk the event may not fit, and run.json must still say failed."""
        ours = isinstance(exc, (RunError, bases.BaseError))
        message = str(exc) if ours else f"{type(exc).__name__}: {exc}"
        event = runs.ErrorEvent(type="error", message=message, step=getattr(self, "step", 0))
        if not ours:
            event["traceback"] = traceback.format_exc(limit=8)
        try:
            if self.events.path is None:
                self.events = EventLog(self.dir / runs.EVENTS_FILE)
            self.events.emit(event)
        except OSError:
            pass
        if (self.dir / runs.RUN_FILE).exists():
            try:
                self._update_run(status="failed", error=message)
            except OSError:  # readers still see that the lock's process is gone and say failed
                pass
        else:  # failed while preparing: the name stays free for the next try
            for name in ("data", "init"):
                shutil.rmtree(self.dir / name, ignore_errors=True)
            (self.dir / "friendsim.json").unlink(missing_ok=True)

    # -- setup (rank 0): lock, dataset, tokenizer, packed data --------------------------------
    def _setup_files(self) -> None:
        import numpy as np

        from friendsim_tui import dataset
        from friendsim_tui.store import Store, StoreError

        exists = (self.dir / runs.RUN_FILE).exists()
        if self.resume and not exists:
            raise TrainError(f"no run named {self.run_name!r} in workspace {self.workspace!r} to resume")
        if not self.resume and exists:
            raise TrainError(f"run {self.run_name!r} already exists: add --resume to continue it, "
                             "or pick another --run")
        if self.resume and runs.lock_alive(self.dir):
            runs.acquire_lock(self.dir, self.run_name)  # raises RunLocked naming the pid
        if self.resume and runs.read_info(self.dir).get("status") == runs.DONE:
            raise TrainError(f"run {self.run_name!r} already finished; its model is in {self.dir / runs.MODEL_DIR}")
        paths.private_dir(runs.runs_dir(self.workspace))
        paths.private_dir(self.dir)
        runs.acquire_lock(self.dir, self.run_name)
        self.locked = True
        (self.dir / runs.STOP_FILE).unlink(missing_ok=True)
        for tmp in self.dir.glob(".tmp-*"):
            shutil.rmtree(tmp, ignore_errors=True)
        if self.ckpt_dir.exists():
            for tmp in self.ckpt_dir.glob(".tmp-*"):
                shutil.rmtree(tmp, ignore_errors=True)

        if self.resume:
            self.cfg = saved_config(self.dir)
            self.events = EventLog(self.dir / runs.EVENTS_FILE)
            return

        try:
            store = Store.for_workspace(self.workspace)
        except StoreError as exc:
            raise TrainError(str(exc)) from None
        with store:
            ds = dataset.build(store, self.dataset_cfg)
        if not ds.train:
            raise TrainError(f"workspace {self.workspace!r} has no messages to train on: "
                             "import chats first (friendsim-tui import PATH --workspace NAME)")
        spec_base = bases.resolve(self.cfg.base)
        spec = ChatSpec(speakers=ds.speakers(), workspace=self.workspace)
        texts = [t.text for s in ds.train for t in s.turns]
        self.log(f"preparing {spec_base.describe()} for {len(spec.speakers)} speakers ...")
        model, tok = bases.load(spec_base, spec.special_tokens(), texts=texts, block_size=self.cfg.block_size,
                                dtype=self._base_dtype(), seed=self.cfg.seed)
        block = self.cfg.block_size
        if getattr(model.config, "max_position_embeddings", None) and block > model.config.max_position_embeddings:
            raise TrainError(f"block size {block} is longer than {self.cfg.base}'s context "
                             f"({model.config.max_position_embeddings})")

        def pack(sessions) -> "np.ndarray":
            ids: list[int] = []
            for s in sessions:
                ids.extend(encode_turns(spec, tok, [(t.speaker, t.text) for t in s.turns]))
            return np.asarray(ids, dtype=np.uint32)

        train_ids, eval_ids = pack(ds.train), pack(ds.eval)
        if len(train_ids) < block:
            raise TrainError(f"the dataset is smaller than one block: {len(train_ids)} tokens < block size "
                             f"{block}; import more chats or use a smaller --block-size")
        if len(eval_ids) == 0 and len(train_ids) >= 20 * block:  # one session only: hold out its tail
            cut = len(train_ids) - max(block, len(train_ids) // 20)
            train_ids, eval_ids = train_ids[:cut], train_ids[cut:]
        data = paths.private_dir(self.dir / "data")
        for name, arr in (("train.bin", train_ids), ("eval.bin", eval_ids)):
            with paths.open_private(data / name, "wb") as f:
                arr.tofile(f)
        init = paths.private_dir(self.dir / "init")
        tok.save_pretrained(init)
        model.config.save_pretrained(init)
        spec.save(self.dir)
        self._prepared = (model, tok)
        self._data_stats = {
            "sessions": len(ds.sessions), "train_sessions": len(ds.train), "eval_sessions": len(ds.eval),
            "messages": sum(len(s.turns) for s in ds.sessions), "train_tokens": int(len(train_ids)),
            "eval_tokens": int(len(eval_ids)), "speakers": len(spec.speakers),
        }
        self.events = EventLog(self.dir / runs.EVENTS_FILE)
        self._update_run(status="running", created=time.time(), base=self.cfg.base,
                         base_label=spec_base.describe(), data=self._data_stats, config=asdict(self.cfg))

    def _warn(self, kind: str, message: str, **extra) -> None:
        """A warning on stderr and in the events (``kind``: see runs.WarningEvent)."""
        self.log(f"warning: {message}")
        self.events.emit(runs.WarningEvent(type="warning", kind=kind, message=message, **extra))

    def _base_dtype(self):
        import torch

        # LoRA keeps the frozen base in bf16 where the device does bf16 well: half the memory.
        if self.cfg.lora and devices.choose_precision(devices.detect(local_rank=self.dist.local_rank),
                                                      self.cfg.precision) == "bf16":
            return torch.bfloat16
        return torch.float32

    def _update_run(self, **fields) -> None:
        if self.dist.main:
            runs.update_info(self.dir, name=self.run_name, workspace=self.workspace, **fields)

    # -- model, optimizer, data on every rank -------------------------------------------------
    def _build(self) -> None:
        import numpy as np
        import torch
        from transformers import AutoConfig, AutoModelForCausalLM, AutoTokenizer

        self.dist.barrier()
        if not self.dist.main:
            self.cfg = saved_config(self.dir)
        cfg = self.cfg
        self.spec = ChatSpec.load(self.dir)
        init = self.dir / "init"
        prepared = getattr(self, "_prepared", None)
        if prepared is not None:
            model, tok = prepared
        else:
            tok = AutoTokenizer.from_pretrained(init, trust_remote_code=False)
            if cfg.base.startswith("scratch:"):
                torch.manual_seed(cfg.seed)
                model = AutoModelForCausalLM.from_config(AutoConfig.from_pretrained(init))
            else:
                model, _ = bases.load(bases.resolve(cfg.base), self.spec.special_tokens(),
                                      dtype=self._base_dtype(), seed=cfg.seed)
        self._prepared = None
        self.tok = tok
        self.eot_id = tok.convert_tokens_to_ids(EOT)
        self.precision = devices.choose_precision(self.device, cfg.precision)
        self.base_kind = "scratch" if cfg.base.startswith("scratch:") else "pretrained"

        block = cfg.block_size
        train_ids = np.fromfile(self.dir / "data" / "train.bin", dtype=np.uint32)
        eval_ids = np.fromfile(self.dir / "data" / "eval.bin", dtype=np.uint32)
        self.stream = BlockStream(_block_view(train_ids, block), cfg.seed)
        self.eval_blocks = _block_view(eval_ids, block)
        if self.eval_blocks.shape[0] == 0 and len(eval_ids) > 1:  # less than a block: one short block
            self.eval_blocks = torch.from_numpy(eval_ids.astype("int64")).view(1, -1)
        self.eval_blocks = self.eval_blocks[: cfg.eval_max_blocks]
        self.data_stats = getattr(self, "_data_stats", None) or {}

        fast_training_kernels(model, cfg.dropout)
        if not self._compile_enabled():  # compiled graphs fuse the stock loss themselves
            model.loss_function = chunked_causal_lm_loss
        if cfg.lora:
            model = self._wrap_lora(model, tok)
        model.to(self.device.torch_device)
        model.config.use_cache = False
        self.model = model
        self.params = sum(p.numel() for p in model.parameters())
        self.trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)

        mc = model.config
        shape = {"n_layer": getattr(mc, "n_layer", None) or getattr(mc, "num_hidden_layers", 12),
                 "n_embd": getattr(mc, "n_embd", None) or getattr(mc, "hidden_size", 768),
                 "vocab": mc.vocab_size}
        available = self._available_memory()
        saved_state = self._latest_checkpoint() if self.resume else None
        saved_plan = runs.read_info(self.dir).get("plan") if self.resume else None
        auto_b = auto_batch(self.device, self.params, shape, block, cfg.lora, self.precision, available)
        self.plan = make_plan(cfg, len(self.stream), self.dist.world, auto_b,
                              default_lr(self.base_kind, cfg.lora, shape["n_embd"]), self.precision, saved_plan,
                              scratch=self.base_kind == "scratch")
        if saved_state is not None:  # keep a micro-batch that OOM taught us
            self.plan.batch_size = max(1, min(self.plan.batch_size, saved_state[1]["batch_size"]))
            self.plan.grad_accum = max(1, self.plan.blocks_per_step // (self.plan.batch_size * self.dist.world))

        need = bases.estimate_memory(self.params, **shape, block_size=block, batch_size=self.plan.batch_size,
                                     lora=cfg.lora, precision=self.precision)
        self.memory_estimate = need
        if need > available:
            msg = (f"this run needs about {gib(need)} but {gib(available)} is free on {self.device.name}; "
                   "it may run out of memory: try --lora, a smaller base, or a smaller --block-size")
            self._warn("memory", msg, memory_estimate=need, memory_available=available)

        decay = [p for p in model.parameters() if p.requires_grad and p.dim() >= 2]
        no_decay = [p for p in model.parameters() if p.requires_grad and p.dim() < 2]
        fused = self.device.kind in ("cuda", "cpu")
        self.optimizer = torch.optim.AdamW(
            [{"params": decay, "weight_decay": cfg.weight_decay}, {"params": no_decay, "weight_decay": 0.0}],
            lr=self.plan.learning_rate, betas=(0.9, 0.95 if self.base_kind == "scratch" else 0.999),
            fused=fused, foreach=None if fused else True)
        p = self.plan
        self.scheduler = torch.optim.lr_scheduler.LambdaLR(
            self.optimizer, lambda s: lr_factor(s, p.warmup_steps, p.max_steps, cfg.schedule))
        self.scaler = torch.amp.GradScaler("cuda") if self.precision == "fp16" and self.device.kind == "cuda" \
            else None
        self.step, self.tokens, self.elapsed_before = 0, 0, 0.0
        self.last_eval: dict = {}
        self.last_ckpt_step = -1
        if saved_state is not None:
            self._load_checkpoint(*saved_state)
        self.ddp = model
        if self.dist.world > 1:
            from torch.nn.parallel import DistributedDataParallel

            ids = [self.device.index] if self.device.kind == "cuda" else None
            self.ddp = DistributedDataParallel(model, device_ids=ids)
        self.fwd = self.ddp
        if self._compile_enabled():
            self.fwd = torch.compile(self.ddp)
        self._update_run(status="running", plan=asdict(self.plan), max_steps=self.plan.max_steps,
                         step=self.step, world_size=self.dist.world, device=self.device.name, error=None)

    def _compile_enabled(self) -> bool:
        c = self.cfg.compile
        return c == "on" or (c == "auto" and self.device.kind == "cuda")

    def _available_memory(self) -> int:
        import psutil
        import torch

        if self.device.kind == "cuda":
            return torch.cuda.mem_get_info(self.device.index)[0]
        return psutil.virtual_memory().available

    def _wrap_lora(self, model, tok):
        from peft import LoraConfig, get_peft_model

        new_ids = [tok.convert_tokens_to_ids(t) for t in self.spec.special_tokens()]
        lcfg = LoraConfig(r=self.cfg.lora_r, lora_alpha=self.cfg.lora_alpha, lora_dropout=self.cfg.dropout,
                          task_type="CAUSAL_LM", target_modules="all-linear",
                          fan_in_fan_out=model.config.model_type == "gpt2",  # GPT-2 uses Conv1D layers
                          trainable_token_indices=new_ids)  # speaker/turn tokens must learn their meaning
        return get_peft_model(model, lcfg)

    # -- signals and stop file ----------------------------------------------------------------
    def _install_signals(self):
        old = {}

        def handler(signum, frame):
            self.stop_reason = signal.Signals(signum).name
        for sig in (signal.SIGINT, signal.SIGTERM):
            try:
                old[sig] = signal.signal(sig, handler)
            except ValueError:  # not the main thread: the stop file still works
                pass
        return old

    def _restore_signals(self, old) -> None:
        for sig, h in old.items():
            signal.signal(sig, h)

    def _should_stop(self) -> bool:
        local = 1.0 if (self.stop_reason or (self.dist.main and (self.dir / runs.STOP_FILE).exists())) else 0.0
        if self.dist.world > 1:
            local = self.dist.all_sum([local])[0]
        if local and not self.stop_reason:
            self.stop_reason = "stop requested"
        return bool(local)

    # -- one optimizer step -------------------------------------------------------------------
    def _autocast(self):
        import torch

        dt = devices.autocast_dtype(self.precision)
        return torch.autocast(self.device.kind, dtype=dt) if dt is not None else nullcontext()

    def _forward_backward(self, x, sync: bool) -> float:
        """Loss of one micro-batch (already divided by grad_accum), gradients accumulated."""
        ctx = self.ddp.no_sync() if (self.dist.world > 1 and not sync) else nullcontext()
        with ctx:
            with self._autocast():
                loss = self.fwd(input_ids=x, labels=x).loss / self.plan.grad_accum
            (self.scaler.scale(loss) if self.scaler else loss).backward()
        return float(loss.detach())

    def _train_step(self) -> tuple[float, float]:
        import torch

        while True:
            p = self.plan
            base = self.step * p.blocks_per_step
            try:
                total = 0.0
                for m in range(p.grad_accum):
                    start = base + (m * self.dist.world + self.dist.rank) * p.batch_size
                    x = self.stream.take(start, p.batch_size).to(self.device.torch_device, non_blocking=True)
                    total += self._forward_backward(x, sync=m == p.grad_accum - 1)
                if self.scaler:
                    self.scaler.unscale_(self.optimizer)
                norm = torch.nn.utils.clip_grad_norm_(
                    [q for q in self.model.parameters() if q.requires_grad], 1.0)
                if self.scaler:
                    self.scaler.step(self.optimizer)
                    self.scaler.update()
                else:
                    self.optimizer.step()
                self.optimizer.zero_grad(set_to_none=True)
                return total, float(norm)
            except Exception as exc:
                if self.fwd is not self.ddp and not is_oom(exc):  # torch.compile failed: go on without it
                    self.optimizer.zero_grad(set_to_none=True)
                    self.fwd = self.ddp
                    msg = f"torch.compile failed ({type(exc).__name__}: {str(exc)[:200]}); training without it"
                    self._warn("compile", msg, step=self.step)
                    continue
                if not is_oom(exc):
                    raise
                self.optimizer.zero_grad(set_to_none=True)
                if self.device.kind == "cuda":
                    torch.cuda.empty_cache()
                if p.batch_size == 1 or self.dist.world > 1:
                    raise TrainError(
                        f"out of memory at micro-batch {p.batch_size}"
                        + (f" on rank {self.dist.rank}" if self.dist.world > 1 else "")
                        + ": try --lora, a smaller base, --block-size or --batch-size") from None
                p.batch_size //= 2
                p.grad_accum *= 2
                msg = (f"out of memory: micro-batch now {p.batch_size}, gradient accumulation {p.grad_accum} "
                       "(same effective batch)")
                self._warn("oom", msg, step=self.step, batch_size=p.batch_size, grad_accum=p.grad_accum)

    # -- the loop -----------------------------------------------------------------------------
    def _loop(self) -> TrainResult:
        import torch

        cfg, p = self.cfg, self.plan
        block = cfg.block_size
        step_tokens = p.blocks_per_step * block
        start = runs.StartEvent(
            type="start", run=self.run_name, workspace=self.workspace, base=cfg.base, step=self.step,
            resumed=self.step > 0,
            device=self.device.name, device_kind=self.device.kind, precision=self.precision,
            threads=torch.get_num_threads(), world_size=self.dist.world, params=self.params,
            trainable_params=self.trainable, lora=cfg.lora, max_steps=p.max_steps, block_size=block,
            batch_size=p.batch_size, grad_accum=p.grad_accum, blocks_per_step=p.blocks_per_step,
            learning_rate=p.learning_rate, warmup_steps=p.warmup_steps, schedule=cfg.schedule,
            train_blocks=len(self.stream), eval_blocks=int(self.eval_blocks.shape[0]),
            speakers=self.spec.speakers, memory_estimate=self.memory_estimate, compile=self._compile_enabled(),
            data=self.data_stats, **devices.memory(self.device))
        if cfg.lora:
            start["lora_r"] = cfg.lora_r
        self.events.emit(start)
        self.log(f"training {cfg.base} on {self.device.name} ({self.precision}, {torch.get_num_threads()} threads"
                 f"{', ' + str(self.dist.world) + ' processes' if self.dist.world > 1 else ''}): "
                 f"{self.params / 1e6:.1f}M params, {p.max_steps} steps x {p.blocks_per_step} blocks of {block}")
        self.model.train()
        t_start = time.perf_counter()
        tokens_start = self.tokens
        last_print = 0.0
        if self.device.kind == "cuda":
            torch.cuda.reset_peak_memory_stats(self.device.index)
        while self.step < p.max_steps:
            if self._should_stop():
                return self._stop()
            t0 = time.perf_counter()
            loss, norm = self._train_step()
            loss = self.dist.all_sum([loss])[0] / self.dist.world
            if self.device.kind == "cuda":
                torch.cuda.synchronize(self.device.index)
            self.scheduler.step()
            self.step += 1
            self.tokens += step_tokens
            dt = time.perf_counter() - t0
            run_time = time.perf_counter() - t_start
            elapsed = self.elapsed_before + run_time
            avg = (self.tokens - tokens_start) / run_time if run_time else 0.0
            eta = (p.max_steps - self.step) * run_time / max(1, self.step - (tokens_start // step_tokens))
            if not math.isfinite(loss):
                raise TrainError(f"loss became {loss} at step {self.step}: try a lower learning rate")
            self.events.emit(runs.StepEvent(
                type="step", step=self.step, max_steps=p.max_steps, loss=round(loss, 5),
                lr=self.scheduler.get_last_lr()[0], tokens=self.tokens, elapsed=round(elapsed, 3),
                tokens_per_second=round(step_tokens / dt, 1), avg_tokens_per_second=round(avg, 1),
                step_time=round(dt, 4), eta=round(eta, 1), epoch=round(self.step * p.blocks_per_step
                                                                         / len(self.stream), 4),
                grad_norm=round(norm, 4), batch_size=p.batch_size, grad_accum=p.grad_accum,
                **devices.memory(self.device)))
            now = time.perf_counter()
            if now - last_print >= 1.0 or self.step == p.max_steps:
                last_print = now
                self.log(f"step {self.step}/{p.max_steps}  loss {loss:.4f}  lr {self.scheduler.get_last_lr()[0]:.2e}"
                         f"  {step_tokens / dt:,.0f} tok/s  eta {_fmt_secs(eta)}")
            final = self.step == p.max_steps
            if self.step % p.eval_steps == 0 or final:
                self._evaluate()
            if self.step % p.sample_steps == 0 or final:
                self._sample()
            if self.step % cfg.save_steps == 0 and not final:
                self._checkpoint(elapsed)
            self.elapsed_now = elapsed
        return self._finish()

    def _stop(self) -> TrainResult:
        elapsed = getattr(self, "elapsed_now", self.elapsed_before)
        if self.step > 0 and self.last_ckpt_step != self.step:
            self._checkpoint(elapsed)
        self.log(f"stopped at step {self.step}/{self.plan.max_steps} ({self.stop_reason}); {self.resume_hint}")
        self.events.emit(runs.DoneEvent(type="done", status="stopped", reason=self.stop_reason, step=self.step,
                                        max_steps=self.plan.max_steps))
        self._update_run(status="stopped", step=self.step)
        return TrainResult("stopped", self.dir, self.step, self.plan.max_steps, message=self.stop_reason or "")

    # -- eval and samples ---------------------------------------------------------------------
    def _evaluate(self) -> None:
        import torch

        n = self.eval_blocks.shape[0]
        if n == 0:
            return
        self.model.eval()
        total = count = 0.0
        mine = self.eval_blocks[self.dist.rank::self.dist.world]
        with torch.no_grad():
            for i in range(0, mine.shape[0], self.plan.batch_size):
                x = mine[i: i + self.plan.batch_size].to(self.device.torch_device)
                with self._autocast():
                    loss = self.model(input_ids=x, labels=x).loss
                k = x.shape[0] * (x.shape[1] - 1)
                total += float(loss) * k
                count += k
        self.model.train()
        total, count = self.dist.all_sum([total, count])
        loss = total / max(1.0, count)
        self.last_eval = {"eval_loss": round(loss, 5), "perplexity": round(math.exp(min(loss, 50)), 3)}
        self.events.emit(runs.EvalEvent(type="eval", step=self.step, max_steps=self.plan.max_steps,
                                        eval_loss=self.last_eval["eval_loss"], perplexity=self.last_eval["perplexity"],
                                        tokens=self.tokens, blocks=n))
        self.log(f"eval at step {self.step}: loss {loss:.4f}  perplexity {self.last_eval['perplexity']:.2f}")

    def sample_lines(self, max_new_tokens: int = 40) -> dict[str, str]:
        """One turn per friend: prompt ``<|session|><|speaker_i|>``, stop at ``<|eot|>``."""
        import torch

        speakers = self.spec.speakers[:SAMPLE_SPEAKERS]
        if not speakers:
            return {}
        ids = self.tok.convert_tokens_to_ids
        prompt = torch.tensor([[ids(self.spec.special_tokens()[0]), ids(self.spec.token(s))] for s in speakers],
                              device=self.device.torch_device)
        model = self.model
        model.eval()
        devs = [self.device.index] if self.device.kind == "cuda" else []
        with torch.random.fork_rng(devices=devs), torch.no_grad(), self._autocast():
            torch.manual_seed(self.cfg.seed + self.step)
            out = model.generate(input_ids=prompt, attention_mask=torch.ones_like(prompt), do_sample=True,
                                 top_k=40, temperature=0.8, max_new_tokens=max_new_tokens,
                                 eos_token_id=self.eot_id, pad_token_id=self.eot_id, use_cache=True)
        model.train()
        lines = {}
        for s, row in zip(speakers, out[:, prompt.shape[1]:].tolist()):
            if self.eot_id in row:
                row = row[: row.index(self.eot_id)]
            lines[s] = self.tok.decode(row, skip_special_tokens=True).strip()
        return lines

    def _sample(self) -> None:
        if not self.dist.main:
            self.dist.barrier()
            return
        try:
            lines = self.sample_lines()
        except Exception as exc:  # a sample is a nicety: never let it end the run
            self._warn("sample", f"sampling failed: {exc}", step=self.step)
            lines = {}
        self.dist.barrier()
        if lines:
            self.events.emit(runs.SampleEvent(type="sample", step=self.step, samples=lines))
            for s, line in lines.items():
                self.log(f"  {s}: {line[:100]!r}")

    # -- checkpoints --------------------------------------------------------------------------
    def _trainable_state(self) -> dict:
        return {n: p.detach().to("cpu").contiguous() for n, p in self.model.named_parameters() if p.requires_grad}

    def _checkpoint(self, elapsed: float) -> None:
        ok = True
        if self.dist.main:
            ok = self._write_checkpoint(elapsed)
        self.dist.barrier()
        if ok:
            self.last_ckpt_step = self.step

    def _write_checkpoint(self, elapsed: float) -> bool:
        import torch
        from safetensors.torch import save_file

        paths.private_dir(self.ckpt_dir)
        name = runs.checkpoint_dir(self.dir, self.step).name
        tmp = self.ckpt_dir / f".tmp-{name}"
        shutil.rmtree(tmp, ignore_errors=True)
        final = self.ckpt_dir / name
        try:
            paths.private_dir(tmp)
            save_file(self._trainable_state(), str(tmp / "model.safetensors"), metadata={"format": "pt"})
            rng = {"cpu": torch.get_rng_state()}
            if self.device.kind == "cuda":
                rng["cuda"] = torch.cuda.get_rng_state(self.device.index)
            state = {"optimizer": self.optimizer.state_dict(), "scheduler": self.scheduler.state_dict(), "rng": rng}
            if self.scaler:
                state["scaler"] = self.scaler.state_dict()
            with paths.open_private(tmp / "state.pt", "wb") as f:
                torch.save(state, f)
            runs.write_json_atomic(tmp / "trainer_state.json", {
                "step": self.step, "tokens": self.tokens, "elapsed": elapsed, "data_position": self.step
                * self.plan.blocks_per_step, "batch_size": self.plan.batch_size, "grad_accum": self.plan.grad_accum,
                "blocks_per_step": self.plan.blocks_per_step, "max_steps": self.plan.max_steps,
                "eval": self.last_eval, "world_size": self.dist.world, "time": time.time()})
            for f in tmp.iterdir():
                with open(f, "rb") as fh:
                    os.fsync(fh.fileno())
            runs.write_manifest(tmp, self.step)
            if final.exists():
                shutil.rmtree(final)
            os.replace(tmp, final)
        except Exception as exc:  # a full disk and friends (torch.save says RuntimeError): keep the previous one
            msg = f"could not save checkpoint at step {self.step}: {_why(exc)}; the previous one is kept"
            self._warn("checkpoint", msg, step=self.step)
            return False
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        for old in runs.checkpoints(self.dir)[KEEP_CHECKPOINTS:]:
            shutil.rmtree(old, ignore_errors=True)
        self.events.emit(runs.CheckpointEvent(type="checkpoint", step=self.step, path=str(final), tokens=self.tokens))
        self._update_run(step=self.step, last_checkpoint=str(final))
        return True

    @staticmethod
    def validate_checkpoint(folder: Path) -> dict:
        """trainer_state of a complete, undamaged checkpoint; raises ValueError naming what is wrong."""
        from safetensors import safe_open

        runs.check_manifest(folder)  # sizes and checksums
        try:
            with safe_open(str(folder / "model.safetensors"), "pt") as sf:
                list(sf.keys())
            return json.loads((folder / "trainer_state.json").read_text(encoding="utf-8"))
        except Exception as exc:
            raise ValueError(f"unreadable: {exc}") from None

    def _read_checkpoint(self, folder: Path) -> tuple[dict, dict]:
        """(trainable weights, optimizer/scheduler/RNG state) of a checkpoint; ValueError naming the file
        that will not load (never torch's own advice, which suggests loading it unsafely)."""
        import torch
        from safetensors.torch import load_file

        try:
            weights = load_file(str(folder / "model.safetensors"), device=str(self.device.torch_device))
        except Exception as exc:
            raise ValueError(f"model.safetensors is unreadable ({type(exc).__name__})") from None
        try:
            blob = torch.load(folder / "state.pt", map_location=self.device.torch_device, weights_only=True)
            blob["optimizer"], blob["scheduler"], blob["rng"]["cpu"]
        except Exception as exc:
            raise ValueError(f"state.pt is unreadable ({type(exc).__name__})") from None
        return weights, blob

    def _latest_checkpoint(self) -> tuple[Path, dict, tuple[dict, dict]] | None:
        """The newest checkpoint that checks out and loads: (folder, trainer_state, (weights, state))."""
        for folder in runs.checkpoints(self.dir):
            try:
                return folder, self.validate_checkpoint(folder), self._read_checkpoint(folder)
            except ValueError as exc:
                msg = f"skipping checkpoint {folder.name}: {exc}; trying the previous one"
                self._warn("checkpoint", msg, path=str(folder))
        if self.resume:
            self.log("no complete checkpoint: starting this run from step 0")
        return None

    def _load_checkpoint(self, folder: Path, state: dict, files: tuple[dict, dict]) -> None:
        import torch

        weights, blob = files
        params = dict(self.model.named_parameters())
        missing = [n for n, p in params.items() if p.requires_grad and n not in weights]
        if missing or any(n not in params for n in weights):
            raise TrainError(f"checkpoint {folder.name} does not match this model")
        with torch.no_grad():
            for n, t in weights.items():
                params[n].copy_(t)
        self.optimizer.load_state_dict(blob["optimizer"])
        self.scheduler.load_state_dict(blob["scheduler"])
        torch.set_rng_state(blob["rng"]["cpu"].cpu())
        if "cuda" in blob["rng"] and self.device.kind == "cuda":
            torch.cuda.set_rng_state(blob["rng"]["cuda"].cpu(), self.device.index)
        if self.scaler and "scaler" in blob:
            self.scaler.load_state_dict(blob["scaler"])
        self.step, self.tokens = state["step"], state["tokens"]
        self.elapsed_before = state.get("elapsed", 0.0)
        self.last_eval = state.get("eval", {})
        self.last_ckpt_step = self.step
        self.log(f"resumed from {folder.name} (step {self.step}/{self.plan.max_steps})")

    # -- the final model folder ---------------------------------------------------------------
    def _finish(self) -> TrainResult:
        out = self.dir / runs.MODEL_DIR
        if self.dist.main:
            self._save_model(out)
            self.events.emit(runs.DoneEvent(type="done", status="done", step=self.step, max_steps=self.plan.max_steps,
                                            model=str(out), eval=self.last_eval, tokens=self.tokens))
            self._update_run(status="done", step=self.step, model=str(out), eval=self.last_eval, finished=time.time())
            self.log(f"done: {out}")
        self.dist.barrier()
        return TrainResult("done", self.dir, self.step, self.plan.max_steps, out, self.last_eval)

    def _save_model(self, out: Path) -> None:
        from transformers import GenerationConfig

        model = self.model
        if self.cfg.lora:
            model = model.merge_and_unload()
        tmp = self.dir / ".tmp-model"
        shutil.rmtree(tmp, ignore_errors=True)
        paths.private_dir(tmp)
        model.config.use_cache = True
        model.save_pretrained(tmp, safe_serialization=True)
        self.tok.save_pretrained(tmp)
        GenerationConfig(
            bos_token_id=self.tok.convert_tokens_to_ids(self.spec.special_tokens()[0]), eos_token_id=self.eot_id,
            pad_token_id=self.eot_id, do_sample=True, temperature=0.8, top_k=40, max_new_tokens=60,
        ).save_pretrained(tmp)
        self.spec.save(tmp)
        (tmp / "README.md").write_text(self._model_card(), encoding="utf-8")
        if out.exists():
            shutil.rmtree(out)
        os.replace(tmp, out)

    def _model_card(self) -> str:
        cfg, p = self.cfg, self.plan
        run = runs.read_info(self.dir)
        data = run.get("data", {})
        ev = self.last_eval
        lines = [
            "---", "library_name: transformers", "pipeline_tag: text-generation", "tags: [friendsim-tui]", "---", "",
            f"# {self.run_name}", "",
            "A causal language model fine-tuned by friendsim-tui on a private chat workspace. It writes turns as "
            "`<|session|><|speaker_N|>text<|eot|>...`; `friendsim.json` maps N to a speaker name.", "",
            "## Base", f"- base: `{cfg.base}` ({run.get('base_label', cfg.base)})",
            f"- parameters: {self.params:,} (trained: {self.trainable:,}{', LoRA merged' if cfg.lora else ''})", "",
            "## Data",
            f"- sessions: {data.get('sessions', '?')} ({data.get('train_sessions', '?')} train, "
            f"{data.get('eval_sessions', '?')} eval), messages: {data.get('messages', '?')}",
            f"- tokens: {data.get('train_tokens', '?')} train, {data.get('eval_tokens', '?')} eval; "
            f"speakers: {len(self.spec.speakers)}", "",
            "## Settings",
            f"- steps: {self.step} of {p.max_steps}; block size {cfg.block_size}; micro-batch {p.batch_size} x "
            f"accumulation {p.grad_accum} x {self.dist.world} process(es) = {p.blocks_per_step} blocks per step",
            f"- learning rate {p.learning_rate:g} ({cfg.schedule}, {p.warmup_steps} warmup steps), weight decay "
            f"{cfg.weight_decay}, precision {self.precision}, device {self.device.name}",
            f"- LoRA: r={cfg.lora_r}, alpha={cfg.lora_alpha}" if cfg.lora else "- full fine-tune",
            f"- tokens trained: {self.tokens:,}", "",
            "## Evaluation",
            (f"- eval loss {ev['eval_loss']}, perplexity {ev['perplexity']}" if ev else "- no eval split"), "",
        ]
        return "\n".join(lines)


def _why(exc: BaseException) -> str:
    """One line about a failed write: the OS error behind it when there is one (torch wraps it)."""
    cause = exc if isinstance(exc, OSError) else exc.__context__ if isinstance(exc.__context__, OSError) else None
    if cause is not None:
        return f"{cause.strerror or cause}" + (f" ({cause.filename})" if cause.filename else "")
    return f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"


def _fmt_secs(s: float) -> str:
    s = int(s)
    return f"{s // 3600}h{s % 3600 // 60:02d}m" if s >= 3600 else f"{s // 60}m{s % 60:02d}s"


def train(workspace: str, cfg: TrainConfig, run: str, *, resume: bool = False,
          dataset_cfg: DatasetConfig | None = None, log: Callable[[str], None] | None = None) -> TrainResult:
    return Trainer(workspace, run, cfg, resume=resume, dataset_cfg=dataset_cfg, log=log).run()
