"""Generate the bundled sample chat: ``python tests/sample_chat/make_sample.py``.

The output, ``friendsim_tui/data/sample/weekend-crew.json`` (shipped with the package; this generator is
not), is a DiscordChatExporter JSON export of a fictional group DM
("weekend crew") among four friends over 2024. It is assembled from the hand-written repertoire in
``sample_lines.py`` beside this file by a seeded random generator, so the same code always writes the
same bytes (a test checks this). Scenes follow how friends really talk: someone proposes a plan, the
others answer in their own voices, a time gets settled, and days later someone reports back.

The file also holds what real exports hold besides conversation, for the importer to skip: system
records (a recipient added, pinned messages, calls), messages from a user-installed bot app, and
attachment-only photos.

Options: ``--out PATH`` writes elsewhere; ``--check`` exits 1 if the committed file is out of date.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import re
import sys
from collections import Counter
from datetime import datetime, timedelta, timezone
from pathlib import Path

from sample_lines import FALLBACK, LINES, SLOTS

SEED = 20240302
OUT = Path(__file__).resolve().parents[2] / "friendsim_tui" / "data" / "sample" / "weekend-crew.json"

M, J, D, P = "Maya", "Jonas", "pixel_dan", "Priya"
PEOPLE = (M, J, D, P)
CALLED = {M: "Maya", J: "Jonas", D: "Dan", P: "Priya"}  # how the others address each one

START = datetime(2024, 1, 6, tzinfo=timezone.utc)
END = datetime(2024, 12, 20, tzinfo=timezone.utc)
EXPORTED_AT = "2024-12-28T21:04:17.5531234+01:00"
DISCORD_EPOCH_MS = 1420070400000
TARGET_MESSAGES = 3300  # records in all, roughly; the conversation is a little less
GAP_MIN_S = 3.5 * 3600  # silence between sessions is always longer than this
TWEMOJI = "https://cdn.jsdelivr.net/gh/twitter/twemoji@latest/assets/svg/{}.svg"

BIRTHDAYS = {M: (4, 14), D: (6, 21), J: (9, 3), P: (11, 9)}


def snowflake(ms: int, inc: int, worker: int = 1) -> str:
    return str(((ms - DISCORD_EPOCH_MS) << 22) | (worker << 17) | (inc & 0xFFF))


def _last_sunday(year: int, month: int) -> datetime:
    d = datetime(year, month + 1, 1, 1, tzinfo=timezone.utc) - timedelta(days=1)
    return d - timedelta(days=(d.weekday() + 1) % 7)


def utc_offset_hours(t: datetime) -> int:
    """Central European time: the exporter's clock, +01:00 in winter and +02:00 in summer."""
    return 2 if _last_sunday(t.year, 3) <= t < _last_sunday(t.year, 10) else 1


def iso(ts_ms: int) -> str:
    """A timestamp as DCE writes it: local time with offset, milliseconds with trailing zeros dropped."""
    t = datetime.fromtimestamp(ts_ms / 1000, timezone.utc)
    off = utc_offset_hours(t)
    local = t + timedelta(hours=off)
    frac = f"{ts_ms % 1000:03d}".rstrip("0")
    return local.strftime("%Y-%m-%dT%H:%M:%S") + (f".{frac}" if frac else "") + f"+{off:02d}:00"


def _hex(rng: random.Random, n: int) -> str:
    return "".join(rng.choice("0123456789abcdef") for _ in range(n))


def _alnum(rng: random.Random, n: int) -> str:
    return "".join(rng.choice("ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789") for _ in range(n))


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


# --------------------------------------------------------------------------------------------------
# People


def _users(rng: random.Random) -> dict[str, dict]:
    spec = [
        # display name, username, discriminator, account created (ms)
        (M, "Maya", "4821", 1496275200000),  # an old-style account that still has its #tag
        (J, "jonas.k", "0000", 1551398400000),
        (D, "pixel_dan", "0000", 1533081600000),
        (P, "priya.walks", "0000", 1585699200000),
    ]
    users = {}
    for i, (display, name, disc, created) in enumerate(spec):
        uid = snowflake(created + i * 7919, i)
        avatar = f"https://cdn.discordapp.com/avatars/{uid}/{_hex(rng, 32)}.png?size=512"
        if display in (J, D):  # no custom avatar: Discord's default one
            avatar = f"https://cdn.discordapp.com/embed/avatars/{(int(uid) >> 22) % 6}.png"
        users[display] = {
            "id": uid,
            "name": name,
            "discriminator": disc,
            "nickname": display,
            "color": None,
            "isBot": False,
            "roles": [],
            "avatarUrl": avatar,
        }
    bot_id = snowflake(1672531200000 + 4242, 9)
    users["DiceGoblin"] = {
        "id": bot_id,
        "name": "DiceGoblin",
        "discriminator": "0000",
        "nickname": "DiceGoblin",
        "color": None,
        "isBot": True,
        "roles": [],
        "avatarUrl": f"https://cdn.discordapp.com/avatars/{bot_id}/{_hex(rng, 32)}.png?size=512",
    }
    return users


_NO_TAIL = {"night", "greet", "ack", "thanks", "confirm", "morning", "anyway", "bday.wish", "bday.thanks"}
_SENTENCE = re.compile(r"([.!?] )([a-z])")
_DAYS = re.compile(r"\b(monday|tuesday|wednesday|thursday|friday|saturday|sunday)s?\b")


