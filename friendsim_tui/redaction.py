"""What is taken out of imported messages before a model learns from them. Torch-free.

Kinds (``[dataset] redact`` in the settings; each replaced by a readable placeholder):

- ``secrets`` (default): credentials and private numbers.
  API keys and tokens (AWS access key ids and secret access keys, Stripe, GitHub, GitLab, Slack, Discord,
  OpenAI-style ``sk-``, Google, SendGrid, Twilio, npm, PyPI, JWTs), ``user:password@`` in links and a
  password given in words ("my password is X", "pw: X", "the wifi password is X") -> ``[secret]``;
  private-key blocks (``-----BEGIN ... PRIVATE KEY-----`` to its END line, or to the end of the message
  when the paste was cut) -> ``[private key]``; card numbers (13-19 digits, plain, spaced or dashed, with a
  card network's first digit and length, Luhn-valid) -> ``[card]``, and a CVV written after the card or
  after "cvv"/"cvc" -> ``[cvv]``; IBANs that pass their country's format and checksum -> ``[iban]``.
- ``emails`` (default) -> ``[email]``.
- ``phones`` (default) -> ``[phone]``: runs of digit groups, each candidate confirmed by Google's
  libphonenumber (the ``phonenumbers`` package): a number in international form, from any country
  (``+44 20 7946 0958``, ``+1 (212) 555-0147``, ``0049 30 901820 77``); a national number that its
  matcher finds valid in one of ``PHONE_REGIONS`` (``4155552671``, ``0151 12345678``); or one written
  with a trunk 0 and 10-11 digits, as most of the world writes a phone number (``07700 900461``).
- ``urls`` (opt-in) -> ``[link]``.

What survives: times (7:30, 18:45), dates (12/05, 2024-01-12, 25.12.2023), scores (3-1), years, room
numbers, prices, counts (1,500 or 10 000 000), version numbers (1.2.3) and ids. A phone has 7-17 digits
(9 or more unless written with + or a trunk 0) in at most six groups, at most one of them a single digit
after the country code, no date inside it, and is not a list of round numbers (500 600 700).
Discord ids (17-19 digits) are not phone numbers and the 19-digit ones start with 1, which no card
network uses; the rare id that happens to carry a card network's first digit, a card's length and a
valid Luhn digit becomes ``[card]``, which costs the model nothing.

The key patterns are those of Yelp's detect-secrets plugins (1.5), adapted for chat text rather than
imported: its plugin modules import an HTTP client at load time (for verifying keys online, which this
app never does), and they look for secrets in code, so each needed changing anyway (an AWS secret access
key only between quotes after "aws ... secret", Stripe keys cut after 24 characters, a private key as
its BEGIN line alone).

Every pattern runs in time linear in the text: each starts only where a run of its characters begins
(a lookbehind rejects every later position in the run) and either has bounded repeats or stops at the
first character outside the run, so a 20,000-character message of ``1-1-1-`` or ``a.a.a.`` costs what
any other message of that length does.
"""

from __future__ import annotations

import bisect
import re
from functools import lru_cache
from typing import Iterable

PHONE_REGIONS = ("US", "GB", "DE", "FR", "IN", "AU", "ES", "IT", "BR", "NL")
"""Regions whose national formats are recognised; numbers written with + are recognised from anywhere."""

# ---------------------------------------------------------------------------------------------
# secrets: keys and tokens

