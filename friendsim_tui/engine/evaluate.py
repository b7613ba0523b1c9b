"""Held-out figures for a trained model: how well it predicts each friend, whether their voices come out
distinct, and how often what it writes is an old message copied word for word.

Everything is measured on the run's held-out sessions (``data/eval.bin``, whole sessions the training
never saw), each turn with its real context: the tokens of its session before it, cut from the left to
fit the window (the model's context, or the run's block size when that is shorter: the model never
learnt positions beyond it).

- **Loss and perplexity.** Every held-out token predicted from its session before it (long sessions in
  overlapping windows, each token with at least half a window of context), overall and per speaker. A
  speaker's loss covers their turns' text and the ``<|eot|>`` that ends it: how well the model writes
  that friend once it knows who speaks. The overall loss also counts ``<|session|>``, speaker and
  ``<|end|>`` predictions, as the training's eval loss does.
- **Speaker attribution.** For each scored turn, its text after each possible speaker token, given the
  same context; the guess is the speaker under whom the text is most likely. The score is the summed
  log-probability of the text tokens and the closing ``<|eot|>`` (where a friend stops is part of their
  voice). The speaker token's own probability is left out: it says who tends to speak next, which favours
  talkative friends, while the question is whose voice the text is in. The context runs once at batch 1;
  its KV cache is copied to one row per speaker and the rows run together; the cache then grows with the
  session to the next scored turn, so the contexts cost about one pass over the text and each turn one
  batch of S short rows. Turns are capped per speaker (:data:`ATTRIBUTION_CAP`, the first in reading
  order), so the baseline (always guessing the most frequent speaker among the scored turns) stays near
  1/S and a talkative friend cannot carry the accuracy. Turns of fewer than :data:`MIN_TURN_TOKENS` text
  tokens say too little to attribute, and turns longer than half the window would leave it too little
  context: both are skipped. A context fills the window until the session outgrows it, then restarts
  half the room back (:func:`turn_scores`).
- **Verbatim rate.** N turns sampled the way the chat samples them (engine.sampler.Sampler, the chat's
  settings), :data:`PER_CONTEXT` candidates after each of N/5 held-out contexts, each in the voice of the
  friend who really spoke next; the share that copy a training turn or share a run of words with one
  (friendsim_tui.verbatim), and ``distinct_2``: unique word bigrams over all word bigrams of the samples.

:func:`evaluate_model` computes the figures from a model in memory (the training loop's, at the end of a
run: see :func:`end_of_run`); friendsim_tui.services.evaluation finds a run and feeds it.
"""

from __future__ import annotations

import copy
import inspect
import math
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from friendsim_tui.config import ChatConfig
from friendsim_tui.engine.text import END, EOT, SESSION, ChatSpec
from friendsim_tui.turns import SampleCancelled, SampleError, Turn
from friendsim_tui.verbatim import VerbatimIndex, words

ATTRIBUTION_CAP = 50
"""Turns scored per speaker for attribution."""
MIN_TURN_TOKENS = 2
SAMPLES = 200
PER_CONTEXT = 5
LOSS_TOKENS = 1 << 15
"""The loss reads the held-out sessions in order up to this many tokens (all of them, in most workspaces)."""
_LOGITS_BUDGET = 1 << 25
"""Logit values one batch may hold (rows x positions x vocabulary), 128 MiB in fp32."""

KEYS = ("run", "step", "eval_loss", "perplexity", "attribution_accuracy", "attribution_baseline", "confusion",
        "speakers", "verbatim_rate", "distinct_2", "samples", "seconds")
"""The figures, in the order ``eval --json`` prints them."""


# ---------------------------------------------------------------------------------------------
# Held-out sessions and turns, from packed token ids


@dataclass(frozen=True)
class HeldTurn:
    speaker: int
    """Index into the spec's speakers."""
    start: int
    """Position of the turn's speaker token in its session."""
    end: int
    """Position of its ``<|eot|>``."""

    @property
    def text_tokens(self) -> int:
        return self.end - self.start - 1


@dataclass
class Session:
    ids: np.ndarray
    turns: list[HeldTurn]


@dataclass(frozen=True)
class Vocab:
    """The ids of the structural tokens."""

    session: int
    end: int
    eot: int
    speakers: tuple[int, ...]

    @classmethod
    def of(cls, spec: ChatSpec, tokenizer) -> "Vocab":
        ids = tokenizer.convert_tokens_to_ids
        return cls(ids(SESSION), ids(END), ids(EOT), tuple(ids(t) for t in spec.speaker_tokens()))


