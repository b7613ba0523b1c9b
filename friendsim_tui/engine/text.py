"""The text the model reads and writes. Pure Python: no torch here, so the sampler and tests share it.

A session becomes::

    <|session|><|speaker_0|>first message<|eot|><|speaker_2|>a reply
    that spans two lines<|eot|>...<|end|>

- Every speaker is an added special token ``<|speaker_N|>``; the mapping from N to display name lives in
  the model folder's ``friendsim.json``, so names with spaces, colons or ``|>`` are never ambiguous.
- ``<|eot|>`` ends a turn: the sampler stops exactly there and knows who spoke from the token before.
- ``<|session|>`` opens a session and ``<|end|>`` closes it, so the model sees conversation boundaries.
- Message text is kept as is (newlines included). Text that happens to contain one of our token strings is
  defused by the tokenizer (special tokens are only produced from the spec, see ``encode_turns``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

SESSION = "<|session|>"
END = "<|end|>"
EOT = "<|eot|>"
SPEAKER_FMT = "<|speaker_{}|>"
SPEC_FILE = "friendsim.json"


@dataclass
class ChatSpec:
    """How speakers map to tokens; saved next to the model as ``friendsim.json``."""

    speakers: list[str] = field(default_factory=list)
    """Display names; speaker i is token ``<|speaker_i|>``."""
    workspace: str = ""
    version: int = 1

    def token(self, speaker: str) -> str:
        return SPEAKER_FMT.format(self.speakers.index(speaker))

    def speaker_tokens(self) -> list[str]:
        return [SPEAKER_FMT.format(i) for i in range(len(self.speakers))]

    def special_tokens(self) -> list[str]:
        return [SESSION, END, EOT, *self.speaker_tokens()]

    def format_turn(self, speaker: str, text: str) -> str:
        return f"{self.token(speaker)}{text}{EOT}"

    def format_session(self, turns: list[tuple[str, str]], closed: bool = True) -> str:
        body = "".join(self.format_turn(s, t) for s, t in turns)
        return f"{SESSION}{body}{END if closed else ''}"

    def save(self, folder: Path) -> None:
        (Path(folder) / SPEC_FILE).write_text(
            json.dumps({"version": self.version, "workspace": self.workspace, "speakers": self.speakers},
                       ensure_ascii=False, indent=2),
            encoding="utf-8",
        )

    @classmethod
    def load(cls, folder: Path) -> "ChatSpec":
        data = json.loads((Path(folder) / SPEC_FILE).read_text(encoding="utf-8"))
        return cls(speakers=list(data["speakers"]), workspace=data.get("workspace", ""), version=data.get("version", 1))


def encode_turns(spec: ChatSpec, tokenizer, turns: list[tuple[str, str]], opened: bool = True,
                 closed: bool = True) -> list[int]:
    """Token ids for ``format_session(turns)``, built from ids so message text can never produce a special token.

    ``tokenizer`` is a Hugging Face fast tokenizer with the spec's special tokens added. Message text is
    encoded with special-token matching off: a friend who typed ``<|eot|>`` gets the characters, not the
    control token. ``opened=False`` leaves out ``<|session|>``; ``closed=False`` leaves out ``<|end|>``
    (a prompt for the next turn).
    """
    ids = tokenizer.convert_tokens_to_ids
    backend = tokenizer.backend_tokenizer
    before = backend.encode_special_tokens
    backend.encode_special_tokens = True
    try:
        bodies = [e.ids for e in backend.encode_batch([t for _, t in turns], add_special_tokens=False)] if turns else []
    finally:
        backend.encode_special_tokens = before
    out = [ids(SESSION)] if opened else []
    eot = ids(EOT)
    for (speaker, _), body in zip(turns, bodies):
        out.append(ids(spec.token(speaker)))
        out.extend(body)
        out.append(eot)
    if closed:
        out.append(ids(END))
    return out
