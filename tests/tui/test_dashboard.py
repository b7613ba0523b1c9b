"""The training dashboard, driven by a scripted events file written while the screen watches it."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import math
import sys
from pathlib import Path

import psutil
import pytest
from textual.app import App
from textual.strip import Strip

from tui_helpers import on_home, wait_until

sys.path.insert(0, str(Path(__file__).parents[1] / "engine"))
from engine_helpers import schema_problems  # noqa: E402

from friendsim_tui.config import TrainConfig
from friendsim_tui.tui.run_state import DONE, FAILED, RUNNING, STOPPED
from friendsim_tui import tui
from friendsim_tui.services import training
from friendsim_tui.tui.screens.dashboard import DashboardScreen
from friendsim_tui.tui.screens.new_run import NewRunScreen
from friendsim_tui.tui.widgets.loss_chart import LossChart
from friendsim_tui.tui.widgets.run_form import RunForm
from friendsim_tui.tui.widgets.run_list import RunList
from friendsim_tui.tui.widgets.run_panels import DevicePanel, RunHeader, RunProgress, RunStatus, SamplesPanel

SNAP_SIZE = (110, 34)
GiB = 2**30


APP_CSS = Path(tui.__file__).parent / "app.tcss"


class DashApp(App):
    """A host for the screen with the app's stylesheet, as the app shell pushes it."""

    CSS_PATH = APP_CSS

    def __init__(self, run_dir: Path) -> None:
        super().__init__()
        self.run_dir = run_dir

    def on_mount(self) -> None:
        self.push_screen(DashboardScreen(self.run_dir, workspace="weekend-crew", poll_interval=0.05))


class Run:
    """Writes a run's events.jsonl the way the training process does: appended, one line at a time, each
    event with the fields the engine writes (friendsim_tui.runs' schema; ``write`` checks)."""

    def __init__(self, run_dir: Path) -> None:
        self.dir = run_dir
        run_dir.mkdir(parents=True)
        self.path = run_dir / "events.jsonl"
        self.path.touch()
        (run_dir / "run.json").write_text(json.dumps({"status": "running", "config": {"base": "gpt2"}}))
        self.hold_lock()

    def hold_lock(self) -> None:
        """The lock a live train process holds (this test process stands in for it)."""
        me = psutil.Process()
        (self.dir / "lock").write_text(json.dumps({"pid": me.pid, "create_time": me.create_time()}))

    def vanish(self) -> None:
        """The train process dies without a word (SIGKILL): its lock stays, naming a dead pid."""
        (self.dir / "lock").write_text(json.dumps({"pid": 2**22 + 7, "create_time": 1.0}))

    def write(self, *events: dict, raw: bytes = b"") -> None:
        assert [p for e in events for p in schema_problems(e)] == []
        with open(self.path, "ab") as fh:
            fh.write(b"".join((json.dumps(e) + "\n").encode() for e in events) + raw)

    def start(self, max_steps: int = 1200, step: int = 0, **extra) -> None:
        """A new run (``step`` 0) or a resume from the checkpoint at ``step``."""
        self.write({"type": "start", "time": 1700000000.0, "run": self.dir.name, "workspace": "weekend-crew",
                    "base": "gpt2", "step": step, "resumed": step > 0, "device": "Intel Xeon Platinum 8480+",
                    "device_kind": "cpu", "precision": "bf16", "threads": 2, "world_size": 1, "params": 124_439_808,
                    "trainable_params": 124_439_808, "lora": False, "max_steps": max_steps, "block_size": 256,
                    "batch_size": 4, "grad_accum": 4, "blocks_per_step": 16, "learning_rate": 5e-5,
                    "warmup_steps": 0, "schedule": "cosine", "train_blocks": 6000, "eval_blocks": 300,
                    "speakers": ["Maya", "Jonas", "pixel_dan"], "memory_estimate": 3 * GiB, "compile": False,
                    "data": {"sessions": 400, "messages": 24_000}, **extra})

    def steps(self, first: int, last: int, max_steps: int = 1200, **extra) -> None:
        self.write(*(step_event(i, max_steps, **extra) for i in range(first, last + 1)))

    def evaluate(self, step: int, loss: float, max_steps: int = 1200) -> None:
        self.write({"type": "eval", "time": 1700000000.0 + step, "step": step, "max_steps": max_steps,
                    "eval_loss": loss, "perplexity": round(math.exp(loss), 3), "tokens": step * 16384, "blocks": 300})

    def checkpoint(self, step: int) -> None:
        self.write({"type": "checkpoint", "time": 1700000000.0 + step, "step": step,
                    "path": str(self.dir / "checkpoints" / f"step-{step:08d}"), "tokens": step * 16384})

    def sample(self, step: int, samples: dict[str, str]) -> None:
        self.write({"type": "sample", "time": 1700000000.0 + step, "step": step, "samples": samples})

    def done(self, step: int, max_steps: int = 1200) -> None:
        self.write({"type": "done", "time": 1700000000.0 + step, "status": "done", "step": step,
                    "max_steps": max_steps, "model": "model", "eval": {}, "tokens": step * 16384})

    def stopped(self, step: int, reason: str, max_steps: int = 1200) -> None:
        self.write({"type": "done", "time": 1700000000.0 + step, "status": "stopped", "reason": reason, "step": step,
                    "max_steps": max_steps})

    def error(self, step: int, message: str) -> None:
        self.write({"type": "error", "time": 1700000000.0 + step, "message": message, "step": step})