# (pattern, needs a mix of upper case, lower case and digits)
_KEY_PATTERNS: list[tuple[re.Pattern, bool]] = [
    (re.compile(p), mixed)
    for p, mixed in (
        # AWS access key id
        (r"(?<![A-Za-z0-9])(?:A3T[A-Z0-9]|ABIA|ACCA|AKIA|ASIA)[0-9A-Z]{16}(?![A-Za-z0-9])", False),
        # AWS secret access key: 40 base64 characters, mixed case with digits (a git hash is lower-case hex)
        # (not a run that starts after a dot, so not the path of a link: example.com/AbC...)
        (r"(?<![A-Za-z0-9/+._-])[A-Za-z0-9/+]{40}(?![A-Za-z0-9/+=])", True),
        # Stripe secret / restricted / publishable keys, live and test
        (r"(?<![A-Za-z0-9])[srp]k_(?:live|test)_[0-9A-Za-z]{16,}", False),
        # GitHub
        (r"(?<![A-Za-z0-9_])(?:gh[pousr]_[A-Za-z0-9_]{30,}|github_pat_[A-Za-z0-9_]{40,})", False),
        # GitLab
        (r"(?<![A-Za-z0-9_-])gl(?:pat|dt|rt|ptt|ft|imt|oas|soat|cbt|agent)-[A-Za-z0-9_-]{20,}", False),
        # Slack tokens and webhooks
        (r"(?<![A-Za-z0-9-])xox[abposr]-[A-Za-z0-9-]{10,}", False),
        (r"hooks\.slack\.com/services/[A-Za-z0-9_/]{20,}", False),
        # Discord bot token
        (r"(?<![A-Za-z0-9_-])[MNO][A-Za-z0-9_-]{23,25}\.[A-Za-z0-9_-]{6}\.[A-Za-z0-9_-]{27,38}", False),
        # JSON Web Token
        (r"(?<![A-Za-z0-9_=-])eyJ[A-Za-z0-9_=-]{8,}\.[A-Za-z0-9_=-]{8,}(?:\.[A-Za-z0-9_=-]+)?", False),
        # OpenAI-style keys (sk-..., sk-proj-..., sk-ant-...)
        (r"(?<![A-Za-z0-9_-])(?:sk|pk|rk)-[A-Za-z0-9_-]{20,}", True),
        # Google API key
        (r"(?<![A-Za-z0-9_-])AIza[0-9A-Za-z_-]{35}", False),
        # SendGrid, Twilio, npm, PyPI, Telegram bot, Mailchimp, Square
        (r"(?<![A-Za-z0-9_-])SG\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43}", False),
        (r"(?<![A-Za-z0-9])(?:AC|SK)[0-9a-f]{32}(?![A-Za-z0-9])", False),
        (r"(?<![A-Za-z0-9_])npm_[A-Za-z0-9]{36}", False),
        (r"(?<![A-Za-z0-9_-])pypi-AgE[A-Za-z0-9_-]{50,}", False),
        (r"(?<![0-9])[0-9]{8,10}:[0-9A-Za-z_-]{35}(?![0-9A-Za-z_-])", False),
        (r"(?<![0-9a-z])[0-9a-f]{32}-us[0-9]{1,2}(?![0-9])", False),
        (r"(?<![A-Za-z0-9_-])sq0(?:atp|csp)-[0-9A-Za-z_-]{22,43}", False),
    )
]
# Every key is at least 16 characters of this set: a message without such a run skips the key patterns.
_KEYISH = re.compile(r"[A-Za-z0-9_\-.+/=:]{16}")

# user:password@ in a link
_URL_CREDENTIALS = re.compile(r"(?<=://)[^/\s:@]{1,256}:[^/\s@]{1,256}(?=@)")

# A password given in words: "password: X", "pw=X", "my password is X", "the wifi password is X",
# "password for the wifi is X". The value is one word, or a quoted phrase.
_PASSWORD = re.compile(
    r"(?i)(?<![a-z])(?:wi-?fi\s)?(?:password|passwort|passwd|passphrase|passcode|pass\sword|pwd|pw|pin(?:\s?code)?)"
    r"(?:\s{1,3}(?:for|to|of)(?:\s{1,3}[^\s:=]{1,30}){1,2})?"
    r"(?:\s{0,3}[:=]|\s{1,3}(?:is|was)(?:\s{0,2}:)?\s)\s{0,3}"
    r"(?P<value>\"[^\"\n]{1,100}\"|'[^'\n]{1,100}'|[^\s\"']\S*)"
)
# Words after "password is" that say something about the password rather than give it.
_NOT_A_PASSWORD = frozenset(
    "the a an not too so very really just still now same wrong right correct incorrect invalid weak strong "
    "long short easy hard different changed expired required case what that this it in on at my your his "
    "her our their also like always never probably definitely actually new old saved stored somewhere here "
    "there below above attached sent secret private empty blank gone reset fine ok okay good bad simple "
    "something nothing written".split()
)

_KEY_BLOCK_BEGIN = re.compile(r"-{0,5}\s?BEGIN[A-Z0-9 ]{0,40} PRIVATE KEY(?: BLOCK)?\s?-{0,5}")
_KEY_BLOCK_END = re.compile(r"END[A-Z0-9 ]{0,40} PRIVATE KEY(?: BLOCK)?\s?-{0,5}")
_PUTTY_BEGIN = re.compile(r"PuTTY-User-Key-File-\d")
_PUTTY_END = re.compile(r"Private-MAC:\s{0,3}[0-9a-fA-F]{0,128}")

# ---------------------------------------------------------------------------------------------
# secrets: private numbers

