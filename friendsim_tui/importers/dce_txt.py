"""DiscordChatExporter PlainText (.txt).

A preamble framed by lines of 62 ``=`` (``Guild:``, ``Channel:``, optional ``Topic:``, ``After:``,
``Before:``); per message a header ``[<date>] <author>`` (plus `` (pinned)``), the content lines, a blank
line, optional ``{Attachments}``, ``{Embed}``, ``{Stickers}`` and ``{Reactions}`` blocks, and a blank line;
at the end ``Exported N message(s)`` between two more lines of ``=``.

Dates are in the exporting user's locale (minute precision), so their day/month order is inferred from the
whole file. Authors are ``name#1234`` or ``name``, with no user id: the raw name is the speaker's key.
The file is streamed line by line.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Iterator

from friendsim_tui.importers import _dce
from friendsim_tui.importers.base import (
    EMPTY,
    MEDIA,
    SYSTEM,
    ChatImportError,
    ImportReport,
    Message,
    Progress,
    read_head,
)

name = "dce-txt"
label = "DiscordChatExporter PlainText"

SEPARATOR = "=" * 62
_HEADER = re.compile(r"\[([^\]\n]{4,48})\] (.+?)( \(pinned\))?\Z")
_DATEISH = re.compile(r"\d.*\d[:.]\d\d")  # a header whose date we cannot read still looks like one
_BLOCKS = frozenset({"{Attachments}", "{Embed}", "{Stickers}", "{Reactions}"})
_MEDIA_BLOCKS = frozenset({"{Attachments}", "{Embed}", "{Stickers}"})
_EXPORTED = re.compile(r"Exported ([\d,.\s\u00a0\u202f']+) message")
_PROGRESS_EVERY = 1 << 16


def sniff(path: Path, head: bytes) -> bool:
    if b"\x00" in head:
        return False
    text = head.decode("utf-8", "replace").lstrip("\ufeff").lstrip()
    lines = text.splitlines()
    return len(lines) > 2 and lines[0] == SEPARATOR and any(ln.startswith("Guild: ") for ln in lines[1:4])


def _open(path: Path):
    return open(path, encoding="utf-8-sig", errors=_dce.TEXT_ERRORS)


def parse(path: Path, report: ImportReport, progress: Progress | None = None) -> Iterator[Message]:
    path = Path(path)
    _dce.check_not_binary(path, read_head(path))
    total = os.path.getsize(path)
    with _dce.FallbackWatch() as watch:
        with _open(path) as fh:
            preamble, body_start = _preamble(path, fh)
            day_first, warning = _day_order(fh)
        if warning:
            report.warn(warning)
        key, title = _conversation(path, preamble)
        with _open(path) as fh:
            yield from _messages(fh, body_start, key, title, _dce.DateParser(day_first), report, progress, total)
    warning = watch.warning(path)
    if warning:
        report.warn(warning)
    if progress:
        progress(total, total)


def _preamble(path: Path, fh) -> tuple[dict[str, str], int]:
    """The ``Key: value`` lines between the two separators, and how many lines precede the messages."""
    info: dict[str, str] = {}
    lineno = 0
    for line in fh:
        lineno += 1
        line = line.rstrip("\n")
        if lineno == 1:
            if line.strip() != SEPARATOR:
                if _HEADER.match(line):  # a file cut before its first message: read it all the same
                    return info, 0
                raise ChatImportError(path, "not a DiscordChatExporter PlainText export: expected a line of 62 '='", "line 1")
            continue
        if line == SEPARATOR:
            return info, lineno
        k, sep, v = line.partition(": ")
        if sep and k in ("Guild", "Channel", "Topic", "After", "Before") and k not in info:
            info[k] = v
    raise ChatImportError(path, "the preamble never ends (no second line of 62 '=')", f"line {lineno}")


def _day_order(fh) -> tuple[bool, str | None]:
    """Day/month order of localized header dates, from the whole file (stops once a date settles it)."""
    order = _dce.DayOrder()
    local = None
    for line in fh:
        if line[:1] != "[":
            continue
        m = _HEADER.match(line.rstrip("\n"))
        if m is None:
            continue
        style = _dce.date_style(m.group(1))
        if style is None:
            continue
        if local is None:
            local = style == _dce.LOCAL
            if not local:
                return False, None
        if order.observe(m.group(1)):
            break
    if not local:
        return False, None
    return order.decide()


def _conversation(path: Path, info: dict[str, str]) -> tuple[str, str]:
    key, title = _dce.conversation_from_filename(path)
    guild, channel = info.get("Guild", ""), info.get("Channel", "")
    if channel:
        dm = guild == "Direct Messages" or not guild
        title = channel if dm else f"{guild} / #{channel.rpartition(' / ')[2]}"
        if key == Path(path).stem:  # no channel id in the file name: the preamble names the chat
            key = f"{guild}/{channel}"
    return key, title


def _messages(fh, body_start, conversation, title, dates, report, progress, total) -> Iterator[Message]:
    ids = _dce.ContentKeys(conversation)
    speakers: dict[str, tuple[str, str]] = {}
    current: tuple | None = None  # (lineno, date text, author)
    body: list[str] = []
    skipping = False  # after a header whose date could not be read, until the next header
    footer: int | None = None
    prev_blank = True
    lineno = 0

    def finish(cur, lines) -> Message | None:
        lineno, date, author = cur
        text, media = _content(lines)
        if not text.strip():
            report.skip(MEDIA if media else EMPTY)
            return None
        if _dce.is_system_text(text):
            report.skip(SYSTEM)
            return None
        who = speakers.get(author)
        if who is None:
            who = _dce.speaker_for("", author)
            if who is None:
                report.unparseable(f"line {lineno}", "no author")
                return None
            speakers[author] = who
        ts = dates(date)
        return report.keep(Message(name, ids(ts, date, who[0], text), conversation, title, who[0], who[1], ts, text))

    for line in fh:
        lineno += 1
        if lineno <= body_start:
            continue
        if progress and not lineno % _PROGRESS_EVERY:
            progress(fh.buffer.tell(), total)
        line = line.rstrip("\n")
        header = _HEADER.match(line) if line[:1] == "[" else None
        if header is not None:
            date, author = header.group(1), header.group(2)
            try:
                dates(date)
            except (ValueError, OverflowError) as exc:
                if prev_blank and _DATEISH.search(date):  # where a message starts: a header, unreadable
                    if current is not None and (msg := finish(current, body)) is not None:
                        yield msg
                    current, body, skipping = None, [], True
                    report.unparseable(f"line {lineno}", f"bad date: {exc}")
                    prev_blank = False
                    continue
                header = None
            else:
                if current is not None and (msg := finish(current, body)) is not None:
                    yield msg
                current, body, skipping = (lineno, date, author), [], False
                prev_blank = False
                continue
        if line == SEPARATOR and current is not None:
            if (msg := finish(current, body)) is not None:
                yield msg
            current, body = None, []
        elif current is not None:
            body.append(line)
        elif not skipping and (m := _EXPORTED.match(line)):
            footer = int(re.sub(r"\D", "", m.group(1)) or 0)
        prev_blank = not line.strip()
    if current is not None and (msg := finish(current, body)) is not None:
        yield msg
    if footer is None:
        report.warn(f"no 'Exported N message(s)' footer after line {lineno}: the export may be cut short")
    elif footer != report.read:
        report.warn(f"the footer says {footer:,} messages but {report.read:,} were found")


def _content(lines: list[str]) -> tuple[str, bool]:
    """A message's text without its blocks, and whether it had attachments, embeds or stickers."""
    end = len(lines)
    media = False
    for i, line in enumerate(lines):
        if line in _BLOCKS and i > 0 and not lines[i - 1].strip():
            end = i
            media = any(ln in _MEDIA_BLOCKS for ln in lines[i:])
            break
    while end and not lines[end - 1].strip():
        end -= 1
    return "\n".join(lines[:end]), media