def _voice(speaker: str, text: str, rng: random.Random, move: str) -> str:
    """Keep each friend's tics consistent, whatever the template."""
    if speaker == M:
        text = text.lower()
        if text.endswith(".") and not text.endswith("..."):
            text = text[:-1] + rng.choice(["", "!!", " lol"])
        if rng.random() < 0.22 and not re.search(r"(lol|!!|[\U0001F300-\U0001FAFF✨☀️])\s*$", text):
            tails = [t for t in (" lol", "!!", " 😭", " ✨", " omg") if t.strip() not in text]
            if move.startswith(("food", "gerald")):
                tails += [" 🍜", " 🍞"]
            if move.startswith(("music", "gig")):
                tails += [" 🎶"]
            text += rng.choice(tails or ["!!"])
    elif speaker == D:
        text = text.lower()
        text = re.sub(r"(?<!\.)\.(?=\s|$)", "", text)
        if rng.random() < 0.2 and not re.search(r"(ngl|fr|bro|💀|lmao\w*)\s*$", text) and "\n" not in text:
            text += rng.choice([" ngl", " fr", " 💀", " bro", " lmao"])
    elif speaker == J:
        text = _DAYS.sub(lambda m: m.group(0).capitalize(), text)
        text = _SENTENCE.sub(lambda m: m.group(1) + m.group(2).upper(), text)
        if text and text[0].islower():
            text = text[0].upper() + text[1:]
        if not re.search(r"[.?!):]$", text) and not text.endswith(tuple("0123456789")):
            text += "."
        first = text.split(" ", 1)[0].rstrip(",.").lower()
        if (
            rng.random() < 0.1
            and first in {"that", "it", "this", "there", "we", "i", "i'm", "i'd", "i", "the", "you", "not"}
            and "\n" not in text
        ):
            rest = text if first.startswith("i") and first in {"i", "i'm", "i'd"} else text[0].lower() + text[1:]
            text = rng.choice(["Well, ", "To be fair, ", "Hmm. "]) + rest
    elif speaker == P:
        text = _DAYS.sub(lambda m: m.group(0).capitalize(), text)
        text = _SENTENCE.sub(lambda m: m.group(1) + m.group(2).upper(), text)
        if text and text[0].islower() and not text.startswith("http"):
            text = text[0].upper() + text[1:]
        if text.endswith(".") and not text.endswith(".."):
            text = text[:-1]
        r = rng.random() if len(text) > 24 and move not in _NO_TAIL else 1.0
        if r < 0.06 and "haha" not in text.lower() and "\n" not in text:
            text += " haha"
        elif r < 0.1 and "tbh" not in text and "\n" not in text and not text.endswith(("?", "haha", "!")):
            text += " tbh"
    return text


class Ctx(dict):
    """Slot values for one scene: each slot is drawn once and then stays the same."""

    def __init__(self, rng: random.Random, **fixed):
        super().__init__(**fixed)
        self.rng = rng

    def __missing__(self, key: str) -> str:
        rng = self.rng
        if key in SLOTS:
            value = rng.choice(SLOTS[key])
        elif key == "playlist_link":
            value = f"https://music.example.com/playlist/{_alnum(rng, 22)}"
        elif key == "trail_link":
            value = f"https://trails.example.org/route/{_slug(self['trail'])}-{rng.randint(1000, 99999)}"
        elif key == "chess_link":
            value = f"https://chess.example.org/puzzle/{_alnum(rng, 5)}"
        elif key == "patch_link":
            value = f"https://{_slug(self['game'])}.example.com/news/patch-{self['patch'].replace('.', '-')}"
        elif key == "recipe_link":
            value = f"https://recipes.example.com/{_slug(self['dish'])}-{rng.randint(100, 9999)}"
        elif key == "book_link":
            value = f"https://books.example.org/title/{_slug(self['book'])}"
        elif key == "trip_link":
            value = f"https://sheets.example.com/d/{_alnum(rng, 28)}/edit"
        elif key in ("to", "lead"):
            value = "you"
        else:
            raise KeyError(key)
        self[key] = value
        return value


# --------------------------------------------------------------------------------------------------
# The chat being written


