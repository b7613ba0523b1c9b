"""Regenerate the README's screenshots from the real app, on the bundled sample.

    python screenshots/make_screenshots.py [--data-dir DIR]

Uses (or creates, with `friendsim-tui demo --headless`, a few minutes on a CPU) the demo workspace and
its trained model in DIR (default: a folder under the system temp dir that is kept between runs), then
drives the app headless to each screen and saves an SVG of it here: home, import, dashboard, chat and
conversation. Run it again whenever a screen changes.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).parent
SIZE = (110, 34)


async def wait_for(pilot, predicate, what: str, timeout: float = 180.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        await pilot.pause(0.1)
        try:
            if predicate():
                return
        except Exception:
            pass
        if time.monotonic() > deadline:
            raise SystemExit(f"make_screenshots: timed out waiting for {what}")


async def shoot(sample: Path) -> None:
    from friendsim_tui.cli import DEMO_OPENING, DEMO_PLAYER, DEMO_RUN
    from friendsim_tui.config import load_config
    from friendsim_tui.demo_chat import SAMPLE_WORKSPACE as WS
    from friendsim_tui.services import training
    from friendsim_tui.tui.app import FriendSimApp
    from friendsim_tui.tui.screens.chat import ChatScreen
    from friendsim_tui.tui.screens.conversation import ConversationScreen
    from friendsim_tui.tui.screens.dashboard import DashboardScreen
    from friendsim_tui.tui.screens.importing import ImportScreen

    def save(app, name: str) -> None:
        app.save_screenshot(filename=f"{name}.svg", path=str(HERE))
        print(f"wrote screenshots/{name}.svg")

    app = FriendSimApp(load_config(), start_dir=sample.parent, cursor_blink=False)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.screen.summary is not None, "the home screen")
        save(app, "home")

        app.push_screen(ImportScreen(WS, sample.parent))
        await pilot.pause()
        path = app.screen.query_one("#path")
        path.value = str(sample)
        await pilot.click("#path")
        await pilot.press("enter")
        await wait_for(pilot, lambda: app.screen.preview is not None, "the import preview")
        app.screen.query_one("#identities").focus()  # the speakers' keys show in the Footer
        await pilot.pause()
        save(app, "import")
        app.pop_screen()

        app.push_screen(DashboardScreen(training.run_dir(WS, DEMO_RUN), workspace=WS))
        await wait_for(pilot, lambda: app.screen.state.status == "done" and app.screen.figures is not None,
                       "the finished run and its held-out figures")
        await pilot.pause(0.5)
        save(app, "dashboard")
        app.pop_screen()

        app.push_screen(ChatScreen(WS, DEMO_RUN, DEMO_PLAYER, seed_turns=DEMO_OPENING, autostart=True))
        await wait_for(pilot, lambda: len(app.screen.candidates) >= 3, "chat candidates")
        await pilot.pause(0.5)
        save(app, "chat")
        app.pop_screen()

        app.push_screen(ConversationScreen(WS, DEMO_RUN))
        await wait_for(pilot, lambda: app.screen.sampler is not None, "the model")
        prompt = "Priya: who's up for a hike on saturday?"
        app.screen.query_one("#conv-prompt").value = prompt
        app.screen.generate(prompt)
        await wait_for(pilot, lambda: len(app.screen.samples) >= app.screen.n, "conversations")
        await pilot.pause(0.5)
        save(app, "conversation")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data-dir", default=str(Path(tempfile.gettempdir()) / "friendsim-screenshots"))
    args = ap.parse_args()
    from friendsim_tui import cli, paths
    from friendsim_tui.demo_chat import sample_path

    if cli.main(["--data-dir", args.data_dir, "demo", "--headless"]) != 0:
        return 1
    paths.set_data_dir(args.data_dir)
    asyncio.run(shoot(sample_path()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
