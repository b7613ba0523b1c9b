"""The workspace database: one SQLite file per workspace."""

from friendsim_tui.store.db import SCHEMA_VERSION, Speaker, Store, StoreError

__all__ = ["SCHEMA_VERSION", "Speaker", "Store", "StoreError"]