def step_event(i: int, max_steps: int = 1200, **extra) -> dict:
    rss = 3.1 * GiB + i * 1000
    return {"type": "step", "time": 1700000000.0 + i * 2.4, "step": i, "max_steps": max_steps,
            "loss": round(2.0 + 2.2 * math.exp(-i / 70) + 0.03 * math.sin(i * 1.7), 4),
            "lr": 5e-5 * (1 - i / max_steps), "tokens": i * 16384, "elapsed": i * 2.4,
            "tokens_per_second": 380 + 40 * math.sin(i / 9), "avg_tokens_per_second": 380.0, "step_time": 2.4,
            "eta": (max_steps - i) * 2.4, "epoch": i / 380, "grad_norm": 1.0, "batch_size": 4, "grad_accum": 4,
            "rss": rss, "rss_peak": rss, "system_used": 5.0 * GiB, "system_total": 24 * GiB, **extra}


def run_async(test):
    """Run an async test on a fresh event loop (no pytest async plugin needed)."""

    @functools.wraps(test)
    def wrapper(*args, **kwargs):
        return asyncio.run(test(*args, **kwargs))

    return wrapper


def text_of(widget) -> str:
    """What the widget shows on screen (children and border included), as plain text."""
    update = widget.screen._compositor.render_full_update(simplify=True)
    r = widget.region
    return "\n".join(Strip.join(strips).crop(r.x, r.right).text for strips in update.strips[r.y:r.bottom])


@contextlib.asynccontextmanager
async def watching(run: Run, steps: int):
    """A dashboard on ``run`` after its start and first ``steps`` steps: yields (screen, pilot)."""
    app = DashApp(run.dir)
    async with app.run_test(size=SNAP_SIZE) as pilot:
        screen = app.screen
        assert isinstance(screen, DashboardScreen)
        await wait_until(pilot, lambda: screen.state.step == steps, f"{steps} steps")
        yield screen, pilot


@pytest.fixture
def run(tmp_path, home) -> Run:
    return Run(tmp_path / "data" / "workspaces" / "weekend-crew" / "runs" / "gpt2-1120")


@run_async
async def test_live_run_updates_chart_and_progress(run):
    run.start()
    run.steps(1, 10)
    async with watching(run, 10) as (screen, pilot):
        assert "step 10/1,200" in text_of(screen.query_one(RunProgress))
        header = text_of(screen.query_one(RunHeader))
        assert "Training weekend-crew · gpt2-1120" in header
        assert "base gpt2 (124M) · full fine-tune · bf16 autocast on CPU" in header
        device = text_of(screen.query_one(DevicePanel))
        assert "Intel Xeon Platinum 8480+ · 2 threads" in device and "system   5.0 GB / 24.0 GB" in device
        chart_before = text_of(screen.query_one(LossChart))

        run.steps(11, 40)  # the run goes on while the screen watches
        run.evaluate(40, 3.1)
        await wait_until(pilot, lambda: screen.state.evals, "the eval")
        await pilot.pause()
        assert len(screen.state.losses) == 40
        assert "step 40/1,200" in text_of(screen.query_one(RunProgress))
        chart = text_of(screen.query_one(LossChart))
        assert chart != chart_before and "●" in chart and "step 40" in chart
        assert "ETA 46m" in text_of(screen.query_one(RunProgress))  # 1160 steps left at 2.4 s/step


@run_async
async def test_detach_then_reopen_mid_run_rebuilds_the_dashboard(run):
    run.start()
    run.steps(1, 8)
    async with watching(run, 8) as (screen, pilot):
        await pilot.press("d")  # detach: the screen goes, the run is left alone
        await pilot.pause()
        assert not isinstance(screen.app.screen, DashboardScreen)
        assert not (run.dir / "STOP").exists()
    run.steps(9, 20)  # training went on while the app was closed
    run.evaluate(20, 3.0)
    async with watching(run, 20) as (screen, pilot):
        await wait_until(pilot, lambda: screen.state.evals, "the eval")
        assert screen.state.steps == list(range(1, 21)) and screen.state.status == RUNNING
        assert "step 20/1,200" in text_of(screen.query_one(RunProgress))


