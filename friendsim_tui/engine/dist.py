"""Distributed plumbing for training: a no-op for one process; under ``torchrun`` / ``accelerate launch``
(WORLD_SIZE > 1) a process group (gloo on CPU, nccl on CUDA) that every rank joins."""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch
import torch.distributed as td


@dataclass
class Dist:
    rank: int = 0
    world: int = 1
    local_rank: int = 0
    local_world: int = 1

    @classmethod
    def from_env(cls) -> "Dist":
        env = os.environ
        return cls(int(env.get("RANK", 0)), int(env.get("WORLD_SIZE", 1)), int(env.get("LOCAL_RANK", 0)),
                   int(env.get("LOCAL_WORLD_SIZE", env.get("WORLD_SIZE", 1))))

    @property
    def main(self) -> bool:
        return self.rank == 0

    def init(self, cuda: bool) -> None:
        if self.world > 1 and not td.is_initialized():
            td.init_process_group(backend="nccl" if cuda else "gloo")

    def barrier(self) -> None:
        if self.world > 1:
            td.barrier()

    def broadcast(self, obj):
        """Rank 0's ``obj`` on every rank."""
        if self.world == 1:
            return obj
        box = [obj]
        td.broadcast_object_list(box, src=0)
        return box[0]

    def all_sum(self, values: list[float]) -> list[float]:
        if self.world == 1:
            return values
        t = torch.tensor(values, dtype=torch.float64)
        td.all_reduce(t)
        return t.tolist()

    def close(self) -> None:
        if self.world > 1 and td.is_initialized():
            td.destroy_process_group()
