"""Role-play for the CLI and the app alike: find a workspace's trained run, load it, read a history file,
check speakers, and sample candidates or whole conversations. No torch at import time.

How the chat screen uses it (the UI thread owns the store, one worker thread owns the sampler):

- pick a run: ``completed_runs(workspace)`` (newest first) or ``find_run(workspace, name)``; the friends
  to play: ``model_speakers(choice)`` (reads friendsim.json only, instant);
- load once, in a ``@work(thread=True)`` worker: ``load_sampler(choice)`` -> a :class:`Sampler` (ChatError)
  that marks the turns copying a training message (``Turn.verbatim``; :class:`CopyCheckingSampler`);
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
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from friendsim_tui.config import ChatConfig
from friendsim_tui.turns import SampleCancelled, SampleError, Sampler, Turn  # noqa: F401 (the app's imports)

if TYPE_CHECKING:  # pragma: no cover
    from friendsim_tui.verbatim import VerbatimIndex


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
    """Load a run's model once (slow: call it from a worker), with the run's verbatim index: a
    :class:`CopyCheckingSampler`. ChatError on anything unusable."""
    from friendsim_tui import runs
    from friendsim_tui.engine import sampler

    try:
        model = sampler.Sampler(choice.model_dir, **kwargs)
    except SampleError as exc:
        raise ChatError(f"run {choice.name!r}: {exc}") from None
    return CopyCheckingSampler(model, run_index(runs.run_dir(choice.workspace, choice.name), model.spec,
                                                model.tokenizer))


def run_index(folder: Path, spec, tokenizer) -> VerbatimIndex | None:
    """The verbatim index of the run in ``folder`` (friendsim_tui.verbatim): the one saved there (training
    writes it at the end of a run), else built once from the run's training data (data/train.bin, read with
    its model's ``spec`` and ``tokenizer``) and saved for next time. None when there is nothing to build it
    from: copies then go unmarked."""
    from friendsim_tui import runs
    from friendsim_tui.verbatim import VerbatimIndex

    path = Path(folder) / runs.VERBATIM_INDEX
    try:
        return VerbatimIndex.load(path)
    except (OSError, ValueError):
        pass
    from friendsim_tui.engine.evaluate import training_index
    from friendsim_tui.engine.prepare import read_ids

    try:
        ids = read_ids(Path(folder), "train")
    except (OSError, ValueError):
        return None
    if not len(ids) or int(ids.max()) >= len(tokenizer):  # no training turns, or another model's data
        return None
    index = training_index(ids, spec, tokenizer)
    try:
        index.save(path)
    except OSError:  # a read-only run folder: built again next time
        pass
    return index


class CopyCheckingSampler:
    """A run's loaded model and its verbatim index as one :class:`Sampler`: every turn the model writes says
    whether it copies a training message (``Turn.verbatim``), and with the chat setting ``hide_copies`` the
    candidates that do are refused and refilled, as duplicates are. The engine knows nothing of run folders;
    this pairs what it samples with what the run was trained on. Anything else is the model's own
    (``dropped_turns``, ``context``, ...)."""

    def __init__(self, sampler: Sampler, index: VerbatimIndex | None) -> None:
        self.sampler = sampler
        self.index = index
        """None when the run has no index and no training data to build one: nothing is marked or hidden."""

    def __getattr__(self, name: str):
        if name == "sampler":  # not set yet (a copy being made): not the model's either
            raise AttributeError(name)
        return getattr(self.sampler, name)

    @property
    def speakers(self) -> list[str]:
        return self.sampler.speakers

    def is_copy(self, text: str) -> bool:
        return self.index is not None and self.index.is_verbatim(text)

    def _mark(self, turn: Turn) -> Turn:
        return replace(turn, verbatim=True) if self.is_copy(turn.text) else turn

    def _marked(self, on_turn):
        return None if on_turn is None else lambda turn: on_turn(self._mark(turn))

    def _reject(self, settings: ChatConfig | None, reject):
        if settings is None or not settings.hide_copies or self.index is None:
            return reject
        return self.is_copy if reject is None else lambda text: self.is_copy(text) or reject(text)

    def candidates(self, history, player, n=None, settings=None, force_speaker=None, on_candidate=None, *,
                   exclude=(), seed=None, reject=None) -> list[Turn]:
        got = self.sampler.candidates(history, player, n, settings, force_speaker, self._marked(on_candidate),
                                      exclude=exclude, seed=seed, reject=self._reject(settings, reject))
        return [self._mark(t) for t in got]

    def impersonate(self, history, player, settings=None, n=1, on_candidate=None, *, exclude=(), seed=None,
                    reject=None) -> list[Turn]:
        got = self.sampler.impersonate(history, player, settings, n, self._marked(on_candidate), exclude=exclude,
                                       seed=seed, reject=self._reject(settings, reject))
        return [self._mark(t) for t in got]

    def conversation(self, prompt_turns=(), turns=8, n=3, settings=None, *, opening=None, on_conversation=None,
                     seed=None) -> list[list[Turn]]:
        """The model's conversations, each turn it wrote marked (the prompt and the opening line are the
        person's). A copy is marked, never dropped: a conversation has no refill."""
        given = len(prompt_turns) + (1 if opening and opening.strip() else 0)

        def mark(conv: list[Turn]) -> list[Turn]:
            return conv[:given] + [self._mark(t) for t in conv[given:]]

        done = None if on_conversation is None else lambda conv: on_conversation(mark(conv))
        got = self.sampler.conversation(prompt_turns, turns, n, settings, opening=opening, on_conversation=done,
                                        seed=seed)
        return [mark(conv) for conv in got]

    def cancel(self) -> None:
        self.sampler.cancel()


def open_sampler(workspace: str, run: str | None = None, **kwargs) -> tuple[RunChoice, Sampler]:
    """``find_run`` then ``load_sampler``."""
    choice = find_run(workspace, run)
    return choice, load_sampler(choice, **kwargs)


def check_speaker(speakers: list[str], workspace: str, name: str) -> str:
    """The model's spelling of ``name``; ChatError says whether it is unknown or left out of training."""
    from friendsim_tui.engine.sampler import match_speaker

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
        if f.type in (bool, "bool"):
            if isinstance(value, bool):
                out = dataclasses.replace(out, **{f.name: value})
            continue
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
    from friendsim_tui.engine.sampler import match_speaker

    if speaker is not None:
        return [Turn(speaker, text)], None
    colons = [i for i, ch in enumerate(text) if ch == ":"]
    for i in reversed(colons):  # the longest known name wins: names may contain colons themselves
        found = match_speaker(speakers, text[:i].strip())
        if found is not None:
            return [Turn(found, text[i + 1:].lstrip())], None
    return [], text
