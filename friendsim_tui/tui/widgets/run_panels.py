"""The training dashboard's panels: run header, progress line, device panel and latest samples.

Each panel is fed a :class:`~friendsim_tui.tui.run_state.RunState` through ``show(state)``. Text that comes
from the run (speaker names, sampled lines, error messages, even the device name) goes through
``inert_content``: never parsed as markup, control characters made visible.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.content import Content
from textual.widget import Widget
from textual.widgets import Sparkline, Static

from friendsim_tui.runs import StartEvent
from friendsim_tui.config import format_duration
from friendsim_tui.tui.run_state import DONE, FAILED, RUNNING, STOPPED, RunState, as_number
from friendsim_tui.tui.text import format_bytes, format_count, format_lr, inert, inert_content


def device_info(start: StartEvent) -> tuple[str, str, int | None]:
    """(name, kind, threads) from a start event."""
    name = str(start.get("device") or "unknown device")
    kind = str(start.get("device_kind") or "cpu")
    threads = start.get("threads")
    return name, kind.lower(), int(threads) if as_number(threads) else None


def describe_training(start: StartEvent) -> str:
    """"base gpt2 (124M) · full fine-tune · bf16 autocast on CPU" from a start event."""
    base = str(start.get("base") or "?")
    params = as_number(start.get("params"))
    parts = [f"base {base}" + (f" ({format_count(params)})" if params else "")]
    if start.get("lora"):
        r = start.get("lora_r")
        parts.append(f"LoRA r={r}" if r else "LoRA")
    else:
        parts.append("full fine-tune")
    _name, kind, _threads = device_info(start)
    precision = str(start.get("precision") or "")
    where = {"cuda": "GPU", "mps": "MPS", "cpu": "CPU"}.get(kind, kind.upper())
    if precision in ("bf16", "fp16"):
        parts.append(f"{precision} autocast on {where}")
    elif precision:
        parts.append(f"{precision} on {where}")
    else:
        parts.append(f"on {where}")
    return " · ".join(parts)


def status_content(state: RunState, process_error: str | None = None, log_line: str | None = None) -> Content:
    """One line: where the run stands, and what the user can do about it.

    ``log_line`` is the train process's latest output while it starts up (loading a base, packing data).
    """
    starting = ("  " + inert(log_line, limit=200), "$text-muted") if log_line else ""
    if state.resuming:
        return Content.assemble(("◷ resuming from the newest checkpoint…", "bold $warning"), starting)
    if state.status == FAILED or process_error:
        message = state.error or process_error or "training failed"
        return Content.assemble(("✗ failed", "bold $error"), "  ", inert_content(message, limit=400))
    if state.status == DONE:
        extra = ""
        path = state.end.get("model") or state.end.get("path")
        if path:
            extra = f"  model saved in {inert(str(path))}"
        ended = ended_text(state)
        return Content.assemble(("✓ done", "bold $success"), f"  step {state.step:,}", *best_parts(state),
                                *([(ended, "$text-muted")] if ended else []), extra)
    if state.status == STOPPED:
        saved = state.checkpoints[-1][0] if state.checkpoints else state.step
        return Content.assemble(
            ("■ stopped", "bold $warning"), f"  saved at step {saved:,} · r resumes it"
        )
    if state.status == RUNNING:
        if state.stop_requested:
            return Content.assemble(("◷ stopping", "bold $warning"), "  saving a checkpoint, then exiting…")
        ckpt = f"  last checkpoint step {state.checkpoints[-1][0]:,}" if state.checkpoints else ""
        warning = ("  ⚠ " + inert(state.warning, limit=300), "$warning") if state.warning else ""
        return Content.assemble(("● running", "bold $success"), *best_parts(state), ckpt, warning)
    return Content.assemble(("◷ waiting for the run to start…", "$text-muted"), starting)


def best_parts(state: RunState) -> list:
    """"  best step 200 (eval 3.377)": the step whose weights the model gets (the lowest eval loss); nothing
    before the first eval."""
    if state.best is None:
        return []
    step, loss = state.best
    return ["  ", (f"best step {step:,}", "bold"), f" (eval {loss:.3f})"]


def ended_text(state: RunState) -> str:
    """Why a finished run ended before its planned steps: early stop, or its time budget."""
    reason = state.end.get("reason")
    if state.early_stop or reason == "early stop":
        evals = _number_text(state.early_stop.get("evals"))
        return f"  · stopped early: the eval loss had not improved for {evals} evals" if evals else \
            "  · stopped early: the eval loss had stopped improving"
    if reason == "time budget":
        return f"  · its time budget ({format_duration(state.time_budget, rough=True)}) ended it"
    return ""


def _number_text(value) -> str:
    number = as_number(value)
    return f"{number:.0f}" if number is not None else ""


class RunHeader(Static):
    """ Training <workspace> · base … · full fine-tune · bf16 autocast on CPU"""

    DEFAULT_CSS = """
    RunHeader {
        height: 1;
        padding: 0 1;
        background: $panel;
        text-style: bold;
        text-wrap: nowrap;
        text-overflow: ellipsis;
    }
    """

    def show(self, state: RunState, workspace: str, run: str) -> None:
        title = Content.assemble("Training ", inert_content(workspace), " · ", inert_content(run))
        detail = describe_training(state.start) if state.start else (
            "did not start" if state.finished else "waiting for the run to start")
        self.update(Content.assemble(title, (" · " + inert(detail), "not bold $text-muted")))


class RunProgress(Widget):
    """step 340/1200 ███████░░░░ 28%  epoch 0.9  lr 4.6e-5  2.4 s/step  ETA 41m"""

    DEFAULT_CSS = """
    RunProgress {
        height: 1;
        padding: 0 1;
    }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._state = RunState()

    def show(self, state: RunState) -> None:
        self._state = state
        self.refresh()

    def render(self) -> Content:
        s = self._state
        total = s.max_steps
        head = f"step {s.step:,}/{total:,} " if total else f"step {s.step:,} "
        epoch = as_number(s.last.get("epoch"))
        tail = [f"  epoch {epoch:.2f}" if epoch is not None else ""]
        lr = as_number(s.last.get("lr"))
        if lr is not None:
            tail.append(f"  lr {format_lr(lr)}")
        if s.seconds_per_step is not None:
            spp = s.seconds_per_step
            tail.append(f"  {spp:.2f} s/step" if spp < 10 else f"  {spp:.0f} s/step")
        budget = f" (budget {format_duration(s.time_budget, rough=True)})" if s.time_budget else ""
        if s.status == RUNNING:
            tail.append(f"  ETA {format_duration(s.eta_seconds, rough=True)}{budget}")
        elif s.last.get("elapsed") is not None:
            tail.append(f"  took {format_duration(as_number(s.last.get('elapsed')), rough=True)}{budget}")
        rest = "".join(tail)
        fraction = s.progress or 0.0
        pct = f" {fraction * 100:3.0f}%"
        bar_w = max(10, min(40, self.content_size.width - len(head) - len(pct) - len(rest)))
        filled = round(bar_w * fraction)
        return Content.assemble(
            (head, "bold"),
            ("█" * filled, "$accent"),
            ("░" * (bar_w - filled), "$text-muted"),
            pct,
            (rest, "$text-muted"),
        )


