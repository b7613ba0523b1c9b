"""`friendsim-tui demo`'s journey on screen: the dashboard while the sample trains, then the chat as Maya
with the first candidates already sampled."""

from __future__ import annotations

import asyncio
import json

import psutil

from chat_helpers import ScreenHost, ScriptedSampler, opener, pairs
from tui_helpers import wait_until

from friendsim_tui import paths
from friendsim_tui.store import Store
from friendsim_tui.turns import Turn
from friendsim_tui.tui.screens.chat import ChatScreen
from friendsim_tui.tui.screens.demo import DemoDashboard
from friendsim_tui.tui.widgets.candidates import CandidatePanel

OPENING = [Turn("Maya", "omg who's up for karaoke friday??")]


def write(path, *events):
    with open(path, "a", encoding="utf-8") as fh:
        for e in events:
            fh.write(json.dumps(e) + "\n")


def demo_run():
    """The demo workspace (where chat sessions are saved) and its empty run folder."""
    Store.for_workspace("weekend-crew", create=True).close()
    run_dir = paths.workspace_dir("weekend-crew") / "runs" / "demo"
    run_dir.mkdir(parents=True)
    return run_dir


def test_the_finished_dashboard_stays_until_enter_opens_the_chat(tmp_path, home):
    run_dir = demo_run()
    me = psutil.Process()
    (run_dir / "lock").write_text(json.dumps({"pid": me.pid, "create_time": me.create_time()}))
    (run_dir / "run.json").write_text(json.dumps({"status": "running", "config": {"base": "scratch:tiny"}}))
    events = run_dir / "events.jsonl"
    write(events, {"type": "start", "base": "scratch:tiny", "device": "CPU", "device_kind": "cpu",
                   "precision": "bf16", "threads": 2, "params": 4_000_000, "lora": False, "max_steps": 3},
          *({"type": "step", "step": i, "max_steps": 3, "loss": 5.0 - i, "lr": 1e-3, "tokens": i * 2048,
             "elapsed": i * 1.0, "tokens_per_second": 2048.0, "step_time": 1.0, "epoch": i / 10} for i in (1, 2)))
    sampler = ScriptedSampler(speakers=["Maya", "Jonas", "pixel_dan", "Priya"])

    async def scenario():
        app = ScreenHost(lambda: DemoDashboard(run_dir, workspace="weekend-crew", player="Maya", opening=OPENING,
                                               open_sampler=opener(sampler), poll_interval=0.05))
        async with app.run_test(size=(100, 30)) as pilot:
            dash = app.screen
            await wait_until(pilot, lambda: dash.state.step == 2, "two steps")
            assert not dash.handed_over and isinstance(app.screen, DemoDashboard)
            write(events, {"type": "step", "step": 3, "max_steps": 3, "loss": 2.0, "lr": 1e-4, "tokens": 6144,
                           "elapsed": 3.0, "tokens_per_second": 2048.0, "step_time": 1.0, "epoch": 0.3},
                  {"type": "done", "status": "done", "step": 3, "max_steps": 3, "model": str(run_dir / "model")})
            (run_dir / "lock").unlink()
            await wait_until(pilot, lambda: dash.state.status == "done", "the finished run")
            polls = dash._polls
            await wait_until(pilot, lambda: dash._polls >= polls + 5, "more reads of the finished run")
            assert app.screen is dash and not dash.handed_over  # the user is still reading the dashboard
            assert app.screen.active_bindings["enter"].binding.action == "open_chat"
            await pilot.press("enter")
            await wait_until(pilot, lambda: isinstance(app.screen, ChatScreen), "the chat screen")
            chat = app.screen
            assert chat.player == "Maya"
            await wait_until(pilot, lambda: len(chat.candidates) == 3, "the first candidates")
            # The opening line is Maya's; nobody answers in her voice.
            assert pairs(chat.turns) == pairs(OPENING)
            assert all(c.speaker != "Maya" for c in chat.candidates)
            assert sampler.calls[0]["history"][-1] == pairs(OPENING)[0]
            assert chat.query_one(CandidatePanel).display

    asyncio.run(scenario())


def test_snapshot_the_chat_the_demo_opens(home, snap_compare):
    """What the demo ends on: Maya's opening line and the first candidates, already sampled."""
    demo_run()
    sampler = ScriptedSampler(speakers=["Maya", "Jonas", "pixel_dan", "Priya"],
                              script=["Well, I could be persuaded.", "bro i'm in if there's pizza",
                                      "Ooh which place? I can book a room haha"])
    app = ScreenHost(lambda: ChatScreen("weekend-crew", "demo", "Maya", seed_turns=OPENING, autostart=True,
                                        open_sampler=opener(sampler)))

    async def run_before(pilot) -> None:
        await wait_until(pilot, lambda: len(pilot.app.screen.candidates) == 3, "the first candidates")
        await pilot.pause()

    assert snap_compare(app, terminal_size=(100, 30), run_before=run_before)