# A run of digit groups joined by single spaces or dashes: where card numbers (and their CVV) are found.
_DIGIT_RUN = re.compile(r"(?<!\w)\d+(?:[ -]\d+)*")
_DIGIT_GROUP = re.compile(r"\d+")
# What may follow a card: an expiry date (12/27) and then a 3-4 digit code, maybe named.
_AFTER_CARD = re.compile(
    r"[\s,;:/-]{1,3}(?:(?i:exp\w{0,6}|valid\w{0,6})[\s:.]{0,3})?(?:\d{1,2}\s?/\s?\d{2,4}[\s,;:-]{1,3})?"
    r"(?:(?i:cvv2?|cvc2?|cvn|csc|code)[\s:=#-]{0,3})?(\d{3,4})(?![\d/.:])"
)
_CVV = re.compile(
    r"(?i)(?<![a-z])(?:cvv2?|cvc2?|cvn|csc|security\s?code)(?:\s{0,3}(?:is|:|=|#|-)){0,2}\s{0,3}(\d{3,4})(?!\d)"
)
_IBAN = re.compile(r"(?<![A-Za-z0-9])[A-Za-z]{2}\d{2}(?:[ -]?[A-Za-z0-9]){10,30}")
_NO_SEPARATORS = str.maketrans("", "", " -")
_BASE36 = str.maketrans({c: str(i) for i, c in enumerate("ABCDEFGHIJKLMNOPQRSTUVWXYZ", 10)})
# First digit -> lengths a card of that network family can have (Visa 4; Mastercard, Mir 2/5; Amex,
# Diners, JCB 3; Discover, UnionPay, Maestro 6).
_CARD_LENGTHS = {"2": range(16, 20), "3": range(14, 20), "4": (13, 16, 19), "5": range(16, 20), "6": range(16, 20)}

# ---------------------------------------------------------------------------------------------
# emails, links, phones

_EMAIL = re.compile(r"(?<![\w.%+-])[\w.%+-]+@[\w.-]+\.[^\W\d_]{2,}\b")
_URL = re.compile(r"(?<!\w)(?:https?://|www\.)[^\s<>\"']+")
# Digit groups joined by up to three of space . - / ( ), maybe opened by + or (: where phones are found.
_PHONE_SPAN = re.compile(r"(?<![\w+])(?:\+|\(\+?)?\d(?:[ \t\u00a0.\-/()]{0,3}\d)*\)?")
_MAX_PHONE_GROUPS = 6
_DATE_INSIDE = re.compile(r"(?<!\d)(?:\d{1,2}[./ -]\d{1,2}[./ -](?:19|20)\d\d|(?:19|20)\d\d[./ -]\d{1,2}[./ -]\d{1,2})(?!\d)")


def redact(text: str, kinds: Iterable[str]) -> str:
    """``text`` with every kind of private detail in ``kinds`` replaced by its placeholder."""
    kinds = set(kinds)
    if not text:
        return text
    digits = _digit_count(text)  # placeholders hold no digits: an upper bound for every step below
    if "secrets" in kinds:
        text = _redact_secrets(text, digits)
    if "emails" in kinds and "@" in text:
        text = _EMAIL.sub("[email]", text)
    if "urls" in kinds and ("://" in text or "www." in text):
        text = _URL.sub("[link]", text)
    if "phones" in kinds and digits >= 7:
        text = _redact_phones(text)
    return text


def _digit_count(text: str) -> int:
    return sum(map(text.count, "0123456789"))


def _redact_secrets(text: str, digits: int) -> str:
    if "PRIVATE KEY" in text or "PuTTY-User-Key-File" in text:
        text = _redact_key_blocks(text)
    if _KEYISH.search(text):
        for pattern, mixed in _KEY_PATTERNS:
            text = pattern.sub(_mixed_only if mixed else "[secret]", text)
    if "://" in text:
        text = _URL_CREDENTIALS.sub("[secret]", text)
    text = _PASSWORD.sub(_password, text)
    if digits >= 3:
        text = _CVV.sub(lambda m: _replace_group(m, 1, "[cvv]"), text)
    if digits >= 7:
        text = _apply(text, _iban_spans(text))
    if digits >= 13:
        text = _apply(text, _card_spans(text))
    return text


def _mixed_only(m: re.Match) -> str:
    s = m.group(0)
    mixed = any(c.isupper() for c in s) and any(c.islower() for c in s) and any(c.isdigit() for c in s)
    return "[secret]" if mixed else s


def _password(m: re.Match) -> str:
    value = m.group("value")
    if value.strip(".,!?;:").lower() in _NOT_A_PASSWORD:
        return m.group(0)
    return _replace_group(m, "value", "[secret]")


