"""What a person sees when something unforeseen goes wrong: one line, never a traceback.

The command line (``cli.main``) and the app (``FriendSimApp``) both hand the exception here: its traceback
goes to a private log file on this machine (``<data dir>/logs/crash-*.log``, 0600; the system's temp
folder if that cannot be written), and the line names the file. A traceback can hold the user's messages,
so it never goes to the screen or anywhere else.
"""

from __future__ import annotations

import os
import tempfile
import time
import traceback
from pathlib import Path

from friendsim_tui import paths
from friendsim_tui.safe_text import inert


def write_log(text: str) -> Path | None:
    """Save ``text`` in a new private crash log and return its path (None if even that fails)."""
    name = f"crash-{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}.log"
    for folder in (paths.logs_dir, lambda: Path(tempfile.gettempdir())):
        try:
            path = paths.private_dir(folder()) / name
            with paths.open_private(path, "w", encoding="utf-8") as f:
                f.write(text)
            return path
        except OSError:
            continue
    return None


def report(error: BaseException | None) -> str:
    """Log ``error`` with its traceback; the one line to show for it (inert: it may quote the user's data)."""
    if error is None:
        log = write_log("an unexpected error, with no exception recorded\n")
        what = "no details"
    else:
        log = write_log("".join(traceback.format_exception(error)))
        detail = (str(error).strip().splitlines() or [""])[0][:200]
        what = "out of memory" if isinstance(error, MemoryError) else \
            f"{type(error).__name__}: {detail}" if detail else type(error).__name__
    where = f"; the details are in {log}" if log else ""
    return inert(f"friendsim-tui: unexpected error ({what}){where}")
