"""DiscordChatExporter import benchmarks: against the plainest correct import, and memory.

- CSV against a plain reference, same run: ``friendsim-tui import`` of a generated DCE CSV (300,000 and
  1,000,000 messages by default) against :func:`reference_import` (Python's csv module, ISO dates, one SQLite
  transaction of INSERT OR IGNORE on a unique (author, time, text) index: about the least a correct import
  does). Both run as whole commands in a subprocess of the same Python, from compiled bytecode (one untimed
  run of each first), into a fresh database, in alternating order; the figure is ours/reference of the medians
  (target >= 1.5x), with each round's load average.
- Where the time goes: the stages of our import one after another in one process (CPU seconds).
- JSON: a ~1 GB generated export, stream-written, imported in a child process; prints that process's
  peak RSS plus the peak of the process it parses the file in, against the 300 MB target.

    python benchmarks/bench_import_discord.py            # full sizes
    python benchmarks/bench_import_discord.py --quick    # smoke run (small sizes)

Everything is written under a temporary directory that is removed afterwards (``--keep`` keeps it).
"""

from __future__ import annotations

import argparse
import csv
import json
import marshal
import os
import random
import resource
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

RATIO_TARGET = 1.5  # ours / the reference, messages per second
RSS_TARGET_MB = 300
ROOT = Path(__file__).resolve().parent.parent

_WORDS = (
    "hey yeah no lol ok sure what why when did you see that game last night i think we should go "
    "tomorrow maybe later honestly this is wild haha brb gg nice one did anyone eat pizza again 😂 🎉 "
    "café naïve über \"quoted\" words, commas, and; semicolons"
).split()
_PEOPLE = [
    (str(100000000000000000 + i * 7919), name)
    for i, name in enumerate(
        ["alice", "bob#1234", "Charlie", "dana_x", "eve#0001", "frank", "gus the bus", "hana", "ivo#4242", "jun"]
    )
]


def _texts(rng: random.Random, n: int):
    words = _WORDS
    for i in range(n):
        r = rng.random()
        if r < 0.01:
            yield "Joined the server.", ""
        elif r < 0.02:
            yield "", "https://cdn.discordapp.com/attachments/1/2/image.png"
        elif r < 0.04:
            yield " ".join(rng.choices(words, k=6)) + "\n" + " ".join(rng.choices(words, k=4)), ""
        else:
            yield " ".join(rng.choices(words, k=rng.randint(2, 16))), ""


def write_csv(path: Path, n: int, seed: int = 1) -> None:
    """A DCE CSV export of ``n`` messages, as DCE writes it (every field quoted, ISO dates)."""
    rng = random.Random(seed)
    t = datetime(2021, 3, 1, 12, 0, tzinfo=timezone(timedelta(hours=2)))
    with open(path, "w", encoding="utf-8", newline="") as fh:
        fh.write("AuthorID,Author,Date,Content,Attachments,Reactions\n")
        out = []
        for content, attachment in _texts(rng, n):
            t += timedelta(seconds=rng.randint(1, 90), microseconds=rng.randint(0, 999999))
            uid, author = _PEOPLE[rng.randrange(len(_PEOPLE))]
            date = t.isoformat(timespec="microseconds")
            date = date[:26] + "0" + date[26:]  # .NET's round-trip format has 7 fractional digits
            content = content.replace('"', '""')
            out.append(f'"{uid}","{author}","{date}","{content}","{attachment}",""\n')
            if len(out) >= 10000:
                fh.writelines(out)
                out.clear()
        fh.writelines(out)