@run_async
async def test_partial_last_line_waits_for_its_end(run):
    run.start()
    run.steps(1, 5)
    half = (json.dumps(step_event(6)) + "\n").encode()
    run.write(raw=half[:25])
    async with watching(run, 5) as (screen, pilot):
        await pilot.pause(0.15)  # a few polls with the half line still there
        assert screen.state.step == 5 and screen.state.malformed == 0
        run.write(raw=half[25:])
        await wait_until(pilot, lambda: screen.state.step == 6, "the completed sixth step")
        assert screen.state.malformed == 0


@run_async
async def test_waiting_for_a_run_that_has_not_written_yet(tmp_path, home):
    folder = tmp_path / "runs" / "not-yet"
    app = DashApp(folder)
    async with app.run_test(size=SNAP_SIZE) as pilot:
        await pilot.pause(0.1)
        assert "waiting for the run to start" in text_of(app.screen.query_one(RunStatus))
        folder.mkdir(parents=True)
        (folder / "train.log").write_text("building a tokenizer on 1,204 messages \x1b[2J\n")
        await wait_until(pilot, lambda: app.screen.log_line, "the start-up line")
        await pilot.pause()
        assert "waiting for the run to start…  building a tokenizer on 1,204 messages ␛[2J" in text_of(
            app.screen.query_one(RunStatus))
        await pilot.press("s")  # nothing to stop: no stop file, no crash
        assert not (tmp_path / "runs" / "not-yet" / "STOP").exists()


@run_async
async def test_stop_key_asks_the_run_to_stop_and_resume_restarts_it(run, monkeypatch):
    launched = []

    def fake_start_run(workspace, *, run=None, resume=False, config=None, **kwargs):
        launched.append((workspace, run, resume))
        return run, None

    monkeypatch.setattr(training, "start_run", fake_start_run)
    run.start()
    run.steps(1, 30)
    async with watching(run, 30) as (screen, pilot):
        await pilot.press("r")  # a running run cannot be resumed
        assert launched == []
        await pilot.press("s")
        stop = run.dir / "STOP"  # the file engine/train.py watches
        assert stop.exists()
        assert "stopping" in text_of(screen.query_one(RunStatus))

        run.checkpoint(30)
        run.stopped(30, "stop requested")
        await wait_until(pilot, lambda: screen.state.status == STOPPED, "the stopped run")
        assert "stopped  saved at step 30" in text_of(screen.query_one(RunStatus))
        await pilot.press("r")
        assert launched == [("weekend-crew", "gpt2-1120", True)]
        assert "resuming" in text_of(screen.query_one(RunStatus))
        stop.unlink()  # the engine clears it when it takes the run again

        run.start(step=30)
        run.steps(31, 32)
        await wait_until(pilot, lambda: screen.state.step == 32, "the resumed run")
        assert screen.state.status == RUNNING


@run_async
async def test_done_and_failed_runs(run):
    run.start(max_steps=40)
    run.steps(1, 40, max_steps=40)
    run.done(40, max_steps=40)
    async with watching(run, 40) as (screen, pilot):
        await wait_until(pilot, lambda: screen.state.status == DONE, "the finished run")
        assert "✓ done  step 40" in text_of(screen.query_one(RunStatus))
        progress = text_of(screen.query_one(RunProgress))
        assert "100%" in progress and "ETA" not in progress and "took 1m36s" in progress

        run.start(max_steps=40, step=40)
        run.error(40, "out of memory [bold]even at batch 1[/] \x1b[31m")
        await wait_until(pilot, lambda: screen.state.status == FAILED, "the failure")
        status = text_of(screen.query_one(RunStatus))
        assert "✗ failed  out of memory [bold]even at batch 1[/] ␛[31m" in status


