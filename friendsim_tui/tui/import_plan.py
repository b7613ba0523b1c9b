"""What the Import screen's speaker table says each identity becomes, and what the import is told.

Pure Python (no Textual): the user's decisions per identity (a name, a merge, left out of training), the
target workspace's saved accounts and friends, and from them the friend each identity becomes, exactly as
the import will do it:

- an account the workspace already knows goes to the friend it was saved with (the import follows the
  saved alias whatever the preview says), so it cannot be renamed or merged here;
- a merge is a link to the other identity, not a copy of its name: renaming the friend it was merged into
  takes both along, and ``unmerge`` undoes it;
- leaving out of training applies to the whole friend; a friend the workspace already leaves out stays out.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable, Protocol

Key = tuple[str, str]
"""(source, speaker key): one account in the exports."""


class Identity(Protocol):
    source: str
    key: str
    name: str
    messages: int


@dataclass(frozen=True)
class SavedAccount:
    """An account the target workspace already has messages from."""

    speaker: str
    """the friend it is part of"""
    excluded: bool


@dataclass
class Decision:
    name: str | None = None
    """the user's name for it"""
    into: Key | str | None = None
    """merged into another identity of the preview (its key), or into a friend of the workspace (a name)"""
    exclude: bool = False


@dataclass(frozen=True)
class Fate:
    becomes: str
    """the friend's name after the import"""
    note: str
    """"saved", "merged", "existing" or "" (a new friend)"""
    train: bool


@dataclass
class ImportPlan:
    identities: list
    saved: dict[Key, SavedAccount] = field(default_factory=dict)
    friends: dict[str, tuple[str, bool]] = field(default_factory=dict)
    """the target workspace's friends: name in lower case -> (name, left out of training)"""
    decisions: dict[Key, Decision] = field(default_factory=dict)

    def target(self, saved: dict[Key, SavedAccount], friends: Iterable[tuple[str, bool]]) -> None:
        """The target workspace changed (or was read): its saved accounts and its friends (name, excluded)."""
        self.saved = dict(saved)
        self.friends = {name.lower(): (name, excluded) for name, excluded in friends}

    # -- reading -------------------------------------------------------------------------------------
    @staticmethod
    def key(ident) -> Key:
        return (ident.source, ident.key)

    def _by_key(self, key: Key):
        return next((i for i in self.identities if self.key(i) == key), None)

    def becomes(self, ident, _seen: frozenset = frozenset()) -> str:
        key = self.key(ident)
        if key in self.saved:
            return self.saved[key].speaker
        decision = self.decisions.get(key)
        if decision is not None and decision.into is not None:
            if isinstance(decision.into, str):
                return decision.into
            target = self._by_key(decision.into)
            if target is not None and decision.into not in _seen:
                return self.becomes(target, _seen | {key})
        if decision is not None and decision.name:
            return decision.name
        return ident.name.strip() or ident.key

    def group(self, ident) -> list:
        """The identities that become the same friend as ``ident`` (itself included)."""
        name = self.becomes(ident).lower()
        return [i for i in self.identities if self.becomes(i).lower() == name]

    def saved_here(self, ident) -> bool:
        return self.key(ident) in self.saved

    def merged(self, ident) -> bool:
        """Merged by the user (``unmerge`` undoes it)."""
        decision = self.decisions.get(self.key(ident))
        return decision is not None and decision.into is not None

    def _left_out_by_workspace(self, ident) -> bool:
        return self.friends.get(self.becomes(ident).lower(), ("", False))[1]

    def _left_out_here(self, ident) -> bool:
        return any(self.decisions.get(self.key(i), Decision()).exclude for i in self.group(ident))

    def fate(self, ident) -> Fate:
        becomes = self.becomes(ident)
        if self.saved_here(ident):
            note = "saved"
        elif becomes.lower() in self.friends:
            note = "existing"
        elif self.merged(ident) or len(self.group(ident)) > 1:
            note = "merged"
        else:
            note = ""
        train = not (self._left_out_here(ident) or self._left_out_by_workspace(ident))
        return Fate(becomes, note, train)

    def merge_targets(self, ident) -> list[str]:
        """Names ``ident`` can be merged into: the workspace's friends and the other identities' friends."""
        own = self.becomes(ident).lower()
        names: dict[str, str] = {}
        for name in [*(name for name, _ in self.friends.values()), *(self.becomes(i) for i in self.identities)]:
            if name.lower() != own:
                names.setdefault(name.lower(), name)
        return sorted(names.values(), key=str.lower)

    # -- deciding ------------------------------------------------------------------------------------
    def _decision(self, ident) -> Decision:
        return self.decisions.setdefault(self.key(ident), Decision())

    def refusal(self, ident) -> str | None:
        """Why ``ident`` cannot be renamed or merged here (None when it can)."""
        if self.saved_here(ident):
            return (f"{ident.name} is already part of {self.saved[self.key(ident)].speaker} in this workspace: "
                    "rename or merge friends on Home (r)")
        return None

    def rename(self, ident, name: str) -> None:
        """Give ``ident`` its own name; another friend's name merges the two (a link, as :meth:`merge`)."""
        name = name.strip()
        decision = self._decision(ident)
        decision.into = None
        other = next((n for n in self.merge_targets(ident) if n.lower() == name.lower()), None)
        if other is not None:
            self.merge(ident, other)
        else:
            decision.name = None if name == ident.name else name

    def merge(self, ident, name: str) -> None:
        """Merge ``ident`` into the friend called ``name``: the identity that has that name (its root, so a
        later rename of that friend takes ``ident`` along), or else the workspace's friend of that name."""
        candidates = [i for i in self.identities
                      if i is not ident and self.becomes(i).lower() == name.lower()]
        roots = [i for i in candidates if not self.merged(i)]
        decision = self._decision(ident)
        if roots:
            decision.into = self.key(roots[0])
        elif candidates:
            decision.into = self.decisions[self.key(candidates[0])].into
        else:
            decision.into = name

    def unmerge(self, ident) -> None:
        self._decision(ident).into = None

    def toggle_exclude(self, ident) -> str | None:
        """Leave the friend ``ident`` becomes out of training, or take it back in; a refusal when the
        workspace already leaves that friend out (only Home can take it back in)."""
        if self._left_out_here(ident):
            for i in self.group(ident):
                self._decision(i).exclude = False
            return None
        if self._left_out_by_workspace(ident):
            return (f"{self.becomes(ident)} is left out of training in this workspace: "
                    "take them back in on Home (x)")
        self._decision(ident).exclude = True
        return None

    def choices(self) -> dict[Key, object]:
        """What to tell ``services.importing.import_paths``: a name for each identity whose friend is not
        the one the import would pick by itself, and the friends left out of training."""
        from friendsim_tui.services.importing import SpeakerChoice

        out = {}
        for ident in self.identities:
            if self.saved_here(ident):
                name = None  # the import follows the saved alias
            else:
                becomes = self.becomes(ident)
                name = None if becomes == (ident.name.strip() or ident.key) else becomes
            exclude = self._left_out_here(ident)
            if name or exclude:
                out[self.key(ident)] = SpeakerChoice(name=name, exclude=exclude)
        return out
