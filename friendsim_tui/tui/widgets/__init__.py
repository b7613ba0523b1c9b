"""Reusable widgets (the only place with DEFAULT_CSS; screens are styled in app.tcss)."""
