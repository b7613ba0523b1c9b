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
from friendsim_tui.config import TrainConfig
from friendsim_tui.engine.plan import Plan
from friendsim_tui.engine.text import ChatSpec


def save_model(out: Path, model, tokenizer, spec: ChatSpec, *, lora: bool, eot_id: int, card: str) -> None:
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
        f"- tokens trained: {f.tokens:,}", "",
        "## Evaluation",
        (f"- eval loss {ev['eval_loss']}, perplexity {ev['perplexity']}" if ev else "- no eval split"), "",
    ]
    return "\n".join(lines)
