"""Fold a training run's events into a :class:`RunState`: everything the dashboard shows.

The training process appends one JSON object per line to the run's events file and flushes after each;
the dashboard tails the file with friendsim_tui.runs.EventTail. That is what lets the dashboard attach to
a run started from a shell and survive the app being closed and reopened: everything it shows can be
rebuilt from the file.

Pure Python, no Textual: the dashboard reads in a thread and folds on the event loop, and the tests
drive both halves directly.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from statistics import median
from typing import Any, Iterable

from friendsim_tui.runs import DONE, EVENTS_FILE, FAILED, RUNNING, STOPPED, VANISHED, EventTail, ReadResult

WAITING = "waiting"
"""Shown before the first event: the run has not started writing yet."""

# How many recent step times the ETA looks at; the median of them ignores the odd slow step (an eval,
# a checkpoint save) that a mean would smear over the whole remaining run.
_ETA_WINDOW = 20
_TPS_HISTORY = 240


def as_number(value: Any) -> float | None:
    """A finite number from an event field, or None (missing, null, a string, NaN...)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    value = float(value)
    return value if math.isfinite(value) else None


def _int(value: Any) -> int | None:
    value = as_number(value)
    return int(value) if value is not None else None


@dataclass
class RunState:
    """Everything the dashboard shows, folded from the events in order."""

    status: str = WAITING
    start: dict[str, Any] = field(default_factory=dict)
    """The latest ``start`` event: base, device, precision, threads, lora, max_steps..."""
    step: int = 0
    max_steps: int | None = None
    steps: list[int] = field(default_factory=list)
    losses: list[float] = field(default_factory=list)
    evals: list[tuple[int, float, float | None]] = field(default_factory=list)
    """(step, eval_loss, perplexity)."""
    tokens_per_second: deque = field(default_factory=lambda: deque(maxlen=_TPS_HISTORY))
    step_times: deque = field(default_factory=lambda: deque(maxlen=_ETA_WINDOW))
    last: dict[str, Any] = field(default_factory=dict)
    """The latest ``step`` event as written (memory readouts, lr, epoch, tokens...)."""
    peak_rss: float | None = None
    samples: dict[str, str] = field(default_factory=dict)
    samples_step: int | None = None
    checkpoints: list[tuple[int, str]] = field(default_factory=list)
    best: tuple[int, float] | None = None
    """(step, eval loss) of the lowest eval loss so far: the weights the run's model gets."""
    budget: dict[str, Any] = field(default_factory=dict)
    """The latest ``budget`` event: the length a time budget set (max_steps, step_time, time_budget)."""
    early_stop: dict[str, Any] = field(default_factory=dict)
    """The ``early_stop`` event of the run's end, if the eval loss stopped improving."""
    attribution: dict[str, Any] = field(default_factory=dict)
    """The latest ``attribution`` event: whose voice the model hears in a fixed handful of held-out turns."""
    attributions: list[tuple[int, float]] = field(default_factory=list)
    """(step, accuracy) of every ``attribution`` event: the trend the dashboard draws under the loss."""
    end: dict[str, Any] = field(default_factory=dict)
    """The ``done`` or ``error`` event that ended the latest session of the run."""
    error: str | None = None
    warning: str | None = None
    """The latest ``warning`` event (micro-batch halved after out of memory, a tight memory estimate...)."""
    events: int = 0
    malformed: int = 0
    stop_requested: bool = False
    """Set by the dashboard when it asked the run to stop; cleared when the run ends or starts again."""
    resuming: bool = False
    """Set by the dashboard when it started the run again; cleared by the next start or end."""

    # -- folding -----------------------------------------------------------------------------------

    def apply_all(self, events: Iterable[dict[str, Any]]) -> None:
        for event in events:
            self.apply(event)

    def apply(self, event: dict[str, Any]) -> None:
        handler = getattr(self, f"_on_{event.get('type')}", None)
        self.events += 1
        if handler is not None:
            handler(event)

    def _on_start(self, e: dict[str, Any]) -> None:
        self.start = dict(e)
        self.status = RUNNING
        self.error = self.warning = None
        self.end = {}
        self.stop_requested = self.resuming = False
        self.step_times.clear()
        self.early_stop = {}
        self.max_steps = _int(e.get("max_steps")) or self.max_steps
        resumed = _int(e.get("step"))  # 0 for a new run, else the checkpoint it resumed from
        if resumed is not None:
            self._rewind(resumed + 1)
            self.step = resumed

    def _rewind(self, step: int) -> None:
        """Forget history at or after ``step``: a resumed run repeats the steps after its checkpoint."""
        if self.steps and self.steps[-1] >= step:
            keep = next((i for i, s in enumerate(self.steps) if s >= step), len(self.steps))
            del self.steps[keep:], self.losses[keep:]
            self.evals = [ev for ev in self.evals if ev[0] < step]
            self.attributions = [a for a in self.attributions if a[0] < step]

    def _on_step(self, e: dict[str, Any]) -> None:
        step = _int(e.get("step"))
        if step is None:
            return
        if self.status in (WAITING, DONE, STOPPED, FAILED):
            self.status = RUNNING  # attached mid-run, or a resume whose start line we did not see
        self._rewind(step)
        self.step = step
        self.max_steps = _int(e.get("max_steps")) or self.max_steps
        loss = as_number(e.get("loss"))
        if loss is not None:
            self.steps.append(step)
            self.losses.append(loss)
        tps = as_number(e.get("tokens_per_second"))
        if tps is not None:
            self.tokens_per_second.append(tps)
        step_time = as_number(e.get("step_time"))
        if step_time is not None and step_time > 0:
            self.step_times.append(step_time)
        rss = as_number(e.get("rss"))
        if rss is not None:
            self.peak_rss = max(rss, self.peak_rss or 0.0)
        peak = as_number(e.get("rss_peak"))
        if peak is not None:
            self.peak_rss = max(peak, self.peak_rss or 0.0)
        self.last = dict(e)

    def _on_eval(self, e: dict[str, Any]) -> None:
        step, loss = _int(e.get("step")), as_number(e.get("eval_loss"))
        if step is None or loss is None:
            return
        ppl = as_number(e.get("perplexity"))
        if ppl is None and loss < 50:
            ppl = math.exp(loss)
        self.evals = [ev for ev in self.evals if ev[0] != step]
        self.evals.append((step, loss, ppl))
        self._note_best(e)

    def _note_best(self, e: dict[str, Any]) -> None:
        step, loss = _int(e.get("best_step")), as_number(e.get("best_eval_loss"))
        if step is not None and loss is not None:
            self.best = (step, loss)

    def _on_attribution(self, e: dict[str, Any]) -> None:
        self.attribution = dict(e)
        step, accuracy = _int(e.get("step")), as_number(e.get("accuracy"))
        if step is not None and accuracy is not None:
            self.attributions = [a for a in self.attributions if a[0] != step] + [(step, accuracy)]

    def _on_budget(self, e: dict[str, Any]) -> None:
        self.budget = dict(e)
        self.max_steps = _int(e.get("max_steps")) or self.max_steps

    def _on_early_stop(self, e: dict[str, Any]) -> None:
        self.early_stop = dict(e)

    def _on_checkpoint(self, e: dict[str, Any]) -> None:
        step = _int(e.get("step"))
        if step is not None:
            self.checkpoints.append((step, str(e.get("path", ""))))

    def _on_sample(self, e: dict[str, Any]) -> None:
        samples = e.get("samples")
        if isinstance(samples, dict):
            self.samples = {str(k): str(v) for k, v in samples.items()}
            self.samples_step = _int(e.get("step"))

    def _on_done(self, e: dict[str, Any]) -> None:
        self.end = dict(e)
        self._note_best(e)
        self.status = STOPPED if e.get("status") == STOPPED else DONE
        step = _int(e.get("step"))
        if step is not None:
            self.step = max(self.step, step)
        self.stop_requested = self.resuming = False

    def _on_warning(self, e: dict[str, Any]) -> None:
        message = e.get("message")
        if message:
            self.warning = str(message)

    def _on_error(self, e: dict[str, Any]) -> None:
        self.end = dict(e)
        self.status = FAILED
        self.error = str(e.get("message") or "training failed")
        self.stop_requested = self.resuming = False

    def mark_gone(self, status: str) -> None:
        """The train process ended without writing its end; ``status`` is what the run's files say."""
        self.stop_requested = self.resuming = False
        if status == STOPPED:
            self.status = STOPPED
        else:
            self.status = FAILED
            self.error = VANISHED

    # -- derived figures ---------------------------------------------------------------------------

    @property
    def finished(self) -> bool:
        return self.status in (DONE, STOPPED, FAILED)

    @property
    def progress(self) -> float | None:
        if not self.max_steps:
            return None
        return min(1.0, max(0.0, self.step / self.max_steps))

    @property
    def seconds_per_step(self) -> float | None:
        if self.step_times:
            return median(self.step_times)
        return None

    @property
    def eta_seconds(self) -> float | None:
        """Time left at the recent pace; None before there is a pace, or once the run has ended."""
        spp = self.seconds_per_step
        if spp is None or not self.max_steps or self.status != RUNNING:
            return None
        return max(0, self.max_steps - self.step) * spp

    @property
    def recent_tokens_per_second(self) -> float | None:
        """Median of the last steps' throughput: steadier than one step's, still current."""
        recent = list(self.tokens_per_second)[-_ETA_WINDOW:]
        return median(recent) if recent else None

    @property
    def latest_eval(self) -> tuple[int, float, float | None] | None:
        return self.evals[-1] if self.evals else None

    @property
    def time_budget(self) -> float | None:
        """Seconds of training the run is sized to, if it has a time budget."""
        return as_number(self.start.get("time_budget")) or as_number(self.budget.get("time_budget"))


class RunWatcher:
    """An :class:`EventTail` and the :class:`RunState` it feeds; :meth:`poll` does both at once."""

    def __init__(self, run_dir: Path) -> None:
        self.run_dir = Path(run_dir)
        self.tail = EventTail(self.run_dir / EVENTS_FILE)
        self.state = RunState()

    def fold(self, result: ReadResult) -> bool:
        """Apply one read's events; True when anything changed."""
        if result.reset:
            self.state = RunState()
        self.state.malformed += result.malformed
        self.state.apply_all(result.events)
        return bool(result.events or result.reset or result.malformed)

    def poll(self) -> bool:
        changed = False
        while True:
            result = self.tail.read()
            changed = self.fold(result) or changed
            if not result.more:
                return changed
