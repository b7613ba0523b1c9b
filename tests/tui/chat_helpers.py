"""A scripted sampler with the engine Sampler's interface (no torch), and hosts for the chat screens."""

from __future__ import annotations

import asyncio
import threading
import time
from pathlib import Path

from textual.app import App

from friendsim_tui import tui
from friendsim_tui.turns import SampleCancelled, Sampler, Turn

APP_CSS = Path(tui.__file__).parent / "app.tcss"
SPEAKERS = ["Maya", "Jonas", "pixel_dan"]


class ScriptedSampler(Sampler):
    """Deterministic candidates: ``<speaker> line <k>`` (or the texts of ``script``, in turn).

    ``delay``: seconds slept per candidate in the worker thread (a slow model); every call is recorded, its
    history and prompt as (speaker, text) pairs.
    """

    def __init__(self, speakers=SPEAKERS, script: list[str] | None = None, delay: float = 0.0) -> None:
        self._speakers = list(speakers)
        self.script = list(script or [])
        self.delay = delay
        self.calls: list[dict] = []
        self.cancelled = threading.Event()
        self._budget: int | None = None  # candidates that may still come while held; None: not held
        self._gate = threading.Condition()
        self.count = 0

    def hold(self, allow: int = 0) -> None:
        """From now on only ``allow`` more candidates come; the rest wait for :meth:`release` (or a cancel).
        The test decides when the model answers, so "while sampling" holds however slow or fast the machine."""
        with self._gate:
            self._budget = allow

    def release(self) -> None:
        with self._gate:
            self._budget = None
            self._gate.notify_all()

    @property
    def speakers(self) -> list[str]:
        return list(self._speakers)

    def _text(self, speaker: str) -> str:
        k, self.count = self.count, self.count + 1
        return self.script[k % len(self.script)] if self.script else f"{speaker} line {k}"

    def _wait(self) -> None:
        if self.delay:
            time.sleep(self.delay)
        with self._gate:
            while self._budget == 0 and not self.cancelled.is_set():
                self._gate.wait(0.01)
            if self._budget:
                self._budget -= 1
        if self.cancelled.is_set():
            raise SampleCancelled("sampling cancelled")

    def candidates(self, history, player, n=None, settings=None, force_speaker=None, on_candidate=None, *,
                   exclude=(), seed=None, reject=None):
        """``reject``: as the engine's, a text it refuses is drawn again (at most 4 draws per candidate)."""
        self.cancelled.clear()
        self.calls.append({"kind": "candidates", "history": pairs(history), "player": player, "n": n,
                           "settings": settings, "force": force_speaker, "exclude": list(exclude),
                           "reject": reject})
        others = [force_speaker] if force_speaker else [s for s in self.speakers if s != player]
        out = []
        for _ in range(4 * n):
            if len(out) == n:
                break
            self._wait()
            speaker = others[self.count % len(others)]
            cand = Turn(speaker, self._text(speaker))
            if reject is not None and reject(cand.text):
                continue
            out.append(cand)
            if on_candidate is not None:
                on_candidate(cand)
        return out

    def impersonate(self, history, player, settings=None, n=1, on_candidate=None, *, exclude=(), seed=None,
                    reject=None):
        self.calls.append({"kind": "impersonate", "history": pairs(history), "player": player})
        self._wait()
        return [Turn(player, f"my own line {self.count}")]

    def conversation(self, prompt_turns=(), turns=8, n=3, settings=None, *, opening=None, on_conversation=None,
                     seed=None):
        self.calls.append({"kind": "conversation", "prompt": pairs(prompt_turns), "opening": opening, "turns": turns,
                           "n": n, "settings": settings})
        out = []
        for i in range(n):
            self._wait()
            head = [Turn(t.speaker, t.text) for t in prompt_turns]
            if opening:
                head.append(Turn(self.speakers[1], opening))
            body = [Turn(self.speakers[(i + j) % len(self.speakers)], self._text("x") if self.script else
                              f"sample {i + 1} turn {j + 1}") for j in range(turns - (1 if opening else 0))]
            conv = head + body
            out.append(conv)
            if on_conversation is not None:
                on_conversation(conv)
        return out

    def cancel(self) -> None:
        self.cancelled.set()


def pairs(turns) -> list[tuple[str, str]]:
    """What a test compares turns by: who said what."""
    return [(t.speaker, t.text) for t in turns]


def fork_at(screen) -> tuple[int, int, int] | None:
    """Where the chat screen shows its path last split: (depth, branch, branches)."""
    fork = screen.fork
    return None if fork is None else (fork.depth, fork.index, fork.count)


def opener(sampler: Sampler):
    """An ``open_sampler`` for the screens that hands out ``sampler``."""
    return lambda workspace, run: (None, sampler)


