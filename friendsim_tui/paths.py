"""Where things live on disk.

Precedence for the data directory: ``--data-dir`` (set via :func:`set_data_dir`), then the
``FRIENDSIM_HOME`` environment variable, then the platform's user data directory.
Everything we create is private: folders 0700, files 0600.
"""

from __future__ import annotations

import errno
import os
import re
import unicodedata
from pathlib import Path

APP_NAME = "friendsim-tui"
_override: Path | None = None

_ASCII_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 _.\-]{0,63}$")
NAME_MAX = 64
_WINDOWS_DEVICES = {"CON", "PRN", "AUX", "NUL", *(f"{d}{i}" for d in ("COM", "LPT") for i in range(1, 10))}
_NAME_CHARACTERS = "letters, digits, emoji, spaces, '_', '-' or '.'"


class WorkspaceNameError(ValueError):
    pass


def set_data_dir(path: str | os.PathLike | None) -> None:
    global _override
    _override = Path(path).expanduser().resolve() if path else None


def data_dir() -> Path:
    if _override is not None:
        return _override
    env = os.environ.get("FRIENDSIM_HOME")
    if env:
        return Path(env).expanduser().resolve()
    import platformdirs

    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))


def config_file() -> Path:
    env = os.environ.get("FRIENDSIM_HOME")
    if _override is None and not env:
        import platformdirs

        return Path(platformdirs.user_config_dir(APP_NAME, appauthor=False)) / "config.toml"
    return data_dir() / "config.toml"


def workspaces_dir() -> Path:
    return data_dir() / "workspaces"


def _name_character(c: str) -> bool:
    """Letters and digits of any script (with their combining marks), emoji (with their joiners and skin
    tones), spaces, '_', '-' and '.': nothing a file system of Linux, macOS or Windows refuses or reads
    as a path, no control or layout character."""
    kind = unicodedata.category(c)
    return c in " _-." or kind[0] in "LMN" or kind == "So" or c == "\u200d" or "\U0001f3fb" <= c <= "\U0001f3ff"


def check_workspace_name(name: str) -> str:
    """``name`` in the form it is stored in (Unicode NFC), when it can name a workspace folder on Linux,
    macOS and Windows; else WorkspaceNameError saying exactly what is wrong."""
    name = unicodedata.normalize("NFC", name or "")

    def refuse(why: str) -> WorkspaceNameError:
        return WorkspaceNameError(f"invalid workspace name {name!r}: {why}")

    if not name:
        raise refuse("a workspace needs a name")
    odd = "".join(dict.fromkeys(c for c in name if not _name_character(c)))
    if odd:
        raise refuse(f"{' '.join(repr(c) for c in odd)} cannot be in it; use {_NAME_CHARACTERS}")
    if len(name) > NAME_MAX or len(name.encode()) > 255:
        raise refuse(f"at most {NAME_MAX} characters")
    if unicodedata.category(name[0])[0] not in "LN" and unicodedata.category(name[0]) != "So":
        raise refuse("start it with a letter, a digit or an emoji")
    if name[-1] in " .":
        raise refuse("it cannot end with a space or '.' (Windows drops them)")
    if ".." in name:
        raise refuse("'..' cannot be in it")
    if name.split(".")[0].rstrip().upper() in _WINDOWS_DEVICES:
        raise refuse("Windows keeps that name for a device (CON, NUL, COM1…); pick another")
    return name


def check_ascii_name(name: str) -> str:
    """The stricter rule for run names: 1-64 ASCII letters, digits, spaces, '_', '-' or '.', starting with a
    letter or digit (see runs.check_run_name for why); WorkspaceNameError otherwise."""
    if not _ASCII_NAME.match(name or "") or name.strip(". ") != name or ".." in name:
        raise WorkspaceNameError(f"invalid name {name!r}: use 1-64 ASCII letters, digits, spaces, '_', '-' or '.', "
                                 "starting with a letter or digit")
    return name


def workspace_dir(name: str) -> Path:
    return workspaces_dir() / check_workspace_name(name)


def private_dir(path: Path) -> Path:
    """Create ``path`` and its missing parents, each with mode 0700.

    A folder that already exists is left as it is: it may be someone else's (``--data-dir /srv/shared``, a
    sticky 1777 folder), and changing its mode could lock other people out.
    """
    path = Path(path)
    missing: list[Path] = []
    folder = path
    while not folder.exists() and folder != folder.parent:
        missing.append(folder)
        folder = folder.parent
    for folder in reversed(missing):
        try:
            folder.mkdir(mode=0o700)
        except FileExistsError:  # made by someone else meanwhile: not ours to change
            continue
        try:
            os.chmod(folder, 0o700)  # mkdir's mode is narrowed by the umask; make it exactly owner-only
        except OSError:
            pass
    if not path.is_dir():
        raise FileExistsError(errno.EEXIST, "exists and is not a folder", str(path))
    return path


def private_file(path: Path) -> Path:
    """Ensure an existing file is readable by its owner only."""
    try:
        os.chmod(path, 0o600)
    except OSError:
        pass
    return path


def open_private(path: Path, mode: str = "w", **kwargs):
    """Open a file for writing, created with mode 0600 from the start (no window where it is world-readable)."""
    flags = os.O_WRONLY | os.O_CREAT
    flags |= os.O_APPEND if "a" in mode else os.O_TRUNC
    fd = os.open(path, flags, 0o600)
    return os.fdopen(fd, mode, **kwargs)


def logs_dir() -> Path:
    return data_dir() / "logs"
