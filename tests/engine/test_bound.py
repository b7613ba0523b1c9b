"""The CPU path a benchmark names, and the bound it quotes its figures against (benchmarks/bound.py)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from friendsim_tui.engine import devices

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))


@pytest.mark.parametrize("flags, path", [
    ({"avx2", "avx512f", "amx_bf16", "avx512_bf16"}, "AMX bf16"),
    ({"avx2", "avx512f", "avx512_bf16"}, "AVX512-BF16 bf16"),
    ({"avx2", "fma"}, "fp32 (AVX2, no fast bf16)"),
    ({"avx2", "avx_vnni"}, "fp32 (AVX2 + VNNI, no fast bf16)"),
    ({"avx2", "avx512f", "avx512_vnni"}, "fp32 (AVX512 + VNNI, no fast bf16)"),
])
def test_the_cpu_path_is_named_from_the_cpu_flags(monkeypatch, flags, path):
    monkeypatch.setattr(devices, "cpu_flags", lambda: frozenset(flags))
    assert devices.cpu_path() == path


def test_the_bound_is_the_slower_of_compute_and_memory():
    from bound import Bound

    b = Bound("fp32 (AVX2, no fast bf16)", 2, {"fp32": 100.0, "int8": 400.0}, read_gbps=10.0)
    assert b.seconds(flops=200e9) == pytest.approx(2.0)
    assert b.seconds(flops=200e9, kind="int8") == pytest.approx(0.5)
    assert b.seconds(flops=200e9, kind="bf16") == pytest.approx(2.0)  # not measured here: fp32's rate
    assert b.seconds(flops=1e9, bytes_read=50e9) == pytest.approx(5.0)  # reading the weights takes longer
    line = b.line()
    assert "fp32 (AVX2, no fast bf16)" in line and "fp32 100 GFLOP/s" in line and "read 10.0 GB/s" in line


def test_measuring_leaves_out_bf16_where_it_would_be_emulated(monkeypatch):
    pytest.importorskip("torch")
    from bound import Bound

    monkeypatch.setattr(devices, "cpu_has_fast_bf16", lambda: False)
    b = Bound.measure(seconds=0.01)
    assert "bf16" not in b.gflops and b.gflops["fp32"] > 0 and b.read_gbps > 0  # emulated bf16 is no bound
