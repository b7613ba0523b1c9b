"""Int8 sampling on CPUs without fast bf16: same choices as fp32, and only where it belongs.

The model here is trained briefly on the bundled sample chat (2 layers, 128 wide: big enough that int8
rounding shows, small enough for seconds of training), and judged on messages it never saw.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")

from friendsim_tui.config import ChatConfig, ConfigError, parse_config  # noqa: E402
from friendsim_tui.engine import devices, quantize  # noqa: E402
from friendsim_tui.engine.sampler import Sampler  # noqa: E402
from friendsim_tui.engine.text import ChatSpec, encode_turns  # noqa: E402
from friendsim_tui.turns import Turn  # noqa: E402

pytestmark = pytest.mark.skipif(not quantize.supported(), reason="no x86 int8 kernels in this torch")

SAMPLE = Path(__file__).resolve().parents[2] / "friendsim_tui" / "data" / "sample" / "weekend-crew.json"
BLOCK = 128
TOP_K = 5
SETTINGS = ChatConfig(temperature=0.8, candidates=3, max_new_tokens=16)


def sample_turns() -> list[Turn]:
    messages = json.loads(SAMPLE.read_text(encoding="utf-8"))["messages"]
    return [Turn(m["author"]["name"], m["content"]) for m in messages if m["content"].strip()]


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """(model folder, held-out token ids): 800 messages to train on for 60 steps, the next 150 held out."""
    from friendsim_tui.engine import bases

    turns = sample_turns()
    train, held_out = turns[:800], turns[800:950]
    speakers = sorted({t.speaker for t in turns[:950]})
    spec = ChatSpec(speakers=speakers, workspace="crew")
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        model, tok = bases.load(bases.resolve("scratch:tiny,n_layer=2,n_embd=128,vocab=1000"),
                                spec.special_tokens(), texts=[t.text for t in train], block_size=BLOCK, seed=0)
        pairs = [(t.speaker, t.text) for t in train]
        ids = encode_turns(spec, tok, pairs)
        blocks = torch.tensor([ids[i:i + BLOCK] for i in range(0, len(ids) - BLOCK, BLOCK // 2)])
        gen = torch.Generator().manual_seed(0)
        opt = torch.optim.AdamW(model.parameters(), lr=3e-3)
        model.train()
        for _ in range(60):
            batch = blocks[torch.randint(len(blocks), (16,), generator=gen)]
            model(input_ids=batch, labels=batch).loss.backward()
            opt.step()
            opt.zero_grad()
        model.eval()
        folder = tmp_path_factory.mktemp("int8") / "model"
        model.save_pretrained(folder, safe_serialization=True)
        tok.save_pretrained(folder)
        spec.save(folder)
        held = encode_turns(spec, tok, [(t.speaker, t.text) for t in held_out])
    finally:
        torch.set_num_threads(before)
    return folder, torch.tensor([held[i:i + BLOCK] for i in range(0, len(held) - BLOCK, BLOCK)])


@pytest.fixture
def no_fast_bf16(monkeypatch):
    """This CPU as one without AMX/AVX512-BF16, whatever it really has: where int8 sampling applies."""
    monkeypatch.setattr(devices, "cpu_has_fast_bf16", lambda: False)


@pytest.fixture
def sampler(trained, no_fast_bf16):
    return Sampler(trained[0], device="cpu")


def spy_forward(monkeypatch, model) -> list:
    calls = []
    real = model.forward
    monkeypatch.setattr(model, "forward", lambda *a, **k: calls.append(1) or real(*a, **k))
    return calls


def test_int8_picks_the_same_next_tokens_and_scores_held_out_text_within_1_percent(sampler, trained):
    """Criterion: at every held-out position the fp32 model's best token is among int8's top 5, and at 95% or
    more of the positions the two top-5 sets are the same set; the held-out loss moves by under 1%."""
    _, held = trained
    fp32 = sampler.model
    int8 = quantize.int8_copy(fp32)
    with torch.inference_mode():
        a = fp32(input_ids=held, labels=held)
        b = int8(input_ids=held, labels=held)
    top_a = a.logits.topk(TOP_K, dim=-1).indices.flatten(0, 1)
    top_b = b.logits.topk(TOP_K, dim=-1).indices.flatten(0, 1)
    same_set = (top_a.sort(-1).values == top_b.sort(-1).values).all(-1).float().mean().item()
    best_kept = (top_b == top_a[:, :1]).any(-1).float().mean().item()
    assert best_kept == 1.0, best_kept
    assert same_set >= 0.95, same_set
    assert abs(b.loss.item() - a.loss.item()) / a.loss.item() < 0.01, (a.loss.item(), b.loss.item())
    assert a.loss.item() < 6.0  # the model learned something (uniform over 1000 tokens is 6.9)
    print(f"top-{TOP_K} sets equal at {same_set:.1%} of {len(top_a)} positions; loss {a.loss.item():.4f} fp32, "
          f"{b.loss.item():.4f} int8")


def test_without_fast_bf16_candidates_come_from_int8_weights_and_keep_the_turn_grammar(sampler, monkeypatch):
    assert sampler.quantizable and "int8" in sampler.weights
    assert not quantize.is_int8(sampler.model)  # the loaded model stays as it was (training never sees int8)
    int8 = sampler._net_for(SETTINGS)
    assert quantize.is_int8(int8)
    fp32_calls, int8_calls = spy_forward(monkeypatch, sampler.model), spy_forward(monkeypatch, int8)
    history = sample_turns()[950:970]
    for seed in range(3):
        out = sampler.candidates(history, "Maya", 3, SETTINGS, seed=seed)
        assert len(out) == 3 and all(c.speaker != "Maya" and c.speaker in sampler.speakers and c.text for c in out)
    convo = sampler.conversation(history[-4:], turns=3, n=2, settings=SETTINGS, seed=4)
    assert all(t.speaker in sampler.speakers for c in convo for t in c)
    assert int8_calls and not fp32_calls


def test_the_input_embedding_stays_fp32_and_shared_only_the_output_side_is_int8(trained, no_fast_bf16):
    model = Sampler(trained[0], device="cpu").model
    int8 = quantize.int8_copy(model)
    assert int8.get_input_embeddings().weight is model.get_input_embeddings().weight
    assert isinstance(int8.get_output_embeddings(), quantize.Int8Linear)
    from transformers.pytorch_utils import Conv1D

    assert not any(isinstance(m, (Conv1D, torch.nn.Linear)) for m in int8.modules())
    assert any(isinstance(m, Conv1D) for m in model.modules())


def test_a_llama_style_model_is_quantized_too():
    from transformers import LlamaConfig, LlamaForCausalLM

    torch.manual_seed(0)
    cfg = LlamaConfig(vocab_size=300, hidden_size=128, intermediate_size=256, num_hidden_layers=2,
                      num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=64)
    model = LlamaForCausalLM(cfg).eval()
    int8 = quantize.int8_copy(model)
    assert sum(isinstance(m, quantize.Int8Linear) for m in int8.modules()) == 2 * 7 + 1  # q k v o gate up down, head
    ids = torch.randint(300, (2, 32), generator=torch.Generator().manual_seed(1))
    with torch.inference_mode():
        a, b = model(input_ids=ids).logits, int8(input_ids=ids).logits
    assert (a - b).norm() / a.norm() < 0.05  # random weights: near-ties everywhere, so no argmax check here


def test_with_fast_bf16_nothing_is_quantized(trained, monkeypatch):
    monkeypatch.setattr(devices, "cpu_has_fast_bf16", lambda: True)  # bf16 is the lever there
    sampler = Sampler(trained[0], device="cpu")
    assert sampler.model.dtype == torch.bfloat16 and not sampler.quantizable and "int8" not in sampler.weights
    calls = spy_forward(monkeypatch, sampler.model)
    out = sampler.candidates(sample_turns()[950:960], "Maya", 2, SETTINGS, seed=1)
    assert len(out) == 2 and calls
    assert sampler._int8 is None


def test_asking_for_fp32_gets_fp32(trained, no_fast_bf16):
    sampler = Sampler(trained[0], precision="fp32", device="cpu")
    assert not sampler.quantizable and sampler._int8 is None and sampler.weights == "float32 weights"


def test_quantize_off_samples_with_the_models_own_weights(sampler, trained, monkeypatch):
    off = dataclasses.replace(SETTINGS, quantize="off")
    history = sample_turns()[950:960]
    calls = spy_forward(monkeypatch, sampler.model)
    assert sampler.candidates(history, "Maya", 2, off, seed=1)
    assert calls  # every forward pass of that call ran the fp32 model
    lazy = Sampler(trained[0], device="cpu", quantize="off")
    assert lazy._int8 is None  # nothing prepared at load for a user who turned it off
    lazy.candidates(history, "Maya", 2, off, seed=1)
    assert lazy._int8 is None


def test_the_quantize_setting_is_checked():
    assert parse_config('[chat]\nquantize = "off"\n').chat.quantize == "off"
    assert ChatConfig().quantize == "auto"
    with pytest.raises(ConfigError, match=r"\[chat\] quantize = 'int4': must be one of auto, off"):
        parse_config('[chat]\nquantize = "int4"\n', "cfg.toml")
