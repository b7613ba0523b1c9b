"""Redaction: what is taken out of messages before a model learns from them, and what must survive.

Every case goes through ``dataset.clean_text`` with the default settings: the path training takes.
"""

from __future__ import annotations

import gc
import json
import time

import pytest

from friendsim_tui import cli
from friendsim_tui.config import DatasetConfig
from friendsim_tui.dataset import clean_text, redact


def clean(text: str) -> str:
    return clean_text(text, DatasetConfig())


# Built from parts so the fixtures never read as live keys to a scanner.
STRIPE_SK = "sk_" + "live_" + "4eC39HqLyjWDarjtT1zdp7dc"
STRIPE_RK = "rk_" + "live_" + "51H8abcDEFghiJKLmnoPQRstuVWxyz0123"
AWS_SECRET = "wJalrXUtnFEMI/K7MDENG/" + "bPxRfiCYEXAMPLEKEY"
KEY_BODY = "MIIEpAIBAAKCAQEA3Tz2mr7SZiAMfQyuvBjM2" "\n" "Xc7r3FgkDQWfnV8VnKc8f4mdT0aQ9uoPLsT"

# (message, what must be gone, the placeholder that takes its place)
REMOVED = [
    # card numbers: spaced, dashed, plain; Visa, Mastercard, Amex
    ("card 4111 1111 1111 1111 thanks", ["4111", "1111"], "[card]"),
    ("4111-1111-1111-1111", ["4111", "1111"], "[card]"),
    ("pay with 4111111111111111 pls", ["4111111111111111"], "[card]"),
    ("mc 5555 5555 5555 4444", ["5555", "4444"], "[card]"),
    ("amex 3782 822463 10005", ["3782", "822463", "10005"], "[card]"),
    ("amex 378282246310005", ["378282246310005"], "[card]"),
    # CVVs: after the card, or named
    ("4111 1111 1111 1111 123", ["1111", "123"], "[cvv]"),
    ("card 4012888888881881 exp 12/27 cvv 737", ["4012888888881881", "737"], "[cvv]"),
    ("the cvv is 737", ["737"], "[cvv]"),
    ("CVC: 4567", ["4567"], "[cvv]"),
    # phones, national and international
    ("call me on +1 (212) 555-0147", ["212", "555", "0147"], "[phone]"),
    ("my number is 07700 900461", ["07700", "900461"], "[phone]"),
    ("office +49 30 901820 77", ["901820"], "[phone]"),
    ("text 4155552671 later", ["4155552671"], "[phone]"),
    ("(415) 555-2671", ["415", "2671"], "[phone]"),
    ("+44 7911 123456", ["7911", "123456"], "[phone]"),
    ("ring 07911 123456 after 6", ["07911", "123456"], "[phone]"),
    ("+33 6 12 34 56 78", ["+33", "12 34 56 78"], "[phone]"),
    ("handy 0151 12345678", ["0151", "12345678"], "[phone]"),
    ("0044 20 7946 0958", ["7946", "0958"], "[phone]"),
    ("98765 43210", ["98765", "43210"], "[phone]"),
    ("call 415 555 2671 2 times", ["2671"], "[phone]"),
    ("https://wa.me/447911123456", ["447911123456"], "[phone]"),
    # AWS, Stripe
    (f"aws_secret_access_key = {AWS_SECRET}", [AWS_SECRET], "[secret]"),
    (f"the secret key is {AWS_SECRET} ok", [AWS_SECRET], "[secret]"),
    (f"stripe {STRIPE_SK}", [STRIPE_SK, "4eC39"], "[secret]"),
    (f"restricted {STRIPE_RK}", [STRIPE_RK, "51H8"], "[secret]"),
    # private-key blocks: the whole block, and a paste cut short
    (f"-----BEGIN RSA PRIVATE KEY-----\n{KEY_BODY}\n-----END RSA PRIVATE KEY-----\nthanks",
     ["MIIEpAIBAAK", "Xc7r3Fgk", "BEGIN RSA"], "[private key]"),
    (f"here: -----BEGIN OPENSSH PRIVATE KEY-----\n{KEY_BODY}", ["MIIEpAIBAAK", "Xc7r3Fgk"], "[private key]"),
    (f"-----BEGIN PRIVATE KEY-----\n{KEY_BODY}\n-----END PRIVATE KEY-----", ["MIIEpAIBAAK"], "[private key]"),
    # IBANs
    ("IBAN DE89 3704 0044 0532 0130 00 thanks", ["3704", "0532"], "[iban]"),
    ("GB82WEST12345698765432", ["WEST1234"], "[iban]"),
    ("gb82 west 1234 5698 7654 32", ["west", "5698"], "[iban]"),
    ("FR14 2004 1010 0505 0001 3M02 606", ["2004", "3M02"], "[iban]"),
    # passwords given in words
    ("my password is hunter2", ["hunter2"], "[secret]"),
    ("pw: hunter2", ["hunter2"], "[secret]"),
    ("the wifi password is Sup3rS3cret", ["Sup3rS3cret"], "[secret]"),
    ("password for the wifi is abc123", ["abc123"], "[secret]"),
    ('my password is "correct horse battery"', ["correct horse"], "[secret]"),
]


