"""Model code: torch and transformers are imported here and only here, lazily inside functions."""