def _replace_group(m: re.Match, group, placeholder: str) -> str:
    start, end = m.start(group) - m.start(), m.end(group) - m.start()
    whole = m.group(0)
    return whole[:start] + placeholder + whole[end:]


def _apply(text: str, spans: list[tuple[int, int, str]]) -> str:
    """Replace each (start, end, placeholder); overlapping spans merge into the first one's placeholder."""
    if not spans:
        return text
    out, pos = [], 0
    for start, end, placeholder in sorted(spans):
        if start < pos:  # overlaps the previous span
            continue
        out.append(text[pos:start])
        out.append(placeholder)
        pos = end
    out.append(text[pos:])
    return "".join(out)


def _redact_key_blocks(text: str) -> str:
    spans = []
    for begin, end in ((_KEY_BLOCK_BEGIN, _KEY_BLOCK_END), (_PUTTY_BEGIN, _PUTTY_END)):
        pos = 0
        while (m := begin.search(text, pos)) is not None:
            e = end.search(text, m.end())
            stop = e.end() if e is not None else len(text)  # a cut paste: the rest of the message goes
            spans.append((m.start(), stop, "[private key]"))
            pos = stop
    return _apply(text, spans)


def _iban_spans(text: str) -> list[tuple[int, int, str]]:
    from stdnum import iban

    def valid(raw: str) -> bool:
        compact = raw.translate(_NO_SEPARATORS).upper()
        # ISO 7064 mod 97-10 first, in C: it settles almost every candidate before stdnum's full check
        return int((compact[4:] + compact[:4]).translate(_BASE36)) % 97 == 1 and iban.is_valid(compact)

    spans, pos = [], 0
    while (m := _IBAN.search(text, pos)) is not None:
        raw = m.group(0)
        # The longest prefix that ends where a word ends and is a valid IBAN.
        cuts = [i for i in range(len(raw), 14, -1)
                if (i == len(raw) and not _alnum_at(text, m.end())) or (i < len(raw) and raw[i] in " -")]
        found = next((i for i in cuts if valid(raw[:i])), None)
        if found is None:
            pos = m.start() + 1
        else:
            spans.append((m.start(), m.start() + found, "[iban]"))
            pos = m.start() + found
    return spans


def _alnum_at(text: str, i: int) -> bool:
    return i < len(text) and text[i].isalnum()


def _card_spans(text: str) -> list[tuple[int, int, str]]:
    spans = []
    for run in _DIGIT_RUN.finditer(text):
        if run.end() - run.start() < 13:
            continue
        groups = [(run.start() + g.start(), run.start() + g.end()) for g in _DIGIT_GROUP.finditer(run.group(0))]
        last_ok = not (run.end() < len(text) and (text[run.end()].isalpha() or text[run.end()] == "_"))
        i = 0
        while i < len(groups):
            j = _card_at(text, groups, i, last_ok)
            if j is None:
                i += 1
                continue
            start, end = groups[i][0], groups[j][1]
            spans.append((start, end, "[card]"))
            after = _AFTER_CARD.match(text, end)
            if after is not None:
                spans.append((after.start(1), after.end(1), "[cvv]"))
            i = j + 1
    return spans


def _card_at(text: str, groups: list[tuple[int, int]], i: int, last_ok: bool) -> int | None:
    """The last group of the longest card number that starts at group ``i``, if one does.

    One group of 13-19 digits, or groups written the way cards are (4-4-4-4, 4-6-5, 4-4-4-4-3): every group
    but the last has 4-6 digits.
    """
    digits, best = "", None
    for j in range(i, len(groups)):
        size = groups[j][1] - groups[j][0]
        if j > i and not 4 <= groups[j - 1][1] - groups[j - 1][0] <= 6:
            break
        digits += text[groups[j][0]:groups[j][1]]
        if len(digits) > 19:
            break
        if (j < len(groups) - 1 or last_ok) and (j == i or size <= 6) and _is_card(digits):
            best = j
    return best


def _is_card(digits: str) -> bool:
    if len(digits) not in _CARD_LENGTHS.get(digits[0], ()):
        return False
    from stdnum import luhn

    return luhn.is_valid(digits)