class Chat:
    def __init__(self, seed: int = SEED):
        self.rng = random.Random(seed)
        self.users = _users(self.rng)
        self.channel_id = snowflake(int(START.timestamp() * 1000) - 86_400_000 * 3, 0)
        self.records: list[dict] = []
        self.t_ms = 0
        self.inc = 0
        self.decks: dict[tuple[str, str], list[str]] = {}
        self.spoken: Counter = Counter()
        self.followups: list[tuple[int, object, str, Ctx]] = []
        self.session_last: dict | None = None
        self.pinned_done: set[str] = set()
        self.bot_uses = 0
        self.attachment_only = 0

    # --- time -------------------------------------------------------------------------------------
    def wait(self, seconds: float) -> None:
        self.t_ms += max(1000, int(seconds * 1000) + self.rng.randint(0, 999))

    def pause(self, text: str = "") -> None:
        """Time between two messages in one conversation: reading, thinking, typing."""
        r = self.rng.random()
        if r < 0.62:
            s = self.rng.uniform(4, 55)
        elif r < 0.88:
            s = self.rng.uniform(55, 300)
        elif r < 0.98:
            s = self.rng.uniform(300, 1500)
        else:
            s = self.rng.uniform(1500, 4500)
        self.wait(s + len(text) * 0.12)

    # --- records ----------------------------------------------------------------------------------
    def _record(self, kind: str, author: str, content: str, **extra) -> dict:
        self.inc += 1
        rec = {
            "id": snowflake(self.t_ms, self.inc),
            "type": kind,
            "timestamp": iso(self.t_ms),
            "timestampEdited": None,
            "callEndedTimestamp": None,
            "isPinned": False,
            "content": content,
            "author": self.users[author],
            "attachments": [],
            "embeds": [],
            "stickers": [],
            "reactions": [],
            "mentions": [],
            "_t": self.t_ms,
            "_speaker": author,
        }
        rec.update(extra)
        rec["inlineEmojis"] = []
        self.records.append(rec)
        return rec

    def template(self, speaker: str, move: str) -> tuple[str, str]:
        """The next template for ``speaker`` doing ``move`` (a shuffled deck, so lines rotate)."""
        lines = LINES[speaker]
        key = move
        seen = set()
        while key not in lines:
            seen.add(key)
            if "." in key:
                key = key.split(".", 1)[1]
            elif key in FALLBACK and FALLBACK[key] not in seen:
                key = FALLBACK[key]
            else:
                key = "ack"
        deck = self.decks.get((speaker, key))
        if not deck:
            deck = [s.strip() for s in lines[key].strip().splitlines() if s.strip()]
            self.rng.shuffle(deck)
            self.decks[(speaker, key)] = deck
        return deck.pop(), key

    def say(self, speaker: str, move: str, ctx: Ctx, to: str | None = None, reply: dict | None = None,
            reply_p: float = 0.0, attach: str | None = None, quick: bool = False) -> dict:
        tpl, key = self.template(speaker, move)
        if to:
            ctx["to"] = CALLED[to]
        text = tpl.replace("\\n", "\n").format_map(ctx)
        text = _voice(speaker, text, self.rng, key if "." in key else move)
        for p in PEOPLE:  # a mention is rendered from the user, whoever typed it
            text = text.replace(f"@{p.lower()}", f"@{p}")
        if quick:
            self.wait(self.rng.uniform(2, 15) + len(text) * 0.08)
        else:
            self.pause(text)
        extra: dict = {}
        kind = "Default"
        if reply is not None and self.rng.random() < reply_p:
            kind = "Reply"
            extra["reference"] = {"type": "Default", "messageId": reply["id"], "channelId": self.channel_id,
                                  "guildId": None}
        rec = self._record(kind, speaker, text, **extra)
        mentioned = [p for p in PEOPLE if f"@{p}" in text]
        rec["mentions"] = [self.users[p] for p in mentioned]
        if attach:
            self._attach(rec, attach)
        for url in re.findall(r"https://\S+", text):
            if self.rng.random() < 0.55:
                rec["embeds"].append(self._embed(url, ctx))
        if self.rng.random() < 0.025:
            edited = self.t_ms + self.rng.randint(8_000, 240_000)
            rec["timestampEdited"] = iso(edited)
        self._maybe_react(rec, speaker, text)
        self.spoken[speaker] += 1
        self.session_last = rec
        return rec

    def _attach(self, rec: dict, what: str) -> None:
        t = datetime.fromtimestamp(rec["_t"] / 1000, timezone.utc)
        n = 1 if what != "photos" else self.rng.choice([1, 2, 3])
        for i in range(n):
            self.inc += 1
            aid = snowflake(rec["_t"] + i, self.inc, 2)
            if what == "screenshot":
                name = f"Screenshot_{t:%Y%m%d_%H%M%S}.png"
                size = self.rng.randint(300_000, 2_400_000)
            else:
                name = f"IMG_{t:%Y%m%d}_{self.rng.randint(100000, 235959)}.jpg"
                size = self.rng.randint(900_000, 4_800_000)
            rec["attachments"].append({
                "id": aid,
                "url": f"https://cdn.discordapp.com/attachments/{self.channel_id}/{aid}/{name}",
                "fileName": name,
                "fileSizeBytes": size,
            })

    def _embed(self, url: str, ctx: Ctx) -> dict:
        host = url.split("/")[2]
        if "music" in host:
            title, desc = f"{ctx['song']} · {ctx['artist']}", "Playlist · 24 songs"
        elif "trails" in host:
            title, desc = f"{ctx['trail']} | Trails", f"Loop · {ctx['km']} km · moderate"
        elif "chess" in host:
            title, desc = "Daily puzzle", "White to move. Find the winning line."
        elif "recipes" in host:
            title, desc = f"Easy {ctx['dish']}", "Ready in 45 minutes. Serves 4."
        elif "books" in host:
            title, desc = f"{ctx['book']} by {ctx['writer']}", "Paperback · 352 pages"
        elif "sheets" in host:
            title, desc = "Summer trip 2024", "Spreadsheet"
        else:
            title, desc = f"{ctx['game']} patch {ctx['patch']} notes", "Balance changes, new map, bug fixes."
        return {
            "title": title,
            "url": url,
            "timestamp": None,
            "description": desc,
            "thumbnail": {
                "url": f"https://images-ext-1.discordapp.net/external/{_alnum(self.rng, 43)}/{url.split('://')[1]}",
                "canonicalUrl": url,
                "width": 400,
                "height": 400,
            },
            "images": [],
            "fields": [],
            "inlineEmojis": [],
        }

    def _maybe_react(self, rec: dict, speaker: str, text: str) -> None:
        if self.rng.random() > 0.035:
            return
        choices = [("😂", "joy", "1f602"), ("❤️", "heart", "2764"), ("👍", "thumbsup", "1f44d"),
                   ("🔥", "fire", "1f525"), ("💀", "skull", "1f480"), ("😭", "sob", "1f62d")]
        emoji, code, cp = self.rng.choice(choices)
        others = [p for p in PEOPLE if p != speaker]
        who = self.rng.sample(others, self.rng.choice([1, 1, 2, 3]))
        who.sort(key=PEOPLE.index)
        rec["reactions"].append({
            "emoji": {"id": "", "name": emoji, "code": code, "isAnimated": False, "imageUrl": TWEMOJI.format(cp)},
            "count": len(who),
            "users": [{k: v for k, v in self.users[p].items() if k != "roles"} for p in who],
        })

    # --- records that are not conversation ---------------------------------------------------------
    def system(self, kind: str, author: str, content: str, **extra) -> dict:
        self.wait(self.rng.uniform(3, 40))
        return self._record(kind, author, content, **extra)

    def photo_only(self, author: str, what: str = "photos") -> dict:
        self.wait(self.rng.uniform(5, 90))
        rec = self._record("Default", author, "")
        self._attach(rec, what)
        self.attachment_only += 1
        return rec

    def pin(self, who: str, rec: dict) -> None:
        rec["isPinned"] = True
        self.system("ChannelPinnedMessage", who, "Pinned a message.",
                    reference={"type": "Default", "messageId": rec["id"], "channelId": self.channel_id,
                               "guildId": None})

    def roll(self, who: str, options: list[str]) -> str:
        """A user-installed bot app answering a /roll command: a bot message, not conversation."""
        pick = self.rng.randrange(len(options))
        self.wait(self.rng.uniform(2, 6))
        self.inc += 1
        self._record(
            "Default", "DiceGoblin",
            f"🎲 **{who}** rolled a d{len(options)}: **{pick + 1}** → {options[pick]}",
            interaction={"id": snowflake(self.t_ms - 900, self.inc, 3), "name": "roll",
                         "user": self.users[who]},
        )
        self.bot_uses += 1
        return options[pick]

    def call(self, who: str, minutes: int) -> None:
        self.wait(self.rng.uniform(10, 120))
        ended = self.t_ms + minutes * 60_000 + self.rng.randint(0, 59_000)
        self._record("Call", who, f"Started a call that lasted {minutes} minutes.",
                     callEndedTimestamp=iso(ended))
        self.t_ms = ended

    def local_hour(self) -> int:
        t = datetime.fromtimestamp(self.t_ms / 1000, timezone.utc)
        return (t.hour + utc_offset_hours(t)) % 24

    # --- helpers for scenes -----------------------------------------------------------------------
    def others(self, *exclude: str) -> list[str]:
        out = [p for p in PEOPLE if p not in exclude]
        self.rng.shuffle(out)
        return out

    def later(self, days_min: float, days_max: float, scene, lead: str, ctx: Ctx) -> None:
        due = self.t_ms + int(self.rng.uniform(days_min, days_max) * 86_400_000)
        self.followups.append((due, scene, lead, ctx))

    def chance(self, p: float) -> bool:
        return self.rng.random() < p


# --------------------------------------------------------------------------------------------------
# Scenes. Each takes the chat, the friend who starts it and a context of slot values.


