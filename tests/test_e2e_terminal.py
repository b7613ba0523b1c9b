"""The whole journey in a real terminal: the app runs in a pseudo-terminal, keys are typed, and the screen is
read back through a terminal emulator (pyte), as a person would see it.

import the bundled sample → train scratch:tiny for a few steps from the Train screen → chat → pick a candidate.
"""

from __future__ import annotations

import os
import re
import shutil
import sys
import threading
import time

import pytest

pyte = pytest.importorskip("pyte")
ptyprocess = pytest.importorskip("ptyprocess")

from friendsim_tui.demo_chat import sample_path  # noqa: E402

ROWS, COLS = 34, 110
PATIENCE = 5
"""Each wait below is sized for a quiet machine; on a loaded 2-core one everything can take several times longer.
A wait only runs out when the test fails anyway, so every timeout is multiplied by this."""


class Terminal:
    def __init__(self, argv: list[str], cwd, env: dict) -> None:
        self.screen = pyte.Screen(COLS, ROWS)
        self.stream = pyte.ByteStream(self.screen)
        self.lock = threading.Lock()
        self.proc = ptyprocess.PtyProcess.spawn(argv, cwd=str(cwd), env=env, dimensions=(ROWS, COLS))
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        while True:
            try:
                data = self.proc.read(65536)
            except EOFError:
                return
            with self.lock:
                self.stream.feed(data)

    def text(self) -> str:
        with self.lock:
            return "\n".join(self.screen.display)

    def wait_for(self, pattern: str, timeout: float = 30.0) -> re.Match:
        deadline = time.monotonic() + timeout * PATIENCE
        while time.monotonic() < deadline:
            m = re.search(pattern, self.text())
            if m:
                return m
            if not self.proc.isalive():
                break
            time.sleep(0.1)
        raise AssertionError(f"{pattern!r} never appeared on screen; the screen shows:\n{self.text()}")

    def send(self, *keys: str) -> None:
        for key in keys:
            self.proc.write(key.encode())
            time.sleep(0.15)

    def close(self) -> None:
        if self.proc.isalive():
            self.proc.terminate(force=True)


@pytest.fixture
def terminal(tmp_path):
    exports = tmp_path / "exports"
    exports.mkdir()
    shutil.copy(sample_path(), exports / "weekend-crew.json")
    config = tmp_path / "config.toml"
    config.write_text("[train]\nmax_steps = 4\nsave_steps = 4\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TEXTUAL", "PYTEST"))}
    env.update(TERM="xterm-256color", COLUMNS=str(COLS), LINES=str(ROWS), HOME=str(tmp_path))
    argv = [sys.executable, "-m", "friendsim_tui", "--data-dir", str(tmp_path / "data"), "--config", str(config)]
    term = Terminal(argv, exports, env)
    yield term
    term.close()


ENTER, ESC, CTRL_S = "\r", "\x1b", "\x13"
FRIENDS = ("Maya", "Jonas", "pixel_dan", "Priya")
"""The sample's four friends."""


def test_import_train_chat_pick_in_a_real_terminal(terminal):
    t = terminal
    t.wait_for(r"No workspaces yet", timeout=20)

    # Import: type the file's name, check the preview, import into the suggested workspace.
    t.send("i")
    t.wait_for(r"Import into a new workspace")
    t.send("weekend-crew.json", ENTER)
    t.wait_for(r"DiscordChatExporter JSON · 3,291 messages")
    t.wait_for(r"skipped 46 \(media-only 31,")
    t.wait_for(r"enter imports 3,291 messages into weekend-crew")
    t.send(ENTER)
    t.wait_for(r"weekend-crew\s+3,291 msg")
    t.wait_for(r"3,291 messages · 4 friends · 2024-01-06 → 2024-12-20")
    for name in FRIENDS:  # the details can be drawn a frame after the summary
        t.wait_for(re.escape(name))
    t.wait_for(r"No trained runs yet")

    # Train: the form's defaults come from the settings file (4 steps); ctrl+s starts, the dashboard follows.
    t.send("t")
    t.wait_for(r"New run")
    t.send(CTRL_S)
    t.wait_for(r"Training weekend-crew · ")
    t.wait_for(r"✓ done\s+step 4", timeout=120)
    for part in ("step 4/4", "base scratch:tiny", "How they sound now"):  # each panel draws on its own
        t.wait_for(re.escape(part))

    # Chat: the run is listed; play the first friend; say something; candidates come numbered.
    t.send(ESC)
    t.wait_for(r"New run")
    t.send(ESC)
    t.wait_for(r"✓ .*scratch-tiny")  # Home's Runs section
    t.send("c")
    t.wait_for(r"Pick a run, then the friend you play")
    t.wait_for(r"✓ \S+-scratch-tiny")
    t.send(ENTER)
    t.wait_for(r"You play")
    t.send(ENTER)
    # "Playing as X · run R · with A, B…  T 0.4 · top-k 40 · rep 1.2 · N 3": the friends played by the model are
    # cut first on a narrow terminal, the sampling settings stay whole on the right
    header = t.wait_for(r"Playing as (\S+) · run (\S+) · with (.+?)\s{2,}T 0\.4 · top-k 40 · rep 1\.2 · N 3",
                        timeout=30)
    player, run, shown = header.group(1), header.group(2), header.group(3)
    assert player in FRIENDS and run.endswith("-scratch-tiny")
    others = [name for name in FRIENDS if name != player]
    listed = [name.strip().rstrip("…") for name in shown.split(",")]
    assert listed and all(any(o.startswith(name) for o in others) for name in listed), shown
    t.send("hey everyone", ENTER)
    t.wait_for(rf"{re.escape(player)} \(you\)\s+hey everyone")
    t.wait_for(r"Next: who answers\?")
    first = t.wait_for(r"│ 1  (\S+)\s+(\S[^│]*?)\s*│", timeout=60)
    speaker, text = first.group(1), first.group(2).removesuffix("↺ said before").rstrip()  # a copy's tag: not said
    assert speaker in others  # never the player's own voice
    t.send("1")
    # The picked candidate joins the conversation, right under the player's line.
    t.wait_for(rf"hey everyone\s*│\n│ {re.escape(speaker)}\s+{re.escape(text[:20])}", timeout=20)
    for _ in range(4):  # back out, screen by screen, to Home
        if "workspace: weekend-crew" in t.text():
            break
        t.send(ESC)
        time.sleep(0.5)
    t.wait_for(r"workspace: weekend-crew")
