"""Typed settings loaded from TOML.

Unknown keys and wrong types are errors that name the file, the key and what was expected, so a typo
never silently falls back to a default.
"""

from __future__ import annotations

import dataclasses
import math
import re
import sys
import types
import typing
from dataclasses import dataclass, field
from typing import Any, Callable, ClassVar
from pathlib import Path

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python 3.10 only
    import tomli as tomllib


class ConfigError(ValueError):
    """A configuration file that cannot be used; the message says where and why."""

    def __init__(self, message: str, key: str | None = None) -> None:
        super().__init__(message)
        self.key = key
        """The setting at fault, when one is (the Train form names its field by it)."""


@dataclass(frozen=True)
class Range:
    """The values a number setting accepts; NaN and infinities never are."""

    lo: float | None = None
    hi: float | None = None
    lo_open: bool = False
    """True: ``lo`` itself is not allowed (> lo rather than >= lo)."""
    hi_open: bool = False

    def allows(self, value: float) -> bool:
        if not math.isfinite(value):
            return False
        if self.lo is not None and (value <= self.lo if self.lo_open else value < self.lo):
            return False
        return self.hi is None or (value < self.hi if self.hi_open else value <= self.hi)

    def __str__(self) -> str:
        def num(x: float) -> str:
            return f"{int(x):,}" if float(x).is_integer() else f"{x:g}"

        low = None if self.lo is None else f"{'>' if self.lo_open else '>='} {num(self.lo)}"
        high = None if self.hi is None else f"{'<' if self.hi_open else '<='} {num(self.hi)}"
        if low and high and not self.lo_open and not self.hi_open:
            return f"from {num(self.lo)} to {num(self.hi)}"
        return " and ".join(x for x in (low, high) if x) or "a finite number"


def check_ranges(obj, section: str, where: str) -> None:
    """Every field of ``obj`` named in its ``RANGES`` is a finite number in its range, else a ConfigError naming
    where the value came from, the key and what is allowed."""
    for name, allowed in obj.RANGES.items():
        value = getattr(obj, name)
        if not allowed.allows(value):
            raise ConfigError(f"{where}: [{section}] {name} = {value!r}: must be {allowed}", name)


def check_choices(obj, section: str, where: str) -> None:
    """Every field of ``obj`` named in its ``CHOICES`` is one of them, else a ConfigError naming where the value
    came from, the key and the choices."""
    for name, choices in obj.CHOICES.items():
        value = getattr(obj, name)
        if value not in choices:
            raise ConfigError(f"{where}: [{section}] {name} = {value!r}: must be one of {', '.join(choices)}", name)


REDACTION_KINDS = ("emails", "phones", "urls", "secrets")


@dataclass
class DatasetConfig:
    session_gap_minutes: float = 180.0
    """A silence longer than this starts a new session (a visible boundary for the model)."""
    eval_fraction: float = 0.05
    """Share of sessions, the most recent ones, kept out of training for evaluation."""
    redact: list[str] = field(default_factory=lambda: ["emails", "phones", "secrets"])
    """What to replace with placeholders in model text: emails, phones, urls, secrets."""
    readable_mentions: bool = True
    """Turn Discord mentions and custom emoji (<@123>, <:name:id>) into readable text."""

    RANGES: ClassVar[dict[str, Range]] = {
        "session_gap_minutes": Range(0, 10 * 365 * 24 * 60, lo_open=True),
        "eval_fraction": Range(0, 1, hi_open=True),
    }

    def validate(self, where: str) -> None:
        check_ranges(self, "dataset", where)
        for kind in self.redact:
            if kind not in REDACTION_KINDS:
                raise ConfigError(
                    f"{where}: dataset.redact: unknown kind {kind!r}; expected any of {', '.join(REDACTION_KINDS)}"
                )


_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)([hms]?)")
_UNIT_SECONDS = {"h": 3600, "m": 60, "s": 1, "": 1}


def duration(text: str) -> float:
    """Seconds from ``90s``, ``5m``, ``1h``, ``1h30m``, ``1.5h`` or plain seconds (``90``); ValueError otherwise.
    (argparse names the function in its error: "invalid duration value".)"""
    compact = "".join(str(text).lower().split())
    parts = _DURATION_PART.findall(compact)
    if not compact or "".join(n + u for n, u in parts) != compact or (len(parts) > 1 and not all(u for _, u in parts)):
        raise ValueError(f"expected a duration such as 90s, 5m or 1h, got {text!r}")
    return float(sum(float(n) * _UNIT_SECONDS[u] for n, u in parts))


