"""The candidate sampler on a tiny GPT-2 trained for a few seconds on a tiny transcript."""

from __future__ import annotations

import contextlib
import dataclasses
import shutil

import pytest

torch = pytest.importorskip("torch")

from friendsim_tui.config import ChatConfig  # noqa: E402
from friendsim_tui.engine.sampler import EXTRA_ROUNDS, SampleCancelled, SampleError, Sampler  # noqa: E402
from friendsim_tui.engine.text import ChatSpec, encode_turns  # noqa: E402
from friendsim_tui.turns import Turn  # noqa: E402

SPEAKERS = ["Alice", "Bob Smith", "Carol: the third"]
PAIRS = [
    ("Alice", "hey are you coming tonight"), ("Bob Smith", "yeah after work"), ("Carol: the third", "me too lol"),
    ("Alice", "cool see you at eight"), ("Bob Smith", "bring snacks"), ("Carol: the third", "ok ok"),
    ("Alice", "what time again"), ("Bob Smith", "eight I think"), ("Carol: the third", "sounds good"),
    ("Bob Smith", "who is driving"), ("Alice", "me"), ("Carol: the third", "nice one"),
    ("Alice", "anyone want pizza"), ("Carol: the third", "always"), ("Bob Smith", "yes please"),
]
LINES = [Turn(s, t) for s, t in PAIRS]
NASTY = "[bold]hi[/] [@click=app.quit]x[/] [0] \x1b[31mred\x1b[0m <|eot|> tab\there"
HOT = ChatConfig(temperature=1.2, top_k=0, repetition_penalty=1.0, candidates=3, max_new_tokens=12)


@contextlib.contextmanager
def one_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)  # tiny matrices: threads only add overhead (and the CI box is shared)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def build_tiny_model(folder, steps: int = 40):
    """A 2-layer, 64-wide GPT-2 with a byte-level BPE trained on PAIRS, taught the turn format briefly."""
    from friendsim_tui.engine import bases

    spec = ChatSpec(speakers=list(SPEAKERS), workspace="crew")
    texts = [t for _, t in PAIRS] * 4
    with one_thread():
        model, tok = bases.load(bases.resolve("scratch:tiny,n_layer=2,n_embd=64,vocab=400"), spec.special_tokens(),
                                texts=texts, block_size=128, seed=0)
        ids = encode_turns(spec, tok, PAIRS) * 3
        data = torch.tensor([ids[i:i + 128] for i in range(0, len(ids) - 128, 64)])
        opt = torch.optim.AdamW(model.parameters(), lr=3e-3)
        model.train()
        for _ in range(steps):
            loss = model(input_ids=data, labels=data).loss
            loss.backward()
            opt.step()
            opt.zero_grad()
    model.eval()
    folder.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(folder, safe_serialization=True)
    tok.save_pretrained(folder)
    spec.save(folder)
    return folder


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory):
    return build_tiny_model(tmp_path_factory.mktemp("tiny-model") / "model")


@pytest.fixture(scope="module")
def sampler(tiny_model_dir):
    with one_thread():
        yield Sampler(tiny_model_dir, precision="fp32")


@pytest.fixture(autouse=True)
def _threads():
    with one_thread():
        yield


def test_never_the_players_voice_across_seeds(sampler):
    for seed in range(12):
        for player in SPEAKERS:
            out = sampler.candidates(LINES[:4], player, 3, HOT, seed=seed)
            assert out and all(c.speaker != player for c in out), (seed, player, out)


def test_exactly_n_distinct_non_empty_candidates(sampler):
    got = []
    out = sampler.candidates(LINES[:6], "Alice", 4, HOT, on_candidate=got.append, seed=1)
    assert len(out) == 4
    assert all(c.text.strip() for c in out)
    assert len({c.text.strip() for c in out}) == 4
    assert got == out  # streamed, in the order returned
    assert all(isinstance(c, Turn) and c.speaker in SPEAKERS for c in out)


def test_force_speaker_and_impersonate(sampler):
    out = sampler.candidates(LINES[:3], "Alice", 3, HOT, force_speaker="Carol: the third", seed=2)
    assert out and {c.speaker for c in out} == {"Carol: the third"}
    mine = sampler.impersonate(LINES[:3], "alice", HOT, n=2, seed=3)  # names match ignoring case
    assert mine and {c.speaker for c in mine} == {"Alice"}


