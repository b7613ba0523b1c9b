"""The contract every importer follows.

An importer turns one export file into a stream of :class:`Message` records and fills an
:class:`ImportReport` with what it read, kept and skipped (and why). It never touches the store or the UI.

Rules:
- Records that are not conversation (system events, bots, empty or media-only messages) are *counted*
  with ``report.skip(reason)``, not yielded.
- A record that cannot be parsed is counted with ``report.unparseable(where, detail)`` and the import goes
  on. Damage that ends the file early (truncated JSON) is reported with ``report.warn`` and everything
  read before it is kept.
- A file that is not this format at all raises :class:`ChatImportError` naming the file and the place.
- Timestamps are float seconds since the epoch. Exports that carry a UTC offset are converted; exports
  with local wall-clock times only (WhatsApp, Telegram's ``date``) are read as if UTC, which keeps
  differences between messages right, and that is all the dataset needs.
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, Iterable, Iterator, NamedTuple, Protocol

# Skip reasons, shared by all importers so summaries line up.
SYSTEM = "system"
BOT = "bot"
EMPTY = "empty"
MEDIA = "media-only"
DELETED = "deleted"
DUPLICATE = "duplicate"
"""A message whose id already came earlier in the same file: stored once, so counted once."""
UNPARSEABLE = "unparseable"


class Message(NamedTuple):
    """One chat message, normalized. A NamedTuple: importers produce millions of these."""

    source: str
    """Format id of the importer, e.g. ``dce-csv``; part of the uniqueness key."""
    source_id: str
    """Stable id within the source: the export's own message id, or :func:`content_id`."""
    conversation: str
    """Conversation key, stable across exports of the same chat (channel id, chat name...)."""
    conversation_title: str
    speaker_key: str
    """Identity of the author within the source (Discord user id, or the name where that is all there is)."""
    speaker_name: str
    """Display name to show (nickname preferred, ``#1234`` stripped)."""
    timestamp: float
    text: str
    reply_to: str | None = None


class Batch(NamedTuple):
    """Many messages of one conversation, as the store takes them: what an import moves around.

    Conversations and speakers are named by small local numbers (counted from 0 within one file), each
    described once, in the batch that first uses it, so a consumer resolves each identity once and not
    once per message. An importer whose speed matters yields these directly (``batches``, see
    :class:`Format`); any other is read through its messages (``offload.Batches``).
    """

    conversations: list[tuple[int, str, str, str]]
    """(local id, source, conversation key, title) first seen in this batch."""
    speakers: list[tuple[int, str, str, str]]
    """(local id, source, speaker key, display name) first seen in this batch; two local ids may share a key."""
    source: str
    """Format id of every row (the ``source`` of their messages)."""
    conversation: int
    """Local id of the conversation of every row."""
    rows: list[tuple]
    """(source_id, speaker local id, timestamp, text, reply_to), every one a str but the float timestamp and the
    int speaker: reply_to is "" for none. (SQLite's module binds str, int and float directly; None and bytes
    take its adaptation path, which costs more than the rest of an insert.)"""


def message_batches(messages: Iterable[Message], size: int) -> Iterator[Batch]:
    """``messages`` as :class:`Batch` es of at most ``size`` rows; a batch ends where the conversation does."""
    conv_ids: dict[tuple[str, str], int] = {}
    speaker_ids: dict[str, dict[str, int]] = {}  # source -> speaker key -> local id
    new_convs: list = []
    new_speakers: list = []
    rows: list = []
    append = rows.append
    cur_source = cur_conv = None
    conv = n_speakers = 0
    speakers: dict[str, int] = {}
    # Once per message (millions): the source and conversation rarely change between messages.
    for source, source_id, conversation, title, speaker_key, speaker_name, ts, text, reply_to in messages:
        if conversation != cur_conv or source != cur_source:
            if rows:
                yield Batch(new_convs, new_speakers, cur_source, conv, rows)
                new_convs, new_speakers, rows = [], [], []
                append = rows.append
            cur_source, cur_conv = source, conversation
            speakers = speaker_ids.setdefault(source, {})
            conv = conv_ids.get((source, conversation))
            if conv is None:
                conv = conv_ids[(source, conversation)] = len(conv_ids)
                new_convs.append((conv, source, conversation, title))
        who = speakers.get(speaker_key)
        if who is None:
            who = speakers[speaker_key] = n_speakers
            n_speakers += 1
            new_speakers.append((who, source, speaker_key, speaker_name))
        append((source_id, who, ts, text, reply_to or ""))
        if len(rows) >= size:
            yield Batch(new_convs, new_speakers, source, conv, rows)
            new_convs, new_speakers, rows = [], [], []
            append = rows.append
    if rows:
        yield Batch(new_convs, new_speakers, cur_source, conv, rows)


class ChatImportError(Exception):
    """A file that cannot be imported. ``str()`` is one line naming the file and the place."""

    def __init__(self, path: Path | str, detail: str, where: str | None = None):
        self.path = str(path)
        self.detail = detail
        self.where = where
        loc = f" ({where})" if where else ""
        super().__init__(f"{self.path}{loc}: {detail}")


@dataclass
class Problem:
    path: str
    where: str
    detail: str

    def __str__(self) -> str:
        return f"{self.path} ({self.where}): {self.detail}"