def s_food_plan(c: Chat, lead: str, ctx: Ctx) -> None:
    first = c.say(lead, "food.propose", ctx)
    rest = c.others(lead)
    going = [lead]
    for o in rest[: c.rng.choice([2, 3, 3])]:
        move = c.rng.choice(["yes", "yes", "yes", "maybe", "no"])
        c.say(o, move, ctx, reply=first, reply_p=0.15)
        if move != "no":
            going.append(o)
        if move == "no" and c.chance(0.5):
            c.say(lead, "decline_reply", ctx, to=o, quick=True)
    if c.chance(0.75):
        asker = c.rng.choice([p for p in going if p != lead] or rest)
        c.say(asker, "ask_time", ctx)
        c.say(lead, "give_time", ctx)
        if c.chance(0.3):
            c.say(c.rng.choice(rest), "give_time", ctx)
        c.say(lead, "confirm", ctx)
    if c.chance(0.45):
        c.say(c.rng.choice(going), "food.order", ctx)
        if c.chance(0.5):
            c.say(c.rng.choice(c.others()), "laugh", ctx, quick=True)
    if J in going and c.chance(0.3):
        c.later(1, 5, s_early, J, ctx)
    elif len(going) >= 2:
        c.later(1, 6, s_food_after, c.rng.choice(going), ctx)


def s_food_after(c: Chat, lead: str, ctx: Ctx) -> None:
    if lead == M and c.chance(0.3):
        c.photo_only(M)
    c.say(lead, "food.report", ctx)
    for o in c.others(lead)[: c.rng.randint(1, 3)]:
        c.say(o, c.rng.choice(["food.report", "food.report", "food.report", "laugh"]), ctx)
    if c.chance(0.4):
        again = c.rng.choice(c.others())
        c.say(again, "food.propose", Ctx(c.rng))
        c.say(c.rng.choice(c.others(again)), c.rng.choice(["laugh", "yes"]), ctx)


def s_cooking(c: Chat, lead: str, ctx: Ctx) -> None:
    first = c.say(M, "food.brag", ctx, attach="photos" if c.chance(0.5) else None)
    asked = False
    for o in c.others(M)[: c.rng.randint(1, 3)]:
        c.say(o, "food.react", ctx, reply=first, reply_p=0.2)
    if c.chance(0.6):
        c.say(M, "food.recipe", ctx)
        asked = True
    if asked and c.chance(0.5):
        c.say(c.rng.choice(c.others(M)), "thanks", ctx)
    elif c.chance(0.3):
        c.say(M, "laugh", ctx)


def s_gerald(c: Chat, lead: str, ctx: Ctx) -> None:
    if c.chance(0.2):
        c.photo_only(M)
    first = c.say(M, "gerald.update", ctx, attach="photos" if c.chance(0.25) else None)
    for o in c.others(M)[: c.rng.randint(1, 3)]:
        c.say(o, c.rng.choice(["gerald.react", "gerald.react", "laugh"]), ctx, reply=first, reply_p=0.15)
    if c.chance(0.5):
        c.say(M, c.rng.choice(["laugh", "gerald.update"]), ctx)


def s_music(c: Chat, lead: str, ctx: Ctx) -> None:
    c.say(M, "music.share", ctx)
    for o in c.others(M)[: c.rng.randint(1, 3)]:
        c.say(o, "music.react", ctx)
    if c.chance(0.6):
        c.say(M, "music.talk", ctx)
        if c.chance(0.5):
            c.say(c.rng.choice(c.others(M)), c.rng.choice(["agree", "laugh", "ack"]), ctx)


def s_gig(c: Chat, lead: str, ctx: Ctx) -> None:
    first = c.say(M, "gig.propose", ctx)
    going = [M]
    for o in c.others(M):
        move = c.rng.choice(["gig.react", "yes", "yes", "maybe", "no"])
        c.say(o, move, ctx, reply=first, reply_p=0.1)
        if move != "no":
            going.append(o)
    if c.chance(0.6):
        c.say(M, "gig.details", ctx)
    if c.chance(0.5):
        c.say(c.rng.choice(going[1:] or [P]), "ask_time", ctx)
        c.say(M, "give_time", ctx)
    c.say(M, "confirm", ctx)
    if J in going and c.chance(0.3):
        c.later(2, 10, s_early, J, ctx)
    elif c.chance(0.7):
        c.later(3, 15, s_gig_after, M, ctx)


def s_gig_after(c: Chat, lead: str, ctx: Ctx) -> None:
    if c.chance(0.5):
        c.photo_only(M)
    c.say(M, "gig.after", ctx)
    for o in c.others(M)[: c.rng.randint(1, 3)]:
        c.say(o, c.rng.choice(["hype", "agree", "laugh", "music.react"]), ctx)
    if c.chance(0.5):
        c.say(M, "music.talk", ctx)


def s_chess(c: Chat, lead: str, ctx: Ctx) -> None:
    first = c.say(J, "chess.report", ctx)
    maya_said = False
    for o in c.others(J)[: c.rng.randint(1, 3)]:
        c.say(o, "chess.react", ctx, reply=first, reply_p=0.15)
        maya_said = maya_said or o == M
    if maya_said and c.chance(0.45):
        c.say(J, "chess.explain", ctx)
        c.say(M, "laugh", ctx, quick=True)
    elif c.chance(0.4):
        c.say(J, "thanks", ctx)


def s_chess_puzzle(c: Chat, lead: str, ctx: Ctx) -> None:
    c.say(J, "chess.puzzle", ctx)
    for o in c.others(J)[: c.rng.randint(1, 2)]:
        c.say(o, c.rng.choice(["chess.react", "laugh", "wow"]), ctx)
    if c.chance(0.4):
        c.say(J, "laugh", ctx)


def s_rematch(c: Chat, lead: str, ctx: Ctx) -> None:
    first = c.say(D, "chess.rematch", ctx)
    c.say(J, "chess.accept", ctx, reply=first, reply_p=0.3)
    c.say(D, c.rng.choice(["confirm", "hype", "ack"]), ctx)
    if c.chance(0.5):
        c.say(c.rng.choice([M, P]), c.rng.choice(["laugh", "hype", "tease"]), ctx, to=D)
    c.wait(c.rng.uniform(1800, 5400))
    if c.chance(0.7):
        c.say(J, "chess.win", ctx)
        c.say(D, "chess.cope", ctx)
        if c.chance(0.6):
            c.say(c.rng.choice([M, P]), c.rng.choice(["laugh", "tease", "chess.react"]), ctx, to=D)
    else:
        c.say(D, "chess.gloat", ctx)
        c.say(J, "chess.lose", ctx)
        if c.chance(0.6):
            c.say(c.rng.choice([M, P]), c.rng.choice(["hype", "wow", "laugh"]), ctx, to=D)


