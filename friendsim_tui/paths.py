"""Where things live on disk.

Precedence for the data directory: ``--data-dir`` (set via :func:`set_data_dir`), then the
``FRIENDSIM_HOME`` environment variable, then the platform's user data directory.
Everything we create is private: folders 0700, files 0600.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

APP_NAME = "friendsim-tui"
_override: Path | None = None

_WORKSPACE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 _.\-]{0,63}$")


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


def check_workspace_name(name: str) -> str:
    if not _WORKSPACE_NAME.match(name or "") or name.strip(". ") != name or ".." in name:
        raise WorkspaceNameError(
            f"invalid workspace name {name!r}: use 1-64 letters, digits, spaces, '_', '-' or '.', "
            "starting with a letter or digit"
        )
    return name


def workspace_dir(name: str) -> Path:
    return workspaces_dir() / check_workspace_name(name)


def private_dir(path: Path) -> Path:
    """Create ``path`` (and parents we own) with mode 0700; tighten it if it exists."""
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    try:
        os.chmod(path, 0o700)
    except OSError:
        pass
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
