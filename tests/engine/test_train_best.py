"""The model a run ends with: the weights of its lowest eval loss, early stop, a time budget, the held-out figures."""

from __future__ import annotations

import json

import pytest

torch = pytest.importorskip("torch")

from safetensors.torch import load_file  # noqa: E402

from friendsim_tui import cli  # noqa: E402
from friendsim_tui.config import TrainConfig  # noqa: E402
from friendsim_tui.engine import checkpoints, clock, evaluate, plan  # noqa: E402
from friendsim_tui.engine import train as engine  # noqa: E402
from friendsim_tui.services import training  # noqa: E402

from engine_helpers import read_events, schema_problems, tiny_config  # noqa: E402


def eval_losses(monkeypatch, by_step: dict[int, float]):
    """The eval loss at each step is what ``by_step`` says (the weights still train for real)."""
    monkeypatch.setattr(engine.Trainer, "_eval_loss", lambda self: by_step[self.step])


def weights(path) -> dict:
    return load_file(str(path))


def same_weights(a: dict, b: dict) -> bool:
    shared = set(a) & set(b)
    return bool(shared) and all(torch.equal(a[n], b[n]) for n in shared)


def test_a_rise_in_eval_loss_leaves_the_model_with_the_best_steps_weights(crew, monkeypatch, capsys):
    eval_losses(monkeypatch, {2: 3.0, 4: 2.5, 6: 2.7, 8: 2.9})
    last = {}
    real = engine.Trainer._best_weights

    def remember_the_last_steps_weights(self):
        last.update({n: t.clone() for n, t in checkpoints.trainable_state(self.model).items()})
        return real(self)

    monkeypatch.setattr(engine.Trainer, "_best_weights", remember_the_last_steps_weights)
    result = engine.train(crew, tiny_config(max_steps=8, eval_steps=2, save_steps=4, sample_steps=100), "rise",
                          log=lambda s: None)
    run = result.run_dir
    assert result.status == "done" and result.step == 8 and result.best_step == 4
    assert result.eval == {"eval_loss": 2.5, "perplexity": pytest.approx(12.182, abs=1e-3)}

    model = weights(run / "model" / "model.safetensors")
    at_4 = weights(run / "checkpoints" / "step-00000004" / "model.safetensors")
    assert same_weights(model, at_4)  # the model is step 4's, the lowest eval loss...
    assert not same_weights(model, last)  # ...not step 8's, where training ended
    assert same_weights(weights(run / "best" / "model.safetensors"), at_4)

    events = read_events(run)
    assert [p for e in events for p in schema_problems(e)] == []
    assert [(e["step"], e["best_step"]) for e in events if e["type"] == "eval"] == [(2, 2), (4, 4), (6, 4), (8, 4)]
    done = events[-1]
    assert done["type"] == "done" and done["best_step"] == 4 and done["best_eval_loss"] == 2.5
    assert "reason" not in done  # it trained all its steps
    card = (run / "model" / "README.md").read_text()
    assert "the weights are step 4's, whose eval loss was the run's lowest; training went on to step 8" in card

    capsys.readouterr()
    assert cli.main(["runs", "-w", crew, "--json"]) == 0
    (listed,) = json.loads(capsys.readouterr().out)
    assert listed["best_step"] == 4 and listed["best_eval_loss"] == 2.5
    assert cli.main(["runs", "-w", crew]) == 0
    assert "best step 4 (eval 2.500)" in capsys.readouterr().out


