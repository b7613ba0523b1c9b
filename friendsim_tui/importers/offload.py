"""Messages of one file in batches, read in this process or in a child process.

An import spends its time in two places: parsing (Python) and inserting into SQLite (which needs the
GIL for every row it binds). In one process the two cannot overlap, so a large file is parsed in a child
process (:func:`main`) while this one inserts: on a machine with two or
more cores the import then takes about as long as the slower half instead of the sum.

Either way the consumer sees the same thing, :class:`~friendsim_tui.importers.base.Batch` after
``Batch``: rows that name their speaker by a small local number, plus the conversations and speakers first
seen in that batch, so the consumer resolves each identity once instead of once per message.

The child writes frames to its stdout: an 8-byte length, then a payload; batches are marshalled (twice as
fast to write as a pickle), the rest pickled. The child only ever writes; this process only reads frames
from a child it started itself, with an argument list it built.
"""

from __future__ import annotations

import importlib
import marshal
import os
import pickle
import queue
import struct
import subprocess
import sys
import tempfile
import threading
from pathlib import Path
from types import ModuleType
from typing import Iterator

from friendsim_tui.importers.base import Batch, ChatImportError, ImportReport, Progress

BATCH = 20_000
"""Rows per batch: large enough that per-batch costs vanish, small enough to keep both processes busy."""

OFFLOAD_MIN_BYTES = 16 << 20
"""Files at least this large are parsed in a child process (starting one costs about 0.1 s)."""

_FRAME = struct.Struct("<Q")
_AHEAD = 8
"""Batches the child may run ahead of the inserts (bounds memory: a batch is a few MB)."""


class Batches:
    """Iterate over a file's messages as :class:`Batch` es."""

    def __init__(self, path: Path, report: ImportReport, progress: Progress | None = None, size: int | None = None,
                 fmt: ModuleType | None = None) -> None:
        self.path = Path(path)
        self.report = report
        self.progress = progress
        self.size = size or BATCH
        self.fmt = fmt
        """the file's format when already detected"""

    def __iter__(self) -> Iterator[Batch]:
        from friendsim_tui.importers import batch_file

        return batch_file(self.path, self.report, self.progress, self.size, self.fmt)


def offload_worth_it(path: Path) -> bool:
    """True when ``path`` is large enough to parse in a child process, and this machine has a core for it."""
    if os.environ.get("FRIENDSIM_IMPORT_IN_PROCESS") or not sys.executable:
        return False
    try:
        return (os.cpu_count() or 1) >= 2 and os.path.getsize(path) >= OFFLOAD_MIN_BYTES
    except OSError:
        return False


class ChildBatches(Batches):
    """:class:`Batches`, parsed by a child process; use as a context manager (it stops the child on exit).

    The report is filled in when the child finishes; a file the child cannot import raises the same
    :class:`ChatImportError` it would have raised here. Progress is reported from the child.
    """

    def __init__(self, path: Path, report: ImportReport, progress: Progress | None = None, size: int | None = None) -> None:
        super().__init__(path, report, progress, size)
        self._proc: subprocess.Popen | None = None
        self._stderr = None
        self._frames: queue.Queue = queue.Queue(_AHEAD)
        self._reader: threading.Thread | None = None
        self._stop = threading.Event()

    def __enter__(self) -> "ChildBatches":
        # This very package (first on the path, so a folder named like it in the working directory
        # cannot stand in for it), run in the same working directory so relative paths read the same.
        from friendsim_tui.importers import detect

        package_root = str(Path(__file__).resolve().parents[2])
        code = f"import sys; sys.path.insert(0, {package_root!r}); from friendsim_tui.importers.offload import main; main()"
        # Detected here (its module is imported already), so the child imports only that format's module; a
        # file that is no chat export is left to the child, which reports it as any import does.
        try:
            module = (self.fmt or detect(self.path)).__name__.rsplit(".", 1)[1]
        except ChatImportError:
            module = ""
        self._stderr = tempfile.TemporaryFile()
        self._proc = subprocess.Popen(
            [sys.executable, "-c", code, str(self.path), str(self.size), module],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=self._stderr,
        )
        self._reader = threading.Thread(target=self._read, name="friendsim-import-reader", daemon=True)
        self._reader.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        proc = self._proc
        if proc is not None:
            if proc.poll() is None:
                proc.kill()
            proc.wait()
            proc.stdout.close()
        while self._reader is not None and self._reader.is_alive():
            try:  # unblock a reader waiting for room in the queue
                self._frames.get_nowait()
            except queue.Empty:
                pass
            self._reader.join(0.05)
        if self._stderr is not None:
            self._stderr.close()

    def _read(self) -> None:
        """Reader thread: frames from the child's stdout into the queue (the file read releases the GIL)."""
        stdout = self._proc.stdout
        while not self._stop.is_set():
            head = stdout.read(_FRAME.size)
            if len(head) < _FRAME.size:
                self._frames.put(None)
                return
            (n,) = _FRAME.unpack(head)
            data = stdout.read(n)
            if len(data) < n:
                self._frames.put(None)
                return
            self._frames.put(data)

    def __iter__(self) -> Iterator[Batch]:
        while True:
            data = self._frames.get()
            if data is None:
                raise self._died()
            if data[:1] == b"B":
                yield Batch(*marshal.loads(memoryview(data)[1:]))
                continue
            kind, *payload = pickle.loads(data)
            if kind == "progress":
                if self.progress:
                    self.progress(*payload)
            elif kind == "done":
                (report,) = payload
                self.report.__dict__.update(report.__dict__)
                return
            elif kind == "error":
                raise ChatImportError(*payload)
            else:
                raise RuntimeError(f"unexpected frame {kind!r} from the import process")

    def _died(self) -> Exception:
        code = self._proc.wait()
        self._stderr.seek(0)
        err = self._stderr.read().decode("utf-8", "replace").strip().splitlines()
        last = err[-1] if err else "no message"
        return RuntimeError(f"the process reading {self.path} stopped unexpectedly (exit code {code}): {last}")


def _serve(path: str, size: int, module: str) -> int:
    """The child: parse ``path`` (a file of the format that ``module`` of this package reads) and write its
    frames to stdout."""
    out = sys.stdout.buffer
    sys.stdout = sys.stderr  # nothing else may write into the frame stream

    def send(*frame) -> None:
        data = pickle.dumps(frame, protocol=pickle.HIGHEST_PROTOCOL)
        out.write(_FRAME.pack(len(data)))
        out.write(data)

    def send_batch(batch: Batch) -> None:
        data = marshal.dumps(tuple(batch))
        out.write(_FRAME.pack(len(data) + 1))
        out.write(b"B")
        out.write(data)

    def progress(done: int, total: int) -> None:
        send("progress", done, total)
        out.flush()

    report = ImportReport(path)
    fmt = importlib.import_module(f"friendsim_tui.importers.{module}") if module else None
    batches = Batches(Path(path), report, progress, size, fmt)
    try:
        for batch in batches:
            send_batch(batch)
    except ChatImportError as exc:
        send("error", exc.path, exc.detail, exc.where)
    else:
        send("done", report)
    out.flush()
    return 0


def main() -> None:
    """Entry point of the child process: ``main()`` with argv ``[path, batch size, format module or ""]``."""
    try:
        sys.exit(_serve(sys.argv[1], int(sys.argv[2]), sys.argv[3]))
    except BrokenPipeError:  # the importing process stopped reading (cancelled, or failed)
        sys.exit(1)