def write_json(path: Path, target_bytes: int, seed: int = 2) -> int:
    """A DCE JSON export of about ``target_bytes``, stream-written (indented, like DCE). Returns messages."""
    rng = random.Random(seed)
    t = datetime(2021, 3, 1, 12, 0, tzinfo=timezone.utc)
    msg_id = 800000000000000000
    n = 0
    with open(path, "w", encoding="utf-8") as fh:
        head = {
            "guild": {"id": "555", "name": "Bench Guild", "iconUrl": "https://cdn.discordapp.com/embed/avatars/0.png"},
            "channel": {"id": "777", "type": "GuildTextChat", "categoryId": "1", "category": "Text",
                        "name": "general", "topic": None},
            "dateRange": {"after": None, "before": None},
            "exportedAt": "2024-01-01T00:00:00.000+00:00",
        }
        fh.write(json.dumps(head, indent=2)[:-2] + ',\n  "messages": [\n')
        texts = _texts(rng, 1 << 62)
        written = fh.tell()
        first = True
        while written < target_bytes:
            content, attachment = next(texts)
            t += timedelta(seconds=rng.randint(1, 90))
            msg_id += rng.randint(1, 1 << 22) << 22
            uid, author = _PEOPLE[rng.randrange(len(_PEOPLE))]
            name, _, disc = author.partition("#")
            msg = {
                "id": str(msg_id),
                "type": "GuildMemberJoin" if content == "Joined the server." else "Default",
                "timestamp": t.isoformat(timespec="milliseconds"),
                "timestampEdited": None,
                "callEndedTimestamp": None,
                "isPinned": False,
                "content": "" if content == "Joined the server." else content,
                "author": {
                    "id": uid, "name": name, "discriminator": disc or "0000", "nickname": name.title(),
                    "color": "#E67E22", "isBot": False, "roles": [{"id": "9", "name": "friends", "color": None,
                                                                   "position": 1}],
                    "avatarUrl": "https://cdn.discordapp.com/avatars/1/abc.png?size=512",
                },
                "attachments": [{"id": "1", "url": attachment, "fileName": "image.png", "fileSizeBytes": 1234}]
                if attachment else [],
                "embeds": [],
                "stickers": [],
                "reactions": [],
                "mentions": [],
                "inlineEmojis": [],
            }
            text = json.dumps(msg, indent=2, ensure_ascii=False).replace("\n", "\n    ")
            chunk = ("" if first else ",\n") + "    " + text
            first = False
            fh.write(chunk)
            written += len(chunk.encode("utf-8")) if not chunk.isascii() else len(chunk)
            n += 1
        fh.write(f'\n  ],\n  "messageCount": {n}\n}}\n')
    return n


def reference_import(csv_path: str, db_path: str) -> int:
    """The plainest correct import of a DCE CSV: what ours is measured against. Returns messages added."""
    conn = sqlite3.connect(db_path, isolation_level=None)
    conn.execute("CREATE TABLE IF NOT EXISTS messages(author TEXT NOT NULL, time REAL NOT NULL, text TEXT NOT NULL)")
    conn.execute("CREATE UNIQUE INDEX IF NOT EXISTS messages_key ON messages(author, time, text)")

    def rows():
        with open(csv_path, encoding="utf-8-sig", newline="") as fh:
            reader = csv.reader(fh)
            next(reader)  # the header
            for _author_id, author, date, content, _attachments, _reactions in reader:
                if content:
                    yield author, datetime.fromisoformat(date).timestamp(), content

    conn.execute("BEGIN")
    before = conn.total_changes
    conn.executemany("INSERT OR IGNORE INTO messages(author, time, text) VALUES (?, ?, ?)", rows())
    added = conn.total_changes - before
    conn.execute("COMMIT")
    conn.close()
    return added


def _run(cmd: list[str], env: dict) -> tuple[float, float]:
    """Wall seconds of a whole command, start to exit, and the CPU seconds of its processes."""
    k0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    took = time.perf_counter() - t0
    k1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed (exit {proc.returncode}): {proc.stderr.strip()[-500:]}")
    return took, (k1.ru_utime - k0.ru_utime) + (k1.ru_stime - k0.ru_stime)


