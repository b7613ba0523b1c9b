"""WhatsApp "Export chat": a ``.txt`` file, or the ``.zip`` holding ``_chat.txt`` / ``WhatsApp Chat with X.txt``.

Android writes ``01/12/24, 10:05 - Alice: Hey``; iOS writes ``[01/12/2024, 10:05:23 AM] Alice: Hey``, often with a
leading U+200E. Dates follow the phone's locale, so the day/month order is inferred from the whole file:

1. a first field with four digits (or above 31) means year/month/day;
2. otherwise any first field above 12 means day/month, any second field above 12 means month/day
   (if both occur, the order under which fewer dates are impossible wins, with a warning);
3. when nothing settles it, the order under which the dates run forward in the file wins; when that ties
   too, day/month/year (the order most locales use) is the documented default. Both cases warn;
4. dates written ``24. 1. 12.`` (Korean, Hungarian) are year first, and a two-digit year written first
   (``24/01/12``) is recognised when only year/month/day makes the dates run forward (with a warning).

Chinese, Japanese and Korean phones put the AM/PM word before the time (``下午10:05``, ``오후 10:05``);
Thai phones may count years in the Buddhist era (``13/1/2567``), read as 2024.

Lines that do not start with a timestamp continue the previous message; a line that looks like a header
but cannot be read is counted as unparseable (with a warning), never glued to the message before it.

Speed matters (exports of hundreds of thousands of messages): one compiled regex splits the whole text
into headers and bodies in C, dates and times are parsed once per distinct string, and the per-message
Python work is a handful of dict look-ups.
"""

from __future__ import annotations

import re
import zipfile
from datetime import date
from pathlib import Path
from typing import Iterator

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
    decode_text,
    read_head,
)
from friendsim_tui.importers import _zip

name = "whatsapp"
label = "WhatsApp chat export"

# -- the message header ---------------------------------------------------------------------------
# AM/PM as phones write it: AM, am, a.m., a. m., A.M. (with a space, NBSP or U+202F inside), plus a few
# localized words. The separator before it may be a space, NBSP or U+202F.
_AMPM = r"[AaPp]\.?[ \u00a0\u202f]?[Mm]\.?|vorm\.|nachm\.|π\.μ\.|μ\.μ\."
# Chinese, Japanese and Korean phones write it before the time: 下午10:05, 午後 10:05, 오후 10:05.
_AMPM_BEFORE = r"上午|下午|午前|午後|오전|오후|AM|PM"
_HEAD_SRC = (
    r"^[\u200e\u200f]?(\[)?"  # 1: '[' on iOS
    r"(\d{1,4}[./-] ?\d{1,2}[./-] ?\d{1,4})\.?,?[ \u00a0]"  # 2: date (Korean: '2024. 1. 12.')
    r"(?:(" + _AMPM_BEFORE + r")[ \u00a0\u202f]?)?"  # 3: am/pm before the time
    r"(\d{1,2}[:.]\d{2}(?:[:.]\d{2})?)"  # 4: time
    r"(?:[ \u00a0\u202f]?(" + _AMPM + r"))?"  # 5: am/pm after it
    r"\.?"  # some phones put a period after the time: '2022/12/14, 13:34. - '
    r"(?(1)\] | [-\u2013] )"  # '] ' on iOS, ' - ' on Android
)
_HEAD = re.compile(_HEAD_SRC + r"(?:([^\n]{1,100}?): )?", re.M)  # 6: the speaker, absent on system lines
_GROUPS = 6
_DATE_FIELDS = re.compile(r"\d+")
# What still looks like a header when the one above does not match (an unknown AM/PM word, a letter after
# the time, a bracket that does not close...): a date and a time at the start of a line, a separator soon
# after. Such a line is counted as unparseable, never glued to the message before it.
_LOOSE_HEAD = re.compile(
    r"^[\u200e\u200f]?\[?\d{1,4}[./-] ?\d{1,2}[./-] ?\d{1,4}\.?,?[ \u00a0][^\n\d]{0,6}\d{1,2}[:.]\d{2}"
    r"[^\n]{0,16}?(?:\] | [-\u2013] )",
    re.M,
)

_PM = {"p", "P", "nachm.", "μ.μ.", "下午", "午後", "오후", "PM"}
_AM = {"a", "A", "vorm.", "π.μ.", "上午", "午前", "오전", "AM"}

