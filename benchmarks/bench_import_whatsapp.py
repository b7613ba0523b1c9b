"""WhatsApp import speed against chat-miner's WhatsAppParser, side by side in one process.

    pip install -e '.[bench]'        # chat-miner: a benchmark-only dependency
    python benchmarks/bench_import_whatsapp.py [--messages 200000] [--repeat 3]

Generates a realistic Android export (day-first dates, multi-line messages, media, deleted and system
lines, several speakers), then times ``friendsim_tui.importers.whatsapp.parse`` and chat-miner's
``WhatsAppParser.parse_file`` on the same file: best of ``--repeat`` runs each, interleaved. chat-miner's
per-message INFO logging and its tqdm bar are switched off so it is timed parsing, not writing to the
terminal. Exits 1 when chat-miner is missing, 2 when we miss the 5x target.
"""

from __future__ import annotations

import argparse
import logging
import os
import random
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from friendsim_tui.importers import whatsapp  # noqa: E402
from friendsim_tui.importers.base import ImportReport  # noqa: E402

TARGET = 5.0
SPEAKERS = ["Alice", "Bob Smith", "Chidi", "Dana", "Eli", "\u202a+49 151 2345678\u202c", "Farah", "Gus"]
WORDS = (
    "ok yes no maybe tonight tomorrow lol haha see you at the station bring snacks did you watch the game "
    "running late sorry where are we meeting I'm on the bus coffee? sounds good what time the new album is "
    "great send me the link happy birthday 🎉 😂 👍 can't wait wow nice one ugh Monday again"
).split()
SYSTEM = [
    "Alice added Dana",
    "Bob Smith changed the subject from \"weekend\" to \"trip\"",
    "Chidi left",
    "Eli changed this group's icon",
]


def generate(path: Path, n: int, seed: int = 7) -> None:
    rng = random.Random(seed)
    t = datetime(2021, 3, 1, 8, 0)
    lines = [
        t.strftime("%d/%m/%y, %H:%M") + " - Messages and calls are end-to-end encrypted. No one outside of this "
        "chat, not even WhatsApp, can read or listen to them. Tap to learn more."
    ]
    for _ in range(n - 1):
        t += timedelta(seconds=rng.choice((5, 20, 45, 90, 300, 1800, 7200, 43200)))
        head = t.strftime("%d/%m/%y, %H:%M") + " - "
        r = rng.random()
        if r < 0.01:
            lines.append(head + rng.choice(SYSTEM))
            continue
        who = rng.choice(SPEAKERS)
        if r < 0.04:
            body = "<Media omitted>"
        elif r < 0.045:
            body = "This message was deleted"
        elif r < 0.055:
            body = f"IMG-{t:%Y%m%d}-WA{rng.randrange(10000):04d}.jpg (file attached)"
        else:
            body = " ".join(rng.choices(WORDS, k=rng.randint(1, 14)))
            if r < 0.11:  # multi-line
                body += "\n" + "\n".join(" ".join(rng.choices(WORDS, k=rng.randint(1, 8))) for _ in range(rng.randint(1, 3)))
            elif r < 0.12:
                body += " <This message was edited>"
        lines.append(f"{head}{who}: {body}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def run_ours(path: Path) -> tuple[float, int]:
    t0 = time.perf_counter()
    report = ImportReport(str(path))
    n = sum(1 for _ in whatsapp.parse(path, report))
    dt = time.perf_counter() - t0
    assert n == report.kept
    return dt, report.read


def run_chatminer(parser_cls, path: Path) -> tuple[float, int]:
    t0 = time.perf_counter()
    parser = parser_cls(str(path))
    parser.parse_file()
    dt = time.perf_counter() - t0
    return dt, len(parser._raw_messages)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--messages", type=int, default=200_000)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args(argv)

    os.environ.setdefault("TQDM_DISABLE", "1")
    try:
        from chatminer.chatparsers import WhatsAppParser
    except ImportError as exc:
        print(
            f"chat-miner is not installed ({exc}); install the benchmark extra: pip install -e '.[bench]'",
            file=sys.stderr,
        )
        return 1
    logging.getLogger("chatminer.chatparsers").setLevel(logging.WARNING)
    logging.disable(logging.INFO)

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "WhatsApp Chat with Friends.txt"
        generate(path, args.messages)
        size = path.stat().st_size
        print(f"export: {args.messages:,} messages, {size / 1e6:.1f} MB ({path.name})")
        ours, theirs = [], []
        for _ in range(args.repeat):
            dt, read = run_ours(path)
            ours.append(dt)
            dt, raw = run_chatminer(WhatsAppParser, path)
            theirs.append(dt)
        assert read == args.messages, f"friendsim read {read} of {args.messages} messages"
        assert raw == args.messages, f"chat-miner read {raw} of {args.messages} messages"
    best_ours, best_theirs = min(ours), min(theirs)
    rate_ours = args.messages / best_ours
    rate_theirs = args.messages / best_theirs
    ratio = best_theirs / best_ours
    print(f"friendsim-tui whatsapp : {best_ours:7.3f} s  {rate_ours:12,.0f} messages/s  (best of {args.repeat})")
    print(f"chat-miner WhatsAppParser: {best_theirs:5.3f} s  {rate_theirs:12,.0f} messages/s  (best of {args.repeat})")
    verdict = "PASS" if ratio >= TARGET else "FAIL"
    print(f"ratio: {ratio:.1f}x faster (target {TARGET:.0f}x) {verdict}")
    return 0 if ratio >= TARGET else 2


if __name__ == "__main__":
    sys.exit(main())
