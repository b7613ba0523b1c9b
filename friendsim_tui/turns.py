"""A chat turn, the one shape it has from the sampler to the session store to the screen.

Pure Python (no torch, no Textual): the engine returns :class:`Turn` objects, the store keeps them (a
stored turn, :class:`~friendsim_tui.store.chats.ChatTurn`, is a Turn with its place in the session's
tree), and the app shows them. :class:`Sampler` is what the app and the command line ask of a loaded
model (the engine's ``Sampler`` class, or a scripted stand-in in tests).

Text is plain text exactly as written or sampled: never markup, never escaped here. Showing it
inertly is the caller's job; :func:`transcript` does it for the files a chat or a conversation is
exported to.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Iterable, Protocol, Sequence

from friendsim_tui.config import ChatConfig
from friendsim_tui.safe_text import inert_lines, md_escape

SOURCES = ("player", "model", "edited")
"""player: typed by the person; model: a sampled turn taken as is; edited: a sampled turn changed first."""


@dataclass(frozen=True)
class Turn:
    """Who speaks and what they say; in a session also how the turn came about and what was on offer."""

    speaker: str
    text: str
    source: str = "model"
    """One of :data:`SOURCES`."""
    candidates: tuple[Turn, ...] = ()
    """Every candidate offered for this turn (swipes included), oldest first."""
    chosen: int | None = None
    """Index into ``candidates`` of the one taken; None when the player typed the turn."""
    verbatim: bool = False
    """A sampled turn that copies a training message, or repeats a run of its words (friendsim_tui.verbatim):
    set where the run's index is at hand (services.chat.CopyCheckingSampler), shown as "said before"."""

    def to_json(self) -> dict:
        """``{"speaker", "text"}``: the turn as said (how the command line prints it and the store keeps
        a candidate), with ``"verbatim": true`` when it copies a training message."""
        return {"speaker": self.speaker, "text": self.text, **({"verbatim": True} if self.verbatim else {})}

    @classmethod
    def from_json(cls, item: dict) -> Turn:
        return cls(str(item["speaker"]), str(item["text"]), verbatim=item.get("verbatim") is True)


_TAGS = {"player": " (you)", "edited": " (edited)"}


def transcript(turns: Iterable[Turn], markdown: bool = False) -> list[str]:
    """The lines of an export file for ``turns``, every name and text made inert.

    Plain: ``Name: text``, the further lines of a turn indented by two spaces. Markdown, escaped so it renders
    as the characters typed: ``**Name** (you): text``, the further lines as line breaks of the same paragraph,
    a blank line after each turn; the tag says who wrote a turn the model did not (:data:`SOURCES`)."""
    out = []
    for t in turns:
        if markdown:
            body = "  \n".join(md_escape(line) for line in t.text.split("\n"))
            out += [f"**{md_escape(t.speaker)}**{_TAGS.get(t.source, '')}: {body}", ""]
        else:
            first, *rest = inert_lines(t.text).split("\n")
            out.append(f"{inert_lines(t.speaker)}: {first}")
            out.extend(f"  {r}" for r in rest)
    return out


class SampleError(Exception):
    """Sampling cannot go on; the message says why, in one line, for a person."""


class SampleCancelled(SampleError):
    """:meth:`Sampler.cancel` was called while sampling."""


OnTurn = Callable[[Turn], None]
Reject = Callable[[str], bool]
"""A sampled turn's text -> True to refuse it as a candidate (it is refilled, as a duplicate is)."""


class Sampler(Protocol):
    """A loaded model that answers sampling requests (thread-safe; each call may take seconds).

    ``history`` is the conversation so far, oldest first. Every call raises SampleError with a one-line
    reason when nothing usable came out, and SampleCancelled after :meth:`cancel` (from any thread).
    """

    @property
    def speakers(self) -> list[str]:
        """The friends the model knows, in its own spelling."""

    def candidates(self, history: Sequence[Turn], player: str, n: int | None = None,
                   settings: ChatConfig | None = None, force_speaker: str | None = None,
                   on_candidate: OnTurn | None = None, *, exclude: Iterable[str] = (),
                   seed: int | None = None, reject: Reject | None = None) -> list[Turn]:
        """Up to ``n`` distinct candidate turns by anyone but ``player`` (or by ``force_speaker``);
        ``on_candidate`` gets each as soon as it is ready; ``exclude``: texts already on offer; ``reject``:
        texts never to offer (refilled like duplicates)."""

    def impersonate(self, history: Sequence[Turn], player: str, settings: ChatConfig | None = None, n: int = 1,
                    on_candidate: OnTurn | None = None, *, exclude: Iterable[str] = (),
                    seed: int | None = None, reject: Reject | None = None) -> list[Turn]:
        """The player's own next line(s)."""

    def conversation(self, prompt_turns: Sequence[Turn] = (), turns: int = 8, n: int = 3,
                     settings: ChatConfig | None = None, *, opening: str | None = None,
                     on_conversation: Callable[[list[Turn]], None] | None = None,
                     seed: int | None = None) -> list[list[Turn]]:
        """``n`` whole conversations continuing ``prompt_turns``."""

    def cancel(self) -> None:
        """Stop the call in progress (it raises SampleCancelled)."""
