"""Facebook Messenger / Instagram "Download your information" JSON: ``inbox/<thread>/message_N.json``.

Each file holds ``participants``, ``title``, ``thread_path`` and ``messages`` (newest first; the order does not
matter once stored, timestamps sort them). A long thread is split over ``message_1.json``,
``message_2.json``...: the conversation key is the thread folder name (``thread_path``'s last part, which
is the folder's name in a real export, else the folder the file sits in), so the files join one
conversation.

Strings are mojibake: UTF-8 bytes written as Latin-1 code points. :func:`repair` undoes it on names, titles
and content, leaving alone what does not round-trip (a file already repaired, or real Latin-1 text).

There are no message ids: :class:`ContentIds` hashes (thread, time, sender, content), stable across
re-imports. Media-only messages are counted as media-only, unsent ones as deleted, calls and
joins/leaves as system events.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any, Iterator

from friendsim_tui.importers._json import check_depth
from friendsim_tui.importers.base import (
    DELETED,
    EMPTY,
    MEDIA,
    SYSTEM,
    ChatImportError,
    ContentIds,
    ImportReport,
    Message,
    Progress,
)

name = "messenger"
label = "Facebook Messenger / Instagram (message_N.json)"

_FILE_NAME = re.compile(r"^message_\d+\.json$", re.I)
_MEDIA_KEYS = ("photos", "videos", "audio_files", "gifs", "files", "sticker", "share", "attachments")
_SYSTEM_TYPES = {"Call", "Subscribe", "Unsubscribe"}

# Notices Messenger and Instagram write as message content, each matched against the whole content.
# {actor} is whoever a notice names, often not the message's sender ("X sent an attachment." can come in
# someone else's name), so the sender is not checked. English only for now: another language is more rows.
_ACTOR = r"[^\n]{1,80}?"
_NOTICES = (
    r"{actor} named the group .+",
    r"{actor} changed the group photo\.",
    r"{actor} changed the theme to .+",
    r"{actor} set the emoji to .+",
    r"{actor} started (?:a|the) (?:video|audio) (?:chat|call)\.?",
    r"{actor} joined the (?:video|audio) (?:chat|call)\.?",
    r"{actor} (?:joined|left) the group\.?",
    r"{actor} (?:added|removed) .{{1,80}} (?:to|from) the group\.",
    r"{actor} set (?:the|your|their|his|her) nickname.*",
    r"{actor}'s poll has multiple updates\.",
    r"This poll is no longer available\.",
    r"{actor} sent an? (?:attachment|photo|video|voice message|GIF|sticker|link)\.",
    r"Liked a message",  # Instagram's reactions, written as messages of their own
    r"Reacted .{{1,16}} to your message ?",
)
_NOTICE = re.compile("|".join(f"(?:{n.format(actor=_ACTOR)})" for n in _NOTICES), re.S)
_NOTICE_HINTS = (" the ", " sent a", " nickname", " video ", " audio ", "poll ", "Liked a message", "Reacted ")
"""Words every notice holds: text without any of them skips the (slower) full match."""
# Except that the sender's own "X sent a photo." stands for the photo: a media-only message.
_OWN_ATTACHMENT = re.compile(r"sent an? (?:attachment|photo|video|voice message|GIF|sticker|link)\.")
_MAX_TS = 1e11  # about the year 5000: anything larger is damage, not a date


def repair(s: Any) -> str:
    """Undo Facebook's mojibake (UTF-8 read as Latin-1); what does not round-trip is returned unchanged."""
    if not isinstance(s, str):
        return ""
    if s.isascii():
        return s
    try:
        return s.encode("latin-1").decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return s


def _event_kind(text: str, sender: str) -> str | None:
    """MEDIA or SYSTEM for content that only narrates an event ("Alice sent a photo."), else None."""
    if not any(hint in text for hint in _NOTICE_HINTS):
        return None
    for actor in (sender + " ", "You "):
        if text.startswith(actor) and _OWN_ATTACHMENT.fullmatch(text, len(actor)):
            return MEDIA
    return SYSTEM if _NOTICE.fullmatch(text) else None


