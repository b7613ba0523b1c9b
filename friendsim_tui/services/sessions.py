"""Chat sessions for the app and the command line: one writer thread that applies the chat's changes in
order, export files, and the session list (list, rename, delete).

The chat screen never touches SQLite on the event loop: it hands each change to a :class:`SessionWriter`
as a job ``job(chat_store)``; one thread with its own connection runs the jobs one after another, so a
pick, an undo and the next pick reach the database in the order they were made.
"""

from __future__ import annotations

import os
import queue
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

if TYPE_CHECKING:  # pragma: no cover
    from friendsim_tui.store.chats import ChatSession


class SessionWriter:
    """A queue of jobs ``job(chat_store)`` run one after another by one thread with its own connection."""

    def __init__(self, workspace: str, on_error: Callable[[str], None]) -> None:
        self.workspace = workspace
        self.on_error = on_error
        self._jobs: queue.Queue = queue.Queue()

    def put(self, job: Callable[[Any], None]) -> None:
        self._jobs.put(job)

    def close(self) -> None:
        self._jobs.put(None)

    def run(self) -> None:
        """The thread's loop; returns after :meth:`close` once every earlier job has run."""
        from friendsim_tui.store import Store
        from friendsim_tui.store.chats import ChatStore

        try:
            store = Store.for_workspace(self.workspace)
        except Exception as exc:
            self.on_error(f"cannot open workspace {self.workspace}: {exc}")
            return
        chats = ChatStore(store)
        try:
            while (job := self._jobs.get()) is not None:
                try:
                    job(chats)
                except Exception as exc:  # one failed write must not stop the later ones
                    self.on_error(f"could not save the chat: {exc}")
        finally:
            store.close()


def export_path(workspace: str, stem: str, ext: str) -> Path:
    """A new file under the workspace's private ``exports`` folder."""
    from friendsim_tui import paths

    folder = paths.private_dir(paths.workspace_dir(workspace) / "exports")
    return folder / f"{stem}-{datetime.now().strftime('%Y%m%d-%H%M%S')}.{ext}"


def write_private(path: Path, text: str) -> None:
    """Write ``text`` to a new file readable by its owner only (0600)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(text)


# -- the session list: the app's Sessions screen and `friendsim-tui sessions` -------------------------------


def list_sessions(workspace: str) -> list[ChatSession]:
    """The workspace's chat sessions, most recently used first. StoreError when it cannot be read."""
    from friendsim_tui.store import Store
    from friendsim_tui.store.chats import ChatStore

    with Store.for_workspace(workspace) as store:
        return ChatStore(store).list_sessions()


def rename_session(workspace: str, session_id: int, title: str) -> None:
    from friendsim_tui.store import Store
    from friendsim_tui.store.chats import ChatStore

    with Store.for_workspace(workspace) as store:
        ChatStore(store).rename(session_id, title.strip())


def delete_session(workspace: str, session_id: int) -> None:
    """Delete the session and every turn of it (all branches)."""
    from friendsim_tui.store import Store
    from friendsim_tui.store.chats import ChatStore

    with Store.for_workspace(workspace) as store:
        chats = ChatStore(store)
        chats.session(session_id)  # StoreError "no chat session N" when there is none
        chats.delete_session(session_id)


def session_name(session: ChatSession, limit: int = 40) -> str:
    """What a session is called: its title, else its first line in quotes, else "new session" (plain text,
    untrusted: show it inert)."""
    if session.title.strip():
        return session.title.strip()
    opening = " ".join(session.opening.split())
    if not opening:
        return "new session"
    return f"“{opening if len(opening) <= limit else opening[:limit - 1] + '…'}”"


def session_json(session: ChatSession) -> dict:
    return {"id": session.id, "title": session.title, "name": session_name(session), "run": session.run,
            "player": session.player, "turns": session.turns, "branches": session.branches,
            "created": session.created, "last_used": session.updated}
