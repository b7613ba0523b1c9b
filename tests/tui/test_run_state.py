"""The events tailer (friendsim_tui.runs) and the RunState it feeds: pure Python, no Textual."""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path

import pytest

from friendsim_tui.runs import EventTail, parse_lines
from friendsim_tui.config import format_duration
from friendsim_tui.tui.run_state import DONE, FAILED, RUNNING, STOPPED, WAITING, RunState, RunWatcher
from friendsim_tui.tui.text import format_bytes, format_count, format_lr

sys.path.insert(0, str(Path(__file__).parents[1] / "engine"))
from engine_helpers import schema_problems  # noqa: E402

RECORDED = Path(__file__).parent / "fixtures" / "tiny_run.jsonl"
"""The events of a real tiny run, stopped at step 4 and resumed (fixtures/record_tiny_run.py writes it)."""


def line(event: dict) -> bytes:
    return (json.dumps(event) + "\n").encode()


def step(i: int, **extra) -> dict:
    """A step event with every field the engine writes (runs.StepEvent)."""
    return {"type": "step", "time": 1.7e9 + i, "step": i, "max_steps": 100, "loss": 5.0 - i * 0.01, "lr": 1e-4,
            "tokens": i * 1000, "elapsed": i * 2.0, "tokens_per_second": 500.0 + i, "avg_tokens_per_second": 500.0,
            "step_time": 2.0, "eta": (100 - i) * 2.0, "epoch": i / 50, "grad_norm": 1.0, "batch_size": 4,
            "grad_accum": 2, "rss": 1e9 + i, "rss_peak": 1e9 + i, "system_used": 4e9, "system_total": 8e9, **extra}


def test_the_events_of_a_real_run_are_what_runs_declares_and_fold_into_a_finished_run():
    events, bad = parse_lines(RECORDED.read_bytes().splitlines())
    assert bad == 0 and [p for e in events for p in schema_problems(e)] == []
    state = RunState()
    state.apply_all(events)
    assert state.status == DONE and state.step == 6 and state.max_steps == 6
    assert state.steps == [1, 2, 3, 4, 5, 6] and len(state.losses) == 6  # the resume at 4 repeated nothing
    assert [s for s, _loss, _ppl in state.evals] == [2, 4, 6] and all(ppl > 1 for _s, _l, ppl in state.evals)
    assert [s for s, _path in state.checkpoints] == [2, 4]
    assert state.samples_step == 6 and set(state.samples) == {"Alice Smith", "Bob the Builder", "Carol"}
    assert state.start["step"] == 4 and state.end["model"].endswith("model")


def test_the_scripted_events_of_these_tests_are_what_the_engine_writes():
    assert schema_problems(step(1)) == []


def test_tail_reads_only_what_was_appended(tmp_path):
    path = tmp_path / "events.jsonl"
    tail = EventTail(path)
    assert tail.read().events == []  # no file yet
    path.write_bytes(line({"type": "start", "max_steps": 100}) + line(step(1)))
    assert [e["type"] for e in tail.read().events] == ["start", "step"]
    assert tail.read().events == []
    with open(path, "ab") as fh:
        fh.write(line(step(2)))
    assert [e["step"] for e in tail.read().events] == [2]


def test_partial_last_line_is_kept_for_the_next_read(tmp_path):
    path = tmp_path / "events.jsonl"
    full = line(step(3))
    path.write_bytes(line(step(1)) + line(step(2)) + full[:17])
    tail = EventTail(path)
    assert [e["step"] for e in tail.read().events] == [1, 2]
    assert tail.read().events == []  # still half a line
    with open(path, "ab") as fh:
        fh.write(full[17:])
    result = tail.read()
    assert [e["step"] for e in result.events] == [3] and result.malformed == 0


def test_malformed_lines_are_counted_and_skipped(tmp_path):
    path = tmp_path / "events.jsonl"
    path.write_bytes(b"not json\n[1, 2]\n{\"no_type\": 1}\n\n" + line(step(1)) + b"\xff\xfe{oops\n")
    result = EventTail(path).read()
    assert [e["step"] for e in result.events] == [1]
    assert result.malformed == 4


def test_a_line_cut_by_a_crash_then_a_resume_keeps_the_resumed_event():
    events, bad = parse_lines([b'{"type": "step", "st{"type": "start", "max_steps": 10}'])
    assert events == [{"type": "start", "max_steps": 10}] and bad == 1


def test_a_truncated_or_replaced_file_starts_over(tmp_path):
    path = tmp_path / "events.jsonl"
    path.write_bytes(line(step(1)) + line(step(2)))
    watcher = RunWatcher(tmp_path)
    watcher.poll()
    assert watcher.state.step == 2
    path.write_bytes(line({"type": "start", "max_steps": 50}))
    assert watcher.poll()
    assert watcher.state.step == 0 and watcher.state.max_steps == 50 and watcher.state.losses == []


