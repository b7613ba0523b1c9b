"""What the three DiscordChatExporter importers (CSV, JSON, PlainText) share.

Dates in every style DCE has written, the fallback texts it writes for system events, speaker identity
rules, conversation keys from DCE's default file names, and streaming text decoding.
"""

from __future__ import annotations

import codecs
import re
import threading
from hashlib import blake2b
from datetime import datetime, timezone
from pathlib import Path

from friendsim_tui.importers.base import ChatImportError, iso_timestamp, strip_discriminator

# ---------------------------------------------------------------------------------------------
# System events: DCE writes these fallback texts in place of the content of non-conversation messages
# (PlainTextMessageExtensions.GetFallbackContent), so in CSV and PlainText they look like ordinary messages.

SYSTEM_TEXTS = frozenset(
    {
        "Added a recipient.",
        "Removed a recipient.",
        "Left the group.",
        "Changed the channel name.",
        "Changed the channel icon.",
        "Pinned a message.",
        "Started a thread.",
        "Joined the server.",
    }
)
_SYSTEM_PATTERN = re.compile(
    r"(?:Added [^\n]+ to the group\.|Removed [^\n]+ from the group\.|Started a call that lasted [\d,. ]+ minutes?\."
    r"|Changed the channel name: [^\n]*)\Z"
)


SYSTEM_PREFIXES = ("Added ", "Removed ", "Started a call ", "Changed the channel name: ")
SYSTEM_STARTS = tuple(sorted({t.split(" ", 1)[0] for t in (*SYSTEM_TEXTS, *SYSTEM_PREFIXES)}))
"""The first words of every system text: a text starting otherwise is conversation (a cheap first test)."""


def is_system_text(text: str) -> bool:
    """True for DCE's fallback text of a system event (``Joined the server.``, ``Pinned a message.``...)."""
    return text in SYSTEM_TEXTS or (text.startswith(SYSTEM_PREFIXES) and _SYSTEM_PATTERN.match(text) is not None)


# ---------------------------------------------------------------------------------------------
# Speakers


def speaker_for(author_id: str, author: str) -> tuple[str, str] | None:
    """(speaker key, display name) for a DCE author: keyed by the Discord user id when the export has it.

    None when there is neither an id nor a name (a damaged record).
    """
    if not author_id.isdigit():  # absent, or mangled (Excel shows big numbers as 1.00E+17)
        author_id = ""
    if not author_id and not author.strip():
        return None
    name = strip_discriminator(author.strip())
    key = f"discord:{author_id}" if author_id else author
    return key, name or key


# ---------------------------------------------------------------------------------------------
# Message ids for exports without them (CSV, PlainText)


class ContentKeys:
    """:class:`~friendsim_tui.importers.base.ContentIds`' scheme, made cheap for millions of rows.

    The id hashes conversation, the date *as written*, speaker and text, plus how many identical messages
    came before it in this file, so re-importing an overlapping export adds nothing twice. It starts with
    the hour in hex, so one export's ids sort roughly in time order: the store's uniqueness index then
    grows near its end instead of at random places, which keeps large imports fast.
    """

    def __init__(self, conversation: str) -> None:
        self._prefix = conversation + "\x1f"
        self.seen: dict[str, int] = {}

    def __call__(self, ts: float, date_text: str, speaker: str, text: str) -> str:
        # dce_csv inlines this in its hot loop: keep the two in step
        sid = f"{int(ts) // 3600:06x}." + blake2b(
            f"{self._prefix}{date_text}\x1f{speaker}\x1f{text}".encode("utf-8", "surrogatepass"), digest_size=12
        ).hexdigest()
        seen = self.seen
        if sid in seen:
            seen[sid] += 1
            return f"{sid}.{seen[sid]}"
        seen[sid] = 0
        return sid


# ---------------------------------------------------------------------------------------------
# Conversations from file names: DCE's default is ``Guild - [Category - ]Channel [123456789].ext``
# (plus `` (after ... to ...)`` or `` [part N]`` when the export was limited or partitioned).

_BRACKETED_ID = re.compile(r"\s*\[(\d{1,20})\]")


def conversation_from_filename(path: Path) -> tuple[str, str]:
    """(conversation key, title): the bracketed channel id when present, else the file's stem."""
    stem = Path(path).stem
    m = _BRACKETED_ID.search(stem)
    if m:
        title = stem[: m.start()].strip() or stem
        return m.group(1), title
    return stem, stem


# ---------------------------------------------------------------------------------------------
# Text encoding. Exports are UTF-8 (maybe with a BOM); one re-saved on Windows may be cp1252. Files are
# streamed, so instead of decoding everything twice, bytes that are not valid UTF-8 are read as cp1252
# (latin-1 for the five bytes cp1252 leaves undefined) by an error handler that notes it happened;
# the importer then reports where the first such byte is.

NUL = b"\x00"
_fallback = threading.local()


def _cp1252_fallback(exc: UnicodeError) -> tuple[str, int]:
    if not isinstance(exc, UnicodeDecodeError):
        raise exc
    _fallback.hit = True
    bad = exc.object[exc.start : exc.end]
    return "".join(bytes((b,)).decode("cp1252", "ignore") or chr(b) for b in bad), exc.end


codecs.register_error("friendsim-cp1252", _cp1252_fallback)
TEXT_ERRORS = "friendsim-cp1252"
"""``open(..., encoding="utf-8-sig", errors=TEXT_ERRORS)``: UTF-8, with stray bytes read as cp1252."""


def check_not_binary(path: Path, head: bytes) -> None:
    if NUL in head:
        where = f"byte {head.index(NUL)}"
        raise ChatImportError(path, "binary data (NUL bytes), not a text chat export", where)


class FallbackWatch:
    """Notes whether TEXT_ERRORS had to read bytes as cp1252 while a file was read in this thread."""

    def __enter__(self) -> "FallbackWatch":
        _fallback.hit = False
        return self

    def __exit__(self, *exc) -> None:
        self.hit = getattr(_fallback, "hit", False)
        _fallback.hit = False

    def warning(self, path: Path) -> str | None:
        if not self.hit:
            return None
        return f"not UTF-8 (first bad byte at offset {first_bad_utf8(path)}); bytes that are not UTF-8 read as cp1252"


def first_bad_utf8(path: Path) -> int | None:
    dec = codecs.getincrementaldecoder("utf-8")()
    offset = 0
    with open(path, "rb") as fh:
        while True:
            chunk = fh.read(1 << 22)
            try:
                dec.decode(chunk, final=not chunk)
            except UnicodeDecodeError as exc:
                return offset + max(exc.start, 0)
            if not chunk:
                return None
            offset += len(chunk)


# ---------------------------------------------------------------------------------------------
# Dates. DCE has written three styles over the years:
#   - ISO 8601 round-trip: ``2023-09-23T13:15:48.3790000+03:00`` (current CSV, JSON);
#   - the user's locale, minute precision (.NET "g"): ``10/6/2023 12:37 AM``, ``06.10.2023 00:37``,
#     ``2023/10/06 0:37`` (around v2.42, and PlainText headers);
#   - very old: ``01-Jan-18 12:00 AM``, sometimes in brackets.

ISO, LOCAL, OLD = "iso", "local", "old"

_ISO_START = re.compile(r"\s*\d{4}-\d{2}-\d{2}[T ]\d")
_LOCAL = re.compile(
    r"\s*\[?\s*(\d{1,4})\s*([./-])\s*(\d{1,2})\s*[./-]\s*(\d{1,4})\.?,?\s+"
    r"(?:([^\d\s\]]{1,6}(?: ?[^\d\s\]]{1,3})?)\s*)?"
    r"(\d{1,2})[:.](\d{2})(?:[:.](\d{2}))?"
    r"\s*([^\d\s\]]{1,6}(?: ?[^\d\s\]]{1,3})?)?\s*\]?\s*\Z"
)
_OLD = re.compile(
    r"\s*\[?\s*(\d{1,2})[- ]([A-Za-z]{3,9})\.?[- ](\d{2,4}),?\s+(\d{1,2}):(\d{2})(?::(\d{2}))?"
    r"\s*([AaPp]\.?[Mm]\.?)?\s*\]?\s*\Z"
)
_MONTHS = {
    m: i
    for i, names in enumerate(
        (
            ("jan", "january"), ("feb", "february"), ("mar", "march"), ("apr", "april"), ("may",),
            ("jun", "june"), ("jul", "july"), ("aug", "august"), ("sep", "sept", "september"),
            ("oct", "october"), ("nov", "november"), ("dec", "december"),
        ),
        1,
    )
    for m in names
}
_AM = {"am", "a", "午前", "上午", "오전", "vorm"}
_PM = {"pm", "p", "午後", "下午", "오후", "nachm"}


def date_style(text: str) -> str | None:
    """Which style ``text`` is written in, or None when it is no DCE date."""
    if _ISO_START.match(text):
        return ISO
    if _LOCAL.match(text):
        return LOCAL
    if _OLD.match(text):
        return OLD
    return None


