"""Absurdly nested JSON (a hostile or broken file) is refused on one line, with memory that does not grow
with the depth; real nesting of any shape is read as before."""

from __future__ import annotations

import io
import json

import ijson
import pytest
from hypothesis import given, strategies as st

from friendsim_tui.importers import _json
from friendsim_tui.importers.base import ChatImportError

MESSAGE = {"id": "10", "type": "Default", "timestamp": "2023-01-01T00:00:00+00:00", "content": "hi",
           "author": {"id": "5", "name": "bob", "nickname": "Bob"}}


def dce(extra: str) -> str:
    deeper = '{"id": "11", "type": "Default", "timestamp": "2023-01-01T00:00:01+00:00", "content": "x", ' \
             '"author": {"id": "5", "name": "bob"}, "embeds": ' + extra + "}"
    return ('{"guild": {"id": "1", "name": "G"}, "channel": {"id": "2", "name": "c"}, "messages": ['
            + json.dumps(MESSAGE) + ", " + deeper + "]}")


def telegram(extra: str) -> str:
    return ('{"name": "A", "type": "personal_chat", "id": 1, "messages": [{"id": 1, "type": "message", '
            '"date_unixtime": "1672531200", "from": "A", "from_id": "user1", "text": "hi"}, '
            '{"id": 2, "type": "message", "date_unixtime": "1672531201", "from": "A", "from_id": "user1", '
            '"text": ' + extra + "}]}")


def messenger(extra: str) -> str:
    return ('{"participants": [{"name": "A"}], "title": "t", "messages": [{"sender_name": "A", '
            '"timestamp_ms": 1672531200000, "content": "hi", "x": ' + extra + "}]}")


FORMATS = {"dce": (dce, "G - c [2].json"), "telegram": (telegram, "result.json"), "messenger": (messenger, "message_1.json")}

@pytest.mark.parametrize("fmt", FORMATS)
def test_deep_nesting_is_refused_on_one_line_with_memory_that_does_not_grow(tmp_path, fmt, import_in_child):
    build, filename = FORMATS[fmt]
    shallow = tmp_path / "shallow" / filename
    shallow.parent.mkdir()
    shallow.write_text(build("[[1]]"))
    normal = import_in_child(shallow)
    assert "error" not in normal and normal["kept"] >= 1
    # A cap far above what a normal import needs, far below what 30,000 levels used to cost (2.2 GB).
    cap = (normal["VmPeak"] << 10) + (512 << 20)
    for depth in (30_000, 100_000):
        deep = tmp_path / str(depth) / filename
        deep.parent.mkdir()
        deep.write_text(build("[" * depth + "]" * depth))
        got = import_in_child(deep, cap)
        assert "\n" not in got["error"] and got["error"].startswith(str(deep))
        assert "nested more than 256 levels" in got["error"]
        offset = int(got["error"].split("(byte ", 1)[1].split(")")[0])
        assert _levels(deep.read_bytes()[: offset + 1]) == (257, 257)  # the byte that opens level 257
        assert got["VmHWM"] < normal["VmHWM"] + (64 << 10)


def test_nesting_up_to_the_limit_is_read(tmp_path, import_in_child):
    p = tmp_path / "G - c [2].json"
    p.write_text(dce("[" * 250 + "]" * 250))  # message, embeds: 4 levels around it
    got = import_in_child(p)
    assert got.get("kept") == 2, got


def _depth(value) -> int:
    if isinstance(value, dict):
        return 1 + max((_depth(v) for v in value.values()), default=0)
    if isinstance(value, list):
        return 1 + max((_depth(v) for v in value), default=0)
    return 0


_TEXT = st.text(alphabet='ab[]{}"\\\n\u00e9\U0001f389', max_size=6)
_VALUES = st.recursive(
    st.none() | st.integers() | _TEXT,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_TEXT, inner, max_size=3),
    max_leaves=30,
)


@given(value=_VALUES, limit=st.integers(1, 12), chunks=st.lists(st.integers(1, 9), min_size=1), ascii_only=st.booleans())
def test_the_guard_follows_the_depth_exactly_whatever_the_chunks(value, limit, chunks, ascii_only):
    """Strings full of brackets, quotes and backslashes, cut anywhere: refused exactly when too deep."""
    data = json.dumps(value, ensure_ascii=ascii_only).encode()
    reader = _json.JsonReader(io.BytesIO(data), "x.json", limit=limit)
    read = b""
    try:
        i = 0
        while True:
            piece = reader.read(chunks[i % len(chunks)])
            i += 1
            if not piece:
                break
            read += piece
    except ChatImportError as exc:
        assert _depth(value) > limit, exc
        offset = int(str(exc).split("(byte ", 1)[1].split(")")[0])
        # yajl itself agrees: the byte named opens level limit + 1, and nothing before it goes that deep
        assert _levels(data[: offset + 1]) == (limit + 1, limit + 1)
        assert _levels(data[:offset])[0] == limit
    else:
        assert read == data
        assert _depth(value) <= limit


def _levels(prefix: bytes) -> tuple[int, int]:
    """(deepest level, level at the end) of a JSON prefix, as ijson's own parser sees it."""
    level = deepest = 0
    try:
        for event, _ in ijson.basic_parse(io.BytesIO(prefix)):
            if event in ("start_map", "start_array"):
                level += 1
                deepest = max(deepest, level)
            elif event in ("end_map", "end_array"):
                level -= 1
    except ijson.IncompleteJSONError:
        pass
    return deepest, level
