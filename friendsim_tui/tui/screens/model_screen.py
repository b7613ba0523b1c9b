"""What the Chat and Conversation screens share: one model, sampling in a worker, exports.

The model is loaded in a thread worker (through services.models, which keeps a run's loaded model for the
next screen that asks for it); every sampling request runs in another (exclusive) thread worker and posts
its results back as messages, so the event loop never runs torch.
"""

from __future__ import annotations

import gc
import time
from pathlib import Path
from typing import Any, Callable

from textual import events, on, work
from textual.content import Content
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Input

from friendsim_tui.config import ChatConfig
from friendsim_tui.services.chat import SampleCancelled, Sampler
from friendsim_tui.tui.messages import FileSaved, ModelFailed, ModelLoaded, SamplingDone
from friendsim_tui.tui.screens.dialogs import ChoicePrompt
from friendsim_tui.tui.text import display_path, inert

OpenSampler = Callable[[str, "str | None"], tuple[Any, Sampler]]
"""(workspace, run) -> (RunChoice or None, sampler): services.models.open_sampler, or a scripted one in tests."""

EXPORT_FORMATS = ("Markdown (.md)", "Plain text (.txt)")


def default_open_sampler(workspace: str, run: str | None) -> tuple[Any, Sampler]:
    """The run's model, loaded once and shared by every chat and conversation screen of the app."""
    from friendsim_tui.services import models

    return models.open_sampler(workspace, run)


def chat_defaults(app) -> ChatConfig:
    config = getattr(app, "config", None)
    return getattr(config, "chat", None) or ChatConfig()


def settle_heap() -> None:
    """Hide everything alive now (torch, the model, a long history) from the cyclic garbage collector.

    A full collection walks every tracked object; with torch and transformers loaded that is enough to
    stall the event loop for a few hundred ms at random moments. ``gc.freeze`` is cheap (a list splice)
    and later collections then scan only objects made after it.
    """
    gc.freeze()


