"""SQLite store for one workspace.

Schema changes are migrations keyed by ``PRAGMA user_version``; a database from a newer version of the
app is refused rather than damaged. Messages are unique on (source, source_id), so importing an
overlapping export twice adds nothing the second time.
"""

from __future__ import annotations

import json
import sqlite3
import time
import weakref
from contextlib import contextmanager
from dataclasses import dataclass
from itertools import chain
from pathlib import Path
from typing import Callable, Iterable, Iterator, Sequence

from friendsim_tui import paths

DB_NAME = "workspace.sqlite3"

MIGRATIONS: list[str] = [
    # 1: messages, speakers and their aliases, conversations, imports
    """
    CREATE TABLE speakers(
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL UNIQUE COLLATE NOCASE,
        excluded INTEGER NOT NULL DEFAULT 0
    );
    CREATE TABLE aliases(
        source TEXT NOT NULL,
        key TEXT NOT NULL,
        name TEXT NOT NULL,
        speaker_id INTEGER NOT NULL REFERENCES speakers(id),
        PRIMARY KEY(source, key)
    ) WITHOUT ROWID;
    CREATE TABLE conversations(
        id INTEGER PRIMARY KEY,
        source TEXT NOT NULL,
        key TEXT NOT NULL,
        title TEXT NOT NULL,
        UNIQUE(source, key)
    );
    CREATE TABLE imports(
        id INTEGER PRIMARY KEY,
        at REAL NOT NULL,
        summary TEXT NOT NULL
    );
    CREATE TABLE messages(
        id INTEGER PRIMARY KEY,
        source TEXT NOT NULL,
        source_id TEXT NOT NULL,
        conversation_id INTEGER NOT NULL REFERENCES conversations(id),
        speaker_id INTEGER NOT NULL REFERENCES speakers(id),
        ts REAL NOT NULL,
        text TEXT NOT NULL,
        reply_to TEXT,
        import_id INTEGER REFERENCES imports(id),
        UNIQUE(source, source_id)
    );
    CREATE INDEX messages_by_time ON messages(conversation_id, ts);
    CREATE INDEX messages_by_speaker ON messages(speaker_id);
    """,
    # 2: role-play chat sessions, a tree of turns (see store/chats.py)
    """
    CREATE TABLE chat_sessions(
        id INTEGER PRIMARY KEY,
        run TEXT NOT NULL,
        player TEXT NOT NULL,
        title TEXT NOT NULL DEFAULT '',
        created REAL NOT NULL,
        updated REAL NOT NULL,
        settings TEXT NOT NULL DEFAULT '{}',
        leaf_id INTEGER,
        pending TEXT NOT NULL DEFAULT '[]'
    );
    CREATE TABLE chat_turns(
        id INTEGER PRIMARY KEY,
        session_id INTEGER NOT NULL REFERENCES chat_sessions(id) ON DELETE CASCADE,
        parent_id INTEGER REFERENCES chat_turns(id) ON DELETE CASCADE,
        speaker TEXT NOT NULL,
        text TEXT NOT NULL,
        source TEXT NOT NULL CHECK(source IN ('player', 'model', 'edited')),
        chosen INTEGER,
        candidates TEXT NOT NULL DEFAULT '[]',
        created REAL NOT NULL
    );
    CREATE INDEX chat_turns_by_parent ON chat_turns(session_id, parent_id);
    """,
]
SCHEMA_VERSION = len(MIGRATIONS)

ROWS_PER_INSERT = 199
"""Rows per INSERT statement of :meth:`Store.insert_batch`: 995 parameters, under the 999 that SQLite before
3.32 allows."""

BUSY_TIMEOUT = 300.0
"""Seconds a write waits for another connection's (an import holds the workspace for its whole length)."""
QUIET_WAIT = 0.5
"""Seconds a write waits before telling its user (``on_wait``) that it is waiting: short writes (a chat turn,
a rename) come and go well within it."""
WAITING = "waiting for another import to finish…"
"""What ``on_wait`` is told; imports are what holds a workspace for long."""


class StoreError(Exception):
    """A workspace problem the user can act on; ``str()`` is one line saying what happened and what to do."""


