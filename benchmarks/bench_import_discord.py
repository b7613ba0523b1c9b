"""DiscordChatExporter import benchmarks (issue 2's speed targets).

- CSV: 1,000,000 generated messages imported end to end into a fresh workspace through
  ``services.importing.import_paths``; prints messages/s against the 200,000/s target.
- JSON: a ~1 GB generated export, stream-written, imported in a child process; prints that process's
  peak RSS plus the peak of the process it parses the file in, against the 300 MB target.

    python benchmarks/bench_import_discord.py            # full sizes
    python benchmarks/bench_import_discord.py --quick    # smoke run (small sizes)

Everything is written under a temporary directory that is removed afterwards (``--keep`` keeps it).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

CSV_TARGET = 200_000  # messages/s
RSS_TARGET_MB = 300

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


def bench_csv(tmp: Path, n: int, in_process_too: bool = True) -> float:
    from friendsim_tui import paths
    from friendsim_tui.services.importing import import_paths

    src = tmp / "Bench Guild - general [777].csv"
    t0 = time.perf_counter()
    write_csv(src, n)
    size_mb = src.stat().st_size / 1e6
    print(f"csv: generated {n:,} messages ({size_mb:.0f} MB) in {time.perf_counter() - t0:.1f}s", flush=True)
    paths.set_data_dir(tmp / "home")
    load = os.getloadavg()[0]
    t0, c0, m0 = time.perf_counter(), time.process_time(), time.thread_time()
    k0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    result = import_paths("bench-csv", [src])
    dt, cpu, main_cpu = time.perf_counter() - t0, time.process_time() - c0, time.thread_time() - m0
    k1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    child_cpu = (k1.ru_utime - k0.ru_utime) + (k1.ru_stime - k0.ru_stime)
    for thread in threading.enumerate():  # the checkpoint a large import leaves to a thread
        if thread.name == "friendsim-checkpoint":
            thread.join()
    after = time.perf_counter() - t0 - dt
    rate = result.files[0].read / dt
    print(
        f"csv: imported {result.messages_added:,} of {result.files[0].read:,} records in {dt:.2f}s: "
        f"{rate:,.0f} messages/s = {rate / CSV_TARGET:.2f}x the {CSV_TARGET:,}/s target "
        f"({'PASS' if rate >= CSV_TARGET else 'FAIL'})",
        flush=True,
    )
    # Wall time depends on what else the machine runs; CPU seconds do not.
    print(
        f"csv: {cpu + child_cpu:.2f} CPU-seconds: {child_cpu:.2f} parsing (child process), "
        f"{cpu - main_cpu:.2f} inserting (writer thread), {main_cpu:.2f} receiving batches (main thread). "
        f"{os.cpu_count()} CPUs, load average {load:.1f} before the run",
        flush=True,
    )
    print(f"csv: the background checkpoint (log copied into the database file) ended {after:.2f}s later", flush=True)
    if in_process_too:
        # For comparison: the same import with parsing in this process (what a 1-core machine does).
        os.environ["FRIENDSIM_IMPORT_IN_PROCESS"] = "1"
        try:
            t0 = time.perf_counter()
            again = import_paths("bench-csv-in-process", [src])
            one = again.files[0].read / (time.perf_counter() - t0)
        finally:
            del os.environ["FRIENDSIM_IMPORT_IN_PROCESS"]
        for thread in threading.enumerate():
            if thread.name == "friendsim-checkpoint":
                thread.join()
        print(f"csv: for comparison, parsing in the importing process: {one:,.0f} messages/s", flush=True)
    return rate


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


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="small sizes, for a smoke run")
    ap.add_argument("--csv-messages", type=int, help="default 1,000,000 (20,000 with --quick)")
    ap.add_argument("--json-mb", type=float, help="default 1024 (20 with --quick)")
    ap.add_argument("--only", choices=("csv", "json"), help="run one of the two")
    ap.add_argument("--keep", action="store_true", help="keep the generated files")
    args = ap.parse_args(argv)
    n = args.csv_messages or (20_000 if args.quick else 1_000_000)
    mb = args.json_mb or (20 if args.quick else 1024)
    tmp = Path(tempfile.mkdtemp(prefix="bench-dce-"))
    ok = True
    try:
        if args.only in (None, "csv"):
            ok &= bench_csv(tmp, n) >= CSV_TARGET
            for p in tmp.glob("*.csv"):
                p.unlink()
            shutil.rmtree(tmp / "home", ignore_errors=True)
        if args.only in (None, "json"):
            ok &= bench_json(tmp, int(mb * 1024 * 1024)) <= RSS_TARGET_MB
    finally:
        if args.keep:
            print(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    os.umask(0o077)
    raise SystemExit(main())
