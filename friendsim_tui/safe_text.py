"""Untrusted text made safe to show: one rule for the app, the command line and exported transcripts.

Imported names and messages, file names and everything a model writes (it learned from the imports) can
hold terminal escapes (ANSI/OSC), bells, backspaces, carriage returns, C1 controls and bidirectional
overrides. None of them may reach a terminal raw, where they could recolour, rewrite or reorder what is
shown, or set the window title. They are made visible instead:

- C0 controls become Unicode control pictures (ESC -> ``␛``, BEL -> ``␇``), as a terminal would show them
  in a caret notation, but without acting on them;
- DEL, C1 controls (U+0080-U+009F), line/paragraph separators and bidirectional overrides become
  ``\\uXXXX``, which is also a valid JSON escape: a ``--json`` line stays valid JSON that decodes back to the
  very same text, while the terminal never sees the raw character.

``inert`` makes one line of a field (newlines and tabs too become pictures); ``inert_lines`` keeps newlines
and tabs, for multi-line output; ``md_escape`` also escapes what Markdown would act on, for Markdown
files. :class:`InertStream` applies ``inert_lines`` to everything a command prints. Pure Python, no imports
beyond the standard library: the CLI, the store and the app share it.
"""

from __future__ import annotations

import re
import sys
from contextlib import contextmanager
from typing import Iterator, TextIO

_ESCAPED = (0x7F, *range(0x80, 0xA0), 0x2028, 0x2029, *range(0x202A, 0x202F), *range(0x2066, 0x206A))
_PICTURES = {c: chr(0x2400 + c) for c in range(0x20)}
_AS_ESCAPES = {c: f"\\u{c:04x}" for c in _ESCAPED}

ONE_LINE = str.maketrans({**_PICTURES, **_AS_ESCAPES})
KEEP_LINES = str.maketrans({**{c: p for c, p in _PICTURES.items() if c not in (0x09, 0x0A)}, **_AS_ESCAPES})


def inert(text: object, limit: int | None = None) -> str:
    """One line of plain text with every control character made visible; cut to ``limit`` characters."""
    out = str(text).translate(ONE_LINE)
    if limit is not None and len(out) > limit:
        out = out[: max(0, limit - 1)] + "…"
    return out


def inert_lines(text: object) -> str:
    """Like :func:`inert`, but newlines and tabs stay what they are (a ``\\r\\n`` line end becomes ``\\n``)."""
    return str(text).replace("\r\n", "\n").translate(KEEP_LINES)


_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]<>#|~&])")
_MD_LINE_START = re.compile(r"^(\s*)([-+=]|\d+(?=[.)]))")


def md_escape(text: str) -> str:
    """One line of inert text with Markdown/HTML-active characters backslash-escaped (CommonMark)."""
    text = _MD_SPECIAL.sub(r"\\\1", inert_lines(text))
    m = _MD_LINE_START.match(text)
    if m:  # a list marker, heading underline or ordered-list number at the start of a line
        i = m.end() if m.group(2)[0].isdigit() else m.start(2)
        text = text[:i] + "\\" + text[i:]
    return text


class InertStream:
    """A text stream that passes everything written through :func:`inert_lines` to ``stream``.

    ``raw`` is the stream itself, for our own terminal control (a progress line redrawn with ``\\r``).
    """

    def __init__(self, stream: TextIO) -> None:
        self.raw = stream

    def write(self, text: str) -> int:
        self.raw.write(inert_lines(text))
        return len(text)

    def writelines(self, lines) -> None:
        for line in lines:
            self.write(line)

    def __getattr__(self, name: str):
        return getattr(self.raw, name)


def raw(stream: TextIO) -> TextIO:
    """The stream under an :class:`InertStream` (or ``stream`` itself)."""
    return stream.raw if isinstance(stream, InertStream) else stream


@contextmanager
def inert_output() -> Iterator[None]:
    """While inside, whatever is printed to stdout and stderr is made inert."""
    out, err = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = InertStream(out), InertStream(err)
    try:
        yield
    finally:
        sys.stdout, sys.stderr = out, err


@contextmanager
def raw_output() -> Iterator[None]:
    """Undo :func:`inert_output` while inside: for the app, which writes its own escape sequences (and shows
    untrusted text inertly by the same rule, see friendsim_tui.tui.text)."""
    out, err = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = raw(out), raw(err)
    try:
        yield
    finally:
        sys.stdout, sys.stderr = out, err