class ModelScreen(Screen):
    """Loads a run's model once (thread worker) and runs each sampling request in another (exclusive) one.

    A request gets a token; results of an older request (cancelled, or superseded) are ignored.
    Subclasses show status text with :meth:`_status` and handle :class:`SamplingDone`.

    Typing always goes to the screen's text field (:meth:`text_field`): whatever else has the focus (a list,
    the log), a letter, digit, punctuation mark or space moves the focus there and is typed, so no key a
    person types in a sentence ever runs an action. Only digits may act instead, where
    :meth:`digits_act` says so (picking from a list that has the focus). Every action sits on a chord, a
    function key, esc, or enter.
    """

    ERROR_TITLE = "Chat"

    def __init__(self, workspace: str, run: str, *, open_sampler: OpenSampler | None, sampler: Sampler | None,
                 id: str | None) -> None:
        super().__init__(id=id)
        self.workspace = workspace
        self.run = run
        self._open_sampler = open_sampler or default_open_sampler
        self.sampler: Sampler | None = sampler
        self.settings = ChatConfig()
        self.sampling: str | None = None
        """The kind of request in flight, None when idle."""
        self._token = 0
        self.model_error: str | None = None

    def _status(self, text: str, spinning: bool = False) -> None:
        raise NotImplementedError

    def text_field(self) -> Input:
        """Where typing goes."""
        raise NotImplementedError

    def digits_act(self) -> bool:
        """True while a digit key runs an action (e.g. picks from the focused list) instead of typing."""
        return False

    def on_key(self, event: events.Key) -> None:
        if isinstance(self.focused, Input) or not event.is_printable or not event.character:
            return  # a text field types for itself; chords, function keys, esc and enter are actions
        if event.character.isdigit() and self.digits_act():
            return
        event.prevent_default()
        event.stop()
        self._type_into_field(event.character)

    def on_paste(self, event: events.Paste) -> None:
        if not isinstance(self.focused, Input) and event.text:
            event.stop()
            self._type_into_field(event.text.splitlines()[0])  # one line, as the field takes a paste

    def _type_into_field(self, text: str) -> None:
        field = self.text_field()
        field.focus()
        field.insert_text_at_cursor(text)

    class Stage(Message):
        """How far loading the model is, in words of ours (posted from the loading worker)."""

        def __init__(self, text: str) -> None:
            super().__init__()
            self.text = text

    def _model_missing(self) -> bool:
        """True (and the user told why) while there is no model to sample from."""
        if self.sampler is not None:
            return False
        if self.model_error:
            self.notify(self.model_error, title=self.ERROR_TITLE, severity="error", markup=False)
        else:
            self.notify("The model is still loading.", severity="warning")
        return True

    def _start_model(self) -> None:
        self.settings = chat_defaults(self.app)
        if self.sampler is None:
            self._status("loading the model…", spinning=True)
            self._load_model()
        else:
            self.post_message(ModelLoaded(self.run, self.sampler))

    class DefaultSaved(Message):
        """Sampling settings were written to the settings file as the default (``chat``: the file's [chat]
        now), or could not be (``error``)."""

        def __init__(self, path: Path, chat: ChatConfig | None = None, error: str | None = None) -> None:
            super().__init__()
            self.path = path
            self.chat = chat
            self.error = error

    def config_path(self) -> Path:
        """The settings file the app read (or would read): where "save as default" writes."""
        from friendsim_tui import paths

        return Path(getattr(getattr(self.app, "config", None), "source", None) or paths.config_file())

    @work(thread=True, group="config", exit_on_error=False)
    def _save_default(self, values: dict) -> None:
        from friendsim_tui.config import ConfigError
        from friendsim_tui.config_edit import save_chat_defaults

        path = self.config_path()
        try:
            chat = save_chat_defaults(values, path)
        except ConfigError as exc:
            self.post_message(self.DefaultSaved(path, error=str(exc)))
            return
        self.post_message(self.DefaultSaved(path, chat))

    @on(DefaultSaved)
    def _default_saved(self, message: DefaultSaved) -> None:
        if message.error:
            self.notify(f"Not saved as the default: {message.error}", title="Settings", severity="error",
                        markup=False)
            return
        config = getattr(self.app, "config", None)
        if config is not None and message.chat is not None:
            config.chat = message.chat  # new chats start from it from now on, as after a restart
        self.notify(f"New chats start from these settings ([chat] in {display_path(message.path)}).",
                    title="Settings", markup=False)

    @on(Stage)
    def _stage(self, message: Stage) -> None:
        if self.sampler is None and not self.model_error:
            self._status(message.text, spinning=True)

    @work(thread=True, exclusive=True, group="model", exit_on_error=False)
    def _load_model(self) -> None:
        if self._open_sampler is default_open_sampler:
            from friendsim_tui.services import models

            if models.engine_state() == "warming":
                self.post_message(self.Stage("starting the model engine (torch, transformers)…"))
                models.wait_for_engine()
            if not models.loaded(self.workspace, self.run):
                self.post_message(self.Stage(f"loading the model of run {inert(self.run, 30)}…"))
        try:
            choice, sampler = self._open_sampler(self.workspace, self.run)
        except Exception as exc:  # ChatError, or anything a damaged model folder throws
            self.post_message(ModelFailed(f"cannot load the model of run {self.run}: {exc}"))
            return
        self.post_message(ModelLoaded(getattr(choice, "name", self.run), sampler))

    def _model_ready(self, sampler: Sampler) -> None:
        self.sampler = sampler
        settle_heap()

    @on(ModelFailed)
    def _model_failed(self, message: ModelFailed) -> None:
        if self.sampler is None:
            self.model_error = message.error
        self._status(inert(message.error))
        self.notify(message.error, title=self.ERROR_TITLE, severity="error", markup=False)

    def _cancel_sampling(self) -> None:
        if self.sampling and self.sampler is not None:
            self.sampler.cancel()
        self.sampling = None
        self._token += 1  # whatever is still in flight is stale now

    def _start_sampling(self, kind: str, call: Callable[[int], list]) -> int:
        """Cancel what runs, then run ``call(token)`` (returning candidates or conversations) in a worker."""
        self._cancel_sampling()
        self.sampling = kind
        self._sample(self._token, kind, call)
        return self._token

    @work(thread=True, exclusive=True, group="sample", exit_on_error=False)
    def _sample(self, token: int, kind: str, call: Callable[[int], list]) -> None:
        t0 = time.perf_counter()
        try:
            got = call(token)
        except SampleCancelled:
            self.post_message(SamplingDone(token, kind, [], cancelled=True))
        except Exception as exc:  # SampleError says why in one line; anything else is a bug worth seeing
            self.post_message(SamplingDone(token, kind, [], error=str(exc) or type(exc).__name__))
        else:
            self.post_message(SamplingDone(token, kind, got, seconds=time.perf_counter() - t0))

    def _finished(self, message: SamplingDone) -> bool:
        """Bookkeeping for a request's end; True when it brought results to show."""
        if message.token != self._token:
            return False
        self.sampling = None
        if message.error:
            self._status(f"sampling failed: {inert(message.error)}")
            self.notify(message.error, title=self.ERROR_TITLE, severity="error", markup=False)
            return False
        return not message.cancelled

    def _ask_export(self, title: str, export: Callable[[bool], None]) -> None:
        """Ask Markdown or plain text, then ``export(markdown)``."""

        def chosen(fmt: str | None) -> None:
            if fmt:
                export(fmt == EXPORT_FORMATS[0])

        self.app.push_screen(ChoicePrompt(Content(title), list(EXPORT_FORMATS)), chosen)

    @on(FileSaved)
    def _saved(self, message: FileSaved) -> None:
        if message.error:
            self.notify(message.error, title="Export", severity="error", markup=False)
        else:
            self.notify(f"Saved to {display_path(message.path)}", title="Export", markup=False)

    def on_unmount(self) -> None:
        self._cancel_sampling()