def _redact_phones(text: str) -> str:
    links = [m.span() for m in _URL.finditer(text)] if "://" in text or "www." in text else []
    link_starts = [a for a, _ in links]
    spans = []
    for span in _PHONE_SPAN.finditer(text):
        if _digit_count(span.group(0)) < 7 or _word_char_at(text, span.end()):
            continue
        k = bisect.bisect_right(link_starts, span.start()) - 1
        in_link = k >= 0 and span.start() < links[k][1]
        for a, b in _phones_in(span.group(0)):
            raw = span.group(0)[a:b]
            # In a link, ids of 7-10 digits abound (tenor.com/view/...-gif-256943210); a phone there is
            # written in full, with its country code (wa.me/447911123456, tel:+44...).
            if in_link and "+" not in raw and _digit_count(raw) < 11:
                continue
            spans.append((span.start() + a, span.start() + b, "[phone]"))
    return _apply(text, spans)


def _word_char_at(text: str, i: int) -> bool:
    return i < len(text) and (text[i].isalpha() or text[i] == "_")


@lru_cache(maxsize=4096)
def _phones_in(span: str) -> tuple[tuple[int, int], ...]:
    """Where the phone numbers are in a run of digit groups: from the left, the longest run of whole groups
    that is one. A run can hold two numbers, or a number and a count; it is cut only where a space or a
    slash separates two groups, never at a dot or a dash (12.05.2024, 3-1)."""
    groups = [(m.start(), m.end()) for m in _DIGIT_GROUP.finditer(span)]
    cut = [True] + [any(c.isspace() or c == "/" for c in span[groups[k - 1][1]:groups[k][0]])
                    for k in range(1, len(groups))] + [True]  # cut[k]: a number may start at group k / end before it
    found, i = [], 0
    while i < len(groups):
        hit, digits = None, 0
        for j in range(i, min(len(groups), i + _MAX_PHONE_GROUPS)):
            digits += groups[j][1] - groups[j][0]
            if digits > 17:
                break
            if digits >= 7 and cut[i] and cut[j + 1]:
                a, b = _widen(span, groups[i][0], groups[j][1])
                if _is_phone(span[a:b]):
                    hit = (a, b, j)
        if hit is None:
            i += 1
        else:
            found.append(hit[:2])
            i = hit[2] + 1
    return tuple(found)


def _widen(span: str, a: int, b: int) -> tuple[int, int]:
    """Take in the + or ( just before a number and the ) closing its area code."""
    while a > 0 and span[a - 1] in "+(":
        a -= 1
    if span.count("(", a, b) > span.count(")", a, b) and b < len(span) and span[b] == ")":
        b += 1
    return a, b


@lru_cache(maxsize=16384)
def _is_phone(candidate: str) -> bool:
    if not _phone_shaped(candidate):
        return False
    from phonenumbers import Leniency

    digits = "".join(_DIGIT_GROUP.findall(candidate))
    if candidate.lstrip("(").startswith("+"):
        return _library_finds(candidate, "ZZ", Leniency.POSSIBLE)
    if digits.startswith("00"):  # 00 44 ...: the international prefix of most of the world
        return _library_finds(candidate, "GB", Leniency.POSSIBLE)
    if digits.startswith("0") and 10 <= len(digits) <= 11:
        return True  # a national number with its trunk 0, as most of the world writes one
    if len(digits) < 9:
        return False  # a local number without its area code says little; counts and dates are this short
    groups = _DIGIT_GROUP.findall(candidate)
    if len(groups) > 1 and all(g.endswith("0") for g in groups):
        return False  # 500 600 700: a list of round numbers (a valid Spanish mobile, were it one)
    return any(_library_finds(candidate, region, Leniency.VALID) for region in PHONE_REGIONS)


def _library_finds(candidate: str, region: str, leniency) -> bool:
    """Whether libphonenumber's matcher finds one phone number that covers every digit of ``candidate``."""
    import phonenumbers
    from phonenumbers import Leniency, PhoneNumberMatcher

    if leniency == Leniency.VALID:  # the matcher's first test, ten times cheaper than the matcher
        try:
            if not phonenumbers.is_valid_number(phonenumbers.parse(candidate, region)):
                return False
        except phonenumbers.NumberParseException:
            return False
    first = next(i for i, c in enumerate(candidate) if c.isdigit())
    last = max(i for i, c in enumerate(candidate) if c.isdigit())
    return any(m.start <= first and m.end > last for m in PhoneNumberMatcher(candidate, region, leniency=leniency))


def _phone_shaped(raw: str) -> bool:
    groups = _DIGIT_GROUP.findall(raw)
    digits = sum(len(g) for g in groups)
    return (7 <= digits <= 17 and len(groups) <= _MAX_PHONE_GROUPS and sum(len(g) == 1 for g in groups[1:]) <= 1
            and not _DATE_INSIDE.search(raw))
