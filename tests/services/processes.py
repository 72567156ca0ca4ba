"""Server and worker processes the tests and benches start: tied to their starter, stopped warmly."""

import contextlib
import ctypes
import signal
import subprocess
import sys
from collections.abc import Iterable


def die_with_parent() -> None:
    """Ask Linux to kill the process if the one that started it dies (a killed test run leaves none)."""
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


def stop(processes: Iterable["subprocess.Popen[bytes]"], wait_s: float) -> None:
    """A warm shutdown (SIGTERM) of each live one, as a deployment stops them; killed if not ended in time."""
    live = [process for process in processes if process.poll() is None]
    for process in live:
        process.send_signal(signal.SIGTERM)
    for process in live:
        try:
            process.wait(wait_s)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