@run_async
async def test_the_best_step_the_time_budget_and_an_early_stop_are_on_the_dashboard(run):
    run.start(max_steps=400, time_budget=60.0, early_stop_evals=3)
    run.steps(1, 5, max_steps=400)
    run.write({"type": "budget", "time": 1700000010.0, "step": 5, "max_steps": 240, "time_budget": 60.0,
               "step_time": 0.25, "elapsed": 1.2})
    run.steps(6, 200, max_steps=240)

    def evaluate(step: int, loss: float, best: int, best_loss: float) -> dict:
        return {"type": "eval", "time": 1700000000.0 + step, "step": step, "max_steps": 240, "eval_loss": loss,
                "perplexity": round(math.exp(loss), 3), "tokens": step * 16384, "blocks": 300, "best_step": best,
                "best_eval_loss": best_loss}

    run.write(evaluate(100, 3.408, 100, 3.408), evaluate(200, 3.377, 200, 3.377))
    async with watching(run, 200) as (screen, pilot):
        assert "step 200/240" in text_of(screen.query_one(RunProgress))  # the length the budget set
        assert "ETA 1m36s (budget 1m00s)" in text_of(screen.query_one(RunProgress))
        assert "● running  best step 200 (eval 3.377)" in text_of(screen.query_one(RunStatus))

        run.steps(201, 230, max_steps=240)
        run.write(evaluate(210, 3.41, 200, 3.377), evaluate(220, 3.45, 200, 3.377), evaluate(230, 3.48, 200, 3.377))
        run.write({"type": "early_stop", "time": 1700000231.0, "step": 230, "evals": 3, "best_step": 200,
                   "best_eval_loss": 3.377, "message": "the eval loss has not improved for 3 evals"},
                  {"type": "done", "time": 1700000232.0, "status": "done", "step": 230, "max_steps": 240,
                   "model": "model", "eval": {"eval_loss": 3.377, "perplexity": 29.28}, "tokens": 230 * 16384,
                   "reason": "early stop", "best_step": 200, "best_eval_loss": 3.377})
        await wait_until(pilot, lambda: screen.state.status == DONE, "the early stop")
        status = text_of(screen.query_one(RunStatus))
        assert "✓ done  step 230  best step 200 (eval 3.377)" in status
        assert "stopped early: the eval loss had not improved for 3 evals" in status
        assert "took 9m12s (budget 1m00s)" in text_of(screen.query_one(RunProgress))


@run_async
async def test_untrusted_samples_show_literally(run):
    run.start()
    run.steps(1, 3)
    run.sample(3, {
        "[bold]x[/]": "[@click=app.quit]y[/]",
        "Eve\x1b[31m": "red? \x1b[31mno\x1b]0;title\x07 [0] [/]",
        "[@click=app.quit]": "multi\nline",
    })
    async with watching(run, 3) as (screen, pilot):
        await wait_until(pilot, lambda: screen.state.samples, "the samples")
        await pilot.pause()
        panel = screen.query_one(SamplesPanel)
        shown = text_of(panel)
        assert "[bold]x[/]" in shown and "[@click=app.quit]y[/]" in shown
        assert "Eve␛[31m" in shown and "red? ␛[31mno␛]0;title␇ [0] [/]" in shown
        assert "multi␊line" in shown
        assert "How they sound now (step 3)" in shown
        await pilot.click(SamplesPanel, offset=(5, 1))
        await pilot.click(SamplesPanel, offset=(25, 1))
        await pilot.click(SamplesPanel, offset=(5, 3))
        await pilot.pause()
        assert screen.app.is_running and screen.app.screen is screen


class Exited:
    """A launched train process that has already exited with ``returncode``."""

    def __init__(self, returncode: int) -> None:
        self.returncode = returncode

    def poll(self) -> int:
        return self.returncode


@run_async
async def test_a_stopped_process_exit_code_is_not_a_failure(run):
    run.start()
    run.steps(1, 4)
    run.stopped(4, "SIGTERM")
    app = App()
    async with app.run_test(size=SNAP_SIZE) as pilot:
        screen = DashboardScreen(run.dir, workspace="weekend-crew", process=Exited(3), poll_interval=0.05)
        await app.push_screen(screen)
        await wait_until(pilot, lambda: screen.process is None, "the exit noticed")
        assert screen.state.status == STOPPED and screen.process_error is None
        assert "■ stopped" in text_of(screen.query_one(RunStatus))


@run_async
async def test_a_launched_process_that_dies_early_shows_its_error(run, monkeypatch):

    log = run.dir / "train.log"
    log.write_text("an earlier try's output\n")
    app = App()
    async with app.run_test(size=SNAP_SIZE) as pilot:
        screen = DashboardScreen(run.dir, workspace="weekend-crew", process=Exited(2), poll_interval=0.05)
        with open(log, "a") as fh:  # what the launched process wrote before dying
            fh.write("Traceback...\nfriendsim-tui: unknown base 'gtp2'\n")
        await app.push_screen(screen)
        await wait_until(pilot, lambda: screen.process_error, "the process error")
        status = text_of(screen.query_one(RunStatus))
        assert "unknown base 'gtp2'" in status and "earlier try" not in status


