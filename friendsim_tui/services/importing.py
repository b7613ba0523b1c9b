"""Import chat exports into a workspace: preview first, then one transaction per import."""

from __future__ import annotations

import sqlite3
import threading
from collections import Counter
from concurrent.futures import Future, ThreadPoolExecutor, wait
from contextlib import nullcontext
from dataclasses import dataclass, field
from operator import itemgetter
from pathlib import Path
from typing import Callable

from friendsim_tui.importers import chat_files, expand_paths, parse_file
from friendsim_tui.importers.base import ChatImportError, ImportReport
from friendsim_tui.importers.offload import Batches, ChildBatches, offload_worth_it
from friendsim_tui.store import Store, StoreError
from friendsim_tui.store.db import DiskFull, KeptApart, numbered_name, other_account


@dataclass
class IdentityPreview:
    """One author identity found in the files, before import."""

    source: str
    key: str
    name: str
    messages: int = 0


@dataclass
class SpeakerChoice:
    """What the user decided for an identity in the preview: a new display name, or leave it out."""

    name: str | None = None
    exclude: bool = False


@dataclass
class Preview:
    files: list[ImportReport] = field(default_factory=list)
    identities: list[IdentityPreview] = field(default_factory=list)
    errors: list[ChatImportError] = field(default_factory=list)
    ignored: list[Path] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    """accounts kept apart from a namesake (see :func:`_keep_namesakes_apart`)"""

    @property
    def total_kept(self) -> int:
        return sum(r.kept for r in self.files)

    @property
    def skipped(self) -> Counter:
        c: Counter = Counter()
        for r in self.files:
            c.update(r.skipped)
        return c

    @property
    def date_range(self) -> tuple[float, float] | None:
        firsts = [r.first_ts for r in self.files if r.first_ts is not None]
        lasts = [r.last_ts for r in self.files if r.last_ts is not None]
        return (min(firsts), max(lasts)) if firsts else None


@dataclass
class ImportResult:
    workspace: str
    messages_added: int
    messages_total: int
    skipped: Counter
    speakers: Counter
    files: list[ImportReport]
    warnings: list[str]

    def to_json(self) -> dict:
        return {
            "workspace": self.workspace,
            "messages_added": self.messages_added,
            "messages_total": self.messages_total,
            "skipped": dict(self.skipped),
            "speakers": dict(self.speakers),
            "files": [{"path": r.path, "format": r.format, "read": r.read, "kept": r.kept} for r in self.files],
            "warnings": self.warnings,
        }


ProgressFn = Callable[[int, int, str, int, int], None]
"""progress(file_index, file_count, path, done, total): done/total in bytes of the current file."""


def _file_progress(progress: ProgressFn | None, index: int, count: int, path: Path):
    if progress is None:
        return None
    return lambda done, total: progress(index, count, str(path), done, total)


def preview(paths: list[Path], progress: ProgressFn | None = None) -> Preview:
    """Read the files without writing anything: formats, counts, speakers, problems."""
    files, ignored = expand_paths(paths)
    out = Preview(ignored=ignored)
    identities: dict[tuple[str, str], IdentityPreview] = {}
    for i, path in enumerate(files):
        report = ImportReport(str(path))
        try:
            for msg in parse_file(path, report, _file_progress(progress, i, len(files), path)):
                ident = identities.get((msg.source, msg.speaker_key))
                if ident is None:
                    ident = identities[(msg.source, msg.speaker_key)] = IdentityPreview(
                        msg.source, msg.speaker_key, msg.speaker_name
                    )
                ident.messages += 1
        except ChatImportError as exc:
            out.errors.append(exc)
            continue
        out.files.append(report)
    out.warnings = _keep_namesakes_apart(list(identities.values()))
    out.identities = sorted(identities.values(), key=lambda x: -x.messages)
    return out