class WorkspaceBusy(StoreError):
    """Another connection kept writing to the workspace for longer than :data:`BUSY_TIMEOUT`."""

    def __init__(self, workspace: str, waited: float):
        super().__init__(
            f"workspace {workspace!r} is still busy with another import after waiting {_duration(waited)}; "
            "try again when it has finished"
        )


class DiskFull(StoreError):
    """The disk (or the database's size limit) is full; the transaction was undone."""

    def __init__(self, folder: Path | str, outcome: str = "nothing was saved; free some space and try again"):
        self.folder = str(folder)
        super().__init__(f"the disk is full: cannot write to {self.folder}; {outcome}")


class StorageFailed(StoreError):
    """The operating system failed a read or write of the database (SQLite's I/O errors)."""

    def __init__(self, path: Path | str, detail: str):
        super().__init__(f"cannot read or write {path} ({detail}); nothing was saved; check the disk and try again")


class WorkspaceDamaged(StoreError):
    """The workspace's file is not a database SQLite can read (damaged, or not a workspace at all)."""

    def __init__(self, path: Path | str, detail: str):
        self.detail = detail
        super().__init__(f"{path} cannot be read ({detail}); move it aside and import the chats again")


def _duration(seconds: float) -> str:
    if seconds >= 90:
        return f"{seconds / 60:.0f} minutes"
    return f"{seconds:.3g} s"


class _Connection(sqlite3.Connection):
    """The store's connection: waits for other writers, then fails with a :class:`StoreError`.

    A statement that finds the workspace busy for :data:`QUIET_WAIT` seconds (``BEGIN IMMEDIATE``, or a
    single write outside a transaction: every write of ``store/chats.py``) tells ``store.on_wait`` once,
    then waits up to the store's ``busy_timeout`` in all. Busy, disk-full, I/O and damaged-file errors come
    out as :class:`StoreError` s whose text a user can act on; anything else (a bug) as it was.
    """

    store: "Store"

    def execute(self, sql: str, parameters=(), /) -> sqlite3.Cursor:
        try:
            return super().execute(sql, parameters)
        except sqlite3.Error as exc:
            # Inside a transaction a busy statement may have done part of its work: only a statement that
            # starts on its own is safe to run again.
            if _code(exc) != sqlite3.SQLITE_BUSY or self.in_transaction:
                _reraise(exc, self.store)
        return self._wait_then(super().execute, sql, parameters)

    def executemany(self, sql: str, parameters, /) -> sqlite3.Cursor:
        try:
            return super().executemany(sql, parameters)
        except sqlite3.Error as exc:
            _reraise(exc, self.store)

    def _wait_then(self, run: Callable, *args) -> sqlite3.Cursor:
        store = self.store
        if store.on_wait is not None:
            store.on_wait(WAITING)
        set_timeout = super().execute
        set_timeout(f"PRAGMA busy_timeout = {_ms(store.busy_timeout - store.quiet_wait)}")
        try:
            return run(*args)
        except sqlite3.Error as exc:
            _reraise(exc, store)
        finally:
            set_timeout(f"PRAGMA busy_timeout = {_ms(store.quiet_wait)}")


def _ms(seconds: float) -> int:
    return max(0, round(seconds * 1000))


def _code(exc: sqlite3.Error) -> int | None:
    code = getattr(exc, "sqlite_errorcode", None)
    return None if code is None else code & 0xFF  # the primary code of an extended one


def _reraise(exc: sqlite3.Error, store: "Store"):
    code = _code(exc)
    if code == sqlite3.SQLITE_BUSY:
        raise WorkspaceBusy(store.name, store.busy_timeout) from exc
    if code == sqlite3.SQLITE_FULL:
        raise DiskFull(store.path.parent) from exc
    if code == sqlite3.SQLITE_IOERR:
        raise StorageFailed(store.path, str(exc)) from exc
    if code in (sqlite3.SQLITE_NOTADB, sqlite3.SQLITE_CORRUPT):
        raise WorkspaceDamaged(store.path, str(exc)) from exc
    raise exc


Identity = tuple[str, str, str]
"""(source, key, name): an author as an export names them."""


