"""Candidate replies for a turn, whole conversations, and the player's own suggested line.

One :class:`Sampler` per model folder: it loads the weights once (safetensors only, no remote code) and
then answers many requests. For a turn it

- encodes the history once, newest turns first, until the token budget (the model's context minus the
  room for a reply) is spent: the oldest turns are dropped, whole turns only;
- runs the prompt through the model once (batch 1) and copies that KV cache to every candidate, so the
  history costs one forward pass no matter how many candidates are drawn; the cache is kept, so the
  next call (a swipe, or the next turn) only runs the tokens that are new;
- samples all candidates together, one forward pass per token for every row still writing (our own
  loop, not ``generate``: it drops each row from the batch as soon as it ends its turn at ``<|eot|>``,
  and draws only among the top-k tokens). The first token is constrained to the speakers who may answer
  (never the player unless asked: :meth:`Sampler.impersonate`), and a turn cannot contain another
  speaker token;
- drops empty and duplicate candidates (and those a caller's ``reject`` refuses) and refills in a bounded
  number of extra rounds.

Speed where it counts: decoding a few rows reads every weight once per token. The weights are bf16 on
hardware that does bf16 fast; on a CPU without fast bf16 the sampler decodes with an int8 copy of the
linear layers (engine/quantize.py; ``[chat] quantize = "off"`` keeps fp32), its rows keep one copy of
the prompt's keys and values between them (:func:`_shared_prefix_attention`), and the KV cache grows
into preallocated room instead of being copied at every token (:func:`_roomy_layer`).

Everything returned is plain text: markup, escapes and control characters in the history or produced
by the model are data, neither interpreted nor escaped here (only the whitespace around a sampled turn
is trimmed). Showing it inertly is the caller's job.
"""

from __future__ import annotations

import copy
import threading
import time
from collections import OrderedDict
from pathlib import Path
from typing import Callable, Iterable, Sequence

from friendsim_tui.config import ChatConfig
from friendsim_tui.engine.text import END, EOT, SESSION, SPEC_FILE, ChatSpec, encode_turns
from friendsim_tui.turns import OnTurn, Reject, SampleCancelled, SampleError, Turn  # (errors: torch-free, shared)

EXTRA_ROUNDS = 3
"""Refill rounds after the first batch when empties or duplicates left fewer than n candidates."""


def match_speaker(speakers: Sequence[str], name: str) -> str | None:
    """``name`` as spelled in ``speakers``: an exact match, else the only one equal ignoring case."""
    if name in speakers:
        return name
    folded = [s for s in speakers if s.casefold() == str(name).casefold()]
    return folded[0] if len(folded) == 1 else None


def same_reply_key(text: str) -> str:
    """What two candidates share when offering both would waste a slot: the same words, whatever the case,
    spacing and punctuation around them ("lol", "LOL!" and " lol ..." are one reply). A question mark
    counts ("coming?" is not "coming"), and text made only of punctuation or emoji keeps its characters,
    so "?" and "!!" stay different."""
    words = "".join(ch if ch.isalnum() else f" {ch} " if ch == "?" else " " for ch in text.casefold()).split()
    return " ".join(words) if words else "".join(text.split())


def _processors():
    """LogitsProcessor subclasses, defined on first use so importing this module stays torch-free."""
    global _PROCESSORS
    if _PROCESSORS is not None:
        return _PROCESSORS
    import torch
    from transformers import LogitsProcessor

    class TurnGrammar(LogitsProcessor):
        """What may come next, by where each row is in its turn.

        - the first generated token, and (in conversations) the token after each ``<|eot|>``: one of the
          allowed speaker tokens (plus ``<|end|>`` after a complete turn in conversations);
        - right after a speaker token: text (no turn end yet: a turn is never empty);
        - inside a turn: anything but speaker and session tokens; a turn that reached ``max_turn`` text
          tokens must end (conversations only; candidates simply stop at max_new_tokens).
        """

        def __init__(self, prompt_len: int, first: list[int], speakers: list[int], eot: int, end: int,
                     session: int, max_turn: int | None, may_end: bool, device):
            self.prompt_len = prompt_len
            self.first = torch.tensor(first, device=device)
            self.speakers = torch.tensor(speakers, device=device)
            self.inside_ban = torch.tensor(sorted({*speakers, session}), device=device)
            self.opening_ban = torch.tensor(sorted({*speakers, session, eot, end}), device=device)
            self.after_eot = torch.tensor([*first, end] if may_end else first, device=device)
            self.eot = eot
            self.max_turn = max_turn

        def __call__(self, input_ids, scores):
            step = input_ids.shape[1] - self.prompt_len
            neg = torch.finfo(scores.dtype).min
            if step == 0:
                keep = scores[:, self.first]
                scores.fill_(neg)
                scores[:, self.first] = keep
                return scores
            last = input_ids[:, -1]
            speakers = self.speakers
            after_speaker = torch.isin(last, speakers)
            after_eot = last == self.eot
            inside = ~(after_speaker | after_eot)
            if inside.any():
                rows = inside.nonzero().squeeze(1)
                scores[rows[:, None], self.inside_ban[None, :]] = neg
                if self.max_turn is not None:
                    gen = input_ids[rows, self.prompt_len:]
                    pos = torch.arange(gen.shape[1], device=gen.device)
                    start = torch.where(torch.isin(gen, speakers), pos, -1).max(1).values
                    full = (gen.shape[1] - 1 - start) >= self.max_turn
                    if full.any():
                        r = rows[full]
                        scores[r] = neg
                        scores[r, self.eot] = 0.0
            if after_speaker.any():
                rows = after_speaker.nonzero().squeeze(1)
                scores[rows[:, None], self.opening_ban[None, :]] = neg
            if after_eot.any():  # conversations: the next turn opens with a speaker (or the session ends)
                rows = after_eot.nonzero().squeeze(1)
                allowed = self.after_eot
                keep = scores[rows[:, None], allowed[None, :]]
                scores[rows] = neg
                scores[rows[:, None], allowed[None, :]] = keep
            return scores

    class TurnRepetitionPenalty(LogitsProcessor):
        """CTRL-style repetition penalty over the prompt and the reply, except our structural tokens.

        Speaker, turn-end and session tokens appear in every turn of the history; penalising them would
        push the model away from ever ending its turn.
        """

        def __init__(self, penalty: float, exempt: list[int], device):
            self.penalty = penalty
            self.exempt = torch.tensor(exempt, device=device)

        def __call__(self, input_ids, scores):
            exempt = self.exempt
            saved = scores[:, exempt].clone()
            picked = torch.gather(scores, 1, input_ids)
            picked = torch.where(picked < 0, picked * self.penalty, picked / self.penalty)
            scores.scatter_(1, input_ids, picked)
            scores[:, exempt] = saved
            return scores

    _PROCESSORS = (TurnGrammar, TurnRepetitionPenalty)
    return _PROCESSORS


