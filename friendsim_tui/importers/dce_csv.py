"""DiscordChatExporter CSV: ``AuthorID,Author,Date,Content,Attachments,Reactions`` (old exports lack AuthorID).

Read with the csv module (content keeps raw newlines), streamed, with every date style DCE has written.
The file has no message ids and no channel: the conversation comes from DCE's default file name
(``Guild - Channel [123456789].csv``) and ids from content (:class:`_dce.ContentKeys`), prefixed with the
hour so that ids of one export sort roughly in time order (which keeps the store's uniqueness index fast).

Speed matters here (a 1M-message export should import in seconds), so the per-row loop inlines the
round-trip date format and the id computation; everything unusual takes the general path.
"""

from __future__ import annotations

import csv
import itertools
import os
from hashlib import blake2b
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
        state = _State(report, conversation)
        start_line = 1  # lines before the first record (the header)
        for _ in range(_MAX_RESUMES):
            with _open(path) as fh:
                resume = yield from _read(fh, start_line, delim, has_id, dates, title, state, progress, total)
            if resume is None:
                break
            start_line = resume
        else:
            report.warn(f"stopped after {_MAX_RESUMES} damaged records; the rest of the file was not read")
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
    """What outlives one pass over the file; the hot loop counts locally and flushes into the report."""

    def __init__(self, report: ImportReport, conversation: str) -> None:
        self.report = report
        self.conversation = conversation
        self.ids = _dce.ContentKeys(conversation)
        self.authors: dict[tuple[str, str], list] = {}  # (id, raw name) -> [key, display name, kept, raw name]
        self.kept = 0
        self.first = float("inf")
        self.last = float("-inf")

    def flush(self) -> None:
        r = self.report
        r.read += self.kept
        r.kept += self.kept
        self.kept = 0
        for entry in self.authors.values():
            if entry[2]:
                r.speakers[entry[1]] += entry[2]
                entry[2] = 0
        if self.first != float("inf") and (r.first_ts is None or self.first < r.first_ts):
            r.first_ts = self.first
        if self.last != float("-inf") and (r.last_ts is None or self.last > r.last_ts):
            r.last_ts = self.last


def _read(fh, start_line, delim, has_id, dates, title, state, progress, total):
    """Yield messages from ``fh``; return the line to resume from after an unmatched quote, else None."""
    reader, rows = _rows(fh, start_line, delim, has_id)
    report = state.report
    skip = report.skip
    is_system = _dce.is_system_text
    system_texts, system_prefixes = _dce.SYSTEM_TEXTS, _dce.SYSTEM_PREFIXES
    authors = state.authors
    by_id: dict[str, list] = {}  # the last author seen under each id: the fast path
    ids = state.ids
    conversation = state.conversation
    new = tuple.__new__
    parse_date = dates.__call__
    hour_base = dates.hour_base
    id_prefix = conversation + "\x1f"
    seen = ids.seen
    hour = offset = run_date = hour_id = ""
    base = 0.0
    run_seen: dict[str, int] = {}
    prev_line = start_line  # physical lines consumed before the current record
    n = 0
    kept = 0
    lo, hi = state.first, state.last
    try:
        while True:
            try:
                for row in rows:
                    n += 1
                    if not n & 0xFFFF and progress:
                        progress(fh.buffer.tell(), total)
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
                    if content in system_texts or (content.startswith(system_prefixes) and is_system(content)):
                        skip(SYSTEM)
                        continue
                    if "\r" in content:  # Windows line ends inside a field (a re-saved file)
                        content = content.replace("\r\n", "\n")
                    try:
                        # DCE's round-trip format (2023-09-23T13:15:48.3790000+03:00) inline, by the hour.
                        precise = len(date) == 33 and date[19] == "." and date[16] == ":" and date[13] == ":"
                        if precise:
                            if date[:13] != hour or date[27:] != offset:
                                hour, offset = date[:13], date[27:]
                                base = hour_base(date)
                                hour_id = f"{int(base) // 3600:06x}."
                            minute = int(date[14:16])
                            second = float(date[17:27])
                            if not (0 <= minute < 60 and 0 <= second < 61):
                                raise ValueError(f"invalid time in {date!r}")
                            ts = base + minute * 60 + second
                        else:
                            ts = parse_date(date)
                    except (ValueError, OverflowError) as exc:
                        hour = ""
                        report.unparseable(f"line {line}", f"bad date: {exc}")
                        continue
                    who = by_id.get(author_id)
                    if who is None or who[3] != author:  # a new author, or an id seen under another name
                        who = authors.get((author_id, author))
                        if who is None:
                            ident = _dce.speaker_for(author_id, author)
                            if ident is None:
                                report.unparseable(f"line {line}", "no author")
                                continue
                            who = authors[(author_id, author)] = [*ident, 0, author]
                        by_id[author_id] = who
                    who[2] += 1
                    kept += 1
                    if ts < lo:
                        lo = ts
                    if ts > hi:
                        hi = ts
                    key = who[0]
                    # ids as in _dce.ContentKeys, inline. A 100 ns date is as good as unique: the same row
                    # again is the same message (an overlapping export pasted in), so the count of earlier
                    # identical rows only runs over rows with this very date, which saves a dict of every id.
                    sid = (hour_id if precise else f"{int(ts) // 3600:06x}.") + blake2b(
                        f"{id_prefix}{date}\x1f{key}\x1f{content}".encode("utf-8", "surrogatepass"), digest_size=12
                    ).hexdigest()
                    if precise:
                        if date != run_date:
                            run_date = date
                            if run_seen:
                                run_seen = {}
                        counts = run_seen
                    else:
                        counts = seen
                    if sid in counts:
                        counts[sid] += 1
                        sid = f"{sid}.{counts[sid]}"
                    else:
                        counts[sid] = 0
                    yield new(Message, (name, sid, conversation, title, key, who[1], ts, content, None))
                return None
            except csv.Error as exc:
                line = prev_line + 1
                if "unexpected end of data" in str(exc):
                    report.unparseable(f"line {line}", "unmatched quote: the field runs to the end of the file")
                    return line
                report.unparseable(f"line {line}", f"malformed CSV: {exc}")
                prev_line = start_line + reader.line_num
                rows = _with_id_column(reader, has_id)
    finally:
        state.kept = kept
        state.first, state.last = lo, hi
        state.flush()
