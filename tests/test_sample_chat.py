"""The bundled sample chat: real DCE JSON shape, enough conversation, four distinct voices, reproducible."""

from __future__ import annotations

import json
import re
from collections import Counter
from datetime import datetime
from pathlib import Path

import pytest

from friendsim_tui.demo_chat import SAMPLE_FRIENDS, SAMPLE_WORKSPACE, sample_path

CONVERSATION = ("Default", "Reply")
DCE_TYPES = {
    "Default", "Reply", "RecipientAdd", "RecipientRemove", "Call", "ChannelNameChange", "ChannelIconChange",
    "ChannelPinnedMessage", "GuildMemberJoin", "ThreadCreated",
}
MESSAGE_KEYS = [
    "id", "type", "timestamp", "timestampEdited", "callEndedTimestamp", "isPinned", "content", "author",
    "attachments", "embeds", "stickers", "reactions", "mentions",
]
AUTHOR_KEYS = ["id", "name", "discriminator", "nickname", "color", "isBot", "roles", "avatarUrl"]
ISO = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,7})?[+-]\d\d:\d\d$")


@pytest.fixture(scope="module")
def raw() -> str:
    return sample_path().read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def data(raw) -> dict:
    return json.loads(raw)


def _conversation(data: dict) -> list[dict]:
    return [
        m for m in data["messages"]
        if m["type"] in CONVERSATION and not m["author"]["isBot"] and m["content"].strip()
    ]


def _ts(m: dict) -> float:
    # DCE drops trailing zeros of the fraction; Python 3.10's fromisoformat wants 3 or 6 digits.
    text = m["timestamp"]
    match = re.match(r"^(.{19})(?:\.(\d+))?(.*)$", text)
    frac = (match.group(2) or "").ljust(6, "0")[:6]
    return datetime.fromisoformat(f"{match.group(1)}.{frac}{match.group(3)}").timestamp()


def test_the_sample_ships_inside_the_package():
    import friendsim_tui

    path = sample_path()
    assert path.is_file() and path.suffix == ".json"
    assert Path(friendsim_tui.__file__).parent in path.parents


def test_dce_json_shape(raw, data):
    assert list(data) == ["guild", "channel", "dateRange", "exportedAt", "messages", "messageCount"]
    assert set(data["guild"]) == {"id", "name", "iconUrl"}
    assert data["guild"]["id"] == "0" and data["guild"]["name"] == "Direct Messages"  # how DCE writes a DM
    assert data["guild"]["iconUrl"].startswith("https://")
    assert data["channel"]["type"] == "DirectGroupTextChat"
    assert set(data["channel"]) >= {"id", "type", "categoryId", "category", "name", "topic"}
    assert set(data["dateRange"]) == {"after", "before"}
    assert ISO.match(data["exportedAt"])
    assert data["messageCount"] == len(data["messages"])
    # DCE pretty-prints with two spaces.
    assert raw.startswith('{\n  "guild": {\n    "id": "0",')
    for m in data["messages"]:
        keys = list(m)
        assert keys[: len(MESSAGE_KEYS)] == MESSAGE_KEYS, keys
        assert keys[-1] == "inlineEmojis"
        assert set(keys) - set(MESSAGE_KEYS) <= {"reference", "interaction", "inlineEmojis"}
        assert m["type"] in DCE_TYPES
        assert isinstance(m["id"], str) and m["id"].isdigit()
        assert ISO.match(m["timestamp"]), m["timestamp"]
        assert m["timestampEdited"] is None or ISO.match(m["timestampEdited"])
        assert list(m["author"]) == AUTHOR_KEYS
        assert re.fullmatch(r"\d{4}", m["author"]["discriminator"])
        if m["type"] == "Reply":
            assert set(m["reference"]) == {"type", "messageId", "channelId", "guildId"}
        for a in m["attachments"]:
            assert set(a) == {"id", "url", "fileName", "fileSizeBytes"}
        for r in m["reactions"]:
            assert set(r) == {"emoji", "count", "users"} and r["count"] == len(r["users"])


