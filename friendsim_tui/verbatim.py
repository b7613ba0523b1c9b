"""Is a sampled turn an old message copied word for word? An index of a run's training turns that answers fast.

A copy is dull in play, and a leak when someone shares what the model wrote. The index keeps, for every
training turn,

- a hash of the turn's words (a copy: the same words, whatever the case, spacing and punctuation), for
  turns of at least :data:`MIN_COPY_WORDS` words: "ok", "lol" or "see you" are everyone's words, and a
  model saying them copies nobody;
- a hash of each run of :data:`RUN_WORDS` consecutive words inside the turn (a shingle). A sampled turn
  that shares one of them repeats at least that many words of one message in a row.

Words are what chat duplicates are judged by (engine.sampler.same_reply_key): letters and digits of any
script, case folded, everything else a separator. Unlike that rule, a question mark is punctuation here
("coming?" copies "coming"), and text without letters or digits has no words, so it never counts as a copy.
Runs do not cross from one message into the next: a message is what gets copied.

Only 64-bit hashes are kept (BLAKE2b, one personalisation per kind), sorted and unique, in a NumPy
``.npy`` file of uint64 (mode 0600): never the text. Building it costs one hash per training word; loading
reads one array; a look-up is a binary search per run of the sampled turn. A false match needs a 64-bit
collision (about one in 10^19 per pair).

Torch-free: numpy and the standard library only.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Iterable

RUN_WORDS = 8
"""A sampled turn sharing this many consecutive words with one training message counts as verbatim."""
MIN_COPY_WORDS = 3
"""A whole-turn copy counts from this many words on."""

_TURN, _RUN = b"fs-turn", b"fs-run8"


def words(text: str) -> list[str]:
    """The words of ``text`` as copies are judged: letters and digits, case folded; the rest separates."""
    return "".join(ch if ch.isalnum() else " " for ch in text.casefold()).split()


def _hash(kind: bytes, key: str) -> int:
    return int.from_bytes(hashlib.blake2b(key.encode("utf-8"), digest_size=8, person=kind).digest(), "little")


def _keys(ws: list[str]) -> list[int]:
    """The hashes one turn contributes: its words (when long enough) and each run of RUN_WORDS words."""
    out = [_hash(_TURN, " ".join(ws))] if len(ws) >= MIN_COPY_WORDS else []
    out.extend(_hash(_RUN, " ".join(ws[i:i + RUN_WORDS])) for i in range(len(ws) - RUN_WORDS + 1))
    return out


class VerbatimIndex:
    """Hashed normalised turns and hashed runs of RUN_WORDS words; ``is_verbatim(text)`` answers."""

    def __init__(self, hashes) -> None:
        import numpy as np

        self.hashes = np.unique(np.asarray(hashes, dtype=np.uint64))  # sorted, as the look-up needs

    @classmethod
    def build(cls, texts: Iterable[str]) -> "VerbatimIndex":
        """The index of ``texts``, the training turns."""
        import numpy as np

        out: list[int] = []
        for text in texts:
            out.extend(_keys(words(text)))
        return cls(np.array(out, dtype=np.uint64))

    def __len__(self) -> int:
        return int(self.hashes.shape[0])

    def _has(self, keys: list[int]) -> bool:
        import numpy as np

        if not keys or not len(self):
            return False
        q = np.array(keys, dtype=np.uint64)
        at = np.searchsorted(self.hashes, q).clip(max=len(self) - 1)
        return bool((self.hashes[at] == q).any())

    def copies_turn(self, text: str) -> bool:
        """``text`` is a training turn (of MIN_COPY_WORDS words or more), ignoring case, spacing and punctuation."""
        ws = words(text)
        return len(ws) >= MIN_COPY_WORDS and self._has([_hash(_TURN, " ".join(ws))])

    def shares_run(self, text: str) -> bool:
        """``text`` repeats RUN_WORDS or more consecutive words of one training turn."""
        ws = words(text)
        return self._has([_hash(_RUN, " ".join(ws[i:i + RUN_WORDS])) for i in range(len(ws) - RUN_WORDS + 1)])

    def is_verbatim(self, text: str) -> bool:
        """A copy of a training turn, or a run of RUN_WORDS words shared with one."""
        return self._has(_keys(words(text)))

    def save(self, path: Path) -> None:
        """Write the hashes to ``path`` (mode 0600), through a temporary file renamed into place."""
        import numpy as np

        from friendsim_tui import paths

        path = Path(path)
        tmp = path.with_name(f".{path.name}.tmp")
        with paths.open_private(tmp, "wb") as f:
            np.save(f, self.hashes, allow_pickle=False)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)

    @classmethod
    def load(cls, path: Path) -> "VerbatimIndex":
        """The index saved at ``path``; OSError when it is missing, ValueError when it is not one."""
        import numpy as np

        arr = np.load(Path(path), allow_pickle=False)
        if not isinstance(arr, np.ndarray) or arr.dtype != np.uint64 or arr.ndim != 1:
            raise ValueError(f"{path}: not a verbatim index")
        index = cls.__new__(cls)
        index.hashes = arr if bool((arr[1:] > arr[:-1]).all()) else np.unique(arr)
        return index