def s_train_late(c: Chat, lead: str, ctx: Ctx) -> None:
    first = c.say(J, "train.late", ctx)
    for o in c.others(J)[: c.rng.randint(1, 3)]:
        c.say(o, "train.react", ctx, reply=first, reply_p=0.15)
    if c.chance(0.45):
        c.say(J, "train.fact", ctx)
        if c.chance(0.5):
            c.say(c.rng.choice(c.others(J)), c.rng.choice(["laugh", "tease"]), ctx, to=J)


def s_train_trip(c: Chat, lead: str, ctx: Ctx) -> None:
    c.say(J, "train.trip", ctx)
    for o in c.others(J)[: c.rng.randint(1, 3)]:
        c.say(o, "train.trip_react", ctx)
    if c.chance(0.6):
        c.say(J, "train.route", ctx)
        c.say(c.rng.choice(c.others(J)), c.rng.choice(["laugh", "wow", "tease"]), ctx, to=J)
    c.later(2, 7, s_train_photo, J, ctx)


def s_train_photo(c: Chat, lead: str, ctx: Ctx) -> None:
    if c.chance(0.5):
        c.photo_only(J)
        c.say(J, "train.photo", ctx)
    else:
        c.say(J, "train.photo", ctx, attach="photos")
    for o in c.others(J)[: c.rng.randint(1, 3)]:
        c.say(o, c.rng.choice(["wow", "hype", "train.trip_react"]), ctx)


def s_patch(c: Chat, lead: str, ctx: Ctx) -> None:
    first = c.say(D, "game.patch", ctx)
    for o in c.others(D)[: c.rng.randint(1, 2)]:
        c.say(o, "game.patch_react", ctx, reply=first, reply_p=0.2)
    if c.chance(0.7):
        c.say(D, "game.patch_explain", ctx)
        c.say(c.rng.choice(c.others(D)), c.rng.choice(["laugh", "ack", "sympathy"]), ctx, to=D)


def s_ranked(c: Chat, lead: str, ctx: Ctx) -> None:
    shot = c.chance(0.25)
    if shot:
        c.photo_only(D, "screenshot")
    c.say(D, "game.ranked", ctx)
    for o in c.others(D)[: c.rng.randint(1, 3)]:
        c.say(o, "game.ranked_react", ctx)
    if c.chance(0.4):
        c.say(D, "game.onemore", ctx)
        c.say(c.rng.choice(c.others(D)), c.rng.choice(["laugh", "tease", "night"]), ctx, to=D)


def s_release(c: Chat, lead: str, ctx: Ctx) -> None:
    c.say(D, "game.release", ctx)
    for o in c.others(D)[: c.rng.randint(1, 2)]:
        c.say(o, c.rng.choice(["wow", "laugh", "tease", "game.patch_react"]), ctx, to=D)


def s_game_night(c: Chat, lead: str, ctx: Ctx) -> None:
    first = c.say(lead, "game.night_propose", ctx)
    for o in c.others(lead)[: c.rng.randint(2, 3)]:
        c.say(o, c.rng.choice(["game.night_react", "game.night_react", "yes", "maybe"]), ctx,
              reply=first, reply_p=0.1)
    if c.chance(0.6):
        c.say(c.rng.choice(c.others(lead)), "ask_time", ctx)
        c.say(lead, "give_time", ctx)
    c.say(lead, "confirm", ctx)
    if c.local_hour() >= 17 and c.chance(0.7 if lead == D else 0.3):
        c.wait(c.rng.uniform(600, 2400))
        c.call(lead, c.rng.randint(40, 100))
        s_game_after(c, lead, ctx)
    else:
        c.later(1, 5, s_game_after, lead, ctx)


def s_game_after(c: Chat, lead: str, ctx: Ctx) -> None:
    people = c.others()[: c.rng.randint(2, 4)]
    for i, o in enumerate(people):
        c.say(o, "game.after" if i == 0 else c.rng.choice(["game.after", "game.after", "laugh"]), ctx)
    if c.chance(0.4):
        c.say(c.rng.choice(c.others()), "night", ctx)


def s_hike_plan(c: Chat, lead: str, ctx: Ctx) -> None:
    first = c.say(P, "hike.propose", ctx)
    for o in c.others(P)[: c.rng.randint(2, 3)]:
        c.say(o, c.rng.choice(["hike.react", "hike.react", "yes", "no", "maybe"]), ctx,
              reply=first, reply_p=0.12)
    if c.chance(0.6):
        c.say(D, "hike.early_complaint", ctx)
        c.say(P, "hike.reassure", ctx, to=D)
        if c.chance(0.4):
            c.say(M, c.rng.choice(["hike.early_react", "laugh"]), ctx, to=D)
    if c.chance(0.5):
        c.say(P, "hike.ask_time", ctx)
        for o in c.others(P)[: c.rng.randint(1, 2)]:
            c.say(o, "give_time", ctx)
    else:
        q = c.say(P, "hike.ask", ctx)
        for o in c.others(P)[: c.rng.randint(1, 2)]:
            c.say(o, c.rng.choice(["hike.answer", "hike.answer", "ack"]), ctx, reply=q, reply_p=0.2)
    if c.chance(0.7):
        plan = c.say(P, "hike.plan", ctx)
        if "hike" not in c.pinned_done and c.rng.random() < 0.5:
            c.pinned_done.add("hike")
            c.pin(J, plan)
        c.say(c.rng.choice(c.others(P)), c.rng.choice(["ack", "confirm", "laugh"]), ctx)
    c.say(P, "confirm", ctx)
    c.later(1, 6, s_hike_after, P, ctx)


def s_hike_after(c: Chat, lead: str, ctx: Ctx) -> None:
    if c.chance(0.7):
        c.photo_only(c.rng.choice([P, P, M, J]))
    first = c.say(P, "hike.after", ctx)
    for o in c.others(P)[: c.rng.randint(1, 3)]:
        c.say(o, c.rng.choice(["hike.after", "hike.after_react", "laugh"]), ctx, reply=first, reply_p=0.1)


def s_books(c: Chat, lead: str, ctx: Ctx) -> None:
    c.say(P, "book.ask", ctx)
    for o in c.others(P)[: c.rng.randint(2, 3)]:
        c.say(o, "book.answer", ctx)
        if c.chance(0.35):
            c.say(P, "book.react", Ctx(c.rng), quick=True)
    if c.chance(0.5):
        ctx2 = Ctx(c.rng)
        c.say(P, "book.rec", ctx2)
        c.say(c.rng.choice(c.others(P)), "book.react", ctx2)