# -- what a message body can be besides text --------------------------------------------------------
_MEDIA_EXACT = {
    "<Media omitted>", "<Medien ausgelassen>", "<Media omessi>", "<Multimedia omitido>", "<Multimedia omitidos>",
    "<Archivo omitido>", "<Média omis>", "<Médias omis>", "<Media weggelaten>", "<Mídia oculta>",
    "<Arquivo de mídia oculto>", "<Медиа отсутствуют>", "<Без медиафайлов>", "<Medya dahil edilmedi>",
    "<Media tidak disertakan>", "<Media dihilangkan>", "<Pliki pominięte>", "<Media pominięte>",
    "<Media utelämnad>", "<Medier udeladt>", "<Media utelatt>", "<Media jätetty pois>", "<Mediabestand weggelaten>",
    "<Media omesse>", "<View once voice message omitted>", "<Video note omitted>",
    "image omitted", "video omitted", "audio omitted", "sticker omitted", "GIF omitted", "document omitted",
    "Contact card omitted", "Bild weggelassen", "Video weggelassen", "Audio weggelassen", "Sticker weggelassen",
    "GIF weggelassen", "Dokument weggelassen", "imagen omitida", "video omitido", "audio omitido",
    "sticker omitido", "GIF omitido", "image absente", "vidéo absente", "audio omis", "autocollant omis",
    "immagine omessa", "video omesso", "audio omesso", "sticker omesso", "afbeelding weggelaten",
    "video weggelaten", "audio weggelaten", "imagem ocultada", "vídeo omitido", "áudio ocultado",
    "figurinha omitida", "null",
}
_DELETED_EXACT = {
    "This message was deleted", "You deleted this message", "Diese Nachricht wurde gelöscht",
    "Du hast diese Nachricht gelöscht", "Se eliminó este mensaje", "Eliminaste este mensaje",
    "Ce message a été supprimé", "Vous avez supprimé ce message", "Questo messaggio è stato eliminato",
    "Hai eliminato questo messaggio", "Dit bericht is verwijderd", "Je hebt dit bericht verwijderd",
    "Esta mensagem foi apagada", "Você apagou esta mensagem", "Это сообщение удалено", "Вы удалили это сообщение",
}
_SYSTEM_EXACT = {"Waiting for this message. This may take a while.", "Missed voice call", "Missed video call"}
_KIND: dict[str, str] = {}
for _s in _MEDIA_EXACT:
    _KIND[_s] = MEDIA
for _s in _DELETED_EXACT:
    _KIND[_s] = _KIND[_s + "."] = DELETED
for _s in _SYSTEM_EXACT:
    _KIND[_s] = SYSTEM

# Media markers ignoring case: some exports write '<media omitted>'.
_MEDIA_FOLDED = {m.casefold() for m in _MEDIA_EXACT if m != "null"}

_OMIT_WORDS = ("omitted", "weggelassen", "omitido", "omitida", "omis", "absente", "omesso", "omessa", "weggelaten",
               "ocultado", "ocultada")
_OMITTED = re.compile(r"[\w ]{1,30} (?:" + "|".join(_OMIT_WORDS) + ")")
# A file sent with an optional caption on the following lines (Android): "IMG-...jpg (file attached)".
_FILE_ATTACHED = re.compile(
    r"[^\n]*?\S\.\w{1,6} \((?:file attached|Datei angehängt|archivo adjunto|fichier joint|file allegato|"
    r"arquivo anexado|bestand bijgevoegd|файл прикреплен|dosya ekli)\)[ \t]*(?:\n|$)"
)
# iOS attachments: "<attached: 00000042-PHOTO-2024-01-12-10-05-23.jpg>", sometimes after a document title.
_ATTACHED = re.compile(r"(?:[^\n<]*\u200e)?<(?:attached|Anhang|adjunto|pièce jointe|allegato|anexado|bijlage): [^>\n]*>")
_EDITED = re.compile(
    r"[ \t]*\u200e?<(?:This message was edited|Diese Nachricht wurde bearbeitet|Se editó este mensaje\.?|"
    r"Ce message a été modifié|Questo messaggio è stato modificato|Dit bericht is bewerkt|"
    r"Esta mensagem foi editada|Сообщение изменено)>$"
)

_SHARED_LOCATION = ("Location: ", "live location shared", "Standort: ", "Ubicación: ", "Position : ", "Posizione: ")

# Invisible marks WhatsApp wraps names in (LRM, LRE/PDF, isolates) and the '~ ' it puts before
# people who are not in the phone's contacts.
_NAME_JUNK = "\u200e\u200f\u202a\u202b\u202c\u2066\u2067\u2068\u2069 \u00a0\u202f"


