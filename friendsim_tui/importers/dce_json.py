"""DiscordChatExporter JSON: ``{guild, channel, dateRange, exportedAt, messages: [...], messageCount}``.

Exports reach several GB, so the file is streamed with ijson (its C backend where installed): one pass
reads the guild and channel up to the ``messages`` key, a second yields one message at a time. Memory
stays bounded whatever the size, and absurd nesting is refused before ijson sees it (:mod:`._json`).
An export that crashed can end in the middle of a message: everything before the damage is kept and
the report says at which byte reading stopped.
"""

from __future__ import annotations

import os
import re
from array import array
from bisect import bisect_left
from pathlib import Path
from typing import Iterator

import ijson

from friendsim_tui.importers.base import (
    BOT,
    DUPLICATE,
    EMPTY,
    MEDIA,
    SYSTEM,
    ChatImportError,
    ImportReport,
    Message,
    Progress,
    iso_timestamp,
    strip_discriminator,
)
from friendsim_tui.importers._dce import conversation_from_filename
from friendsim_tui.importers._json import JsonReader

name = "dce-json"
label = "DiscordChatExporter JSON"

_BOM = b"\xef\xbb\xbf"
_KEYS = (re.compile(rb'"guild"\s*:\s*\{'), re.compile(rb'"channel"\s*:\s*\{'))
_MESSAGES = re.compile(rb'"messages"\s*:\s*\[')
_CONVERSATION = frozenset({"Default", "Reply", 0, 19})
_META = {"guild.id", "guild.name", "channel.id", "channel.name", "channel.type", "channel.category"}
_BUF = 1 << 16
_PROGRESS_EVERY = 4096


def sniff(path: Path, head: bytes) -> bool:
    h = head[3:] if head.startswith(_BOM) else head
    if not h.lstrip().startswith(b"{"):
        return False
    return all(k.search(h) for k in _KEYS) and (_MESSAGES.search(h) is not None or len(head) >= 65536)


def _open_json(path: Path):
    fh = open(path, "rb")
    start = 3 if fh.read(3) == _BOM else 0
    fh.seek(start)
    return fh, start


def _first_line(exc: Exception) -> str:
    text = exc.args[0] if exc.args else str(exc)
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    return str(text).strip().splitlines()[0] if str(text).strip() else type(exc).__name__


def _metadata(path: Path) -> dict[str, str]:
    """Guild and channel fields, read up to the top-level ``messages`` key (DCE writes them first)."""
    meta: dict[str, str] = {}
    fh, start = _open_json(path)
    reader = JsonReader(fh, path, start)
    first = True
    try:
        with fh:
            for prefix, event, value in ijson.parse(reader, buf_size=_BUF):
                if first:
                    if event != "start_map":
                        raise ChatImportError(path, "not a DiscordChatExporter export: the JSON is not an object")
                    first = False
                elif prefix == "" and event == "map_key":
                    if value == "messages":
                        break
                elif prefix in _META and event in ("string", "number"):
                    meta[prefix] = str(value)
            else:
                raise ChatImportError(path, "not a DiscordChatExporter export: no top-level 'messages' list")
    except (ijson.JSONError, ValueError, RecursionError) as exc:
        raise ChatImportError(
            path, f"damaged JSON before the first message: {_first_line(exc)}", f"byte {reader.pos}"
        ) from None
    if not any(k.startswith(("guild.", "channel.")) for k in meta):
        raise ChatImportError(path, "not a DiscordChatExporter export: no 'guild' or 'channel' before 'messages'")
    return meta


def _conversation(path: Path, meta: dict[str, str]) -> tuple[str, str]:
    key, title = conversation_from_filename(path)
    channel = meta.get("channel.name", "")
    guild = meta.get("guild.name", "")
    if channel:
        dm = meta.get("guild.id") == "0" or guild == "Direct Messages" or "DirectText" in meta.get("channel.type", "")
        title = channel if dm or not guild else f"{guild} / #{channel}"
    return meta.get("channel.id") or key, title


