import subprocess
import sys


def test_a_child_reports_its_own_peak_memory_not_its_parents():
    """The train process is launched by the app or a script: its peak must be its own (ru_maxrss on Linux
    carries the parent's high-water mark across exec)."""
    ballast = bytearray(400 * 2**20)  # the parent holds 400 MiB
    ballast[:: 4096] = b"x" * len(ballast[:: 4096])  # touch every page so it is resident
    probe = "from friendsim_tui.engine.devices import _peak_rss; print(_peak_rss())"
    peak = int(subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout)
    assert 0 < peak < 200 * 2**20
    del ballast