@run_async
async def test_a_run_whose_process_vanished_shows_as_failed(run):
    run.start()
    run.steps(1, 12)
    async with watching(run, 12) as (screen, pilot):
        assert screen.state.status == RUNNING
        run.vanish()
        await wait_until(pilot, lambda: screen.state.status == FAILED, "the vanished process noticed")
        assert "ended without a word" in text_of(screen.query_one(RunStatus))


# -- snapshots ----------------------------------------------------------------------------------------


def _mid_run(run: Run) -> None:
    run.start()
    run.steps(1, 340)
    for s, loss in ((100, 2.95), (200, 2.71), (300, 2.58)):
        run.evaluate(s, loss)
    run.checkpoint(300)
    run.sample(300, {
        "Maya": "omg the ramen place was SO good lol",
        "Jonas": "Well, to be fair, the train was late again.",
        "pixel_dan": "bro the patch notes are cooked 💀 [bold]not bold[/]",
    })


def _wait_for(step: int, status: str):
    async def run_before(pilot) -> None:
        for _ in range(400):
            await pilot.pause(0.01)
            screen = pilot.app.screen
            if isinstance(screen, DashboardScreen) and screen.state.step == step and screen.state.status == status:
                break
        await pilot.pause()

    return run_before


def test_snapshot_mid_run(run, snap_compare):
    _mid_run(run)
    assert snap_compare(DashApp(run.dir), terminal_size=SNAP_SIZE, run_before=_wait_for(340, RUNNING))


def test_snapshot_finished_on_a_gpu(run, snap_compare):
    run.start(max_steps=400, device="NVIDIA H100 80GB HBM3", device_kind="cuda", lora=True, lora_r=16, threads=16,
              world_size=2)
    run.steps(1, 400, max_steps=400, cuda_allocated=3.2 * GiB, cuda_reserved=4.0 * GiB, cuda_peak=3.6 * GiB,
              cuda_total=80 * GiB, gpu_util=87)
    run.evaluate(400, 2.41, max_steps=400)
    run.sample(400, {"Maya": "see you at 8!!", "Jonas": "Right. 8pm."})
    run.done(400, max_steps=400)
    assert snap_compare(DashApp(run.dir), terminal_size=SNAP_SIZE, run_before=_wait_for(400, DONE))


# -- the Train screen: runs to attach to, and the new-run form ------------------------------------------


class TrainApp(App):
    CSS_PATH = APP_CSS
    cursor_blink = False  # read by the form's TextInputs, as FriendSimApp's is in tests

    def __init__(self, open_running: bool = False) -> None:
        super().__init__()
        self.open_running = open_running

    def on_mount(self) -> None:
        self.push_screen(NewRunScreen("weekend-crew", open_running=self.open_running))


@pytest.fixture
def machine(monkeypatch):
    """A fixed machine for the catalog's memory hints (snapshots must not depend on this host)."""
    from friendsim_tui.engine import bases

    monkeypatch.setattr(bases, "machine_memory", lambda: {"kind": "ram", "total": 24 * GiB, "available": 20 * GiB})


def finished_run(root: Path, name: str, status: str, step: int, updated: float) -> Run:
    r = Run(root / name)
    r.start(max_steps=400)
    r.steps(step - 1, step, max_steps=400)
    r.evaluate(step, 2.61, max_steps=400)
    if status == FAILED:
        r.error(step, "training failed")
    else:
        r.done(step, max_steps=400) if status == DONE else r.stopped(step, "SIGTERM", max_steps=400)
    (r.dir / "lock").unlink()
    (r.dir / "run.json").write_text(json.dumps({"status": status, "updated": updated, "config": {"base": "gpt2"}}))
    return r


@pytest.fixture
def runs_root(tmp_path, home) -> Path:
    return tmp_path / "data" / "workspaces" / "weekend-crew" / "runs"


@run_async
async def test_train_screen_lists_runs_and_attaches(runs_root, machine):
    finished_run(runs_root, "20261120-gpt2", DONE, 400, updated=2.0)
    finished_run(runs_root, "20261118-gpt2", STOPPED, 120, updated=1.0)
    app = TrainApp()
    async with app.run_test(size=SNAP_SIZE) as pilot:
        runs = app.screen.query_one(RunList)
        await wait_until(pilot, lambda: runs.option_count == 2, "the runs")
        assert "✓ 20261120-gpt2" in text_of(runs) and "step 120/400 · stopped" in text_of(runs)
        runs.focus()
        await pilot.press("down", "enter")
        await wait_until(pilot, lambda: isinstance(app.screen, DashboardScreen), "the dashboard")
        assert app.screen.run_name == "20261118-gpt2"
        await wait_until(pilot, lambda: app.screen.state.status == STOPPED, "the stopped run's events")
        await pilot.press("escape")
        assert isinstance(app.screen, NewRunScreen)


