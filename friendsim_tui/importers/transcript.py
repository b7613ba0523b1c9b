"""Plain transcript: one message per line, ``Name: text`` (the original FriendSimulator's parsed format).

Names may contain spaces, so a line splits on the first ``": "`` only. A line without one continues the
previous message. There are no timestamps: messages get one second apart from the file's start so their
order is kept, and the whole file is one session.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Iterator

from friendsim_tui.importers.base import (
    EMPTY,
    ChatImportError,
    ContentIds,
    ImportReport,
    Message,
    Progress,
    decode_text,
)

name = "transcript"
label = "Plain transcript (Name: text)"

# A speaker name: 1-64 characters, no ':' at the start, not a URL scheme.
_LINE = re.compile(r"^([^:\n\r]{1,64}?): (.*)$")
_BASE_TS = 946684800.0  # 2000-01-01, a fixed origin so ids stay stable across re-imports


def _match(line: str):
    m = _LINE.match(line)
    if m is None:
        return None
    speaker = m.group(1).strip()
    if not speaker or speaker.lower() in ("http", "https") or "://" in speaker:
        return None
    return speaker, m.group(2)


def sniff(path: Path, head: bytes) -> bool:
    if b"\x00" in head:
        return False
    text = head.decode("utf-8", "replace").lstrip("\ufeff")
    if text.lstrip()[:1] in ("{", "[", "<"):  # JSON, XML or HTML is never a transcript
        return False
    lines = [ln for ln in text.splitlines()[:50] if ln.strip()]
    if not lines:
        return False
    hits = sum(1 for ln in lines if _match(ln))
    return _match(lines[0]) is not None and hits >= max(1, len(lines) // 2)


def parse(path: Path, report: ImportReport, progress: Progress | None = None) -> Iterator[Message]:
    data = Path(path).read_bytes()
    text, warning = decode_text(data, path)
    if warning:
        report.warn(warning)
    conversation = Path(path).stem
    ids = ContentIds()
    current: list | None = None  # [speaker, [lines], lineno]
    n = 0

    def flush(cur) -> Message | None:
        speaker, lines, _ = cur
        body = "\n".join(lines).strip()
        if not body:
            report.skip(EMPTY)
            return None
        nonlocal n
        ts = _BASE_TS + n
        n += 1
        return report.keep(
            Message(name, ids(conversation, ts, speaker, body), conversation, conversation, speaker, speaker, ts, body)
        )

    lines = text.splitlines()
    first_seen = False
    for lineno, line in enumerate(lines, 1):
        m = _match(line)
        if m:
            first_seen = True
            if current is not None:
                msg = flush(current)
                if msg:
                    yield msg
            current = [m[0], [m[1]], lineno]
        elif current is not None:
            current[1].append(line)
        elif line.strip():
            if not first_seen:
                raise ChatImportError(path, "expected 'Name: text' on the first line", f"line {lineno}")
        if progress and lineno % 50000 == 0:
            progress(lineno, len(lines))
    if current is not None:
        msg = flush(current)
        if msg:
            yield msg
    if progress:
        progress(len(lines), len(lines))
