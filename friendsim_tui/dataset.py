"""From stored messages to what the model learns from: sessions, a train/eval split, redaction.

- A conversation is cut into sessions wherever the silence between two messages is longer than
  ``session_gap_minutes``; the model sees each session as its own piece of text.
- The split is by whole sessions, never inside one: the most recent ``eval_fraction`` of sessions
  (at least one when there are two or more) are held out. It depends only on the data, so it is the same
  on every run.
- Speakers excluded by the user are left out of the text.
"""

from __future__ import annotations

import math
import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Iterable, Iterator

from friendsim_tui.config import DatasetConfig
from friendsim_tui.redaction import redact


@dataclass(frozen=True)
class Turn:
    speaker: str
    text: str
    ts: float


@dataclass
class Session:
    conversation: int
    turns: list[Turn] = field(default_factory=list)

    @property
    def start(self) -> float:
        return self.turns[0].ts

    @property
    def end(self) -> float:
        return self.turns[-1].ts


@dataclass
class Dataset:
    train: list[Session]
    eval: list[Session]

    @property
    def sessions(self) -> list[Session]:
        return self.train + self.eval

    def speakers(self) -> list[str]:
        """Speakers present in the text, most frequent first."""
        c: Counter = Counter(t.speaker for s in self.sessions for t in s.turns)
        return [name for name, _ in c.most_common()]

    def stats(self) -> dict:
        per: dict[str, list[int]] = defaultdict(list)
        for s in self.sessions:
            for t in s.turns:
                per[t.speaker].append(len(t.text))
        total = sum(len(v) for v in per.values())
        starts = [s.start for s in self.sessions]
        ends = [s.end for s in self.sessions]
        return {
            "sessions": len(self.sessions),
            "train_sessions": len(self.train),
            "eval_sessions": len(self.eval),
            "messages": total,
            "first": min(starts) if starts else None,
            "last": max(ends) if ends else None,
            "speakers": {
                name: {
                    "messages": len(lens),
                    "share": len(lens) / total if total else 0.0,
                    "avg_chars": sum(lens) / len(lens),
                }
                for name, lens in sorted(per.items(), key=lambda kv: -len(kv[1]))
            },
        }


# ---------------------------------------------------------------------------------------------
# Readable Discord markup, then redaction (friendsim_tui.redaction)

_MENTION_USER = re.compile(r"<@!?(\d+)>")
_MENTION_ROLE = re.compile(r"<@&(\d+)>")
_MENTION_CHANNEL = re.compile(r"<#(\d+)>")
_CUSTOM_EMOJI = re.compile(r"<a?:(\w{1,32}):\d+>")
_DISCORD_TIME = re.compile(r"<t:(-?\d{1,13})(?::[tTdDfFR])?>")


def readable_discord(text: str, names: dict[str, str] | None = None) -> str:
    """``<@123>`` -> ``@name`` (or ``@someone``), ``<:pog:1>`` -> ``:pog:``, ``<#1>`` -> ``#channel``."""
    if "<" not in text:
        return text
    names = names or {}
    text = _MENTION_USER.sub(lambda m: "@" + names.get(m.group(1), "someone"), text)
    text = _MENTION_ROLE.sub("@role", text)
    text = _MENTION_CHANNEL.sub("#channel", text)
    text = _CUSTOM_EMOJI.sub(r":\1:", text)

    def _time(m: re.Match) -> str:
        try:
            return datetime.fromtimestamp(int(m.group(1)), tz=timezone.utc).strftime("%Y-%m-%d %H:%M")
        except (OverflowError, OSError, ValueError):
            return m.group(0)

    return _DISCORD_TIME.sub(_time, text)


def clean_text(text: str, cfg: DatasetConfig) -> str:
    if cfg.readable_mentions:
        text = readable_discord(text)
    if cfg.redact:
        text = redact(text, cfg.redact)
    return text


# ---------------------------------------------------------------------------------------------


def sessions_from_rows(rows: Iterable[tuple], cfg: DatasetConfig) -> list[Session]:
    """Rows of (conversation_id, ts, speaker, text, excluded), ordered by conversation and time."""
    gap = cfg.session_gap_minutes * 60
    sessions: list[Session] = []
    current: Session | None = None
    last_ts = None
    for conv, ts, speaker, text, excluded in rows:
        if current is None or conv != current.conversation or ts - last_ts > gap:
            if current is not None and current.turns:
                sessions.append(current)
            current = Session(conv)
        last_ts = ts
        if excluded:
            continue
        text = clean_text(text, cfg).strip()
        if text:
            current.turns.append(Turn(speaker, text, ts))
    if current is not None and current.turns:
        sessions.append(current)
    return sessions


def split(sessions: list[Session], eval_fraction: float) -> Dataset:
    ordered = sorted(sessions, key=lambda s: (s.start, s.conversation))
    n_eval = 0
    if eval_fraction > 0 and len(ordered) >= 2:
        n_eval = min(len(ordered) - 1, max(1, math.ceil(len(ordered) * eval_fraction)))
    cut = len(ordered) - n_eval
    return Dataset(train=ordered[:cut], eval=ordered[cut:])


def build(store, cfg: DatasetConfig | None = None) -> Dataset:
    cfg = cfg or DatasetConfig()
    return split(sessions_from_rows(store.iter_messages(), cfg), cfg.eval_fraction)


# ---------------------------------------------------------------------------------------------
# The text as a person reads it


SPLITS = ("train", "eval")


def text_lines(ds: Dataset, splits: Iterable[str] = SPLITS, titles: dict[int, str] | None = None) -> Iterator[str]:
    """Every turn the model learns from, after redaction, as lines a person can check.

    Each split opens with ``=== train: N sessions, M messages ===``, each session with a ``--- session i/N
    ...`` line naming its conversation and time, and each turn is ``Speaker: text``; the further lines of a
    message are indented under its first, so a line that starts at the margin always starts a turn. The text
    is exactly what the model is given; only the speaker tokens are shown as names.
    """
    titles = titles or {}
    for name in splits:
        sessions = getattr(ds, name)
        messages = sum(len(s.turns) for s in sessions)
        yield f"=== {name}: {_count(len(sessions), 'session')}, {_count(messages, 'message')} ==="
        for i, session in enumerate(sessions, 1):
            where = titles.get(session.conversation) or f"conversation {session.conversation}"
            yield ""
            yield (f"--- session {i}/{len(sessions)} | {where} | {_span(session.start, session.end)} | "
                   f"{_count(len(session.turns), 'message')} ---")
            for turn in session.turns:
                head = f"{turn.speaker}: "
                first, *rest = turn.text.split("\n")
                yield head + first
                yield from (" " * len(head) + line for line in rest)
        yield ""


def _count(n: int, noun: str) -> str:
    return f"{n:,} {noun}{'' if n == 1 else 's'}"


def _span(start: float, end: float) -> str:
    a, b = datetime.fromtimestamp(start), datetime.fromtimestamp(end)
    return f"{a:%Y-%m-%d %H:%M} to {b:%H:%M}" if a.date() == b.date() else f"{a:%Y-%m-%d %H:%M} to {b:%Y-%m-%d %H:%M}"
