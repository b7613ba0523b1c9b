from friendsim_tui.config import DatasetConfig
from friendsim_tui.dataset import readable_discord, redact, sessions_from_rows, split

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