def bench_vs_reference(tmp: Path, n: int, rounds: int) -> float:
    """Ours against the reference on an ``n``-message CSV; returns ours/reference of the median times."""
    src = tmp / "Bench Guild - general [777].csv"
    write_csv(src, n)
    size_mb = src.stat().st_size / 1e6
    env = {**os.environ, "PYTHONPYCACHEPREFIX": str(tmp / "bytecode")}  # compiled once, as an installed app
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env.pop("FRIENDSIM_IMPORT_IN_PROCESS", None)
    home, db = tmp / "home", tmp / "reference.sqlite3"

    def ours() -> tuple[float, float]:
        shutil.rmtree(home, ignore_errors=True)
        return _run([sys.executable, "-m", "friendsim_tui", "--data-dir", str(home), "import", str(src),
                     "-w", "bench", "--json"], env)

    def reference() -> tuple[float, float]:
        for p in tmp.glob("reference.sqlite3*"):
            p.unlink()
        return _run([sys.executable, __file__, "--reference", str(src), str(db)], env)

    ours(), reference()  # untimed: bytecode, and the file in the page cache
    times: dict[str, list[float]] = {"ours": [], "reference": []}
    cpu: dict[str, list[float]] = {"ours": [], "reference": []}
    print(f"csv {n:,} messages ({size_mb:.0f} MB), whole commands, alternating (wall s / CPU s of all processes):",
          flush=True)
    for i in range(rounds):
        load = os.getloadavg()[0]
        order = [("ours", ours), ("reference", reference)][:: 1 if i % 2 == 0 else -1]
        took = {name: run() for name, run in order}
        for name, (wall, secs) in took.items():
            times[name].append(wall)
            cpu[name].append(secs)
        (ow, oc), (rw, rc) = took["ours"], took["reference"]
        print(f"  round {i + 1}: load {load:.1f}  ours {ow:.2f} / {oc:.2f}  reference {rw:.2f} / {rc:.2f}  "
              f"{rw / ow:.2f}x", flush=True)
    ours_s, ref_s = statistics.median(times["ours"]), statistics.median(times["reference"])
    ratio = ref_s / ours_s
    print(
        f"csv {n:,}: ours {n / ours_s:,.0f} msg/s ({ours_s:.2f} s) vs the reference {n / ref_s:,.0f} msg/s "
        f"({ref_s:.2f} s), medians of {rounds}: {ratio:.2f}x the reference (target {RATIO_TARGET}x: "
        f"{'PASS' if ratio >= RATIO_TARGET else 'FAIL'}); CPU seconds {statistics.median(cpu['ours']):.2f} "
        f"vs {statistics.median(cpu['reference']):.2f}",
        flush=True,
    )
    src.unlink()
    shutil.rmtree(home, ignore_errors=True)
    return ratio


def where_the_time_goes(tmp: Path, n: int) -> None:
    """CPU seconds of each stage of our import, run one after another in this process on one CSV."""
    from friendsim_tui.importers.base import ImportReport
    from friendsim_tui.importers.offload import Batches
    from friendsim_tui.store import Store

    src = tmp / "Stages - general [778].csv"
    write_csv(src, n, seed=3)
    stages: dict[str, float] = {}

    def stage(name: str, fn):
        c0 = time.process_time()
        out = fn()
        stages[name] = time.process_time() - c0
        return out

    c0 = time.process_time()
    with open(src, encoding="utf-8", newline="") as fh:
        for _ in csv.reader(fh):
            pass
    csv_only = time.process_time() - c0
    batches = stage("parse (child)", lambda: list(Batches(src, ImportReport(str(src)))))
    frames = stage("marshal to the pipe (child)", lambda: [marshal.dumps(tuple(b)) for b in batches])
    batches = stage("unmarshal (importing process)", lambda: [marshal.loads(f) for f in frames])
    store = Store(tmp / "stages" / "workspace.sqlite3")
    for pragma in ("wal_autocheckpoint=0", "foreign_keys=OFF"):  # as services.importing does
        store.conn.execute(f"PRAGMA {pragma}")
    with store.transaction():
        conv = store.conversation_id("dce-csv", "778", "Stages")
        speakers = [store.speaker_id(src_, key, name) for b in batches for _, src_, key, name in b[1]]
        # A file this large is parsed in a child process, so its indexes are kept up to date as rows come.
        stage("insert, indexes kept up (importing process)",
              lambda: [store.insert_batch(b[2], conv, speakers, b[4], None) for b in batches])
        c0 = time.process_time()
    stages["commit"] = time.process_time() - c0
    stage("checkpoint", lambda: store.conn.execute("PRAGMA wal_checkpoint(PASSIVE)"))
    store.close()
    total = sum(stages.values())
    print(f"where the time goes, {n:,} messages, CPU seconds in one process (load {os.getloadavg()[0]:.1f}):")
    for name, secs in stages.items():
        print(f"  {name:<44} {secs:5.2f} s  {secs / total:4.0%}"
              + (f"  (of which the csv module {csv_only:.2f} s)" if name.startswith("parse") else ""))
    src.unlink()
    shutil.rmtree(tmp / "stages", ignore_errors=True)


