"""The bundled sample chat: a year of a fictional group DM among four friends, as a DCE JSON export.

The offline demo imports it into the ``weekend-crew`` workspace, and the tests use it. It is written by
``python tests/sample_chat/make_sample.py`` (deterministic), from an original hand-written repertoire that
stays with the tests, not in the package.
"""

from __future__ import annotations

import shutil
import tempfile
from importlib import resources
from pathlib import Path

SAMPLE_WORKSPACE = "weekend-crew"
SAMPLE_FILE = "weekend-crew.json"
SAMPLE_FRIENDS = ("Maya", "Jonas", "pixel_dan", "Priya")


def sample_path() -> Path:
    """A real file path of the bundled sample, also from an installed wheel or a zipped package."""
    res = resources.files("friendsim_tui.data").joinpath("sample", SAMPLE_FILE)
    if isinstance(res, Path):
        return res
    # Not on the file system (e.g. a zip import): copy it out once to a private temp folder.
    target = Path(tempfile.gettempdir()) / "friendsim-tui-sample" / SAMPLE_FILE
    if not target.is_file():
        target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        with res.open("rb") as src, open(target, "wb") as dst:
            shutil.copyfileobj(src, dst)
    return target