def test_swipe_excludes_what_was_offered(sampler):
    first = sampler.candidates(LINES[:6], "Alice", 3, HOT, seed=4)
    again = sampler.candidates(LINES[:6], "Alice", 3, HOT, exclude=[c.text for c in first], seed=4)
    assert not {c.text.strip() for c in first} & {c.text.strip() for c in again}


def test_empty_history_lets_the_model_open(sampler):
    out = sampler.candidates([], "Bob Smith", 3, HOT, seed=5)
    assert out and all(c.speaker != "Bob Smith" for c in out)
    ids, dropped = sampler.prompt_ids([], 100)
    assert ids == [sampler.session_id] and dropped == 0


def test_history_longer_than_the_context_is_trimmed_from_the_oldest_turn(sampler):
    history = [Turn(s, f"{t} number {i}") for i, (s, t) in enumerate(PAIRS * 20)]
    budget, _ = sampler._budget(HOT.max_new_tokens + 1)
    ids, dropped = sampler.prompt_ids(history, budget)
    assert dropped > 0 and len(ids) <= budget
    kept = history[dropped:]
    expected = [i for t in kept for i in encode_turns(sampler.spec, sampler.tokenizer, [(t.speaker, t.text)],
                                                       opened=False, closed=False)]
    assert ids == expected  # whole turns, newest kept, no <|session|> since the start was cut
    assert ids[0] in sampler.speaker_ids and ids[-1] == sampler.eot_id
    out = sampler.candidates(history, "Alice", 2, HOT, seed=6)
    assert out and all(c.speaker != "Alice" for c in out)


