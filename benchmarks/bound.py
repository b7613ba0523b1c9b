"""What this machine can do at best, measured in the same run as the benchmark that quotes it.

A time on its own says little on a shared machine, and a ratio to a baseline says nothing about how much
faster the job could still get. Every benchmark measures its bound once, prints it next to its figures,
and reports throughput as a share of it:

    from bound import Bound                      # benchmarks/ is on sys.path when a benchmark runs

    bound = Bound.measure()                      # about a second: the figures below
    print(bound.line())                          # CPU path: fp32 (AVX2, no fast bf16); 6 threads; fp32 ...
    least = bound.seconds(flops=2 * params * tokens, bytes_read=weight_bytes * steps)
    print(f"{least / took:.0%} of the bound")    # a share of what the hardware allows

- ``path``: the matrix-math path the engine takes on this CPU (``devices.cpu_path()``): AMX or
  AVX512-BF16 bf16, else fp32; or the GPU's name.
- ``gflops``: matmul throughput by kind, a square matmul (1024, a transformer layer's size) timed for
  about 0.3 s, best call kept (the bound is what the machine can do, not what it did while busy):
  ``fp32`` always, ``bf16`` only where it is real (AMX / AVX512-BF16, or a GPU with bf16), ``int8``
  where the sampler's int8 layers run (``engine.quantize``; measured through them).
- ``read_gbps``: memory read bandwidth, summing a 256 MB tensor (larger than any cache). Decoding a few
  rows is bound by reading every weight once per token: ``weight bytes / read_gbps`` is the least time a
  token can take.

:meth:`Bound.seconds` is the roofline: the least time work with ``flops`` operations (at the matmul rate of
``kind``) that reads ``bytes_read`` bytes can take here. Both figures move with the load on a shared
machine, as the benchmark's own times do: measure them in the same run, never quote them from another.
"""

from __future__ import annotations

import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

MATMUL_SIZE = 1024
READ_MB = 256


@dataclass
class Bound:
    path: str
    """The engine's matrix-math path here, in words."""
    threads: int
    gflops: dict[str, float] = field(default_factory=dict)
    """Matmul GFLOP/s (GOP/s for int8) by kind: fp32 always, bf16 and int8 where they are real."""
    read_gbps: float = 0.0
    load: float = 0.0
    """The 1-minute load average when measured (others' work shares the cores)."""

    @classmethod
    def measure(cls, device: str = "cpu", seconds: float = 0.3) -> "Bound":
        """Measure this machine now (about ``4 * seconds``), with torch's current thread count."""
        import torch

        from friendsim_tui.engine import devices, quantize

        dev = torch.device(device)
        if dev.type == "cuda":
            path = f"{torch.cuda.get_device_name(dev)}"
            kinds = ["fp32", "bf16"] if torch.cuda.is_bf16_supported() else ["fp32"]
        else:
            path = devices.cpu_path()
            kinds = ["fp32", "bf16"] if devices.cpu_has_fast_bf16() else ["fp32"]
            if quantize.supported():
                kinds.append("int8")
        rates = {kind: matmul_gflops(kind, dev, seconds) for kind in kinds}
        return cls(path, torch.get_num_threads(), rates, read_gbps(dev, seconds), os.getloadavg()[0])

    def seconds(self, flops: float = 0.0, bytes_read: float = 0.0, kind: str = "fp32") -> float:
        """The least time work of ``flops`` operations (at ``kind``'s matmul rate, fp32's where ``kind`` was
        not measured) that reads ``bytes_read`` bytes from memory can take here: the larger of the two."""
        rate = self.gflops.get(kind) or self.gflops["fp32"]
        return max(flops / (rate * 1e9), bytes_read / (self.read_gbps * 1e9))

    def line(self) -> str:
        """One line for a benchmark's header."""
        rates = ", ".join(f"{kind} {rate:.0f} {'GOP/s' if kind == 'int8' else 'GFLOP/s'}"
                          for kind, rate in self.gflops.items())
        threads = f"{self.threads} thread{'' if self.threads == 1 else 's'}"
        return (f"CPU path: {self.path}; {threads}; matmul {rates}; read {self.read_gbps:.1f} GB/s "
                f"(measured now, load average {self.load:.1f})")


def _sync(dev) -> None:
    import torch

    if dev.type == "cuda":
        torch.cuda.synchronize(dev)


def _best(fn, dev, seconds: float) -> float:
    """The shortest time of one ``fn()`` call over about ``seconds`` (after one untimed call)."""
    fn()
    _sync(dev)
    best, start = float("inf"), time.perf_counter()
    while time.perf_counter() - start < seconds or best == float("inf"):
        t0 = time.perf_counter()
        fn()
        _sync(dev)
        best = min(best, time.perf_counter() - t0)
    return best


def matmul_gflops(kind: str = "fp32", device: str = "cpu", seconds: float = 0.3, n: int = MATMUL_SIZE) -> float:
    """GFLOP/s of an ``n`` x ``n`` by ``n`` x ``n`` matmul in ``kind`` (fp32, bf16, or int8 through the
    sampler's int8 layer), best call over about ``seconds``."""
    import torch

    dev = torch.device(device)
    gen = torch.Generator(device="cpu").manual_seed(0)
    a = torch.randn(n, n, generator=gen).to(dev)
    b = torch.randn(n, n, generator=gen).to(dev)
    with torch.inference_mode():
        if kind == "int8":
            from friendsim_tui.engine.quantize import Int8Linear

            layer = Int8Linear(b, None)
            took = _best(lambda: layer(a), dev, seconds)
        else:
            dtype = {"fp32": torch.float32, "bf16": torch.bfloat16}[kind]
            a, b = a.to(dtype), b.to(dtype)
            took = _best(lambda: a @ b, dev, seconds)
    return 2 * n**3 / took / 1e9


def read_gbps(device: str = "cpu", seconds: float = 0.3, mb: int = READ_MB) -> float:
    """GB/s read from memory: the best sum over a ``mb`` MB fp32 tensor over about ``seconds``."""
    import torch

    dev = torch.device(device)
    x = torch.ones(mb * 2**20 // 4, device=dev)
    with torch.inference_mode():
        took = _best(lambda: x.sum(), dev, seconds)
    return x.numel() * 4 / took / 1e9


if __name__ == "__main__":
    print(Bound.measure().line())