_PROCESSORS = None


def _roomy_layer():
    """The KV-cache layer classes the sampler decodes with (transformers 5), defined on first use.

    transformers' DynamicLayer appends each token's keys and values with ``torch.cat``, which copies the
    whole cache at every step of every layer: a quarter of a gpt2-shaped decoding step on a CPU once
    its weights are int8. This layer writes into room kept at the end of a preallocated buffer instead and
    hands attention a view of the filled part: the same keys and values, the same results, one write
    per token. Everything else (crop, row selection, repeats) is DynamicLayer's: after an operation
    that replaces the tensors, the next update moves them into a new buffer with room again.
    """
    global _ROOMY
    if _ROOMY is not None:
        return _ROOMY
    import torch
    from transformers.cache_utils import DynamicLayer

    class RoomyLayer(DynamicLayer):
        ROOM = 128
        """Tokens of room added whenever the buffer is (re)made: one move per 128 tokens at most."""

        _room_k = _room_v = None

        def update(self, key_states, value_states, *args, **kwargs):
            if not self.is_initialized:
                self.lazy_initialization(key_states, value_states)
                self.keys, self.values = key_states[..., :0, :], value_states[..., :0, :]
            filled, new = self.keys.shape[-2], key_states.shape[-2]
            room = self._room_k
            if (room is None or self.keys.data_ptr() != room.data_ptr() or self.keys.shape[0] != room.shape[0]
                    or filled + new > room.shape[-2]):  # no buffer yet, replaced tensors, or full
                shape = (*self.keys.shape[:-2], filled + new + self.ROOM, self.keys.shape[-1])
                self._room_k, self._room_v = self.keys.new_empty(shape), self.values.new_empty(shape)
                self._room_k[..., :filled, :] = self.keys
                self._room_v[..., :filled, :] = self.values
            self._room_k[..., filled:filled + new, :] = key_states
            self._room_v[..., filled:filled + new, :] = value_states
            self.keys = self._room_k[..., :filled + new, :]
            self.values = self._room_v[..., :filled + new, :]
            return self.keys, self.values

    class SharedPrefixLayer(RoomyLayer):
        """A RoomyLayer whose rows share the prompt's keys and values instead of each holding a copy.

        Every candidate row continues the same prompt. Copied to each row, the prompt's keys and values
        are read once per row at every step: for 5 rows after 230 tokens of a gpt2-shaped model, 90 MB
        per token, as much again as its int8 weights. Kept once (``prefix``, batch 1), they are read
        once per step by :func:`_shared_prefix_attention`, which attends over the prefix for all rows in
        one matmul and over each row's own tokens (``keys``/``values``) apart. Only models set to that
        attention get this layer: any other attention would see the rows' own tokens only.
        """

        prefix = None
        """(keys, values) of the prompt, [1, heads, tokens, head size], or None (all in keys/values)."""

        def get_seq_length(self) -> int:
            own = super().get_seq_length()
            return own + self.prefix[0].shape[-2] if self.prefix is not None else own

        def batch_repeat_interleave(self, repeats: int) -> None:
            if self.prefix is None and self.is_initialized and self.keys.shape[0] == 1:
                self.prefix = (self.keys, self.values)  # the buffer is never written again: a new one follows
                self.keys, self.values = self.keys[..., :0, :].expand(repeats, -1, -1, -1), \
                    self.values[..., :0, :].expand(repeats, -1, -1, -1)
                return
            self.materialize()
            super().batch_repeat_interleave(repeats)

        def crop(self, tokens_to_remove: int) -> None:
            self.materialize()
            super().crop(tokens_to_remove)

        def materialize(self) -> None:
            """Back to one tensor per row holding everything, as DynamicLayer keeps it."""
            if self.prefix is not None:
                rows = self.keys.shape[0]
                (keys, values), self.prefix = self.prefix, None
                self.keys = torch.cat([keys.expand(rows, -1, -1, -1), self.keys], dim=-2)
                self.values = torch.cat([values.expand(rows, -1, -1, -1), self.values], dim=-2)

    _ROOMY = RoomyLayer, SharedPrefixLayer
    return _ROOMY