def test_early_stop_fires_after_evals_without_improvement_only_when_the_length_is_automatic(crew, monkeypatch):
    falling_then_flat = {1: 3.0, 2: 2.5, 3: 2.6, 4: 2.6, 5: 2.7, 6: 2.8}
    eval_losses(monkeypatch, falling_then_flat)
    auto = tiny_config(max_steps=0, epochs=0, eval_steps=1, save_steps=2, sample_steps=100, early_stop_evals=2)
    result = engine.train(crew, auto, "auto", log=lambda s: None)
    assert result.status == "done" and result.step == 4 and result.best_step == 2 and result.max_steps > 6
    assert result.message == "early stop"
    events = read_events(result.run_dir)
    assert events[0]["early_stop_evals"] == 2
    (stop,) = [e for e in events if e["type"] == "early_stop"]
    assert (stop["step"], stop["evals"], stop["best_step"], stop["best_eval_loss"]) == (4, 2, 2, 2.5)
    assert events[-1]["reason"] == "early stop" and events[-1]["best_step"] == 2
    at_2 = weights(result.run_dir / "checkpoints" / "step-00000002" / "model.safetensors")
    assert same_weights(weights(result.run_dir / "model" / "model.safetensors"), at_2)
    assert training.run_status(crew, "auto")["ended"] == "early stop"

    # a length the user set is trained to its end, however the eval loss goes
    fixed = engine.train(crew, tiny_config(max_steps=6, eval_steps=1, sample_steps=100, early_stop_evals=2), "fixed",
                         log=lambda s: None)
    assert fixed.step == 6 and fixed.best_step == 2 and fixed.message == ""
    events = read_events(fixed.run_dir)
    assert "early_stop_evals" not in events[0] and not [e for e in events if e["type"] == "early_stop"]


def test_a_stopped_run_resumes_with_its_best_step_and_its_count_of_evals_without_improvement(crew, monkeypatch):
    eval_losses(monkeypatch, {1: 3.0, 2: 2.5, 3: 2.6, 4: 2.7, 5: 2.8, 6: 2.9})
    real = engine.Trainer._should_stop
    monkeypatch.setattr(engine.Trainer, "_should_stop", lambda self: (self.step == 3 and not self.resume) or real(self))
    auto = tiny_config(max_steps=0, epochs=0, eval_steps=1, save_steps=100, sample_steps=100, early_stop_evals=2)
    first = engine.train(crew, auto, "again", log=lambda s: None)
    assert first.status == "stopped" and first.step == 3
    second = engine.train(crew, auto, "again", resume=True, log=lambda s: None)
    # one eval without improvement before the stop (step 3), one after (step 4): early stop at 4, step 2's weights
    assert (second.status, second.step, second.best_step, second.message) == ("done", 4, 2, "early stop")


class FakeClock:
    """Time that passes only where a test says: each training step, eval and sample takes a set number of seconds."""

    def __init__(self, monkeypatch, step: float, eval: float, sample: float):
        self.t = 0.0
        monkeypatch.setattr(clock, "now", lambda: self.t)
        for name, seconds in (("_train_step", step), ("_eval_loss", eval), ("sample_lines", sample)):
            real = getattr(engine.Trainer, name)
            monkeypatch.setattr(engine.Trainer, name, self._taking(real, seconds))

    def _taking(self, real, seconds):
        def timed(trainer, *args, **kwargs):
            self.t += seconds
            return real(trainer, *args, **kwargs)
        return timed


def test_a_time_budget_sizes_the_run_from_the_measured_step_time_and_ends_within_it(crew, monkeypatch):
    fake = FakeClock(monkeypatch, step=1.0, eval=2.0, sample=0.5)
    cfg = tiny_config(max_steps=0, epochs=0, eval_steps=0, sample_steps=0, save_steps=1000, time_budget=40,
                      early_stop_evals=0)
    result = engine.train(crew, cfg, "budget", log=lambda s: None)
    events = read_events(result.run_dir)
    assert [p for e in events for p in schema_problems(e)] == []
    assert events[0]["time_budget"] == 40
    budgets = [e for e in events if e["type"] == "budget"]
    first = budgets[0]
    assert first["step"] == plan.MEASURE_STEPS + 1  # the first step (warm-up) is not measured
    assert first["step_time"] > 1.0  # a step's second, and its share of the evals and samples to come
    assert result.status == "done" and result.message == "time budget" and result.step == budgets[-1]["max_steps"]
    # within the budget, and not a step short of it: one more step (and its eval) would not have fitted
    assert 40 - (1.0 + 2.0 + 0.5) < fake.t <= 40
    steps = [e for e in events if e["type"] == "step"]
    assert [e["step"] for e in steps] == list(range(1, result.step + 1))
    assert steps[-1]["max_steps"] == result.step and steps[-1]["elapsed"] <= 40
    # an eval and a sample were timed before the first sizing, at the step it happened
    assert first["step"] in [e["step"] for e in events if e["type"] == "eval"]