def _speaker_name(raw: str) -> str:
    """The display name, without invisible marks; '' when the 'name' is really a system line quoting text."""
    who = raw.strip(_NAME_JUNK).lstrip("~").strip(_NAME_JUNK) or raw
    # 'Bob changed the subject from "trip" to "trip: part 2"' splits inside a quotation; a real name
    # such as 'Robert "Bob" Smith' closes its quotes.
    if who.count('"') % 2 or who.count("\u201c") != who.count("\u201d"):
        return ""
    return who


def _classify(text: str) -> tuple[str | None, str]:
    """(skip reason or None, text to keep) for a body that may be a marker rather than plain text."""
    marked = text[0] == "\u200e"
    if marked:
        text = text.lstrip("\u200e")
        if not text:
            return EMPTY, text
        kind = _KIND.get(text)
        if kind:
            return kind, text
        if text.casefold() in _MEDIA_FOLDED:
            return MEDIA, text
    if text[-1] == ">":
        m = _EDITED.search(text)
        if m:
            text = text[: m.start()].rstrip()
            if not text:
                return EMPTY, text
            kind = _KIND.get(text.lstrip("\u200e"))
            if kind:
                return kind, text
    if "<" in text:
        if text[0] == "<" and text.casefold() in _MEDIA_FOLDED:
            return MEDIA, text
        stripped = _ATTACHED.sub("", text).strip()
        if stripped != text:
            return (MEDIA, "") if not stripped else (None, stripped)
    if "(" in text:
        m = _FILE_ATTACHED.match(text)
        if m:
            caption = text[m.end():].strip()
            return (MEDIA, "") if not caption else (None, caption)
    if marked:
        if len(text) <= 40 and _OMITTED.fullmatch(text):  # localized "‎<kind> omitted" beyond the known list
            return MEDIA, text
        if text.startswith(_SHARED_LOCATION):
            return MEDIA, text
        return SYSTEM, text  # iOS marks system lines ("‎Alice added Bob") with U+200E after the chat name
    return None, text


# -- dates ----------------------------------------------------------------------------------------
DMY, MDY, YMD = "day/month/year", "month/day/year", "year/month/day"
_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()


def _fields(d: str) -> tuple[int, ...]:
    return tuple(int(x) for x in _DATE_FIELDS.findall(d))


def _ymd(f: tuple[int, ...], order: str) -> tuple[int, int, int]:
    a, b, c = f
    if order == YMD:
        return (a + 2000 if a < 100 else a), b, c
    y = c + 2000 if c < 100 else c
    return (y, b, a) if order == DMY else (y, a, b)


def _day_seconds(f: tuple[int, ...], order: str) -> float | bool:
    """Epoch seconds at the start of the day, or False when the date is impossible in this order."""
    try:
        y, m, d = _ymd(f, YMD if f[0] >= 1000 else order)  # a four-digit first field is a year in any file
        if 2500 <= y <= 2700:  # the Buddhist era, as Thai phones write it (2567 is 2024)
            y -= 543
        if y < 1970 or y > 2200:
            return False
        return float((date(y, m, d).toordinal() - _EPOCH_ORDINAL) * 86400)
    except ValueError:
        return False


def infer_order(dates: list[str]) -> tuple[str, str | None]:
    """Day/month order for the distinct date strings of one file, in order of appearance.

    Returns (order, warning or None)."""
    fields = [_fields(d) for d in dates]
    fields = [f for f in fields if len(f) == 3]
    if not fields:
        return DMY, None
    yearfirst = sum(1 for f in fields if f[0] > 31 or f[0] >= 1000)
    if yearfirst * 2 > len(fields):
        return YMD, None
    if sum(1 for d in dates if ". " in d) * 2 > len(dates):
        return YMD, None  # '24. 1. 12.': Korean and Hungarian phones, always year first
    n = len(fields)

    def bad(order):
        return sum(1 for f in fields if _day_seconds(f, order) is False)

    def backwards(order):
        days = [_day_seconds(f, order) for f in fields]
        days = [d for d in days if d is not False]
        return sum(1 for x, y in zip(days, days[1:]) if y < x)

    def day_month() -> tuple[str, str | None]:
        day_first = any(f[0] > 12 for f in fields)
        month_first = any(f[1] > 12 for f in fields)
        if day_first != month_first:
            return (DMY if day_first else MDY), None
        if day_first and month_first:
            order = DMY if bad(DMY) <= bad(MDY) else MDY
            return order, f"dates disagree on day/month order (days above 12 in both places); read as {order}"
        b_dmy, b_mdy = backwards(DMY), backwards(MDY)
        if b_dmy != b_mdy:
            order = DMY if b_dmy < b_mdy else MDY
            return order, (
                f"day/month order is ambiguous (no day above 12 in {n} distinct dates); read as {order} because "
                "the dates then run forward"
            )
        return DMY, (
            f"day/month order is ambiguous (no day above 12 in {n} distinct dates); read as {DMY}, the default"
        )

    # A two-digit year written first ('24/01/12') reads as a day too: the dates running forward under
    # year/month/day and not under the day/month order gives it away, and so, within one month, does a
    # first field that never changes (a year) while the last one does (the day).
    order, warning = day_month()
    bad_ymd = bad(YMD)
    if bad_ymd <= bad(order) and backwards(YMD) < backwards(order):
        return YMD, f"the dates run forward only when read as {YMD} (a two-digit year first); read as {YMD}"
    if bad_ymd == 0 and len({f[0] for f in fields}) == 1 and len({f[2] for f in fields}) >= 3:
        return YMD, f"the first field of every date is the same and the last one varies; read as {YMD}"
    return order, warning


