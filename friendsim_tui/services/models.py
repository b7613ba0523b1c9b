"""The model engine kept warm for the app: torch and transformers imported in the background from the
moment the app starts, and loaded models shared by the chat and conversation screens of one run.

Importing torch and transformers, and the model classes a first load pulls in, takes most of the time
a chat needs to open (seconds on a small CPU), and a loaded model is worth keeping while the person
moves between the chat, the conversation screen and back. No torch at import time.

- :func:`warm_up` starts the imports in a daemon thread, once; :func:`engine_state` says how far they are
  (``cold``, ``warming``, ``ready`` or ``failed``).
- :func:`open_sampler` is ``services.chat.open_sampler`` with a cache: the same run of the same workspace,
  unchanged on disk, gets the same loaded sampler. It waits for a warm-up in progress first, so torch is
  never imported by two threads at once.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from pathlib import Path

from friendsim_tui.services.chat import RunChoice, Sampler, find_run, load_sampler

KEEP = 2
"""Loaded models kept at most (the least recently opened one goes first)."""

_lock = threading.Lock()
_state = "cold"
_error: str | None = None
_warm = threading.Event()
_thread: threading.Thread | None = None


def warm_up() -> None:
    """Import the model engine in the background (once; later calls do nothing)."""
    global _state, _thread
    with _lock:
        if _thread is not None or _state == "ready":
            return
        _state = "warming"
        _thread = threading.Thread(target=_import_engine, name="friendsim-warm-up", daemon=True)
        _thread.start()


def _import_engine() -> None:
    global _state, _error
    try:
        import torch  # noqa: F401
        import transformers.modeling_utils  # noqa: F401  (what every model class is built on: most of a first load)
        import transformers.models.gpt2.modeling_gpt2  # noqa: F401  (the scratch and GPT-2 bases)
        from transformers import AutoModelForCausalLM, AutoTokenizer  # noqa: F401

        import friendsim_tui.engine.sampler  # noqa: F401
        from friendsim_tui.engine import devices

        devices.detect(None)
        _prepare_weight_loading()
        state = "ready"
    except Exception as exc:  # a broken install: loading a model will say so in its own words
        _error = f"{type(exc).__name__}: {exc}"
        state = "failed"
    with _lock:
        _state = state
    _warm.set()


def _prepare_weight_loading() -> None:
    """transformers 5 builds its table of checkpoint conversions (about a thousand regular expressions, most
    of a second on a small CPU) the first time any model loads; build it now. Best effort: an internal
    function that another transformers version may not have."""
    try:
        from transformers.conversion_mapping import get_checkpoint_conversion_mapping
    except ImportError:
        return
    try:
        get_checkpoint_conversion_mapping("gpt2")
    except Exception:
        pass


def engine_state() -> str:
    """``cold`` (never asked), ``warming``, ``ready`` or ``failed``."""
    return _state


def wait_for_engine(timeout: float | None = None) -> bool:
    """Block until a warm-up in progress has finished (at once when none was started). True when done."""
    if _state == "cold":
        return True
    return _warm.wait(timeout)


_cache: OrderedDict[tuple, tuple[RunChoice, Sampler]] = OrderedDict()
_loading: dict[tuple, threading.Lock] = {}


def _stamp(model_dir: Path) -> tuple:
    """What changes when a run's model is written again (a resumed run, a retrained one)."""
    out = []
    for name in ("config.json", "model.safetensors", "friendsim.json"):
        try:
            st = (model_dir / name).stat()
            out.append((name, st.st_mtime_ns, st.st_size))
        except OSError:
            out.append((name, None, None))
    return tuple(out)


def open_sampler(workspace: str, run: str | None = None) -> tuple[RunChoice, Sampler]:
    """The run's loaded sampler, from the cache when that model is already loaded (slow otherwise: call it
    from a worker). ChatError as ``services.chat.open_sampler``."""
    wait_for_engine()
    choice = find_run(workspace, run)
    key = (choice.workspace, choice.name, str(choice.model_dir), _stamp(choice.model_dir))
    with _lock:
        if key in _cache:
            _cache.move_to_end(key)
            return _cache[key]
        loading = _loading.setdefault(key, threading.Lock())
    with loading:  # a second screen asking for the same model waits for the first load instead of repeating it
        with _lock:
            if key in _cache:
                _cache.move_to_end(key)
                return _cache[key]
        sampler = load_sampler(choice)
        with _lock:
            _loading.pop(key, None)
            for old in [k for k in _cache if k[:3] == key[:3]]:  # the same run's older model: superseded
                del _cache[old]
            _cache[key] = (choice, sampler)
            while len(_cache) > KEEP:
                _cache.popitem(last=False)
    return choice, sampler


def loaded(workspace: str, run: str) -> bool:
    """True when that run's model is in the cache (opening its chat needs no load)."""
    with _lock:
        return any(k[0] == workspace and k[1] == run for k in _cache)


def forget() -> None:
    """Drop every loaded model (tests; freeing memory)."""
    with _lock:
        _cache.clear()
