"""What the JSON importers (DCE JSON, Telegram, Messenger) share: a reader that refuses absurd nesting.

Real exports nest a handful of levels (a DCE message's reaction users sit about 7 deep). A hostile or
broken file can nest tens of thousands of levels in a few KB, and that costs memory far out of
proportion: ijson keeps the path of every open level as a string (``messages.item.embeds.item.item...``),
so memory grows with the square of the depth (30,000 levels: 2.2 GB; 100,000: over 20 GB), and
``json.loads`` gives up with a RecursionError. :class:`JsonReader` checks the nesting of every chunk
*before* the parser sees it and stops at :data:`MAX_DEPTH` with a one-line :class:`ChatImportError` naming
the byte, so memory no longer depends on the depth.

The check runs at C speed on a typical chunk (a few per cent of ijson's own time): escapes and
everything but quotes and brackets are dropped with bytes methods, strings are cut out, and the depth is
followed in small windows; only a chunk that comes near the limit is walked byte by byte.
"""

from __future__ import annotations

from pathlib import Path

from friendsim_tui.importers.base import ChatImportError

MAX_DEPTH = 256
"""Deepest nesting read. Real exports stay under 20; the limit leaves room and keeps memory trivial."""

_SQUARE = bytes.maketrans(b"{}", b"[]")
_NOT_STRUCTURE = bytes(b for b in range(256) if b not in b'[]{}"')


class DepthGuard:
    """Follows the nesting depth of a JSON byte stream fed chunk by chunk.

    Exact for valid JSON; after the first syntax error the parser stops anyway, so what the guard thinks
    of the rest does not matter.
    """

    def __init__(self, limit: int = MAX_DEPTH) -> None:
        self.limit = limit
        self.depth = 0
        self.in_string = False
        self.escape = False  # the chunk before ended inside a string on a backslash: the next byte is escaped
        self._window = max(1, limit // 2)

    def feed(self, data: bytes) -> int | None:
        """Take the next chunk; the offset within it of the first byte nested deeper than the limit, else None."""
        if self._fast(data):
            return None
        return self._exact(data)

    def _fast(self, data: bytes) -> bool:
        """Follow ``data`` with bytes methods; False (state untouched) when it may come near the limit."""
        if self.escape:
            data = data[1:]
        body = data.rstrip(b"\\")
        odd = (len(data) - len(body)) & 1  # an odd run of backslashes at the end escapes the next chunk's byte
        i = body.find(b"\\")
        if i >= 0:  # drop every escape (backslash and the byte after it): no quote in a string is left escaped
            pieces = []
            j = 0
            while i >= 0:
                pieces.append(body[j:i])
                j = i + 2
                i = body.find(b"\\", j)
            pieces.append(body[j:])
            body = b"".join(pieces)
        s = body.translate(None, _NOT_STRUCTURE)
        if self.in_string:
            s = b'"' + s
        # Adjacent quotes close one string and open the next (or hold an empty one): nothing between them
        # is structure, so dropping them changes nothing. What quotes remain enclose brackets in text.
        s = s.replace(b'""', b"")
        in_string = False
        if b'"' in s:
            parts = s.split(b'"')
            s = b"".join(parts[0::2])
            in_string = len(parts) % 2 == 0
        s = s.translate(_SQUARE)
        depth = self.depth
        limit = self.limit
        opens = s.count(b"[")
        if depth + opens > limit:
            # Within a window the depth rises at most by its openers: a window whose start depth plus its
            # openers stays under the limit cannot cross it.
            step = self._window
            depth_at = depth
            for w in range(0, len(s), step):
                window = s[w : w + step]
                n = window.count(b"[")
                if depth_at + n > limit:
                    return False
                depth_at += 2 * n - len(window)
        self.depth = depth + 2 * opens - len(s)
        self.in_string = in_string
        self.escape = bool(odd) and in_string
        return True

    def _exact(self, data: bytes) -> int | None:
        depth, in_string, escape, limit = self.depth, self.in_string, self.escape, self.limit
        for i, c in enumerate(data):
            if in_string:
                if escape:
                    escape = False
                elif c == 0x5C:  # backslash
                    escape = True
                elif c == 0x22:  # quote
                    in_string = False
            elif c == 0x22:
                in_string = True
            elif c == 0x5B or c == 0x7B:  # [ {
                depth += 1
                if depth > limit:
                    return i
            elif c == 0x5D or c == 0x7D:  # ] }
                depth -= 1
        self.depth, self.in_string, self.escape = depth, in_string, escape
        return None


def too_deep(path: Path | str, offset: int, limit: int = MAX_DEPTH) -> ChatImportError:
    return ChatImportError(
        path,
        f"JSON nested more than {limit} levels deep; chat exports nest only a few levels, so the file is "
        "damaged or not a chat export",
        f"byte {offset}",
    )


class JsonReader:
    """A binary file for ijson: counts the bytes handed over and refuses nesting deeper than :data:`MAX_DEPTH`.

    ``pos`` is the file offset after the last chunk read, ``last`` that chunk's length (where a parse error
    happened is somewhere in it).
    """

    def __init__(self, fh, path: Path | str, pos: int = 0, limit: int = MAX_DEPTH) -> None:
        self.fh = fh
        self.path = path
        self.pos = pos
        self.last = 0
        self._guard = DepthGuard(limit)

    def read(self, n: int = -1) -> bytes:
        data = self.fh.read(n)
        deep = self._guard.feed(data)
        if deep is not None:
            raise too_deep(self.path, self.pos + deep, self._guard.limit)
        self.pos += len(data)
        self.last = len(data)
        return data


def check_depth(data: bytes, path: Path | str, limit: int = MAX_DEPTH) -> None:
    """Raise :class:`ChatImportError` when the JSON document ``data`` nests deeper than ``limit``."""
    guard = DepthGuard(limit)
    step = 1 << 20
    for start in range(0, len(data), step):
        deep = guard.feed(data[start : start + step])
        if deep is not None:
            raise too_deep(path, start + deep, limit)
