"""Telegram Desktop export (``result.json``): one chat ``{name, type, id, messages}`` or a full-account export
with chats under ``chats.list[]`` (and ``left_chats.list[]``).

The file is streamed with ijson (C backend): each message object is built on its own and dropped once
converted, so memory stays bounded however large the export, and absurd nesting is refused before ijson
sees it (:mod:`._json`). A truncated or damaged file keeps every message read before the damage and
warns with the byte offset where reading stopped.

- ``text`` is a string or a list of strings and ``{type, text}`` pieces: the pieces are joined.
- ``type: service`` messages (``actor``/``action``) are system events; a message with no text but a photo,
  file, sticker, poll, location... is media-only.
- The timestamp is ``date_unixtime`` (true epoch seconds) when present, else ``date`` read as UTC.
- ``speaker_key`` is ``from_id`` (``user123``); ``source_id`` is ``<chat id>:<message id>``, and ``reply_to``
  is the replied message's ``source_id`` in the same form.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Iterator

import ijson

from friendsim_tui.importers._json import JsonReader
from friendsim_tui.importers.base import (
    BOT,
    EMPTY,
    MEDIA,
    SYSTEM,
    ChatImportError,
    ImportReport,
    Message,
    Progress,
    iso_timestamp,
)

name = "telegram"
label = "Telegram Desktop export (result.json)"

_CHAT_TYPES = (
    "personal_chat", "private_group", "private_supergroup", "public_supergroup", "bot_chat", "saved_messages",
    "private_channel", "public_channel",
)
_SNIFF_TYPE = re.compile(rb'"type"\s*:\s*"(?:' + b"|".join(t.encode() for t in _CHAT_TYPES) + rb')"')

# Where chats and their messages sit, for both layouts.
_CHAT_PREFIXES = ("", "chats.list.item", "left_chats.list.item")
_META = {
    (p + "." if p else "") + key: key for p in _CHAT_PREFIXES for key in ("name", "type", "id")
}
_MESSAGE_ITEMS = frozenset((p + "." if p else "") + "messages.item" for p in _CHAT_PREFIXES)
_MEDIA_KEYS = (
    "photo", "file", "sticker_emoji", "media_type", "poll", "location_information", "contact_information",
    "game_title", "invoice_information", "place_name", "live_location_period_seconds", "mime_type",
)


def sniff(path: Path, head: bytes) -> bool:
    head = head.lstrip(b"\xef\xbb\xbf").lstrip()
    if not head.startswith(b"{"):
        return False
    if b'"personal_information"' in head and (b'"about"' in head or b'"chats"' in head):
        return True  # full-account export
    return b'"messages"' in head and _SNIFF_TYPE.search(head) is not None and (
        b'"date_unixtime"' in head or b'"from_id"' in head or b'"messages": []' in head
    )


def join_text(text: Any) -> str:
    """``text`` as Telegram writes it (a string, or a list of strings and ``{type, text}`` pieces) as one string."""
    if isinstance(text, str):
        return text
    if isinstance(text, list):
        out = []
        for piece in text:
            if isinstance(piece, str):
                out.append(piece)
            elif isinstance(piece, dict) and isinstance(piece.get("text"), str):
                out.append(piece["text"])
        return "".join(out)
    return ""


class _CountingReader:
    """A binary file that remembers how many bytes the parser has taken from it (its offset in the file).

    Only for finding where damage starts (``basic_parse`` keeps no paths, so nesting costs it nothing);
    the parse itself reads through :class:`JsonReader`, which also refuses absurd nesting."""

    def __init__(self, fh, start: int = 0, slow_from: int | None = None):
        self.fh = fh
        self.pos = start
        self.last = 0
        self.slow_from = slow_from

    def read(self, n: int = -1) -> bytes:
        if self.slow_from is not None and n != 0:  # byte by byte from there on, to find where damage starts
            n = max(1, min(n, self.slow_from - self.pos)) if self.pos < self.slow_from else 1
        data = self.fh.read(n)
        self.pos += len(data)
        self.last = len(data)
        return data


def _damage_offset(path: Path, start: int, chunk_start: int) -> int:
    """The offset of the byte where ijson stopped: read again, byte by byte in the chunk that failed."""
    with open(path, "rb") as fh:
        fh.seek(start)
        reader = _CountingReader(fh, start, slow_from=chunk_start)
        try:
            for _ in ijson.basic_parse(reader):
                pass
        except (ijson.JSONError, UnicodeDecodeError, ValueError):
            return max(start, reader.pos - 1)
    return chunk_start


_MAX_TS = 1e11  # about the year 5000: anything larger is damage, not a date


def _timestamp(m: dict) -> float:
    unix = m.get("date_unixtime")
    ts = None
    if isinstance(unix, (str, int, float)) and not isinstance(unix, bool):
        try:
            ts = float(unix)
        except ValueError:
            pass
    if ts is None:
        date = m.get("date")
        if not isinstance(date, str):
            raise ValueError("no date_unixtime or date")
        ts = iso_timestamp(date)
    if not -_MAX_TS < ts < _MAX_TS:  # also false for NaN
        raise ValueError(f"out of range: {unix!r}")
    return ts


def _scalar_id(value: Any) -> str | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, (str, int, float)):
        return str(value)
    return None


class _Chat:
    __slots__ = ("name", "type", "id", "seen")

    def __init__(self) -> None:
        self.name: str | None = None
        self.type: str | None = None
        self.id: str | None = None
        self.seen = 0

    def key(self) -> str:
        return self.id or self.name or "unknown"

    def title(self) -> str:
        if self.name:
            return self.name
        return "Saved Messages" if self.type == "saved_messages" else self.key()


def _convert(chat: _Chat, m: Any, report: ImportReport, where) -> Message | None:
    """One message object as a Message, or None after counting why it was skipped."""
    if not isinstance(m, dict):
        report.unparseable(where(), "a message that is not a JSON object")
        return None
    if m.get("type", "message") != "message":
        report.skip(SYSTEM)
        return None
    msg_id = _scalar_id(m.get("id"))
    if msg_id is None:
        report.unparseable(where(), "a message without an id")
        return None
    try:
        ts = _timestamp(m)
    except (ValueError, OverflowError) as exc:
        report.unparseable(where(msg_id), f"bad date: {exc}")
        return None
    text = join_text(m.get("text")).strip()
    if not text:
        report.skip(MEDIA if any(k in m for k in _MEDIA_KEYS) else EMPTY)
        return None
    from_id = _scalar_id(m.get("from_id"))
    sender = m.get("from")
    sender = sender.strip() if isinstance(sender, str) else ""
    speaker_key = from_id or sender or "unknown"
    if chat.type == "bot_chat" and chat.id and speaker_key == f"user{chat.id}":
        report.skip(BOT)
        return None
    conv = chat.key()
    reply = _scalar_id(m.get("reply_to_message_id"))
    return report.keep(
        Message(
            name,
            f"{conv}:{msg_id}",
            conv,
            chat.title(),
            speaker_key,
            sender or ("Deleted Account" if from_id else speaker_key),
            ts,
            text,
            f"{conv}:{reply}" if reply else None,
        )
    )


def parse(path: Path, report: ImportReport, progress: Progress | None = None) -> Iterator[Message]:
    path = Path(path)
    try:
        fh = open(path, "rb")
    except OSError as exc:
        raise ChatImportError(path, f"cannot read: {exc.strerror or exc}") from None
    with fh:
        size = path.stat().st_size
        start = 3 if fh.read(3) == b"\xef\xbb\xbf" else 0
        fh.seek(start)
        reader = JsonReader(fh, path, start)

        def where(msg_id: str | None = None) -> str:
            return f"byte {reader.pos}" + (f", message {msg_id}" if msg_id else "")

        chats = 0
        chat = _Chat()
        builder = None
        item_prefix = ""
        try:
            for prefix, event, value in ijson.parse(reader, use_float=True):
                if builder is not None:
                    builder.event(event, value)
                    if event == "end_map" and prefix == item_prefix:
                        msg = _convert(chat, builder.value, report, where)
                        builder = None
                        if msg is not None:
                            yield msg
                        chat.seen += 1
                        if progress is not None and chat.seen % 5000 == 0:
                            progress(reader.pos, size)
                    continue
                if prefix in _MESSAGE_ITEMS:
                    if event == "start_map":
                        builder = ijson.ObjectBuilder()
                        builder.event(event, value)
                        item_prefix = prefix
                    elif event not in ("end_map",):
                        report.unparseable(where(), "a message that is not a JSON object")
                    continue
                key = _META.get(prefix)
                if key is not None:
                    if key == "id":
                        chat.id = _scalar_id(value)
                    elif isinstance(value, str):
                        setattr(chat, key, value)
                elif event == "start_map" and prefix in _CHAT_PREFIXES:
                    chat = _Chat()
                elif event == "start_array" and prefix[-8:] == "messages" and prefix + ".item" in _MESSAGE_ITEMS:
                    chats += 1
        except (ijson.JSONError, UnicodeDecodeError, ValueError) as exc:
            detail = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            truncated = "premature EOF" in detail or reader.pos >= size and reader.last == 0
            at = size if truncated else _damage_offset(path, start, reader.pos - reader.last)
            if not chats:
                raise ChatImportError(path, f"not a readable Telegram export: {detail}", f"byte {at}") from None
            what = "the file ends early (truncated export?)" if truncated else "damaged JSON"
            report.warn(f"{what} at byte {at} of {size}: {detail}; kept the {report.kept} messages read before it")
        if not chats:
            raise ChatImportError(path, "no chat with messages found (expected Telegram Desktop's result.json)", "byte 0")
        if progress is not None:
            progress(size, size)
