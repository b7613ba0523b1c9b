"""The "New run" form: base (with its size and memory need), LoRA, length, and the usual knobs.

The fields are TrainConfig.OPTIONS entries with a label; ``RunForm.request()`` turns them into the new run's
TrainConfig (checked by its own ``validate``) and name, or raises ``ValueError`` with a message naming the
field. Defaults come from the config's ``[train]`` table.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.widgets import Checkbox, Select, Static

from friendsim_tui.config import ConfigError, TrainConfig
from friendsim_tui.runs import check_run_name
from friendsim_tui.tui.text import format_bytes, format_count, inert, inert_content
from friendsim_tui.tui.widgets.text_input import TextInput

OPTIONS = TrainConfig.OPTIONS
KNOBS = tuple(name for name, option in OPTIONS.items()
              if option.label and TrainConfig.reader(name) not in (str, bool))
"""The settings typed into a small text field, in the form's order (base and LoRA have their own widgets)."""
_EXPECTED = {int: "a whole number", float: "a number"}
_ALLOWED = {int: r"[0-9.eE+-]*", float: r"[0-9.eE+-]*"}
"""What a knob's field lets through as it is typed; a duration (the time budget) also takes h, m and s."""


def field_id(name: str) -> str:
    """A knob's widget id: its flag without dashes (``max-steps``, ``lr``)."""
    return OPTIONS[name].flag.lstrip("-")


def base_hint(row: dict[str, Any] | None) -> Content:
    """"124M params · training needs ~2.1 GB (LoRA 0.6 GB) of 20 GB RAM free · fits" for a catalog row."""
    if row is None:
        return Content.styled("a hub id (owner/name), a model folder or a .gguf file", "$text-muted")
    where = "GPU memory" if row.get("memory_kind") == "cuda" else "RAM"
    full, lora = row.get("memory_full"), row.get("memory_lora")
    parts = [f"{format_count(row.get('params'))} params", f"needs ~{format_bytes(full)} (LoRA {format_bytes(lora)})"]
    available = row.get("memory_available")
    if available:
        parts.append(f"{format_bytes(available)} {where} free")
    if row.get("fits_full"):
        verdict = ("fits", "$success")
    elif row.get("fits_lora"):
        verdict = ("too big to fine-tune fully here: use LoRA", "$warning")
    else:
        verdict = ("too big for this machine", "$error")
    note = inert(str(row.get("note") or ""))
    return Content.assemble(" · ".join(parts) + " · ", verdict, ("\n" + note if note else "", "$text-muted"))