def sniff(path: Path, head: bytes) -> bool:
    head = head.lstrip(b"\xef\xbb\xbf").lstrip()
    return (
        head.startswith(b"{")
        and b'"participants"' in head
        and (b'"sender_name"' in head or b'"timestamp_ms"' in head or b'"messages": []' in head)
    )


def thread_key(path: Path, doc: dict) -> str:
    """The conversation key: the thread folder's name (``inbox/<thread>``), so all message_N.json join."""
    tp = doc.get("thread_path")
    if isinstance(tp, str) and tp.strip("/ "):
        return tp.strip("/ ").rsplit("/", 1)[-1]
    if _FILE_NAME.match(path.name) and path.parent.name:
        return path.parent.name
    return path.stem


def _load(path: Path) -> dict:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ChatImportError(path, f"cannot read: {exc.strerror or exc}") from None
    check_depth(data, path)  # json.loads would give up with a RecursionError on absurd nesting
    try:
        doc = json.loads(data)
    except UnicodeDecodeError as exc:
        raise ChatImportError(path, "not UTF-8 JSON", f"byte {exc.start}") from None
    except json.JSONDecodeError as exc:
        raise ChatImportError(path, f"invalid JSON: {exc.msg}", f"line {exc.lineno}, column {exc.colno}") from None
    except (ValueError, RecursionError) as exc:
        raise ChatImportError(path, f"invalid JSON: {exc}", "byte 0") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("messages"), list):
        raise ChatImportError(path, "not a Messenger/Instagram export (no 'messages' list at the top)", "byte 0")
    return doc


def _title(doc: dict, thread: str) -> str:
    title = repair(doc.get("title")).strip()
    if title:
        return title
    parts = doc.get("participants")
    names = [repair(p.get("name")) for p in parts if isinstance(p, dict)] if isinstance(parts, list) else []
    return ", ".join(n for n in names if n) or thread


def parse(path: Path, report: ImportReport, progress: Progress | None = None) -> Iterator[Message]:
    path = Path(path)
    doc = _load(path)
    thread = thread_key(path, doc)
    title = _title(doc, thread)
    messages = doc["messages"]
    ids = ContentIds()
    names: dict[str, str] = {}
    total = len(messages)
    for i, m in enumerate(messages):
        if progress is not None and i % 5000 == 0:
            progress(i, total)
        where = f"messages[{i}]"
        if not isinstance(m, dict):
            report.unparseable(where, "a message that is not a JSON object")
            continue
        ms = m.get("timestamp_ms")
        if isinstance(ms, bool) or not isinstance(ms, (int, float)):
            report.unparseable(where, "no timestamp_ms")
            continue
        raw_sender = m.get("sender_name")
        sender = names.get(raw_sender) if isinstance(raw_sender, str) else None
        if sender is None:
            sender = repair(raw_sender).strip()
            if isinstance(raw_sender, str):
                names[raw_sender] = sender
        if not sender:
            report.unparseable(where, "no sender_name")
            continue
        if m.get("is_unsent") is True:
            report.skip(DELETED)
            continue
        mtype = m.get("type")
        if isinstance(mtype, str) and mtype in _SYSTEM_TYPES:
            report.skip(SYSTEM)
            continue
        text = repair(m.get("content")).strip()
        has_media = any(m.get(k) for k in _MEDIA_KEYS)
        if not text:
            if has_media:
                report.skip(MEDIA)
            else:
                report.skip(SYSTEM if mtype not in (None, "Generic") else EMPTY)
            continue
        kind = _event_kind(text, sender)
        if kind is not None:
            report.skip(kind)
            continue
        try:
            ts = ms / 1000.0
        except OverflowError:
            ts = float("inf")
        if not -_MAX_TS < ts < _MAX_TS:  # also false for NaN
            report.unparseable(where, f"timestamp_ms out of range: {ms}")
            continue
        yield report.keep(Message(name, ids(thread, ts, sender, text), thread, title, sender, sender, ts, text))
    if progress is not None:
        progress(total, total)