def parse(path: Path, report: ImportReport, progress: Progress | None = None) -> Iterator[Message]:
    path = Path(path)
    meta = _metadata(path)
    conversation, title = _conversation(path, meta)
    total = os.path.getsize(path)
    fh, start = _open_json(path)
    reader = JsonReader(fh, path, start)
    speakers: dict[tuple, tuple[str, str]] = {}
    seen = _SeenIds()
    n = 0
    with fh:
        try:
            for m in ijson.items(reader, "messages.item", buf_size=_BUF, use_float=True):
                n += 1
                if progress and not n % _PROGRESS_EVERY:
                    progress(reader.pos, total)
                msg = _message(m, n, reader.pos, conversation, title, speakers, report)
                if msg is None:
                    continue
                if not seen.add(msg.source_id):  # the store keeps one copy: count one
                    report.skip(DUPLICATE)
                    continue
                yield report.keep(msg)
        except (ijson.JSONError, ValueError, RecursionError) as exc:
            report.warn(
                f"damaged or truncated JSON: stopped at byte {min(reader.pos, total)} of {total} after "
                f"{n:,} messages ({_first_line(exc)}); the messages before it were kept"
            )
    if progress:
        progress(total, total)


def _message(m, n: int, pos: int, conversation: str, title: str, speakers: dict, report: ImportReport):
    """One export message as a Message, or None when it is skipped (counted in the report)."""
    if not isinstance(m, dict):
        report.unparseable(f"message {n}, byte {pos}", "not a JSON object")
        return None
    kind = m.get("type", "Default")
    if not isinstance(kind, (str, int)) or kind not in _CONVERSATION:
        report.skip(SYSTEM)
        return None
    author = m.get("author")
    mid = _scalar(m.get("id"))
    if not isinstance(author, dict) or not mid:
        report.unparseable(f"message {n}, byte {pos}", "no author or id")
        return None
    if author.get("isBot") is True:
        report.skip(BOT)
        return None
    content = m.get("content") or ""
    if not isinstance(content, str):
        report.unparseable(f"message {n} (id {mid}), byte {pos}", "content is not text")
        return None
    if not content.strip():
        media = m.get("attachments") or m.get("stickers") or m.get("embeds")
        report.skip(MEDIA if media else EMPTY)
        return None
    stamp = m.get("timestamp")
    try:
        if not isinstance(stamp, str):
            raise ValueError("no timestamp")
        ts = iso_timestamp(stamp)
    except (ValueError, OverflowError) as exc:
        report.unparseable(f"message {n} (id {mid}), byte {pos}", f"bad timestamp: {exc}")
        return None
    ident = (_scalar(author.get("id")), _scalar(author.get("nickname")), _scalar(author.get("name")))
    who = speakers.get(ident)
    if who is None:
        uid, nick, raw = ident
        display = nick.strip() or strip_discriminator(raw.strip())
        key = f"discord:{uid}" if uid else f"discord-name:{raw}"
        who = speakers[ident] = (key, display or key)
    reply_to = None
    ref = m.get("reference")
    if isinstance(ref, dict) and ref.get("type", "Default") != "Forward":
        reply_to = _scalar(ref.get("messageId")) or None
    return Message(name, mid, conversation, title, who[0], who[1], ts, content, reply_to)


class _SeenIds:
    """The message ids met so far in one file, in about 8 bytes each (exports hold millions).

    Discord ids grow with time and DCE writes messages in order, so the ids that keep ascending go into
    an array searched by bisection; the rare one out of order (or not a number) goes into a set.
    """

    def __init__(self) -> None:
        self.ascending = array("Q")
        self.others: set = set()

    def add(self, mid: str) -> bool:
        """True when ``mid`` is new (and now remembered), False when it came before."""
        key: int | str = mid
        if mid.isascii() and mid.isdigit() and len(mid) <= 19 and (mid[0] != "0" or mid == "0"):
            key = int(mid)
            ascending = self.ascending
            if not ascending or key > ascending[-1]:
                ascending.append(key)
                return True
            i = bisect_left(ascending, key)
            if i < len(ascending) and ascending[i] == key:
                return False
        if key in self.others:
            return False
        self.others.add(key)
        return True


def _scalar(value) -> str:
    """An id or name as text; anything else (missing, null, a list...) as ""."""
    if isinstance(value, str):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return ""
