"""Showing untrusted text (imported names, messages, file names) safely in the app.

Nothing here parses markup. Control characters become visible symbols (the rule is
friendsim_tui.safe_text's, shared with the command line) so an ANSI/OSC escape or a carriage return
inside a message shows as inert characters instead of reaching the terminal.
"""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

from rich.cells import cell_len
from rich.text import Text
from textual.content import Content

from friendsim_tui.safe_text import inert

__all__ = [
    "inert", "inert_content", "inert_text", "display_path", "fmt_date", "fmt_range", "plural", "share_bar",
    "format_bytes", "format_count", "format_lr",
]


def inert_content(text: str, style: str = "", limit: int | None = None) -> Content:
    """Untrusted text as Textual Content: never parsed as markup."""
    content = Content(inert(text, limit))
    return content.stylize(style) if style else content


def inert_text(text: str, style: str = "", limit: int | None = None, justify=None) -> Text:
    """Untrusted text as a Rich Text (for widgets such as DataTable that take Rich renderables)."""
    return Text(inert(text, limit), style=style, justify=justify, end="")


def cut_middle(text: Text, width: int) -> Text:
    """``text`` in at most ``width`` cells, cut in the middle: ``Friends - Te…export.json`` keeps both the
    start and the end (the extension) of a long name, so two names that differ late still look different."""
    if text.cell_len <= width or width < 3:
        return text
    keep = width - 1  # the ellipsis takes one cell
    head_cells = keep - keep // 2
    head = tail = 0
    used = 0
    for ch in text.plain:  # characters from the front that fit in head_cells
        if used + cell_len(ch) > head_cells:
            break
        used += cell_len(ch)
        head += 1
    left = keep - used
    used = 0
    for ch in reversed(text.plain):
        if used + cell_len(ch) > left:
            break
        used += cell_len(ch)
        tail += 1
    return Text.assemble(text[:head], "…", text[len(text) - tail:]) if tail else Text.assemble(text[:head], "…")


def display_path(path: str | Path) -> str:
    """A path for the screen: ``~/...`` under the home folder, else as given. Made inert."""
    p = Path(path)
    try:
        rel = p.expanduser().resolve().relative_to(Path.home().resolve())
    except (ValueError, OSError, RuntimeError):
        return inert(str(p))
    return inert("~" if str(rel) == "." else f"~/{rel}")


def fmt_date(ts: float) -> str:
    return datetime.fromtimestamp(ts, tz=timezone.utc).strftime("%Y-%m-%d")


def fmt_range(date_range: tuple[float, float] | None) -> str:
    if not date_range:
        return "no dates"
    first, last = (fmt_date(t) for t in date_range)
    return first if first == last else f"{first} → {last}"


def plural(n: int, word: str, many: str | None = None) -> str:
    return f"{n:,} {word if n == 1 else (many or word + 's')}"


def share_bar(value: int, largest: int, width: int = 16) -> str:
    """A bar of full and partial blocks, ``width`` cells for the largest value."""
    if largest <= 0 or value <= 0:
        return ""
    eighths = max(1, round(8 * width * value / largest))
    full, part = divmod(eighths, 8)
    return "█" * full + (" ▏▎▍▌▋▊▉"[part] if part else "")


def format_bytes(n: float | None) -> str:
    if n is None:
        return "—"
    units = ("B", "KB", "MB", "GB", "TB")
    i = 0
    while abs(n) >= 1024 and i < len(units) - 1:
        n /= 1024
        i += 1
    if i < 2:
        return f"{n:.0f} {units[i]}"
    return f"{n:.1f} {units[i]}" if abs(n) < 100 else f"{n:.0f} {units[i]}"


def format_count(n: float | None) -> str:
    """Compact counts: 950, 12.3k, 4.56M, 1.2B."""
    if n is None:
        return "—"
    for limit, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "k")):
        if abs(n) >= limit:
            v = n / limit
            return f"{v:.3g}{suffix}"
    return f"{n:.0f}"


def format_lr(lr: float | None) -> str:
    if lr is None:
        return "—"
    return "0" if lr == 0 else f"{lr:.1e}".replace("e-0", "e-").replace("e+0", "e")