@dataclass
class ImportReport:
    """What one file gave: filled by the importer while it streams."""

    path: str
    format: str = ""
    read: int = 0
    """Records seen (messages kept + skipped)."""
    kept: int = 0
    skipped: Counter = field(default_factory=Counter)
    problems: list[Problem] = field(default_factory=list)
    """Unparseable records, each with its place (first 100 kept in detail)."""
    warnings: list[str] = field(default_factory=list)
    speakers: Counter = field(default_factory=Counter)
    """Messages kept per speaker display name."""
    first_ts: float | None = None
    last_ts: float | None = None

    def skip(self, reason: str, n: int = 1) -> None:
        self.read += n
        self.skipped[reason] += n

    def unparseable(self, where: str, detail: str) -> None:
        self.skip(UNPARSEABLE)
        if len(self.problems) < 100:
            self.problems.append(Problem(self.path, where, detail))

    def warn(self, text: str) -> None:
        self.warnings.append(f"{self.path}: {text}")

    def keep(self, msg: Message) -> Message:
        self.read += 1
        self.kept += 1
        self.speakers[msg.speaker_name] += 1
        ts = msg.timestamp
        if self.first_ts is None or ts < self.first_ts:
            self.first_ts = ts
        if self.last_ts is None or ts > self.last_ts:
            self.last_ts = ts
        return msg


Progress = Callable[[int, int], None]
"""``progress(done, total)`` in bytes (or records where bytes make no sense); called now and then."""


class Format(Protocol):
    """What each importer module exposes (see ``importers/__init__.py`` for the registry)."""

    name: str  # e.g. "dce-csv"
    label: str  # e.g. "DiscordChatExporter CSV"

    def sniff(self, path: Path, head: bytes) -> bool:
        """True when ``head`` (the first 64 KiB, or the zip's member list) looks like this format."""

    def parse(self, path: Path, report: ImportReport, progress: Progress | None = None) -> Iterator[Message]:
        ...

    # Optional, where imports must be fast (millions of messages): the same messages as ``parse``, as
    # :class:`Batch` es of about ``size`` rows, without a Message per row.
    # def batches(self, path, report, progress=None, size=...) -> Iterator[Batch]: ...


# ---------------------------------------------------------------------------------------------
# Helpers shared by importers

_DISCRIMINATOR = re.compile(r"#\d{4}$")


def strip_discriminator(name: str) -> str:
    """``bob#1234`` -> ``bob``; a new-style ``bob`` or a name ending in other text is left alone."""
    if len(name) > 5 and name[-5] == "#" and _DISCRIMINATOR.search(name):
        return name[:-5]
    return name


class ContentIds:
    """Stable ids for formats without message ids.

    The id hashes conversation, time, speaker and text, plus how many identical messages came before it
    in this file, so re-importing an overlapping export yields the same ids and adds nothing twice.
    """

    def __init__(self) -> None:
        self._seen: Counter = Counter()

    def __call__(self, conversation: str, timestamp: float, speaker: str, text: str) -> str:
        h = hashlib.blake2b(digest_size=12)
        h.update(f"{conversation}\x1f{timestamp:.3f}\x1f{speaker}\x1f{text}".encode("utf-8", "surrogatepass"))
        digest = h.hexdigest()
        n = self._seen[digest]
        self._seen[digest] = n + 1
        return digest if n == 0 else f"{digest}.{n}"


def iso_timestamp(text: str) -> float:
    """Parse an ISO 8601 timestamp (any number of fractional digits, optional offset) to epoch seconds.

    Raises ValueError on anything else.
    """
    try:
        dt = datetime.fromisoformat(text)
    except ValueError:
        dt = datetime.fromisoformat(_trim_fraction(text))
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=timezone.utc)
    return dt.timestamp()


_FRACTION = re.compile(r"(\.\d{1,6})\d*")


def _trim_fraction(text: str) -> str:
    text = text.strip().replace("Z", "+00:00")
    return _FRACTION.sub(r"\1", text, count=1)


_NON_ASCII = bytes(range(128, 256))


def read_head(path: Path, size: int = 65536) -> bytes:
    with open(path, "rb") as fh:
        return fh.read(size)


def decode_text(data: bytes | bytearray, path: Path | str) -> tuple[str, str | None]:
    """Decode a text export: UTF-8 (BOM stripped), with what is not UTF-8 replaced by U+FFFD; a file that is
    not UTF-8 as a whole (more bad sequences than good non-ASCII characters) as cp1252, else latin-1.

    One cut emoji must not turn a whole UTF-8 file into mojibake: names with invisible marks would become
    new speakers and a re-import would add the whole chat again. Returns the text and a warning when
    anything was replaced or a fallback encoding was used. NUL bytes make it binary.
    """
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16"), None
    nul = data.find(b"\x00")
    if nul >= 0:
        raise ChatImportError(path, "binary data (NUL bytes), not a text chat export", f"byte {nul}")
    bom = 3 if data.startswith(b"\xef\xbb\xbf") else 0
    try:
        return data.decode("utf-8-sig"), None
    except UnicodeDecodeError as exc:
        where = bom + exc.start
    text = data.decode("utf-8-sig", "replace")
    bad = text.count("\ufffd") - data.count("\ufffd".encode())
    good = len(text) - len(data.translate(None, _NON_ASCII)) - bad  # non-ASCII characters that were UTF-8
    if good >= bad:
        what = "sequence that is" if bad == 1 else "sequences that are"
        warning = f"{bad:,} byte {what} not UTF-8 (first at byte {where}) replaced with \ufffd; the rest read as UTF-8"
        return text, warning
    del text
    for enc in ("cp1252", "latin-1"):
        try:
            return data.decode(enc), f"not UTF-8 (first bad byte at offset {where}); read as {enc}"
        except UnicodeDecodeError:
            continue
    raise AssertionError("latin-1 decodes everything")  # pragma: no cover
