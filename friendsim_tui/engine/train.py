"""The training loop: a plain PyTorch loop a reader can hold in their head (after nanoGPT).

Why not the HF Trainer: we need every step as an event, our own checkpoint format (written to a temp
folder, renamed into place, validated on resume), OOM recovery that halves the micro-batch mid-run, and
a stop file the dashboard can drop in the run folder. Each of those fights the Trainer; the loop is short.

Around the loop, one module per job (the run folder's shared files are named in friendsim_tui.runs)::

    run_files.py     taking the run (checks, lock, leftovers), run.json, events, a failure's record
    prepare.py       dataset -> tokenizer and model -> packed data (init/, data/, friendsim.json); BlockStream
    plan.py          micro-batch, accumulation, length, learning rate and schedule; the memory check
    checkpoints.py   checkpoints/step-N/: written atomically, sealed by a manifest, validated, restored
    output.py        model/: the final Hugging Face folder and its model card
    clock.py         the clock, the pace the step events report, a time budget that sizes the run
    kernels.py       the chunked loss, the fused GELU, what an out-of-memory error looks like
    dist.py          DDP plumbing: a no-op for one process

Distributed: under ``torchrun`` / ``accelerate launch`` (WORLD_SIZE > 1) every process trains a shard of
each step with DDP (gloo on CPU, nccl on CUDA); only rank 0 writes files and events.
"""

from __future__ import annotations

import math
import os
import signal
import sys
import time
from contextlib import contextmanager, nullcontext
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np
import torch

from friendsim_tui import runs
from friendsim_tui.config import DatasetConfig, TrainConfig, format_duration
from friendsim_tui.engine import bases, checkpoints, clock, devices, evaluate, output, plan as planner, prepare
from friendsim_tui.engine.clock import Pace, TimeBudget
from friendsim_tui.engine.dist import Dist
from friendsim_tui.engine.kernels import chunked_causal_lm_loss, fast_training_kernels, is_oom
from friendsim_tui.engine.run_files import RunFiles, TrainError
from friendsim_tui.engine.text import EOT, ChatSpec
from friendsim_tui.runs import RunError, RunLocked, saved_config  # noqa: F401  (RunLocked: for callers)

SAMPLE_SPEAKERS = 8
ATTRIBUTION_TURNS = 6
"""Held-out turns per speaker scored for speaker attribution at each eval: the same turns every time."""
HEADLINE = ("eval_loss", "perplexity", "attribution_accuracy", "attribution_baseline", "verbatim_rate", "distinct_2")
"""The end-of-run figures the done event carries (all of them: eval.json)."""


@dataclass
class TrainResult:
    status: str
    run_dir: Path
    step: int
    max_steps: int
    model_dir: Path | None = None
    eval: dict = field(default_factory=dict)
    """The eval loss and perplexity of the model's weights."""
    message: str = ""
    best_step: int | None = None
    """The step the model's weights are from (the lowest eval loss)."""


def train(workspace: str, cfg: TrainConfig, run: str, *, resume: bool = False,
          dataset_cfg: DatasetConfig | None = None, log: Callable[[str], None] | None = None) -> TrainResult:
    return Trainer(workspace, run, cfg, resume=resume, dataset_cfg=dataset_cfg, log=log).run()