def account_space(source: str, key: str, name: str) -> str:
    """Where an identity's key tells people apart: the platform for an account id written ``platform:id``
    (a Discord account is ``discord:<id>`` in every export format), otherwise the source."""
    platform, sep, rest = key.partition(":")
    return platform if sep and rest and key != name and platform.isalpha() else source


def other_account(a: Identity, b: Identity) -> bool:
    """Whether two identities whose names match (ignoring case) are two people.

    Two keys of one account space are two accounts (two Discord "Deleted User"s), except where the source
    knows people only by their name (the key is the name): there ``bob`` and ``Bob`` are one contact
    spelled two ways. Identities of different spaces are one friend (``bob`` on Discord, ``Bob`` on WhatsApp).
    """
    return account_space(*a) == account_space(*b) and a[1] != b[1] and not (a[1] == a[2] and b[1] == b[2])


@dataclass(frozen=True)
class KeptApart:
    """An account given a speaker of its own because another account of its space has its name."""

    source: str
    key: str
    name: str
    """its name in the export"""
    speaker: str
    """the numbered name it got"""

    def warning(self) -> str:
        space = account_space(self.source, self.key, self.name)
        return (f"two {space} accounts are both called {self.name!r}: kept apart, the second ({self.key}) as "
                f"{self.speaker!r}; rename it to {self.name!r} if they are one person")


def numbered_name(name: str, taken: Callable[[str], bool]) -> str:
    """``name (2)``, or the first of ``name (3)``, ``name (4)``... that ``taken`` says is free."""
    n = 2
    while taken(f"{name} ({n})"):
        n += 1
    return f"{name} ({n})"


@dataclass(frozen=True)
class Speaker:
    id: int
    name: str
    excluded: bool
    messages: int
    aliases: tuple[str, ...]


