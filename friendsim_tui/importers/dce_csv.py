"""DiscordChatExporter CSV: ``AuthorID,Author,Date,Content,Attachments,Reactions`` (old exports lack AuthorID).

Read with the csv module (content keeps raw newlines), streamed, with every date style DCE has written.
The file has no message ids and no channel: the conversation comes from DCE's default file name
(``Guild - Channel [123456789].csv``) and ids from content (:class:`_dce.ContentKeys`), prefixed with the
hour so that ids of one export sort roughly in time order (which keeps the store's uniqueness index fast).

Speed matters here (a 1M-message export should import in seconds), so the per-row loop inlines the
round-trip date format and the id computation, and fills the batches the store takes (:func:`batches`)
without a Message per row; everything unusual takes the general path.
"""

from __future__ import annotations

import csv
import itertools
import os
from collections import Counter
from hashlib import blake2b
from operator import itemgetter
from pathlib import Path
from typing import Iterator

from friendsim_tui.importers import _dce
from friendsim_tui.importers.base import (
    EMPTY,
    MEDIA,
    SYSTEM,
    Batch,
    ChatImportError,
    ImportReport,
    Message,
    Progress,
    read_head,
)

name = "dce-csv"
label = "DiscordChatExporter CSV"

_NEW = ("authorid", "author", "date", "content", "attachments", "reactions")
_OLD = _NEW[1:]
_FIELD_LIMIT = 2**31 - 1
_PROGRESS_EVERY = 1 << 16
_MAX_RESUMES = 100


def _header(first_line: str) -> tuple[str, tuple[str, ...]] | None:
    """(delimiter, columns) when ``first_line`` is a DCE CSV header (as written, or re-saved by Excel)."""
    line = first_line.lstrip("\ufeff").strip()
    for delim in (",", ";"):
        cols = tuple(c.strip().strip('"').strip().lower() for c in line.split(delim))
        while len(cols) > len(_OLD) and cols[-1] == "":
            cols = cols[:-1]
        if cols in (_NEW, _OLD):
            return delim, cols
    return None


def sniff(path: Path, head: bytes) -> bool:
    if b"\x00" in head:
        return False
    first = head.split(b"\n", 1)[0].decode("utf-8", "replace")
    return _header(first) is not None


def parse(path: Path, report: ImportReport, progress: Progress | None = None) -> Iterator[Message]:
    """The messages of :func:`batches`, one by one."""
    conversation, title = _dce.conversation_from_filename(path)
    speakers: list[tuple] = []
    for batch in batches(path, report, progress):
        speakers.extend(batch.speakers)  # local ids count up from 0 in order
        for source_id, who, ts, text, _ in batch.rows:
            _, _, key, display = speakers[who]
            yield Message(name, source_id, conversation, title, key, display, ts, text)


def batches(path: Path, report: ImportReport, progress: Progress | None = None, size: int = 20_000) -> Iterator[Batch]:
    """The file's messages in :class:`Batch` es of about ``size`` rows. A speaker's local id stands for one
    (AuthorID, Author) pair."""
    path = Path(path)
    _dce.check_not_binary(path, read_head(path))
    total = os.path.getsize(path)
    if csv.field_size_limit() < _FIELD_LIMIT:
        csv.field_size_limit(_FIELD_LIMIT)
    with _dce.FallbackWatch() as watch:
        with _open(path) as fh:
            header = _header(fh.readline())
        if header is None:
            raise ChatImportError(path, "not a DiscordChatExporter CSV: the first line is not its header", "line 1")
        delim, cols = header
        has_id = cols == _NEW
        dates = _dce.DateParser(_day_first(path, delim, has_id, report))
        conversation, title = _dce.conversation_from_filename(path)
        state = _State(report, conversation, title, max(1, size))
        start_line = 1  # lines before the first record (the header)
        for _ in range(_MAX_RESUMES):
            with _open(path) as fh:
                resume = yield from _read(fh, start_line, delim, has_id, dates, state, progress, total)
            if resume is None:
                break
            start_line = resume
        else:
            report.warn(f"stopped after {_MAX_RESUMES} damaged records; the rest of the file was not read")
        if state.rows:
            yield state.batch()
        state.count_speakers()
    warning = watch.warning(path)
    if warning:
        report.warn(warning)
    if progress:
        progress(total, total)


def _open(path: Path):
    return open(path, encoding="utf-8-sig", errors=_dce.TEXT_ERRORS, newline="")


