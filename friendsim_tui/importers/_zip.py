"""Reading a chat out of a zip (WhatsApp's export) without trusting the zip.

A zip can claim anything and unpack to far more than it weighs: 400 KB of deflated NUL bytes is 400 MB.
So before anything is unpacked the member's declared size and its packing ratio are checked, then it is
unpacked a chunk at a time, counting, and reading stops at the first NUL byte (binary data, no chat
text). Whatever goes wrong inside the archive (a bad CRC, a cut-off file, garbage behind a zip
signature) is reported as a damaged zip archive, on one line.
"""

from __future__ import annotations

import struct
import zipfile
import zlib
from pathlib import Path

from friendsim_tui.importers.base import ChatImportError

MAX_TEXT_BYTES = 1 << 30
"""The most chat text read from one member: 1 GiB is some ten million messages."""
MAX_RATIO = 100
"""Chat text packs 3 to 10 times smaller; a member that claims far more is a zip bomb, not a chat."""
RATIO_FROM = 16 << 20
"""Members that unpack to less than this are read whatever their ratio: they cannot do harm."""
CHUNK = 1 << 20

ERRORS = (
    zipfile.BadZipFile, zipfile.LargeZipFile, zlib.error, struct.error, OSError, EOFError, RuntimeError, ValueError,
    NotImplementedError,
)
"""What zipfile raises on a damaged or unusual archive."""

# What a zip starts with: a member, an empty archive's end record, a split archive's marker.
_SIGNATURES = (b"PK\x03\x04", b"PK\x05\x06", b"PK\x07\x08")


def damaged(path: Path | str, exc: BaseException | str) -> ChatImportError:
    detail = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return ChatImportError(path, f"damaged zip archive: {detail}")


def is_zip(path: Path, head: bytes) -> bool:
    """True for a readable zip. A file that starts like a zip but has no readable end (cut off, or garbage
    behind the signature) raises :class:`ChatImportError` saying it is damaged."""
    if zipfile.is_zipfile(path):
        return True
    if head.startswith(_SIGNATURES):
        raise damaged(path, "no central directory at the end (the file was cut off, or is not a whole zip)")
    return False


def member_names(path: Path) -> list[str]:
    try:
        with zipfile.ZipFile(path) as zf:
            return zf.namelist()
    except ERRORS as exc:
        raise damaged(path, exc) from None


def read_member(zf: zipfile.ZipFile, name: str, path: Path | str) -> bytearray:
    """The bytes of member ``name``, read within the limits above (:class:`ChatImportError` beyond them)."""
    try:
        info = zf.getinfo(name)
        where = f"member {name!r}"
        if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            method = info.compress_type
            detail = f"packed with method {method}, not deflate as chat exports are (a damaged zip?)"
            raise ChatImportError(path, detail, where)
        size, packed = info.file_size, max(info.compress_size, 1)
        mib = f"{size / (1 << 20):,.0f} MiB"
        if size > MAX_TEXT_BYTES:
            raise ChatImportError(path, f"claims to unpack to {mib}, more than any chat export (a damaged zip?)", where)
        if size > RATIO_FROM and size > MAX_RATIO * packed:
            raise ChatImportError(
                path,
                f"claims to unpack to {size // packed:,} times its packed size ({mib} from {packed >> 10:,} KiB); "
                "chat text packs 3 to 10 times, so this is a zip bomb or a damaged zip",
                where,
            )
        data = bytearray()  # grown in place: no second copy of the whole text at the end
        total = 0
        utf16 = False  # UTF-16 text is full of NULs
        with zf.open(info) as fh:
            while chunk := fh.read(CHUNK):
                if not total:
                    utf16 = chunk.startswith((b"\xff\xfe", b"\xfe\xff"))
                nul = -1 if utf16 else chunk.find(b"\x00")
                if nul >= 0:
                    raise ChatImportError(
                        path, "binary data (NUL bytes), not a text chat export", f"{where}, byte {total + nul}"
                    )
                total += len(chunk)
                if total > min(size, MAX_TEXT_BYTES):  # zipfile stops at the declared size; never trust one check
                    raise damaged(path, f"{where} unpacks to more than the {size:,} bytes it declares")
                data += chunk
        return data
    except ERRORS as exc:
        raise damaged(path, exc) from None