class RunForm(Vertical):
    """Fields for a new training run."""

    DEFAULT_CSS = """
    RunForm {
        height: auto;
        border: round $primary 60%;
        border-title-color: $text;
        padding: 0 1;
    }
    RunForm:focus-within { border: round $primary; }
    RunForm .form-row { height: auto; margin-bottom: 1; }
    RunForm .form-label { width: 11; color: $text-muted; padding-top: 0; }
    RunForm #base { width: 1fr; max-width: 48; }
    RunForm #custom-base { width: 1fr; margin-left: 2; }
    RunForm #base-hint { height: auto; padding-left: 11; margin-bottom: 1; }
    RunForm .knob { width: 1fr; height: auto; }
    RunForm .knob Horizontal { height: 1; }
    RunForm .knob .form-label { width: auto; margin-right: 1; }
    RunForm .knob TextInput { width: 10; }
    RunForm .knob-hint { color: $text-muted; width: 1fr; height: auto; padding-left: 1; }
    RunForm #lora { width: auto; }
    RunForm #run-name { width: 40; }
    RunForm #form-error { height: auto; color: $error; }
    """

    def __init__(self, defaults: TrainConfig | None = None, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.defaults = defaults or TrainConfig()
        self.catalog: dict[str, dict[str, Any]] = {}
        self.border_title = "New run"

    def compose(self) -> ComposeResult:
        d = self.defaults
        with Horizontal(classes="form-row"):
            yield Static(OPTIONS["base"].label, classes="form-label")
            yield Select([(Content(d.base), d.base)], value=d.base, allow_blank=False, id="base", compact=True)
            yield TextInput(placeholder="or: owner/name, a model folder, a .gguf file", id="custom-base",
                            compact=True)
        yield Static(Content.styled("reading the catalog…", "$text-muted"), id="base-hint")
        with Horizontal(classes="form-row"):
            yield Static(OPTIONS["lora"].label, classes="form-label")
            yield Checkbox(OPTIONS["lora"].hint, d.lora, id="lora", compact=True)
        for i in range(0, len(KNOBS), 4):
            with Horizontal(classes="form-row"):
                for name in KNOBS[i:i + 4]:
                    with Vertical(classes="knob"):
                        with Horizontal():
                            yield Static(OPTIONS[name].label, classes="form-label")
                            yield TextInput(OPTIONS[name].show(getattr(d, name)), id=field_id(name), compact=True,
                                            restrict=_ALLOWED.get(TrainConfig.reader(name), r"[0-9.hmsHMS ]*"))
                        yield Static(OPTIONS[name].hint, classes="knob-hint")
        with Horizontal(classes="form-row"):
            yield Static("Run name", classes="form-label")
            yield TextInput(placeholder="automatic: date and base", id="run-name", compact=True,
                            restrict=r"[A-Za-z0-9_.\-]*", max_length=64)
        yield Static("", id="form-error")

    def set_catalog(self, rows: list[dict[str, Any]]) -> None:
        self.catalog = {row["id"]: row for row in rows}
        select = self.query_one("#base", Select)
        current = select.value if isinstance(select.value, str) else self.defaults.base
        ids = list(self.catalog)
        if current not in self.catalog:
            ids.insert(0, current)
        select.set_options((Content(b), b) for b in ids)
        select.value = current
        self._show_hint()

    @on(Select.Changed, "#base")
    @on(TextInput.Changed, "#custom-base")
    def _show_hint(self) -> None:
        custom = self.query_one("#custom-base", TextInput).value.strip()
        base = self.base
        if custom:
            hint = Content.assemble(("custom base: ", "$text-muted"), inert_content(custom, limit=200))
        elif base in self.catalog:
            hint = base_hint(self.catalog[base])
        else:
            hint = base_hint(None) if self.catalog else Content.styled("reading the catalog…", "$text-muted")
        self.query_one("#base-hint", Static).update(hint)

    @property
    def base(self) -> str:
        custom = self.query_one("#custom-base", TextInput).value.strip()
        value = self.query_one("#base", Select).value
        return custom or (value if isinstance(value, str) else self.defaults.base)

    def request(self) -> tuple[TrainConfig, str | None]:
        """The new run's settings (the defaults, with the fields' values) and its name (None: automatic)."""
        values: dict[str, Any] = {}
        for name in KNOBS:
            text = self.query_one(f"#{field_id(name)}", TextInput).value.strip()
            read = TrainConfig.reader(name)
            try:
                values[name] = read(text)
            except ValueError as exc:
                why = f"expected {_EXPECTED[read]}, got {text!r}" if read in _EXPECTED else str(exc)
                raise ValueError(f"{OPTIONS[name].label}: {why}") from None
        cfg = replace(self.defaults, base=self.base, lora=self.query_one("#lora", Checkbox).value, **values)
        try:
            cfg.validate("Train form")
        except ConfigError as exc:
            if exc.key not in KNOBS:
                raise
            raise ValueError(f"{OPTIONS[exc.key].label}: must be {TrainConfig.RANGES[exc.key]}") from None
        run = self.query_one("#run-name", TextInput).value.strip() or None
        if run is not None:
            check_run_name(run)  # RunNameError is a ValueError: shown like the other fields' errors
        return cfg, run

    def show_error(self, message: str) -> None:
        self.query_one("#form-error", Static).update(inert_content(message))
