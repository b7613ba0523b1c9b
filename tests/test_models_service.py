"""services.models: the model engine warmed in the background, and one loaded model per run shared by the
chat screens (torch-free: loading is replaced by a counter)."""

from __future__ import annotations

import json
import sys
import threading

import pytest

from friendsim_tui.engine.text import ChatSpec
from friendsim_tui.services import models
from friendsim_tui.store import Store

WS = "crew"


@pytest.fixture
def runs(data_dir, monkeypatch):
    """Workspace ``crew`` with two finished runs; loading a model returns a fresh object and is counted."""
    from friendsim_tui.services.training import run_dir

    Store.for_workspace(WS, create=True).close()
    for name in ("first", "second"):
        folder = run_dir(WS, name)
        (folder / "model").mkdir(parents=True)
        (folder / "run.json").write_text(json.dumps({"status": "done", "updated": 1.0}))
        (folder / "model" / "config.json").write_text("{}")
        ChatSpec(speakers=["Ann", "Bo"], workspace=WS).save(folder / "model")
    loads: list[str] = []

    def load(choice):
        loads.append(choice.name)
        return object()

    monkeypatch.setattr(models, "load_sampler", load)
    models.forget()
    yield loads
    models.forget()


def test_a_run_is_loaded_once_and_shared(runs):
    choice, first = models.open_sampler(WS, "first")
    assert choice.name == "first" and models.loaded(WS, "first")
    assert models.open_sampler(WS, "first")[1] is first, "the second screen gets the same model"
    other = models.open_sampler(WS, "second")[1]
    assert other is not first and runs == ["first", "second"]


def test_a_model_written_again_is_loaded_again(runs):
    from friendsim_tui.services.training import run_dir

    before = models.open_sampler(WS, "first")[1]
    (run_dir(WS, "first") / "model" / "config.json").write_text('{"n_layer": 2}')  # retrained: new files
    after = models.open_sampler(WS, "first")[1]
    assert after is not before and runs == ["first", "first"]


def test_two_screens_asking_at_once_share_one_load(runs, monkeypatch):
    gate = threading.Event()
    started = threading.Event()

    def slow_load(choice):
        runs.append(choice.name)
        started.set()
        gate.wait(10)
        return object()

    monkeypatch.setattr(models, "load_sampler", slow_load)
    got = []
    threads = [threading.Thread(target=lambda: got.append(models.open_sampler(WS, "first")[1])) for _ in range(2)]
    for t in threads:
        t.start()
    assert started.wait(10)
    gate.set()
    for t in threads:
        t.join(10)
    assert runs == ["first"] and len(got) == 2 and got[0] is got[1]


def test_loading_waits_for_a_warm_up_in_progress(runs, monkeypatch):
    warm = threading.Event()
    monkeypatch.setattr(models, "_state", "warming")
    monkeypatch.setattr(models, "_warm", warm)
    done = threading.Event()
    threading.Thread(target=lambda: (models.open_sampler(WS, "first"), done.set()), daemon=True).start()
    assert not done.wait(0.2) and runs == [], "no model loads while torch is still being imported"
    warm.set()
    assert done.wait(10) and runs == ["first"]


def test_warm_up_imports_the_engine_in_the_background(monkeypatch):
    pytest.importorskip("torch")
    monkeypatch.setattr(models, "_state", "cold")
    monkeypatch.setattr(models, "_thread", None)
    monkeypatch.setattr(models, "_warm", threading.Event())
    models.warm_up()
    assert models.engine_state() in ("warming", "ready")
    models.warm_up()  # a second call starts nothing more
    assert models.wait_for_engine(300) and models.engine_state() == "ready"
    assert "torch" in sys.modules and "transformers.modeling_utils" in sys.modules