@run_async
async def test_train_screen_opens_the_running_run_at_once(runs_root, machine):
    finished_run(runs_root, "old", DONE, 400, updated=1.0)
    live = Run(runs_root / "live")
    live.start()
    live.steps(1, 5)
    app = TrainApp(open_running=True)
    async with app.run_test(size=SNAP_SIZE) as pilot:
        await wait_until(pilot, lambda: isinstance(app.screen, DashboardScreen), "the running run's dashboard")
        assert app.screen.run_name == "live"


@run_async
async def test_new_run_form_starts_training_and_opens_its_dashboard(runs_root, machine, monkeypatch):
    started = []

    def fake_start_run(workspace, cfg=None, *, run=None, resume=False, config=None, **kw):
        started.append((workspace, run, cfg))
        return "my-run", None

    monkeypatch.setattr(training, "start_run", fake_start_run)
    app = TrainApp()
    async with app.run_test(size=SNAP_SIZE) as pilot:
        form = app.screen.query_one(RunForm)
        await wait_until(pilot, lambda: form.catalog, "the catalog")
        form.query_one("#max-steps").value = "1.5"
        await pilot.press("ctrl+s")
        assert started == [] and "Steps: expected a whole number" in text_of(form)

        form.query_one("#max-steps").value = "50"
        form.query_one("#block-size").value = "4"  # TrainConfig's own range decides, in the form
        await pilot.press("ctrl+s")
        assert started == [] and "Block: must be >= 8" in text_of(form)

        form.query_one("#block-size").value = "256"
        form.query_one("#run-name").value = "../../../escaped"
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: "invalid run name" in text_of(form), "the run name's error")
        assert started == []

        form.query_one("#time-budget").value = "1h30"  # a duration, read as the --time-budget flag reads it
        await pilot.press("ctrl+s")
        assert started == [] and "Budget: expected a duration such as 90s, 5m or 1h, got '1h30'" in text_of(form)

        form.query_one("#base").value = "distilgpt2"
        form.query_one("#lora").value = True
        form.query_one("#time-budget").value = "1m30s"
        form.query_one("#run-name").value = "my-run"
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: isinstance(app.screen, DashboardScreen), "the new run's dashboard")
        assert started == [("weekend-crew", "my-run",
                            TrainConfig(base="distilgpt2", lora=True, max_steps=50, time_budget=90.0))]
        assert app.screen.run_dir == runs_root / "my-run"
        assert "waiting for the run to start" in text_of(app.screen.query_one(RunStatus))


@run_async
async def test_a_run_folder_made_by_hand_with_an_impossible_name_is_listed_but_not_opened(runs_root, machine):
    finished_run(runs_root, "[@click=app.quit]run [b]", STOPPED, 37, updated=1.0)
    app = TrainApp()
    async with app.run_test(size=SNAP_SIZE) as pilot:
        runs = app.screen.query_one(RunList)
        await wait_until(pilot, lambda: runs.option_count == 1, "the run")
        runs.focus()
        await pilot.press("enter")
        await wait_until(pilot, lambda: app._notifications, "the notice")
        assert "invalid run name" in list(app._notifications)[-1].message
        assert app.is_running and isinstance(app.screen, NewRunScreen)


@run_async
async def test_the_form_as_it_opens_starts_a_run(runs_root, machine, monkeypatch):
    """Defaults untouched (Steps 0, Epochs 0): the engine picks the length; nothing to fix first."""
    started = []
    monkeypatch.setattr(training, "start_run", lambda workspace, cfg, **kw: started.append(cfg) or ("auto-run", None))
    app = TrainApp()
    async with app.run_test(size=SNAP_SIZE) as pilot:
        form = app.screen.query_one(RunForm)
        await wait_until(pilot, lambda: form.catalog, "the catalog")
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: isinstance(app.screen, DashboardScreen), "the new run's dashboard")
    (cfg,) = started
    assert cfg == TrainConfig() and cfg.epochs == 0 and cfg.max_steps == 0


def test_snapshot_train_screen(runs_root, machine, snap_compare):
    finished_run(runs_root, "20261120-gpt2", DONE, 400, updated=2.0)
    finished_run(runs_root, "[@click=app.quit]run [b]", FAILED, 37, updated=1.0)

    async def run_before(pilot) -> None:
        screen = pilot.app.screen
        await wait_until(pilot, lambda: screen.query_one(RunForm).catalog and screen.runs, "catalog and runs")

    assert snap_compare(TrainApp(), terminal_size=SNAP_SIZE, run_before=run_before)