_CHILD = """
import sys, time, resource
from friendsim_tui import paths
from friendsim_tui.services.importing import import_paths
paths.set_data_dir(sys.argv[2])
t0 = time.perf_counter()
r = import_paths("bench-json", [sys.argv[1]])
print(f"{r.messages_added} {r.files[0].read} {time.perf_counter() - t0:.2f} "
      f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss} "
      f"{resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss}", flush=True)
"""


def bench_json(tmp: Path, target_bytes: int) -> float:
    src = tmp / "Bench Guild - general [777].json"
    t0 = time.perf_counter()
    n = write_json(src, target_bytes)
    size_mb = src.stat().st_size / 1e6
    print(f"json: generated {n:,} messages ({size_mb:,.0f} MB) in {time.perf_counter() - t0:.1f}s", flush=True)
    proc = subprocess.run(
        [sys.executable, "-c", _CHILD, str(src), str(tmp / "home-json")],
        capture_output=True, text=True, cwd=Path(__file__).resolve().parent.parent,
    )
    if proc.returncode != 0:
        print(proc.stderr, file=sys.stderr)
        raise SystemExit(f"json: the import failed (exit {proc.returncode})")
    added, read, secs, import_kb, parser_kb = proc.stdout.split()
    # A large file is parsed by a second process while the first inserts: both are alive at once, so the
    # figure is the sum of their two peaks (an upper bound of the pair's peak).
    import_mb, parser_mb = int(import_kb) / 1024, int(parser_kb) / 1024
    peak_mb = import_mb + parser_mb
    print(
        f"json: imported {int(added):,} of {int(read):,} records from {size_mb:,.0f} MB in {float(secs):.1f}s "
        f"({size_mb / float(secs):.0f} MB/s); peak RSS {peak_mb:.0f} MB (importing process {import_mb:.0f} MB "
        f"+ parsing process {parser_mb:.0f} MB) vs the {RSS_TARGET_MB} MB target "
        f"({'PASS' if peak_mb <= RSS_TARGET_MB else 'FAIL'})",
        flush=True,
    )
    return peak_mb


def cpu_line() -> str:
    """The machine, as the other benchmarks name it (``benchmarks/bound.py``): import is Python and SQLite on
    one core per process, so the bound that matters here is the reference's time, measured in the same run."""
    from friendsim_tui.engine.devices import cpu_path

    model = ""
    try:
        model = next(line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    return f"{model or 'CPU'}, {os.cpu_count()} cores; CPU path: {cpu_path()}; load average {os.getloadavg()[0]:.1f}"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="small sizes, for a smoke run")
    ap.add_argument("--csv-messages", type=int, nargs="+",
                    help="CSV sizes against the reference (default 300,000 and 1,000,000; 20,000 with --quick)")
    ap.add_argument("--rounds", type=int, help="timed rounds per size (default 5, 1 with --quick)")
    ap.add_argument("--json-mb", type=float, help="default 1024 (20 with --quick)")
    ap.add_argument("--only", choices=("csv", "stages", "json"), help="run one of the three")
    ap.add_argument("--keep", action="store_true", help="keep the generated files")
    ap.add_argument("--reference", nargs=2, metavar=("CSV", "DB"), help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.reference:
        reference_import(*args.reference)
        return 0
    sizes = args.csv_messages or ([20_000] if args.quick else [300_000, 1_000_000])
    rounds = args.rounds or (1 if args.quick else 5)
    mb = args.json_mb or (20 if args.quick else 1024)
    print(cpu_line(), flush=True)
    tmp = Path(tempfile.mkdtemp(prefix="bench-dce-"))
    ok = True
    try:
        if args.only in (None, "csv"):
            for n in sizes:
                ok &= bench_vs_reference(tmp, n, rounds) >= RATIO_TARGET
        if args.only in (None, "stages"):
            where_the_time_goes(tmp, min(sizes))
        if args.only in (None, "json"):
            ok &= bench_json(tmp, int(mb * 1024 * 1024)) <= RSS_TARGET_MB
    finally:
        if args.keep:
            print(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    os.umask(0o077)
    raise SystemExit(main())