def _rows(fh, start_line: int, delim: str, has_id: bool):
    """A csv reader over ``fh`` from line ``start_line + 1`` on, and its rows as 6 fields."""
    if start_line == 1:
        fh.readline()
        lines = fh
    else:
        lines = itertools.islice(fh, start_line, None)
    reader = csv.reader(lines, delimiter=delim, strict=True)
    return reader, _with_id_column(reader, has_id)


def _with_id_column(reader, has_id: bool):
    """Old exports get an empty AuthorID (a new generator is needed after a csv.Error)."""
    return reader if has_id else (["", *r] if r else r for r in reader)


def _day_first(path: Path, delim: str, has_id: bool, report: ImportReport) -> bool:
    """Day/month order of localized dates, inferred from the whole file; only read when dates are localized."""
    order = _dce.DayOrder()
    first = True
    with _open(path) as fh:
        reader, rows = _rows(fh, 1, delim, has_id)
        try:
            for row in rows:
                if len(row) < 3:
                    continue
                if first:
                    if _dce.date_style(row[2]) != _dce.LOCAL:
                        return False
                    first = False
                if order.observe(row[2]):
                    break
        except csv.Error:
            pass  # the main pass reports it with its line
    day_first, warning = order.decide()
    if warning and not first:
        report.warn(warning)
    return day_first


class _State:
    """What outlives one pass over the file: the batch being filled, the authors, the ids seen."""

    def __init__(self, report: ImportReport, conversation: str, title: str, size: int) -> None:
        self.report = report
        self.conversation = conversation
        self.size = size
        self.seen: dict[str, int] = {}  # ids of rows with dates of minute precision (see _read)
        self.authors: dict[tuple[str, str], list] = {}  # (id, raw name) -> author()
        self.counts: list[int] = []  # messages per local speaker id
        self.names: list[str] = []  # display name per local speaker id
        self.conversations = [(0, name, conversation, title)]
        self.speakers: list[tuple] = []
        self.rows: list[tuple] = []

    def author(self, author_id: str, author: str) -> list | None:
        """[key, display name, local id, the id's bytes as hashed, raw name] of a new author, None if no author."""
        ident = _dce.speaker_for(author_id, author)
        if ident is None:
            return None
        key, display = ident
        local = len(self.names)
        self.names.append(display)
        self.counts.append(0)
        self.speakers.append((local, name, key, display))
        hashed = f"\x1f{key}\x1f".encode("utf-8", "surrogatepass")
        who = self.authors[(author_id, author)] = [key, display, local, hashed, author]
        return who

    def batch(self) -> Batch:
        """The rows so far as a batch, counted into the report."""
        rows, self.rows = self.rows, []
        batch = Batch(self.conversations, self.speakers, name, 0, rows)
        self.conversations, self.speakers = [], []
        r = self.report
        r.read += len(rows)
        r.kept += len(rows)
        if rows:
            counts = self.counts
            for local, n in Counter(map(_SPEAKER, rows)).items():
                counts[local] += n
            lo, hi = min(map(_TS, rows)), max(map(_TS, rows))
            if r.first_ts is None or lo < r.first_ts:
                r.first_ts = lo
            if r.last_ts is None or hi > r.last_ts:
                r.last_ts = hi
        return batch

    def count_speakers(self) -> None:
        """Messages per display name into the report (once, at the end)."""
        for display, n in zip(self.names, self.counts):
            if n:
                self.report.speakers[display] += n


_MINUTES = {f"{m:02d}": m * 60 for m in range(60)}
_SPEAKER = itemgetter(1)
_TS = itemgetter(2)


