"""WhatsApp zips that are bombs, binary or damaged end in one line, without unpacking more than they must."""

from __future__ import annotations

import struct
import zipfile
import zlib
from pathlib import Path

import pytest
from hypothesis import given, settings, strategies as st

from friendsim_tui.importers import detect, parse_file, whatsapp
from friendsim_tui.importers.base import ChatImportError, ImportReport

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "whatsapp"
ALICE = FIXTURES / "WhatsApp Chat with Alice.txt"
HEAD = b"13/01/24, 10:05 - Alice: hey\n13/01/24, 10:06 - Bob: hi\n"


def write_zip(path: Path, name: str, pieces, size: int, crc: int, declared: int | None = None) -> Path:
    """A one-member deflate zip from already compressed ``pieces``; ``declared`` is the size it claims."""
    data = b"".join(pieces)
    name_b = name.encode()
    usize = size if declared is None else declared
    fields = struct.pack("<HHHHHIIIHH", 20, 0, 8, 0, 33, crc, len(data), usize, len(name_b), 0)
    local = b"PK\x03\x04" + fields + name_b
    central = b"PK\x01\x02" + struct.pack("<H", 20) + fields + struct.pack("<HHHII", 0, 0, 0, 0, 0) + name_b
    end = b"PK\x05\x06" + struct.pack("<HHHHIIH", 0, 0, 1, 1, len(central), len(local) + len(data), 0)
    path.write_bytes(local + data + central + end)
    return path


def nul_bomb(path: Path, mib: int, head: bytes = b"", declared: int | None = None) -> Path:
    """``head`` then ``mib`` MiB of NUL bytes, deflated. Each MiB is flushed on its own, so one compressed
    piece repeats: the zip is written in a fraction of the time zlib takes to pack it."""
    block = bytes(1 << 20)
    co = zlib.compressobj(9, zlib.DEFLATED, -15)
    first = co.compress(head) + co.flush(zlib.Z_FULL_FLUSH)
    piece = co.compress(block) + co.flush(zlib.Z_FULL_FLUSH)
    crc = zlib.crc32(head)
    for _ in range(mib):
        crc = zlib.crc32(block, crc)
    return write_zip(path, "_chat.txt", [first, piece * mib, co.flush()], len(head) + (mib << 20), crc, declared)


def read(path: Path) -> tuple[list, ImportReport]:
    report = ImportReport(str(path))
    return list(parse_file(path, report)), report


def refusal(path: Path) -> str:
    with pytest.raises(ChatImportError) as exc:
        read(path)
    text = str(exc.value)
    assert "\n" not in text and text.startswith(str(path))
    return text


def test_the_hand_made_zips_are_real_zips(tmp_path):
    z = nul_bomb(tmp_path / "small.zip", 2, HEAD)
    with zipfile.ZipFile(z) as zf:
        assert zf.read("_chat.txt") == HEAD + bytes(2 << 20)  # CRC and sizes check out


@pytest.mark.parametrize("head", [b"", HEAD], ids=["nuls", "chat-then-nuls"])
def test_a_zip_bomb_is_refused_before_anything_is_unpacked(tmp_path, import_in_child, head):
    normal = import_in_child(write_zip_of(tmp_path / "WhatsApp Chat with Alice.zip", ALICE.read_bytes()))
    assert normal["kept"] == 4
    bomb = nul_bomb(tmp_path / "WhatsApp Chat with Bob.zip", 400, head)  # 400 MiB from ~400 KiB
    got = import_in_child(bomb, cap=(normal["VmPeak"] << 10) + (256 << 20))  # it used to take 825 MB
    assert got["error"].startswith(f"{bomb} (member '_chat.txt'): claims to unpack to 1,0")
    assert "zip bomb" in got["error"]
    assert got["VmHWM"] < normal["VmHWM"] + (16 << 10)


def write_zip_of(path: Path, text: bytes, name: str = "_chat.txt", method: int = zipfile.ZIP_DEFLATED) -> Path:
    with zipfile.ZipFile(path, "w", method) as zf:
        zf.writestr(name, text)
    return path


def test_a_member_that_lies_about_its_size_is_read_no_further_than_the_first_binary_byte(tmp_path):
    # claims 10 MiB (too little to look like a bomb); holds a chat, then 300 MiB of NULs
    z = nul_bomb(tmp_path / "WhatsApp Chat with Bob.zip", 300, HEAD, declared=10 << 20)
    assert refusal(z) == f"{z} (member '_chat.txt', byte {len(HEAD)}): binary data (NUL bytes), not a text chat export"


