"""Time in a run: the clock every duration is measured with, the pace the step events report, and a time
budget that sizes the run from what its steps, evals, samples and checkpoints are measured to cost."""

from __future__ import annotations

import time
from collections import deque
from dataclasses import dataclass, field
from statistics import median

from friendsim_tui.config import TrainConfig
from friendsim_tui.engine.plan import MEASURE_STEPS, Plan, intervals


def now() -> float:
    """Seconds on the clock every duration of a run is measured with (tests replace it to fake time)."""
    return time.perf_counter()


@dataclass
class Pace:
    """Training time and throughput, for the step events: ``before`` is the time earlier sessions of the run
    trained; speeds and the ETA count this session only."""

    before: float
    first_step: int
    first_tokens: int
    started: float = field(default_factory=lambda: now())
    printed: float = 0.0

    def seconds(self) -> float:
        return now() - self.started

    def elapsed(self) -> float:
        return self.before + self.seconds()

    def tokens_per_second(self, tokens: int) -> float:
        run_time = self.seconds()
        return (tokens - self.first_tokens) / run_time if run_time else 0.0

    def eta(self, step: int, max_steps: int) -> float:
        return (max_steps - step) * self.seconds() / max(1, step - self.first_step)

    def print_now(self, last: bool) -> bool:
        """At most one progress line a second, and the last step's."""
        t = now()
        if t - self.printed >= 1.0 or last:
            self.printed = t
            return True
        return False



@dataclass
class Costs:
    """Seconds each part of a run takes here, as measured."""

    step: float = 0.0
    """A training step (the median of the recent ones)."""
    eval: float = 0.0
    sample: float = 0.0
    save: float = 0.0
    """A checkpoint."""


class TimeBudget:
    """Sizes a run to ``seconds`` of training. The trainer tells it when each step ends (``step_done``) and what
    each eval, sample and checkpoint took (``took``); after MEASURE_STEPS steps, and again whenever a new
    measure comes in or the length would overrun, ``new_length`` says how many steps fit, and ``resize``
    sets the plan to it. ``ceiling``: the most steps a run with a set length (max_steps or epochs) may take;
    None: the budget alone decides.

    With automatic intervals (eval_steps, sample_steps 0), a run gets its usual ten evals and five samples
    unless they would take more than :data:`EVAL_SHARE` / :data:`SAMPLE_SHARE` of the budget: then fewer (on a
    slow or busy machine the steps would otherwise be crowded out)."""

    EVAL_SHARE = 0.2
    SAMPLE_SHARE = 0.1

    def __init__(self, seconds: float, cfg: TrainConfig, ceiling: int | None, started: float):
        self.seconds, self.cfg, self.ceiling = seconds, cfg, ceiling
        self.costs = Costs()
        self.sized = False
        """The length has been set from measures (``new_length`` did it once)."""
        self.announced = False
        """The trainer has said so (a budget event, a log line)."""
        self._changed = False
        self._steps: deque[float] = deque(maxlen=50)
        self._seen = 0
        self._last = started
        self._aside = 0.0

    def step_done(self, now: float) -> None:
        """A step ended at ``now``: its time is what passed since the last one, less the evals, samples and
        checkpoints in between (measured on their own)."""
        self._seen += 1
        if self._seen > 1:
            self._steps.append(max(0.0, now - self._last - self._aside))
            self.costs.step = median(self._steps)
        self._last, self._aside = now, 0.0

    def ready(self) -> bool:
        """Enough steps are timed to size the run."""
        return len(self._steps) >= MEASURE_STEPS and self.costs.step > 0

    def ended(self, max_steps: int) -> bool:
        """The budget, not a set length, decided where the run ends."""
        return self.sized and (self.ceiling is None or max_steps < self.ceiling)

    def took(self, kind: str, seconds: float) -> None:
        """An eval, sample or save (``kind``) took ``seconds``."""
        setattr(self.costs, kind, seconds)
        self._aside += seconds
        self._changed = True

    def intervals(self, length: int) -> tuple[int, int]:
        """plan.intervals for a run of ``length`` steps, with as many evals and samples as the budget affords."""
        def afford(usual: int, share: float, each: float) -> int:
            return usual if each <= 0 else max(1, min(usual, int(share * self.seconds / each)))

        return intervals(self.cfg, length, afford(10, self.EVAL_SHARE, self.costs.eval),
                         afford(5, self.SAMPLE_SHARE, self.costs.sample))

    def cost(self, step: int, until: int, save_steps: int) -> float:
        """Seconds from the end of ``step`` to the end of step ``until``: the steps, and the evals, samples and
        checkpoints the schedule puts between (the last step's eval and sample included, its checkpoint not)."""
        if until <= step:
            return 0.0
        every_eval, every_sample = self.intervals(until)

        def between(every: int, last: int) -> int:
            return last // every - step // every

        return ((until - step) * self.costs.step
                + (between(every_eval, until) + bool(until % every_eval)) * self.costs.eval
                + (between(every_sample, until) + bool(until % every_sample)) * self.costs.sample
                + between(save_steps, until - 1) * self.costs.save)

    def new_length(self, step: int, elapsed: float, max_steps: int, save_steps: int) -> int | None:
        """How many steps the run should take, when that is to change now: the first time enough steps are
        measured, after a new measure, and whenever ``max_steps`` would end past the budget; else None."""
        if not self.ready():
            return None
        left = self.seconds - elapsed
        if self.sized and not self._changed and self.cost(step, max_steps, save_steps) <= left:
            return None
        self.sized, self._changed = True, False
        fit = step + int(max(0.0, left) // self.costs.step)
        if self.ceiling is not None:
            fit = min(fit, self.ceiling)
        while fit > step and self.cost(step, fit, save_steps) > left:  # the evals and samples take room too
            over = self.cost(step, fit, save_steps) - left
            fit -= max(1, int(over // self.costs.step))
        while (self.ceiling is None or fit < self.ceiling) and self.cost(step, fit + 1, save_steps) <= left:
            fit += 1  # the step back may have been too long
        fit = max(fit, step)
        return fit if fit != max_steps else None

    def resize(self, plan: Plan, step: int, length: int, save_steps: int) -> float:
        """Set ``plan`` to ``length`` steps, at ``step``: its eval and sample intervals with it, and the first time
        a warmup no longer than the new length wants. Returns the seconds a step now costs, its share of the
        evals, samples and checkpoints included."""
        if not self.announced:
            plan.warmup_steps = min(plan.warmup_steps, int(self.cfg.warmup_ratio * length))
        plan.max_steps = length
        plan.eval_steps, plan.sample_steps = self.intervals(length)
        return self.cost(step, length, save_steps) / (length - step) if length > step else self.costs.step
