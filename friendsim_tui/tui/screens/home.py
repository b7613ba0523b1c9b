"""Home: the workspaces and what the selected one holds (messages, friends, dates, who says how much)."""

from __future__ import annotations

from functools import partial
from typing import Callable

from rich.cells import cell_len
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.screen import Screen
from textual.widgets import Footer, OptionList, Static
from textual.widgets.option_list import Option

from friendsim_tui.tui import data
from friendsim_tui.tui.commands import PaletteCommand
from friendsim_tui.tui.messages import WorkspaceChanged, WorkspaceFailed, WorkspaceLoaded, WorkspacesLoaded
from friendsim_tui.tui.screens.dialogs import TextPrompt, rename_prompt
from friendsim_tui.tui.text import fmt_range, inert, inert_content, inert_text, plural, share_bar
from friendsim_tui.tui.widgets.engine_hint import EngineHint
from friendsim_tui.tui.widgets.row_table import RowTable

NEW_WORKSPACE = "new"
MAX_RUNS_SHOWN = 5
_LIST_NAME_WIDTH = 17
_NAME_WIDTH = 28
"""Friend names are cut to this many characters in the table (the full name is in the rename dialog)."""
_BAR_WIDTH = 16


def _workspace_prompt(info: data.WorkspaceInfo) -> Content:
    return Content.assemble(
        (inert(info.name, _LIST_NAME_WIDTH).ljust(_LIST_NAME_WIDTH), ""),
        ("  damaged", "$error") if info.error else (f" {info.messages:>8,} msg", "dim"),
    )


def check_new_workspace_name(name: str) -> str | None:
    """An error for the user, or None when ``name`` can be a new workspace."""
    from friendsim_tui.paths import WorkspaceNameError, check_workspace_name

    try:
        check_workspace_name(name)
    except WorkspaceNameError as exc:
        return str(exc)
    return None