class Trainer:
    """One run: ``Trainer(workspace, run, cfg).run()``. Every attribute is created here; what the run builds
    (model, optimizer, data, plan) is None until ``_build`` sets it."""

    def __init__(self, workspace: str, run: str, cfg: TrainConfig, *, resume: bool = False,
                 dataset_cfg: DatasetConfig | None = None, log: Callable[[str], None] | None = None):
        self.dist = Dist.from_env()
        self.log = log if log is not None else (lambda s: print(s, file=sys.stderr, flush=True))
        if not self.dist.main:
            self.log = lambda s: None
        self.files = RunFiles(workspace, run, resume=resume, main=self.dist.main, log=self.log)  # checks names
        self.dir = self.files.dir
        self.workspace, self.run_name, self.cfg, self.resume = workspace, run, cfg, resume
        self.dataset_cfg = dataset_cfg or DatasetConfig()
        self.stop_reason: str | None = None
        self.device = _torch_device(self.dist)
        # built by _build(), on every rank: None until then
        self.spec: ChatSpec | None = None
        self.tok = self.model = self.ddp = self.fwd = self.optimizer = self.scheduler = self.scaler = None
        self.eot_id = -1
        self.precision = ""
        self.stream: prepare.BlockStream | None = None
        self.eval_blocks: torch.Tensor | None = None
        self.data_stats: dict[str, int] = {}
        self.plan: planner.Plan | None = None
        self.memory: planner.Memory | None = None
        self.params = self.trainable = 0
        self.held_out: tuple[list[evaluate.Session], evaluate.Vocab] | None = None
        """Rank 0, with two speakers or more: the held-out sessions, for speaker attribution at each eval."""
        # progress
        self.step = self.tokens = 0
        self.elapsed = 0.0
        self.last_eval: dict = {}
        self.evaluated_step = self.sampled_step = self.last_ckpt_step = -1
        self.best: checkpoints.Best | None = None
        self.evals_since_best = 0
        self.budget: TimeBudget | None = None

    # -- the run, from start to end ----------------------------------------------------------------
    def run(self) -> TrainResult:
        from transformers.utils import logging as hf_logging

        hf_logging.set_verbosity_error()  # our progress lines and events say what matters
        hf_logging.disable_progress_bar()
        self.dist.init(self.device.kind == "cuda")
        try:
            self._build(self._take_run())
            with self._stop_signals():
                return self._loop()
        except BaseException as exc:
            full = self.files.disk_full(exc)
            if self.files.locked:
                self.files.record_failure(full or exc, self.step)
            if full:
                raise full from None
            raise
        finally:
            self.files.close()
            self.dist.close()

    def _take_run(self) -> prepare.Prepared | None:
        """Rank 0 takes the run and, for a new one, prepares its data; every rank hears whether that worked."""
        failure: Exception | None = None
        prepared = None
        if self.dist.main:
            try:
                self.files.take()
                if self.resume:
                    self.cfg = saved_config(self.dir)
                else:
                    prepared = self._prepare()
            except (RunError, bases.BaseError) as exc:
                failure = exc if isinstance(exc, RunError) else TrainError(str(exc))
        err = self.dist.broadcast(str(failure) if failure else None)
        if err:
            raise failure or TrainError(err)
        return prepared

    def _prepare(self) -> prepare.Prepared:
        cfg = self.cfg
        prepared = prepare.prepare(self.dir, self.workspace, cfg, self.dataset_cfg,
                                   prepare.base_dtype(cfg, self.device), self.log)
        self.files.open_events()
        self.files.update(status=runs.RUNNING, created=time.time(), base=cfg.base, base_label=prepared.base_label,
                          data=prepared.data, config=cfg.to_json())
        return prepared

    # -- model, optimizer, data and plan, on every rank --------------------------------------------
    def _build(self, prepared: prepare.Prepared | None) -> None:
        self.dist.barrier()
        if not self.dist.main:
            self.cfg = saved_config(self.dir)
        cfg = self.cfg
        self.spec = ChatSpec.load(self.dir)
        if prepared is not None:
            model, self.tok = prepared.model, prepared.tokenizer
            self.data_stats = prepared.data
        else:
            model, self.tok = prepare.load_prepared(self.dir, cfg, self.spec, prepare.base_dtype(cfg, self.device))
        self.eot_id = self.tok.convert_tokens_to_ids(EOT)
        self.precision = devices.choose_precision(self.device, cfg.precision)
        self.stream, self.eval_blocks = prepare.load_blocks(self.dir, cfg)
        self.model = model = self._ready(model)
        self.params = sum(p.numel() for p in model.parameters())
        self.trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)

        saved = None
        if self.resume:
            saved = checkpoints.latest(self.dir, self.device, self.files.warn)
            if saved is None:
                self.log("no complete checkpoint: starting this run from step 0")
        self.plan, self.memory = planner.plan_run(
            cfg, self.device, model, len(self.stream), self.dist.world, self.precision,
            saved=runs.read_info(self.dir).get("plan") if self.resume else None,
            saved_batch=saved.state["batch_size"] if saved else None)
        warning = self.memory.warning(self.device.name)
        if warning:
            self.files.warn("memory", warning, memory_estimate=self.memory.need,
                            memory_available=self.memory.available)

        scratch = cfg.base.startswith("scratch:")
        decay = [p for p in model.parameters() if p.requires_grad and p.dim() >= 2]
        no_decay = [p for p in model.parameters() if p.requires_grad and p.dim() < 2]
        fused = self.device.kind in ("cuda", "cpu")
        self.optimizer = torch.optim.AdamW(
            [{"params": decay, "weight_decay": cfg.weight_decay}, {"params": no_decay, "weight_decay": 0.0}],
            lr=self.plan.learning_rate, betas=(0.9, 0.95 if scratch else 0.999),
            fused=fused, foreach=None if fused else True)
        p = self.plan
        self.scheduler = torch.optim.lr_scheduler.LambdaLR(
            self.optimizer, lambda s: planner.lr_factor(s, p.warmup_steps, p.max_steps, cfg.schedule))
        self.scaler = torch.amp.GradScaler("cuda") if self.precision == "fp16" and self.device.kind == "cuda" \
            else None
        if saved is not None:
            self._resume_from(saved)
        if self.dist.main and len(self.spec.speakers) >= 2:
            vocab = evaluate.Vocab.of(self.spec, self.tok)
            self.held_out = evaluate.split_sessions(prepare.read_ids(self.dir, "eval"), vocab), vocab
        self.ddp = model
        if self.dist.world > 1:
            from torch.nn.parallel import DistributedDataParallel

            ids = [self.device.index] if self.device.kind == "cuda" else None
            self.ddp = DistributedDataParallel(model, device_ids=ids)
        self.fwd = torch.compile(self.ddp) if self._compile_enabled() else self.ddp
        self.files.update(status=runs.RUNNING, plan=asdict(self.plan), max_steps=self.plan.max_steps,
                          step=self.step, world_size=self.dist.world, device=self.device.name, error=None)

    def _ready(self, model):
        """The model as it trains: fast kernels, our loss (unless compiled), LoRA adapters, on its device."""
        fast_training_kernels(model, self.cfg.dropout)
        if not self._compile_enabled():  # compiled graphs fuse the stock loss themselves
            model.loss_function = chunked_causal_lm_loss
        if self.cfg.lora:
            from peft import LoraConfig, get_peft_model

            new_ids = [self.tok.convert_tokens_to_ids(t) for t in self.spec.special_tokens()]
            model = get_peft_model(model, LoraConfig(
                r=self.cfg.lora_r, lora_alpha=self.cfg.lora_alpha, lora_dropout=self.cfg.dropout,
                task_type="CAUSAL_LM", target_modules="all-linear",
                fan_in_fan_out=model.config.model_type == "gpt2",  # GPT-2 uses Conv1D layers
                trainable_token_indices=new_ids))  # speaker/turn tokens must learn their meaning
        model.to(self.device.torch_device)
        model.config.use_cache = False
        return model

    def _compile_enabled(self) -> bool:
        c = self.cfg.compile
        return c == "on" or (c == "auto" and self.device.kind == "cuda")

    def _resume_from(self, saved: checkpoints.Saved) -> None:
        checkpoints.restore(saved, self.model, self.optimizer, self.scheduler, self.scaler, self.device)
        self.step, self.tokens = saved.state["step"], saved.state["tokens"]
        self.elapsed = saved.state.get("elapsed", 0.0)
        self.last_eval = saved.state.get("eval", {})
        self.last_ckpt_step = self.step
        self.best = checkpoints.read_best(self.dir)
        if self.best is not None and self.best.step <= self.step:
            self.evals_since_best = saved.state.get("evals_since_best", 0)
        self.log(f"resumed from {saved.folder.name} (step {self.step}/{self.plan.max_steps})")

    # -- the loop ----------------------------------------------------------------------------------
    def _loop(self) -> TrainResult:
        cfg, p = self.cfg, self.plan
        self._announce()
        pace = Pace(self.elapsed, self.step, self.tokens)
        if cfg.time_budget:
            ceiling = planner.set_length(cfg, len(self.stream), p.blocks_per_step)
            self.budget = TimeBudget(cfg.time_budget, cfg, ceiling, started=pace.started)
        self.model.train()
        while self.step < p.max_steps:
            if self._should_stop():
                return self._stop()
            t0 = clock.now()
            loss, norm = self._train_step()
            self.scheduler.step()
            self.step += 1
            self.tokens += p.blocks_per_step * cfg.block_size
            if not math.isfinite(loss):
                raise TrainError(f"loss became {loss} at step {self.step}: try a lower learning rate")
            self.elapsed = pace.elapsed()
            self._report(loss, norm, clock.now() - t0, pace)
            final = self.step >= p.max_steps
            if self.step % p.eval_steps == 0 or final:
                self._timed("eval", self._evaluate)  # keeps the weights whose eval loss is the best yet
            if self.step % p.sample_steps == 0 or final:
                self._timed("sample", self._sample)
            if self._stalled():
                return self._finish("early stop")
            if self.step % cfg.save_steps == 0 and not final:
                self._timed("save", self._checkpoint)
            self._keep_to_budget(pace)  # a time budget sets max_steps from the measured pace
        return self._finish("time budget" if self.budget and self.budget.ended(p.max_steps) else None)

    def _timed(self, kind: str, work: Callable[[], bool]) -> None:
        """Do ``work`` (an eval, a sample, a checkpoint); a time budget learns what it costs."""
        t0 = clock.now()
        if work() and self.budget is not None:
            self.budget.took(kind, clock.now() - t0)

    def _keep_to_budget(self, pace: Pace) -> None:
        """With a time budget, once a step and its evals, samples and checkpoint are done: after the first steps
        (and an eval and a sample, timed), and whenever a new measure or the clock says so, set the run's length to
        what fits; each change is a budget event. A run that must end now gets its last eval and sample here."""
        b = self.budget
        if b is None:
            return
        b.step_done(clock.now())
        if self.dist.broadcast(b.ready() and not b.sized):  # every rank does what rank 0's clock says
            self._timed("eval", self._evaluate)
            self._timed("sample", self._sample)
        length = self.dist.broadcast(b.new_length(self.step, pace.elapsed(), self.plan.max_steps,
                                                  self.cfg.save_steps))
        if length is None:
            return
        if length <= self.step:
            self._timed("eval", self._evaluate)
            self._timed("sample", self._sample)
        step_time = b.resize(self.plan, self.step, length, self.cfg.save_steps)
        self.files.emit(runs.BudgetEvent(type="budget", step=self.step, max_steps=length,
                                         time_budget=self.cfg.time_budget, step_time=round(step_time, 4),
                                         elapsed=round(pace.elapsed(), 3)))
        self.files.update(plan=asdict(self.plan), max_steps=length)
        if not b.announced:
            self.log(f"time budget {format_duration(self.cfg.time_budget)}: {length} steps at {step_time:.2f} s a step")
        b.announced = True

    def _train_step(self) -> tuple[float, float]:
        """One optimizer step over ``blocks_per_step`` blocks: (mean loss over the ranks, gradient norm). Out of
        memory halves the micro-batch and tries the step again; a failing torch.compile falls back to eager."""
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
                norm = torch.nn.utils.clip_grad_norm_([q for q in self.model.parameters() if q.requires_grad], 1.0)
                if self.scaler:
                    self.scaler.step(self.optimizer)
                    self.scaler.update()
                else:
                    self.optimizer.step()
                self.optimizer.zero_grad(set_to_none=True)
                if self.device.kind == "cuda":
                    torch.cuda.synchronize(self.device.index)
                return self.dist.all_sum([total])[0] / self.dist.world, float(norm)
            except Exception as exc:
                if self.fwd is not self.ddp and not is_oom(exc):  # torch.compile failed: go on without it
                    self.optimizer.zero_grad(set_to_none=True)
                    self.fwd = self.ddp
                    msg = f"torch.compile failed ({type(exc).__name__}: {str(exc)[:200]}); training without it"
                    self.files.warn("compile", msg, step=self.step)
                    continue
                if not is_oom(exc):
                    raise
                self._halve_micro_batch()

    def _halve_micro_batch(self) -> None:
        p = self.plan
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
        self.files.warn("oom", msg, step=self.step, batch_size=p.batch_size, grad_accum=p.grad_accum)

    def _forward_backward(self, x, sync: bool) -> float:
        """Loss of one micro-batch (already divided by grad_accum), gradients accumulated."""
        ctx = self.ddp.no_sync() if (self.dist.world > 1 and not sync) else nullcontext()
        with ctx:
            with self._autocast():
                loss = self.fwd(input_ids=x, labels=x).loss / self.plan.grad_accum
            (self.scaler.scale(loss) if self.scaler else loss).backward()
        return float(loss.detach())

    @contextmanager
    def _small_passes(self):
        """One CPU thread for the held-out figures: hundreds of forward passes of a few tokens each, where more
        threads only add hand-offs, and on a busy machine every hand-off waits for a core (a scratch:tiny model's
        attribution: 18 s with 2 threads, 2.3 s with 1, on a loaded 2-core CPU)."""
        threads = torch.get_num_threads()
        if self.device.kind == "cpu":
            torch.set_num_threads(1)
        try:
            yield
        finally:
            torch.set_num_threads(threads)

    def _autocast(self):
        dt = devices.autocast_dtype(self.precision)
        return torch.autocast(self.device.kind, dtype=dt) if dt is not None else nullcontext()

    # -- what the run says as it goes --------------------------------------------------------------
    def _announce(self) -> None:
        cfg, p = self.cfg, self.plan
        start = runs.StartEvent(
            type="start", run=self.run_name, workspace=self.workspace, base=cfg.base, step=self.step,
            resumed=self.step > 0, device=self.device.name, device_kind=self.device.kind, precision=self.precision,
            threads=torch.get_num_threads(), world_size=self.dist.world, params=self.params,
            trainable_params=self.trainable, lora=cfg.lora, max_steps=p.max_steps, block_size=cfg.block_size,
            batch_size=p.batch_size, grad_accum=p.grad_accum, blocks_per_step=p.blocks_per_step,
            learning_rate=p.learning_rate, warmup_steps=p.warmup_steps, schedule=cfg.schedule,
            train_blocks=len(self.stream), eval_blocks=int(self.eval_blocks.shape[0]),
            speakers=self.spec.speakers, memory_estimate=self.memory.need, compile=self._compile_enabled(),
            data=self.data_stats, **devices.memory(self.device))
        if cfg.lora:
            start["lora_r"] = cfg.lora_r
        if cfg.time_budget:
            start["time_budget"] = cfg.time_budget
        if cfg.early_stop_evals and not planner.set_length(cfg, len(self.stream), p.blocks_per_step):
            start["early_stop_evals"] = cfg.early_stop_evals
        self.files.emit(start)
        self.log(f"training {cfg.base} on {self.device.name} ({self.precision}, {torch.get_num_threads()} threads"
                 f"{', ' + str(self.dist.world) + ' processes' if self.dist.world > 1 else ''}): "
                 f"{self.params / 1e6:.1f}M params, {p.max_steps} steps x {p.blocks_per_step} blocks of "
                 f"{cfg.block_size}")
        if self.device.kind == "cuda":
            torch.cuda.reset_peak_memory_stats(self.device.index)

    def _report(self, loss: float, norm: float, dt: float, pace: Pace) -> None:
        p = self.plan
        step_tokens = p.blocks_per_step * self.cfg.block_size
        lr = self.scheduler.get_last_lr()[0]
        eta = pace.eta(self.step, p.max_steps)
        self.files.emit(runs.StepEvent(
            type="step", step=self.step, max_steps=p.max_steps, loss=round(loss, 5), lr=lr, tokens=self.tokens,
            elapsed=round(self.elapsed, 3), tokens_per_second=round(step_tokens / dt, 1) if dt else 0.0,
            avg_tokens_per_second=round(pace.tokens_per_second(self.tokens), 1), step_time=round(dt, 4),
            eta=round(eta, 1), epoch=round(self.step * p.blocks_per_step / len(self.stream), 4),
            grad_norm=round(norm, 4), batch_size=p.batch_size, grad_accum=p.grad_accum,
            **devices.memory(self.device)))
        if pace.print_now(self.step == p.max_steps):
            self.log(f"step {self.step}/{p.max_steps}  loss {loss:.4f}  lr {lr:.2e}  "
                     f"{step_tokens / max(dt, 1e-9):,.0f} tok/s  eta {_fmt_secs(eta)}")

    # -- eval and samples --------------------------------------------------------------------------
    def _evaluate(self) -> bool:
        """The eval loss (once per step); the weights are kept when it is the lowest yet. False: nothing done."""
        n = self.eval_blocks.shape[0]
        if n == 0 or self.evaluated_step == self.step:
            return False
        self.evaluated_step = self.step
        loss = self._eval_loss()
        self.last_eval = _eval_figures(loss)
        self._keep_if_best(self.last_eval["eval_loss"])
        event = runs.EvalEvent(type="eval", step=self.step, max_steps=self.plan.max_steps,
                               eval_loss=self.last_eval["eval_loss"], perplexity=self.last_eval["perplexity"],
                               tokens=self.tokens, blocks=n)
        if self.best is not None:
            event.update(best_step=self.best.step, best_eval_loss=self.best.eval_loss)
        self.files.emit(event)
        self.log(f"eval at step {self.step}: loss {loss:.4f}  perplexity {self.last_eval['perplexity']:.2f}")
        self._attribution()
        return True

    def _eval_loss(self) -> float:
        """Mean token loss over the eval blocks (each rank takes its share)."""
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
        return total / max(1.0, count)

    def _keep_if_best(self, loss: float) -> None:
        """A new lowest eval loss: keep these weights in best/ (rank 0; the last step's are the model's anyway).
        Otherwise one more eval without improvement."""
        if self.best is not None and loss >= self.best.eval_loss:
            self.evals_since_best += 1
            return
        self.evals_since_best = 0
        best = checkpoints.Best(self.step, loss)
        kept = True
        if self.dist.main and self.step < self.plan.max_steps:
            try:
                checkpoints.write_best(self.dir, best, self.model)
            except Exception as exc:  # a full disk: the previous best stays the model's weights
                kept = False
                before = f"step {self.best.step}'s" if self.best else "the last step's"
                self.files.warn("checkpoint", f"could not keep step {self.step}'s weights as the best: "
                                f"{checkpoints.why(exc)}; the model will have {before}", step=self.step)
        if self.dist.broadcast(kept):
            self.best = best
            self.files.update(best_step=best.step, best_eval_loss=best.eval_loss)

    def _attribution(self) -> None:
        """Rank 0, at each eval: whose voice the model hears in the same few held-out turns, as an event."""
        if self.held_out is not None:
            sessions, vocab = self.held_out
            window = evaluate.window_of(self.model, self.cfg.block_size)
            self.model.eval()
            try:
                with self._small_passes():
                    m = evaluate.attribution(self.model, sessions, vocab, window, cap=ATTRIBUTION_TURNS)
            except Exception as exc:  # a figure for the dashboard: never the end of the run
                self.files.warn("evaluation", f"speaker attribution failed: {exc}", step=self.step)
                m = np.zeros((0, 0))
            finally:
                self.model.train()
            if m.sum():
                self.files.emit(_attribution_event(self.step, m, self.spec.speakers))
        self.dist.barrier()

    def _stalled(self) -> bool:
        """Early stop: the length is automatic and the eval loss has not improved for ``early_stop_evals`` evals
        in a row. Says so (an event) when it is time."""
        n = self.cfg.early_stop_evals
        if not n or self.evals_since_best < n or self.step >= self.plan.max_steps or self.best is None \
                or planner.set_length(self.cfg, len(self.stream), self.plan.blocks_per_step):
            return False
        b = self.best
        message = (f"the eval loss has not improved for {self.evals_since_best} evals: stopping early at step "
                   f"{self.step}; the model gets step {b.step}'s weights (eval loss {b.eval_loss})")
        self.log(message)
        self.files.emit(runs.EarlyStopEvent(type="early_stop", step=self.step, evals=self.evals_since_best,
                                            best_step=b.step, best_eval_loss=b.eval_loss, message=message))
        return True

    def sample_lines(self, max_new_tokens: int = 40) -> dict[str, str]:
        """One turn per friend: prompt ``<|session|><|speaker_i|>``, stop at ``<|eot|>``."""
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

    def _sample(self) -> bool:
        """A line per friend, once per step (rank 0; the others wait). False: nothing done."""
        if self.sampled_step == self.step:
            return False
        self.sampled_step = self.step
        if not self.dist.main:
            self.dist.barrier()
            return True
        try:
            lines = self.sample_lines()
        except Exception as exc:  # a sample is a nicety: never let it end the run
            self.files.warn("sample", f"sampling failed: {exc}", step=self.step)
            lines = {}
        self.dist.barrier()
        if lines:
            self.files.emit(runs.SampleEvent(type="sample", step=self.step, samples=lines))
            for s, line in lines.items():
                self.log(f"  {s}: {line[:100]!r}")
        return True

    # -- checkpoints, stopping, the end ------------------------------------------------------------
    def _checkpoint(self) -> bool:
        """Save the step (rank 0); a write that fails keeps the previous checkpoint and training goes on."""
        ok = True
        if self.dist.main:
            p = self.plan
            state = {"step": self.step, "tokens": self.tokens, "elapsed": self.elapsed,
                     "data_position": self.step * p.blocks_per_step, "batch_size": p.batch_size,
                     "grad_accum": p.grad_accum, "blocks_per_step": p.blocks_per_step, "max_steps": p.max_steps,
                     "eval": self.last_eval, "evals_since_best": self.evals_since_best,
                     "world_size": self.dist.world, "time": time.time()}
            try:
                folder = checkpoints.write(self.dir, self.step, self.model, self.optimizer, self.scheduler,
                                           self.scaler, self.device, state)
            except Exception as exc:  # a full disk and friends (torch.save says RuntimeError)
                ok = False
                msg = f"could not save checkpoint at step {self.step}: {checkpoints.why(exc)}; the previous one is kept"
                self.files.warn("checkpoint", msg, step=self.step)
            else:
                self.files.emit(runs.CheckpointEvent(type="checkpoint", step=self.step, path=str(folder),
                                                     tokens=self.tokens))
                self.files.update(step=self.step, last_checkpoint=str(folder))
        self.dist.barrier()
        if ok:
            self.last_ckpt_step = self.step
        return True

    @contextmanager
    def _stop_signals(self):
        """SIGINT and SIGTERM ask the loop to stop at the next step (it saves first); the stop file works too."""
        def handler(signum, frame):
            self.stop_reason = signal.Signals(signum).name

        old = {}
        for sig in (signal.SIGINT, signal.SIGTERM):
            try:
                old[sig] = signal.signal(sig, handler)
            except ValueError:  # not the main thread: the stop file still works
                pass
        try:
            yield
        finally:
            for sig, h in old.items():
                signal.signal(sig, h)

    def _should_stop(self) -> bool:
        local = 1.0 if (self.stop_reason or (self.dist.main and (self.dir / runs.STOP_FILE).exists())) else 0.0
        if self.dist.world > 1:
            local = self.dist.all_sum([local])[0]
        if local and not self.stop_reason:
            self.stop_reason = "stop requested"
        return bool(local)

    def _stop(self) -> TrainResult:
        if self.step > 0 and self.last_ckpt_step != self.step:
            self._checkpoint()
        self.log(f"stopped at step {self.step}/{self.plan.max_steps} ({self.stop_reason}); {self.files.resume_hint}")
        self.files.emit(runs.DoneEvent(type="done", status="stopped", reason=self.stop_reason, step=self.step,
                                       max_steps=self.plan.max_steps))
        self.files.update(status=runs.STOPPED, step=self.step)
        return TrainResult("stopped", self.dir, self.step, self.plan.max_steps, message=self.stop_reason or "")

    def _finish(self, reason: str | None = None) -> TrainResult:
        """The model folder, from the weights of the step with the lowest eval loss; its held-out figures; the
        run's end. ``reason``: why it ends before its planned steps (early stop, the time budget)."""
        out = self.dir / runs.MODEL_DIR
        chosen = self._best_weights() if self.dist.main else self.best
        step = chosen.step if chosen else self.step
        ev = _eval_figures(chosen.eval_loss) if chosen else {}
        if self.dist.main:
            card = self._card(step, ev, reason, None)
            model = self._save_model(out, card)
            figures = self._final_figures(model, out, step)
            if figures:
                output.update_card(out, self._card(step, ev, reason, figures))
            done = runs.DoneEvent(type="done", status="done", step=self.step, max_steps=self.plan.max_steps,
                                  model=str(out), eval=ev, tokens=self.tokens, best_step=step)
            if chosen:
                done["best_eval_loss"] = chosen.eval_loss
            if reason:
                done["reason"] = reason
            if figures:
                done["evaluation"] = {k: figures.get(k) for k in HEADLINE}
            self.files.emit(done)
            self.files.update(status=runs.DONE, step=self.step, model=str(out), eval=ev, best_step=step,
                              best_eval_loss=chosen.eval_loss if chosen else None, ended=reason, finished=time.time())
            self.log(f"done: {out}" + (f" (step {step}'s weights: the lowest eval loss)" if step != self.step else ""))
        self.dist.barrier()
        return TrainResult("done", self.dir, self.step, self.plan.max_steps, out, ev, reason or "", step)

    def _best_weights(self) -> checkpoints.Best | None:
        """Put the best step's weights (best/) into the model; the Best they are, or None without evals. Weights
        that cannot be read leave the last step's, with a warning."""
        best = self.best
        if best is None or best.step == self.step:
            return best
        try:
            checkpoints.load_best(self.dir, self.model, self.device)
        except ValueError as exc:
            self.files.warn("checkpoint", f"the best step's weights (step {best.step}) cannot be used: {exc}; "
                            "the model gets the last step's")
            return checkpoints.Best(self.step, self.last_eval["eval_loss"]) if self.last_eval else None
        return best

    def _card(self, step: int, ev: dict, reason: str | None, figures: dict | None) -> str:
        return output.model_card(self.cfg, self.plan, output.CardFacts(
            run=self.run_name, info=runs.read_info(self.dir), speakers=len(self.spec.speakers), params=self.params,
            trainable=self.trainable, step=self.step, tokens=self.tokens, precision=self.precision,
            device=self.device.name, world=self.dist.world, eval=ev, model_step=step, reason=reason,
            figures=figures))

    def _save_model(self, out: Path, card: str):
        return output.save_model(out, self.model, self.tok, self.spec, lora=self.cfg.lora, eot_id=self.eot_id,
                                 card=card)

    def _final_figures(self, model, out: Path, step: int) -> dict | None:
        """The held-out figures of the saved model (engine.evaluate.end_of_run: eval.json in the run folder);
        None without held-out data. A failure is a warning, never the end of a finished run."""
        eval_ids = prepare.read_ids(self.dir, "eval")
        if len(eval_ids) == 0:
            return None
        self.optimizer.state.clear()  # the evaluation loads the saved model a second time: make room
        if self.device.kind == "cuda":
            torch.cuda.empty_cache()
        try:
            with self._small_passes():
                return evaluate.end_of_run(self.dir, model, self.tok, self.spec, eval_ids,
                                           prepare.read_ids(self.dir, "train"), model_dir=out, step=step,
                                           block_size=self.cfg.block_size, samples=evaluate.SAMPLES)
        except Exception as exc:
            self.files.warn("evaluation", f"the held-out figures could not be computed: {type(exc).__name__}: {exc}")
            return None