def s_book_rec(c: Chat, lead: str, ctx: Ctx) -> None:
    c.say(P, "book.rec", ctx)
    for o in c.others(P)[: c.rng.randint(1, 2)]:
        c.say(o, "book.react", ctx)


def s_movie(c: Chat, lead: str, ctx: Ctx) -> None:
    c.say(lead, "movie.propose", ctx)
    ideas = []
    for o in c.others(lead)[: c.rng.randint(2, 3)]:
        octx = Ctx(c.rng)
        c.say(o, c.rng.choice(["movie.suggest", "movie.suggest", "yes"]), octx)
        ideas.append(octx["movie"])
    if c.bot_uses < 3 and c.chance(0.45):
        opts = sorted(set(ideas + [ctx["movie"]]))
        if len(opts) >= 2:
            c.say(P, "roll.intro", ctx)
            ctx["movie"] = c.roll(P, opts)
            c.say(c.rng.choice(c.others()), c.rng.choice(["laugh", "hype", "ack"]), ctx)
    c.say(lead, "confirm", ctx)
    c.later(1, 4, s_movie_after, lead, ctx)


def s_movie_after(c: Chat, lead: str, ctx: Ctx) -> None:
    for i, o in enumerate(c.others()[: c.rng.randint(2, 4)]):
        c.say(o, "movie.after" if i == 0 else c.rng.choice(["movie.after", "movie.after", "agree", "laugh"]), ctx)


def s_checkin(c: Chat, lead: str, ctx: Ctx) -> None:
    c.say(lead, "checkin_ask", ctx)
    for o in c.others(lead)[: c.rng.randint(2, 3)]:
        good = c.chance(0.6)
        rec = c.say(o, "checkin_good" if good else "checkin_bad", Ctx(c.rng))
        if c.chance(0.55):
            c.say(c.rng.choice([p for p in PEOPLE if p != o]), "hype" if good else "sympathy", ctx, to=o,
                  reply=rec, reply_p=0.2)
    if c.chance(0.5):
        c.say(lead, c.rng.choice(["checkin_good", "checkin_bad"]), ctx)


def s_weekend(c: Chat, lead: str, ctx: Ctx) -> None:
    c.say(lead, "weekend_ask", ctx)
    for o in c.others(lead)[: c.rng.randint(2, 3)]:
        c.say(o, "weekend_answer", Ctx(c.rng))
        if c.chance(0.25):
            c.say(c.rng.choice(c.others(o)), c.rng.choice(["laugh", "tease", "hype"]), ctx, to=o, quick=True)
    c.say(lead, "weekend_answer", ctx)


def s_random(c: Chat, lead: str, ctx: Ctx) -> None:
    first = c.say(lead, "random", ctx)
    for o in c.others(lead)[: c.rng.randint(1, 3)]:
        c.say(o, c.rng.choice(["laugh", "wow", "tease", "agree"]), ctx, to=lead, reply=first, reply_p=0.12)
    if c.chance(0.35):
        c.say(lead, c.rng.choice(["laugh", "ack"]), ctx)


def s_question(c: Chat, lead: str, ctx: Ctx) -> None:
    first = c.say(lead, "question", ctx)
    for o in c.others(lead)[: c.rng.randint(1, 2)]:
        c.say(o, c.rng.choice(["help.answer", "ack", "laugh", "maybe"]), ctx, reply=first, reply_p=0.25)
    if c.chance(0.5):
        c.say(lead, "thanks", ctx)


def s_help(c: Chat, lead: str, ctx: Ctx) -> None:
    first = c.say(lead, "help.ask", ctx)
    for o in c.others(lead)[: c.rng.randint(1, 3)]:
        c.say(o, "help.answer", ctx, reply=first, reply_p=0.2)
    c.say(lead, "thanks", ctx)


def s_work(c: Chat, lead: str, ctx: Ctx) -> None:
    first = c.say(lead, "work.complain", ctx)
    for o in c.others(lead)[: c.rng.randint(1, 3)]:
        c.say(o, c.rng.choice(["work.sympathy", "sympathy"]), ctx, to=lead, reply=first, reply_p=0.1)
    if c.chance(0.5):
        c.say(lead, "thanks", ctx)


def s_weather(c: Chat, lead: str, ctx: Ctx) -> None:
    c.say(lead, "weather", ctx)
    for o in c.others(lead)[: c.rng.randint(1, 2)]:
        c.say(o, c.rng.choice(["agree", "weather", "laugh"]), ctx)


def s_morning(c: Chat, lead: str, ctx: Ctx) -> None:
    c.say(lead, "morning", ctx)
    for o in c.others(lead)[: c.rng.randint(1, 3)]:
        c.say(o, c.rng.choice(["morning", "morning", "greet"]), ctx)


def s_bored(c: Chat, lead: str, ctx: Ctx) -> None:
    c.say(lead, "bored", ctx)
    o = c.others(lead)[0]
    c.say(o, c.rng.choice(["random", "laugh", "tease"]), Ctx(c.rng), to=lead)
    if c.chance(0.6):
        c.say(lead, c.rng.choice(["laugh", "ack", "thanks"]), ctx)


def s_hungry(c: Chat, lead: str, ctx: Ctx) -> None:
    c.say(lead, "food.hungry", ctx)
    c.say(c.others(lead)[0], c.rng.choice(["laugh", "tease", "food.hungry"]), ctx, to=lead)
    if c.chance(0.4):
        s_food_plan(c, c.rng.choice(PEOPLE), Ctx(c.rng))


def s_birthday(c: Chat, who: str, ctx: Ctx) -> None:
    for o in c.others(who):
        c.say(o, "bday.wish", ctx, to=who)
    c.say(who, "bday.thanks", ctx)
    if c.chance(0.6):
        c.say(c.rng.choice(c.others(who)), c.rng.choice(["hype", "laugh"]), ctx)


def s_pizza(c: Chat, lead: str, ctx: Ctx) -> None:
    """A running joke: the pineapple question, reopened whenever pizza comes up."""
    c.say(lead, "pizza.take", ctx)
    order = c.others(lead)
    if J not in order[:2]:
        order.insert(0, J)
        order = list(dict.fromkeys(order))
    for o in order[:3]:
        c.say(o, "pizza.take", ctx)
    if c.chance(0.6):
        c.say(c.rng.choice([M, D, P]), "pizza.reply", ctx)
        c.say(J, "pizza.reply", ctx)
    c.say(c.rng.choice(c.others(J)), "laugh", ctx, quick=True)