class HomeScreen(Screen):
    BINDINGS = [
        Binding("i", "import_chats", "Import", tooltip="Import chat exports (a preview first)"),
        Binding("t", "train", "Train", tooltip="Train a model on this workspace, or follow a run"),
        Binding("c", "chat", "Chat", tooltip="Chat as one friend with a trained model"),
        Binding("g", "conversation", "Prompt", tooltip="Conversation from a prompt: the model writes it all"),
        Binding("n", "new_workspace", "New", tooltip="New workspace", show=False),
        Binding("r", "rename_speaker", "Rename", tooltip="Rename the highlighted friend (a friend's name merges)"),
        Binding("x", "toggle_exclude", "Exclude", tooltip="Leave the highlighted friend out of training, or back in"),
        Binding("q", "app.quit", "Quit"),
    ]
    HELP_GROUPS = {
        "import_chats": "Go to", "train": "Go to", "chat": "Go to", "conversation": "Go to",
        "new_workspace": "Workspaces", "rename_speaker": "Friends", "toggle_exclude": "Friends",
    }

    def __init__(self) -> None:
        super().__init__(id="home")
        self.workspaces: list[data.WorkspaceInfo] | None = None
        """None until the first list has loaded."""
        self.summary: data.WorkspaceSummary | None = None
        """What the right-hand panel shows now."""
        self._select_after_load: str | None = None

    # -- layout ---------------------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        with Horizontal(id="topbar"):
            yield Static(Content("FriendSim"), id="app-title")
            yield EngineHint()  # while the model engine loads in the background (services.models)
            yield Static(Content(""), id="current-workspace")
        with Horizontal(id="home-body"):
            workspaces = OptionList(Option(Content("Loading workspaces…"), disabled=True), id="workspaces")
            workspaces.border_title = Content("Workspaces")
            yield workspaces
            with Vertical(id="summary") as summary:
                summary.border_title = Content("")
                yield Static(Content(""), id="summary-line")
                yield RowTable(
                    [("Friend", "name"), ("messages", "messages"), ("share", "share"), ("", "status")],
                    id="speakers",
                )
                yield Static(Content("Runs"), classes="section-title", id="runs-title")
                yield Static(Content("No trained runs yet.").stylize("dim"), id="runs")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.query_one("#speakers").display = False
        self.reload()

    def on_screen_resume(self) -> None:
        """Back from another screen: a run may have started or finished, an import added messages, and
        the app's workspace may have changed while Home was covered (the demo opens on top of it). Show
        the list and the workspace again, header, highlight and panel alike."""
        if self.workspaces is not None:  # (an import that just finished has asked for its workspace)
            self.reload(select=self._select_after_load or self.app.workspace)

    # -- loading (thread workers; results come back as messages) ---------------------------------
    def reload(self, select: str | None = None) -> None:
        """Reload the workspace list, then show ``select`` (or the current workspace)."""
        self._select_after_load = select
        self._load_workspaces()

    @work(thread=True, exclusive=True, group="workspaces", exit_on_error=False)
    def _load_workspaces(self) -> None:
        try:
            items = data.list_workspaces()
        except Exception as exc:  # a damaged database must not take the app down
            self.post_message(WorkspaceFailed("", f"cannot list workspaces: {exc}"))
            return
        self.post_message(WorkspacesLoaded(items))

    @work(thread=True, exclusive=True, group="summary", exit_on_error=False)
    def _load_summary(self, name: str) -> None:
        try:
            summary = data.load_summary(name)
        except Exception as exc:
            self.post_message(WorkspaceFailed(name, f"cannot read workspace {name}: {exc}"))
            return
        self.post_message(WorkspaceLoaded(summary))

    @work(thread=True, exclusive=True, group="change", exit_on_error=False)
    def _change(self, change: Callable[[], None], name: str, done: str) -> None:
        """Run ``change`` against workspace ``name``, then show the result."""
        try:
            change()
        except Exception as exc:
            self.post_message(WorkspaceFailed(name, str(exc)))
            return
        self.post_message(WorkspaceChanged(name, done))

    @on(WorkspaceChanged)
    def _changed(self, message: WorkspaceChanged) -> None:
        self.notify(message.note, markup=False)
        self.reload(select=message.name)

    @on(WorkspacesLoaded)
    def _show_workspaces(self, message: WorkspacesLoaded) -> None:
        self.workspaces = message.workspaces
        self.app.workspace_names = [w.name for w in message.workspaces]
        options = [Option(_workspace_prompt(w), id=f"ws:{w.name}") for w in message.workspaces]
        options.append(Option(Content("+ new workspace"), id=NEW_WORKSPACE))
        listing = self.query_one("#workspaces", OptionList)
        listing.set_options(options)
        names = self.app.workspace_names
        want, self._select_after_load = self._select_after_load or self.app.workspace, None
        name = want if want in names else (names[0] if names else None)
        if name is None:
            self._show_empty()
            listing.highlighted = 0
            return
        listing.highlighted = names.index(name)
        self.show_workspace(name)

    @on(OptionList.OptionHighlighted, "#workspaces")
    def _highlighted(self, event: OptionList.OptionHighlighted) -> None:
        option_id = event.option.id or ""
        if option_id.startswith("ws:") and option_id[3:] != self.app.workspace:
            self.show_workspace(option_id[3:])

    @on(OptionList.OptionSelected, "#workspaces")
    def _selected(self, event: OptionList.OptionSelected) -> None:
        if event.option.id == NEW_WORKSPACE:
            self.action_new_workspace()
        elif self.query_one("#speakers", RowTable).row_count:
            self.query_one("#speakers", RowTable).focus()

    def show_workspace(self, name: str) -> None:
        self.app.workspace = name
        self.query_one("#current-workspace", Static).update(
            Content.assemble(("workspace: ", "dim"), inert_content(name))
        )
        self.query_one("#summary").border_title = inert_content(name)
        if self.summary is None or self.summary.name != name:
            self.query_one("#summary-line", Static).update(Content("Loading…").stylize("dim"))
        self._load_summary(name)

    @on(WorkspaceLoaded)
    def _show_summary(self, message: WorkspaceLoaded) -> None:
        summary = message.summary
        if summary.name != self.app.workspace:
            return  # the user has moved on
        self.summary = summary
        self._show_runs(summary)
        line = self.query_one("#summary-line", Static)
        table = self.query_one("#speakers", RowTable)
        if not summary.messages:
            line.update(Content("No messages yet: press i to import chat exports into this workspace."))
            table.display = False
            table.clear()
            self.refresh_bindings()
            return
        excluded = len(summary.speakers) - summary.friends
        parts = [plural(summary.messages, "message"), plural(summary.friends, "friend"), fmt_range(summary.date_range)]
        if excluded:
            parts.append(f"{excluded:,} excluded")
        line.update(Content(" · ".join(parts)))
        self._fill_speakers()
        table.display = True
        self.refresh_bindings()

    def _fill_speakers(self) -> None:
        """The friends table, its share bars as wide as the panel allows (the percentage always shows)."""
        summary = self.summary
        if summary is None or not summary.messages:
            return
        largest = max((s.messages for s in summary.speakers), default=0)
        names = {sp.id: inert(sp.name, _NAME_WIDTH) for sp in summary.speakers}
        counts = {sp.id: f"{sp.messages:,}" for sp in summary.speakers}
        status = "excluded" if any(sp.excluded for sp in summary.speakers) else ""
        used = sum(2 + max(len(label), *(cell_len(v) for v in column.values()))
                   for label, column in (("Friend", names), ("messages", counts)))
        room = self.query_one("#summary").content_size.width - used - (2 + len(status)) - 2 - len(" 100%")
        bar_width = max(0, min(_BAR_WIDTH, room))

        def row(sp):
            style = "dim" if sp.excluded else ""
            share = f"{100 * sp.messages / summary.messages:3.0f}%"
            bar = share_bar(sp.messages, largest, bar_width) if bar_width else ""
            return str(sp.id), (
                inert_text(names[sp.id], style),
                inert_text(counts[sp.id], style, justify="right"),
                inert_text(f"{share:>4} {bar}".rstrip(), "dim" if sp.excluded else "cyan"),
                inert_text("excluded" if sp.excluded else "", "italic dim"),
            )

        self.query_one("#speakers", RowTable).replace_rows(row(sp) for sp in summary.speakers)

    def on_resize(self) -> None:
        self.call_after_refresh(self._fill_speakers)  # the panel's new width is known after the refresh

    def _show_runs(self, summary: data.WorkspaceSummary) -> None:
        from friendsim_tui.tui.widgets.run_list import names_width, run_row

        runs = self.query_one("#runs", Static)
        if not summary.runs:
            runs.update(Content("No trained runs yet.").stylize("dim"))
            return
        shown = summary.runs[:MAX_RUNS_SHOWN]
        lines = [run_row(run, names_width(shown)) for run in shown]
        if len(summary.runs) > MAX_RUNS_SHOWN:
            lines.append(Content(f"… and {plural(len(summary.runs) - MAX_RUNS_SHOWN, 'older run')} (t)").stylize("dim"))
        runs.update(Content("\n").join(lines))

    def _show_empty(self) -> None:
        self.app.workspace = None
        self.summary = None
        self.query_one("#current-workspace", Static).update(Content(""))
        self.query_one("#summary").border_title = Content("Welcome")
        self.query_one("#summary-line", Static).update(
            Content(
                "No workspaces yet. Press i to import chat exports: Discord (DiscordChatExporter), WhatsApp, "
                "Telegram, Messenger/Instagram, or a plain 'Name: text' transcript."
            )
        )
        table = self.query_one("#speakers", RowTable)
        table.clear()
        table.display = False
        self.query_one("#runs", Static).update(Content("No trained runs yet.").stylize("dim"))
        self.refresh_bindings()

    @on(WorkspaceFailed)
    def _failed(self, message: WorkspaceFailed) -> None:
        self.notify(inert(message.error), title="Workspace", severity="error", markup=False)
        if self.workspaces is None:  # the list itself could not be read: say so where it would be
            self.query_one("#workspaces", OptionList).set_options(
                [Option(Content("Could not list workspaces").stylize("$error"), disabled=True)]
            )
            self.query_one("#summary-line", Static).update(inert_content(message.error, "$error"))

    # -- actions ----------------------------------------------------------------------------------
    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("rename_speaker", "toggle_exclude"):
            return True if self._speaker() is not None else None
        return True

    def _speaker(self):
        table = self.query_one("#speakers", RowTable)
        if self.summary is None or not table.display:
            return None
        key = table.selected_key()
        return next((s for s in self.summary.speakers if str(s.id) == key), None)

    def action_import_chats(self) -> None:
        from friendsim_tui.tui.screens.importing import ImportScreen

        self.app.push_screen(ImportScreen(self.app.workspace, self.app.start_dir), self._imported)

    def _imported(self, result) -> None:
        if result is None:
            return
        self.notify(
            f"Imported {result.messages_added:,} new messages into {result.workspace} "
            f"({result.messages_total:,} in all)",
            title="Import",
            markup=False,
        )
        self.reload(select=result.workspace)

    def action_train(self) -> None:
        """The workspace's runs and the new-run form; a run training right now opens its dashboard."""
        if not self.app.workspace:
            self.notify("Pick or import a workspace first.", severity="warning")
            return
        from friendsim_tui.tui.screens.new_run import NewRunScreen

        self.app.push_screen(NewRunScreen(self.app.workspace, open_running=True))

    def action_chat(self, need_player: bool = True) -> None:
        """Pick a trained run and the friend you play (or, without a run, an offer to train one)."""
        if not self.app.workspace:
            self.notify("Pick or import a workspace first.", severity="warning")
            return
        from friendsim_tui.tui.screens.chat_setup import ChatSetupScreen

        self.app.push_screen(ChatSetupScreen(self.app.workspace, need_player=need_player))

    def action_conversation(self) -> None:
        self.action_chat(need_player=False)

    def action_new_workspace(self) -> None:
        def check(name: str) -> str | None:
            if name.lower() in (n.lower() for n in self.app.workspace_names):
                return f"a workspace named {name} already exists"
            return check_new_workspace_name(name)

        def created(name: str | None) -> None:
            if name:
                self._change(partial(data.create_workspace, name), name, f"Created workspace {name}")

        self.app.push_screen(
            TextPrompt(
                Content("New workspace"),
                hint=Content("Letters (any language), digits, emoji, spaces, '_', '-' or '.'. "
                             "Import chats into it with i."),
                check=check,
                placeholder="e.g. weekend-crew",
            ),
            created,
        )

    def action_rename_speaker(self) -> None:
        speaker, summary = self._speaker(), self.summary
        if speaker is None or summary is None:
            return

        def renamed(new_name: str | None) -> None:
            if new_name and new_name != speaker.name:
                self._change(
                    partial(data.rename_speaker, summary.name, speaker.id, new_name),
                    summary.name,
                    f"Renamed {inert(speaker.name)} to {inert(new_name)}",
                )

        hint = "Typing the name of another friend merges the two."
        self.app.push_screen(rename_prompt(speaker.name, speaker.name, hint), renamed)

    def action_toggle_exclude(self) -> None:
        speaker, summary = self._speaker(), self.summary
        if speaker is None or summary is None:
            return
        exclude = not speaker.excluded
        what = "left out of training" if exclude else "back in training"
        self._change(
            partial(data.set_excluded, summary.name, speaker.id, exclude),
            summary.name,
            f"{inert(speaker.name)} {what}",
        )

    def select_workspace(self, name: str) -> None:
        names = self.app.workspace_names
        if name in names:
            self.query_one("#workspaces", OptionList).highlighted = names.index(name)
            self.show_workspace(name)

    def palette_commands(self) -> list[PaletteCommand]:
        cmds = [
            PaletteCommand("Import chats…", "Preview and import chat exports (i)", self.action_import_chats),
            PaletteCommand("New workspace…", "Create an empty workspace (n)", self.action_new_workspace),
            PaletteCommand("Train…", "Start a training run or follow one (t)", self.action_train),
            PaletteCommand("Chat…", "Role-play as one friend with a trained run (c)", self.action_chat),
            PaletteCommand("Conversation from a prompt…", "The model writes whole conversations (g)",
                           self.action_conversation),
        ]
        for name in self.app.workspace_names:
            if name != self.app.workspace:
                cmds.append(
                    PaletteCommand(f"Switch to workspace {name}", "Show this workspace", partial(self.select_workspace, name))
                )
        if self._speaker() is not None:
            cmds.append(PaletteCommand("Rename speaker…", "Rename or merge the highlighted friend (r)", self.action_rename_speaker))
            cmds.append(PaletteCommand("Exclude or include speaker", "Toggle training on the highlighted friend (x)", self.action_toggle_exclude))
        return cmds
