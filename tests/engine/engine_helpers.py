"""Helpers for engine tests: chat transcripts, a tiny scratch configuration (seconds to train), events."""

from __future__ import annotations

import random

from friendsim_tui.config import TrainConfig

TINY = "scratch:tiny,n_layer=2,n_embd=64,n_head=2,vocab=512"

LINES = {
    "Alice Smith": ["lol did you see that", "omg yes", "we should get pizza tonight", "send me the link"],
    "Bob the Builder": ["can we fix it", "yes we can", "i built a shed\nwith two doors", "ok cool"],
    "Carol": ["meow", "i love cats", "who wants coffee?", "haha <|eot|> nice try"],
}


def write_chats(folder, files: int = 3, messages: int = 150, seed: int = 1):
    rng = random.Random(seed)
    folder.mkdir(parents=True, exist_ok=True)
    for f in range(files):
        with open(folder / f"chat{f}.txt", "w", encoding="utf-8") as fh:
            for _ in range(messages):
                name = rng.choice(list(LINES))
                fh.write(f"{name}: {rng.choice(LINES[name])}\n")
    return folder


def tiny_config(**kw) -> TrainConfig:
    base = dict(base=TINY, block_size=64, max_steps=6, save_steps=3, eval_steps=3, sample_steps=3,
                batch_size=4, grad_accum=2, precision="fp32", seed=7)
    base.update(kw)
    return TrainConfig(**base)


def read_events(run_dir):
    import json

    return [json.loads(line) for line in (run_dir / "events.jsonl").read_text(encoding="utf-8").splitlines()]


def schema_problems(event: dict) -> list[str]:
    """How ``event`` differs from friendsim_tui.runs' schema for its type: unknown fields, missing required ones."""
    from friendsim_tui.runs import EVENT_TYPES

    schema = EVENT_TYPES.get(event.get("type"))
    if schema is None:
        return [f"unknown type {event.get('type')!r}"]
    known = schema.__required_keys__ | schema.__optional_keys__
    return ([f"{event['type']}: unknown field {k!r}" for k in sorted(set(event) - known)]
            + [f"{event['type']}: missing {k!r}" for k in sorted(schema.__required_keys__ - set(event))])