class ScreenHost(App):
    """Hosts one screen with the app's stylesheet, as the app shell pushes it."""

    CSS_PATH = APP_CSS

    def __init__(self, make_screen) -> None:
        super().__init__()
        self.make_screen = make_screen
        self.cursor_blink = False
        self.config = None

    def on_mount(self) -> None:
        self.push_screen(self.make_screen())


class LoopGaps:
    """``async with LoopGaps() as gaps``: a task that sleeps 5 ms at a time records when it wakes;
    ``gaps.longest`` is the event loop's longest stall meanwhile."""

    def __init__(self) -> None:
        self.gaps: list[float] = []
        self.ticks: list[float] = []

    async def __aenter__(self) -> "LoopGaps":
        self._stop = asyncio.Event()
        self._task = asyncio.get_running_loop().create_task(self._watch())
        return self

    async def __aexit__(self, *exc) -> None:
        self._stop.set()
        await self._task

    async def _watch(self) -> None:
        last = time.perf_counter()
        while not self._stop.is_set():
            await asyncio.sleep(0.005)
            now = time.perf_counter()
            self.gaps.append(now - last)
            self.ticks.append(now)
            last = now

    @property
    def longest(self) -> float:
        return max(self.gaps, default=0.0)

    def ticks_between(self, start: float, end: float) -> int:
        return sum(start < t < end for t in self.ticks)


class RecordingSampler:
    """Wraps a sampler (scripted or real) and records, for each sampling call, the thread it ran on and
    when it started and ended (``time.perf_counter``, as :class:`LoopGaps` uses)."""

    METHODS = ("candidates", "impersonate", "conversation")

    def __init__(self, inner) -> None:
        self.inner = inner
        self.records: list[tuple[int, float, float]] = []

    def __getattr__(self, name):
        attr = getattr(self.inner, name)
        if name not in self.METHODS:
            return attr

        def recorded(*args, **kwargs):
            start = time.perf_counter()
            try:
                return attr(*args, **kwargs)
            finally:
                self.records.append((threading.get_ident(), start, time.perf_counter()))

        return recorded


async def baseline_gaps(pilot, text: str = "just typing, nothing sampled") -> LoopGaps:
    """The loop's gaps on this machine, now, while the screen does ordinary work (typing into its input):
    what a stall while sampling is judged against."""
    screen = pilot.app.screen
    screen.input.focus()
    async with LoopGaps() as gaps:
        for ch in text:
            await pilot.press("space" if ch == " " else ch)
        await pilot.pause()
    screen.input.value = ""
    return gaps


def assert_loop_kept_running(gaps: LoopGaps, baseline: LoopGaps, sampler: RecordingSampler) -> None:
    """Sampling never ran on the event loop's thread, the loop kept ticking through every sampling call long
    enough to tell, and its longest gap is no stall by this machine's own measure.

    A model called on the loop would stall it for a whole call (the scripted sampler's calls last several of
    its per-candidate delays), so a gap is a stall when it exceeds half the longest call, four times the
    longest gap seen while only typing, and 0.1 s: on a slow or loaded machine all three grow together.
    """
    loop_thread = threading.get_ident()  # the test runs on the app's event loop thread
    assert sampler.records, "the sampler was never called"
    assert all(thread != loop_thread for thread, _, _ in sampler.records), "sampling ran on the event loop"
    for _, start, end in sampler.records:
        if end - start >= 0.2:
            assert gaps.ticks_between(start, end) > 0, f"the loop stood still for a whole {end - start:.2f} s call"
    longest_call = max(end - start for _, start, end in sampler.records)
    allowed = max(0.5 * longest_call, 4 * baseline.longest, 0.1)
    print(f"longest event-loop gap while sampling {gaps.longest * 1000:.1f} ms (typing only: "
          f"{baseline.longest * 1000:.1f} ms; longest sampling call {longest_call * 1000:.0f} ms; "
          f"allowed {allowed * 1000:.0f} ms)")
    assert gaps.longest < allowed


def finished_run(workspace: str, name: str, speakers=SPEAKERS, updated: float = 1.0) -> None:
    """A finished run's folder as training leaves it (run.json, model/config.json, friendsim.json)."""
    import json

    from friendsim_tui.engine.text import ChatSpec
    from friendsim_tui.services.training import run_dir

    folder = run_dir(workspace, name)
    (folder / "model").mkdir(parents=True)
    (folder / "run.json").write_text(json.dumps({"status": "done", "updated": updated, "base": "gpt2"}))
    (folder / "model" / "config.json").write_text("{}")
    ChatSpec(speakers=list(speakers), workspace=workspace).save(folder / "model")


def chats_of(fn, workspace: str = "weekend-crew"):
    """Run ``fn(chat_store)`` on a fresh connection (the screen writes from its own thread)."""
    from friendsim_tui.store import Store
    from friendsim_tui.store.chats import ChatStore

    store = Store.for_workspace(workspace)
    try:
        return fn(ChatStore(store))
    finally:
        store.close()
