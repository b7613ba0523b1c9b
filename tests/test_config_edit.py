"""Saving the sampling settings as the default rewrites [chat] only: every other line of the person's file
stays as written, and a file that cannot be edited safely is refused and left alone."""

from __future__ import annotations

import dataclasses

import pytest

from friendsim_tui.config import ChatConfig, ConfigError, load_config
from friendsim_tui.config_edit import save_chat_defaults

NEW = ChatConfig(temperature=0.9, top_k=12, top_p=0.95, repetition_penalty=1.1, candidates=5, max_new_tokens=40)
VALUES = {k: v for k, v in dataclasses.asdict(NEW).items() if k != "quantize"}
"""What the settings dialog edits (quantize is not among them: the file's own value must stay)."""

BEFORE = """\
# my settings, by hand
[dataset]
session_gap_minutes = 90   # shorter sessions
redact = ["emails"]

[chat]
# warmer than the default
temperature = 0.7 # keep this comment
candidates=4
quantize = "off"

[train]
base = "gpt2"
epochs = 2.5
"""


def test_only_the_chat_values_change(tmp_path):
    path = tmp_path / "config.toml"
    path.write_text(BEFORE, encoding="utf-8")
    save_chat_defaults(VALUES, path)
    after = path.read_text(encoding="utf-8")
    cfg = load_config(path)
    assert cfg.chat == dataclasses.replace(NEW, quantize="off"), "the keys the dialog does not edit stay"
    assert cfg.dataset.session_gap_minutes == 90 and cfg.dataset.redact == ["emails"]
    assert cfg.train.base == "gpt2" and cfg.train.epochs == 2.5
    assert after.startswith(BEFORE.split("[chat]")[0]), "everything before [chat] is untouched"
    assert after.endswith("\n[train]\nbase = \"gpt2\"\nepochs = 2.5\n"), "and everything after it"
    assert "# warmer than the default\ntemperature = 0.9 # keep this comment\ncandidates=5\nquantize = \"off\"\n" in after
    assert "top_k = 12\n" in after.split("[train]")[0], "missing keys are added inside [chat]"


def test_a_missing_file_or_table_is_created(tmp_path):
    path = tmp_path / "sub" / "config.toml"
    save_chat_defaults(VALUES, path)
    assert load_config(path).chat == NEW and path.stat().st_mode & 0o777 == 0o600
    other = tmp_path / "other.toml"
    other.write_text('[train]\nbase = "gpt2"', encoding="utf-8")  # no [chat], no final newline
    save_chat_defaults(VALUES, other)
    cfg = load_config(other)
    assert cfg.chat == NEW and cfg.train.base == "gpt2"
    assert other.read_text(encoding="utf-8").startswith('[train]\nbase = "gpt2"\n\n[chat]\n')


@pytest.mark.parametrize("text", ["chat.temperature = 1.0\n", "chat = { temperature = 1.0 }\n", "[chat\n"])
def test_a_file_it_cannot_edit_safely_is_left_alone(tmp_path, text):
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError, match=str(path)):
        save_chat_defaults(VALUES, path)
    assert path.read_text(encoding="utf-8") == text


def test_saving_twice_gives_the_same_file(tmp_path):
    path = tmp_path / "config.toml"
    path.write_text(BEFORE, encoding="utf-8")
    save_chat_defaults(VALUES, path)
    once = path.read_text(encoding="utf-8")
    save_chat_defaults(VALUES, path)
    assert path.read_text(encoding="utf-8") == once
    save_chat_defaults({**VALUES, "temperature": 0.5}, path)
    assert load_config(path).chat.temperature == 0.5 and once.count("temperature") == 1