@run_async
async def test_home_t_opens_train_then_the_running_runs_dashboard(workspaces, make_app, runs_root, machine):
    live = Run(runs_root / "live")
    live.start()
    live.steps(1, 3)
    app = make_app()
    async with app.run_test(size=SNAP_SIZE) as pilot:
        await wait_until(pilot, lambda: on_home(app, "family") or on_home(app, "weekend-crew"), "home")
        if not on_home(app, "weekend-crew"):
            app.screen.select_workspace("weekend-crew")
            await wait_until(pilot, lambda: on_home(app, "weekend-crew"), "weekend-crew on home")
        await pilot.press("t")
        await wait_until(pilot, lambda: isinstance(app.screen, DashboardScreen), "the running run's dashboard")
        await wait_until(pilot, lambda: app.screen.state.step == 3, "its steps")
        await pilot.press("escape")
        assert isinstance(app.screen, NewRunScreen) and app.screen.workspace == "weekend-crew"
        await pilot.press("escape")
        assert app.screen.id == "home"


def test_palette_commands_follow_the_run_state(run):
    screen = DashboardScreen(run.dir, workspace="weekend-crew")
    screen.watcher.state.apply({"type": "start", "max_steps": 10})
    assert [c.title for c in screen.palette_commands()] == ["Stop & save", "Detach"]
    screen.watcher.state.apply({"type": "checkpoint", "step": 3, "path": "checkpoint-3"})
    screen.watcher.state.apply({"type": "done", "status": "stopped", "step": 3})
    assert [c.title for c in screen.palette_commands()] == ["Resume run", "Back"]


# -- issue 12 (app shell): refuse an empty workspace, runs that fail at start, keys that fit the run, -----
# -- the Train screen's focus and live list. Helpers above are shared; nothing above depends on these. -----


async def _settled(pilot, predicate, what):
    await wait_until(pilot, predicate, what)
    await pilot.pause()


@run_async
async def test_training_an_empty_workspace_is_refused_before_anything_starts(workspaces, make_app, monkeypatch):
    import subprocess

    from friendsim_tui import paths

    spawned = []
    monkeypatch.setattr(subprocess, "Popen", lambda *a, **kw: spawned.append(a))
    app = make_app()
    async with app.run_test(size=SNAP_SIZE) as pilot:
        await wait_until(pilot, lambda: on_home(app, "family"), "home")
        await pilot.press("n", *"empty one", "enter")
        await wait_until(pilot, lambda: on_home(app, "empty one"), "the new, empty workspace")
        await pilot.press("t")
        await wait_until(pilot, lambda: isinstance(app.screen, NewRunScreen), "the train screen")
        form = app.screen.query_one(RunForm)
        await wait_until(pilot, lambda: form.catalog, "the catalog")
        await pilot.press("ctrl+s")
        await _settled(pilot, lambda: "no messages yet" in text_of(form), "the refusal")
        assert "empty one has no messages yet: import chat exports into it first" in text_of(form)
        assert isinstance(app.screen, NewRunScreen) and spawned == []
        assert not (paths.workspace_dir("empty one") / "runs").exists()  # no orphan run folder


@run_async
async def test_a_run_that_fails_at_start_says_why_in_the_apps_words(run, monkeypatch):
    (run.dir / "lock").unlink()
    (run.dir / "run.json").unlink()
    (run.dir / "train.log").write_text("loading…\nfriendsim-tui: unknown base 'gtp2': pick one from the list\n")
    app = App()
    async with app.run_test(size=SNAP_SIZE) as pilot:
        screen = DashboardScreen(run.dir, workspace="weekend-crew", process=Exited(2), poll_interval=0.05)
        screen._log_start = 0
        await app.push_screen(screen)
        await _settled(pilot, lambda: screen.state.status == FAILED, "the failure")
        assert "did not start" in text_of(screen.query_one(RunHeader))
        status = text_of(screen.query_one(RunStatus))
        assert "✗ failed  unknown base 'gtp2': pick one from the list" in status and "friendsim-tui" not in status
        keys = {b.binding.action for b in screen.active_bindings.values()}
        assert "resume" not in keys  # no checkpoint to go on from
        assert "detach" not in keys and "back" in keys  # nothing keeps training