def test_a_set_length_is_the_most_a_budgeted_run_trains(crew, monkeypatch):
    FakeClock(monkeypatch, step=1.0, eval=0.0, sample=0.0)
    result = engine.train(crew, tiny_config(max_steps=8, time_budget=1000), "short", log=lambda s: None)
    assert result.step == 8 and result.message == ""


def test_budget_arithmetic():
    budget = clock.TimeBudget(100, TrainConfig(eval_steps=10, sample_steps=1000), None, started=0.0)
    for t in range(6):  # steps of 2 s; the first is warm-up
        budget.step_done(float(2 * t))
    assert budget.ready() and budget.costs.step == 2.0
    budget.took("eval", 10.0)
    # from step 5 at 10 s: 90 s left, 2 s a step plus a 10 s eval every 10 steps and at the end
    length = budget.new_length(5, 10.0, 1000, save_steps=10_000)
    assert budget.cost(5, length, 10_000) <= 90 < budget.cost(5, length + 1, 10_000)
    assert length == 30  # 25 steps (50 s) and the evals at 10, 20 and 30 (30 s); 31 would end at 92 s
    assert budget.new_length(5, 10.0, length, save_steps=10_000) is None  # it still fits: no change
    budget.took("eval", 20.0)  # evals turn out slower: the length shrinks
    assert budget.new_length(5, 10.0, length, save_steps=10_000) < length

    automatic = clock.TimeBudget(100, TrainConfig(eval_steps=0, sample_steps=0), None, started=0.0)
    assert automatic.intervals(100) == (10, 20)  # ten evals and five samples a run, as without a budget
    automatic.took("eval", 5.0)  # ten evals would take half the budget: it affords four (a fifth of it)
    assert automatic.intervals(100) == (25, 20)


def test_the_end_of_a_run_measures_its_held_out_figures(crew, monkeypatch, capsys, final_figures):
    monkeypatch.setattr(evaluate, "SAMPLES", 10)
    result = engine.train(crew, tiny_config(max_steps=4, eval_steps=2, sample_steps=4), "measured",
                          log=lambda s: None)
    run = result.run_dir
    figures = json.loads((run / "eval.json").read_text())
    assert set(evaluate.KEYS) <= set(figures) and figures["step"] == result.best_step
    assert figures["attribution_accuracy"] is not None and figures["samples"] == 10
    events = read_events(run)
    assert [p for e in events for p in schema_problems(e)] == []
    attribution = [e for e in events if e["type"] == "attribution"]
    assert [e["step"] for e in attribution] == [2, 4]
    assert attribution[0]["turns"] == attribution[1]["turns"] > 0  # the same turns at every eval
    assert set(attribution[0]["speakers"]) == {"Alice Smith", "Bob the Builder", "Carol"}
    done = events[-1]
    assert done["evaluation"]["attribution_accuracy"] == figures["attribution_accuracy"]
    card = (run / "model" / "README.md").read_text()
    assert f"speaker attribution {100 * figures['attribution_accuracy']:.1f}%" in card
    assert "verbatim" in card and "Carol" in card
    capsys.readouterr()
    assert cli.main(["runs", "-w", crew, "--json"]) == 0
    (listed,) = json.loads(capsys.readouterr().out)
    assert listed["evaluation"]["attribution_accuracy"] == figures["attribution_accuracy"]


def test_the_demo_trains_to_a_time_budget(data_dir, monkeypatch, capsys):
    got = []

    class Done:
        status = "done"

    monkeypatch.setattr(training, "train_here", lambda ws, cfg, run, **kw: got.append(cfg) or Done())
    assert cli.main(["demo", "--headless"]) == 0, capsys.readouterr().err
    (cfg,) = got
    assert cfg.time_budget == cli.DEMO_BUDGET and cfg.max_steps == 0 and cfg.epochs == 0
    assert cfg.eval_steps == cfg.sample_steps == 0  # as many as the budget affords
    assert cfg.base == cli.DEMO_BASE
