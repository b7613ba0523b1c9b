"""Role-play for the CLI and the app alike: find a workspace's trained run, load it, read a history file,
check speakers, and sample candidates or whole conversations. No torch at import time.

How the chat screen uses it (the UI thread owns the store, one worker thread owns the sampler):

- pick a run: ``completed_runs(workspace)`` (newest first) or ``find_run(workspace, name)``; the friends
  to play: ``model_speakers(choice)`` (reads friendsim.json only, instant);
- load once, in a ``@work(thread=True)`` worker: ``load_sampler(choice)`` -> a :class:`Sampler` (ChatError);
- sessions: ``ChatStore(Store.for_workspace(ws))``: ``new_session(run, player, title, settings)``,
  ``list_sessions()``, ``history(id)`` for the sampler, ``add(id, Turn(speaker, text, source,
  candidates=offered, chosen=i))``, ``undo(id)``, ``set_pending(id, offered)``, ``export_markdown(id)``;
  sampling settings: ``settings_from(session.settings, config.chat)`` and ``save_settings``;
- a turn, in the worker: ``sampler.candidates(history, player, n, settings, force_speaker=None,
  on_candidate=lambda c: self.post_message(...), exclude=already_offered)``; impersonate:
  ``sampler.impersonate(history, player, settings)``; stop early: ``sampler.cancel()`` from any thread
  (the call raises SampleCancelled); errors are SampleError with a one-line message.

Every turn, in a history or sampled, is a :class:`~friendsim_tui.turns.Turn`.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path

from friendsim_tui.config import ChatConfig
from friendsim_tui.turns import SampleCancelled, SampleError, Sampler, Turn  # noqa: F401 (the app's imports)


class ChatError(Exception):
    """One line for the user: why role-play cannot start or go on."""


@dataclass(frozen=True)
class RunChoice:
    workspace: str
    name: str
    model_dir: Path


def completed_runs(workspace: str) -> list[dict]:
    """The workspace's runs that finished and left a model folder, newest first."""
    from friendsim_tui.services.training import list_runs

    return [r for r in list_runs(workspace) if r.get("status") == "done" and r.get("model_ready")]


def find_run(workspace: str, run: str | None = None) -> RunChoice:
    """``run`` of ``workspace``, or its newest completed run; ChatError says what is missing."""
    from friendsim_tui import paths, runs
    from friendsim_tui.services.training import run_status
    from friendsim_tui.store.db import DB_NAME

    try:
        folder = paths.workspace_dir(workspace)
    except paths.WorkspaceNameError as exc:
        raise ChatError(str(exc)) from None
    if not (folder / DB_NAME).is_file():
        raise ChatError(f"no workspace named {workspace!r} (see `friendsim-tui workspaces`)")
    if run is None:
        done = completed_runs(workspace)
        if not done:
            raise ChatError(f"workspace {workspace!r} has no trained run yet: "
                            f"train one with `friendsim-tui train --workspace {workspace!r}`")
        return RunChoice(workspace, done[0]["name"], Path(done[0]["path"]))
    try:
        run_folder = runs.run_dir(workspace, run)
    except runs.RunNameError as exc:
        raise ChatError(str(exc)) from None
    if not (run_folder / runs.RUN_FILE).is_file():
        raise ChatError(f"no run named {run!r} in workspace {workspace!r} "
                        f"(see `friendsim-tui runs --workspace {workspace!r}`)")
    status = run_status(workspace, run)
    model = Path(status["path"])
    if not model.is_dir():
        state = status["status"]
        hint = "it is still training" if state == "running" else f"it is {state}"
        raise ChatError(f"run {run!r} has no model folder yet ({hint}); missing {model}")
    return RunChoice(workspace, run, model)


def model_speakers(choice: RunChoice) -> list[str]:
    """The speakers a run's model knows, from its friendsim.json (cheap: no model loading)."""
    from friendsim_tui.engine.text import SPEC_FILE, ChatSpec

    try:
        return ChatSpec.load(choice.model_dir).speakers
    except FileNotFoundError:
        raise ChatError(f"run {choice.name!r}: {choice.model_dir}: no {SPEC_FILE}, so this is not a "
                        "friendsim-tui model") from None
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ChatError(f"run {choice.name!r}: {choice.model_dir / SPEC_FILE}: unreadable: {exc}") from None


def load_sampler(choice: RunChoice, **kwargs) -> Sampler:
    """Load a run's model once (slow: call it from a worker). ChatError on anything unusable."""
    from friendsim_tui.engine import sample

    try:
        return sample.Sampler(choice.model_dir, **kwargs)
    except SampleError as exc:
        raise ChatError(f"run {choice.name!r}: {exc}") from None


def open_sampler(workspace: str, run: str | None = None, **kwargs) -> tuple[RunChoice, Sampler]:
    """``find_run`` then ``load_sampler``."""
    choice = find_run(workspace, run)
    return choice, load_sampler(choice, **kwargs)


