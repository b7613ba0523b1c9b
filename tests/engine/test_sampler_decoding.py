"""The sampler's decoding loop: its KV cache keeps room for new tokens instead of copying itself every step."""

from __future__ import annotations

import copy

import pytest

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")

from friendsim_tui.config import ChatConfig  # noqa: E402
from friendsim_tui.engine.sampler import Sampler  # noqa: E402
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
    cache = sampler._new_cache()
    assert type(cache.layers[0]).__name__ == "RoomyLayer"
    same_logits_through_a_decoding(sampler.model, sampler.model, cache, 200)


def shared_prefix_net(model):
    from friendsim_tui.engine.sampler import SHARED_PREFIX, _register_shared_prefix

    assert _register_shared_prefix()
    net = copy.deepcopy(model)
    net.set_attn_implementation(SHARED_PREFIX)
    return net


def same_logits_through_a_decoding(model, net, cache, vocab: int) -> None:
    """Prompt at batch 1, copied to 3 rows, rows leaving, more tokens than the room, a crop: ``net`` with
    ``cache`` gives the logits ``model`` gives with transformers' own cache and attention."""
    from transformers.cache_utils import DynamicCache

    from friendsim_tui.engine.sampler import SHARED_PREFIX

    shared = net.config._attn_implementation == SHARED_PREFIX
    extra = {"prefix_cache": cache} if shared else {}
    gen = torch.Generator().manual_seed(0)
    theirs = DynamicCache(config=model.config)
    with torch.inference_mode():
        prompt = torch.randint(vocab, (1, 20), generator=gen)
        assert torch.allclose(net(input_ids=prompt, cache=cache, **extra).logits,
                              model(input_ids=prompt, cache=theirs).logits, atol=1e-5)
        cache.batch_repeat_interleave(3)
        theirs.batch_repeat_interleave(3)
        if shared:  # one copy of the prompt for all rows
            assert cache.layers[0].prefix is not None and cache.layers[0].keys.shape[-2] == 0
        rows = 3
        for i in range(150):
            if i == 5:
                cache.batch_select_indices(torch.tensor([0, 2]))
                theirs.batch_select_indices(torch.tensor([0, 2]))
                rows = 2
            if i == 140:
                cache.crop(-3)
                theirs.crop(-3)
            ids = torch.randint(vocab, (rows, 1), generator=gen)
            ours_out = net(input_ids=ids, cache=cache, use_cache=True, **extra).logits
            assert torch.allclose(ours_out, model(input_ids=ids, cache=theirs, use_cache=True).logits, atol=1e-5), i
        assert cache.get_seq_length() == theirs.get_seq_length() == 20 + 150 - 3


def test_rows_sharing_the_prompt_give_the_same_logits_as_each_row_holding_a_copy(sampler):
    from transformers.cache_utils import DynamicCache

    from friendsim_tui.engine.sampler import _roomy_layer

    model = sampler.model
    cache = DynamicCache(config=model.config)
    cache.layers = [_roomy_layer()[1]() for _ in cache.layers]
    same_logits_through_a_decoding(model, shared_prefix_net(model), cache, 200)


def test_shared_prompt_attention_with_grouped_query_heads():
    from transformers import LlamaConfig, LlamaForCausalLM
    from transformers.cache_utils import DynamicCache

    from friendsim_tui.engine.sampler import _roomy_layer

    torch.manual_seed(0)
    model = LlamaForCausalLM(LlamaConfig(vocab_size=300, hidden_size=64, intermediate_size=128, num_hidden_layers=2,
                                         num_attention_heads=4, num_key_value_heads=2)).eval()
    cache = DynamicCache(config=model.config)
    cache.layers = [_roomy_layer()[1]() for _ in cache.layers]
    same_logits_through_a_decoding(model, shared_prefix_net(model), cache, 300)


def test_int8_sampling_keeps_one_copy_of_the_prompt_for_all_rows(sampler, monkeypatch):
    from friendsim_tui.engine import devices

    monkeypatch.setattr(devices, "cpu_has_fast_bf16", lambda: False)
    int8 = Sampler(sampler.folder, device="cpu")
    if not int8.quantizable:
        pytest.skip("no int8 sampling in this torch")
    seen, real = [], int8._forward

    def forward(input_ids, cache, **kwargs):
        logits, cache = real(input_ids, cache, **kwargs)
        layer, prefix = cache.layers[0], getattr(cache.layers[0], "prefix", None)
        seen.append((input_ids.shape[0], prefix is not None and prefix[0].shape[0], layer.keys.shape[0]))
        return logits, cache

    monkeypatch.setattr(int8, "_forward", forward)
    out = int8.candidates([Turn("Ana", "hello there"), Turn("Ben", "fine thanks")], "Ana", 3,
                          ChatConfig(temperature=1.0, candidates=3, max_new_tokens=10), seed=2)
    assert len(out) == 3
    rows_steps = [s for s in seen if s[0] > 1]
    assert rows_steps and all(prefix_rows == 1 and own_rows == rows for rows, prefix_rows, own_rows in rows_steps)
