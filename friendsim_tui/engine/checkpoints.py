"""Checkpoint folders: ``checkpoints/step-00000200/`` with model.safetensors (the trainable weights), state.pt
(optimizer, scheduler, RNG, gradient scaler), trainer_state.json, and manifest.json, written last with the size
and SHA-256 of each file (friendsim_tui.runs). A checkpoint is written into a temp folder and renamed into place
only when complete; a resume takes the newest one that checks out and loads, and says why it skipped any other.

``best/`` is sealed the same way: the trainable weights of the step with the lowest eval loss yet, and best.json
(that step and its loss). The run's model is built from it, and no step- checkpoint has to be kept for it.
"""

from __future__ import annotations

import json
import os
import shutil
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Callable

import torch
from safetensors import safe_open
from safetensors.torch import load_file, save_file

from friendsim_tui import paths, runs
from friendsim_tui.engine.run_files import TrainError

KEEP = 2
"""Checkpoints kept: the newest, and the one before in case the newest is damaged."""
BEST_FILE = "best.json"


@dataclass
class Saved:
    """A complete checkpoint, read: its folder, trainer_state.json, weights and optimizer/scheduler/RNG state."""

    folder: Path
    state: dict
    weights: dict
    blob: dict


@dataclass
class Best:
    """The step with the lowest eval loss so far."""

    step: int
    eval_loss: float


def trainable_state(model) -> dict:
    return {n: p.detach().to("cpu").contiguous() for n, p in model.named_parameters() if p.requires_grad}


@contextmanager
def _sealed(final: Path, step: int):
    """A temp folder beside ``final`` to write into; once the block is done its files are synced, sealed with a
    manifest and the folder renamed to ``final``. Whatever goes wrong leaves nothing half-written."""
    tmp = final.with_name(f".tmp-{final.name}")
    shutil.rmtree(tmp, ignore_errors=True)
    try:
        paths.private_dir(tmp)
        yield tmp
        for f in tmp.iterdir():
            with open(f, "rb") as fh:
                os.fsync(fh.fileno())
        runs.write_manifest(tmp, step)
        if final.exists():
            shutil.rmtree(final)
        os.replace(tmp, final)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def write(run_dir: Path, step: int, model, optimizer, scheduler, scaler, device, trainer_state: dict) -> Path:
    """Write the checkpoint of ``step`` atomically and drop the older ones beyond KEEP; returns its folder.
    Whatever goes wrong (a full disk: torch.save says RuntimeError) is raised with nothing half-written left."""
    paths.private_dir(run_dir / runs.CHECKPOINTS_DIR)
    final = runs.checkpoint_dir(run_dir, step)
    with _sealed(final, step) as tmp:
        save_file(trainable_state(model), str(tmp / "model.safetensors"), metadata={"format": "pt"})
        rng = {"cpu": torch.get_rng_state()}
        if device.kind == "cuda":
            rng["cuda"] = torch.cuda.get_rng_state(device.index)
        state = {"optimizer": optimizer.state_dict(), "scheduler": scheduler.state_dict(), "rng": rng}
        if scaler:
            state["scaler"] = scaler.state_dict()
        with paths.open_private(tmp / "state.pt", "wb") as f:
            torch.save(state, f)
        runs.write_json_atomic(tmp / "trainer_state.json", trainer_state)
    for old in runs.checkpoints(run_dir)[KEEP:]:
        shutil.rmtree(old, ignore_errors=True)
    return final


def write_best(run_dir: Path, best: Best, model) -> None:
    """Keep ``model``'s trainable weights as the run's best (best/), replacing the previous best."""
    with _sealed(run_dir / runs.BEST_DIR, best.step) as tmp:
        save_file(trainable_state(model), str(tmp / "model.safetensors"), metadata={"format": "pt"})
        runs.write_json_atomic(tmp / BEST_FILE, asdict(best))


def read_best(run_dir: Path) -> Best | None:
    """The step and eval loss best/ holds; None without a complete, undamaged one."""
    folder = run_dir / runs.BEST_DIR
    try:
        runs.check_manifest(folder)
        data = json.loads((folder / BEST_FILE).read_text(encoding="utf-8"))
        return Best(int(data["step"]), float(data["eval_loss"]))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def load_best(run_dir: Path, model, device) -> None:
    """Put best/'s weights into ``model``; ValueError saying why they cannot be."""
    try:
        weights = load_file(str(run_dir / runs.BEST_DIR / "model.safetensors"), device=str(device.torch_device))
    except Exception as exc:
        raise ValueError(f"best/model.safetensors is unreadable ({type(exc).__name__})") from None
    if not _copy_weights(model, weights):
        raise ValueError("best/model.safetensors does not match this model")


def _copy_weights(model, weights: dict) -> bool:
    """Copy ``weights`` (trainable parameters by name) into ``model``; False, copying nothing, when they are
    not exactly its trainable parameters."""
    params = dict(model.named_parameters())
    missing = [n for n, p in params.items() if p.requires_grad and n not in weights]
    if missing or any(n not in params for n in weights):
        return False
    with torch.no_grad():
        for n, t in weights.items():
            params[n].copy_(t)
    return True


def validate(folder: Path) -> dict:
    """trainer_state of a complete, undamaged checkpoint; raises ValueError naming what is wrong."""
    runs.check_manifest(folder)  # sizes and checksums
    try:
        with safe_open(str(folder / "model.safetensors"), "pt") as sf:
            list(sf.keys())
        return json.loads((folder / "trainer_state.json").read_text(encoding="utf-8"))
    except Exception as exc:
        raise ValueError(f"unreadable: {exc}") from None


def read(folder: Path, device) -> tuple[dict, dict]:
    """(trainable weights, optimizer/scheduler/RNG state) of a checkpoint; ValueError naming the file that will
    not load (never torch's own advice, which suggests loading it unsafely)."""
    try:
        weights = load_file(str(folder / "model.safetensors"), device=str(device.torch_device))
    except Exception as exc:
        raise ValueError(f"model.safetensors is unreadable ({type(exc).__name__})") from None
    try:
        blob = torch.load(folder / "state.pt", map_location=device.torch_device, weights_only=True)
        blob["optimizer"], blob["scheduler"], blob["rng"]["cpu"]
    except Exception as exc:
        raise ValueError(f"state.pt is unreadable ({type(exc).__name__})") from None
    return weights, blob


def latest(run_dir: Path, device, warn: Callable[..., None]) -> Saved | None:
    """The newest checkpoint that checks out and loads; each one skipped on the way is a warning."""
    for folder in runs.checkpoints(run_dir):
        try:
            return Saved(folder, validate(folder), *read(folder, device))
        except ValueError as exc:
            warn("checkpoint", f"skipping checkpoint {folder.name}: {exc}; trying the previous one", path=str(folder))
    return None


def restore(saved: Saved, model, optimizer, scheduler, scaler, device) -> None:
    """Put a checkpoint's weights, optimizer, scheduler, scaler and RNG state back; TrainError when its weights
    are not this model's."""
    if not _copy_weights(model, saved.weights):
        raise TrainError(f"checkpoint {saved.folder.name} does not match this model")
    optimizer.load_state_dict(saved.blob["optimizer"])
    scheduler.load_state_dict(saved.blob["scheduler"])
    rng = saved.blob["rng"]
    torch.set_rng_state(rng["cpu"].cpu())
    if "cuda" in rng and device.kind == "cuda":
        torch.cuda.set_rng_state(rng["cuda"].cpu(), device.index)
    if scaler and "scaler" in saved.blob:
        scaler.load_state_dict(saved.blob["scaler"])


def why(exc: BaseException) -> str:
    """One line about a failed write: the OS error behind it when there is one (torch wraps it)."""
    cause = exc if isinstance(exc, OSError) else exc.__context__ if isinstance(exc.__context__, OSError) else None
    if cause is not None:
        return f"{cause.strerror or cause}" + (f" ({cause.filename})" if cause.filename else "")
    return f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
