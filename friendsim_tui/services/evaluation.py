"""``friendsim-tui eval``: the held-out figures of a run (engine.evaluate), found, checked, computed, saved.

- ``evaluate(workspace, run=None, samples=200, settings=config.chat)`` -> :class:`Evaluation`: the figures
  (engine.evaluate.KEYS) and the notes a person should read with them. The run defaults to the workspace's
  newest finished run, else its newest run with a checkpoint.
- A finished run is evaluated from its model folder. A run without one (still training, stopped, failed)
  is evaluated from its newest complete checkpoint, and a note says so.
- Every problem is an :class:`EvalFailed` with one line, raised before anything is written: a run
  without held-out sessions (the workspace was too small to set any aside), a run whose files are
  missing or damaged, a LoRA run before it finishes (its checkpoints hold adapters only).
- Fewer than two speakers: the attribution figures are None and a note says why; the rest is reported.
- Written at the end, in the run folder: runs.EVAL_FILE (the figures plus ``source`` and ``notes``) and,
  the first time, the verbatim index (runs.VERBATIM_INDEX) built from the training turns.

No torch at import time.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from friendsim_tui import runs
from friendsim_tui.config import ChatConfig


class EvalFailed(Exception):
    """One line for the user: why the run cannot be evaluated. Nothing was written."""


@dataclass
class Evaluation:
    figures: dict
    """engine.evaluate.KEYS, in that order."""
    notes: list[str] = field(default_factory=list)
    source: str = "model"
    """'model' (the finished model folder) or 'checkpoint'."""


@dataclass
class _Target:
    workspace: str
    run: str
    folder: Path
    model_dir: Path | None
    """The finished model folder, or None: then ``checkpoint``."""
    checkpoint: Path | None = None
    step: int = 0
    status: str = ""
    block_size: int | None = None
    lora: bool = False


def _damaged(run: str, what: str) -> EvalFailed:
    return EvalFailed(f"run {run!r} is damaged: {what}; train a new run (friendsim-tui train)")


def find_target(workspace: str, run: str | None = None) -> _Target:
    """The run to evaluate and which weights: its model folder, else its newest complete checkpoint."""
    from friendsim_tui.services import chat, training

    try:
        choice = chat.find_run(workspace, run)
    except chat.ChatError as exc:
        found = _unfinished(workspace, run)
        if found is None:
            raise EvalFailed(str(exc)) from None
        return found
    status = training.run_status(workspace, choice.name)
    step = status.get("best_step") or status.get("step") or 0  # the model holds the best step's weights
    return _Target(workspace, choice.name, choice.model_dir.parent, choice.model_dir, step=int(step),
                   status=status["status"])


def _unfinished(workspace: str, run: str | None) -> _Target | None:
    """A run without a model folder that has a checkpoint to evaluate (the named one, or the newest such);
    None when there is none, so the chat's own message about the missing model stands."""
    from friendsim_tui.services import training

    try:
        candidates = [training.run_status(workspace, run)] if run is not None else training.list_runs(workspace)
    except (ValueError, OSError):
        return None
    for status in candidates:
        folder = Path(status["path"]).parent
        if not (folder / runs.RUN_FILE).is_file():
            continue
        found = newest_checkpoint(folder)
        if found is None:
            if run is not None:
                state = "it is still training" if status["status"] == runs.RUNNING else f"it is {status['status']}"
                raise EvalFailed(f"run {run!r} has no model and no complete checkpoint yet ({state}); "
                                 "evaluate it after its first checkpoint")
            continue
        path, step = found
        return _Target(workspace, status["name"], folder, None, checkpoint=path, step=step, status=status["status"])
    return None


def newest_checkpoint(folder: Path) -> tuple[Path, int] | None:
    """(folder, step) of the run's newest complete, undamaged checkpoint."""
    import json

    for ckpt in runs.checkpoints(folder):
        try:
            runs.check_manifest(ckpt)
            return ckpt, int(json.loads((ckpt / runs.MANIFEST_FILE).read_text(encoding="utf-8"))["step"])
        except (ValueError, OSError, KeyError, TypeError):
            continue
    return None


def _read_ids(target: _Target, name: str):
    import numpy as np

    path = target.folder / "data" / name
    try:
        size = path.stat().st_size
    except OSError:
        raise _damaged(target.run, f"data/{name} is missing") from None
    if size % 4:
        raise _damaged(target.run, f"data/{name} is cut short")
    return np.fromfile(path, dtype=np.uint32)


