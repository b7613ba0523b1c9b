"""A line chart of the training loss, drawn in braille dots, with eval points marked, and under it the trend of
speaker attribution: at each eval, a bar as tall as the share of held-out lines the model put in the right
friend's voice (0 to 100%, the latest share as its label).

Hand-written and line-rendered (``render`` returns one Content): no plotting dependency, and it
redraws in well under a millisecond however long the run, because the points are bucketed into the
columns the widget has.
"""

from __future__ import annotations

from typing import Sequence

from textual.content import Content
from textual.widget import Widget

# Braille dot bits by (x in the cell 0-1, y in the cell 0-3 from the top).
_DOTS = ((0x01, 0x02, 0x04, 0x40), (0x08, 0x10, 0x20, 0x80))
_EVAL_MARK = "●"
_LEVELS = "▁▂▃▄▅▆▇█"
APART_MARK = "▇"
"""How the attribution trend is named in the chart's title."""


def _label(value: float, span: float) -> str:
    if span >= 10:
        return f"{value:.0f}"
    if span >= 1:
        return f"{value:.1f}"
    if span >= 0.1:
        return f"{value:.2f}"
    return f"{value:.3g}"


def _bucket_means(xs: Sequence[int], ys: Sequence[float], x0: float, x1: float, width: int) -> dict[int, float]:
    """Mean of the y values that fall in each of ``width`` columns spanning [x0, x1]."""
    sums: dict[int, list[float]] = {}
    scale = (width - 1) / (x1 - x0) if x1 > x0 else 0.0
    for x, y in zip(xs, ys):
        col = round((x - x0) * scale)
        acc = sums.setdefault(col, [0.0, 0])
        acc[0] += y
        acc[1] += 1
    return {col: total / n for col, (total, n) in sums.items()}


