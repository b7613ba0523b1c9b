"""The finished run's model folder, ``model/``: a standard Hugging Face folder (safetensors, tokenizer,
generation_config.json, the speaker map friendsim.json) with a model card (README.md) saying what it was
trained on and how. Written into a temp folder and renamed into place when complete (LoRA merged first)."""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from transformers import GenerationConfig

from friendsim_tui import paths
from friendsim_tui.config import TrainConfig, format_duration
from friendsim_tui.engine.plan import Plan
from friendsim_tui.engine.text import ChatSpec


def save_model(out: Path, model, tokenizer, spec: ChatSpec, *, lora: bool, eot_id: int, card: str):
    """Write the model folder; returns the model as saved (LoRA merged into its base)."""
    if lora:
        model = model.merge_and_unload()
    tmp = out.with_name(f".tmp-{out.name}")
    shutil.rmtree(tmp, ignore_errors=True)
    paths.private_dir(tmp)
    model.config.use_cache = True
    model.save_pretrained(tmp, safe_serialization=True)
    tokenizer.save_pretrained(tmp)
    GenerationConfig(
        bos_token_id=tokenizer.convert_tokens_to_ids(spec.special_tokens()[0]), eos_token_id=eot_id,
        pad_token_id=eot_id, do_sample=True, temperature=0.8, top_k=40, max_new_tokens=60,
    ).save_pretrained(tmp)
    spec.save(tmp)
    (tmp / "README.md").write_text(card, encoding="utf-8")
    if out.exists():
        shutil.rmtree(out)
    os.replace(tmp, out)
    return model


def update_card(out: Path, card: str) -> None:
    """Replace the model folder's card (README.md), atomically."""
    tmp = out / ".README.md.tmp"
    with paths.open_private(tmp, "w", encoding="utf-8") as f:
        f.write(card)
    os.replace(tmp, out / "README.md")


@dataclass
class CardFacts:
    """What the model card says beyond the settings: the run as it went."""

    run: str
    info: dict
    """The run's run.json (its data figures and the base as a person reads it)."""
    speakers: int
    params: int
    trainable: int
    step: int
    tokens: int
    precision: str
    device: str
    world: int
    eval: dict
    """The eval loss and perplexity of the weights saved."""
    model_step: int
    """The step the weights are from: the one with the lowest eval loss."""
    reason: str | None = None
    """Why the run ended before its planned steps (early stop, the time budget); None: it did not."""
    figures: dict | None = None
    """The held-out figures computed at the end (engine.evaluate.KEYS); None before or without them."""


def model_card(cfg: TrainConfig, plan: Plan, facts: CardFacts) -> str:
    p, f = plan, facts
    data = f.info.get("data", {})
    ev = f.eval
    lines = [
        "---", "library_name: transformers", "pipeline_tag: text-generation", "tags: [friendsim-tui]", "---", "",
        f"# {f.run}", "",
        "A causal language model fine-tuned by friendsim-tui on a private chat workspace. It writes turns as "
        "`<|session|><|speaker_N|>text<|eot|>...`; `friendsim.json` maps N to a speaker name.", "",
        "## Base", f"- base: `{cfg.base}` ({f.info.get('base_label', cfg.base)})",
        f"- parameters: {f.params:,} (trained: {f.trainable:,}{', LoRA merged' if cfg.lora else ''})", "",
        "## Data",
        f"- sessions: {data.get('sessions', '?')} ({data.get('train_sessions', '?')} train, "
        f"{data.get('eval_sessions', '?')} eval), messages: {data.get('messages', '?')}",
        f"- tokens: {data.get('train_tokens', '?')} train, {data.get('eval_tokens', '?')} eval; "
        f"speakers: {f.speakers}", "",
        "## Settings",
        f"- steps: {f.step} of {p.max_steps}; block size {cfg.block_size}; micro-batch {p.batch_size} x "
        f"accumulation {p.grad_accum} x {f.world} process(es) = {p.blocks_per_step} blocks per step",
        f"- learning rate {p.learning_rate:g} ({cfg.schedule}, {p.warmup_steps} warmup steps), weight decay "
        f"{cfg.weight_decay}, precision {f.precision}, device {f.device}",
        f"- LoRA: r={cfg.lora_r}, alpha={cfg.lora_alpha}" if cfg.lora else "- full fine-tune",
        f"- tokens trained: {f.tokens:,}" + (f"; time budget {format_duration(cfg.time_budget)}"
                                              if cfg.time_budget else ""), "",
        "## Evaluation",
        (f"- eval loss {ev['eval_loss']}, perplexity {ev['perplexity']}" if ev else "- no eval split"),
        *_which_step(f), *_figures(f.figures), "",
    ]
    return "\n".join(lines)


def _which_step(f: CardFacts) -> list[str]:
    ended = f" ({f.reason})" if f.reason else ""
    if not f.eval:
        return [f"- the weights are the last step's, step {f.step}{ended}"]
    if f.model_step == f.step:
        return [f"- the weights are step {f.step}'s, the last, whose eval loss was the run's lowest{ended}"]
    return [f"- the weights are step {f.model_step}'s, whose eval loss was the run's lowest; training went on to "
            f"step {f.step}{ended}"]


def _figures(figures: dict | None) -> list[str]:
    """The held-out figures as lines (engine.evaluate.KEYS; ``friendsim-tui eval`` prints the same)."""
    if not figures:
        return []

    def pct(x):
        return "-" if x is None else f"{100 * x:.1f}%"

    lines = ["", "Held-out figures (`friendsim-tui eval` recomputes them):"]
    if figures.get("attribution_accuracy") is not None:
        lines.append(f"- speaker attribution {pct(figures['attribution_accuracy'])} (always guessing the commonest "
                     f"speaker: {pct(figures.get('attribution_baseline'))})")
    if figures.get("samples"):
        lines.append(f"- verbatim {pct(figures.get('verbatim_rate'))} of {figures['samples']} sampled turns copy a "
                     f"training message or 8 words of one; distinct-2 {figures.get('distinct_2')}")
    for name, row in (figures.get("speakers") or {}).items():
        lines.append(f"- {name}: {row.get('turns')} turns, eval loss {row.get('eval_loss')}, attribution "
                     f"{pct(row.get('attribution'))}")
    return lines