def split_sessions(ids, vocab: Vocab) -> list[Session]:
    """Packed ids (``<|session|>... <|end|>`` after one another) -> sessions and their complete turns.

    A turn is a speaker token, text, ``<|eot|>``. Whatever is cut off (a held-out tail that starts inside a
    session or a turn, a last turn without its end) keeps its tokens, as context, but makes no turn.
    """
    ids = np.asarray(ids, dtype=np.int64)
    speaker_of = {t: i for i, t in enumerate(vocab.speakers)}
    special = np.array([vocab.session, vocab.end, vocab.eot, *vocab.speakers], dtype=np.int64)
    marks = np.flatnonzero(np.isin(ids, special))
    kinds = ids[marks]
    bounds = [0, *marks[kinds == vocab.session].tolist(), len(ids)]
    marks, kinds = marks.tolist(), kinds.tolist()
    sessions: list[Session] = []
    mark_i = 0
    for lo, hi in zip(bounds, bounds[1:]):
        if hi <= lo:
            continue
        turns: list[HeldTurn] = []
        open_at = speaker = None
        while mark_i < len(marks) and marks[mark_i] < hi:
            p, tok = marks[mark_i], kinds[mark_i]
            mark_i += 1
            if tok in speaker_of:
                open_at, speaker = p - lo, speaker_of[tok]
            elif tok == vocab.eot and open_at is not None:
                turns.append(HeldTurn(speaker, open_at, p - lo))
                open_at = None
            else:
                open_at = None
        sessions.append(Session(ids[lo:hi], turns))
    return sessions


def turn_texts(tokenizer, sessions: list[Session]) -> list[list[str]]:
    """The text of every turn, as the friend wrote it."""
    flat = [s.ids[t.start + 1:t.end].tolist() for s in sessions for t in s.turns]
    decoded = iter(tokenizer.batch_decode(flat, skip_special_tokens=True) if flat else [])
    return [[next(decoded) for _ in s.turns] for s in sessions]


def training_index(train_ids, spec: ChatSpec, tokenizer) -> VerbatimIndex:
    """The verbatim index of a run's training turns (``data/train.bin``)."""
    sessions = split_sessions(train_ids, Vocab.of(spec, tokenizer))
    return VerbatimIndex.build(text for texts in turn_texts(tokenizer, sessions) for text in texts)


def window_of(model, block_size: int | None = None) -> int:
    """Tokens one pass may see: the model's context, or the run's block size when shorter."""
    cfg = model.config
    ctx = getattr(cfg, "max_position_embeddings", None) or getattr(cfg, "n_positions", None) or 1024
    return int(min(ctx, block_size) if block_size else ctx)


def _device(model):
    return next(model.parameters()).device


def _forward(model, ids, cache=None, **kwargs):
    """(logits, cache) of one pass continuing ``cache``, whatever this transformers version calls the cache."""
    if cache is not None:
        name = "cache" if "cache" in inspect.signature(model.forward).parameters else "past_key_values"
        kwargs[name] = cache
    out = model(input_ids=ids, **kwargs)
    if not kwargs.get("use_cache"):
        return out.logits, None
    return out.logits, getattr(out, "cache", None) or out.past_key_values


# ---------------------------------------------------------------------------------------------
# Loss


