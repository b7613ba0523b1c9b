"""Import: pick export files or folders, preview what they hold, adjust speakers, then import.

Nothing is written before Enter; the import is one transaction, so an error or a cancel leaves the
workspace exactly as it was.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Callable

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.message import Message
from textual.message_pump import MessagePump
from textual.screen import Screen
from textual.widgets import DirectoryTree, Footer, Input, ProgressBar, Static
from textual.worker import Worker, get_current_worker

from friendsim_tui.tui import data
from friendsim_tui.tui.commands import PaletteCommand
from friendsim_tui.tui.import_plan import ImportPlan, SavedAccount
from friendsim_tui.tui.messages import (
    ImportFailed,
    ImportFinished,
    PreviewFailed,
    PreviewReady,
    WorkProgress,
)
from friendsim_tui.tui.screens.dialogs import ChoicePrompt, rename_prompt
from friendsim_tui.tui.screens.home import check_new_workspace_name
from friendsim_tui.tui.text import display_path, fmt_range, inert, inert_content, inert_text, plural
from friendsim_tui.tui.widgets.file_tree import ChatFileTree
from friendsim_tui.tui.widgets.row_table import RowTable
from friendsim_tui.tui.widgets.text_input import TextInput

PROGRESS_INTERVAL = 0.1
"""Seconds between progress messages from a worker (at most ~10 a second)."""
MAX_PROBLEMS_SHOWN = 8
MAX_FILES_SHOWN = 5
"""Files listed one per line in the preview (each kind: read, not a chat); the rest are counted."""
NAME_WIDTH = 20
"""Speaker names are cut to this many characters in the table (the full name is in the rename dialog)."""
FIRST_HINT = "Type a path, then enter; or tab to Files: enter previews a file, a adds one."
"""What the status line says first; it fits 80 columns."""


class _Cancelled(Exception):
    """Raised inside the worker's progress callback to stop reading; the import rolls back."""


class _Progress:
    """The services' progress callback, throttled, posting :class:`WorkProgress` from the worker thread."""

    def __init__(self, target: MessagePump, worker: Worker, verb: str) -> None:
        self.target = target
        self.worker = worker
        self.verb = verb
        self._last = 0.0

    def __call__(self, index: int, count: int, path: str, done: int, total: int) -> None:
        if self.worker.is_cancelled:
            raise _Cancelled()
        now = time.monotonic()
        if now - self._last < PROGRESS_INTERVAL:
            return
        self._last = now
        fraction = (index + (min(done / total, 1.0) if total else 1.0)) / max(count, 1)
        self.target.post_message(WorkProgress(fraction, f"{self.verb} {Path(path).name}  ({index + 1}/{count})"))


def _error_content(error, name: Callable[[str], str] = display_path) -> Content:
    """A ChatImportError (or a plain message) as one inert line naming the file and the place."""
    path = getattr(error, "path", None)
    if path is None:
        return inert_content(str(error), "$error")
    where = getattr(error, "where", None)
    return Content.assemble(
        ("✗ ", "$error"),
        (name(path), "bold"),
        inert_content(f" ({where})" if where else ""),
        inert_content(f": {error.detail}"),
    )


