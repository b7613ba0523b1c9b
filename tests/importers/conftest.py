"""Shared helpers for importer tests: the "never another exception" check and fuzzing strategies.

Strategies come as fixtures and are drawn inside tests with ``st.data()``, since test modules here are not
a package and cannot import from each other.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings, strategies as st

from friendsim_tui.importers.base import ChatImportError, ImportReport

# Modest, so each test file runs in a few seconds; tmp_path is shared by a test's examples on purpose.
settings.register_profile(
    "importers", max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
FUZZ = settings.get_profile("importers")


@pytest.fixture
def never_crashes():
    """``check(module, path)``: parsing gives messages (all with text and a speaker) or a one-line
    ChatImportError naming the file; any other exception fails the test."""

    def check(module, path: Path) -> None:
        report = ImportReport(str(path))
        try:
            msgs = list(module.parse(Path(path), report))
        except ChatImportError as exc:
            assert "\n" not in str(exc) and str(path) in str(exc)
            return
        assert all(m.text and m.speaker_key and m.speaker_name for m in msgs)
        assert report.kept == len(msgs)

    return check


@pytest.fixture
def mutated():
    """``mutated(seeds, pieces)``: a strategy for a seed file with a few spans replaced by pieces."""

    def strategy(seeds: list[bytes], pieces: list[bytes]):
        edits = st.lists(st.tuples(st.integers(0, 10**6), st.integers(0, 6), st.sampled_from(pieces)), max_size=8)

        def apply(args) -> bytes:
            seed, changes = args
            data = bytearray(seed)
            for pos, cut, piece in changes:
                pos %= len(data) + 1
                data[pos : pos + cut] = piece
            return bytes(data)

        return st.tuples(st.sampled_from(seeds), edits).map(apply)

    return strategy


@pytest.fixture
def odd_json():
    """``odd_json(keys)``: a strategy for JSON values whose objects use the format's own keys."""

    def strategy(keys: list[str]):
        return st.recursive(
            st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
            lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.sampled_from(keys), inner, max_size=5),
            max_leaves=12,
        )

    return strategy
