"""Fixtures for engine tests: a small imported workspace."""

from __future__ import annotations

import pytest
from engine_helpers import write_chats


@pytest.fixture
def crew(data_dir, tmp_path):
    """A workspace named 'crew' with three short transcripts (three sessions: two train, one eval)."""
    from friendsim_tui.services.importing import import_paths

    import_paths("crew", [write_chats(tmp_path / "chats")])
    return "crew"
