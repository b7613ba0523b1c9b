"""A scripted sampler with the engine Sampler's interface (no torch), and hosts for the chat screens."""

from __future__ import annotations

import asyncio
import threading
import time
from pathlib import Path

from textual.app import App

from friendsim_tui import tui
from friendsim_tui.engine.sample import Candidate, SampleCancelled

APP_CSS = Path(tui.__file__).parent / "app.tcss"
SPEAKERS = ["Maya", "Jonas", "pixel_dan"]


class ScriptedSampler:
    """Deterministic candidates: ``<speaker> line <k>`` (or the texts of ``script``, in turn).

    ``delay``: seconds slept per candidate in the worker thread (a slow model); every call is recorded.
    """

    def __init__(self, speakers=SPEAKERS, script: list[str] | None = None, delay: float = 0.0) -> None:
        self.speakers = list(speakers)
        self.script = list(script or [])
        self.delay = delay
        self.calls: list[dict] = []
        self.cancelled = threading.Event()
        self.count = 0

    def _text(self, speaker: str) -> str:
        k, self.count = self.count, self.count + 1
        return self.script[k % len(self.script)] if self.script else f"{speaker} line {k}"

    def _wait(self) -> None:
        if self.delay:
            time.sleep(self.delay)
        if self.cancelled.is_set():
            raise SampleCancelled("sampling cancelled")

    def candidates(self, history, player, n=None, settings=None, force_speaker=None, on_candidate=None, *,
                   exclude=(), seed=None):
        self.cancelled.clear()
        self.calls.append({"kind": "candidates", "history": list(history), "player": player, "n": n,
                           "settings": settings, "force": force_speaker, "exclude": list(exclude)})
        others = [force_speaker] if force_speaker else [s for s in self.speakers if s != player]
        out = []
        for i in range(n):
            self._wait()
            speaker = others[self.count % len(others)]
            cand = Candidate(speaker, self._text(speaker))
            out.append(cand)
            if on_candidate is not None:
                on_candidate(cand)
        return out

    def impersonate(self, history, player, settings=None, n=1, on_candidate=None, *, exclude=(), seed=None):
        self.calls.append({"kind": "impersonate", "history": list(history), "player": player})
        self._wait()
        return [Candidate(player, f"my own line {self.count}")]

    def conversation(self, prompt_turns=(), turns=8, n=3, settings=None, *, opening=None, on_conversation=None,
                     seed=None):
        self.calls.append({"kind": "conversation", "prompt": list(prompt_turns), "opening": opening, "turns": turns,
                           "n": n, "settings": settings})
        out = []
        for i in range(n):
            self._wait()
            head = [Candidate(s, t) for s, t in prompt_turns]
            if opening:
                head.append(Candidate(self.speakers[1], opening))
            body = [Candidate(self.speakers[(i + j) % len(self.speakers)], self._text("x") if self.script else
                              f"sample {i + 1} turn {j + 1}") for j in range(turns - (1 if opening else 0))]
            conv = head + body
            out.append(conv)
            if on_conversation is not None:
                on_conversation(conv)
        return out

    def cancel(self) -> None:
        self.cancelled.set()


def opener(sampler: ScriptedSampler):
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
    """``async with LoopGaps() as gaps``: a task that sleeps 5 ms at a time records how late it wakes;
    ``gaps.longest`` is the event loop's longest stall meanwhile."""

    def __init__(self) -> None:
        self.gaps: list[float] = []

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
            last = now

    @property
    def longest(self) -> float:
        return max(self.gaps)
