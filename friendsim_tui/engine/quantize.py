"""Int8 weights for sampling on CPUs without fast bf16.

Sampling a handful of candidate rows is bound by reading every weight once per token. On a CPU with AMX
or AVX512-BF16 the sampler halves those bytes with bf16; on the others (most laptops and desktops: bf16
is emulated there, far slower than fp32) the weights stay fp32, and int8 weights read a quarter of the
bytes. :func:`int8_copy` gives a copy of a causal LM, for sampling only (never training), whose linear
layers hold int8 weights (one scale per output channel) and quantise their input on the fly (dynamic
quantisation): GPT-2's ``Conv1D`` layers are converted to ``Linear`` first, so every projection and
the LM head are included. The input embedding, the layer norms and everything else are shared with
the fp32 model, not copied: with a tied embedding only the output side becomes int8.

Which kernels, measured on a 5-row decoding step of a gpt2-shaped model (one thread, torch 2.13, an
AVX512 CPU without bf16, in one process; the machine was shared, so ratios, not times, are the point):

- torchao 0.18's ``Int8DynamicActivationInt8WeightConfig``, the maintained API: about 1.9x *slower* than
  fp32. On a CPU it runs eagerly without a fused int8 kernel; a fused one needs ``torch.compile`` (not
  tried: compiling costs minutes on a small CPU, and again for each new batch size). Its weight-only
  config: 1.8x slower.
- ``torch.ops.aten._weight_int8pack_mm`` (weight-only int8, not deprecated): 6-28x slower than fp32 here.
- torch's dynamic int8 linear (``torch.ops.quantized.linear_dynamic``, fbgemm/x86 kernels, what the
  deprecated ``quantize_dynamic`` installs): 2-3.5x *faster* than fp32, and the weights read per token
  are a quarter of fp32's. That is what :class:`Int8Linear` calls. Its quantised-tensor types are
  deprecated in torch: :func:`supported` probes them once, and where they are gone the sampler keeps fp32.

``torch.ao``'s own module classes are not used: their constructor packs a full-size dummy weight before
the real one, a third more time to prepare gpt2 (seconds, on every model load). Other quantised
engines (ARM's qnnpack) are not used either: unmeasured, those CPUs keep fp32.
"""

from __future__ import annotations

import copy
import warnings
from functools import lru_cache

import torch
from torch import nn

__all__ = ["Int8Linear", "applies", "int8_copy", "is_int8", "supported"]

ENGINES = ("x86", "fbgemm")
"""Quantised engines whose int8 Linear was measured faster than fp32 (x86 CPUs)."""


@lru_cache(maxsize=1)
def supported() -> bool:
    """True when this torch has an x86 int8 engine (fbgemm/x86) and its dynamic int8 linear runs."""
    if torch.backends.quantized.engine not in ENGINES:
        return False
    try:
        layer = Int8Linear(torch.ones(2, 4), torch.zeros(2))
        return layer(torch.ones(1, 4)).shape == (1, 2)
    except (RuntimeError, AttributeError, NotImplementedError):  # a torch without the quantised ops
        return False


def applies(setting: str, device: torch.device, weights: torch.dtype, autocast) -> bool:
    """Whether sampling should use int8 weights: ``setting`` is "auto" (the user's ``[chat] quantize``),
    the model runs on a CPU in fp32 without autocast (so the CPU has no fast bf16: devices.choose_precision
    would have picked bf16 otherwise), and this torch has the int8 kernels."""
    from friendsim_tui.engine import devices

    return (setting == "auto" and device.type == "cpu" and weights == torch.float32 and autocast is None
            and not devices.cpu_has_fast_bf16() and supported())


class Int8Linear(nn.Module):
    """``y = x @ W.T + b`` with ``W`` stored as int8, one scale per output row, packed once for the CPU's
    int8 kernels; ``x`` is quantised to 8 bits on each call (dynamic quantisation) and ``y`` is fp32."""

    def __init__(self, weight: torch.Tensor, bias: torch.Tensor | None):
        super().__init__()
        self.out_features, self.in_features = weight.shape
        w = weight.detach().float()
        scale = (w.abs().amax(dim=1) / 127).clamp(min=1e-12).double()
        zero = torch.zeros(self.out_features, dtype=torch.long)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the quantised-tensor deprecation: see the module docstring
            qweight = torch.quantize_per_channel(w, scale, zero, 0, torch.qint8)
        self._packed = torch.ops.quantized.linear_prepack(qweight, None if bias is None else bias.detach().float())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # reduce_range: 7-bit activations, so AVX2's 16-bit multiply-add of two int8 products cannot overflow
        return torch.ops.quantized.linear_dynamic(x, self._packed, True)

    def extra_repr(self) -> str:
        return f"in_features={self.in_features}, out_features={self.out_features}, int8 weights"


def is_int8(model: nn.Module) -> bool:
    """True when ``model`` holds int8 linear layers (an :func:`int8_copy`)."""
    return any(isinstance(m, Int8Linear) for m in model.modules())


def int8_copy(model: nn.Module) -> nn.Module:
    """A copy of ``model`` for inference whose ``Linear`` and GPT-2 ``Conv1D`` layers hold int8 weights.

    Every other parameter and buffer is the same tensor as in ``model`` (shared, not copied), so the copy
    costs the int8 weights only, and ``model`` itself is left as it was.
    """
    from transformers.pytorch_utils import Conv1D

    shared = {id(t): t for t in (*model.parameters(), *model.buffers())}
    out = copy.deepcopy(model, memo=shared).eval()
    with torch.no_grad():
        for parent in list(out.modules()):
            for name, child in list(parent.named_children()):
                if isinstance(child, Conv1D):  # y = x @ W + b with W [in, out]: a Linear's weight is W.T
                    setattr(parent, name, Int8Linear(child.weight.t().contiguous(), child.bias))
                elif type(child) is nn.Linear:
                    setattr(parent, name, Int8Linear(child.weight, child.bias))
    return out