@pytest.mark.parametrize("text,gone,placeholder", REMOVED, ids=[c[0][:40] for c in REMOVED])
def test_private_details_are_replaced_by_a_readable_placeholder(text, gone, placeholder):
    out = clean(text)
    assert placeholder in out, out
    for part in gone:
        assert part not in out, out


def test_the_text_around_a_placeholder_is_kept():
    assert clean("IBAN DE89 3704 0044 0532 0130 00 thanks") == "IBAN [iban] thanks"
    assert clean("call me on +1 (212) 555-0147 ok?") == "call me on [phone] ok?"
    assert clean("-----BEGIN RSA PRIVATE KEY-----\nabc\n-----END RSA PRIVATE KEY-----\nthanks") == "[private key]\nthanks"
    assert clean("4111 1111 1111 1111 123") == "[card] [cvv]"


SURVIVES = [
    "meet at 7:30 or 18:45", "on 12/05", "won 3-1", "back in 2024", "room 101", "call me at 5",
    "it was $1,299.99", "it was 1 299,99 €", "v1.2.3", "v2.10.3.1234", "2024-01-12", "12.05.2024", "12/05/2024",
    "25.12.2023 18:00", "01.02.2023 - 05.02.2023", "10:30-11:45", "1500 points", "10,000,000 views",
    "from 1990 to 2024", "192.168.1.1", "ISBN 978-3-16-148410-0", "1 2 3 4 5 6 7 8 9 10", "scores 21-19 21-17 21-15",
    "order #12345678", "pi is 3.14159265", "500 600 700 800 900", "unix time 1700000000",
    # Discord ids are not phone numbers, and the 19-digit ones start with 1, which no card network uses
    "see message 1193255802991935489", "user 319626097459331072",
    "commit 3f786850e387550fdab836ed7e6dc881de23001b",
    # an id in a link, even one that reads as a valid number
    "https://tenor.com/view/cat-dance-gif-4155552671",
    "my password is the same as yours", "password managers are great", "pin this message", "the sk-learn docs",
]


@pytest.mark.parametrize("text", SURVIVES)
def test_ordinary_numbers_and_words_survive(text):
    assert clean(text) == text


def test_card_numbers_ibans_and_cvvs_go_with_secrets():
    text = "4111 1111 1111 1111 cvv 123, DE89 3704 0044 0532 0130 00"
    assert redact(text, ["emails", "urls"]) == text  # the user turned secrets (and phones) off
    assert redact(text, ["secrets"]) == "[card] cvv [cvv], [iban]"
    assert "secrets" in DatasetConfig().redact


ADVERSARIAL = {
    "dashes": "1-1-", "dots before @": "a.a.", "digits": "1", "spaced digits": "12 ", "jwt starts": "eyJ-",
    "key starts": "sk-a", "emails": "a@a.", "plus ones": "+1 ", "area codes": "(1) ", "ibans": "DE89 ",
    "cards": "4111 ", "passwords": "pw is ", "mixed case": "aA1/", "url credentials": "://a:", "zeros": "0 ",
    "links and numbers": "http://a 4155552671 ",
}


