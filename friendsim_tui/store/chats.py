"""Role-play chat sessions: a tree of turns per session, so a session can be resumed, undone and branched.

Every turn points at its parent (``NULL`` for the first turn); a session remembers its current leaf. Undo
moves the leaf to the parent and keeps the undone turn, so taking another turn from there starts a second
branch and both stay on disk; :meth:`ChatStore.switch_branch` moves back and forth between them. Each
turn keeps every candidate the model offered for it (swipes included) and which one was taken
(``chosen``, an index into ``candidates``; ``None`` when the player typed it).

Text is stored exactly as given; the exports make it inert (control characters made visible by
friendsim_tui.safe_text's rule, Markdown punctuation escaped) so opening an export in a terminal or a
Markdown viewer cannot run anything. One :class:`ChatStore` per thread, like
:class:`~friendsim_tui.store.db.Store`.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Iterable

from friendsim_tui.safe_text import inert_lines as inert
from friendsim_tui.safe_text import md_escape
from friendsim_tui.store.db import Store, StoreError
from friendsim_tui.turns import SOURCES, Turn, transcript


@dataclass(frozen=True)
class ChatTurn(Turn):
    """A turn as stored: the :class:`~friendsim_tui.turns.Turn` and its place in the session's tree."""

    id: int = 0
    session_id: int = 0
    parent_id: int | None = None
    created: float = 0.0


@dataclass(frozen=True)
class ChatSession:
    id: int
    run: str
    player: str
    title: str
    created: float
    updated: float
    settings: dict = field(default_factory=dict)
    leaf_id: int | None = None
    """the current turn (None: at the start, before any turn)"""
    pending: tuple[Turn, ...] = ()
    """candidates offered for the next turn and not yet answered, so a resumed session shows them again"""
    turns: int = 0
    """turns stored in the session, all branches"""
    branches: int = 0
    """lines the session's tree ends in (1 for a chat that never split; 0 when empty)"""
    opening: str = ""
    """the text of the session's first turn (what an untitled session is known by)"""


@dataclass(frozen=True)
class Fork:
    """Where the current path last split: the deepest turn of the path that has sibling branches."""

    depth: int
    """position of that turn in the path (0: the first turn)"""
    index: int
    """which of ``branches`` the path goes through"""
    branches: tuple[ChatTurn, ...]
    """that turn and its siblings, oldest first"""

    @property
    def count(self) -> int:
        return len(self.branches)


_SESSION_COLS = "id, run, player, title, created, updated, settings, leaf_id, pending"
_TURN_COLS = "id, session_id, parent_id, speaker, text, source, chosen, candidates, created"
_SESSION_STATS = """
    (SELECT count(*) FROM chat_turns t WHERE t.session_id = s.id),
    (SELECT count(*) FROM chat_turns t WHERE t.session_id = s.id AND NOT EXISTS
        (SELECT 1 FROM chat_turns c WHERE c.session_id = t.session_id AND c.parent_id = t.id)),
    (SELECT t.text FROM chat_turns t WHERE t.session_id = s.id ORDER BY t.id LIMIT 1)
"""
"""Turns, branches (turns nothing follows) and the first turn's text of session ``s``."""


def _turns_json(turns: Iterable[Turn]) -> str:
    return json.dumps([t.to_json() for t in turns], ensure_ascii=False)


def _turns(raw: str | None) -> tuple[Turn, ...]:
    return tuple(Turn.from_json(item) for item in json.loads(raw or "[]"))