def s_early(c: Chat, lead: str, ctx: Ctx) -> None:
    """A running joke: Jonas is always early."""
    c.say(J, "early.here", ctx)
    for o in c.others(J)[: c.rng.randint(1, 3)]:
        c.say(o, c.rng.choice(["early.tease", "early.tease", "otw", "late"]), ctx, to=J)
    c.say(J, "early.reply", ctx)
    if c.chance(0.5):
        c.say(c.rng.choice(c.others(J)), "laugh", ctx, quick=True)


def s_shortcut(c: Chat, lead: str, ctx: Ctx) -> None:
    """A running joke: Dan's shortcuts."""
    c.say(D, "shortcut", ctx)
    for o in c.others(D)[: c.rng.randint(1, 3)]:
        c.say(o, "shortcut.react", ctx, to=D)
    c.say(D, "shortcut.cope", ctx)
    if c.chance(0.5):
        c.say(c.rng.choice(c.others(D)), "laugh", ctx, quick=True)


# The summer trip: a thread that runs from spring to August, so some conversations refer back.
TRIP = {"city": "Porto", "trip_link": "https://sheets.example.com/d/1qZkPortoTrip2024WeekendCrew/edit"}


def s_trip_idea(c: Chat, lead: str, ctx: Ctx) -> None:
    c.say(P, "trip.idea", ctx)
    for o in c.others(P):
        c.say(o, "trip.react", ctx)
    c.say(P, "trip.detail", ctx)
    for o in c.others(P)[:2]:
        c.say(o, c.rng.choice(["ack", "trip.detail", "yes"]), ctx)


def s_trip_plan(c: Chat, lead: str, ctx: Ctx) -> None:
    sheet = c.say(P, "trip.spreadsheet" if "trip" not in c.pinned_done else "trip.sheet_update", ctx)
    if "trip" not in c.pinned_done:
        c.pinned_done.add("trip")
        c.pin(P, sheet)
    c.say(c.rng.choice([M, D]), c.rng.choice(["laugh", "tease"]), ctx, to=P)
    for o in c.others(P):
        c.say(o, "trip.detail", ctx)
        if c.chance(0.4):
            c.say(P, c.rng.choice(["ack", "agree", "trip.detail"]), ctx)
    c.say(P, "confirm", ctx)


def s_trip_countdown(c: Chat, lead: str, ctx: Ctx) -> None:
    c.say(lead, "trip.countdown", ctx)
    for o in c.others(lead)[: c.rng.randint(2, 3)]:
        c.say(o, c.rng.choice(["trip.countdown", "hype", "laugh"]), ctx)


def s_trip_live(c: Chat, lead: str, ctx: Ctx) -> None:
    if c.chance(0.6):
        c.photo_only(c.rng.choice(PEOPLE))
    for o in [lead] + c.others(lead)[: c.rng.randint(2, 3)]:
        c.say(o, c.rng.choice(["trip.live", "trip.live", "laugh"]), ctx)


def s_trip_recap(c: Chat, lead: str, ctx: Ctx) -> None:
    c.say(lead, "trip.recap", ctx)
    for o in c.others(lead):
        c.say(o, c.rng.choice(["trip.recap", "agree", "thanks"]), ctx)


# Scene, and how likely each friend is to start it.
SCENES = [
    (s_food_plan, {M: 3, P: 1.5, J: 1, D: 1}),
    (s_cooking, {M: 3}),
    (s_gerald, {M: 1.6}),
    (s_music, {M: 2}),
    (s_gig, {M: 0.8}),
    (s_chess, {J: 2.5}),
    (s_chess_puzzle, {J: 1.2}),
    (s_rematch, {D: 1.4}),
    (s_train_late, {J: 2.5}),
    (s_train_trip, {J: 0.9}),
    (s_patch, {D: 2.2}),
    (s_ranked, {D: 2.4}),
    (s_release, {D: 0.8}),
    (s_game_night, {D: 1.2, M: 0.8, J: 0.6, P: 0.8}),
    (s_hike_plan, {P: 2.6}),
    (s_books, {P: 1.8}),
    (s_book_rec, {P: 1.2}),
    (s_movie, {M: 0.6, J: 0.5, D: 0.6, P: 0.7}),
    (s_checkin, {M: 1, J: 0.8, D: 0.5, P: 1.4}),
    (s_weekend, {M: 0.8, J: 0.5, D: 0.5, P: 1.2}),
    (s_random, {M: 2, J: 2, D: 2, P: 2}),
    (s_question, {M: 0.8, J: 0.8, D: 0.8, P: 0.8}),
    (s_help, {M: 0.6, J: 0.6, D: 0.5, P: 0.7}),
    (s_work, {M: 0.8, J: 0.8, D: 0.7, P: 0.7}),
    (s_weather, {M: 0.5, J: 0.6, D: 0.4, P: 0.5}),
    (s_morning, {M: 0.6, J: 0.5, D: 0.2, P: 0.6}),
    (s_bored, {M: 0.5, J: 0.4, D: 0.6, P: 0.4}),
    (s_hungry, {M: 0.6, J: 0.4, D: 0.5, P: 0.3}),
    (s_pizza, {M: 0.5, J: 0.3, D: 0.4, P: 0.2}),
    (s_shortcut, {D: 0.7}),
]

# Dated scenes (month, day): the trip thread. Birthdays are added from BIRTHDAYS.
ARC = {
    (4, 20): (s_trip_idea, P),
    (5, 4): (s_trip_plan, P),
    (5, 18): (s_trip_plan, P),
    (7, 8): (s_trip_countdown, M),
    (7, 14): (s_trip_countdown, P),
    (7, 18): (s_trip_live, P),
    (7, 19): (s_trip_live, M),
    (7, 20): (s_trip_live, J),
    (7, 23): (s_trip_recap, M),
}


def _pick_lead(c: Chat) -> str:
    total = sum(c.spoken.values()) or 1
    weights = [1.0 / (0.05 + c.spoken[p] / total) for p in PEOPLE]
    return c.rng.choices(PEOPLE, weights=weights)[0]


def _pick_scene(c: Chat, lead: str, month: int, hour: int):
    options, weights = [], []
    for scene, owners in SCENES:
        w = owners.get(lead, 0)
        if scene is s_morning:
            w = 0 if hour >= 11 or hour < 6 else w * 4
        if scene is s_hike_plan and month in (12, 1, 2):
            w *= 0.3
        if w:
            options.append(scene)
            weights.append(w)
    return c.rng.choices(options, weights=weights)[0]