def test_large_files_are_read_in_chunks(tmp_path):
    path = tmp_path / "events.jsonl"
    path.write_bytes(b"".join(line(step(i)) for i in range(1, 301)))
    watcher = RunWatcher(tmp_path)
    watcher.tail.chunk_size = 1000
    watcher.poll()
    assert watcher.state.steps == list(range(1, 301))


def test_state_folds_a_whole_run():
    state = RunState()
    assert state.status == WAITING
    state.apply({"type": "start", "base": "gpt2", "max_steps": 100, "device": "cpu", "step": 0})
    assert state.status == RUNNING
    for i in range(1, 31):
        state.apply(step(i))
    state.apply({"type": "eval", "step": 20, "eval_loss": 3.0})
    state.apply({"type": "checkpoint", "step": 20, "path": "ckpt-20"})
    state.apply({"type": "sample", "step": 20, "samples": {"Maya": "hi", "Jonas": "hello"}})
    assert state.step == 30 and state.progress == pytest.approx(0.3)
    assert state.latest_eval == (20, 3.0, pytest.approx(math.exp(3.0)))
    assert state.samples == {"Maya": "hi", "Jonas": "hello"} and state.samples_step == 20
    assert state.seconds_per_step == 2.0 and state.eta_seconds == 140.0
    assert state.peak_rss == 1e9 + 30
    assert list(state.tokens_per_second)[-1] == 530.0
    assert state.recent_tokens_per_second == 520.5  # median of steps 11-30
    state.apply({"type": "done", "status": "done", "step": 30, "model": "runs/x/model"})
    assert state.status == DONE and state.eta_seconds is None


def test_stop_failure_and_resume():
    state = RunState()
    state.apply_all([{"type": "start", "max_steps": 100}, *(step(i) for i in range(1, 26))])
    state.apply({"type": "done", "step": 25, "status": "stopped", "reason": "stop requested"})
    assert state.status == STOPPED
    state.apply({"type": "error", "message": "CUDA out of memory"})
    assert state.status == FAILED and state.error == "CUDA out of memory"
    # Resumed from the checkpoint at step 20: steps 21-25 run again and replace the old ones.
    state.apply({"type": "warning", "message": "out of memory: micro-batch 8 -> 4"})
    assert state.warning == "out of memory: micro-batch 8 -> 4"
    state.apply({"type": "start", "max_steps": 100, "step": 20})
    assert state.status == RUNNING and state.error is None and state.warning is None and state.steps[-1] == 20
    state.apply(step(21))
    assert state.steps[-2:] == [20, 21] and state.step == 21


def test_attaching_mid_run_without_a_start_event():
    state = RunState()
    state.apply(step(40))
    assert state.status == RUNNING and state.max_steps == 100


def test_missing_and_odd_fields_are_tolerated():
    state = RunState()
    state.apply({"type": "step"})
    state.apply({"type": "step", "step": 1, "loss": None, "tokens_per_second": "fast", "step_time": float("nan")})
    state.apply({"type": "eval", "step": 1})
    state.apply({"type": "sample", "step": 1, "samples": [{"speaker": "Maya", "text": "hey"}]})
    state.apply({"type": "sample", "step": 2, "samples": "nonsense"})
    state.apply({"type": "something-new", "step": 3})
    assert state.step == 1 and state.losses == [] and state.evals == []
    assert state.samples == {} and state.samples_step is None and state.eta_seconds is None and state.progress is None


def test_eta_uses_the_median_of_recent_step_times():
    state = RunState()
    state.apply({"type": "start", "max_steps": 100})
    for i in range(1, 11):
        state.apply(step(i, step_time=30.0 if i == 5 else 1.0))  # one slow step (a checkpoint save)
    assert state.eta_seconds == 90.0


def test_formatting():
    assert format_duration(None, rough=True) == "—"
    assert format_duration(42, rough=True) == "42s"
    assert format_duration(125, rough=True) == "2m05s"
    assert format_duration(41 * 60 + 5, rough=True) == "41m"
    assert format_duration(2 * 3600 + 14 * 60, rough=True) == "2h14m"
    assert format_duration(3 * 86400 + 2 * 3600, rough=True) == "3d02h"
    assert format_duration(41 * 60 + 5) == "41m05s"  # what a setting reads back (config.duration)
    assert format_bytes(3.1 * 2**30) == "3.1 GB"
    assert format_bytes(512) == "512 B"
    assert format_count(124_439_808) == "124M"
    assert format_lr(4.6e-5) == "4.6e-5"
