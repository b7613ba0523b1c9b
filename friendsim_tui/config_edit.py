"""Writing the ``[chat]`` table of the user's settings file, and nothing else of it.

The app's "save as default" changes the sampling settings new chats start from. The file is the person's:
every other table, every comment and blank line, and the way each untouched line is written stay exactly
as they were. Inside ``[chat]``, a key's value is replaced in place (its comment kept), keys not there yet
are added after the table's last key, and a missing table is added at the end.

A file this cannot edit safely is refused with one line (ConfigError) and left alone: one that is not
valid TOML, or whose ``chat`` settings are written as dotted keys (``chat.temperature = 1``) or as an
inline table (``chat = {...}``). The result is checked with the same loader the app starts with before it
replaces the file (written to a temporary file, then renamed over it; 0600 when new).
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from pathlib import Path

from friendsim_tui.config import ChatConfig, ConfigError, parse_config

try:
    import tomllib
except ModuleNotFoundError:  # pragma: no cover - Python 3.10
    import tomli as tomllib

_HEADER = re.compile(r"^\s*\[\s*([^\[\]]+?)\s*\]\s*(#.*)?$")
_ANY_HEADER = re.compile(r"^\s*\[")
_KEY = re.compile(r"^(\s*)([A-Za-z0-9_-]+)(\s*=\s*)(.*?)(\s*#.*)?$")


def _toml_value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value)  # 0.4, 1.0, 1e-05: all valid TOML floats
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)  # a TOML basic string
    return str(value)


def chat_table_text(settings: dict, text: str) -> str:
    """``text`` (a settings file's content) with ``settings`` ({key: value}) in its ``[chat]`` table."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"not valid TOML ({exc}): fix it by hand first") from None
    values = {name: _toml_value(value) for name, value in settings.items()}
    lines = text.splitlines(keepends=True)
    start = next((i for i, line in enumerate(lines) if (m := _HEADER.match(line)) and m.group(1) == "chat"), None)
    if start is None:
        if "chat" in data:
            raise ConfigError("its chat settings are written as dotted keys or an inline table; "
                              "change them there by hand")
        head = "".join(lines)
        if head and not head.endswith("\n"):
            head += "\n"
        table = "[chat]\n" + "".join(f"{k} = {v}\n" for k, v in values.items())
        return head + ("\n" if head.strip() else "") + table
    end = next((i for i in range(start + 1, len(lines)) if _ANY_HEADER.match(lines[i])), len(lines))
    body = lines[start + 1:end]
    left = dict(values)
    last_key = -1
    for i, line in enumerate(body):
        m = _KEY.match(line.rstrip("\r\n"))
        if not m:
            continue
        last_key = i
        name = m.group(2)
        if name in left:
            newline = line[len(line.rstrip("\r\n")):]
            body[i] = f"{m.group(1)}{name}{m.group(3)}{left.pop(name)}{m.group(5) or ''}{newline or chr(10)}"
    added = [f"{k} = {v}\n" for k, v in left.items()]
    if added and last_key >= 0 and not body[last_key].endswith("\n"):
        body[last_key] += "\n"
    body[last_key + 1:last_key + 1] = added
    if end < len(lines) and body and not body[-1].endswith("\n"):
        body[-1] += "\n"
    return "".join(lines[:start + 1]) + "".join(body) + "".join(lines[end:])


def save_chat_defaults(settings: dict, path: Path) -> ChatConfig:
    """Write ``settings`` ({ChatConfig field: value}) into the ``[chat]`` table of the settings file at
    ``path`` (created when missing); other keys of the table stay. Returns the file's chat settings now.
    ConfigError, with the file unchanged, when it cannot be done safely."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8") if path.exists() else ""
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read: {exc}") from None
    try:
        new = chat_table_text(settings, text)
    except ConfigError as exc:
        raise ConfigError(f"{path}: {exc}") from None
    chat = parse_config(new, str(path)).chat  # what the app will start with (ConfigError if it would not)
    if any(getattr(chat, name) != value for name, value in settings.items()):
        raise ConfigError(f"{path}: the [chat] table could not be written as meant; change it by hand")
    from friendsim_tui import paths

    try:
        paths.private_dir(path.parent)
        mode = path.stat().st_mode & 0o777 if path.exists() else 0o600
        fd, tmp = tempfile.mkstemp(prefix=".config-", suffix=".toml", dir=path.parent)
    except OSError as exc:
        raise ConfigError(f"{path}: cannot write: {exc}") from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            fh.write(new)
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except OSError as exc:
        _remove(tmp)
        raise ConfigError(f"{path}: cannot write: {exc}") from None
    except BaseException:
        _remove(tmp)
        raise
    return chat


def _remove(path: str) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass
