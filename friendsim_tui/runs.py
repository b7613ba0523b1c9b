"""The run folder, torch-free: where a run's files are, what they are called, and how to read and write them.

Every layer that touches a run goes through this module: the engine (which writes the files), the services,
the CLI and the app. ``<workspace>/runs/<run>/`` holds::

    run.json          settings, status (running/done/stopped/failed), step, model path   read_info / update_info
    events.jsonl      one JSON object per line, appended and flushed by the training process    EventLog / EventTail
    lock              {"pid", "create_time"} while a process trains this run          acquire_lock / lock_alive
    STOP              created by the dashboard or ``runs --stop``: save a checkpoint and stop
    train.log         the output of a train process the app started
    train-config.json the settings of a new run the app started (services.training.start_run)
    friendsim.json    speaker -> token mapping (engine.text.ChatSpec)
    init/, data/      tokenizer and model config at step 0, packed token ids (the engine's own)
    checkpoints/step-00000200/   model.safetensors, state.pt, trainer_state.json, manifest.json (written last)
    best/             the trainable weights of the step with the lowest eval loss yet, best.json, manifest.json;
                      model/ is built from them
    model/            the finished Hugging Face model folder
    eval.json         the held-out figures (engine.evaluate.KEYS): computed at the end of every run, and by
                      `friendsim-tui eval` (which adds source and notes)
    verbatim.npy      hashes of the training turns and their 8-word runs (friendsim_tui.verbatim), never text

psutil is the only import beyond the standard library (and it is imported where the lock needs it). No
``from __future__ import annotations`` here: the event TypedDicts need their NotRequired markers evaluated.
"""

import dataclasses
import hashlib
import json
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Literal, TypedDict, Union

try:
    from typing import NotRequired
except ImportError:  # Python 3.10
    from typing_extensions import NotRequired

from friendsim_tui import paths

RUN_FILE = "run.json"
EVENTS_FILE = "events.jsonl"
LOCK_FILE = "lock"
STOP_FILE = "STOP"
LOG_FILE = "train.log"
TRAIN_CONFIG_FILE = "train-config.json"
MODEL_DIR = "model"
CHECKPOINTS_DIR = "checkpoints"
BEST_DIR = "best"
INIT_DIR = "init"
DATA_DIR = "data"
EVAL_FILE = "eval.json"
VERBATIM_INDEX = "verbatim.npy"
MANIFEST_FILE = "manifest.json"

RUNNING, DONE, STOPPED, FAILED = "running", "done", "stopped", "failed"
VANISHED = "the training process ended without a word (killed, or out of memory?)"
"""The error of a run whose process is gone without writing its end (SIGKILL, the OOM killer, power loss)."""


class RunError(Exception):
    """A run that cannot be named, started, read or continued; the message is one clear line for the user."""


class RunLocked(RunError):
    pass


class RunNameError(RunError, ValueError):
    pass


class RunFileError(RunError, ValueError):
    """run.json is missing or damaged; the message names the file."""


# ---------------------------------------------------------------------------------------------
# Where


def runs_dir(workspace: str) -> Path:
    return paths.workspace_dir(workspace) / "runs"


def run_dir(workspace: str, run: str) -> Path:
    """The folder of ``run``; RunNameError (before anything touches the disk) when the name is not a run name."""
    return runs_dir(workspace) / check_run_name(run)


def check_run_name(name: str) -> str:
    """The one rule for run names, which become folder names and command-line arguments
    (paths.check_ascii_name): no path separators, no '..', no leading dot, no control characters.

    Letters are ASCII only, on purpose: a folder named with accented letters can come back from the file
    system in another Unicode normal form (macOS) and then no longer match the name typed, and look-alike
    letters would make two runs read the same in a list.
    """
    try:
        return paths.check_ascii_name(name)
    except paths.WorkspaceNameError:
        raise RunNameError(f"invalid run name {name!r}: use 1-64 ASCII letters, digits, spaces, '_', '-' or '.', "
                           "starting with a letter or digit") from None


# ---------------------------------------------------------------------------------------------
# run.json


def write_json_atomic(path: Path, data) -> None:
    """Write ``data`` as JSON to a private temp file beside ``path``, then rename it into place."""
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        with paths.open_private(tmp, "w", encoding="utf-8") as f:
            json.dump(data, f, ensure_ascii=False, indent=2)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def read_info(folder: Path) -> dict:
    """What a run's run.json says; RunFileError naming the file when it is missing or damaged."""
    path = folder / RUN_FILE
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise RunFileError(f"{path} is missing") from None
    except OSError as exc:
        raise RunFileError(f"{path} cannot be read: {exc.strerror}") from None
    except ValueError as exc:
        raise RunFileError(f"{path} is damaged (not JSON: {getattr(exc, 'msg', exc)}); it holds the run's "
                           "settings: restore it from a backup, or start a new run") from None
    if not isinstance(data, dict):
        raise RunFileError(f"{path} is damaged (not a JSON object); it holds the run's settings: restore it "
                           "from a backup, or start a new run")
    return data


def update_info(folder: Path, **fields) -> dict:
    """Merge ``fields`` into run.json (a missing or unreadable one starts over), stamped with the time and pid."""
    try:
        data = read_info(folder)
    except RunFileError:
        data = {}
    data.update(fields, updated=time.time(), pid=os.getpid())
    path = folder / RUN_FILE
    try:
        write_json_atomic(path, data)
    except OSError:
        if not path.is_file():
            raise
        # A full disk has no room for a new file, but the old one's blocks take the same news written
        # compactly: run.json must not go on saying "running" for a run that is over.
        with open(path, "r+", encoding="utf-8") as f:
            f.write(json.dumps(data, ensure_ascii=False))
            f.truncate()
    return data


def saved_config(folder: Path):
    """The TrainConfig a run started with (keys this version does not know are ignored)."""
    from friendsim_tui.config import TrainConfig

    data = read_info(folder).get("config", {})
    known = {f.name for f in dataclasses.fields(TrainConfig)}
    return TrainConfig(**{k: v for k, v in data.items() if k in known})


# ---------------------------------------------------------------------------------------------
# Checkpoints: checkpoints/step-00000200/, complete once its manifest (written last) is there


def checkpoint_dir(folder: Path, step: int) -> Path:
    return folder / CHECKPOINTS_DIR / f"step-{step:08d}"


def checkpoints(folder: Path) -> list[Path]:
    """A run's checkpoint folders, newest first, finished or not (check_manifest tells)."""
    root = folder / CHECKPOINTS_DIR
    if not root.is_dir():
        return []
    return sorted((d for d in root.iterdir() if d.is_dir() and d.name.startswith("step-")),
                  key=lambda d: d.name, reverse=True)


def resume_step(folder: Path) -> int:
    """The step a resume would continue from: the newest finished checkpoint's (0 without one). Cheap: the
    manifest is read, the files are not checked (a resume does that, and falls back if it must)."""
    for checkpoint in checkpoints(folder):
        try:
            return int(json.loads((checkpoint / MANIFEST_FILE).read_text(encoding="utf-8"))["step"])
        except (OSError, ValueError, KeyError, TypeError):
            continue
    return 0


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def write_manifest(checkpoint: Path, step: int) -> None:
    """Seal a checkpoint folder: the size and SHA-256 of each of its files, in manifest.json."""
    files = {f.name: {"size": f.stat().st_size, "sha256": _sha256(f)}
             for f in sorted(checkpoint.iterdir()) if f.name != MANIFEST_FILE}
    write_json_atomic(checkpoint / MANIFEST_FILE, {"step": step, "files": files})


def check_manifest(checkpoint: Path) -> None:
    """ValueError naming what is wrong: no manifest (never finished), or a file missing, cut short or
    damaged. Manifests from before checksums (sizes only) are checked for sizes."""
    try:
        files = json.loads((checkpoint / MANIFEST_FILE).read_text(encoding="utf-8"))["files"]
    except (OSError, ValueError, KeyError, TypeError):
        raise ValueError("no manifest (it was never finished)") from None
    for name, entry in files.items():
        f = checkpoint / name
        size, digest = (entry, None) if isinstance(entry, int) else (entry.get("size"), entry.get("sha256"))
        if not f.is_file() or f.stat().st_size != size:
            raise ValueError(f"{name} is missing or truncated")
        if digest is not None and _sha256(f) != digest:
            raise ValueError(f"{name} is damaged (its checksum does not match)")


# ---------------------------------------------------------------------------------------------
# The lock: which process trains this run


def _pid_alive(pid: int, create_time: float | None = None) -> bool:
    import psutil

    try:
        p = psutil.Process(pid)
        if create_time is not None and abs(p.create_time() - create_time) > 1.0:
            return False  # the pid was reused by another process
        return p.status() != psutil.STATUS_ZOMBIE
    except (psutil.NoSuchProcess, psutil.AccessDenied, ValueError):
        return False


def read_lock(folder: Path) -> dict | None:
    try:
        return json.loads((folder / LOCK_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def lock_alive(folder: Path) -> bool:
    """Whether a live process holds the run's lock (a lock left by a dead one does not count)."""
    info = read_lock(folder)
    return bool(info) and _pid_alive(int(info.get("pid", -1)), info.get("create_time"))


def acquire_lock(folder: Path, run: str) -> None:
    """Take the run for this process; RunLocked names the pid of a live holder. A stale lock is replaced."""
    import psutil

    path = folder / LOCK_FILE
    me = {"pid": os.getpid(), "create_time": psutil.Process().create_time()}
    for _ in range(2):
        try:
            fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
        except FileExistsError:
            info = read_lock(folder) or {}
            if lock_alive(folder) and info.get("pid") != os.getpid():
                raise RunLocked(f"run {run!r} is already training (pid {info.get('pid')}); "
                                "stop it first or pick another --run") from None
            path.unlink(missing_ok=True)  # stale: its process is gone
            continue
        with os.fdopen(fd, "w") as f:
            json.dump(me, f)
        return
    raise RunLocked(f"cannot take the lock for run {run!r}")  # pragma: no cover


def release_lock(folder: Path) -> None:
    (folder / LOCK_FILE).unlink(missing_ok=True)


# ---------------------------------------------------------------------------------------------
# Events: written by the training process, read by everyone else


# The schema: one field name per concept. Readers still treat every field as possibly missing or odd (a
# file from an older version, a line cut by a crash), but these are the only names the engine writes.


class MemoryReadout(TypedDict, total=False):
    """engine.devices.memory(): bytes, and NVML utilisation in percent (CUDA fields only on a GPU)."""

    rss: int
    rss_peak: int | None
    system_used: int
    system_total: int
    cuda_allocated: int
    cuda_reserved: int
    cuda_peak: int
    cuda_total: int
    gpu_util: float
    gpu_mem_util: float


class StartEvent(MemoryReadout):
    """A process took the run: a new run (``step`` 0) or a resume from the checkpoint at ``step``."""

    type: Literal["start"]
    time: NotRequired[float]
    run: str
    workspace: str
    base: str
    step: int
    resumed: bool
    device: str
    """The device by name, e.g. "Intel Xeon Platinum 8480+" or "NVIDIA H100 80GB HBM3"."""
    device_kind: str
    """cpu, cuda or mps."""
    precision: str
    threads: int
    world_size: int
    params: int
    trainable_params: int
    lora: bool
    lora_r: NotRequired[int]
    """The LoRA rank, when ``lora``."""
    max_steps: int
    """Planned; a time budget resets it after the first steps (a ``budget`` event)."""
    time_budget: NotRequired[float]
    """Seconds of training the run is sized to, when it has a budget."""
    early_stop_evals: NotRequired[int]
    """Evals without a better eval loss after which the run stops early; absent: it never does (a length was
    set, or early_stop_evals = 0)."""
    block_size: int
    batch_size: int
    grad_accum: int
    blocks_per_step: int
    learning_rate: float
    warmup_steps: int
    schedule: str
    train_blocks: int
    eval_blocks: int
    speakers: list[str]
    memory_estimate: int
    compile: bool
    data: dict[str, int]


class StepEvent(MemoryReadout):
    type: Literal["step"]
    time: NotRequired[float]
    step: int
    max_steps: int
    loss: float
    """Training loss of this step."""
    lr: float
    tokens: int
    elapsed: float
    """Seconds of training so far, over all sessions of the run."""
    tokens_per_second: float
    avg_tokens_per_second: float
    step_time: float
    eta: float
    epoch: float
    grad_norm: float
    batch_size: int
    grad_accum: int


class EvalEvent(TypedDict):
    type: Literal["eval"]
    time: NotRequired[float]
    step: int
    max_steps: int
    eval_loss: float
    perplexity: float
    tokens: int
    blocks: int
    best_step: NotRequired[int]
    """The step with the lowest eval loss so far (this one when it improved): the weights the model is built
    from."""
    best_eval_loss: NotRequired[float]


class AttributionEvent(TypedDict):
    """At each eval: whose voice the model hears in a fixed handful of held-out turns (the same turns every time),
    each turn's text scored after each speaker token (engine.evaluate.attribution)."""

    type: Literal["attribution"]
    time: NotRequired[float]
    step: int
    accuracy: float | None
    """Share of the turns put in the voice of who really wrote them; None with fewer than two speakers."""
    baseline: float | None
    """The share always guessing the speaker with the most of these turns would get."""
    turns: int
    speakers: dict[str, float | None]
    """Speaker -> share of their turns attributed to them (None: none of their turns among these)."""
    confusion: dict[str, dict[str, int]]
    """Who wrote (outer) -> whose voice the model heard (inner) -> turns."""


class BudgetEvent(TypedDict):
    """The time budget set the run's length: at ``step``, with ``step_time`` seconds a step (evals, samples and
    checkpoints spread over the steps), ``max_steps`` end the run within ``time_budget`` seconds of training."""

    type: Literal["budget"]
    time: NotRequired[float]
    step: int
    max_steps: int
    time_budget: float
    step_time: float
    elapsed: float


class EarlyStopEvent(TypedDict):
    """The eval loss has not improved for ``evals`` evals in a row: the run ends here with the weights of
    ``best_step``."""

    type: Literal["early_stop"]
    time: NotRequired[float]
    step: int
    evals: int
    best_step: int
    best_eval_loss: float
    message: str


class SampleEvent(TypedDict):
    type: Literal["sample"]
    time: NotRequired[float]
    step: int
    samples: dict[str, str]
    """speaker -> one sampled line."""


class CheckpointEvent(TypedDict):
    type: Literal["checkpoint"]
    time: NotRequired[float]
    step: int
    path: str
    tokens: int


class WarningEvent(TypedDict):
    type: Literal["warning"]
    time: NotRequired[float]
    message: str
    kind: Literal["memory", "oom", "compile", "sample", "checkpoint", "evaluation"]
    step: NotRequired[int]
    path: NotRequired[str]
    memory_estimate: NotRequired[int]
    memory_available: NotRequired[int]
    batch_size: NotRequired[int]
    grad_accum: NotRequired[int]


class DoneEvent(TypedDict):
    """The run ended on purpose: finished (``status`` done, with the model) or stopped (with the reason). A run
    that finished before its planned steps says why in ``reason`` too (early stop, time budget)."""

    type: Literal["done"]
    time: NotRequired[float]
    status: Literal["done", "stopped"]
    step: int
    max_steps: int
    model: NotRequired[str]
    eval: NotRequired[dict[str, float]]
    """The eval loss and perplexity of the model's weights (the best step's)."""
    tokens: NotRequired[int]
    reason: NotRequired[str]
    best_step: NotRequired[int]
    """The step the model's weights are from: the lowest eval loss of the run."""
    best_eval_loss: NotRequired[float]
    evaluation: NotRequired[dict[str, float | None]]
    """The headline held-out figures computed at the end (all of them: eval.json): eval_loss, perplexity,
    attribution_accuracy, attribution_baseline, verbatim_rate, distinct_2."""


class ErrorEvent(TypedDict):
    type: Literal["error"]
    time: NotRequired[float]
    message: str
    step: int
    traceback: NotRequired[str]


Event = Union[StartEvent, StepEvent, EvalEvent, AttributionEvent, SampleEvent, CheckpointEvent, BudgetEvent,
              EarlyStopEvent, WarningEvent, DoneEvent, ErrorEvent]
EVENT_TYPES: dict[str, type] = {"start": StartEvent, "step": StepEvent, "eval": EvalEvent,
                                "attribution": AttributionEvent, "sample": SampleEvent, "checkpoint": CheckpointEvent,
                                "budget": BudgetEvent, "early_stop": EarlyStopEvent, "warning": WarningEvent,
                                "done": DoneEvent, "error": ErrorEvent}


class EventLog:
    """Appends one JSON object per line to events.jsonl, flushed per line (the dashboard tails it).

    Every event gets ``time`` (unix seconds) here. A log without a path (ranks other than 0) writes nothing.
    """

    def __init__(self, path: Path | None):
        self.path = path
        self._f = paths.open_private(path, "a", encoding="utf-8") if path else None

    def emit(self, event: Event) -> Event:
        event = {"type": event["type"], "time": round(time.time(), 3), **event}
        if self._f is not None:
            self._f.write(json.dumps(event, ensure_ascii=False, default=str) + "\n")
            self._f.flush()
        return event

    def close(self) -> None:
        if self._f is not None:
            self._f.close()
            self._f = None


@dataclass
class ReadResult:
    events: list[dict[str, Any]]
    malformed: int = 0
    reset: bool = False
    """The file shrank or was replaced since the last read: start the state over."""
    more: bool = False
    """The read stopped at its size limit; there is more to read right away."""


class EventTail:
    """Incremental reader of an events file that another process is appending to: the one reader of events.

    Each :meth:`read` returns the complete lines written since the previous one. A last line without
    its newline yet is kept for the next read (it is still being written); lines that are not JSON objects
    with a ``type`` are counted and skipped, except that a line cut by a crash keeps the event after the cut
    (see :func:`parse_lines`). A file that does not exist yet reads as empty. ``start`` begins reading at a
    byte offset (a piece of line there is skipped as malformed).
    """

    def __init__(self, path: Path, chunk_size: int = 4 << 20, start: int = 0) -> None:
        self.path = Path(path)
        self.chunk_size = chunk_size
        self.offset = start
        self._partial = b""
        self._ino: int | None = None

    def read(self) -> ReadResult:
        try:
            with open(self.path, "rb") as fh:
                st = os.fstat(fh.fileno())
                reset = False
                if (self._ino is not None and st.st_ino != self._ino) or st.st_size < self.offset:
                    self.offset, self._partial, reset = 0, b"", True
                self._ino = st.st_ino
                if st.st_size == self.offset:
                    return ReadResult([], reset=reset)
                fh.seek(self.offset)
                data = fh.read(self.chunk_size)
        except FileNotFoundError:
            reset = self._ino is not None
            self.offset, self._partial, self._ino = 0, b"", None
            return ReadResult([], reset=reset)
        except OSError:
            return ReadResult([])
        self.offset += len(data)
        more = self.offset < st.st_size
        *lines, self._partial = (self._partial + data).split(b"\n")
        events, bad = parse_lines(lines)
        return ReadResult(events, bad, reset, more)


def parse_lines(lines: Iterable[bytes]) -> tuple[list[dict[str, Any]], int]:
    """Decode complete lines into event dicts; return them and how many lines were malformed."""
    events: list[dict[str, Any]] = []
    bad = 0
    for raw in lines:
        raw = raw.strip()
        if not raw:
            continue
        event = _parse(raw)
        if event is None:
            # A writer killed mid-line and then resumed leaves `{"type": "st{"type": "start", ...}`:
            # the tail of such a line is still a good event.
            cut = raw.rfind(b'{"type"')
            event = _parse(raw[cut:]) if cut > 0 else None
            bad += 1
        if event is not None:
            events.append(event)
    return events, bad


def _parse(raw: bytes) -> dict[str, Any] | None:
    try:
        obj = json.loads(raw.decode("utf-8", errors="replace"))
    except ValueError:
        return None
    if isinstance(obj, dict) and isinstance(obj.get("type"), str):
        return obj
    return None


def last_events(folder: Path, max_bytes: int = 1 << 16) -> list[dict[str, Any]]:
    """The events in the last ``max_bytes`` of a run's events file, oldest first (complete lines only)."""
    path = folder / EVENTS_FILE
    try:
        size = path.stat().st_size
    except OSError:
        return []
    return EventTail(path, chunk_size=max_bytes, start=max(0, size - max_bytes)).read().events