def format_duration(seconds: float | None, *, rough: bool = False) -> str:
    """``duration``'s input for ``seconds``: 0, 45s, 1m30s, 2h, 1h05m (None: —).

    ``rough``: a time left or taken, as the dashboard shows it at a glance: seconds only under ten minutes,
    days from two days on, every unit after the first in two digits (45s, 1m00s, 41m, 2h00m, 3d02h)."""
    if seconds is None:
        return "—"
    total = int(round(seconds))
    if total <= 0 and not rough:
        return "0"
    h, rest = divmod(total, 3600)
    m, s = divmod(rest, 60)
    if rough:
        if h >= 48:
            return f"{h // 24}d{h % 24:02d}h"
        if h:
            return f"{h}h{m:02d}m"
        if m >= 10:
            return f"{m}m"
        return f"{m}m{s:02d}s" if m else f"{s}s"
    if h:
        return f"{h}h{m:02d}m" if m else f"{h}h"
    if m:
        return f"{m}m{s:02d}s" if s else f"{m}m"
    return f"{s}s"


@dataclass(frozen=True)
class Option:
    """How a TrainConfig setting appears as a ``train`` flag and, when it has a ``label``, on the Train form.
    Both are generated from TrainConfig.OPTIONS; ranges and choices come from RANGES and CHOICES."""

    flag: str
    help: str
    metavar: str | None = None
    label: str = ""
    """The Train form's label; empty: the setting is not on the form."""
    hint: str = ""
    """The Train form's short note beside the field."""
    parse: Callable[[str], Any] | None = None
    """Reads the value from text when the setting's type alone cannot (see TrainConfig.reader)."""
    show: Callable[[Any], str] = str
    """Writes the value as text the form's field (and ``parse``) reads back."""