def _ratio(small: str, large: str, limit: float, tries: int = 5) -> float:
    """How many times the processor time ``large`` takes over ``small``: the fastest of up to ``tries`` turns
    each (another process slows one turn, not the fastest), without the garbage collector's pauses."""
    best = [float("inf"), float("inf")]
    gc.collect()
    gc.disable()
    try:
        for _ in range(tries):
            for i, text in enumerate((small, large)):
                start = time.process_time()
                redact(text, ["emails", "phones", "secrets", "urls"])
                best[i] = min(best[i], time.process_time() - start)
            if best[1] < limit * best[0]:
                break
    finally:
        gc.enable()
    return best[1] / max(best[0], 1e-6)


@pytest.mark.parametrize("unit", list(ADVERSARIAL.values()), ids=list(ADVERSARIAL))
def test_every_pattern_takes_time_linear_in_the_message(unit):
    """48,000 characters built to make a pattern backtrack take about 8 times as long as 6,000 of them; a
    pattern that backtracks over the rest of the text from every start takes 64 times as long. The limit
    sits between the two, with room for a machine busy with other work."""
    small = (unit * (6000 // len(unit) + 1))[:6000] + "@"
    large = (unit * (48000 // len(unit) + 1))[:48000] + "@"
    ratio = _ratio(small, large, limit=32)
    assert ratio < 32, f"{ratio:.0f}x the time for 8x the text"


def test_the_tokenizer_and_the_training_text_never_see_the_raw_details(capsys, data_dir, transcript):
    """A scratch base's tokenizer is trained on the redacted text only: no merge, no vocabulary entry and no
    token of the packed training data carries a digit of the card, phone, IBAN or key it was shown."""
    pytest.importorskip("torch")
    secrets_ = ["call me on +1 (212) 555-0147", "card 4111 1111 1111 1111 cvv 737",
                "IBAN DE89 3704 0044 0532 0130 00", f"key {AWS_SECRET}", "my password is hunter2"]
    lines = ["Alice: are we still on for saturday?", "Bob Smith: yes bring snacks", "Carol: i will drive"]
    body = "\n".join(f"{['Alice', 'Bob Smith', 'Carol'][i % 3]}: {secrets_[i % len(secrets_)]}\n{lines[i % 3]}"
                     for i in range(60))
    for i in range(2):
        transcript(body + "\n", name=f"chat{i}.txt")
    assert cli.main(["import", str(data_dir.parent / "chat0.txt"), str(data_dir.parent / "chat1.txt"),
                     "-w", "crew"]) == 0
    code = cli.main(["train", "-w", "crew", "--run", "r", "--base", "scratch:tiny,n_layer=1,n_embd=32,n_head=2,vocab=300",
                     "--block-size", "32", "--batch-size", "2", "--grad-accum", "1", "--max-steps", "1",
                     "--save-steps", "1", "--eval-steps", "1", "--sample-steps", "1", "--precision", "fp32"])
    out, err = capsys.readouterr()
    assert code == 0, err
    run = data_dir / "workspaces" / "crew" / "runs" / "r"

    tokenizer = json.loads((run / "model" / "tokenizer.json").read_text(encoding="utf-8"))
    specials = {t["content"] for t in tokenizer["added_tokens"]}
    learned = [t for t in tokenizer["model"]["vocab"] if t not in specials and len(t) > 1]
    merges = [m if isinstance(m, str) else " ".join(m) for m in tokenizer["model"]["merges"]]
    assert {"card", "secret"} & set(learned)  # it did learn from the placeholders
    assert not [t for t in learned + merges if any(c.isdigit() for c in t)]
    assert not [t for t in learned + merges if "hunter" in t or "EXAMPLE" in t]

    import numpy as np
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(run / "model")
    (train_bin,) = run.rglob("train.bin")
    text = tok.decode(np.fromfile(train_bin, dtype=np.uint32).tolist())
    assert "[phone]" in text and "[card]" in text and "[iban]" in text and "[secret]" in text
    for raw in ("555-0147", "4111", "3704", "737", AWS_SECRET, "hunter2"):
        assert raw not in text