class ImportScreen(Screen):
    """Returns the :class:`ImportResult` when something was imported, None when the user backs out.

    Keys act on what has the focus: a adds the file highlighted in Files, r/m/u/x act on the speaker
    highlighted in the speakers table; in Path and Into every printable key is typed (enter previews the
    path, and imports once what it names is previewed).
    """

    BINDINGS = [
        Binding("enter", "start_import", "Import", tooltip="Import what the preview shows"),
        Binding("a", "add_highlighted", "Add", tooltip="Add the highlighted file or folder to the selection"),
        Binding("r", "rename", "Rename", tooltip="Rename the speaker (another friend's name merges the two)"),
        Binding("m", "merge", "Merge", tooltip="Merge the speaker into another friend"),
        Binding("u", "unmerge", "Unmerge", tooltip="Undo the speaker's merge"),
        Binding("x", "toggle_exclude", "Exclude", tooltip="Leave the speaker's friend out of training, or back in"),
        Binding("escape", "back", "Back", tooltip="Back to Home (cancels a running import)"),
    ]
    HELP_GROUPS = {"add_highlighted": "Files", "rename": "Speakers", "merge": "Speakers", "unmerge": "Speakers",
                   "toggle_exclude": "Speakers"}

    class TargetRead(Message):
        """What the target workspace already holds: its friends and the accounts it has saved."""

        def __init__(self, target: str, exists: bool, friends: list[tuple[str, bool]],
                     saved: dict[tuple[str, str], SavedAccount]) -> None:
            super().__init__()
            self.target = target
            self.exists = exists
            self.friends = friends
            self.saved = saved

    def __init__(self, target: str | None, start_dir: str | Path) -> None:
        super().__init__(id="import")
        self.start_dir = Path(start_dir)
        self._initial_target = target or ""
        self.selection: list[Path] = []
        self.preview = None
        """The last preview (services.importing.Preview), for ``self.selection``."""
        self.plan = ImportPlan([])
        """The speakers of the preview, what the user decided for them and what the target already holds."""
        self.importing = False
        self._path_shown = ""
        """The Path field's text when the selection was made: enter on it unchanged imports."""

    # -- layout -----------------------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        yield Static(Content(""), id="import-title")
        with Horizontal(classes="field-row", id="path-row"):
            yield Static(Content("Path"), classes="field-label")
            yield TextInput(
                placeholder="a chat export file or a folder of them, then enter (or browse below)",
                id="path",
                compact=True,
            )
        with Horizontal(classes="field-row"):
            yield Static(Content("Into"), classes="field-label")
            yield TextInput(self._initial_target, placeholder="a workspace name", id="target", compact=True)
            yield Static(Content(""), id="target-note")
        with Horizontal(id="import-body"):
            tree = ChatFileTree(self.start_dir, id="files")
            tree.border_title = Content("Files")
            yield tree
            with Vertical(id="preview") as preview:
                preview.border_title = Content("Preview")
                yield Static(Content("Pick a file or folder to see what it holds.").stylize("dim"), id="preview-summary")
                yield Static(Content(""), id="problems")
                yield RowTable(
                    [("Speaker", "speaker"), ("becomes", "becomes"), ("msgs", "msgs"), ("train", "train")],
                    id="identities",
                )
        with Horizontal(id="progress-row"):
            yield ProgressBar(total=100, show_eta=True, id="progress")
            yield Static(Content(""), id="status")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.query_one("#identities").display = False
        self.query_one("#problems").display = False
        self.query_one("#progress").display = False
        self._set_status(FIRST_HINT)
        self._target_changed(self._initial_target)
        self.query_one("#path", Input).focus()

    # -- helpers ----------------------------------------------------------------------------------
    def _set_status(self, text: str | Content, error: bool = False) -> None:
        content = text if isinstance(text, Content) else Content(text)
        self.query_one("#status", Static).update(content.stylize("$error") if error else content)

    @property
    def target(self) -> str:
        return self.query_one("#target", Input).value.strip()

    def _show_error(self, content: Content) -> None:
        problems = self.query_one("#problems", Static)
        problems.update(content)
        problems.display = True

    def _short(self, path: str | Path) -> str:
        """A file's name relative to the selected folder it was found in, else its ``~/`` path."""
        path = Path(path)
        for chosen in self.selection:
            if path == chosen:
                return inert(path.name)
            if path.is_relative_to(chosen):
                return inert(str(path.relative_to(chosen)))
        return display_path(path)

    def _resolve(self, typed: str) -> Path:
        path = Path(typed).expanduser()
        return path if path.is_absolute() else self.start_dir / path

    def _working(self, on: bool) -> None:
        bar = self.query_one("#progress", ProgressBar)
        bar.display = on
        if on:
            bar.update(total=100, progress=0)

    # -- picking files ----------------------------------------------------------------------------
    @on(Input.Submitted, "#path")
    def _path_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        if self.preview is not None and event.value == self._path_shown:
            self.action_start_import()  # enter again on what the preview shows
        elif event.value.strip():
            self._show_path(event.value)
            self.select([self._resolve(event.value.strip())])

    def _show_path(self, text: str) -> None:
        self.query_one("#path", Input).value = self._path_shown = text

    @on(Input.Submitted, "#target")
    def _target_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_start_import()

    @on(DirectoryTree.FileSelected, "#files")
    def _file_selected(self, event: DirectoryTree.FileSelected) -> None:
        event.stop()
        if self.preview is not None and self.selection == [event.path]:
            self.action_start_import()  # enter again on the file the preview shows
            return
        self._show_path(display_path(event.path))
        self.select([event.path])

    def action_add_highlighted(self) -> None:
        path = self.query_one("#files", ChatFileTree).highlighted_path()
        if path is None or path in self.selection:
            return
        self._show_path(display_path(path))
        self.select([*self.selection, path])

    def select(self, paths: list[Path]) -> None:
        """Preview ``paths`` (files or folders); nothing is written."""
        if self.importing:
            return
        self.selection = paths
        self.preview = None
        self.plan = ImportPlan([], self.plan.saved, self.plan.friends)
        self.query_one("#identities", RowTable).display = False
        self.query_one("#problems").display = False
        self.query_one("#preview-summary", Static).update(Content("Reading…").stylize("dim"))
        self._working(True)
        self._set_status(Content.assemble("Reading ", inert_content(", ".join(display_path(p) for p in paths))))
        self.refresh_bindings()
        self._run_preview(paths)

    @work(thread=True, exclusive=True, group="preview", exit_on_error=False)
    def _run_preview(self, paths: list[Path]) -> None:
        from friendsim_tui.services import importing

        try:
            preview = importing.preview(paths, _Progress(self, get_current_worker(), "Reading"))
        except _Cancelled:
            return
        except Exception as exc:  # an unreadable folder, a permission error...
            self.post_message(PreviewFailed(f"cannot read the selection: {exc}"))
            return
        self.post_message(PreviewReady(paths, preview))

    @on(WorkProgress)
    def _progress(self, message: WorkProgress) -> None:
        self.query_one("#progress", ProgressBar).update(total=100, progress=100 * message.fraction)
        self._set_status(inert_content(message.label))

    @on(PreviewFailed)
    def _preview_failed(self, message: PreviewFailed) -> None:
        self._working(False)
        self.query_one("#preview-summary", Static).update(Content(""))
        self._show_error(inert_content(message.error, "$error"))
        self._set_status("Nothing to import.", error=True)

    @on(PreviewReady)
    def _preview_ready(self, message: PreviewReady) -> None:
        if message.paths != self.selection:
            return  # an older selection
        self._working(False)
        self.preview = message.preview
        self.plan = ImportPlan(list(self.preview.identities), self.plan.saved, self.plan.friends)
        if not self.target and self.preview.files:
            # A sensible default for a first import: the export's own name (editable in Into).
            self.query_one("#target", Input).value = suggest_workspace_name(Path(self.preview.files[0].path))
        self._show_preview()
        self._ready_status()
        # The focus stays where it was: a person typing in Path goes on typing there (tab reaches the table).
        self.refresh_bindings()

    def _ready_status(self) -> None:
        """What Enter will do now, once a preview is shown."""
        if self.preview is None or self.importing:
            return
        if not self.preview.files:
            self._set_status("Nothing to import: no chat export in the selection.", error=True)
        elif not self.target or check_new_workspace_name(self.target):
            self._set_status("Type the name of the workspace to import into.", error=True)
        else:
            self._set_status(
                Content.assemble(
                    ("enter", "bold"),
                    f" imports {plural(self.preview.total_kept, 'message')} into ",
                    inert_content(self.target),
                )
            )

    def _show_preview(self) -> None:
        """Files (✓ read, ✗ not a chat), totals, problems, then the speakers table."""
        pre = self.preview
        lines: list[Content] = []
        for r in pre.files[:MAX_FILES_SHOWN]:
            line = Content.assemble(
                ("✓ ", "$success"),
                (self._short(r.path), "bold"),
                " · ",
                inert_content(r.format or "?", "dim"),
                f" · {plural(r.kept, 'message')}",
            )
            skipped = sum(r.skipped.values())
            lines.append(line + Content(f" · {skipped:,} skipped") if skipped else line)
        if len(pre.files) > MAX_FILES_SHOWN:
            lines.append(Content(f"✓ … and {plural(len(pre.files) - MAX_FILES_SHOWN, 'more chat file')}").stylize("dim"))
        lines.extend(_error_content(e, self._short) for e in pre.errors[:MAX_FILES_SHOWN])
        if len(pre.errors) > MAX_FILES_SHOWN:
            lines.append(Content(f"✗ … and {plural(len(pre.errors) - MAX_FILES_SHOWN, 'more file')} that are not chats"))
        if pre.files:
            total = f"{plural(pre.total_kept, 'message')} · {fmt_range(pre.date_range)}"
            skipped = pre.skipped
            if skipped:
                reasons = ", ".join(f"{reason} {n:,}" for reason, n in sorted(skipped.items(), key=lambda kv: -kv[1]))
                total += f" · skipped {sum(skipped.values()):,} ({reasons})"
            lines.append(Content(total).stylize("bold"))
            if pre.errors:
                lines.append(Content("Files marked ✗ are not chats and will be left out.").stylize("dim"))
        self.query_one("#preview-summary", Static).update(Content("\n").join(lines))
        self._show_problems()
        self._fill_identities()

    def _show_problems(self) -> None:
        """Records that could not be read (with their place), warnings, ignored media files."""
        pre = self.preview
        lines: list[Content] = []
        unparseable = sum(r.skipped.get("unparseable", 0) for r in pre.files)
        if unparseable:
            lines.append(Content(f"{plural(unparseable, 'record')} could not be read:").stylize("$warning"))
        for p in [p for r in pre.files for p in r.problems][:MAX_PROBLEMS_SHOWN]:
            lines.append(Content.assemble("  ", (self._short(p.path), "bold"), inert_content(f" ({p.where}): {p.detail}")))
        warnings = [w for r in pre.files for w in r.warnings] + list(getattr(pre, "warnings", []))
        for w in warnings[:MAX_PROBLEMS_SHOWN]:
            lines.append(Content.assemble(("! ", "$warning"), inert_content(w)))
        if pre.ignored:
            lines.append(Content(f"Ignored {plural(len(pre.ignored), 'media or web file')} in the folders.").stylize("dim"))
        problems = self.query_one("#problems", Static)
        problems.update(Content("\n").join(lines))
        problems.display = bool(lines)

    # -- speakers ---------------------------------------------------------------------------------
    def _fill_identities(self) -> None:
        """One row per identity: its name in the export, the friend it becomes, messages, training."""
        table = self.query_one("#identities", RowTable)

        def row(index: int, ident):
            fate = self.plan.fate(ident)
            style = "" if fate.train else "dim"
            if fate.becomes == ident.name:  # unchanged: say only whether it is a friend the workspace knows
                words = {"saved": "existing friend", "existing": "existing friend", "merged": "merged"}
                becomes = inert_text(words.get(fate.note, "new friend"), "dim")
            else:
                note = f" ({fate.note})" if fate.note else ""
                becomes = inert_text(inert(fate.becomes, NAME_WIDTH - len(note)) + note, style)
            return str(index), (
                inert_text(ident.name, style, limit=NAME_WIDTH),
                becomes,
                inert_text(f"{ident.messages:,}", style, justify="right"),
                inert_text("  ☑" if fate.train else "  ☐", style),
            )

        idents = self.plan.identities
        table.replace_rows(row(i, ident) for i, ident in enumerate(idents))
        table.display = bool(idents)
        self.refresh_bindings()

    def _ident(self):
        table = self.query_one("#identities", RowTable)
        if self.preview is None or not table.display:
            return None
        key = table.selected_key()
        return None if key is None else self.plan.identities[int(key)]

    def _changeable(self):
        """The highlighted identity when it can be renamed or merged here; else None, and says why."""
        ident = self._ident()
        refusal = self.plan.refusal(ident) if ident is not None else None
        if refusal:
            self.notify(inert(refusal), markup=False)
            return None
        return ident

    def action_rename(self) -> None:
        ident = self._changeable()
        if ident is None:
            return

        def renamed(name: str | None) -> None:
            if name:
                self.plan.rename(ident, name)
                self._fill_identities()

        hint = "The name the model will use. Another friend's name merges the two."
        self.app.push_screen(rename_prompt(ident.name, self.plan.becomes(ident), hint), renamed)

    def action_merge(self) -> None:
        ident = self._changeable()
        if ident is None:
            return
        names = self.plan.merge_targets(ident)
        if not names:
            self.notify("There is no other speaker to merge into.", markup=False)
            return

        def merged(name: str | None) -> None:
            if name:
                self.plan.merge(ident, name)
                self._fill_identities()

        self.app.push_screen(
            ChoicePrompt(
                Content.assemble("Merge ", inert_content(ident.name, limit=30), " into…"),
                names,
                hint=Content("Both become one friend; u on the speaker undoes it."),
            ),
            merged,
        )

    def action_unmerge(self) -> None:
        ident = self._ident()
        if ident is not None:
            self.plan.unmerge(ident)
            self._fill_identities()

    def action_toggle_exclude(self) -> None:
        ident = self._ident()
        if ident is None:
            return
        refusal = self.plan.toggle_exclude(ident)
        if refusal:
            self.notify(inert(refusal), markup=False)
        self._fill_identities()

    # -- target -----------------------------------------------------------------------------------
    @on(Input.Changed, "#target")
    def _target_input(self, event: Input.Changed) -> None:
        self._target_changed(event.value.strip())

    def _target_changed(self, target: str) -> None:
        self._ready_status()
        title = self.query_one("#import-title", Static)
        note = self.query_one("#target-note", Static)
        if not target:
            title.update(Content("Import into a new workspace"))
            note.update(Content("type a name for the new workspace").stylize("dim"))
            return
        error = check_new_workspace_name(target)
        if error:
            title.update(Content("Import"))
            note.update(inert_content(error, "$error"))
            return
        title.update(Content.assemble("Import into ", (inert(target), "bold")))
        note.update(Content(""))
        self._check_target(target)

    @work(thread=True, exclusive=True, group="target", exit_on_error=False)
    def _check_target(self, target: str) -> None:
        from friendsim_tui.services import workspaces

        friends: list[tuple[str, bool]] = []
        saved: dict[tuple[str, str], SavedAccount] = {}
        try:
            exists = data.workspace_exists(target)
            if exists:
                friends = [(s.name, s.excluded) for s in workspaces.speakers(target)]
                saved = {key: SavedAccount(*value) for key, value in workspaces.accounts(target).items()}
        except Exception:  # unreadable: the import itself will say why
            exists = False
        self.post_message(self.TargetRead(target, exists, friends, saved))

    @on(TargetRead)
    def _target_read(self, message: TargetRead) -> None:
        if message.target != self.target:
            return
        self.plan.target(message.saved, message.friends)
        note = "existing workspace" if message.exists else "new workspace"
        self.query_one("#target-note", Static).update(Content(note).stylize("dim"))
        if self.preview is not None:
            self._fill_identities()

    # -- importing --------------------------------------------------------------------------------
    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # Speaker keys work on the focused speakers table, a on the focused file browser (else hidden).
        if action in ("rename", "merge", "toggle_exclude", "unmerge"):
            ident = self._ident() if self.focused is self.query_one("#identities") else None
            if action == "unmerge" and ident is not None and not self.plan.merged(ident):
                return False
            return ident is not None and not self.importing
        if action == "start_import":
            return True if self.preview is not None and self.preview.files and not self.importing else None
        if action == "add_highlighted":
            return self.focused is self.query_one("#files") and not self.importing
        return True

    def on_descendant_focus(self) -> None:
        self.refresh_bindings()  # the keys shown follow the focus

    def help_here(self, focused) -> list[tuple[str, str]]:
        """Enter in the fields and the file browser (the help lists the screen's keys by themselves)."""
        return {
            "path": [("enter", "Preview the path; enter again imports it")],
            "target": [("enter", "Import into this workspace")],
            "files": [("enter", "Preview the file (open a folder); enter again imports it")],
        }.get(focused.id or "", [])

    def action_start_import(self) -> None:
        if self.importing:
            return
        if self.preview is None or not self.preview.files:
            self._set_status("Nothing to import yet: pick a chat export first.", error=True)
            return
        target = self.target
        error = check_new_workspace_name(target) if target else "type a workspace name in Into"
        if error:
            self._set_status(inert_content(error), error=True)
            self.query_one("#target", Input).focus()
            return
        paths = [Path(r.path) for r in self.preview.files]
        choices = self.plan.choices()
        self.importing = True
        self.refresh_bindings()
        self._working(True)
        self._set_status(Content.assemble("Importing into ", inert_content(target), "…"))
        self._run_import(target, paths, choices)

    @work(thread=True, exclusive=True, group="import", exit_on_error=False)
    def _run_import(self, target: str, paths: list[Path], choices: dict) -> None:
        from friendsim_tui.importers.base import ChatImportError
        from friendsim_tui.services import importing

        try:
            result = importing.import_paths(target, paths, choices, _Progress(self, get_current_worker(), "Importing"))
        except _Cancelled:
            self.post_message(ImportFailed("Import cancelled; nothing was written."))
        except ChatImportError as exc:
            self.post_message(ImportFailed(exc))
        except Exception as exc:
            self.post_message(ImportFailed(f"import failed: {exc}; nothing was written"))
        else:
            self.post_message(ImportFinished(result))

    @on(ImportFinished)
    def _import_finished(self, message: ImportFinished) -> None:
        self.importing = False
        self.dismiss(message.result)

    @on(ImportFailed)
    def _import_failed(self, message: ImportFailed) -> None:
        self.importing = False
        self._working(False)
        self._show_error(_error_content(message.error, self._short))
        self._set_status("Nothing was imported; the workspace is unchanged.", error=True)
        self.refresh_bindings()

    def action_back(self) -> None:
        if self.importing:
            self.workers.cancel_group(self, "import")
            self._set_status("Cancelling…")
            return
        self.workers.cancel_group(self, "preview")
        self.dismiss(None)

    def palette_commands(self) -> list[PaletteCommand]:
        cmds = []
        if self.check_action("start_import", ()):
            cmds.append(PaletteCommand("Import now", "Import the previewed files (enter)", self.action_start_import))
        cmds.append(PaletteCommand("Back to home", "Leave without importing (esc)", self.action_back))
        return cmds


def suggest_workspace_name(path: Path) -> str:
    """A valid workspace name from an export's file name: ``Direct Messages - maya [123].csv`` -> ``Direct
    Messages - maya``, ``WhatsApp Chat with Bob.zip`` -> ``Bob``."""
    import re

    stem = re.sub(r"\s*\[\d+\]$", "", path.stem)
    stem = re.sub(r"^(WhatsApp Chat (with|mit|-) )", "", stem)
    if stem in ("result", "_chat") or re.fullmatch(r"message_\d+", stem):
        stem = path.parent.name
    name = re.sub(r"[^\w .\-]+", "-", stem).strip(" .-_")[:64].strip(" .-_")  # \w: letters of any script
    return name if name and check_new_workspace_name(name) is None else "chats"