def render_chart(
    steps: Sequence[int],
    losses: Sequence[float],
    evals: Sequence[tuple[int, float]],
    width: int,
    height: int,
    apart: Sequence[tuple[int, float]] = (),
) -> list[list[tuple[str, str]]]:
    """The chart as rows of (text, role) pieces; roles: "axis", "train", "eval", "apart", "" (plain).

    Rows ``0..height-2`` are the plot with y labels, then the x axis; with ``apart`` ((step, share 0-1) at each
    eval), the plot gives its last row to the attribution strip under the axis. Pure, for tests.
    """
    rows = height - 1 - (1 if apart else 0)
    values = list(losses) + [v for _, v in evals]
    if rows < 1 or width < 8 or not values:
        return []
    lo, hi = min(values), max(values)
    if hi - lo < 1e-9:
        lo, hi = lo - 0.5, hi + 0.5
    span = hi - lo
    count = max(2, min(6, rows // 5 + 1))  # a y label about every five rows
    positions = {round(k * (rows - 1) / (count - 1)) for k in range(count)} if rows > 1 else {0}
    labels = {r: _label(hi - span * r / max(1, rows - 1), span) for r in positions}
    apart_label = f"{apart[-1][1] * 100:.0f}%" if apart else ""
    label_w = max(len(apart_label), *(len(s) for s in labels.values()))
    plot_w = width - label_w - 1
    if plot_w < 2:
        return []
    all_x = list(steps) + [s for s, _ in evals] + [s for s, _ in apart]
    x0, x1 = min(all_x), max(all_x)
    x_dots, y_dots = plot_w * 2, rows * 4

    def y_dot(value: float) -> int:
        return round((value - lo) / span * (y_dots - 1))

    grid = [[0] * plot_w for _ in range(rows)]

    def dot(x: int, y: int) -> None:
        row = rows - 1 - y // 4
        grid[row][x // 2] |= _DOTS[x % 2][3 - y % 4]

    columns = sorted(_bucket_means(steps, losses, x0, x1, x_dots).items())
    prev: tuple[int, int] | None = None
    for x, value in columns:
        y = y_dot(value)
        if prev is None:
            dot(x, y)
        else:
            px, py = prev
            for xi in range(px + 1, x + 1):  # a connected line: interpolate, fill the vertical gap
                yi = round(py + (y - py) * (xi - px) / (x - px))
                y_from = round(py + (y - py) * (xi - 1 - px) / (x - px))
                for yy in range(min(yi, y_from), max(yi, y_from) + 1):
                    dot(xi, yy)
        prev = (x, y)

    marks: dict[tuple[int, int], bool] = {}
    scale = (x_dots - 1) / (x1 - x0) if x1 > x0 else 0.0
    for s, v in evals:
        marks[(rows - 1 - y_dot(v) // 4, round((s - x0) * scale) // 2)] = True

    out: list[list[tuple[str, str]]] = []
    for r in range(rows):
        label = labels.get(r, "")
        line: list[tuple[str, str]] = [(label.rjust(label_w) + ("┤" if label else "│"), "axis")]
        run, run_role = [], "train"
        for c in range(plot_w):
            ch, role = (_EVAL_MARK, "eval") if (r, c) in marks else (chr(0x2800 + grid[r][c]) if grid[r][c] else " ", "train")
            if role != run_role and run:
                line.append(("".join(run), run_role))
                run = []
            run_role = role
            run.append(ch)
        if run:
            line.append(("".join(run), run_role))
        out.append(line)
    first, last = f" {x0} ", f" step {x1} "
    axis = "└" + "─" * plot_w
    if plot_w > len(first) + len(last) + 2:
        axis = "└─" + first + "─" * (plot_w - 2 - len(first) - len(last)) + last + "─"
    out.append([(" " * label_w + axis, "axis")])
    if apart:
        bars = [" "] * plot_w
        for s, share in apart:
            eighths = round(min(max(share, 0.0), 1.0) * 8)  # a block as tall as the share; the lowest for 0
            bars[min(plot_w - 1, round((s - x0) * scale) // 2)] = _LEVELS[max(0, eighths - 1)]
        out.append([(apart_label.rjust(label_w) + " ", "apart"), ("".join(bars), "apart")])
    return out


class LossChart(Widget):
    """Train loss as a braille line, eval loss as marks; y labels on the left, steps along the bottom."""

    COMPONENT_CLASSES = {"loss-chart--axis", "loss-chart--train", "loss-chart--eval", "loss-chart--apart"}

    DEFAULT_CSS = """
    LossChart {
        width: 1fr;
        height: 1fr;
        min-height: 6;
        border: round $primary 60%;
        border-title-color: $text;
        border-subtitle-color: $text-muted;
        padding: 0 1;
    }
    LossChart > .loss-chart--axis { color: $text-muted; }
    LossChart > .loss-chart--train { color: $accent; }
    LossChart > .loss-chart--eval { color: $warning; text-style: bold; }
    LossChart > .loss-chart--apart { color: $success; }
    """

    def __init__(self, *, name: str | None = None, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self.border_title = "Loss"
        self._steps: list[int] = []
        self._losses: list[float] = []
        self._evals: list[tuple[int, float]] = []
        self._apart: list[tuple[int, float]] = []

    def set_data(self, steps: Sequence[int], losses: Sequence[float], evals: Sequence[tuple[int, float]],
                 apart: Sequence[tuple[int, float]] = ()) -> None:
        """``apart``: (step, share of held-out lines put in the right friend's voice) at each eval."""
        self._steps, self._losses, self._evals, self._apart = list(steps), list(losses), list(evals), list(apart)
        self.border_title = Content.assemble("Loss · ", (APART_MARK, "$success"), " told apart") if self._apart \
            else "Loss"
        parts: list[str | tuple[str, str]] = []
        if self._losses:
            parts.append(f"train {self._losses[-1]:.3f}")
        if self._evals:
            parts += ["  ", (_EVAL_MARK, "$warning"), f" eval {self._evals[-1][1]:.3f}"]
        self.border_subtitle = Content.assemble(*parts) if parts else ""
        self.refresh()

    def render(self) -> Content:
        width, height = self.content_size
        rows = render_chart(self._steps, self._losses, self._evals, width, height, self._apart)
        if not rows:
            return Content.styled("waiting for the first steps…", "$text-muted")
        styles = {
            role: self.get_visual_style(f"loss-chart--{role}", partial=True)
            for role in ("axis", "train", "eval", "apart")
        }
        lines = []
        for row in rows:
            lines.append(Content.assemble(*((text, styles[role]) if role else text for text, role in row)))
        return Content("\n").join(lines)
