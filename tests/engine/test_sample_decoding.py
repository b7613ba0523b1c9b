"""The sampler's decoding loop: its KV cache keeps room for new tokens instead of copying itself every step."""

from __future__ import annotations

import copy

import pytest

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")

from friendsim_tui.config import ChatConfig  # noqa: E402
from friendsim_tui.engine.sample import Sampler  # noqa: E402
from friendsim_tui.engine.text import ChatSpec  # noqa: E402
from friendsim_tui.turns import Turn  # noqa: E402

pytestmark = pytest.mark.skipif(int(transformers.__version__.split(".")[0]) < 5,
                                reason="the cache layers are transformers 5's")
SPEAKERS = ["Ana", "Ben", "Cy"]
LONG = ChatConfig(temperature=1.0, candidates=3, max_new_tokens=40, quantize="off")


@pytest.fixture(scope="module")
def sampler(tmp_path_factory):
    """A random-weight scratch model: it never ends a turn, so every row writes all its tokens."""
    from friendsim_tui.engine import bases

    spec = ChatSpec(speakers=SPEAKERS, workspace="w")
    model, tok = bases.load(bases.resolve("scratch:tiny,n_layer=2,n_embd=64,vocab=300"), spec.special_tokens(),
                            texts=["hello there how are you", "fine thanks and you"] * 20, block_size=256, seed=0)
    folder = tmp_path_factory.mktemp("decoding") / "model"
    model.save_pretrained(folder, safe_serialization=True)
    tok.save_pretrained(folder)
    spec.save(folder)
    return Sampler(folder, precision="fp32", device="cpu")


def test_decoding_writes_each_token_into_the_cache_instead_of_copying_the_cache(sampler, monkeypatch):
    """transformers' own cache concatenates, so its tensors are new at every step; ours stay in one buffer
    until rows leave the batch or 128 tokens of room are used up."""
    places, real = [], sampler._forward

    def forward(input_ids, cache, **kwargs):
        logits, cache = real(input_ids, cache, **kwargs)
        places.append(cache.layers[0].keys.untyped_storage().data_ptr())
        return logits, cache

    monkeypatch.setattr(sampler, "_forward", forward)
    sampler.forget_prefix()
    out = sampler.candidates([Turn("Ana", "hello there"), Turn("Ben", "fine thanks")], "Ana", 3, LONG, seed=1)
    assert len(out) == 3
    steps = places[1:]  # after the prompt
    assert len(steps) >= LONG.max_new_tokens - 1
    assert len(set(steps)) <= 3, len(set(steps))  # the copy per row set, not one per token


def test_the_roomy_cache_gives_the_same_logits_as_transformers_own(sampler):
    """Prompt at batch 1, copied to 3 rows, rows leaving, more than the room, and a crop: same numbers."""
    from transformers.cache_utils import DynamicCache

    model, gen = sampler.model, torch.Generator().manual_seed(0)
    ours, theirs = sampler._new_cache(), DynamicCache(config=model.config)
    assert type(ours.layers[0]) is not type(theirs.layers[0])

    def step(ids, cache):
        return model(input_ids=ids, cache=cache, use_cache=True).logits

    with torch.inference_mode():
        prompt = torch.randint(200, (1, 20), generator=gen)
        assert torch.equal(step(prompt, ours), step(prompt, theirs))
        ours, theirs = copy.deepcopy(ours), copy.deepcopy(theirs)
        ours.batch_repeat_interleave(3)
        theirs.batch_repeat_interleave(3)
        rows = 3
        for i in range(150):
            if i == 5:
                ours.batch_select_indices(torch.tensor([0, 2]))
                theirs.batch_select_indices(torch.tensor([0, 2]))
                rows = 2
            if i == 140:
                ours.crop(-3)
                theirs.crop(-3)
            ids = torch.randint(200, (rows, 1), generator=gen)
            assert torch.allclose(step(ids, ours), step(ids, theirs), atol=1e-5), i
        assert ours.get_seq_length() == theirs.get_seq_length() == 20 + 150 - 3