def _read(fh, start_line, delim, has_id, dates, state, progress, total):
    """Fill ``state.rows`` from ``fh``, yielding a batch whenever it is full; return the line to resume from
    after an unmatched quote, else None."""
    reader, rows = _rows(fh, start_line, delim, has_id)
    report = state.report
    skip = report.skip
    is_system = _dce.is_system_text
    system_texts, system_starts = _dce.SYSTEM_TEXTS, _dce.SYSTEM_STARTS
    authors = state.authors
    by_id: dict[str, list] = {}  # the last author seen under each id: the fast path
    parse_date = dates.__call__
    hour_base = dates.hour_base
    join = b"".join
    hexdigest = blake2b.hexdigest
    id_prefix = (state.conversation + "\x1f").encode("utf-8", "surrogatepass")
    seen = state.seen
    hour = offset = run_date = hour_id = run_first = ""
    minute_key: str | None = None  # date[:17] of the last round-trip date read, then of 33 characters
    minutes = _MINUTES
    base = minute_base = 0.0
    run_seen: dict[str, int] | None = None
    out = state.rows
    append = out.append
    prev_line = start_line  # physical lines consumed before the current record
    n = 0
    flush_at = state.size
    while True:
        try:
            for row in rows:
                n += 1
                if n >= flush_at:  # now and then: progress, and a batch when it is full
                    if progress:
                        progress(fh.buffer.tell(), total)
                    if len(out) >= state.size:
                        yield state.batch()
                        out = state.rows
                        append = out.append
                    flush_at = n + state.size - len(out)
                try:
                    author_id, author, date, content, attachments, _reactions = row
                except ValueError:
                    if row:
                        found = len(row) - (not has_id)
                        report.unparseable(f"line {prev_line + 1}", f"expected {len(_NEW) - (not has_id)} fields, found {found}")
                    prev_line = start_line + reader.line_num
                    continue
                line = prev_line + 1
                prev_line = start_line + reader.line_num
                if not content or content.isspace():
                    skip(MEDIA if attachments else EMPTY)
                    continue
                if content.startswith(system_starts) and (content in system_texts or is_system(content)):
                    skip(SYSTEM)
                    continue
                if "\r" in content:  # Windows line ends inside a field (a re-saved file)
                    content = content.replace("\r\n", "\n")
                try:
                    # DCE's round-trip format (2023-09-23T13:15:48.3790000+03:00) inline: by the minute when
                    # the previous date was of the same minute (chats come in bursts), else by the hour.
                    if date[:17] == minute_key and date[27:] == offset and date[19] == ".":
                        precise = True
                        second = float(date[17:27])
                        if not 0 <= second < 61:
                            raise ValueError(f"invalid time in {date!r}")
                        ts = minute_base + second
                    else:
                        minute = minutes.get(date[14:16])  # its seconds; None unless 00 to 59
                        precise = (
                            minute is not None and len(date) == 33 and date[19] == "." and date[16] == ":" and date[13] == ":"
                        )
                        if precise:
                            if date[:13] != hour or date[27:] != offset:
                                hour, offset = date[:13], date[27:]
                                base = hour_base(date)
                                hour_id = f"{int(base) // 3600:06x}."
                            second = float(date[17:27])
                            if not 0 <= second < 61:
                                raise ValueError(f"invalid time in {date!r}")
                            minute_key, minute_base = date[:17], base + minute
                            ts = minute_base + second
                        else:
                            ts = parse_date(date)
                except (ValueError, OverflowError) as exc:
                    hour, minute_key = "", None
                    report.unparseable(f"line {line}", f"bad date: {exc}")
                    continue
                who = by_id.get(author_id)
                if who is None or who[4] != author:  # a new author, or an id seen under another name
                    who = authors.get((author_id, author)) or state.author(author_id, author)
                    if who is None:
                        report.unparseable(f"line {line}", "no author")
                        continue
                    by_id[author_id] = who
                # ids as in _dce.ContentKeys, inline. A 100 ns date is as good as unique: the same row
                # again is the same message (an overlapping export pasted in), so the count of earlier
                # identical rows only runs over rows with this very date, which saves a dict of every id.
                # The bytes are those of f"{conversation}\x1f{date}\x1f{key}\x1f{content}", joined from pieces
                # (cheaper than one string of four); text read from UTF-8 holds no lone surrogates, so the
                # plain encode() gives what ContentKeys' "surrogatepass" does.
                sid = (hour_id if precise else f"{int(ts) // 3600:06x}.") + hexdigest(
                    blake2b(join((id_prefix, date.encode(), who[3], content.encode())), digest_size=12)
                )
                if precise:
                    if date != run_date:  # the common case: no earlier row has this date
                        run_date, run_first, run_seen = date, sid, None
                    else:
                        if run_seen is None:
                            run_seen = {run_first: 0}
                        sid = _numbered(run_seen, sid)
                else:
                    sid = _numbered(seen, sid)
                append((sid, who[2], ts, content, ""))
            return None
        except csv.Error as exc:
            line = prev_line + 1
            if "unexpected end of data" in str(exc):
                report.unparseable(f"line {line}", "unmatched quote: the field runs to the end of the file")
                return line
            report.unparseable(f"line {line}", f"malformed CSV: {exc}")
            prev_line = start_line + reader.line_num
            rows = _with_id_column(reader, has_id)


def _numbered(seen: dict[str, int], sid: str) -> str:
    """``sid``, or ``sid.N`` for the N-th earlier row with the same id."""
    if sid in seen:
        seen[sid] += 1
        return f"{sid}.{seen[sid]}"
    seen[sid] = 0
    return sid
