"""Fixtures for engine tests: a small imported workspace."""

from __future__ import annotations

import importlib.util

import pytest
from engine_helpers import write_chats


@pytest.fixture
def crew(data_dir, tmp_path):
    """A workspace named 'crew' with three short transcripts (three sessions: two train, one eval)."""
    from friendsim_tui.services.importing import import_paths

    import_paths("crew", [write_chats(tmp_path / "chats")])
    return "crew"


@pytest.fixture(autouse=True)
def _quick_end_of_run(request, monkeypatch):
    """The held-out figures every run computes at its end (engine.evaluate: seconds of scoring and sampling) are
    left out of the tests that do not look at them; a test that does asks for ``final_figures``."""
    if "final_figures" not in request.fixturenames and importlib.util.find_spec("torch"):
        monkeypatch.setattr("friendsim_tui.engine.train.Trainer._final_figures", lambda self, model, out, step: None)


@pytest.fixture
def final_figures():
    """This test keeps the end-of-run held-out figures."""