class Store:
    """A workspace's database. Not shared between threads: open one per thread.

    Writes wait for another connection's (another import, the app, a second terminal): ``on_wait`` is
    told once, with :data:`WAITING`, when a write has waited :data:`QUIET_WAIT` seconds; after
    ``busy_timeout`` seconds in all the write fails with :class:`WorkspaceBusy`.
    """

    def __init__(self, path: Path, *, name: str | None = None, on_wait: Callable[[str], None] | None = None,
                 busy_timeout: float | None = None):
        self.path = Path(path)
        self.name = name or str(self.path)
        """the workspace's name, for messages"""
        self.on_wait = on_wait
        self.busy_timeout = BUSY_TIMEOUT if busy_timeout is None else busy_timeout
        self.quiet_wait = min(QUIET_WAIT, self.busy_timeout)
        self.kept_apart: list[KeptApart] = []
        """accounts :meth:`speaker_id` kept apart from a namesake (emptied when a transaction is undone)"""
        self._speaker_cache: dict[tuple[str, str], int] = {}
        self._conversation_cache: dict[tuple[str, str], int] = {}
        self._mapped_speakers: list[int] | None = None
        """what temp.import_speakers holds (see insert_batch), None before it exists"""
        new = not self.path.exists()
        if new:
            paths.private_dir(self.path.parent)
            # create the file 0600 before sqlite opens it
            paths.open_private(self.path, "ab").close()
        self.conn: _Connection = sqlite3.connect(
            self.path, timeout=self.quiet_wait, isolation_level=None, check_same_thread=False, factory=_Connection
        )
        self.conn.store = weakref.proxy(self)  # not a cycle: a dropped Store still closes its connection
        try:
            if new:
                # Larger pages make the million-row inserts of a big import about 7% cheaper (fewer b-tree
                # splits); it only takes effect before the first table is written.
                self.conn.execute("PRAGMA page_size=16384")
            self.conn.execute("PRAGMA journal_mode=WAL")
            self.conn.execute("PRAGMA synchronous=NORMAL")
            self.conn.execute("PRAGMA foreign_keys=ON")
            self._migrate()
        except BaseException:
            self.conn.close()
            raise
        for suffix in ("", "-wal", "-shm"):
            p = Path(str(self.path) + suffix)
            if p.exists():
                paths.private_file(p)

    # -- lifecycle ----------------------------------------------------------------------------
    @classmethod
    def for_workspace(cls, name: str, create: bool = False, *, on_wait: Callable[[str], None] | None = None) -> "Store":
        folder = paths.workspace_dir(name)
        db = folder / DB_NAME
        if not db.exists() and not create:
            raise StoreError(f"no workspace named {name!r} (see `friendsim-tui workspaces`)")
        paths.private_dir(paths.data_dir())
        paths.private_dir(paths.workspaces_dir())
        paths.private_dir(folder)
        return cls(db, name=name, on_wait=on_wait)

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> "Store":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _migrate(self) -> None:
        if self._schema_version() == SCHEMA_VERSION:
            return  # the common case, without taking the write lock: opening to read never waits
        with self.transaction():
            # Read again under the lock: another connection may have migrated it meanwhile.
            for i in range(self._schema_version(), SCHEMA_VERSION):
                for stmt in _split_sql(MIGRATIONS[i]):
                    self.conn.execute(stmt)
                self.conn.execute(f"PRAGMA user_version = {i + 1}")

    def _schema_version(self) -> int:
        version = self.conn.execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION:
            raise StoreError(
                f"{self.path}: made by a newer friendsim-tui (schema {version} > {SCHEMA_VERSION}); upgrade the app"
            )
        return version

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """One atomic unit: everything inside lands, or nothing does. Inside another, part of that one."""
        if self.conn.in_transaction:
            yield
            return
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            yield
            self.conn.execute("COMMIT")
        except BaseException:
            self._roll_back()
            raise

    def _roll_back(self) -> None:
        self._speaker_cache.clear()
        self._conversation_cache.clear()
        self._mapped_speakers = None  # the temporary table is undone too
        self.kept_apart = []
        # After a full disk or an I/O error SQLite may have undone the transaction itself; a ROLLBACK then
        # fails ("no transaction is active") and would hide the error that matters.
        if self.conn.in_transaction:
            try:
                self.conn.execute("ROLLBACK")
            except (sqlite3.Error, StoreError):
                pass  # closing the connection undoes whatever is left

    # -- writing ------------------------------------------------------------------------------
    def speaker_id(self, source: str, key: str, name: str, *, merge: bool = False) -> int:
        """The speaker for an identity, creating it on first sight.

        A new identity whose display name matches an existing speaker (ignoring case) joins that speaker
        as an alias: `bob` on Discord and `Bob` on WhatsApp are one friend unless the user splits them.
        Another account of a platform the speaker already has an account of (two Discord "Deleted User"s,
        see :func:`other_account`) is another person, though: it gets a speaker of its own under a numbered
        name ("Deleted User (2)"), listed in :attr:`kept_apart`, unless ``merge`` (the user gave it that name).
        """
        ck = (source, key)
        sid = self._speaker_cache.get(ck)
        if sid is not None:
            return sid
        row = self.conn.execute("SELECT speaker_id FROM aliases WHERE source=? AND key=?", ck).fetchone()
        if row is None:
            speaker = name
            sid = self._speaker_named(name)
            if sid is not None and not merge and any(
                other_account((source, key, name), alias)
                for alias in self.conn.execute("SELECT source, key, name FROM aliases WHERE speaker_id=?", (sid,))
            ):
                speaker = numbered_name(name, lambda n: self._speaker_named(n) is not None)
                self.kept_apart.append(KeptApart(source, key, name, speaker))
                sid = None
            if sid is None:
                sid = self.conn.execute("INSERT INTO speakers(name) VALUES (?)", (speaker,)).lastrowid
            self.conn.execute(
                "INSERT INTO aliases(source, key, name, speaker_id) VALUES (?,?,?,?)", (source, key, name, sid)
            )
        else:
            sid = row[0]
        self._speaker_cache[ck] = sid
        return sid

    def _speaker_named(self, name: str) -> int | None:
        row = self.conn.execute("SELECT id FROM speakers WHERE name=?", (name,)).fetchone()
        return row[0] if row else None

    def conversation_id(self, source: str, key: str, title: str) -> int:
        ck = (source, key)
        cid = self._conversation_cache.get(ck)
        if cid is None:
            row = self.conn.execute("SELECT id FROM conversations WHERE source=? AND key=?", ck).fetchone()
            if row is None:
                cid = self.conn.execute(
                    "INSERT INTO conversations(source, key, title) VALUES (?,?,?)", (source, key, title)
                ).lastrowid
            else:
                cid = row[0]
            self._conversation_cache[ck] = cid
        return cid

    def insert_messages(self, rows: Iterable[tuple]) -> int:
        """Insert (source, source_id, conversation_id, speaker_id, ts, text, reply_to, import_id) rows.

        Returns how many were new; duplicates of stored messages are ignored.
        """
        before = self.conn.total_changes
        self.conn.executemany(
            "INSERT OR IGNORE INTO messages(source, source_id, conversation_id, speaker_id, ts, text, reply_to,"
            " import_id) VALUES (?,?,?,?,?,?,?,?)",
            rows,
        )
        return self.conn.total_changes - before

    def insert_batch(self, source: str, conversation_id: int, speaker_ids: Sequence[int], rows: list[tuple],
                     import_id: int | None = None) -> int:
        """Insert (source_id, speaker, ts, text, reply_to) rows of one conversation (an importer's
        :class:`~friendsim_tui.importers.base.Batch`): ``speaker`` indexes ``speaker_ids``, reply_to "" is none.
        Returns how many were new; duplicates of stored messages are ignored.

        The rows go to SQLite as they come, :data:`ROWS_PER_INSERT` to a statement (each statement run costs
        about what inserting a row does): the speaker is looked up in a small temporary table, the values
        every row shares are written into the statement.
        """
        self._map_speakers(speaker_ids)
        head = (
            "INSERT INTO messages(source, source_id, conversation_id, speaker_id, ts, text, reply_to, import_id) "
            f"SELECT {_sql_text(source)}, column1, {int(conversation_id)}, "
            "(SELECT id FROM temp.import_speakers WHERE local = column2), column3, column4, NULLIF(column5, ''), "
            f"{'NULL' if import_id is None else int(import_id)} FROM (VALUES "
        )
        tail = ") WHERE true ON CONFLICT(source, source_id) DO NOTHING"  # (WHERE: how SQLite reads an upsert)
        before = self.conn.total_changes
        whole = len(rows) - len(rows) % ROWS_PER_INSERT
        if whole:
            values = ", ".join(["(?, ?, ?, ?, ?)"] * ROWS_PER_INSERT)
            params = chain.from_iterable(rows[:whole])
            self.conn.executemany(head + values + tail, zip(*[params] * (5 * ROWS_PER_INSERT)))
        if whole < len(rows):
            self.conn.executemany(head + "(?, ?, ?, ?, ?)" + tail, rows[whole:])
        return self.conn.total_changes - before

    def _map_speakers(self, speaker_ids: Sequence[int]) -> None:
        """Make temp.import_speakers map i to ``speaker_ids[i]``, adding only what it lacks."""
        mapped = self._mapped_speakers
        if mapped is None:
            self.conn.execute("CREATE TEMP TABLE IF NOT EXISTS import_speakers(local INTEGER PRIMARY KEY, id INTEGER NOT NULL)")
            self.conn.execute("DELETE FROM temp.import_speakers")
            mapped = []
        elif speaker_ids[: len(mapped)] != mapped:  # another file's numbering
            self.conn.execute("DELETE FROM temp.import_speakers")
            mapped = []
        if len(speaker_ids) > len(mapped):
            self.conn.executemany(
                "INSERT INTO temp.import_speakers(local, id) VALUES (?, ?)",
                enumerate(speaker_ids[len(mapped):], len(mapped)),
            )
        self._mapped_speakers = list(speaker_ids)

    @contextmanager
    def bulk_insert(self, new_messages: int) -> Iterator[None]:
        """Inside a transaction, around the inserts of about ``new_messages`` messages: when they are at least
        as many as the stored ones, the messages' secondary indexes are dropped first and built again at the
        end (one sort costs less than updating them row by row).
        Their uniqueness key stays: it is what keeps a re-import from adding anything twice. On an error
        nothing is built (the transaction is undone)."""
        if not self.conn.in_transaction:
            raise RuntimeError("bulk_insert needs a transaction")
        indexes: list[tuple[str, str]] = []
        if new_messages > 0 and new_messages >= self.message_count():
            indexes = self.conn.execute(
                "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'messages' AND sql IS NOT NULL"
            ).fetchall()
            for index, _ in indexes:
                self.conn.execute(f"DROP INDEX {_sql_name(index)}")
        yield
        for _, sql in indexes:
            self.conn.execute(sql)

    def begin_import(self) -> int:
        return self.conn.execute("INSERT INTO imports(at, summary) VALUES (?, '{}')", (time.time(),)).lastrowid

    def finish_import(self, import_id: int, summary: dict) -> None:
        self.conn.execute("UPDATE imports SET summary=? WHERE id=?", (json.dumps(summary), import_id))

    def rename_speaker(self, speaker_id: int, new_name: str) -> int:
        """Rename a speaker; naming it like another speaker merges the two. Returns the surviving id."""
        new_name = new_name.strip()
        if not new_name:
            raise StoreError("a speaker name cannot be empty")
        with self.transaction():
            other = self.conn.execute(
                "SELECT id FROM speakers WHERE name=? AND id<>?", (new_name, speaker_id)
            ).fetchone()
            if other is None:
                self.conn.execute("UPDATE speakers SET name=? WHERE id=?", (new_name, speaker_id))
                return speaker_id
            target = other[0]
            self.conn.execute("UPDATE aliases SET speaker_id=? WHERE speaker_id=?", (target, speaker_id))
            self.conn.execute("UPDATE messages SET speaker_id=? WHERE speaker_id=?", (target, speaker_id))
            self.conn.execute("DELETE FROM speakers WHERE id=?", (speaker_id,))
        self._speaker_cache.clear()
        return target

    def set_excluded(self, speaker_id: int, excluded: bool) -> None:
        with self.transaction():
            self.conn.execute("UPDATE speakers SET excluded=? WHERE id=?", (int(excluded), speaker_id))

    # -- reading ------------------------------------------------------------------------------
    def message_count(self) -> int:
        return self.conn.execute("SELECT count(*) FROM messages").fetchone()[0]

    def date_range(self) -> tuple[float, float] | None:
        row = self.conn.execute("SELECT min(ts), max(ts) FROM messages").fetchone()
        return None if row[0] is None else (row[0], row[1])

    def speakers(self) -> list[Speaker]:
        rows = self.conn.execute(
            """
            SELECT s.id, s.name, s.excluded,
                   (SELECT count(*) FROM messages m WHERE m.speaker_id = s.id),
                   (SELECT group_concat(a.name, char(31)) FROM aliases a WHERE a.speaker_id = s.id)
            FROM speakers s
            """
        ).fetchall()
        out = [
            Speaker(r[0], r[1], bool(r[2]), r[3], tuple(sorted(set((r[4] or "").split("\x1f")) - {""})))
            for r in rows
        ]
        out.sort(key=lambda s: (-s.messages, s.name.lower()))
        return out

    def speaker_by_name(self, name: str) -> Speaker | None:
        for sp in self.speakers():
            if sp.name.lower() == name.lower() or name in sp.aliases:
                return sp
        return None

    def conversations(self) -> list[tuple[int, str, str, int]]:
        """(id, source, title, message count) per conversation."""
        return self.conn.execute(
            "SELECT c.id, c.source, c.title, count(m.id) FROM conversations c "
            "LEFT JOIN messages m ON m.conversation_id=c.id GROUP BY c.id ORDER BY c.id"
        ).fetchall()

    def iter_messages(self) -> Iterator[tuple[int, float, str, str, bool]]:
        """(conversation_id, ts, speaker name, text, speaker excluded) in conversation and time order."""
        yield from self.conn.execute(
            "SELECT m.conversation_id, m.ts, s.name, m.text, s.excluded FROM messages m "
            "JOIN speakers s ON s.id=m.speaker_id ORDER BY m.conversation_id, m.ts, m.id"
        )

    def imports(self) -> list[tuple[int, float, dict]]:
        return [(r[0], r[1], json.loads(r[2])) for r in self.conn.execute("SELECT id, at, summary FROM imports")]


def _sql_text(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _sql_name(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _split_sql(script: str) -> list[str]:
    return [s.strip() for s in script.split(";") if s.strip()]
