import re

import pytest

from friendsim_tui import cli
from friendsim_tui.config import DatasetConfig
from friendsim_tui.dataset import readable_discord, redact, sessions_from_rows, split, text_lines

HOUR = 3600.0


def make_rows(spec):
    """spec: list of (conversation, hours offset, speaker, text)."""
    return [(c, h * HOUR, s, t, False) for c, h, s, t in spec]


def test_sessions_split_at_long_silences_and_conversations():
    rows = make_rows([
        (1, 0, "A", "hi"), (1, 0.1, "B", "yo"),
        (1, 5, "A", "later"),  # 5 h gap > 3 h default
        (2, 5.1, "B", "other chat"),
    ])
    sessions = sessions_from_rows(rows, DatasetConfig())
    assert [[t.text for t in s.turns] for s in sessions] == [["hi", "yo"], ["later"], ["other chat"]]


def test_gap_is_configurable():
    rows = make_rows([(1, 0, "A", "a"), (1, 0.5, "B", "b")])
    assert len(sessions_from_rows(rows, DatasetConfig(session_gap_minutes=10))) == 2


def test_split_holds_out_most_recent_whole_sessions_deterministically():
    rows = make_rows([(1, i * 10, "A", f"m{i}") for i in range(40)])
    sessions = sessions_from_rows(rows, DatasetConfig())
    ds = split(sessions, 0.05)
    assert len(ds.eval) == 2 and len(ds.train) == 38
    assert min(s.start for s in ds.eval) > max(s.start for s in ds.train)
    assert split(list(reversed(sessions)), 0.05).eval[0].turns == ds.eval[0].turns


def test_single_session_is_all_train():
    ds = split(sessions_from_rows(make_rows([(1, 0, "A", "x")]), DatasetConfig()), 0.05)
    assert len(ds.train) == 1 and ds.eval == []


def test_excluded_speakers_are_left_out_but_keep_session_timing():
    rows = [(1, 0.0, "A", "hi", False), (1, 2 * HOUR, "Bot", "beep", True), (1, 4 * HOUR, "A", "back", False)]
    sessions = sessions_from_rows(rows, DatasetConfig())
    assert [[t.text for t in s.turns] for s in sessions] == [["hi", "back"]]


def test_redaction_kinds():
    text = "mail bob@example.com, call +1 555-123-4567, token ghp_" + "a" * 36 + " see https://x.io/a"
    out = redact(text, ["emails", "phones", "secrets"])
    assert "bob@example.com" not in out and "[email]" in out
    assert "555-123-4567" not in out and "[phone]" in out
    assert "ghp_" not in out and "[secret]" in out
    assert "https://x.io/a" in out  # urls are opt-in
    assert "[link]" in redact("see https://x.io/a", ["urls"])


def test_redaction_leaves_dates_times_and_numbers_alone():
    text = "meet 2024-01-12 at 10:30, I scored 1500 points and 3 kills"
    assert redact(text, ["emails", "phones", "secrets"]) == text


def test_discord_markup_becomes_readable():
    assert readable_discord("gg <@123> <:pog:456> in <#9>") == "gg @someone :pog: in #channel"
    assert readable_discord("<a:dance:1> <@&5>") == ":dance: @role"


def test_stats_per_speaker():
    rows = make_rows([(1, 0, "A", "abcd"), (1, 0.1, "B", "xy"), (1, 0.2, "A", "ab")])
    ds = split(sessions_from_rows(rows, DatasetConfig()), 0.0)
    stats = ds.stats()
    assert stats["messages"] == 3
    assert stats["speakers"]["A"]["messages"] == 2
    assert stats["speakers"]["A"]["avg_chars"] == 3
    assert ds.speakers() == ["A", "B"]



def _crew_with_two_chats(transcript) -> str:
    a = transcript("Alice: hi, call me on +1 (212) 555-0147\nBob Smith: ok: cool\nsecond line\n"
                   "Alice: see you at 7:30\n", name="a.txt")
    b = transcript("Carol: my pw: hunter2\nAlice: lol\n", name="b.txt")
    assert cli.main(["import", str(a), str(b), "-w", "crew"]) == 0
    return "crew"


def test_dataset_text_prints_the_redacted_turns_with_their_speakers(capsys, data_dir, transcript):
    ws = _crew_with_two_chats(transcript)
    capsys.readouterr()
    assert cli.main(["dataset", "-w", ws, "--text"]) == 0
    lines = capsys.readouterr().out.splitlines()
    headers = [i for i, line in enumerate(lines) if line.startswith("--- session")]
    assert len(headers) == 2
    assert re.fullmatch(r"--- session 1/1 \| a \| \d{4}-\d\d-\d\d \d\d:\d\d to \d\d:\d\d \| 3 messages ---",
                        lines[headers[0]])
    assert re.fullmatch(r"--- session 1/1 \| b \| .* \| 2 messages ---", lines[headers[1]])
    assert [line for i, line in enumerate(lines) if i not in headers] == [
        "=== train: 1 session, 3 messages ===",
        "",
        "Alice: hi, call me on [phone]",
        "Bob Smith: ok: cool",
        "           second line",
        "Alice: see you at 7:30",
        "",
        "=== eval: 1 session, 2 messages ===",
        "",
        "Carol: my pw: [secret]",
        "Alice: lol",
        "",
    ]


def test_dataset_text_one_split(capsys, data_dir, transcript):
    ws = _crew_with_two_chats(transcript)
    capsys.readouterr()
    assert cli.main(["dataset", "-w", ws, "--text", "--split", "eval"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("=== eval: 1 session, 2 messages ===\n") and "=== train" not in out
    assert "Carol: my pw: [secret]" in out and "[phone]" not in out


@pytest.mark.parametrize("argv,message", [
    (["--split", "train"], "--split goes with --text"),
    (["--text", "--json"], "choose one of --text and --json"),
])
def test_dataset_text_options_that_do_not_go_together(capsys, data_dir, transcript, argv, message):
    ws = _crew_with_two_chats(transcript)
    capsys.readouterr()
    assert cli.main(["dataset", "-w", ws, *argv]) == 2
    out, err = capsys.readouterr()
    assert out == "" and err == f"friendsim-tui: {message}\n"


def test_text_lines_indent_a_message_s_further_lines_so_they_never_read_as_a_turn():
    ds = split(sessions_from_rows(make_rows([(1, 0, "Bob Smith", "ok: cool\nAlice: fake\n\nend"),
                                             (1, 0.1, "Alice", "real")]), DatasetConfig()), 0.0)
    lines = list(text_lines(ds, ["train"]))
    assert lines[3:] == ["Bob Smith: ok: cool", "           Alice: fake", "           ", "           end",
                         "Alice: real", ""]
