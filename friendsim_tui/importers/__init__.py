"""Chat export importers: one module per format, detected from content.

Each module exposes ``name``, ``label``, ``sniff(path, head)`` and ``parse(path, report, progress)``
(see :mod:`friendsim_tui.importers.base`). Order matters: more specific formats come first.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from types import ModuleType
from typing import Iterator

from friendsim_tui.importers import _zip
from friendsim_tui.importers.base import Batch, ChatImportError, ImportReport, Message, Progress, message_batches

_MODULES = (
    "dce_json",
    "dce_csv",
    "dce_txt",
    "telegram",
    "messenger",
    "whatsapp",
    "transcript",
)

SUPPORTED = (
    "DiscordChatExporter (JSON, CSV, PlainText), WhatsApp (.txt or .zip), Telegram (result.json), "
    "Messenger/Instagram (message_N.json), or a plain 'Name: text' transcript"
)


def formats() -> list[ModuleType]:
    return [importlib.import_module(f"friendsim_tui.importers.{m}") for m in _MODULES]


def head_of(path: Path) -> bytes:
    """What sniffers look at: the first 64 KiB, or for a zip the names of its members.

    A file that starts like a zip but cannot be read as one raises :class:`ChatImportError` (damaged zip)."""
    with open(path, "rb") as fh:
        head = fh.read(65536)
    if _zip.is_zip(path, head):
        return "\n".join(_zip.member_names(path)).encode("utf-8", "replace")
    return head


def detect(path: Path) -> ModuleType:
    """The format of ``path``, or :class:`ChatImportError` saying it is not a supported export."""
    path = Path(path)
    if not path.is_file():
        raise ChatImportError(path, "not a file" if path.exists() else "no such file")
    try:
        head = head_of(path)
    except OSError as exc:
        raise ChatImportError(path, f"cannot read: {exc.strerror or exc}") from None
    if not head.strip():
        raise ChatImportError(path, "empty file")
    for module in _MODULES:  # imported one by one: a process that reads one file imports what it needs
        fmt = importlib.import_module(f"friendsim_tui.importers.{module}")
        try:
            if fmt.sniff(path, head):
                return fmt
        except Exception:  # a sniffer must never take the whole detection down
            continue
    raise ChatImportError(path, f"not a supported chat export; expected {SUPPORTED}")


def parse_file(path: Path, report: ImportReport, progress: Progress | None = None) -> Iterator[Message]:
    """Detect and parse one file. Errors other than :class:`ChatImportError` are turned into one."""
    fmt = detect(path)
    report.format = fmt.label
    yield from _read_as(fmt, path, fmt.parse(Path(path), report, progress))


def batch_file(path: Path, report: ImportReport, progress: Progress | None = None, size: int = 20_000,
               fmt: ModuleType | None = None) -> Iterator[Batch]:
    """:func:`parse_file`'s messages as :class:`Batch` es of about ``size`` rows: the format's own where it
    makes them (``batches``), else made from its messages. ``fmt``: the format, when already detected."""
    fmt = fmt or detect(path)
    report.format = fmt.label
    if hasattr(fmt, "batches"):
        batches = fmt.batches(Path(path), report, progress, size)
    else:
        batches = message_batches(fmt.parse(Path(path), report, progress), size)
    yield from _read_as(fmt, path, batches)


def _read_as(fmt: ModuleType, path: Path, items: Iterator) -> Iterator:
    try:
        yield from items
    except ChatImportError:
        raise
    except (UnicodeDecodeError, ValueError, OSError, KeyError, TypeError, IndexError, RecursionError) as exc:
        raise ChatImportError(path, f"cannot read as {fmt.label}: {exc}") from None
    except MemoryError:
        raise ChatImportError(path, f"not enough memory to read it as {fmt.label}") from None


IGNORED_SUFFIXES = {
    ".jpg", ".jpeg", ".png", ".gif", ".webp", ".mp4", ".mov", ".opus", ".ogg", ".mp3", ".m4a",
    ".pdf", ".vcf", ".webm", ".heic", ".wav", ".aac", ".html", ".htm", ".css", ".js",
}


def expand_paths(paths: list[Path]) -> tuple[list[Path], list[Path]]:
    """Files to import from the given files and folders.

    Explicit files are always returned (they must be chats). Folders are searched recursively; files
    in them with media or web extensions are ignored, and hidden files too. Returns (files, ignored).
    """
    files: list[Path] = []
    ignored: list[Path] = []
    for p in paths:
        p = Path(p).expanduser()
        if p.is_dir():
            for child in sorted(p.rglob("*")):
                if not child.is_file() or any(part.startswith(".") for part in child.relative_to(p).parts):
                    continue
                if child.suffix.lower() in IGNORED_SUFFIXES:
                    ignored.append(child)
                else:
                    files.append(child)
        else:
            files.append(p)
    return files, ignored


def chat_files(paths: list[Path]) -> tuple[list[Path], list[str]]:
    """The chat exports among ``paths``, each checked by detection before anything is read in full.

    A file named explicitly must be a chat export (else :class:`ChatImportError`). Inside a folder,
    files that are not (a Facebook export's settings JSON, notes...) are left out with a warning.
    Returns (files, warnings).
    """
    explicit = {Path(p).expanduser() for p in paths if not Path(p).expanduser().is_dir()}
    files, ignored = expand_paths(paths)
    warnings = [f"ignored {p} (media or web file, not a chat export)" for p in ignored]
    chats = []
    for path in files:
        try:
            detect(path)
        except ChatImportError as exc:
            if path in explicit:
                raise
            warnings.append(f"skipped {exc}")
            continue
        chats.append(path)
    return chats, warnings