@contextlib.contextmanager
def _checkpoint_folder(target: _Target):
    """A model folder for the checkpoint, assembled beside it for as long as loading takes: the run's step-0
    config and tokenizer (init/), its friendsim.json, and the checkpoint's weights (a hard link where the
    file system allows). Named like the trainer's temporary folders, which it clears when it starts."""
    from friendsim_tui.engine.text import SPEC_FILE

    init = target.folder / "init"
    if not (init / "config.json").is_file():
        raise _damaged(target.run, "init/config.json is missing")
    if target.lora:
        raise EvalFailed(f"run {target.run!r} trains LoRA adapters, and its checkpoints hold only those: "
                         "evaluate it once it has finished")
    tmp = Path(tempfile.mkdtemp(prefix=".tmp-eval-", dir=target.folder))  # mode 0700
    try:
        for f in init.iterdir():
            if f.is_file():
                shutil.copyfile(f, tmp / f.name)
        shutil.copyfile(target.folder / SPEC_FILE, tmp / SPEC_FILE)
        weights = target.checkpoint / "model.safetensors"
        try:
            os.link(weights, tmp / weights.name)
        except OSError:
            shutil.copyfile(weights, tmp / weights.name)
        yield tmp
    except FileNotFoundError as exc:
        raise _damaged(target.run, f"{Path(exc.filename or '?').name} is missing") from None
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _check_weights(target: _Target, model) -> None:
    """A checkpoint holds the trained weights only: every parameter must have come from it."""
    from safetensors import safe_open

    with safe_open(str(target.checkpoint / "model.safetensors"), "pt") as sf:
        saved = set(sf.keys())
    params = {n for n, _ in model.named_parameters()}
    if not params <= saved:
        raise _damaged(target.run, f"checkpoint {target.checkpoint.name} does not hold the whole model")


def _load(target: _Target):
    from friendsim_tui.engine.sampler import Sampler
    from friendsim_tui.turns import SampleError

    try:
        if target.model_dir is not None:
            return Sampler(target.model_dir)
        with _checkpoint_folder(target) as folder:
            sampler = Sampler(folder)
        _check_weights(target, sampler.model)
        return sampler
    except SampleError as exc:
        raise _damaged(target.run, str(exc).replace(str(target.folder) + os.sep, "")) from None


def _index(target: _Target, spec, tokenizer):
    """(the verbatim index, whether it must be saved): the saved one, else built from data/train.bin."""
    from friendsim_tui.engine.evaluate import training_index
    from friendsim_tui.verbatim import VerbatimIndex

    path = target.folder / runs.VERBATIM_INDEX
    with contextlib.suppress(OSError, ValueError):
        return VerbatimIndex.load(path), False
    train_ids = _read_ids(target, "train.bin")
    if len(train_ids) and int(train_ids.max()) >= len(tokenizer):
        raise _damaged(target.run, "data/train.bin does not match its model")
    return training_index(train_ids, spec, tokenizer), True


def evaluate(workspace: str, run: str | None = None, *, samples: int = 200,
             settings: ChatConfig | None = None) -> Evaluation:
    """Evaluate a run on its held-out sessions and save the figures in its folder. EvalFailed on bad input."""
    from friendsim_tui.engine import evaluate as engine

    t0 = time.perf_counter()
    target = find_target(workspace, run)
    notes: list[str] = []
    if target.model_dir is None:
        state = "is still training" if target.status == runs.RUNNING else f"is {target.status} without a model"
        notes.append(f"run {target.run!r} {state}: evaluated its newest checkpoint (step {target.step})")
    try:
        config = runs.saved_config(target.folder)
    except runs.RunError as exc:
        raise EvalFailed(str(exc)) from None
    target.block_size, target.lora = config.block_size, bool(config.lora)
    eval_ids = _read_ids(target, "eval.bin")
    if not len(eval_ids):
        raise EvalFailed(f"run {target.run!r} has no held-out sessions: its workspace was too small to set any "
                         "aside; import more chats and train a new run")
    sampler = _load(target)
    model, tokenizer, spec = sampler.model, sampler.tokenizer, sampler.spec
    vocab = model.get_input_embeddings().num_embeddings
    if int(eval_ids.max()) >= vocab:
        raise _damaged(target.run, "data/eval.bin does not match its model")
    sessions = engine.split_sessions(eval_ids, engine.Vocab.of(spec, tokenizer))
    if not any(s.turns for s in sessions):
        raise EvalFailed(f"run {target.run!r} has no complete held-out turn to evaluate on; import more chats "
                         "and train a new run")
    index, new_index = _index(target, spec, tokenizer) if samples > 0 else (None, False)
    if len(spec.speakers) < 2:
        notes.append(f"speaker attribution needs two speakers; run {target.run!r} knows only one")
    figures = engine.evaluate_model(model, tokenizer, spec, eval_ids, index, sampler=sampler, samples=samples,
                                    settings=settings, block_size=target.block_size, run=target.run, step=target.step,
                                    sessions=sessions)
    figures["seconds"] = round(time.perf_counter() - t0, 2)  # the whole job, loading included
    if new_index:
        index.save(target.folder / runs.VERBATIM_INDEX)
    source = "model" if target.model_dir is not None else "checkpoint"
    engine.save(target.folder, figures, source=source, notes=notes)
    return Evaluation(figures, notes, source)
