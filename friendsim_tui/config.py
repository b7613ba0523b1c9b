"""Typed settings loaded from TOML.

Unknown keys and wrong types are errors that name the file, the key and what was expected, so a typo
never silently falls back to a default.
"""

from __future__ import annotations

import dataclasses
import sys
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python 3.10 only
    import tomli as tomllib


class ConfigError(ValueError):
    """A configuration file that cannot be used; the message says where and why."""


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

    def validate(self, where: str) -> None:
        if self.session_gap_minutes <= 0:
            raise ConfigError(f"{where}: dataset.session_gap_minutes must be > 0")
        if not 0 <= self.eval_fraction < 1:
            raise ConfigError(f"{where}: dataset.eval_fraction must be in [0, 1)")
        for kind in self.redact:
            if kind not in REDACTION_KINDS:
                raise ConfigError(
                    f"{where}: dataset.redact: unknown kind {kind!r}; expected any of {', '.join(REDACTION_KINDS)}"
                )


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

    def validate(self, where: str) -> None:
        if self.precision not in ("auto", "bf16", "fp16", "fp32"):
            raise ConfigError(f"{where}: train.precision must be one of auto, bf16, fp16, fp32")
        if self.schedule not in ("cosine", "linear", "constant"):
            raise ConfigError(f"{where}: train.schedule must be one of cosine, linear, constant")
        if self.compile not in ("auto", "on", "off"):
            raise ConfigError(f"{where}: train.compile must be one of auto, on, off")
        if not 0 <= self.dropout < 1:
            raise ConfigError(f"{where}: train.dropout must be in [0, 1)")
        if self.epochs < 0 or not 0 <= self.warmup_ratio < 1:
            raise ConfigError(f"{where}: train.epochs must be >= 0 and train.warmup_ratio in [0, 1)")
        for name in ("block_size", "save_steps", "eval_max_blocks"):
            if getattr(self, name) <= 0:
                raise ConfigError(f"{where}: train.{name} must be > 0")
        for name in ("batch_size", "grad_accum", "max_steps", "eval_steps", "sample_steps"):
            if getattr(self, name) < 0:
                raise ConfigError(f"{where}: train.{name} must be >= 0")


@dataclass
class ChatConfig:
    temperature: float = 0.4
    top_k: int = 40
    top_p: float = 1.0
    repetition_penalty: float = 1.2
    candidates: int = 3
    max_new_tokens: int = 60

    def validate(self, where: str) -> None:
        if self.temperature <= 0:
            raise ConfigError(f"{where}: chat.temperature must be > 0")
        if not 1 <= self.candidates <= 9:
            raise ConfigError(f"{where}: chat.candidates must be between 1 and 9")
        if not 0 < self.top_p <= 1:
            raise ConfigError(f"{where}: chat.top_p must be in (0, 1]")
        if self.top_k < 0 or self.max_new_tokens <= 0 or self.repetition_penalty <= 0:
            raise ConfigError(f"{where}: chat.top_k >= 0, max_new_tokens > 0, repetition_penalty > 0")


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
    hints = typing.get_type_hints(cls)
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
