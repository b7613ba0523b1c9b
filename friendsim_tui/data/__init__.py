"""Data shipped with the package: the bundled sample chat (its generator lives in tests/sample_chat/)."""
