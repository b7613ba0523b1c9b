"""How fast redaction runs over a workspace's messages (it runs over every one of them at train time).

    python benchmarks/bench_redaction.py            # the bundled sample and 100,000 synthetic messages
    python benchmarks/bench_redaction.py --quick    # 10,000 synthetic messages

Prints messages per second with the default kinds (emails, phones, secrets), after readable Discord
markup, as training does: for the bundled sample (weekend-crew.json) and for synthetic chat in which
5% of the messages hold a phone number, a card, an email, a password or a list of scores and 2% a
random 7-12 digit number (far more numbers than real chats hold, so the phone checks show).
"""

from __future__ import annotations

import json
import random
import sys
import time
from pathlib import Path

from friendsim_tui.config import DatasetConfig
from friendsim_tui.dataset import clean_text

SAMPLE = Path(__file__).parent.parent / "friendsim_tui" / "data" / "sample" / "weekend-crew.json"
WORDS = ("lol ok yeah see you at 7:30 tomorrow the game was 3-1 room 101 in 2024 it cost $12.99 v1.2.3 meet "
         "12/05 haha sure why not").split()
EXTRAS = ["call me at +1 (212) 555-0147", "my number is 07700 900461", "card 4111 1111 1111 1111",
          "bob@example.com", "order 123456789 arrived", "https://example.com/a/b?c=1", "pw: hunter2",
          "scores 21-19 21-17 21-15", "10:30-11:45 ok"]


def synthetic(n: int, seed: int = 0) -> list[str]:
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        m = " ".join(rng.choice(WORDS) for _ in range(rng.randint(2, 14)))
        if rng.random() < 0.05:
            m += " " + rng.choice(EXTRAS)
        if rng.random() < 0.02:
            m += " " + str(rng.randint(10**6, 10**12))
        out.append(m)
    return out


def rate(label: str, texts: list[str]) -> None:
    cfg = DatasetConfig()
    start = time.perf_counter()
    changed = sum(clean_text(t, cfg) != t for t in texts)
    took = time.perf_counter() - start
    print(f"{label}: {len(texts):,} messages in {took:.2f} s = {len(texts) / took:,.0f} messages/s "
          f"({changed:,} changed)")


def main(argv: list[str]) -> int:
    clean_text("warm up: +1 (212) 555-0147 DE89 3704 0044 0532 0130 00", DatasetConfig())  # lazy imports
    if "--quick" not in argv:
        rate("sample weekend-crew.json", [m["content"] for m in json.loads(SAMPLE.read_text())["messages"]])
    rate("synthetic", synthetic(10_000 if "--quick" in argv else 100_000))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