@dataclass
class TrainConfig:
    base: str = "scratch:tiny"
    block_size: int = 256
    batch_size: int = 0
    """Micro-batch size; 0 picks one that fits the device."""
    grad_accum: int = 0
    """Gradient accumulation steps; 0 picks one for an effective batch of about 16 blocks (8 from scratch)."""
    learning_rate: float = 0.0
    """0 picks a default for the base (higher for scratch and LoRA)."""
    max_steps: int = 0
    """0 trains for `epochs` instead."""
    epochs: float = 0.0
    """0 picks one: 3 for a pretrained base, 8 from scratch (a fresh model needs more passes over a chat)."""
    warmup_ratio: float = 0.05
    weight_decay: float = 0.01
    save_steps: int = 200
    eval_steps: int = 100
    """Evaluate every N steps (and at the end); 0: about ten times a run, at most 100 steps apart."""
    sample_steps: int = 100
    """Write sample lines for each friend every N steps (and at the end); 0: about five times a run."""
    lora: bool = False
    lora_r: int = 16
    lora_alpha: int = 32
    precision: str = "auto"
    """auto, bf16, fp16 or fp32."""
    seed: int = 42
    schedule: str = "cosine"
    """Learning-rate schedule after warmup: cosine (down to 10%), linear, or constant."""
    compile: str = "auto"
    """torch.compile the model: auto (on CUDA only; compiling costs minutes on a small CPU), on, off."""
    eval_max_blocks: int = 64
    """Evaluate on at most this many blocks of the eval split (keeps evals quick on big workspaces)."""
    dropout: float = 0.0
    """Dropout while training. 0 is fastest (fused attention kernels; ~15% of a CPU step saved) and how modern
    bases train; 0.1 can help a scratch model that sees a small chat many times."""
    time_budget: float = 0.0
    """Seconds of training, 0: no limit. After its first steps the run sets its length from the measured time
    per step (evals, samples and checkpoints included) to end within the budget; with max_steps or epochs
    given as well, those stay the most it trains."""
    early_stop_evals: int = 3
    """With an automatic length (max_steps and epochs 0), stop once the eval loss has not improved for this many
    evals in a row; 0: never. Either way the model a run ends with is its step with the lowest eval loss."""

    RANGES: ClassVar[dict[str, Range]] = {
        "block_size": Range(8),
        "batch_size": Range(0),
        "grad_accum": Range(0),
        "learning_rate": Range(0, 1),
        "max_steps": Range(0),
        "epochs": Range(0),
        "warmup_ratio": Range(0, 1, hi_open=True),
        "weight_decay": Range(0, 10),
        "save_steps": Range(1),
        "eval_steps": Range(0),
        "sample_steps": Range(0),
        "lora_r": Range(1),
        "lora_alpha": Range(0, lo_open=True),
        "seed": Range(0, 2**32 - 1),
        "eval_max_blocks": Range(1),
        "dropout": Range(0, 1, hi_open=True),
        "time_budget": Range(0, 366 * 24 * 3600),
        "early_stop_evals": Range(0, 1000),
    }
    CHOICES: ClassVar[dict[str, tuple[str, ...]]] = {
        "precision": ("auto", "bf16", "fp16", "fp32"),
        "schedule": ("cosine", "linear", "constant"),
        "compile": ("auto", "on", "off"),
    }
    OPTIONS: ClassVar[dict[str, Option]] = {
        # flags of `train` and fields of the Train form, in the form's order
        "base": Option("--base", "scratch:tiny, scratch:small, gpt2, distilgpt2, a hub id, a model folder or a .gguf "
                                 "file (see `train --list-bases`)", label="Base"),
        "lora": Option("--lora", "train LoRA adapters (merged into the output)", label="LoRA",
                       hint="train LoRA adapters (less memory; merged into the output)"),
        "max_steps": Option("--max-steps", "optimizer steps (overrides --epochs)", "N", "Steps",
                            "0: train by epochs"),
        "epochs": Option("--epochs", "passes over the training data (0: 3 for a pretrained base, 8 from scratch)",
                         "E", "Epochs", "0: 3, or 8 from scratch"),
        "time_budget": Option("--time-budget", "train for about this long (90s, 5m, 1h): the length is set from the "
                                               "measured step time and the run ends at its best step within it",
                              "TIME", "Budget", "90s, 5m, 1h; 0: none", parse=duration, show=format_duration),
        "block_size": Option("--block-size", "tokens per training sample", "N", "Block", "tokens per sample"),
        "batch_size": Option("--batch-size", "micro-batch (0: fit the device)", "N", "Batch", "0: fit the device"),
        "grad_accum": Option("--grad-accum", "gradient accumulation steps (0: an effective batch of about 16 blocks)",
                             "N", "Accum", "0: ~16 blocks a step"),
        "learning_rate": Option("--lr", "learning rate (0: a default for the base)", "LR", "LR",
                                "0: a default for the base"),
        "save_steps": Option("--save-steps", "checkpoint every N steps", "N", "Save every", "steps"),
        "eval_steps": Option("--eval-steps", "evaluate every N steps (0: about ten times a run)", "N", "Eval every",
                             "steps"),
        "sample_steps": Option("--sample-steps", "sample a line per friend every N steps (0: about five times a run)",
                               "N"),
        "precision": Option("--precision", "auto picks what the device does well"),
        "early_stop_evals": Option("--early-stop", "with an automatic length, stop once the eval loss has not "
                                                   "improved for N evals in a row (0: never)", "N"),
    }

    def validate(self, where: str) -> None:
        check_ranges(self, "train", where)
        check_choices(self, "train", where)

    def to_json(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_json(cls, data: dict, where: str) -> "TrainConfig":
        """A TrainConfig from ``to_json``'s output, checked as a [train] table is (ConfigError naming ``where``)."""
        if not isinstance(data, dict):
            raise ConfigError(f"{where}: expected a JSON object of [train] settings")
        return _section(cls, data, where, "train")

    @classmethod
    def reader(cls, name: str):
        """What reads setting ``name`` from text (a command-line flag, a Train form field): int, float, str, bool,
        or the option's own parser. Each raises ValueError for text that is not a value."""
        option = cls.OPTIONS.get(name)
        return (option and option.parse) or typing.get_type_hints(cls)[name]


@dataclass
class ChatConfig:
    temperature: float = 0.4
    top_k: int = 40
    top_p: float = 1.0
    repetition_penalty: float = 1.2
    candidates: int = 3
    max_new_tokens: int = 60
    quantize: str = "auto"
    """auto: int8 weights for sampling on CPUs without fast bf16 (about 3x quicker per token; a CPU with
    AMX/AVX512-BF16 samples in bf16 instead, a GPU as loaded); off: the model's own weights everywhere."""
    hide_copies: bool = False
    """Offer no candidate that copies a training message (or repeats 8 words of one in a row): such
    candidates are refilled, as duplicates are. Off, they are offered and marked "said before"."""

    RANGES: ClassVar[dict[str, Range]] = {
        "temperature": Range(0, 100, lo_open=True),
        "top_k": Range(0),
        "top_p": Range(0, 1, lo_open=True),
        "repetition_penalty": Range(0, 100, lo_open=True),
        "candidates": Range(1, 9),
        "max_new_tokens": Range(1),
    }
    CHOICES: ClassVar[dict[str, tuple[str, ...]]] = {
        "quantize": ("auto", "off"),
    }

    def validate(self, where: str) -> None:
        check_ranges(self, "chat", where)
        check_choices(self, "chat", where)


@dataclass
class Config:
    dataset: DatasetConfig = field(default_factory=DatasetConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    chat: ChatConfig = field(default_factory=ChatConfig)
    source: Path | None = None


def _type_name(tp) -> str:
    origin = typing.get_origin(tp)
    if origin is list:
        return f"a list of {_type_name(typing.get_args(tp)[0])}"
    return {int: "an integer", float: "a number", str: "a string", bool: "true or false"}.get(tp, str(tp))


def _coerce(value, tp, where: str):
    origin = typing.get_origin(tp)
    if origin is list:
        (inner,) = typing.get_args(tp)
        if not isinstance(value, list):
            raise ConfigError(f"{where}: expected {_type_name(tp)}, got {type(value).__name__}")
        return [_coerce(v, inner, f"{where}[{i}]") for i, v in enumerate(value)]
    if tp is bool:
        if not isinstance(value, bool):
            raise ConfigError(f"{where}: expected true or false, got {value!r}")
        return value
    if tp is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(f"{where}: expected an integer, got {value!r}")
        return value
    if tp is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ConfigError(f"{where}: expected a number, got {value!r}")
        return float(value)
    if tp is str:
        if not isinstance(value, str):
            raise ConfigError(f"{where}: expected a string, got {value!r}")
        return value
    raise ConfigError(f"{where}: unsupported type")  # pragma: no cover


def _section(cls, data: dict, path: str, section: str):
    all_hints = typing.get_type_hints(cls)
    hints = {f.name: all_hints[f.name] for f in dataclasses.fields(cls)}  # settings only, not RANGES
    kwargs = {}
    for key, value in data.items():
        if key not in hints:
            known = ", ".join(f.name for f in dataclasses.fields(cls))
            raise ConfigError(f"{path}: unknown key [{section}] {key!r}; expected one of: {known}")
        kwargs[key] = _coerce(value, hints[key], f"{path}: [{section}] {key}")
    obj = cls(**kwargs)
    obj.validate(path)
    return obj


def parse_config(text: str, path: str = "<config>") -> Config:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    sections = {"dataset": DatasetConfig, "train": TrainConfig, "chat": ChatConfig}
    cfg = Config()
    for key, value in data.items():
        if key not in sections:
            raise ConfigError(f"{path}: unknown section [{key}]; expected one of: {', '.join(sections)}")
        if not isinstance(value, dict):
            raise ConfigError(f"{path}: {key} must be a table ([{key}])")
        setattr(cfg, key, _section(sections[key], value, path, key))
    return cfg


def load_config(path: Path | None = None) -> Config:
    """Load ``path``, or the user's config file when it exists, or the defaults."""
    from friendsim_tui import paths

    explicit = path is not None
    path = Path(path) if path else paths.config_file()
    if not path.exists():
        if explicit:
            raise ConfigError(f"{path}: config file not found")
        return Config()
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read: {exc}") from None
    cfg = parse_config(text, str(path))
    cfg.source = path
    return cfg


def example_config() -> str:
    return (Path(__file__).parent / "config.example.toml").read_text(encoding="utf-8")
