"""Which device we train on, which precision it does well, and how much memory is in use.

Everything is detected, never assumed: bf16 on a CPU only when it has AMX or AVX512-BF16 (otherwise bf16
is emulated and slower than fp32), bf16 on GPUs that support it, fp16 on older CUDA GPUs (with a gradient
scaler), fp32 everywhere else. torch is imported inside functions so this module is cheap to import.
"""

from __future__ import annotations

import os
import platform
import sys
from dataclasses import asdict, dataclass
from functools import lru_cache


@dataclass
class DeviceInfo:
    kind: str
    """cuda, mps or cpu"""
    name: str
    """GPU model, "Apple MPS", or the CPU model name"""
    threads: int
    memory_total: int
    """bytes: GPU memory for CUDA, system RAM otherwise"""
    bf16: bool
    fp16: bool
    index: int = 0

    @property
    def torch_device(self) -> str:
        return f"cuda:{self.index}" if self.kind == "cuda" else self.kind

    def to_json(self) -> dict:
        return asdict(self)


@lru_cache(maxsize=1)
def cpu_flags() -> frozenset[str]:
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as f:
            for line in f:
                if line.startswith(("flags", "Features")):
                    return frozenset(line.split(":", 1)[1].split())
    except OSError:
        pass
    return frozenset()


def cpu_name() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "CPU"


def cpu_has_fast_bf16() -> bool:
    """AMX or AVX512-BF16: bf16 matrix math in hardware (from /proc/cpuinfo, else torch's own probe)."""
    flags = cpu_flags()
    if flags:
        return bool({"amx_bf16", "avx512_bf16"} & flags)
    try:
        import torch

        return torch.backends.cpu.get_cpu_capability() in ("AVX512_BF16", "AMX")  # pragma: no cover
    except Exception:  # pragma: no cover
        return False


def cpu_path() -> str:
    """The matrix-math path this CPU gets, in words, for benchmark headers and reports: "AMX bf16",
    "AVX512-BF16 bf16", or "fp32 (AVX2, no fast bf16)" (with "+ VNNI" where int8 dot products are native)."""
    flags = cpu_flags()
    if "amx_bf16" in flags:
        return "AMX bf16"
    if "avx512_bf16" in flags:
        return "AVX512-BF16 bf16"
    if cpu_has_fast_bf16():  # no /proc/cpuinfo: torch's own probe said so
        return "bf16"
    if flags:
        vector = "AVX512" if "avx512f" in flags else "AVX2" if "avx2" in flags else "no AVX2"
    else:
        try:
            import torch

            vector = torch.backends.cpu.get_cpu_capability()
        except Exception:  # pragma: no cover
            vector = platform.machine() or "CPU"
    vnni = " + VNNI" if {"avx512_vnni", "avx_vnni"} & flags else ""
    return f"fp32 ({vector}{vnni}, no fast bf16)"


def cpu_threads() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # pragma: no cover - macOS/Windows
        return os.cpu_count() or 1


def detect(prefer: str | None = None, local_rank: int = 0) -> DeviceInfo:
    """The best device here (or ``prefer``: cuda, mps, cpu)."""
    import psutil
    import torch

    want = prefer or os.environ.get("FRIENDSIM_DEVICE") or ""
    threads = torch.get_num_threads()
    if want in ("", "cuda") and torch.cuda.is_available():
        idx = local_rank % torch.cuda.device_count()
        props = torch.cuda.get_device_properties(idx)
        bf16 = torch.cuda.is_bf16_supported()
        return DeviceInfo("cuda", props.name, threads, props.total_memory, bf16, True, idx)
    mps = getattr(torch.backends, "mps", None)
    if want in ("", "mps") and mps is not None and mps.is_available():
        return DeviceInfo("mps", "Apple MPS", threads, psutil.virtual_memory().total, False, True)
    return DeviceInfo("cpu", cpu_name(), threads, psutil.virtual_memory().total, cpu_has_fast_bf16(), False)


def choose_precision(device: DeviceInfo, requested: str = "auto") -> str:
    """bf16, fp16 or fp32. An explicit request the device cannot honour falls back to fp32."""
    if requested == "fp32":
        return "fp32"
    if requested == "bf16":
        return "bf16" if device.bf16 else "fp32"
    if requested == "fp16":
        return "fp16" if device.kind in ("cuda", "mps") else "fp32"
    if device.bf16:
        return "bf16"
    if device.kind == "cuda" and device.fp16:
        return "fp16"  # pre-Ampere GPUs: fp16 tensor cores with a gradient scaler
    return "fp32"


def autocast_dtype(precision: str):
    import torch

    return {"bf16": torch.bfloat16, "fp16": torch.float16}.get(precision)


def memory(device: DeviceInfo | None = None) -> dict:
    """Readouts for events: process RSS, system RAM, CUDA allocated/reserved/peak, NVML utilisation."""
    import psutil

    vm = psutil.virtual_memory()
    out = {
        "rss": psutil.Process().memory_info().rss,
        "rss_peak": _peak_rss(),
        "system_used": vm.total - vm.available,
        "system_total": vm.total,
    }
    if device is not None and device.kind == "cuda":
        import torch

        out.update(
            cuda_allocated=torch.cuda.memory_allocated(device.index),
            cuda_reserved=torch.cuda.memory_reserved(device.index),
            cuda_peak=torch.cuda.max_memory_allocated(device.index),
            cuda_total=device.memory_total,
        )
        out.update(_nvml(device.index))
    return out


def _peak_rss() -> int | None:
    """This process's peak resident memory in bytes.

    On Linux, VmHWM: ru_maxrss survives exec, so a train process launched by a big parent (the app, a
    benchmark) would report the parent's peak as its own.
    """
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        import resource

        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        return peak if sys.platform == "darwin" else peak * 1024  # bytes on macOS, KiB on Linux
    except (ImportError, OSError):  # pragma: no cover - Windows
        return None


_nvml_ok: bool | None = None


def _nvml(index: int) -> dict:
    global _nvml_ok
    if _nvml_ok is False:
        return {}
    try:
        import pynvml  # nvidia-ml-py

        if _nvml_ok is None:
            pynvml.nvmlInit()
            _nvml_ok = True
        h = pynvml.nvmlDeviceGetHandleByIndex(index)
        util = pynvml.nvmlDeviceGetUtilizationRates(h)
        return {"gpu_util": util.gpu, "gpu_mem_util": util.memory}
    except Exception:
        _nvml_ok = False
        return {}