def test_binary_data_after_the_first_64_kib_is_refused_not_imported(tmp_path):
    chat = HEAD * 2000  # ~110 KB of chat, then binary
    text = tmp_path / "WhatsApp Chat with Bob.txt"
    text.write_bytes(chat + bytes(1000) + HEAD)
    assert refusal(text) == f"{text} (byte {len(chat)}): binary data (NUL bytes), not a text chat export"
    z = write_zip_of(tmp_path / "WhatsApp Chat with Bob.zip", text.read_bytes())
    assert refusal(z).endswith(f"(member '_chat.txt', byte {len(chat)}): binary data (NUL bytes), not a text chat export")


def _good_zip() -> bytes:
    import io

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("WhatsApp Chat with Alice.txt", ALICE.read_bytes())
    return buf.getvalue()


GOOD = _good_zip()
_DATA_AT = 30 + len("WhatsApp Chat with Alice.txt")  # where the deflate stream starts


def _patch(data: bytes, at: int, new: bytes) -> bytes:
    return data[:at] + new + data[at + len(new) :]


DAMAGED = {
    "cut off": GOOD[: len(GOOD) // 2],
    "garbage behind a zip signature": b"PK\x03\x04" + bytes(range(256)) * 8,
    "bad CRC": _patch(GOOD, GOOD.index(b"PK\x01\x02") + 16, b"\x00\x00\x00\x00"),
    "broken deflate stream": _patch(GOOD, _DATA_AT, b"\xff" * 8),
    "unknown zip version": _patch(GOOD, GOOD.index(b"PK\x01\x02") + 6, struct.pack("<H", 99)),
}


@pytest.mark.parametrize("damage", DAMAGED)
def test_a_damaged_zip_is_named_damaged(tmp_path, damage):
    z = tmp_path / "WhatsApp Chat with Alice.zip"
    z.write_bytes(DAMAGED[damage])
    assert f"{z}: damaged zip archive: " in refusal(z)


def test_a_member_packed_otherwise_than_deflate_is_refused_before_unpacking(tmp_path):
    z = write_zip_of(tmp_path / "WhatsApp Chat with Alice.zip", ALICE.read_bytes(), method=zipfile.ZIP_BZIP2)
    assert refusal(z) == f"{z} (member '_chat.txt'): packed with method 12, not deflate as chat exports are (a damaged zip?)"


def test_a_zip_without_a_chat_is_still_not_a_chat_export(tmp_path):
    z = write_zip_of(tmp_path / "photos.zip", b"\xff\xd8\xff", name="a.jpg")
    assert "not a supported chat export" in refusal(z)


@settings(settings.get_profile("importers"))
@given(edits=st.lists(st.tuples(st.integers(0, len(GOOD) - 1), st.integers(0, 255)), min_size=1, max_size=4),
       cut=st.integers(1, len(GOOD)))
def test_any_damage_to_a_zip_gives_messages_or_one_line(tmp_path, edits, cut):
    data = bytearray(GOOD)
    for at, byte in edits:
        data[at] = byte
    z = tmp_path / "WhatsApp Chat with Alice.zip"
    z.write_bytes(bytes(data[:cut]))
    try:
        msgs, report = read(z)
    except ChatImportError as exc:
        assert "\n" not in str(exc) and str(exc).startswith(str(z))
    else:
        assert report.format == whatsapp.label and report.kept == len(msgs)


def test_a_good_zip_still_reads(tmp_path):
    z = tmp_path / "WhatsApp Chat with Alice.zip"
    z.write_bytes(GOOD)
    assert detect(z) is whatsapp
    msgs, report = read(z)
    assert len(msgs) == 4 and report.warnings == []


def test_running_out_of_memory_ends_in_one_line(tmp_path, import_in_child):
    small = tmp_path / "WhatsApp Chat with Alice.txt"
    small.write_bytes(HEAD)
    normal = import_in_child(small)
    big = tmp_path / "WhatsApp Chat with Bob.txt"
    big.write_bytes(HEAD * 1_200_000)  # 66 MB of chat, in a process allowed 32 MB more than a tiny import
    got = import_in_child(big, cap=(normal["VmPeak"] + (32 << 10)) << 10)
    assert got["error"] == f"{big}: not enough memory to read it as {whatsapp.label}"