def _eval_figures(loss: float) -> dict[str, float]:
    return {"eval_loss": round(loss, 5), "perplexity": round(math.exp(min(loss, 50)), 3)}


def _attribution_event(step: int, m: np.ndarray, names: list[str]) -> runs.AttributionEvent:
    """The attribution event of a confusion matrix ``m[who wrote, whose voice]``."""
    scored, rows = int(m.sum()), m.sum(1)
    return runs.AttributionEvent(
        type="attribution", step=step, turns=scored, accuracy=round(float(np.trace(m)) / scored, 4),
        baseline=round(float(rows.max()) / scored, 4),
        speakers={n: round(float(m[i, i]) / float(rows[i]), 4) if rows[i] else None for i, n in enumerate(names)},
        confusion={names[i]: {names[j]: int(m[i, j]) for j in range(len(names)) if m[i, j]}
                   for i in range(len(names)) if rows[i]})


def _torch_device(dist: Dist) -> devices.DeviceInfo:
    """This process's device, with torch set up for it: its share of the CPU threads, its GPU, TF32 matmuls."""
    if "OMP_NUM_THREADS" not in os.environ:
        torch.set_num_threads(max(1, devices.cpu_threads() // dist.local_world))
    device = devices.detect(local_rank=dist.local_rank)
    if device.kind == "cuda":
        torch.cuda.set_device(device.index)
        torch.backends.cuda.matmul.allow_tf32 = True  # fp32 leftovers (optimizer, norms) on tensor cores
        torch.backends.cudnn.allow_tf32 = True
    return device


def _fmt_secs(s: float) -> str:
    s = int(s)
    return f"{s // 3600}h{s % 3600 // 60:02d}m" if s >= 3600 else f"{s // 60}m{s % 60:02d}s"
