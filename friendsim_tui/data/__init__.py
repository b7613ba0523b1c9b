"""Data shipped with the package: the bundled sample chat and the script that makes it."""