def _meridiem(hour: int, *marks: str | None) -> int:
    for mark in marks:
        if not mark:
            continue
        m = mark.lower().replace(".", "").replace(" ", "")
        if m in _AM or m in _PM:
            if not 1 <= hour <= 12:
                raise ValueError(f"hour {hour} with {mark}")
            return hour % 12 + (12 if m in _PM else 0)
        raise ValueError(f"unknown time marker {mark!r}")
    return hour


def _year(y: str) -> int:
    n = int(y)
    if len(y) <= 2:
        n += 2000 if n < 70 else 1900
    return n


def _epoch(y: int, mo: int, d: int, h: int, mi: int, s: int) -> float:
    return datetime(y, mo, d, h, mi, s, tzinfo=timezone.utc).timestamp()


class DayOrder:
    """Infers day/month order of localized dates from a whole file (one date > 12 settles it)."""

    def __init__(self) -> None:
        self.day_first: bool | None = None
        self.conflict = False
        self.saw_meridiem = False
        self.saw_dots = False

    def observe(self, text: str) -> bool:
        """Feed one date; True once the order is settled."""
        m = _LOCAL.match(text)
        if m is None or len(m.group(1)) > 2:
            return False
        a, b = int(m.group(1)), int(m.group(3))
        self.saw_meridiem = self.saw_meridiem or bool(m.group(5) or m.group(9))
        self.saw_dots = self.saw_dots or m.group(2) == "."
        if a > 12 and b <= 12:
            self.conflict = self.conflict or self.day_first is False
            self.day_first = True
        elif b > 12 and a <= 12:
            self.conflict = self.conflict or self.day_first is True
            self.day_first = False
        return self.day_first is not None

    def decide(self) -> tuple[bool, str | None]:
        """(day_first, warning when it had to be guessed)."""
        if self.day_first is not None:
            return self.day_first, None
        guess = not self.saw_meridiem or self.saw_dots
        order = "day/month" if guess else "month/day"
        return guess, f"day and month order of the dates is ambiguous (no day above 12); read as {order}"


class DateParser:
    """Parses DCE dates of any style to epoch seconds, fast: exports hold millions of them, in order.

    ISO times are computed from a cached value per hour; localized (minute-precision) strings are cached
    whole. Raises ValueError for text that is no date.
    """

    def __init__(self, day_first: bool = False) -> None:
        self.day_first = day_first
        self._cache: dict[str, float] = {}

    def __call__(self, text: str) -> float:
        # Fast path: DCE's round-trip format, e.g. 2023-09-23T13:15:48.3790000+03:00 (33 characters).
        if len(text) == 33 and text[10] == "T" and text[19] == "." and text[27] in "+-" and text[16] == ":":
            key = text[:13] + text[27:]
            base = self._cache.get(key)
            if base is None:
                base = self._slow(text[:13] + ":00:00" + text[27:], key)
            minute = int(text[14:16])
            second = float(text[17:27])
            if 0 <= minute < 60 and 0 <= second < 61:
                return base + minute * 60 + second
            raise ValueError(f"invalid time in {text!r}")
        ts = self._cache.get(text)
        if ts is None:
            ts = self._slow(text, text)
        return ts

    def hour_base(self, text: str) -> float:
        """The epoch of the hour a round-trip ISO date (33 characters) falls in."""
        key = text[:13] + text[27:]
        base = self._cache.get(key)
        if base is None:
            base = self._slow(text[:13] + ":00:00" + text[27:], key)
        return base

    def _slow(self, text: str, key: str) -> float:
        if len(self._cache) > 200_000:
            self._cache.clear()
        ts = self.parse_uncached(text)
        self._cache[key] = ts
        return ts

    def parse_uncached(self, text: str) -> float:
        if _ISO_START.match(text):
            ts = iso_timestamp(text.strip())
        elif (m := _LOCAL.match(text)) is not None:
            a, sep, b, c, mark1, hh, mi, ss, mark2 = m.groups()
            if len(a) > 2:
                y, mo, d = int(a), int(b), int(c)
            elif self.day_first:
                d, mo, y = int(a), int(b), _year(c)
            else:
                mo, d, y = int(a), int(b), _year(c)
            ts = _epoch(y, mo, d, _meridiem(int(hh), mark1, mark2), int(mi), int(ss or 0))
        elif (m := _OLD.match(text)) is not None:
            d, mon, y, hh, mi, ss, mark = m.groups()
            mo = _MONTHS.get(mon.lower())
            if mo is None:
                raise ValueError(f"unknown month {mon!r}")
            ts = _epoch(_year(y), mo, int(d), _meridiem(int(hh), mark), int(mi), int(ss or 0))
        else:
            raise ValueError(f"not a date: {text[:40]!r}")
        if ts != ts or abs(ts) > 1e11:  # NaN or absurd
            raise ValueError(f"date out of range: {text[:40]!r}")
        return ts