def test_ids_unique_and_increasing_with_time(data):
    msgs = data["messages"]
    ids = [int(m["id"]) for m in msgs]
    assert len(set(ids)) == len(ids)
    assert ids == sorted(ids)
    times = [_ts(m) for m in msgs]
    assert all(a < b for a, b in zip(times, times[1:]))
    # Snowflakes carry their own time: it agrees with the timestamp.
    for m in msgs[:: max(1, len(msgs) // 200)]:
        assert abs(((int(m["id"]) >> 22) + 1420070400000) / 1000 - _ts(m)) < 1
    known = {m["id"] for m in msgs}
    for m in msgs:
        if "reference" in m:
            assert m["reference"]["messageId"] in known


def test_enough_conversation_over_a_year(data):
    conv = _conversation(data)
    assert len(conv) >= 3000
    span_days = (_ts(conv[-1]) - _ts(conv[0])) / 86400
    assert 300 <= span_days <= 400


def test_four_speakers_with_healthy_shares(data):
    conv = _conversation(data)
    counts = Counter(m["author"]["nickname"] for m in conv)
    assert set(counts) == set(SAMPLE_FRIENDS)
    for name, n in counts.items():
        assert n / len(conv) >= 0.15, (name, n)
    # One friend still has an old-style #tag, the others are on the new username system.
    discs = {m["author"]["nickname"]: m["author"]["discriminator"] for m in conv}
    assert sorted(discs.values()).count("0000") == 3


def test_many_sessions_of_varied_length(data):
    times = [_ts(m) for m in data["messages"]]
    sizes, current = [], 1
    for a, b in zip(times, times[1:]):
        if b - a > 3 * 3600:
            sizes.append(current)
            current = 1
        else:
            current += 1
    sizes.append(current)
    assert len(sizes) >= 100
    assert any(s <= 6 for s in sizes)
    assert any(s >= 60 for s in sizes)
    gaps = sorted(b - a for a, b in zip(times, times[1:]))
    assert gaps[-1] > 2 * 86400  # silences of days


def test_non_conversation_records_present(data):
    msgs = data["messages"]
    kinds = Counter(m["type"] for m in msgs)
    assert kinds["RecipientAdd"] >= 1 and kinds["ChannelPinnedMessage"] >= 1
    assert sum(1 for m in msgs if m["author"]["isBot"]) >= 1
    assert sum(1 for m in msgs if not m["content"] and m["attachments"]) >= 1
    assert sum(1 for m in msgs if m["isPinned"]) >= 1
    assert sum(1 for m in msgs if m["mentions"]) >= 1
    assert sum(1 for m in msgs if m["reactions"]) >= 10
    assert sum(1 for m in msgs if "https://" in m["content"]) >= 10
    assert sum(1 for m in msgs if "\n" in m["content"]) >= 10


def test_voices_differ(data):
    by: dict[str, list[str]] = {}
    for m in _conversation(data):
        by.setdefault(m["author"]["nickname"], []).append(m["content"])

    def share(name, pred):
        texts = by[name]
        return sum(1 for t in texts if pred(t)) / len(texts)

    def lower(t):
        return t == t.lower()

    def full_stop(t):
        return t.rstrip().endswith(".")

    def has(*words):
        pat = re.compile("|".join(re.escape(w) for w in words), re.I)
        return lambda t: bool(pat.search(t))

    # Maya and dan write in lowercase; Jonas and Priya do not.
    assert share("Maya", lower) > 0.9 and share("pixel_dan", lower) > 0.9
    assert share("Jonas", lower) < 0.1 and share("Priya", lower) < 0.1
    # Jonas ends sentences with full stops; nobody else does.
    assert share("Jonas", full_stop) > 0.7
    assert max(share(n, full_stop) for n in ("Maya", "pixel_dan", "Priya")) < 0.05
    # Each one's tics are theirs.
    assert share("Maya", has("lol", "omg", "!!")) > 0.35 > share("Jonas", has("lol", "omg", "!!"))
    assert share("pixel_dan", has("bro", "ngl", "💀", " fr")) > 0.2 > share("Priya", has("bro", "ngl", "💀"))
    assert share("Priya", has("?")) > 0.25 > share("pixel_dan", has("?"))
    assert share("Priya", has("haha", "tbh")) > 0.1 > share("Jonas", has("haha", "tbh"))
    assert share("Jonas", has("Well,", "Right.", "To be fair", "Hmm.")) > 0.15
    # Plenty of different lines, not the same twenty repeated.
    for name, texts in by.items():
        assert len(set(texts)) >= 300, name


def test_generator_reproduces_committed_file(raw, monkeypatch):
    monkeypatch.syspath_prepend(str(Path(__file__).parent / "sample_chat"))
    from make_sample import generate, render

    assert render(generate()) == raw, "run: python tests/sample_chat/make_sample.py"


def test_import_into_workspace(tmp_path, data):
    pytest.importorskip("friendsim_tui.importers.dce_json")
    from friendsim_tui import paths
    from friendsim_tui.services.importing import import_paths

    msgs = data["messages"]
    conv = _conversation(data)
    system = sum(1 for m in msgs if m["type"] not in CONVERSATION)
    bots = sum(1 for m in msgs if m["type"] in CONVERSATION and m["author"]["isBot"])
    media = sum(1 for m in msgs if m["type"] in CONVERSATION and not m["content"].strip() and m["attachments"])
    paths.set_data_dir(tmp_path)
    try:
        result = import_paths(SAMPLE_WORKSPACE, [sample_path()])
    finally:
        paths.set_data_dir(None)
    assert result.messages_added == len(conv)
    assert result.messages_total == len(conv)
    assert set(result.speakers) == set(SAMPLE_FRIENDS)
    assert result.speakers == Counter(m["author"]["nickname"] for m in conv)
    assert result.skipped.get("system") == system
    assert result.skipped.get("bot") == bots
    assert result.skipped.get("media-only") == media
    assert sum(result.skipped.values()) == len(msgs) - len(conv)
    assert [f["format"] for f in result.to_json()["files"]] and result.files[0].read == len(msgs)