class RunStatus(Static):
    DEFAULT_CSS = """
    RunStatus {
        height: auto;
        max-height: 3;
        padding: 0 1;
    }
    """

    def show(self, state: RunState, process_error: str | None = None, log_line: str | None = None) -> None:
        self.update(status_content(state, process_error, log_line))


def device_lines(state: RunState) -> list[Content]:
    """The Device panel's text: the device by name, then memory as this kind of device reports it."""
    start, last = state.start, state.last
    if not start and not last:
        return [Content.styled("waiting for the run to start…", "$text-muted")]
    name, kind, threads = device_info(start)
    head = inert(name, limit=60)
    if kind == "cpu" and threads:
        head += f" · {threads} thread{'s' if threads != 1 else ''}"
    world = as_number(start.get("world_size"))
    if world and world > 1:
        head += f" · {world:.0f} processes"  # torchrun / accelerate launch: rank 0's readouts below
    lines = [Content.styled(head, "bold")]
    precision = start.get("precision")
    if precision:
        lines.append(Content.styled(f"precision {inert(str(precision))}", "$text-muted"))
    fmt = format_bytes
    alloc = as_number(last.get("cuda_allocated"))
    if alloc is not None:
        reserved = as_number(last.get("cuda_reserved"))
        peak = as_number(last.get("cuda_peak"))
        total = as_number(last.get("cuda_total"))
        lines.append(Content(f"allocated {fmt(alloc)}  reserved {fmt(reserved)}"))
        line = f"peak {fmt(peak)}" + (f" / {fmt(total)}" if total else "")
        util = as_number(last.get("gpu_util"))
        if util is not None:
            line += f"  util {util:.0f}%"
        lines.append(Content(line))
    rss = as_number(last.get("rss"))
    if rss is not None:
        lines.append(Content(f"process  {fmt(rss)}   peak {fmt(state.peak_rss)}"))
    used = as_number(last.get("system_used"))
    total = as_number(last.get("system_total"))
    if used is not None and total:
        lines.append(Content(f"system   {fmt(used)} / {fmt(total)}"))
    tokens, elapsed = as_number(last.get("tokens")), as_number(last.get("elapsed"))
    if tokens is not None:
        took = f" in {format_duration(elapsed, rough=True)}" if elapsed is not None else ""
        lines.append(Content.styled(f"trained on {format_count(tokens)} tokens{took}", "$text-muted"))
    return lines


