from __future__ import annotations

import pytest

from friendsim_tui import paths


@pytest.fixture
def data_dir(tmp_path, monkeypatch):
    """A private, empty data directory for the test; nothing touches the user's real one."""
    d = tmp_path / "home"
    monkeypatch.delenv("FRIENDSIM_HOME", raising=False)
    paths.set_data_dir(d)
    yield d
    paths.set_data_dir(None)


@pytest.fixture
def transcript(tmp_path):
    """Write a small `Name: text` transcript and return its path."""

    def make(text: str, name: str = "chat.txt"):
        p = tmp_path / name
        p.write_text(text, encoding="utf-8")
        return p

    return make