def _keep_namesakes_apart(identities: list[IdentityPreview]) -> list[str]:
    """Number the names of different accounts that share a name, as the import will (Store.speaker_id):
    the second Discord "Deleted User" becomes "Deleted User (2)". Returns a warning for each."""
    kept: dict[str, list[IdentityPreview]] = {}
    taken = {i.name.lower() for i in identities}
    warnings = []
    for ident in identities:  # in the order the import meets them
        namesakes = kept.setdefault(ident.name.lower(), [])
        if any(other_account((ident.source, ident.key, ident.name), (o.source, o.key, o.name)) for o in namesakes):
            name = numbered_name(ident.name, lambda n: n.lower() in taken)
            taken.add(name.lower())
            warnings.append(KeptApart(ident.source, ident.key, ident.name, name).warning())
            ident.name = name
        else:
            namesakes.append(ident)
    return warnings


def import_paths(
    workspace: str,
    paths: list[Path],
    choices: dict[tuple[str, str], SpeakerChoice] | None = None,
    progress: ProgressFn | None = None,
    create: bool = True,
    on_wait: Callable[[str], None] | None = None,
) -> ImportResult:
    """Import files and folders into ``workspace`` in one transaction.

    Any file that is not a readable chat export raises :class:`ChatImportError` and nothing is written;
    so does a :class:`StoreError` (the disk is full, or another import kept the workspace busy too long).
    ``choices`` maps (source, speaker key) to a rename or exclusion decided in the preview. ``on_wait``
    is told (a line of text) when the import has to wait for another one to finish first.
    """
    choices = choices or {}
    # Check every file's format before touching the workspace, so a wrong path fails fast.
    files, warnings = chat_files(paths)
    if not files:
        raise ChatImportError(", ".join(map(str, paths)) or "(no paths)", "no chat export files found")
    try:
        return _import_files(workspace, files, warnings, choices, progress, create, on_wait)
    except DiskFull as exc:
        raise DiskFull(exc.folder, "nothing was imported; free some space and import again") from exc


def _import_files(
    workspace: str,
    files: list[Path],
    warnings: list[str],
    choices: dict[tuple[str, str], SpeakerChoice],
    progress: ProgressFn | None,
    create: bool,
    on_wait: Callable[[str], None] | None,
) -> ImportResult:
    store = Store.for_workspace(workspace, create=create, on_wait=on_wait)
    # COMMIT would otherwise also copy the whole write-ahead log into the database file (a checkpoint)
    # before returning; that is upkeep, not part of the transaction, so it is done after (_checkpoint).
    in_background = False
    reports: list[ImportReport] = []
    kept_by_speaker: Counter = Counter()
    try:
        store.conn.execute("PRAGMA wal_autocheckpoint=0")
        # Every id a message row refers to comes from this transaction's own lookups (conversation_id,
        # speaker_id, begin_import), so checking three parent tables for each of a million rows (a tenth of
        # an insert's cost) buys nothing here. This connection is the import's alone, closed at the end.
        store.conn.execute("PRAGMA foreign_keys=OFF")
        offloaded = {path for path in files if offload_worth_it(path)}
        # Messages parsed in a child process arrive in batches this process waits for: keeping the indexes up
        # to date as they come costs no time then, while building them at the end would add to the import's.
        here = _messages_in([path for path in files if path not in offloaded])
        with store.transaction(), store.bulk_insert(here), _Writer(store) as writer:
            before = store.message_count()
            import_id = store.begin_import()
            excluded_speakers: set[int] = set()
            conv_ids: dict[tuple[str, str], int] = {}
            speaker_ids: dict[tuple[str, str], int] = {}
            for i, path in enumerate(files):
                report = ImportReport(str(path))
                file_progress = _file_progress(progress, i, len(files), path)
                if path in offloaded:
                    batches = ChildBatches(path, report, file_progress)
                else:
                    batches = nullcontext(Batches(path, report, file_progress))
                sids: list[int] = []  # local speaker number -> speaker id
                with batches as source:
                    cids: list[int] = []  # local conversation number -> conversation id
                    for new_convs, new_speakers, source_name, conv, rows in source:
                        if new_convs or new_speakers:
                            writer.settle()  # the store's connection is the writer's while it inserts
                        for _, src, key, title in new_convs:
                            cid = conv_ids.get((src, key))
                            if cid is None:
                                cid = conv_ids[(src, key)] = store.conversation_id(src, key, title)
                            cids.append(cid)
                        for _, src, key, speaker_name in new_speakers:
                            sid = speaker_ids.get((src, key))
                            if sid is None:
                                choice = choices.get((src, key))
                                chosen = bool(choice and choice.name)  # the user named it: join any namesake
                                name = (choice.name if chosen else speaker_name).strip() or key
                                sid = speaker_ids[(src, key)] = store.speaker_id(src, key, name, merge=chosen)
                                if choice and choice.exclude:
                                    excluded_speakers.add(sid)
                            sids.append(sid)
                        if rows:
                            writer.insert(source_name, cids[conv], sids, rows, import_id)
                            for local, n in Counter(map(_SPEAKER, rows)).items():
                                kept_by_speaker[sids[local]] += n
                reports.append(report)
                warnings.extend(report.warnings)
                warnings.extend(str(p) for p in report.problems)
            writer.settle()
            added = writer.added
            warnings.extend(k.warning() for k in store.kept_apart)
            for sid in excluded_speakers:
                store.set_excluded(sid, True)
            names = dict(store.conn.execute("SELECT id, name FROM speakers"))  # not speakers(): it counts
            skipped: Counter = Counter()
            for r in reports:
                skipped.update(r.skipped)
            result = ImportResult(
                workspace=workspace,
                messages_added=added,
                messages_total=before + added,
                skipped=skipped,
                speakers=Counter({names[sid]: n for sid, n in kept_by_speaker.items()}),
                files=reports,
                warnings=warnings,
            )
            store.finish_import(import_id, result.to_json())
        in_background = result.messages_added >= BACKGROUND_CHECKPOINT
    finally:
        _checkpoint(store, in_background)
    return result