def _time_seconds(t: str, ampm: str | None) -> float | bool:
    """Seconds since midnight, or False when the time is impossible."""
    parts = [int(x) for x in _DATE_FIELDS.findall(t)]
    h, m = parts[0], parts[1]
    s = parts[2] if len(parts) > 2 else 0
    if ampm:
        key = ampm if ampm in _PM or ampm in _AM else ampm[0]
        if h > 12:  # 00 happens: '00:08 a. m.' is 12:08 AM
            return False
        if key in _PM:
            h = h % 12 + 12
        else:
            h = h % 12
    if h > 23 or m > 59 or s > 60:
        return False
    return float(h * 3600 + m * 60 + s)


# -- files ----------------------------------------------------------------------------------------
_CHAT_NAME = re.compile(
    r"^(?:WhatsApp[ -]Chat (?:with|mit|-|con|met|com|avec|z)|Chat de WhatsApp con|Discussion WhatsApp avec|"
    r"Chat WhatsApp con|Conversa do WhatsApp com|Чат WhatsApp с)\s+(.+?)(?: \(\d+\))?$",
    re.I,
)


def chat_name(stem: str) -> str | None:
    m = _CHAT_NAME.match(stem.strip())
    return m.group(1).strip() if m else None


def _is_chat_member(member: str) -> bool:
    base = member.rsplit("/", 1)[-1]
    return base == "_chat.txt" or (base.lower().endswith(".txt") and "whatsapp" in base.lower())


def _pick_member(zf: zipfile.ZipFile) -> str | None:
    names = [n for n in zf.namelist() if not n.endswith("/") and not n.rsplit("/", 1)[-1].startswith(".")]
    for n in names:
        if n.rsplit("/", 1)[-1] == "_chat.txt":
            return n
    for n in names:
        if _is_chat_member(n):
            return n
    txt = [n for n in names if n.lower().endswith(".txt")]
    return txt[0] if len(txt) == 1 else None


def _load(path: Path) -> tuple[bytes | bytearray, str]:
    """The chat's bytes and the chat name (from the member or file name, else the file stem)."""
    if _zip.is_zip(path, read_head(path, 4)):
        try:
            with zipfile.ZipFile(path) as zf:
                member = _pick_member(zf)
                if member is None:
                    raise ChatImportError(path, "zip holds no WhatsApp chat (_chat.txt or 'WhatsApp Chat with X.txt')")
                data = _zip.read_member(zf, member, path)
        except _zip.ERRORS as exc:
            raise _zip.damaged(path, exc) from None
        stem = member.rsplit("/", 1)[-1][:-4]
        return data, chat_name(stem) or chat_name(path.stem) or path.stem
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ChatImportError(path, f"cannot read: {exc.strerror or exc}") from None
    if path.name == "_chat.txt":  # an unzipped iOS export: the folder carries the chat's name
        return data, chat_name(path.parent.name) or path.parent.name or path.stem
    return data, chat_name(path.stem) or path.stem


def sniff(path: Path, head: bytes) -> bool:
    if zipfile.is_zipfile(path):
        return any(_is_chat_member(n) for n in head.decode("utf-8", "replace").splitlines())
    if b"\x00" in head:
        return False
    text = head.decode("utf-8", "replace").lstrip("\ufeff")
    lines = [ln for ln in text.splitlines()[:60] if ln.strip()]
    if not lines or not _HEAD.match(lines[0]):
        return False
    heads = [m for m in map(_HEAD.match, lines) if m]
    return any(m.group(_GROUPS) for m in heads) and len(heads) * 3 >= len(lines)