_ROOMY = None
SHARED_PREFIX = "friendsim_shared_prefix"
"""The attention implementation name the int8 sampling copy runs with (:func:`_shared_prefix_attention`)."""


def _shared_prefix_attention(module, query, key, value, attention_mask, scaling=None, dropout=0.0,
                             prefix_cache=None, **kwargs):
    """Attention for rows that share a prompt (SharedPrefixLayer); torch's fused kernel for everything else.

    One new token per row: the scores against the shared prefix come from one matmul for all rows (the
    rows' queries side by side, as if one row of several tokens), the scores against each row's own
    tokens from a batched one; one softmax over both, then the same two products with the values.
    """
    import torch
    from transformers.integrations.sdpa_attention import repeat_kv, sdpa_attention_forward

    layer = prefix_cache.layers[module.layer_idx] if prefix_cache is not None else None
    prefix = getattr(layer, "prefix", None)
    if prefix is None or query.shape[2] != 1 or attention_mask is not None:
        if prefix is not None:  # not one token per row, or a mask: the plain way, prefix copied to every row
            rows = query.shape[0]
            key = torch.cat([prefix[0].expand(rows, -1, -1, -1), key], dim=-2)
            value = torch.cat([prefix[1].expand(rows, -1, -1, -1), value], dim=-2)
        return sdpa_attention_forward(module, query, key, value, attention_mask, scaling=scaling, dropout=dropout,
                                      **kwargs)
    groups = query.shape[1] // key.shape[1]  # grouped-query attention: each key head serves several
    p_key, p_value = (repeat_kv(t, groups) for t in prefix) if groups > 1 else prefix
    key, value = (repeat_kv(key, groups), repeat_kv(value, groups)) if groups > 1 else (key, value)
    scale = scaling if scaling is not None else query.shape[-1] ** -0.5
    together = query.transpose(0, 2)  # [1, heads, rows, d]: every row's query against the one prefix
    shared = torch.matmul(together, p_key.transpose(-1, -2)).transpose(0, 2)  # [rows, heads, 1, prefix]
    own = torch.matmul(query, key.transpose(-1, -2))  # [rows, heads, 1, own]
    weights = torch.softmax(torch.cat([shared, own], dim=-1) * scale, dim=-1)
    split = p_key.shape[-2]
    out = torch.matmul(weights[..., :split].transpose(0, 2), p_value).transpose(0, 2)
    out = out + torch.matmul(weights[..., split:], value)
    return out.transpose(1, 2).contiguous(), None


def _register_shared_prefix() -> bool:
    """Make :data:`SHARED_PREFIX` an attention implementation transformers knows (transformers 5)."""
    try:
        from transformers import AttentionInterface
        from transformers.masking_utils import AttentionMaskInterface, sdpa_mask
    except ImportError:
        return False
    AttentionInterface.register(SHARED_PREFIX, _shared_prefix_attention)
    AttentionMaskInterface.register(SHARED_PREFIX, sdpa_mask)
    return True


def _sample_next(scores, settings: ChatConfig):
    """One token per row from ``scores`` ([rows, vocab], after the logits processors): temperature, then
    top-k, then top-p, as ``generate`` applies them.

    With top-k (the default) only the k best are ever drawn from: sampling those is much cheaper than a
    draw over the whole vocabulary, which costs as much as a quarter of a small model's step on a CPU.
    """
    import torch

    scores = scores / settings.temperature
    index = None
    k = settings.top_k
    if 0 < k < scores.shape[-1]:
        scores, index = scores.topk(k, dim=-1)  # sorted, best first
    if settings.top_p < 1.0:
        if index is None:
            scores, index = scores.sort(dim=-1, descending=True)
        probs = torch.softmax(scores, dim=-1)
        before = probs.cumsum(dim=-1) - probs  # mass of the better tokens: keep while under top_p (>= 1 kept)
        scores = scores.masked_fill(before >= settings.top_p, float("-inf"))
    pick = torch.multinomial(torch.softmax(scores, dim=-1), 1)
    return pick if index is None else index.gather(1, pick)


def _pick_device(precision: str, device: str | None = None):
    """(torch device, weights dtype, autocast dtype or None) for ``precision``.

    auto: bf16 where the hardware does it fast (CUDA with bf16, CPUs with AVX512-BF16/AMX: see
    devices.choose_precision), fp16 on older CUDA GPUs, else fp32. ``autocast`` keeps fp32 weights and
    runs the matmuls in bf16 (an option to compare; see benchmarks/bench_candidates.py).
    """
    import torch

    from friendsim_tui.engine import devices

    info = devices.detect(device)
    dev = torch.device(info.torch_device)
    if precision == "autocast":
        return dev, torch.float32, torch.bfloat16 if info.bf16 else None
    chosen = devices.choose_precision(info, precision)
    return dev, devices.autocast_dtype(chosen) or torch.float32, None