@run_async
async def test_detach_is_offered_only_while_the_run_may_be_training(run):
    run.start(max_steps=40)
    run.steps(1, 10, max_steps=40)
    async with watching(run, 10) as (screen, pilot):
        assert screen.check_action("detach", ()) and screen.check_action("stop", ())
        run.checkpoint(10)
        run.stopped(10, "stop requested", max_steps=40)
        await _settled(pilot, lambda: screen.state.status == STOPPED, "the stop")
        assert not screen.check_action("detach", ()) and screen.check_action("resume", ())
        run.steps(11, 40, max_steps=40)
        run.done(40, max_steps=40)
        await _settled(pilot, lambda: screen.state.status == DONE, "the end")
        assert not screen.check_action("detach", ()) and not screen.check_action("resume", ())


@run_async
async def test_train_screen_focuses_its_runs_and_follows_them_live(runs_root, machine, monkeypatch):
    from friendsim_tui.tui.screens import new_run

    monkeypatch.setattr(new_run, "RUNS_EVERY", 0.05)
    finished_run(runs_root, "old", DONE, 400, updated=1.0)
    live = Run(runs_root / "live")
    live.start(max_steps=30)
    live.steps(1, 8, max_steps=30)
    app = TrainApp()
    async with app.run_test(size=SNAP_SIZE) as pilot:
        runs = app.screen.query_one(RunList)
        await _settled(pilot, lambda: runs.option_count == 2, "the runs")
        assert app.screen.focused is runs
        assert "step 8/30" in text_of(runs)
        live.steps(9, 20, max_steps=30)
        await _settled(pilot, lambda: "step 20/30" in text_of(runs), "the list to follow the run")
        await pilot.press("enter")  # the focused list: enter opens the highlighted run
        await wait_until(pilot, lambda: isinstance(app.screen, DashboardScreen), "a dashboard")


@run_async
async def test_train_screen_without_runs_focuses_the_form(runs_root, machine):
    app = TrainApp()
    async with app.run_test(size=SNAP_SIZE) as pilot:
        await _settled(pilot, lambda: app.screen.runs is not None, "the (empty) run list")
        assert app.screen.focused is app.screen.query_one("#base")


@run_async
async def test_a_run_that_failed_before_its_run_json_is_listed_as_failed(runs_root, machine):
    """What the train process leaves when it fails while preparing: its log and an error event, no run.json."""
    finished_run(runs_root, "old", DONE, 400, updated=1.0)
    folder = runs_root / "20261121-tiny"
    folder.mkdir()
    (folder / "train.log").write_text("friendsim-tui: block size 4096 is longer than gpt2's context (1024)\n")
    (folder / "events.jsonl").write_text(json.dumps(
        {"type": "error", "time": 1700000000.0, "step": 0,
         "message": "block size 4096 is longer than gpt2's context (1024)"}) + "\n")
    app = TrainApp()
    async with app.run_test(size=SNAP_SIZE) as pilot:
        runs = app.screen.query_one(RunList)
        await _settled(pilot, lambda: runs.option_count == 2, "both runs")
        shown = text_of(runs)
        assert "✗ 20261121-tiny" in shown and "failed" in shown.split("20261121-tiny")[1].splitlines()[0]
    (status,) = [r for r in training.list_runs("weekend-crew") if r["name"] == "20261121-tiny"]
    assert status["status"] == FAILED and "block size 4096" in status["error"]


@run_async
async def test_typing_in_every_train_field_fires_nothing_and_help_lists_every_key(workspaces, make_app, runs_root,
                                                                                 machine, monkeypatch):
    from tui_helpers import help_lists_every_key, type_sentence_everywhere

    started = []
    monkeypatch.setattr(training, "start_run", lambda *a, **kw: started.append(kw) or ("x", None))
    finished_run(runs_root, "old", DONE, 400, updated=1.0)
    app = make_app()
    async with app.run_test(size=SNAP_SIZE) as pilot:
        await wait_until(pilot, lambda: on_home(app, "family"), "home")
        app.screen.select_workspace("weekend-crew")
        await wait_until(pilot, lambda: on_home(app, "weekend-crew"), "weekend-crew")
        await pilot.press("t")
        await wait_until(pilot, lambda: isinstance(app.screen, NewRunScreen), "the train screen")
        screen = app.screen
        await _settled(pilot, lambda: screen.runs and screen.query_one(RunForm).catalog, "runs and catalog")
        await type_sentence_everywhere(pilot, lambda: (list(started), len(app.screen_stack)))
        for widget in ("#run-list", "#base", "#lora", "#max-steps", "#run-name"):
            screen.query_one(widget).focus()
            await pilot.pause()
            text = await help_lists_every_key(pilot)
            assert "Start a run with the form's settings" in text
            if widget == "#run-list":
                assert "Open the highlighted run's dashboard" in text
        assert started == [] and app.screen is screen