def parse(path: Path, report: ImportReport, progress: Progress | None = None) -> Iterator[Message]:
    path = Path(path)
    data, conversation = _load(path)
    text, warning = decode_text(data, path)
    del data
    if warning:
        report.warn(warning)
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    parts = _HEAD.split(text)
    del text
    if len(parts) == 1:
        raise ChatImportError(
            path, "no WhatsApp message lines (expected e.g. '01/12/24, 10:05 - Name: text')", "line 1"
        )

    # Where each header sits, for error messages: computed only when a problem needs it.
    line_at = _LineCounter(parts)
    preamble = parts[0]
    if preamble.strip():
        for i, ln in enumerate(preamble.split("\n"), 1):
            if ln.strip() and ln.strip("\ufeff\u200e"):
                report.unparseable(f"line {i}", "text before the first message")

    stride = _GROUPS + 1
    dates = parts[2::stride]
    order, order_warning = infer_order(list(dict.fromkeys(dates)))
    if order_warning:
        report.warn(order_warning)
    del dates

    # Each distinct date and time string is parsed once; False marks an impossible one.
    day_cache: dict[str, float | bool] = {}
    time_cache: dict[str, float | bool] = {}
    day_of = day_cache.get
    time_of = time_cache.get
    names: dict[str, str] = {}
    ids = ContentIds()
    strays: list[int] = []  # lines of what looked like headers but could not be read
    kind_of = _KIND.get
    keep = report.keep
    skip = report.skip
    total = (len(parts) - 1) // stride
    it = iter(parts)
    next(it)
    for index, (_, d, before, t, ampm, speaker, body) in enumerate(zip(it, it, it, it, it, it, it)):
        if progress is not None and index % 20000 == 0:
            progress(index, total)
        nl = body.find("\n")
        if 0 <= nl < len(body) - 1:  # more than one line: one of them may look like a header
            stray = _LOOSE_HEAD.search(body, nl + 1)
            if stray is not None:
                body = _cut_strays(body, stray.start(), line_at(index), report, strays)
        if before is not None:
            ampm = before
        day = day_of(d)
        if day is None:
            day = day_cache[d] = _day_seconds(_fields(d), order)
        tkey = t if ampm is None else t + ampm
        secs = time_of(tkey)
        if secs is None:
            secs = time_cache[tkey] = _time_seconds(t, ampm)
        if day is False or secs is False:
            report.unparseable(f"line {line_at(index)}", f"impossible date or time {d!r} {t!r} (read as {order})")
            continue
        if speaker is None:
            skip(SYSTEM)
            continue
        body = body.rstrip()
        if not body:
            skip(EMPTY)
            continue
        kind = kind_of(body)
        if kind is None and (body[0] == "\u200e" or "<" in body or "(" in body):
            kind, body = _classify(body)
        if kind is not None:
            skip(kind)
            continue
        who = names.get(speaker)
        if who is None:
            who = names[speaker] = _speaker_name(speaker)
        if not who:
            skip(SYSTEM)
            continue
        ts = day + secs
        yield keep(Message(name, ids(conversation, ts, who, body), conversation, conversation, who, who, ts, body))
    if strays:
        lines = f"{len(strays):,} lines look" if len(strays) > 1 else "1 line looks"
        report.warn(
            f"{lines} like message headers but cannot be read (first at line {strays[0]}); counted as unparseable, "
            "not added to the message before them"
        )
    if progress is not None:
        progress(total, total)


def _cut_strays(body: str, start: int, line: int, report: ImportReport, strays: list[int]) -> str:
    """``body`` up to ``start``, where a line that looks like a header begins. That line and any like it
    further on are counted as unparseable (with what follows them, up to the next message)."""
    for m in _LOOSE_HEAD.finditer(body, start):
        at = line + body.count("\n", 0, m.start())
        end = body.find("\n", m.start())
        text = body[m.start() : end if end >= 0 else len(body)]
        report.unparseable(f"line {at}", f"looks like a message header but cannot be read: {text[:45]!r}")
        strays.append(at)
    return body[: start - 1]


class _LineCounter:
    """Line number of the ``index``-th header in ``re.split`` output, counted incrementally on demand."""

    def __init__(self, parts: list):
        self.parts = parts
        self.index = -1
        self.line = 1 + parts[0].count("\n")  # line of header 0

    def __call__(self, index: int) -> int:
        stride = _GROUPS + 1
        if index < self.index:
            self.index, self.line = -1, 1 + self.parts[0].count("\n")
        if self.index < 0:
            self.index = 0
        while self.index < index:
            self.line += self.parts[1 + self.index * stride + _GROUPS].count("\n")
            self.index += 1
        return self.line