def _windows(n: int, window: int):
    """(start, stop, first scored position) of the windows that predict positions 1..n-1 of a session."""
    if n <= window:
        yield 0, n, 1
        return
    stride = max(1, window // 2)
    start, stop = 0, window
    yield start, stop, 1
    while stop < n:
        new_stop = min(stop + stride, n)
        yield new_stop - window, new_stop, stop
        stop = new_stop


@torch.inference_mode()
def token_losses(model, sessions: list[Session], window: int, max_tokens: int = LOSS_TOKENS) -> list[np.ndarray]:
    """Per session, the loss (-log p) of each token given the session before it; NaN where unscored
    (position 0, and sessions past ``max_tokens``)."""
    import torch.nn.functional as F

    dev = _device(model)
    vocab = model.config.vocab_size
    out = [np.full(len(s.ids), np.nan) for s in sessions]
    tasks, total = [], 0
    for si, s in enumerate(sessions):
        if total >= max_tokens:
            break
        total += len(s.ids)
        tasks.extend((si, *w) for w in _windows(len(s.ids), window) if w[1] - w[0] >= 2)
    tasks.sort(key=lambda t: t[2] - t[1], reverse=True)  # longest first: each batch is as wide as its first
    i = 0
    while i < len(tasks):
        longest = tasks[i][2] - tasks[i][1]
        rows = max(1, _LOGITS_BUDGET // max(1, longest * vocab))
        batch = tasks[i:i + rows]
        i += len(batch)
        width = max(stop - start for _, start, stop, _ in batch)
        x = torch.zeros(len(batch), width, dtype=torch.long)
        mask = torch.zeros(len(batch), width, dtype=torch.long)
        for r, (si, start, stop, _) in enumerate(batch):
            x[r, :stop - start] = torch.from_numpy(sessions[si].ids[start:stop])
            mask[r, :stop - start] = 1
        x, mask = x.to(dev), mask.to(dev)
        logits, _ = _forward(model, x, attention_mask=mask, use_cache=False)
        nll = F.cross_entropy(logits[:, :-1].float().reshape(-1, logits.shape[-1]), x[:, 1:].reshape(-1),
                              reduction="none").view(len(batch), width - 1).cpu().double().numpy()
        for r, (si, start, stop, first) in enumerate(batch):
            # nll[r, k] is the loss of position start + k + 1
            out[si][first:stop] = nll[r, first - start - 1:stop - start - 1]
    return out


def _mean(values: list[float]) -> float | None:
    return float(np.mean(values)) if values else None


def loss_figures(sessions: list[Session], losses: list[np.ndarray], n_speakers: int):
    """(overall loss, {speaker index: (turns, loss)}) from :func:`token_losses`."""
    all_tokens = np.concatenate([x[~np.isnan(x)] for x in losses]) if losses else np.zeros(0)
    per: dict[int, list[np.ndarray]] = {i: [] for i in range(n_speakers)}
    for s, x in zip(sessions, losses):
        for t in s.turns:
            part = x[t.start + 1:t.end + 1]
            if not np.isnan(part).any():
                per[t.speaker].append(part)
    overall = float(all_tokens.mean()) if all_tokens.size else None
    return overall, {i: (len(p), float(np.concatenate(p).mean()) if p else None) for i, p in per.items()}


# ---------------------------------------------------------------------------------------------
# Speaker attribution


def _score_rows(model, cache, turn: list[int], speaker_ids: list[int], *, keep_cache: bool) -> torch.Tensor:
    """Log-likelihood of ``turn`` after the context in ``cache`` (None: no context) and each speaker token.
    The cache is copied to one row per speaker (``keep_cache``: leaving the given one as it was)."""
    dev = _device(model)
    rows = torch.tensor([[s, *turn[:-1]] for s in speaker_ids], device=dev)
    target = torch.tensor(turn, device=dev).expand(len(speaker_ids), -1)
    if cache is not None:
        cache = copy.deepcopy(cache) if keep_cache else cache
        cache.batch_repeat_interleave(len(speaker_ids))
    logits, _ = _forward(model, rows, cache, use_cache=cache is not None)
    return logits.float().log_softmax(-1).gather(-1, target.unsqueeze(-1)).squeeze(-1).sum(-1).cpu()


@torch.inference_mode()
def speaker_scores(model, context: list[int], turn: list[int], speaker_ids: list[int]) -> torch.Tensor:
    """Log-likelihood of ``turn`` (its text tokens and its ``<|eot|>``) after ``context`` + each speaker
    token, one value per speaker. The context runs once; its cache serves every speaker's row."""
    cache = None
    if context:
        _, cache = _forward(model, torch.tensor([context], device=_device(model)), use_cache=True, logits_to_keep=1)
    return _score_rows(model, cache, turn, speaker_ids, keep_cache=False)


def pick_turns(sessions: list[Session], n_speakers: int, window: int, cap: int = ATTRIBUTION_CAP
               ) -> list[tuple[int, HeldTurn]]:
    """Up to ``cap`` turns per speaker, the first ones in reading order: picked turns then share their
    sessions' contexts, so scoring them costs about one pass over the text they span."""
    counts = [0] * n_speakers
    chosen = []
    for si, s in enumerate(sessions):
        for t in s.turns:
            if counts[t.speaker] < cap and MIN_TURN_TOKENS <= t.text_tokens and t.text_tokens + 1 <= window // 2:
                chosen.append((si, t))
                counts[t.speaker] += 1
    return chosen


@torch.inference_mode()
def turn_scores(model, sessions: list[Session], speaker_ids: list[int], window: int,
                picks: list[tuple[int, HeldTurn]]):
    """``(session index, turn, context start, scores)`` for each picked turn, in order.

    One KV cache per session grows from turn to turn, so each context token runs about once rather than
    once per turn. A turn's context is its session from ``context start`` on: all of it while the context
    and the turn fit the window, else restarted half the room back (a turn always sees at least half the
    room the window leaves it, as in the loss pass).
    """
    dev = _device(model)
    at = base = have = -1
    cache = None
    for si, t in picks:
        ids = sessions[si].ids
        turn = ids[t.start + 1:t.end + 1].tolist()
        room = window - len(turn)
        if si != at or t.start - base > room:
            at, base, cache = si, (0 if t.start <= room else t.start - room // 2), None
            have = base
        if t.start > have:
            _, cache = _forward(model, torch.tensor([ids[have:t.start].tolist()], device=dev), cache,
                                use_cache=True, logits_to_keep=1)
            have = t.start
        yield si, t, base, _score_rows(model, cache, turn, speaker_ids, keep_cache=True)


def attribution(model, sessions: list[Session], vocab: Vocab, window: int, cap: int = ATTRIBUTION_CAP
                ) -> np.ndarray:
    """The confusion matrix: ``m[true, predicted]`` turn counts."""
    n = len(vocab.speakers)
    m = np.zeros((n, n), dtype=np.int64)
    picks = pick_turns(sessions, n, window, cap)
    for _, t, _, scores in turn_scores(model, sessions, list(vocab.speakers), window, picks):
        m[t.speaker, int(scores.argmax())] += 1
    return m


# ---------------------------------------------------------------------------------------------
# Verbatim rate and variety


def sample_turns(sampler, spec: ChatSpec, sessions: list[Session], texts: list[list[str]], n: int,
                 settings: ChatConfig) -> list[str]:
    """About ``n`` turns from ``sampler`` (the chat's Sampler): :data:`PER_CONTEXT` candidates after each of
    ``n / PER_CONTEXT`` held-out contexts spread over the sessions, in the voice of who really spoke next."""
    points = [(si, ti) for si, s in enumerate(sessions) for ti in range(len(s.turns))]
    if n <= 0 or not points:
        return []
    contexts = math.ceil(n / PER_CONTEXT)
    out: list[str] = []
    for k in range(contexts):
        si, ti = points[(k * len(points)) // contexts] if contexts <= len(points) else points[k % len(points)]
        turns = sessions[si].turns
        history = [Turn(spec.speakers[t.speaker], x) for t, x in zip(turns[:ti], texts[si][:ti])]
        who = spec.speakers[turns[ti].speaker]
        want = min(PER_CONTEXT, n - len(out))
        try:
            got = sampler.candidates(history, who, want, settings, force_speaker=who, seed=k)
        except SampleCancelled:
            raise
        except SampleError:  # nothing usable after this context: the count says so
            continue
        out.extend(c.text for c in got)
    return out


def distinct_2(samples: list[str]) -> float | None:
    """Unique word bigrams over all word bigrams of the samples (None without any)."""
    grams = [tuple(ws[i:i + 2]) for text in samples for ws in [words(text)] for i in range(len(ws) - 1)]
    return len(set(grams)) / len(grams) if grams else None


# ---------------------------------------------------------------------------------------------
# All together


def _r(x: float | None, digits: int) -> float | None:
    return None if x is None else round(float(x), digits)


def _perplexity(loss: float | None) -> float | None:
    return None if loss is None else round(math.exp(min(loss, 50.0)), 3)


def evaluate_model(model, tokenizer, spec: ChatSpec, eval_ids, index: VerbatimIndex | None = None, *,
                   sampler=None, samples: int = SAMPLES, settings: ChatConfig | None = None,
                   block_size: int | None = None, run: str = "", step: int = 0, cap: int = ATTRIBUTION_CAP,
                   sessions: list[Session] | None = None) -> dict:
    """The figures of ``model`` on the held-out ids ``eval_ids``, as one dict with :data:`KEYS`.

    ``index`` (:func:`training_index`) and ``sampler`` (an engine.sampler.Sampler of the same weights) give
    the verbatim rate and ``distinct_2`` from ``samples`` sampled turns; without either they are None and
    ``samples`` is 0. With fewer than two speakers, the attribution figures are None.
    ``sessions``: :func:`split_sessions` of ``eval_ids``, when the caller already has them.
    """
    t0 = time.perf_counter()
    vocab = Vocab.of(spec, tokenizer)
    sessions = split_sessions(eval_ids, vocab) if sessions is None else sessions
    window = window_of(model, block_size)
    was_training = model.training
    model.eval()
    try:
        overall, per = loss_figures(sessions, token_losses(model, sessions, window), len(spec.speakers))
        confusion = attribution(model, sessions, vocab, window, cap) if len(spec.speakers) >= 2 else None
    finally:
        model.train(was_training)
    sampled: list[str] = []
    if sampler is not None and index is not None and samples > 0:
        sampled = sample_turns(sampler, spec, sessions, turn_texts(tokenizer, sessions), samples,
                               settings or ChatConfig())
    names = spec.speakers
    accuracy = baseline = None
    table: dict[str, dict[str, int]] = {}
    if confusion is not None and confusion.sum():
        scored = int(confusion.sum())
        accuracy = float(np.trace(confusion)) / scored
        baseline = float(confusion.sum(1).max()) / scored
        table = {names[i]: {names[j]: int(confusion[i, j]) for j in range(len(names)) if confusion[i, j]}
                 for i in range(len(names)) if confusion[i].sum()}
    speakers = {}
    for i, name in enumerate(names):
        turns, loss = per[i]
        recall = None
        if confusion is not None and confusion[i].sum():
            recall = round(float(confusion[i, i]) / float(confusion[i].sum()), 4)
        speakers[name] = {"turns": turns, "eval_loss": _r(loss, 4), "perplexity": _perplexity(loss),
                          "attribution": recall}
    copied = sum(index.is_verbatim(text) for text in sampled) if sampled else 0
    return {
        "run": run, "step": int(step),
        "eval_loss": _r(overall, 4), "perplexity": _perplexity(overall),
        "attribution_accuracy": _r(accuracy, 4), "attribution_baseline": _r(baseline, 4),
        "confusion": table, "speakers": speakers,
        "verbatim_rate": round(copied / len(sampled), 4) if sampled else None,
        "distinct_2": _r(distinct_2(sampled), 4), "samples": len(sampled),
        "seconds": round(time.perf_counter() - t0, 2),
    }


def end_of_run(folder: Path, model, tokenizer, spec: ChatSpec, eval_ids, train_ids, *, model_dir: Path,
               step: int, block_size: int, samples: int = SAMPLES, settings: ChatConfig | None = None) -> dict:
    """For the training loop, once the final model folder is saved: the figures of the model in memory,
    saved in the run folder (:func:`save`; the verbatim index in runs.VERBATIM_INDEX) and returned.

    The samples come from ``model_dir`` through the chat's Sampler, so they are what the chat would offer;
    that loads a second copy of the weights (free the optimizer first on a tight device). ``eval_ids`` and
    ``train_ids`` are the run's data/eval.bin and data/train.bin.
    """
    from friendsim_tui import runs
    from friendsim_tui.engine.sampler import Sampler

    index = training_index(train_ids, spec, tokenizer)
    index.save(Path(folder) / runs.VERBATIM_INDEX)
    sampler = Sampler(model_dir) if samples > 0 else None
    result = evaluate_model(model, tokenizer, spec, eval_ids, index, sampler=sampler, samples=samples,
                            settings=settings, block_size=block_size, run=Path(folder).name, step=step)
    save(folder, result, source="model")
    return result


def save(folder: Path, figures: dict, *, source: str, notes: list[str] = ()) -> None:
    """Write ``figures`` to the run folder's runs.EVAL_FILE (mode 0600), with ``source`` ("model": the
    finished model folder, or "checkpoint") and the ``notes`` a reader should see with them."""
    from friendsim_tui import runs

    runs.write_json_atomic(Path(folder) / runs.EVAL_FILE, {**figures, "source": source, "notes": list(notes)})