def _run_session(c: Chat, start_ms: int, forced: list, scale: float = 1.0, huge: bool = False) -> None:
    """One conversation: a few scenes in a row, sized small (a handful), medium, long or very long (60+)."""
    c.t_ms = start_ms
    rng = c.rng
    first = len(c.records)
    local_hour = c.local_hour()
    month = datetime.fromtimestamp(start_ms / 1000, timezone.utc).month
    r = rng.random()
    if huge:
        target = rng.randint(62, 80)
    elif r < 0.53:
        target = 1
    else:
        target = int((rng.randint(9, 16) if r < 0.82 else rng.randint(18, 30)) * scale)
    due = [f for f in c.followups if f[0] <= start_ms]
    c.followups = [f for f in c.followups if f[0] > start_ms]
    plan = list(forced) + [(scene, lead, ctx) for _, scene, lead, ctx in sorted(due, key=lambda f: f[0])]
    if target >= 20 and rng.random() < 0.5:
        g = _pick_lead(c)
        c.say(g, rng.choice(["greet", "greet", "checkin_ask"]), Ctx(rng))
        for o in c.others(g)[: rng.randint(1, 2)]:
            c.say(o, "greet", Ctx(rng), quick=True)
    done: list = []
    i = 0
    while i < len(plan) or len(c.records) - first < target:
        if i < len(plan):
            scene, lead, ctx = plan[i]
        else:
            lead = _pick_lead(c)
            for _ in range(4):  # the same kind of scene twice in one evening reads oddly
                scene = _pick_scene(c, lead, month, c.local_hour())
                if scene not in done:
                    break
            ctx = Ctx(rng)
        if i:
            c.wait(rng.uniform(60, 1500))
            if rng.random() < 0.25:
                c.say(lead, "anyway", Ctx(rng), quick=True)
        scene(c, lead, ctx)
        done.append(scene)
        i += 1
    if (local_hour >= 20 or local_hour < 2) and len(done) >= 2 and rng.random() < 0.6:
        for o in c.others()[: rng.randint(1, 3)]:
            c.say(o, "night", Ctx(rng), quick=True)


def _session_starts(c: Chat) -> list[tuple[int, list]]:
    """Planned (start time, forced scenes) for every session of the year, in order."""
    rng = c.rng
    out = []
    day = START
    quiet_until = START
    while day <= END:
        wd = day.weekday()
        md = (day.month, day.day)
        forced = []
        if md in ARC:
            scene, lead = ARC[md]
            forced.append((scene, lead, Ctx(rng, **TRIP)))
        for who, bd in BIRTHDAYS.items():
            if md == bd:
                forced.append((s_birthday, who, Ctx(rng)))
        weights = [0.4, 0.45, 0.15] if wd < 5 else [0.3, 0.45, 0.25]
        n = rng.choices([0, 1, 2], weights=weights)[0]
        if forced:
            n = max(n, 1)
        # Quiet spells: now and then nobody writes for a few days (birthdays and the trip still happen).
        if not forced and (day < quiet_until or rng.random() < 0.04):
            if day >= quiet_until:
                quiet_until = day + timedelta(days=rng.randint(2, 5))
            day += timedelta(days=1)
            continue
        hours = sorted(rng.uniform(8, 12.5) if (wd >= 5 and rng.random() < 0.5) else rng.uniform(11.5, 22.5)
                       for _ in range(n))
        for i, h in enumerate(hours):
            out.append((int((day + timedelta(hours=h - 1)).timestamp() * 1000), forced if i == 0 else []))
        day += timedelta(days=1)
    return out


def generate(seed: int = SEED) -> dict:
    c = Chat(seed)
    # The group's first moments: Maya adds Priya to the chat the others already share.
    c.t_ms = int((START + timedelta(hours=18, minutes=12)).timestamp() * 1000)
    c.say(M, "greet", Ctx(c.rng))
    add = c.system("RecipientAdd", M, f"Added {P} to the group.")
    add["mentions"] = [c.users[P]]
    c.say(P, "greet", Ctx(c.rng))
    c.say(D, "greet", Ctx(c.rng))
    c.say(J, "greet", Ctx(c.rng))
    s_hike_plan(c, P, Ctx(c.rng))
    last_end = c.t_ms
    starts = _session_starts(c)
    for i, (start, forced) in enumerate(starts):
        start = max(start, last_end + int(GAP_MIN_S * 1000) + c.rng.randint(0, 3_600_000))
        c.t_ms = start
        if 1 <= c.local_hour() < 8:  # friends sleep: a session pushed into the night waits for morning
            start += (8 - c.local_hour()) * 3_600_000 + c.rng.randint(0, 7_200_000)
        # Steer towards TARGET_MESSAGES in all: longer sessions while behind, shorter while ahead.
        behind = TARGET_MESSAGES * (i + 1) / len(starts) - len(c.records)
        scale = min(1.8, max(0.5, 1 + behind / 150))
        _run_session(c, start, forced, scale, huge=i % 45 == 30)
        last_end = c.t_ms
    messages = []
    for rec in c.records:
        rec = {k: v for k, v in rec.items() if not k.startswith("_")}
        messages.append(rec)
    return {
        "guild": {"id": "0", "name": "Direct Messages", "iconUrl": "https://cdn.discordapp.com/embed/avatars/0.png"},
        "channel": {
            "id": c.channel_id,
            "type": "DirectGroupTextChat",
            "categoryId": None,
            "category": None,
            "name": "weekend crew",
            "topic": None,
        },
        "dateRange": {"after": None, "before": None},
        "exportedAt": EXPORTED_AT,
        "messages": messages,
        "messageCount": len(messages),
    }


def render(data: dict) -> str:
    return json.dumps(data, ensure_ascii=False, indent=2) + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", type=Path, default=OUT)
    ap.add_argument("--check", action="store_true", help="exit 1 if the file on disk differs from the output")
    args = ap.parse_args(argv)
    text = render(generate())
    if args.check:
        same = args.out.is_file() and args.out.read_text(encoding="utf-8") == text
        print(f"{args.out}: {'up to date' if same else 'OUT OF DATE'}")
        return 0 if same else 1
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text, encoding="utf-8", newline="\n")
    data = json.loads(text)
    kinds = Counter(m["type"] for m in data["messages"])
    speakers = Counter(m["author"]["nickname"] for m in data["messages"])
    print(f"wrote {args.out} ({len(text.encode()) / 1e6:.2f} MB, sha256 {hashlib.sha256(text.encode()).hexdigest()[:12]})")
    print(f"records: {data['messageCount']} {dict(kinds)}")
    print(f"authors: {dict(speakers)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