class Sampler:
    """A loaded model folder that answers sampling requests. Thread-safe: calls are serialised."""

    def __init__(self, folder: str | Path, *, precision: str = "auto", device: str | None = None,
                 quantize: str = "auto"):
        """``precision``: auto (the fastest this hardware does well), fp32, bf16, fp16 or autocast.
        ``quantize`` (ChatConfig.quantize): "auto" prepares int8 weights now where they apply (precision
        auto, a CPU without fast bf16: see engine/quantize.py); "off" leaves that to the first call whose
        settings ask for it. Each call's ``settings.quantize`` picks int8 or the model's own weights."""
        folder = Path(folder).expanduser()
        if not folder.is_dir():
            raise SampleError(f"{folder}: model folder not found (was the run deleted or moved?)")
        if not (folder / SPEC_FILE).is_file():
            raise SampleError(f"{folder}: no {SPEC_FILE}, so this is not a friendsim-tui model "
                              "(train one with `friendsim-tui train`)")
        from friendsim_tui.engine.bases import BaseError, check_local_folder

        try:
            check_local_folder(folder)
        except BaseError as exc:
            raise SampleError(str(exc)) from None
        try:
            self.spec = ChatSpec.load(folder)
        except (ValueError, KeyError, TypeError, OSError) as exc:
            raise SampleError(f"{folder / SPEC_FILE}: unreadable: {exc}") from None
        if not self.spec.speakers:
            raise SampleError(f"{folder / SPEC_FILE}: lists no speakers")
        self.folder = folder
        self.load_seconds = 0.0
        t0 = time.perf_counter()
        self._load(precision, device)
        self._int8 = None
        """The int8 copy of the model for sampling (engine/quantize.py), made once when first wanted."""
        self.quantizable = precision == "auto" and self._quantize_applies()
        """Whether calls with ``settings.quantize == "auto"`` sample with int8 weights."""
        if quantize == "auto" and self.quantizable:
            self._net_for(ChatConfig())
        self._net = self.model
        self.load_seconds = time.perf_counter() - t0
        self._lock = threading.Lock()
        self._cancel = threading.Event()
        self._turn_ids: OrderedDict[tuple[str, str], list[int]] = OrderedDict()
        self._prefix: tuple[list[int], object, object] | None = None
        """(prompt ids, their KV cache, the model that made it)"""
        self._window: tuple[int, tuple[str, str]] | None = None
        self.dropped_turns = 0
        """How many of the oldest history turns the last call left out to fit the context."""

    # -- loading ------------------------------------------------------------------------------
    def _load(self, precision: str, device: str | None) -> None:
        import torch
        from safetensors import SafetensorError
        from transformers import AutoModelForCausalLM, AutoTokenizer

        dev, dtype, autocast = _pick_device(precision, device)
        from transformers.utils import logging as hf_logging

        kw = {"trust_remote_code": False, "local_files_only": True}
        bars = hf_logging.is_progress_bar_enabled()
        hf_logging.disable_progress_bar()  # no tqdm on stderr: it would scribble over the app
        try:
            self.tokenizer = AutoTokenizer.from_pretrained(str(self.folder), **kw)
            model = AutoModelForCausalLM.from_pretrained(str(self.folder), use_safetensors=True, dtype=dtype, **kw)
        except (OSError, ValueError) as exc:
            raise SampleError(f"{self.folder}: cannot load the model: {str(exc).splitlines()[0]}") from None
        except SafetensorError as exc:  # a weights file cut short (a full disk, an interrupted copy) or damaged
            files = sorted(self.folder.glob("*.safetensors"))
            which = files[0] if len(files) == 1 else self.folder
            raise SampleError(f"{which}: damaged or cut short ({str(exc).splitlines()[0]}): copy the model folder "
                              "again if it came from elsewhere, or train the run again") from None
        finally:
            if bars:
                hf_logging.enable_progress_bar()
        self.model = model.to(dev).eval()
        if dev.type == "cpu" and model.dtype == torch.bfloat16:
            # Decoding asks attention for one query at a time; in bf16 on a CPU, torch's fused kernel is
            # about 4x slower at that than plain matmuls and softmax (a sixth of gpt2's step at 5 rows).
            try:
                self.model.set_attn_implementation("eager")
            except (AttributeError, ValueError):
                pass
        # No row is ever padded (a finished row leaves the batch); with a pad id set, GPT-2 would warn
        # about padding whenever a fed token equals it.
        self.model.config.pad_token_id = None
        self.device = dev
        self.autocast = autocast
        vocab = self.tokenizer.get_vocab()
        missing = [t for t in self.spec.special_tokens() if t not in vocab]
        if missing:
            raise SampleError(f"{self.folder}: the tokenizer lacks {', '.join(missing[:3])}: the model does not match "
                              f"its {SPEC_FILE}")
        ids = self.tokenizer.convert_tokens_to_ids
        self.session_id, self.end_id, self.eot_id = ids(SESSION), ids(END), ids(EOT)
        self.speaker_ids = [ids(t) for t in self.spec.speaker_tokens()]
        self._speaker_of = dict(zip(self.speaker_ids, self.spec.speakers))
        cfg = self.model.config
        ctx = getattr(cfg, "max_position_embeddings", None) or getattr(cfg, "n_positions", None) or 1024
        tok_max = getattr(self.tokenizer, "model_max_length", None)
        if isinstance(tok_max, int) and 0 < tok_max < ctx:
            ctx = tok_max
        self.context = int(ctx)
        import transformers

        self._cache_kw = "cache" if int(transformers.__version__.split(".")[0]) >= 5 else "past_key_values"

    def _quantize_applies(self) -> bool:
        from friendsim_tui.engine import quantize

        return quantize.applies("auto", self.device, self.model.dtype, self.autocast)

    def _net_for(self, settings: ChatConfig):
        """The model a call with ``settings`` samples with: the int8 copy where it applies and the settings
        allow it (made on first use), else the model as loaded."""
        if settings.quantize != "auto" or not self.quantizable:
            return self.model
        if self._int8 is None:
            from friendsim_tui.engine.quantize import int8_copy

            self._int8 = int8_copy(self.model)
            if _register_shared_prefix():
                self._int8.set_attn_implementation(SHARED_PREFIX)
        return self._int8

    @property
    def weights(self) -> str:
        """What the default settings sample with, in words: "int8 linear layers, fp32 embeddings", "bf16
        weights", "fp32 weights, bfloat16 autocast"..."""
        if self.quantizable:
            return "int8 linear layers, fp32 embeddings"
        name = str(self.model.dtype).removeprefix("torch.")
        if self.autocast is not None:
            return f"{name} weights, {str(self.autocast).removeprefix('torch.')} autocast"
        return f"{name} weights"

    # -- names --------------------------------------------------------------------------------
    @property
    def speakers(self) -> list[str]:
        return list(self.spec.speakers)

    def resolve_speaker(self, name: str) -> str:
        """The model's spelling of ``name`` (exact, else ignoring case); SampleError if unknown."""
        found = match_speaker(self.spec.speakers, name)
        if found is not None:
            return found
        raise SampleError(f"{name!r} is not a speaker of this model; speakers: {', '.join(self.spec.speakers)}")

    # -- prompt -------------------------------------------------------------------------------
    def _turn_tokens(self, speaker: str, text: str) -> list[int]:
        key = (speaker, text)
        ids = self._turn_ids.get(key)
        if ids is None:
            ids = encode_turns(self.spec, self.tokenizer, [key], opened=False, closed=False)
            self._turn_ids[key] = ids
            if len(self._turn_ids) > 4096:
                self._turn_ids.popitem(last=False)
        else:
            self._turn_ids.move_to_end(key)
        return ids

    def prompt_ids(self, history: Sequence[Turn], budget: int, sticky: bool = False) -> tuple[list[int], int]:
        """Token ids for the history within ``budget`` tokens, and how many (oldest) turns were dropped.

        Newest turns are kept first; a turn is kept whole or not at all. ``<|session|>`` opens the prompt
        only when the whole history fits (otherwise the prompt starts mid-conversation at a turn
        boundary, as training blocks do). If even the newest turn alone is too long, its speaker token and
        the end of its text are kept, so the model still sees who spoke last.

        ``sticky`` (what sampling uses): once the history overflows, the window keeps starting at the
        same turn while it still fits, and a new start leaves some room (a quarter of the budget, at most
        128 tokens), so the next turns extend the previous prompt and its cached prefix is reused
        instead of re-running the whole window on every turn.
        """
        turns = [(self.resolve_speaker(t.speaker), t.text) for t in history]
        if sticky and self._window is not None:
            start, key = self._window
            if 0 < start < len(turns) and turns[start] == key:
                body = [i for turn in turns[start:] for i in self._turn_tokens(*turn)]
                if len(body) <= budget:
                    return body, start
        kept: list[list[int]] = []
        used = 1  # room for <|session|>
        limit = budget
        for speaker, text in reversed(turns):
            ids = self._turn_tokens(speaker, text)
            if used + len(ids) > limit:
                if sticky:  # it overflows: start lower, leaving room to grow
                    limit = budget - min(budget // 4, 128)
                    while kept and used > limit:
                        used -= len(kept.pop())
                break
            kept.append(ids)
            used += len(ids)
        dropped = len(turns) - len(kept)
        if dropped == 0:
            return [self.session_id] + [i for ids in reversed(kept) for i in ids], 0
        if not kept:
            ids = self._turn_tokens(*turns[-1])
            room = max(budget - 2, 0)
            return [ids[0], *ids[1:-1][-room:], ids[-1]] if room else [ids[0]], dropped
        if sticky:
            self._window = (dropped, turns[dropped])
        return [i for ids in reversed(kept) for i in ids], dropped

    def _budget(self, new_tokens: int) -> tuple[int, int]:
        """(prompt budget, new tokens) so that both fit in the context."""
        new_tokens = max(2, min(new_tokens, self.context // 2))
        return self.context - new_tokens, new_tokens

    # -- control ------------------------------------------------------------------------------
    def cancel(self) -> None:
        """Stop the sampling in progress (from any thread); that call raises SampleCancelled."""
        self._cancel.set()

    # -- generation core ----------------------------------------------------------------------
    def _generate(self, prompts, rows: int, first: list[int], new_tokens: int, settings: ChatConfig, *,
                  turns: int = 1, on_row=None, enough=lambda: False, prefix_cache=None):
        """``rows`` sequences continuing ``prompts`` (a [1 or rows, L] tensor), sampled together.

        Returns the generated ids of each row, cut at its stop token.
        """
        Grammar, Repetition = _processors()
        prompt_len = prompts.shape[1]
        processors = []
        if settings.repetition_penalty != 1.0:
            processors.append(Repetition(settings.repetition_penalty,
                                         [self.session_id, self.end_id, self.eot_id, *self.speaker_ids], self.device))
        processors.append(Grammar(prompt_len, first, self.speaker_ids, self.eot_id, self.end_id, self.session_id,
                                  settings.max_new_tokens if turns > 1 else None, may_end=turns > 1,
                                  device=self.device))
        input_ids = prompts.expand(rows, -1) if prompts.shape[0] == 1 else prompts
        cache = None
        if prefix_cache is not None:
            cache = copy.deepcopy(prefix_cache)
            if rows > 1:
                cache.batch_repeat_interleave(rows)
        stop = [self.end_id] if turns > 1 else [self.eot_id, self.end_id]
        return self._decode(input_ids.contiguous(), cache, processors, settings, stop, new_tokens, turns,
                            on_row, enough)

    def _decode(self, input_ids, cache, processors, settings: ChatConfig, stop: list[int], max_new: int,
                turns: int, on_row, enough) -> list[list[int]]:
        """The sampling loop: one forward pass per step for all rows still writing.

        ``cache`` holds the keys and values of ``input_ids[:, :-1]`` (or is None: the first step then runs
        the whole of ``input_ids``). A row ends at a ``stop`` token (in conversations, ``<|eot|>`` only
        after ``turns`` turns); it is handed to ``on_row(row, ids)`` at once and leaves the batch, so the
        steps after it only compute the rows still writing. Everything stops on cancel or once
        ``enough()``; rows still writing then are handed over with what they wrote.
        """
        import torch

        rows, prompt_len = input_ids.shape
        device = self.device
        stop_ids = torch.tensor(stop, device=device)
        alive = list(range(rows))  # the row number of each row still in the batch
        seqs = input_ids
        step_ids = input_ids[:, -1:] if cache is not None else input_ids
        results: dict[int, list[int]] = {}
        for _ in range(max_new):
            logits, cache = self._forward(step_ids, cache)
            scores = logits[:, -1, :].float()
            for proc in processors:
                scores = proc(seqs, scores)
            nxt = _sample_next(scores, settings)
            seqs = torch.cat([seqs, nxt], dim=1)
            last = nxt[:, 0]
            done = torch.isin(last, stop_ids)
            if turns > 1:
                done &= (last != self.eot_id) | ((seqs[:, prompt_len:] == self.eot_id).sum(1) >= turns)
            if done.any():
                flags = done.tolist()
                for i, finished in enumerate(flags):
                    if finished:
                        results[alive[i]] = ids = seqs[i, prompt_len:].tolist()
                        if on_row is not None:
                            on_row(alive[i], ids)
                keep = [i for i, finished in enumerate(flags) if not finished]
                if not keep:
                    break
                alive = [alive[i] for i in keep]
                index = torch.tensor(keep, device=device)
                seqs, nxt = seqs[index], nxt[index]
                cache.batch_select_indices(index)
            if self._cancel.is_set() or enough():
                break
            step_ids = nxt
        for i, row in enumerate(alive):
            if row not in results:  # ran out of new tokens (or was stopped): keep what it wrote
                results[row] = ids = seqs[i, prompt_len:].tolist()
                if on_row is not None and not self._cancel.is_set():
                    on_row(row, ids)
        return [results[r] for r in range(rows)]

    def _forward(self, input_ids, cache, **kwargs):
        """One forward pass continuing ``cache`` (None: from the start): (last position's logits, the cache),
        whichever keyword and attribute this transformers version names the cache with."""
        if cache is None:
            cache = self._new_cache()
        if cache is not None:
            kwargs[self._cache_kw] = cache
            if self._net.config._attn_implementation == SHARED_PREFIX:
                kwargs["prefix_cache"] = cache
        out = self._net(input_ids=input_ids, use_cache=True, logits_to_keep=1, **kwargs)
        return out.logits, getattr(out, "cache", None) or out.past_key_values

    def _new_cache(self):
        """An empty KV cache whose layers write into room instead of concatenating (:func:`_roomy_layer`),
        and share the prompt between rows where the model runs :func:`_shared_prefix_attention`; where the
        model's cache is not transformers 5's plain DynamicCache, None (the model's own)."""
        try:
            from transformers.cache_utils import DynamicCache, DynamicLayer
        except ImportError:  # transformers 4
            return None
        cache = DynamicCache(config=self.model.config)
        if not cache.layers or any(type(layer) is not DynamicLayer for layer in cache.layers):
            return None  # sliding windows, or layers made on the fly: the model's own cache
        roomy, shared = _roomy_layer()
        layer = shared if self._net.config._attn_implementation == SHARED_PREFIX else roomy
        cache.layers = [layer() for _ in cache.layers]
        return cache

    def _autocast(self):
        import contextlib

        import torch

        if self.autocast is None:
            return contextlib.nullcontext()
        return torch.autocast(self.device.type, dtype=self.autocast)

    def _prefill(self, ids: list[int]):
        """Run all but the last prompt token once at batch 1; its KV cache is then shared by every row.

        The previous call's cache is reused for the prompt's longest common prefix, so a swipe (same
        history) or the next turn (history grew at the end) only runs the new tokens.
        """
        import torch

        prompt = torch.tensor([ids], device=self.device)
        if len(ids) < 2:
            return prompt, None
        head = ids[:-1]
        cache, start = None, 0
        if self._prefix is not None and self._prefix[2] is self._net:  # another model's cache would not match
            old, old_cache, _ = self._prefix
            same = 0
            for a, b in zip(old, head):
                if a != b:
                    break
                same += 1
            if same:
                cache, start = copy.deepcopy(old_cache), same
                if same < len(old):
                    cache.crop(same - len(old))  # negative: drop that many from the end (v4 and v5)
        if start < len(head):
            with torch.inference_mode(), self._autocast():
                _, cache = self._forward(prompt[:, start:-1], cache, attention_mask=torch.ones(
                    1, len(head), dtype=torch.long, device=self.device))
        self._prefix = (head, cache, self._net)  # the sampling loop only ever sees copies of it
        return prompt, cache

    def forget_prefix(self) -> None:
        """Drop the cached prompt prefix (frees memory; the next call runs its whole prompt)."""
        with self._lock:
            self._prefix = None

    def parse(self, ids: list[int]) -> list[Turn]:
        """Generated ids -> turns. Text is decoded without special tokens and without the whitespace around
        it (a byte-level BPE model often opens a turn with a space); a turn's speaker is its token."""
        turns: list[Turn] = []
        speaker: str | None = None
        body: list[int] = []

        def close():
            if speaker is not None:
                # A turn cut inside a multi-byte character decodes to U+FFFD: drop those halves, and a turn
                # made only of them ends up empty (and is refilled) instead of showing as "�".
                text = self.tokenizer.decode(body, skip_special_tokens=True).replace("\ufffd", "")
                turns.append(Turn(speaker, text.strip()))

        for tok in ids:
            if tok in self._speaker_of:
                close()
                speaker, body = self._speaker_of[tok], []
            elif tok == self.eot_id:
                close()
                speaker, body = None, []
            elif tok in (self.end_id, self.session_id):
                break
            elif speaker is not None:
                body.append(tok)
        close()
        return turns

    # -- public API ---------------------------------------------------------------------------
    def candidates(self, history: Sequence[Turn], player: str, n: int | None = None,
                   settings: ChatConfig | None = None, force_speaker: str | None = None,
                   on_candidate: OnTurn | None = None, *, exclude: Iterable[str] = (),
                   seed: int | None = None, reject: Reject | None = None) -> list[Turn]:
        """Up to ``n`` distinct, non-empty candidate turns for the next turn after ``history``.

        ``history`` is turns, oldest first (an empty history lets the model open).
        The speaker is chosen by the model among everyone but ``player`` — or is ``force_speaker``.
        ``on_candidate`` is called with each candidate as soon as its row finishes (from this thread).
        ``exclude``: texts already offered for this turn (a swipe), treated as duplicates.
        ``reject``: a sampled text for which it answers True is dropped and refilled, as a duplicate is (the
        chat's "hide copies": the caller knows what counts as one; the sampler only asks).
        Raises SampleError when nothing usable came out of ``1 + EXTRA_ROUNDS`` batches.
        """
        import torch

        settings = settings or ChatConfig()
        n = settings.candidates if n is None else int(n)
        if n < 1:
            return []
        player = self.resolve_speaker(player)
        if force_speaker is not None:
            allowed = [self.resolve_speaker(force_speaker)]
        else:
            allowed = [s for s in self.spec.speakers if s != player]
            if not allowed:
                raise SampleError(f"this model knows only {player!r}: there is nobody else to answer")
        first = [self.speaker_ids[self.spec.speakers.index(s)] for s in allowed]
        budget, new_tokens = self._budget(settings.max_new_tokens + 1)
        with self._lock, torch.inference_mode(), self._autocast():  # one autocast: weights cast once per call
            self._cancel.clear()
            self._net = self._net_for(settings)
            if seed is not None:
                torch.manual_seed(seed)
            ids, self.dropped_turns = self.prompt_ids(history, budget, sticky=True)
            prompt, cache = self._prefill(ids)
            seen = {same_reply_key(t) for t in exclude}
            got: list[Turn] = []
            rejected = {"empty": 0, "duplicate": 0, "voice": 0, "copied": 0}

            def accept(_row: int, row_ids: list[int]) -> None:
                turns = self.parse(row_ids)
                cand = turns[0] if turns else None
                if len(got) >= n:
                    return
                if cand is None or not cand.text.strip():
                    rejected["empty"] += 1
                elif cand.speaker not in allowed:
                    rejected["voice"] += 1
                elif (key := same_reply_key(cand.text)) in seen:
                    rejected["duplicate"] += 1
                elif reject is not None and reject(cand.text):
                    seen.add(key)  # the same text again is the same copy: counted once, as a duplicate after
                    rejected["copied"] += 1
                else:
                    seen.add(key)
                    got.append(cand)
                    if on_candidate is not None:
                        on_candidate(cand)

            for round_ in range(1 + EXTRA_ROUNDS):
                missing = n - len(got)
                rows = missing if round_ == 0 else min(2 * missing, max(n, 4))
                self._generate(prompt, rows, first, new_tokens, settings, on_row=accept,
                               enough=lambda: len(got) >= n, prefix_cache=cache)
                if self._cancel.is_set():
                    raise SampleCancelled("sampling cancelled")
                if len(got) >= n:
                    break
        if not got:
            who = " or ".join(allowed) if len(allowed) <= 3 else "the other speakers"
            reasons = ", ".join(f"{v} {k}" for k, v in rejected.items() if v)
            if rejected["voice"] and not rejected["empty"] and not rejected["duplicate"] and not rejected["copied"]:
                raise SampleError(f"the model only produced turns in the wrong voice (not {who}) after "
                                  f"{1 + EXTRA_ROUNDS} tries; it may need more training")
            if rejected["copied"] and not rejected["empty"] and not rejected["voice"]:
                raise SampleError(f"every turn the model wrote for {who} in {1 + EXTRA_ROUNDS} tries copies an old "
                                  "message, and copies are hidden; show them, or raise the temperature")
            raise SampleError(f"the model produced no usable turn for {who} after {1 + EXTRA_ROUNDS} tries "
                              f"({reasons or 'nothing'}); it may need more training")
        return got

    def impersonate(self, history: Sequence[Turn], player: str, settings: ChatConfig | None = None, n: int = 1,
                    on_candidate: OnTurn | None = None, *, exclude: Iterable[str] = (),
                    seed: int | None = None, reject: Reject | None = None) -> list[Turn]:
        """Suggest the player's own next line(s): candidates forced to the player's voice."""
        return self.candidates(history, player, n, settings, force_speaker=player, on_candidate=on_candidate,
                               exclude=exclude, seed=seed, reject=reject)

    def conversation(self, prompt_turns: Sequence[Turn] = (), turns: int = 8, n: int = 3,
                     settings: ChatConfig | None = None, *, opening: str | None = None,
                     on_conversation: Callable[[list[Turn]], None] | None = None,
                     seed: int | None = None) -> list[list[Turn]]:
        """``n`` conversations among the friends, each up to ``turns`` new turns after ``prompt_turns``.

        ``opening``: a first line whose speaker the model picks (sampled per conversation from its
        next-speaker distribution); it counts as one of the ``turns``. Each returned conversation
        starts with the prompt turns (and the opening), followed by what the model wrote. A conversation
        can end early when the model closes the session.
        """
        import torch

        settings = settings or ChatConfig()
        if n < 1 or turns < 1:
            return []
        given = [Turn(self.resolve_speaker(t.speaker), t.text) for t in prompt_turns]
        opening = opening if opening and opening.strip() else None
        budget, new_tokens = self._budget(settings.max_new_tokens * turns + turns)
        if opening is not None:  # room for the opening line, which every row adds to the prompt
            budget = max(budget - len(self._turn_tokens(self.spec.speakers[0], opening)), 1)
        with self._lock, torch.inference_mode(), self._autocast():
            self._cancel.clear()
            self._net = self._net_for(settings)
            if seed is not None:
                torch.manual_seed(seed)
            ids, self.dropped_turns = self.prompt_ids(given, budget, sticky=True)
            heads = [list(given) for _ in range(n)]
            if opening is not None:
                rows = []
                for head, speaker in zip(heads, self._sample_speakers(ids, n, settings)):
                    rows.append(ids + self._turn_tokens(speaker, opening))
                    head.append(Turn(speaker, opening))
                prompt, cache, turns = torch.tensor(rows, device=self.device), None, turns - 1
            else:
                prompt, cache = self._prefill(ids)
            new = turns

            def written(row: int, row_ids: list[int]) -> list[Turn]:
                return heads[row] + [t for t in self.parse(row_ids) if t.text][:new]

            if new < 1:  # the opening line was the only turn asked for
                seqs = [[] for _ in heads]
            else:
                seqs = self._generate(prompt, n, list(self.speaker_ids), new_tokens, settings, turns=new,
                                      prefix_cache=cache, on_row=None if on_conversation is None else
                                      lambda row, row_ids: on_conversation(written(row, row_ids)))
            if self._cancel.is_set():
                raise SampleCancelled("sampling cancelled")
            if new < 1 and on_conversation is not None:
                for row in range(n):
                    on_conversation(written(row, []))
            return [written(row, row_ids) for row, row_ids in enumerate(seqs)]

    def _sample_speakers(self, ids: list[int], n: int, settings: ChatConfig) -> list[str]:
        import torch

        with torch.inference_mode(), self._autocast():
            logits = self._net(input_ids=torch.tensor([ids], device=self.device), logits_to_keep=1).logits[0, -1]
        probs = torch.softmax(logits[self.speaker_ids].float() / settings.temperature, dim=-1)
        picks = torch.multinomial(probs, n, replacement=True).tolist()
        return [self.spec.speakers[i] for i in picks]