def check_speaker(speakers: list[str], workspace: str, name: str) -> str:
    """The model's spelling of ``name``; ChatError says whether it is unknown or left out of training."""
    from friendsim_tui.engine.sample import match_speaker

    found = match_speaker(speakers, name)
    if found is not None:
        return found
    in_workspace = None
    try:
        from friendsim_tui.store import Store, StoreError

        with Store.for_workspace(workspace) as store:
            in_workspace = store.speaker_by_name(name)
    except StoreError:
        pass
    known = ", ".join(speakers)
    if in_workspace is not None:
        raise ChatError(f"{name!r} is in workspace {workspace!r} but not in this run's model (excluded from "
                        f"training, or added after it); the model knows: {known}")
    raise ChatError(f"no speaker named {name!r} in workspace {workspace!r}; the model knows: {known}")


def read_history(path: str | Path) -> list[Turn]:
    """JSON lines ``{"speaker": ..., "text": ...}``, oldest first; blank lines are skipped.

    ChatError names the file and line of the first malformed line.
    """
    path = Path(path)
    try:
        raw = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ChatError(f"{path}: history file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ChatError(f"{path}: cannot read: {exc}") from None
    out = []
    for no, line in enumerate(raw.splitlines(), 1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
        except ValueError as exc:
            raise ChatError(f"{path}:{no}: not valid JSON ({exc.msg})") from None
        if not isinstance(item, dict) or not isinstance(item.get("speaker"), str) \
                or not isinstance(item.get("text"), str):
            raise ChatError(f'{path}:{no}: expected {{"speaker": "...", "text": "..."}} with string values')
        out.append(Turn.from_json(item))
    return out


def check_history(speakers: list[str], workspace: str, history: list[Turn],
                  source: str = "history") -> list[Turn]:
    """Every history speaker resolved to the model's spelling; ChatError names the first unknown one."""
    resolved: dict[str, str] = {}
    out = []
    for i, turn in enumerate(history, 1):
        if turn.speaker not in resolved:
            try:
                resolved[turn.speaker] = check_speaker(speakers, workspace, turn.speaker)
            except ChatError as exc:
                raise ChatError(f"{source} turn {i}: {exc}") from None
        out.append(Turn(resolved[turn.speaker], turn.text))
    return out


def _timed(call):
    """(result, seconds) of a sampler call; SampleError becomes ChatError."""
    t0 = time.perf_counter()
    try:
        out = call()
    except SampleError as exc:
        raise ChatError(str(exc)) from None
    return out, time.perf_counter() - t0


def sample_candidates(sampler: Sampler, history: list[Turn], player: str, n: int,
                      settings: ChatConfig, force_speaker: str | None = None, seed: int | None = None
                      ) -> tuple[list[Turn], float]:
    """Candidates and the seconds sampling took; ChatError when the model gives nothing usable."""
    return _timed(lambda: sampler.candidates(history, player, n, settings, force_speaker=force_speaker, seed=seed))


def sample_conversations(sampler: Sampler, prompt_turns: list[Turn], turns: int, n: int,
                         settings: ChatConfig, opening: str | None = None, seed: int | None = None
                         ) -> tuple[list[list[Turn]], float]:
    """Whole conversations and the seconds sampling took."""
    return _timed(lambda: sampler.conversation(prompt_turns, turns, n, settings, opening=opening, seed=seed))


def settings_from(saved: dict | None, base: ChatConfig | None = None) -> ChatConfig:
    """A session's saved sampling settings over ``base`` (the config file's [chat]); unknown keys and bad
    values are ignored, so an old session never blocks the chat screen."""
    import dataclasses

    from friendsim_tui.config import ConfigError

    out = base or ChatConfig()
    for f in dataclasses.fields(ChatConfig):
        value = (saved or {}).get(f.name)
        if value is None or isinstance(value, bool) or not isinstance(value, (int, float)):
            continue
        value = int(value) if f.type in (int, "int") else float(value)
        trial = dataclasses.replace(out, **{f.name: value})
        try:
            trial.validate("session settings")
        except ConfigError:
            continue
        out = trial
    return out


def split_prompt(speakers: list[str], text: str, speaker: str | None) -> tuple[list[Turn], str | None]:
    """``--prompt`` for a conversation: ``Name: text`` with a known Name (or ``speaker``) says who opens;
    otherwise the text is an opening line whose speaker the model picks."""
    from friendsim_tui.engine.sample import match_speaker

    if speaker is not None:
        return [Turn(speaker, text)], None
    colons = [i for i, ch in enumerate(text) if ch == ":"]
    for i in reversed(colons):  # the longest known name wins: names may contain colons themselves
        found = match_speaker(speakers, text[:i].strip())
        if found is not None:
            return [Turn(found, text[i + 1:].lstrip())], None
    return [], text