_SPEAKER = itemgetter(1)  # of a batch's row

BYTES_PER_MESSAGE = 100
"""A low guess of the bytes a message takes in an export (DCE CSV ~120, JSON ~1,000): how many an import
brings, before reading it, is told from its files' sizes (see ``Store.bulk_insert``)."""


def _messages_in(files: list[Path]) -> int:
    size = 0
    for path in files:
        try:
            size += path.stat().st_size
        except OSError:
            pass  # reading it will say what is wrong
    return size // BYTES_PER_MESSAGE


BACKGROUND_CHECKPOINT = 50_000
"""Imports adding at least this many messages return before their checkpoint ends (a thread finishes it)."""


def _checkpoint(store: Store, in_background: bool) -> None:
    """Copy the import's log into the database file, then close the store; large imports do it on a
    (non-daemon) thread, so the import returns as soon as its transaction is committed."""

    def run() -> None:
        try:
            store.conn.execute("PRAGMA wal_checkpoint(PASSIVE)")  # never blocks other connections
        except (sqlite3.Error, StoreError):
            pass  # the next connection to close or commit checkpoints instead
        finally:
            store.close()

    if in_background:
        threading.Thread(target=run, name="friendsim-checkpoint").start()
    else:
        run()


class _Writer:
    """Inserts batches on a worker thread while the next batch is parsed.

    SQLite does its part of each insert with the GIL released, so parsing (Python, this thread) and
    inserting (SQLite, the worker) partly overlap on a machine with two or more cores. At most one
    batch is in flight; ``settle()`` waits for it, and must be called before anything else uses the
    store's connection. It is all still one transaction.
    """

    def __init__(self, store: Store) -> None:
        self.store = store
        self.added = 0
        self._pool = ThreadPoolExecutor(1, thread_name_prefix="friendsim-import-writer")
        self._pending: Future | None = None

    def insert(self, *batch) -> None:
        """``Store.insert_batch(*batch)``, on the worker."""
        self.settle()
        self._pending = self._pool.submit(self.store.insert_batch, *batch)

    def settle(self) -> None:
        if self._pending is not None:
            pending, self._pending = self._pending, None
            self.added += pending.result()

    def __enter__(self) -> "_Writer":
        return self

    def __exit__(self, *exc) -> None:
        try:
            if self._pending is not None:
                wait([self._pending])  # never roll back or commit under a running insert
                if exc[0] is None:
                    self.settle()
        finally:
            self._pool.shutdown(wait=True)

