"""Faster pieces of a training step that compute the same thing: a chunked cross-entropy, torch's fused GELU,
dropout at its setting; and how an out-of-memory error looks on each device."""

from __future__ import annotations

import torch
import torch.nn.functional as F

LOSS_CHUNK = 2048
"""Tokens per cross-entropy chunk: fp32 values exist for one chunk at a time, never for the whole batch."""


def fast_training_kernels(model, dropout: float) -> None:
    """Dropout at ``dropout`` (0 by default: dropout costs ~15% of a CPU step and turns off the fused SDPA
    kernels) and GPT-2's hand-written tanh GELU swapped for torch's fused one (the same formula)."""
    from transformers.activations import GELUTanh, NewGELUActivation

    for module in model.modules():
        if isinstance(module, torch.nn.Dropout):
            module.p = dropout
        for name, child in module.named_children():
            if isinstance(child, NewGELUActivation):
                setattr(module, name, GELUTanh())


def chunked_causal_lm_loss(logits, labels, vocab_size=None, num_items_in_batch=None, ignore_index=-100,
                           shift_labels=None, **kwargs):
    """Drop-in for transformers' ForCausalLMLoss, faster and without its fp32 copies of all logits.

    The stock loss upcasts the whole (batch, block, vocab) logits to fp32 and keeps the log-softmax for
    backward: ~2.5 GB for GPT-2 at micro-batch 16, and several passes over it. Here each chunk of tokens is
    upcast once; its loss and its gradient (softmax minus one-hot) are computed together in the forward
    pass and the gradient is kept in the logits' own dtype, so backward is one scaling.
    """
    if shift_labels is None:
        shift_labels = F.pad(labels, (0, 1), value=ignore_index)[..., 1:]
    targets = shift_labels.reshape(-1).to(logits.device)
    total = ChunkedCrossEntropy.apply(logits, targets, ignore_index)
    count = num_items_in_batch if num_items_in_batch is not None else (targets != ignore_index).sum()
    if hasattr(count, "to"):
        count = count.to(total.device)
    return total / count


class ChunkedCrossEntropy(torch.autograd.Function):
    """Sum of token cross-entropies; the gradient is computed in forward, chunk by chunk."""

    @staticmethod
    def forward(ctx, logits, targets, ignore_index):
        flat = logits.reshape(-1, logits.shape[-1])
        grad = torch.empty_like(flat) if logits.requires_grad else None
        total = torch.zeros((), dtype=torch.float32, device=logits.device)
        for start in range(0, flat.shape[0], LOSS_CHUNK):
            x = flat[start: start + LOSS_CHUNK].float()
            tg = targets[start: start + LOSS_CHUNK]
            valid = (tg != ignore_index).unsqueeze(1)
            safe = tg.clamp_min(0).unsqueeze(1)
            lse = torch.logsumexp(x, dim=-1, keepdim=True)
            total += ((lse - x.gather(1, safe)) * valid).sum()
            if grad is not None:
                x.sub_(lse).exp_()  # softmax, in place
                x.scatter_add_(1, safe, -torch.ones_like(lse))
                grad[start: start + LOSS_CHUNK] = x.mul_(valid)
        ctx.save_for_backward(grad)
        ctx.shape = logits.shape
        return total

    @staticmethod
    def backward(ctx, grad_total):
        (grad,) = ctx.saved_tensors
        return grad.mul_(grad_total.to(grad.dtype)).view(ctx.shape), None, None  # used once: in place


def is_oom(exc: BaseException) -> bool:
    if isinstance(exc, torch.OutOfMemoryError):
        return True
    text = str(exc)
    return isinstance(exc, RuntimeError) and ("out of memory" in text or "can't allocate memory" in text)