class DevicePanel(Widget):
    """Device name and threads, memory readouts, and tokens/s with a sparkline of its history."""

    DEFAULT_CSS = """
    DevicePanel {
        width: 42;
        height: 1fr;
        min-height: 6;
        border: round $primary 60%;
        border-title-color: $text;
        padding: 0 1;
        layout: vertical;
    }
    DevicePanel #device-lines { height: auto; text-wrap: nowrap; text-overflow: ellipsis; }
    DevicePanel #tps-row { height: 1; margin-top: 1; }
    DevicePanel #tps-label { width: auto; min-width: 12; }
    DevicePanel Sparkline { width: 1fr; }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.border_title = "Device"

    def compose(self) -> ComposeResult:
        yield Static(id="device-lines")
        with Horizontal(id="tps-row"):
            yield Static("tok/s —", id="tps-label")
            yield Sparkline([], id="tps")

    def show(self, state: RunState) -> None:
        self.query_one("#device-lines", Static).update(Content("\n").join(device_lines(state)))
        tps = state.recent_tokens_per_second
        label = f"tok/s {tps:,.0f} " if tps is not None else "tok/s — "
        self.query_one("#tps-label", Static).update(label)
        self.query_one("#tps", Sparkline).data = list(state.tokens_per_second)


class SamplesPanel(Static):
    """The latest sampled line for each friend. Names and lines are untrusted: shown inert."""

    DEFAULT_CSS = """
    SamplesPanel {
        height: auto;
        min-height: 3;
        max-height: 12;
        border: round $primary 60%;
        border-title-color: $text;
        padding: 0 1;
        text-wrap: nowrap;
        text-overflow: ellipsis;
    }
    """

    NAME_LIMIT = 18

    def on_mount(self) -> None:
        self.border_title = "How they sound now"
        self.update(Content.styled("no samples yet", "$text-muted"))

    def show(self, state: RunState) -> None:
        if state.samples_step is not None:
            self.border_title = f"How they sound now (step {state.samples_step:,})"
        if not state.samples:
            return
        names = {speaker: inert_content(speaker, limit=self.NAME_LIMIT) for speaker in state.samples}
        width = max(c.cell_length for c in names.values())
        rows = [
            Content.assemble(
                names[speaker].pad_right(width - names[speaker].cell_length).stylize("bold $accent"),
                "  ",
                inert_content(line, limit=500),
            )
            for speaker, line in state.samples.items()
        ]
        self.update(Content("\n").join(rows))


class ChartRow(Horizontal):
    """The loss chart and the device panel side by side."""

    DEFAULT_CSS = """
    ChartRow {
        height: 1fr;
        min-height: 8;
    }
    """

