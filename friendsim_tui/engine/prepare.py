"""A new run's data, once, on rank 0: the workspace's dataset -> the base's tokenizer and model (with the speaker
tokens) -> packed token ids. Every later session and every rank reads what this wrote::

    init/        tokenizer + model config at step 0 (resume rebuilds the model from here)
    data/        train.bin / eval.bin: packed uint32 token ids (resume sees identical data)
    friendsim.json   speaker -> token mapping (engine.text.ChatSpec)

and streams the blocks in a seeded order that depends on the step alone (BlockStream).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np
import torch

from friendsim_tui import paths, runs
from friendsim_tui.config import DatasetConfig, TrainConfig
from friendsim_tui.engine import bases, devices
from friendsim_tui.engine.run_files import TrainError
from friendsim_tui.engine.text import ChatSpec, encode_turns


@dataclass
class Prepared:
    """What preparing a new run built: its model and tokenizer (kept, so rank 0 does not build them twice),
    the base as a person reads it, and the figures of its data."""

    model: object
    tokenizer: object
    base_label: str
    data: dict[str, int] = field(default_factory=dict)


def base_dtype(cfg: TrainConfig, device: devices.DeviceInfo):
    """LoRA keeps the frozen base in bf16 where the device does bf16 well: half the memory."""
    if cfg.lora and devices.choose_precision(device, cfg.precision) == "bf16":
        return torch.bfloat16
    return torch.float32


def prepare(folder: Path, workspace: str, cfg: TrainConfig, dataset_cfg: DatasetConfig, dtype,
            log: Callable[[str], None]) -> Prepared:
    """Build a new run's tokenizer, model and packed data into ``folder``; TrainError says what is missing."""
    from friendsim_tui import dataset
    from friendsim_tui.store import Store, StoreError

    try:
        store = Store.for_workspace(workspace)
    except StoreError as exc:
        raise TrainError(str(exc)) from None
    with store:
        ds = dataset.build(store, dataset_cfg)
    if not ds.train:
        raise TrainError(f"workspace {workspace!r} has no messages to train on: "
                         "import chats first (friendsim-tui import PATH --workspace NAME)")
    base = bases.resolve(cfg.base)
    spec = ChatSpec(speakers=ds.speakers(), workspace=workspace)
    texts = [t.text for s in ds.train for t in s.turns]
    log(f"preparing {base.describe()} for {len(spec.speakers)} speakers ...")
    model, tok = bases.load(base, spec.special_tokens(), texts=texts, block_size=cfg.block_size, dtype=dtype,
                            seed=cfg.seed)
    block = cfg.block_size
    context = getattr(model.config, "max_position_embeddings", None)
    if context and block > context:
        raise TrainError(f"block size {block} is longer than {cfg.base}'s context ({context})")

    def pack(sessions) -> np.ndarray:
        ids: list[int] = []
        for s in sessions:
            ids.extend(encode_turns(spec, tok, [(t.speaker, t.text) for t in s.turns]))
        return np.asarray(ids, dtype=np.uint32)

    train_ids, eval_ids = pack(ds.train), pack(ds.eval)
    if len(train_ids) < block:
        raise TrainError(f"the dataset is smaller than one block: {len(train_ids)} tokens < block size "
                         f"{block}; import more chats or use a smaller --block-size")
    if len(eval_ids) == 0 and len(train_ids) >= 20 * block:  # one session only: hold out its tail
        cut = len(train_ids) - max(block, len(train_ids) // 20)
        train_ids, eval_ids = train_ids[:cut], train_ids[cut:]
    data = paths.private_dir(folder / runs.DATA_DIR)
    for name, arr in (("train.bin", train_ids), ("eval.bin", eval_ids)):
        with paths.open_private(data / name, "wb") as f:
            arr.tofile(f)
    init = paths.private_dir(folder / runs.INIT_DIR)
    tok.save_pretrained(init)
    model.config.save_pretrained(init)
    spec.save(folder)
    return Prepared(model, tok, base.describe(), {
        "sessions": len(ds.sessions), "train_sessions": len(ds.train), "eval_sessions": len(ds.eval),
        "messages": sum(len(s.turns) for s in ds.sessions), "train_tokens": int(len(train_ids)),
        "eval_tokens": int(len(eval_ids)), "speakers": len(spec.speakers),
    })


def load_prepared(folder: Path, cfg: TrainConfig, spec: ChatSpec, dtype) -> tuple[object, object]:
    """(model, tokenizer) at step 0 as preparing made them: a resumed run, and ranks other than 0."""
    from transformers import AutoConfig, AutoModelForCausalLM, AutoTokenizer

    init = folder / runs.INIT_DIR
    tok = AutoTokenizer.from_pretrained(init, trust_remote_code=False)
    if cfg.base.startswith("scratch:"):
        torch.manual_seed(cfg.seed)
        return AutoModelForCausalLM.from_config(AutoConfig.from_pretrained(init)), tok
    model, _ = bases.load(bases.resolve(cfg.base), spec.special_tokens(), dtype=dtype, seed=cfg.seed)
    return model, tok


def read_ids(folder: Path, split: str) -> np.ndarray:
    """The packed token ids of ``split`` (train or eval)."""
    return np.fromfile(folder / runs.DATA_DIR / f"{split}.bin", dtype=np.uint32)


def _block_view(ids: np.ndarray, block_size: int) -> torch.Tensor:
    n = len(ids) // block_size
    return torch.from_numpy(ids[: n * block_size].astype("int64")).view(n, block_size)


def load_blocks(folder: Path, cfg: TrainConfig) -> tuple["BlockStream", torch.Tensor]:
    """The training blocks as a stream, and at most ``eval_max_blocks`` eval blocks (less than a block of eval
    data: one short block)."""
    train_ids, eval_ids = read_ids(folder, "train"), read_ids(folder, "eval")
    eval_blocks = _block_view(eval_ids, cfg.block_size)
    if eval_blocks.shape[0] == 0 and len(eval_ids) > 1:
        eval_blocks = torch.from_numpy(eval_ids.astype("int64")).view(1, -1)
    return BlockStream(_block_view(train_ids, cfg.block_size), cfg.seed), eval_blocks[: cfg.eval_max_blocks]


class BlockStream:
    """Blocks in a seeded order per epoch. Step s always reads global blocks [s*E, (s+1)*E), so the data
    position is just the step: a resumed run reads exactly what the original would have."""

    def __init__(self, blocks: torch.Tensor, seed: int):
        self.blocks, self.seed, self._perm = blocks, seed, (-1, None)

    def __len__(self) -> int:
        return self.blocks.shape[0]

    def take(self, start: int, count: int) -> torch.Tensor:
        rows = []
        n = len(self)
        for k in range(start, start + count):
            epoch, i = divmod(k, n)
            if self._perm[0] != epoch:
                g = torch.Generator().manual_seed(self.seed * 100_003 + epoch)
                self._perm = (epoch, torch.randperm(n, generator=g))
            rows.append(self._perm[1][i])
        return self.blocks[torch.stack(rows)]
