"""Shared helpers for importer tests: the "never another exception" check and fuzzing strategies.

Strategies come as fixtures and are drawn inside tests with ``st.data()``, since test modules here are not
a package and cannot import from each other.
"""

from __future__ import annotations

import json
import subprocess
import sys
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


# Imports a file in a child process whose address space may be capped, and prints what came of it.
_CHILD = """
import json, resource, sys
from pathlib import Path
cap = int(sys.argv[2])
if cap:
    resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
from friendsim_tui.importers import parse_file
from friendsim_tui.importers.base import ChatImportError, ImportReport
out = {}
try:
    out["kept"] = sum(1 for _ in parse_file(Path(sys.argv[1]), ImportReport(sys.argv[1])))
except ChatImportError as exc:
    out["error"] = str(exc)
for line in open("/proc/self/status"):  # this process's own peaks (ru_maxrss counts the parent's before exec)
    if line.startswith(("VmPeak:", "VmHWM:")):
        out[line.split(":")[0]] = int(line.split()[1])
print(json.dumps(out))
"""


@pytest.fixture
def import_in_child():
    """``import_in_child(path, cap=0)``: import ``path`` in a fresh process, its address space capped at ``cap``
    bytes when given. Returns ``{"kept": n}`` or ``{"error": one line}``, plus the child's peak virtual size
    and resident memory in KiB (``VmPeak``, ``VmHWM``). Any other ending (a traceback) fails the test."""

    def run(path: Path, cap: int = 0) -> dict:
        root = str(Path(__file__).resolve().parents[2])
        proc = subprocess.run(
            [sys.executable, "-c", _CHILD, str(path), str(cap)], capture_output=True, text=True, cwd=root, timeout=600
        )
        assert proc.returncode == 0, proc.stderr[-2000:]
        return json.loads(proc.stdout)

    return run