class ChatStore:
    """Chat sessions in a workspace's database."""

    def __init__(self, store: Store):
        self.store = store
        self.conn = store.conn

    # -- rows ---------------------------------------------------------------------------------
    def _session(self, row) -> ChatSession:
        """A row of :data:`_SESSION_COLS` followed by :data:`_SESSION_STATS`."""
        return ChatSession(row[0], row[1], row[2], row[3], row[4], row[5], json.loads(row[6] or "{}"), row[7],
                           _turns(row[8]), row[9], row[10], row[11] or "")

    @staticmethod
    def _turn(row) -> ChatTurn:
        return ChatTurn(speaker=row[3], text=row[4], source=row[5], chosen=row[6], candidates=_turns(row[7]),
                        id=row[0], session_id=row[1], parent_id=row[2], created=row[8])

    # -- sessions -----------------------------------------------------------------------------
    def new_session(self, run: str, player: str, title: str = "", settings: dict | None = None) -> ChatSession:
        now = time.time()
        sid = self.conn.execute(
            "INSERT INTO chat_sessions(run, player, title, created, updated, settings) VALUES (?,?,?,?,?,?)",
            (run, player, title, now, now, json.dumps(settings or {})),
        ).lastrowid
        return self.session(sid)

    def session(self, session_id: int) -> ChatSession:
        sessions = self._sessions("WHERE s.id=?", (session_id,))
        if not sessions:
            raise StoreError(f"no chat session {session_id}")
        return sessions[0]

    def list_sessions(self, run: str | None = None) -> list[ChatSession]:
        """Sessions, most recently used first (optionally only those of one run)."""
        return self._sessions(*(("WHERE s.run=?", (run,)) if run is not None else ("", ())))

    def _sessions(self, where: str, args: tuple) -> list[ChatSession]:
        rows = self.conn.execute(
            f"SELECT {', '.join('s.' + c.strip() for c in _SESSION_COLS.split(','))}, {_SESSION_STATS} "
            f"FROM chat_sessions s {where} ORDER BY s.updated DESC, s.id DESC",
            args,
        ).fetchall()
        return [self._session(r) for r in rows]

    def rename(self, session_id: int, title: str) -> None:
        """Name the session (renaming is not using it: its place in the most-recent order stays)."""
        self._touch(session_id, used=False, title=title)

    def save_settings(self, session_id: int, settings: dict) -> None:
        self._touch(session_id, settings=json.dumps(settings))

    def set_pending(self, session_id: int, candidates: Iterable[Turn]) -> None:
        """Remember the candidates on offer for the next turn (cleared when a turn is added or undone)."""
        self._touch(session_id, pending=_turns_json(candidates))

    def delete_session(self, session_id: int) -> None:
        with self.store.transaction():
            self.conn.execute("DELETE FROM chat_turns WHERE session_id=?", (session_id,))
            self.conn.execute("DELETE FROM chat_sessions WHERE id=?", (session_id,))

    def _touch(self, session_id: int, used: bool = True, **fields) -> None:
        if used:
            fields["updated"] = time.time()
        sets = ", ".join(f"{k}=?" for k in fields)
        cur = self.conn.execute(f"UPDATE chat_sessions SET {sets} WHERE id=?", (*fields.values(), session_id))
        if cur.rowcount == 0:
            raise StoreError(f"no chat session {session_id}")

    # -- turns --------------------------------------------------------------------------------
    def turn(self, turn_id: int) -> ChatTurn:
        row = self.conn.execute(f"SELECT {_TURN_COLS} FROM chat_turns WHERE id=?", (turn_id,)).fetchone()
        if row is None:
            raise StoreError(f"no chat turn {turn_id}")
        return self._turn(row)

    def add_turn(self, session_id: int, speaker: str, text: str, source: str = "player", *,
                 candidates: Iterable[Turn] = (), chosen: int | None = None, parent_id: int | None = -1) -> ChatTurn:
        """:meth:`add` of ``Turn(speaker, text, source, candidates, chosen)``."""
        return self.add(session_id, Turn(speaker, text, source, tuple(candidates), chosen), parent_id=parent_id)

    def add(self, session_id: int, turn: Turn, *, parent_id: int | None = -1) -> ChatTurn:
        """Append ``turn`` after the session's current leaf (or after ``parent_id``) and make it the leaf.

        The turn's ``candidates`` (everything offered for it) and ``chosen`` (the index of the one taken) are
        kept with it.
        """
        if turn.source not in SOURCES:
            raise StoreError(f"turn source must be one of {', '.join(SOURCES)}, not {turn.source!r}")
        offered = len(turn.candidates)
        if turn.chosen is not None and not 0 <= turn.chosen < offered:
            raise StoreError(f"chosen candidate {turn.chosen} is not among the {offered} offered")
        with self.store.transaction():
            session = self.session(session_id)
            parent = session.leaf_id if parent_id == -1 else parent_id
            if parent is not None and self.turn(parent).session_id != session_id:
                raise StoreError(f"turn {parent} is not in chat session {session_id}")
            tid = self.conn.execute(
                "INSERT INTO chat_turns(session_id, parent_id, speaker, text, source, chosen, candidates, created)"
                " VALUES (?,?,?,?,?,?,?,?)",
                (session_id, parent, turn.speaker, turn.text, turn.source, turn.chosen,
                 _turns_json(turn.candidates), time.time()),
            ).lastrowid
            self._touch(session_id, leaf_id=tid, pending="[]")
        return self.turn(tid)

    def undo(self, session_id: int) -> ChatTurn | None:
        """Step back one turn (the undone turn stays as a branch). Returns the new leaf, None at the start."""
        with self.store.transaction():
            leaf = self.session(session_id).leaf_id
            if leaf is None:
                return None
            parent = self.turn(leaf).parent_id
            self._touch(session_id, leaf_id=parent, pending="[]")
        return None if parent is None else self.turn(parent)

    def set_leaf(self, session_id: int, turn_id: int | None) -> None:
        """Move to another point of the tree (switch branch); ``None`` is the start."""
        if turn_id is not None and self.turn(turn_id).session_id != session_id:
            raise StoreError(f"turn {turn_id} is not in chat session {session_id}")
        self._touch(session_id, leaf_id=turn_id, pending="[]")

    def children(self, session_id: int, turn_id: int | None) -> list[ChatTurn]:
        """The branches after ``turn_id`` (None: the session's first turns), oldest first."""
        op = "IS" if turn_id is None else "="
        rows = self.conn.execute(
            f"SELECT {_TURN_COLS} FROM chat_turns WHERE session_id=? AND parent_id {op} ? ORDER BY id",
            (session_id, turn_id),
        ).fetchall()
        return [self._turn(r) for r in rows]

    def newest_leaf(self, session_id: int, turn_id: int) -> ChatTurn:
        """The end of the newest line after ``turn_id``: its most recently added child, then that one's, and
        so on (``turn_id`` itself when nothing follows it)."""
        turn = self.turn(turn_id)
        if turn.session_id != session_id:
            raise StoreError(f"turn {turn_id} is not in chat session {session_id}")
        while row := self.conn.execute(
            f"SELECT {_TURN_COLS} FROM chat_turns WHERE session_id=? AND parent_id=? ORDER BY id DESC LIMIT 1",
            (session_id, turn.id),
        ).fetchone():
            turn = self._turn(row)
        return turn

    def fork(self, session_id: int, leaf_id: int | None = -1, *, path: list[ChatTurn] | None = None) -> Fork | None:
        """Where the path to ``leaf_id`` (default: the current leaf) last split; None when it never did.

        ``path``: that path, when the caller has just read it.
        """
        path = self.path(session_id, leaf_id) if path is None else path
        counts = dict(self.conn.execute(
            "SELECT parent_id, count(*) FROM chat_turns WHERE session_id=? GROUP BY parent_id", (session_id,)))
        for depth in range(len(path) - 1, -1, -1):
            turn = path[depth]
            if counts.get(turn.parent_id, 0) > 1:
                branches = tuple(self.children(session_id, turn.parent_id))
                return Fork(depth, [b.id for b in branches].index(turn.id), branches)
        return None

    def switch_branch(self, session_id: int, step: int) -> ChatTurn | None:
        """Take the branch ``step`` places after (negative: before) the one the path goes through where it last
        split, and follow it to its newest turn, which becomes the leaf (pending candidates are cleared).

        Returns the new leaf; None, with nothing changed, when the path never split or there is no such branch.
        """
        with self.store.transaction():
            fork = self.fork(session_id)
            if fork is None or not 0 <= fork.index + step < fork.count:
                return None
            leaf = self.newest_leaf(session_id, fork.branches[fork.index + step].id)
            self.set_leaf(session_id, leaf.id)
        return leaf

    def path(self, session_id: int, leaf_id: int | None = -1) -> list[ChatTurn]:
        """Turns from the first to ``leaf_id`` (default: the session's current leaf), oldest first."""
        if leaf_id == -1:
            leaf_id = self.session(session_id).leaf_id
        if leaf_id is None:
            return []
        rows = self.conn.execute(
            f"""
            WITH RECURSIVE up(id, depth) AS (
                SELECT id, 0 FROM chat_turns WHERE id=? AND session_id=?
                UNION ALL
                SELECT t.parent_id, up.depth + 1 FROM chat_turns t JOIN up ON t.id = up.id
                WHERE t.parent_id IS NOT NULL
            )
            SELECT {', '.join('t.' + c.strip() for c in _TURN_COLS.split(','))}
            FROM up JOIN chat_turns t ON t.id = up.id ORDER BY up.depth DESC
            """,
            (leaf_id, session_id),
        ).fetchall()
        return [self._turn(r) for r in rows]

    def history(self, session_id: int) -> list[Turn]:
        """The current path as plain turns (who said what): what the sampler takes."""
        return [Turn(t.speaker, t.text) for t in self.path(session_id)]

    # -- export -------------------------------------------------------------------------------
    def export_text(self, session_id: int) -> str:
        """The current path as a plain transcript: ``Name: text``, continuation lines indented."""
        s = self.session(session_id)
        head = f"# {inert(s.title or f'Chat {s.id}')} — {inert(s.run)}, playing {inert(s.player)}, {_date(s.created)}"
        return "\n".join([head, "", *transcript(self.path(session_id))]) + "\n"

    def export_markdown(self, session_id: int) -> str:
        """The current path as Markdown; message text is escaped so it renders as the characters typed."""
        s = self.session(session_id)
        return "\n".join([f"# {md_escape(s.title or f'Chat {s.id}')}", "",
                          f"*Model run {md_escape(s.run)}, {md_escape(s.player)} played by you, started "
                          f"{_date(s.created)}*", "", *transcript(self.path(session_id), markdown=True)])


def _date(ts: float) -> str:
    return datetime.fromtimestamp(ts).strftime("%Y-%m-%d %H:%M")
