"""The verbatim index: does a sampled turn copy a training message, or eight words in a row of one?"""

from __future__ import annotations

import os
import stat

import pytest

from friendsim_tui.verbatim import MIN_COPY_WORDS, RUN_WORDS, VerbatimIndex, words

TRAINING = [
    "See you at the station at 8, ok?",
    "we should totally go to the lake house next weekend with everyone",
    "lol",
    "Grüße aus München — bis morgen früh",
    "first half of a thought",
    "and the second half of it",
]


@pytest.fixture(scope="module")
def index():
    return VerbatimIndex.build(TRAINING)


def test_an_exact_copy_is_found_whatever_the_case_spacing_and_punctuation(index):
    for text in ["See you at the station at 8, ok?", "see you at the STATION at 8 ok",
                 "  see   you at the station... at 8!! OK ", "see-you-at-the-station-at-8-ok",
                 "GRÜSSE aus münchen, bis morgen früh!!"]:  # casefold: ß is ss
        assert index.copies_turn(text) and index.is_verbatim(text), text
    # other words are not a copy
    assert not index.is_verbatim("see you at the station at 9, ok?")
    assert not index.is_verbatim("see you at the station at 8")


def test_eight_words_in_a_row_from_one_message_count_and_seven_do_not(index):
    eight = "honestly we should totally go to the lake house, right?"
    assert index.shares_run(eight) and index.is_verbatim(eight)
    seven = "honestly we should totally go to the lake, right?"
    assert len("we should totally go to the lake".split()) == RUN_WORDS - 1
    assert not index.shares_run(seven) and not index.is_verbatim(seven)
    # the run must be inside one message: the end of one and the start of the next is not a copy
    assert not index.is_verbatim("first half of a thought and the second half of it")


def test_short_everyday_turns_are_nobodys_copy(index):
    assert MIN_COPY_WORDS > 1
    assert not index.is_verbatim("lol") and not index.is_verbatim("LOL!!")
    assert not index.is_verbatim("?!") and not index.is_verbatim("")
    assert words("Hey, you?! 3 cats") == ["hey", "you", "3", "cats"]


def test_the_saved_index_is_private_holds_no_text_and_loads_back(index, tmp_path):
    path = tmp_path / "verbatim.npy"
    index.save(path)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    raw = path.read_bytes().lower()
    for word in ("station", "lake", "weekend", "thought"):
        assert word.encode() not in raw
    back = VerbatimIndex.load(path)
    assert len(back) == len(index) > 0
    assert back.is_verbatim("SEE YOU AT THE STATION AT 8 OK")
    assert back.is_verbatim("we should totally go to the lake house next")
    assert not back.is_verbatim("nothing like anything in there at all, not one bit")
    assert not list(tmp_path.glob(".*.tmp"))


def test_a_file_that_is_not_an_index_is_refused(tmp_path):
    import numpy as np

    bad = tmp_path / "bad.npy"
    bad.write_bytes(b"not numpy at all")
    with pytest.raises(ValueError):
        VerbatimIndex.load(bad)
    np.save(tmp_path / "floats.npy", np.zeros(3))
    with pytest.raises(ValueError):
        VerbatimIndex.load(tmp_path / "floats.npy")
    with pytest.raises(OSError):
        VerbatimIndex.load(tmp_path / "missing.npy")


def test_an_empty_training_set_copies_nothing():
    empty = VerbatimIndex.build([])
    assert len(empty) == 0 and not empty.is_verbatim("anything at all, with eight words or more in it")