def test_a_long_chat_keeps_its_window_start_so_the_prompt_cache_still_helps(sampler, monkeypatch):
    history = [Turn(s, f"{t} number {i}") for i, (s, t) in enumerate(PAIRS * 20)]
    budget, _ = sampler._budget(HOT.max_new_tokens + 1)
    ids, start = sampler.prompt_ids(history, budget, sticky=True)
    assert len(ids) <= budget - min(budget // 4, 128) and ids == sampler.prompt_ids(history[start:], budget)[0][1:]
    grown = history + [Turn("Alice", "one more"), Turn("Bob Smith", "and another")]
    ids2, start2 = sampler.prompt_ids(grown, budget, sticky=True)
    assert start2 == start and ids2[:len(ids)] == ids  # same start: the old prompt is a prefix of the new
    calls = []
    real = sampler.model.forward
    monkeypatch.setattr(sampler.model, "forward", lambda *a, **k: calls.append(k["input_ids"].shape) or real(*a, **k))
    sampler.candidates(history, "Alice", 2, HOT, seed=13)
    calls.clear()
    sampler.candidates(grown, "Alice", 2, HOT, seed=14)
    assert calls[0] == (1, len(ids2) - len(ids))  # only the two new turns go through the model
    much_longer = grown + history[:40]
    ids3, start3 = sampler.prompt_ids(much_longer, budget, sticky=True)
    assert start3 > start and len(ids3) <= budget  # no longer fits: a new, later start


def test_a_single_turn_longer_than_the_context_keeps_its_end(sampler):
    huge = [Turn("Alice", "word " * 2000 + "the end")]
    ids, dropped = sampler.prompt_ids(huge, 50)
    assert dropped == 1 and len(ids) == 50
    assert ids[0] == sampler.speaker_ids[0] and ids[-1] == sampler.eot_id
    assert sampler.tokenizer.decode(ids[1:-1]).endswith("the end")
    assert sampler.candidates(huge, "Alice", 2, HOT, seed=7)


def test_history_is_encoded_once_and_candidates_are_one_batch(sampler, monkeypatch):
    calls = []
    real = sampler.model.forward

    def spy(*args, **kwargs):
        ids = kwargs.get("input_ids")
        calls.append(tuple(ids.shape) if ids is not None else None)
        return real(*args, **kwargs)

    monkeypatch.setattr(sampler.model, "forward", spy)
    sampler.forget_prefix()
    history = LINES[:5]
    prompt_len = len(sampler.prompt_ids(history, 10_000)[0])
    out = sampler.candidates(history, "Alice", 3, dataclasses.replace(HOT, temperature=0.8), seed=8)
    assert len(out) == 3
    assert calls[0] == (1, prompt_len - 1)  # the history, once, at batch 1
    assert calls[1] == (3, 1)  # then every row continues from the shared cache
    assert all(c[1] == 1 for c in calls[1:])
    # a swipe (same history) runs no history tokens at all; the next turn only runs what is new
    calls.clear()
    sampler.candidates(history, "Alice", 2, HOT, seed=9)
    assert calls[0] == (2, 1)
    calls.clear()
    longer = history + [Turn("Alice", "and one more thing")]
    sampler.candidates(longer, "Alice", 2, HOT, seed=10)
    assert calls[0] == (1, len(sampler.prompt_ids(longer, 10_000)[0]) - prompt_len)
    assert calls[1] == (2, 1)


def test_markup_and_control_characters_are_plain_text(sampler, monkeypatch):
    # in the history: encoded as characters (the literal "<|eot|>" never becomes the control token)
    ids, _ = sampler.prompt_ids([Turn("Alice", NASTY)], 10_000)
    assert ids.count(sampler.eot_id) == 1 and ids[-1] == sampler.eot_id
    assert sampler.tokenizer.decode(ids[2:-1]) == NASTY
    # from the model: decoded back unchanged
    body = encode_turns(sampler.spec, sampler.tokenizer, [("Bob Smith", NASTY)], opened=False, closed=False)
    fake_decode(monkeypatch, sampler, [[body]])
    (cand,) = sampler.candidates([Turn("Alice", NASTY)], "Alice", 1, HOT)
    assert cand == Turn("Bob Smith", NASTY)


def test_whitespace_around_a_candidate_is_dropped(sampler, monkeypatch):
    body = encode_turns(sampler.spec, sampler.tokenizer, [("Carol: the third", "  hi  there \n")], opened=False,
                        closed=False)
    fake_decode(monkeypatch, sampler, [[body]])
    assert sampler.candidates(LINES[:2], "Alice", 1, HOT) == [Turn("Carol: the third", "hi  there")]


def test_half_a_multibyte_character_is_not_shown_as_a_replacement_mark(sampler, monkeypatch):
    ok = sampler.tokenizer("ok", add_special_tokens=False).input_ids
    emoji = sampler.tokenizer("😂", add_special_tokens=False).input_ids
    # the byte-level model can stop mid-emoji: one of its byte tokens alone decodes to U+FFFD
    half = next(i for i in emoji if "\ufffd" in sampler.tokenizer.decode([i]))
    row = [sampler.speaker_ids[1], *ok, half, sampler.eot_id]
    fake_decode(monkeypatch, sampler, [[row]])
    (cand,) = sampler.candidates(LINES[:2], "Alice", 1, HOT)
    assert cand.text == "ok"


def fake_decode(monkeypatch, sampler, rows_per_call):
    """Replace the sampling loop: each call's rows write the next of ``rows_per_call`` (repeated as needed)."""
    calls = []

    def decode(input_ids, cache, processors, settings, stop, max_new, turns, on_row, enough):
        calls.append(input_ids.shape[0])
        rows = rows_per_call[min(len(calls) - 1, len(rows_per_call) - 1)]
        gen = [list(r) for r in (rows * input_ids.shape[0])[: input_ids.shape[0]]]
        for i, ids in enumerate(gen):
            if on_row is not None:
                on_row(i, ids)
        return gen

    monkeypatch.setattr(sampler, "_decode", decode)
    return calls


def test_a_model_that_only_speaks_as_the_player_fails_clearly(sampler, monkeypatch):
    text = sampler.tokenizer("me again", add_special_tokens=False).input_ids
    calls = fake_decode(monkeypatch, sampler, [[[sampler.speaker_ids[0], *text, sampler.eot_id]]])
    with pytest.raises(SampleError, match="wrong voice"):
        sampler.candidates(LINES[:3], "Alice", 3, HOT)
    assert len(calls) == 1 + EXTRA_ROUNDS  # bounded, no endless loop


def test_a_model_that_only_says_nothing_fails_clearly(sampler, monkeypatch):
    space = sampler.tokenizer("  ", add_special_tokens=False).input_ids
    calls = fake_decode(monkeypatch, sampler, [[[sampler.speaker_ids[1], sampler.eot_id]],
                                                 [[sampler.speaker_ids[1], *space, sampler.eot_id]]])
    with pytest.raises(SampleError, match="no usable turn"):
        sampler.candidates(LINES[:3], "Alice", 2, HOT)
    assert len(calls) == 1 + EXTRA_ROUNDS


def test_duplicates_are_refilled_then_what_there_is_is_returned(sampler, monkeypatch):
    a = sampler.tokenizer("same thing", add_special_tokens=False).input_ids
    b = sampler.tokenizer("other thing", add_special_tokens=False).input_ids
    row_a = [sampler.speaker_ids[1], *a, sampler.eot_id]
    row_b = [sampler.speaker_ids[2], *b, sampler.eot_id]
    calls = fake_decode(monkeypatch, sampler, [[row_a], [row_a, row_b], [row_a]])
    out = sampler.candidates(LINES[:3], "Alice", 3, HOT)
    assert [c.text for c in out] == ["same thing", "other thing"]
    assert len(calls) == 1 + EXTRA_ROUNDS


def test_candidates_differing_only_in_case_spacing_or_punctuation_are_duplicates(sampler, monkeypatch):
    def row(speaker: int, text: str) -> list[int]:
        return [sampler.speaker_ids[speaker], *sampler.tokenizer(text, add_special_tokens=False).input_ids,
                sampler.eot_id]

    first = [row(1, "lol ok"), row(2, "LOL, ok!!"), row(1, " lol  ok ...")]
    calls = fake_decode(monkeypatch, sampler, [first, [row(2, "lol ok?"), row(1, "see you")]])
    out = sampler.candidates(LINES[:3], "Alice", 3, HOT)
    assert [c.text for c in out] == ["lol ok", "lol ok?", "see you"]
    assert calls == [3, 4]  # the two look-alikes were refilled
    # a swipe treats what was already offered the same way
    fake_decode(monkeypatch, sampler, [[row(1, "Lol OK"), row(2, "new one")]])
    again = sampler.candidates(LINES[:3], "Alice", 1, HOT, exclude=["lol ok"])
    assert [c.text for c in again] == ["new one"]


def test_same_reply_key():
    from friendsim_tui.engine.sampler import same_reply_key

    assert same_reply_key("LOL!") == same_reply_key(" lol ") == same_reply_key("lol...") == "lol"
    assert same_reply_key("coming?") != same_reply_key("coming")
    assert same_reply_key("?") != same_reply_key("!!")
    assert same_reply_key("😂😂") != same_reply_key("😂")
    assert same_reply_key("café au lait") == same_reply_key("Café, au lait")


def test_unknown_speakers_are_refused_with_the_known_names(sampler):
    with pytest.raises(SampleError, match="'Zed' is not a speaker.*Alice, Bob Smith"):
        sampler.candidates([Turn("Zed", "hi")], "Alice", 1, HOT)
    with pytest.raises(SampleError, match="'Nobody' is not a speaker"):
        sampler.candidates(LINES[:2], "Nobody", 1, HOT)
    with pytest.raises(SampleError, match="'Zed' is not a speaker"):
        sampler.candidates(LINES[:2], "Alice", 1, HOT, force_speaker="Zed")


def test_conversations(sampler):
    convos = sampler.conversation([Turn("Alice", "anyone want pizza")], turns=4, n=3, settings=HOT, seed=9)
    assert len(convos) == 3
    for c in convos:
        assert c[0] == Turn("Alice", "anyone want pizza")
        assert 1 <= len(c) - 1 <= 4
        assert all(t.speaker in SPEAKERS for t in c)
    seen = []
    opened = sampler.conversation([], turns=3, n=2, settings=HOT, opening=NASTY, on_conversation=seen.append,
                                  seed=10)
    assert len(opened) == 2 and sorted(map(str, seen)) == sorted(map(str, opened))
    assert all(c[0].text == NASTY and c[0].speaker in SPEAKERS and len(c) <= 3 for c in opened)
    assert all(len(c) <= 2 for c in sampler.conversation([], turns=2, n=2, settings=HOT, seed=11))
    seen.clear()
    only = sampler.conversation([], turns=1, n=2, settings=HOT, opening="hi", on_conversation=seen.append, seed=12)
    assert [[t.text for t in c] for c in only] == [["hi"], ["hi"]] and len(seen) == 2


def test_cancel_stops_sampling(sampler):
    def stop(_):
        sampler.cancel()

    with pytest.raises(SampleCancelled):
        sampler.candidates(LINES[:3], "Alice", 3, HOT, on_candidate=stop, seed=12)
    assert sampler.candidates(LINES[:3], "Alice", 1, HOT, seed=12)  # the next call is not affected


def test_missing_folder_missing_spec_and_pickle_only_are_refused(tmp_path, tiny_model_dir):
    with pytest.raises(SampleError, match="model folder not found"):
        Sampler(tmp_path / "nope")
    no_spec = tmp_path / "no-spec"
    shutil.copytree(tiny_model_dir, no_spec)
    (no_spec / "friendsim.json").unlink()
    with pytest.raises(SampleError, match="no friendsim.json"):
        Sampler(no_spec)
    pickled = tmp_path / "pickled"
    shutil.copytree(tiny_model_dir, pickled)
    for f in pickled.glob("*.safetensors"):
        f.unlink()
    (pickled / "pytorch_model.bin").write_bytes(b"not even loaded")
    with pytest.raises(SampleError, match="pickle"):
        Sampler(pickled)


def test_asking_for_bf16_gets_what_this_cpu_does_well(tiny_model_dir):
    """No faking: on a CPU with AMX/AVX512-BF16 the weights are bf16, on any other CPU (bf16 would be emulated,
    ~80x slower than fp32) the request falls back to fp32. Either way candidates come out."""
    from friendsim_tui.engine import devices

    sampler = Sampler(tiny_model_dir, precision="bf16", device="cpu")
    expected = torch.bfloat16 if devices.cpu_has_fast_bf16() else torch.float32
    assert sampler.model.dtype == expected
    out = sampler.candidates(LINES[:6], "Alice", 3, HOT, seed=3)
    assert len(out) == 3 and all(c.speaker != "Alice" and c.text for c in out)


def test_without_fast_bf16_the_cpu_samples_in_fp32_with_the_fused_attention(tiny_model_dir, monkeypatch):
    from friendsim_tui.engine import devices

    monkeypatch.setattr(devices, "cpu_has_fast_bf16", lambda: False)
    for asked in ("auto", "bf16"):
        sampler = Sampler(tiny_model_dir, precision=asked, device="cpu")
        assert sampler.model.dtype == torch.float32, asked
        assert sampler.model.config._attn_implementation == "sdpa", asked


def test_with_fast_bf16_the_cpu_decodes_bf16_with_plain_attention_and_the_same_predictions(tiny_model_dir,
                                                                                            monkeypatch):
    from friendsim_tui.engine import devices

    monkeypatch.setattr(devices, "cpu_has_fast_bf16", lambda: True)  # bf16 still runs (emulated) where it is not
    bf16 = Sampler(tiny_model_dir, precision="auto", device="cpu")
    assert bf16.model.dtype == torch.bfloat16
    assert bf16.model.config._attn_implementation == "eager"  # torch's fused kernel is slow here
    ids = torch.tensor([bf16.prompt_ids(LINES[:6], 10_000)[0]])
    with torch.inference_mode():
        eager = bf16.model(input_ids=ids).logits[0, -1].float()
        bf16.model.set_attn_implementation("sdpa")
        fused = bf16.model(input_ids=ids).logits[0, -1].float()
    assert torch.allclose(eager, fused, atol=0.1), (eager - fused).abs().max()
    bf16.model.set_attn_implementation("eager")
    out = bf16.candidates(LINES[:6], "Alice", 3, HOT, seed=3)
    assert len(out) == 3 and all(c.speaker != "Alice" and c.text for c in out)


def test_top_k_and_top_p_limit_what_can_be_drawn():
    from friendsim_tui.engine.sampler import _sample_next

    torch.manual_seed(0)
    scores = torch.tensor([[5.0, 4.0, 3.0, 2.0, 1.0, 0.0]]).repeat(400, 1)
    settings = dataclasses.replace(HOT, temperature=1.0, top_k=3, top_p=1.0)
    assert set(_sample_next(scores, settings).flatten().tolist()) == {0, 1, 2}
    # top-p 0.8 over softmax(5,4,3,...) = .64 .23 .09...: the best two reach it, the third never comes
    settings = dataclasses.replace(HOT, temperature=1.0, top_k=0, top_p=0.8)
    assert set(_sample_next(scores, settings).flatten().tolist()) == {0, 1}
    # a token masked out by the turn grammar is never drawn, whatever top-k leaves
    masked = scores.clone()
    masked[:, 1:] = torch.finfo(torch.float32).min
    assert set(_sample_next(masked, dataclasses.replace(HOT, top_k=3)).flatten().tolist()) == {0}
