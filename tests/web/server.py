"""`voicestudio serve` as a real process on a free port, for tests that kill and restart it."""

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from services.processes import stop

START_GIVE_UP_S = 60.0  # only so that a server that never starts fails the test instead of hanging it
STOP_WAIT_S = 30.0


@dataclass(frozen=True, slots=True)
class ServedStudio:
    """A running `voicestudio serve` (the leader of its own process group, with its worker child)."""

    url: str
    process: subprocess.Popen[bytes]

    def kill(self) -> None:
        """SIGKILL the server and its worker at once, as a power cut or the OOM killer would."""
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@contextmanager
def served_studio(data_dir: Path, log: Path) -> Iterator[ServedStudio]:
    """Start `voicestudio serve --data-dir DATA_DIR`, wait until it answers; stop it and its worker after."""
    port = free_port()
    with log.open("ab") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "voicestudio", "serve", "--port", str(port), "--data-dir", str(data_dir)],
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    served = ServedStudio(f"http://127.0.0.1:{port}", process)
    try:
        _wait_until_up(served, log)
        yield served
    finally:
        stop([process], STOP_WAIT_S)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)  # a worker child left behind, if any


def _wait_until_up(served: ServedStudio, log: Path) -> None:
    give_up = time.monotonic() + START_GIVE_UP_S
    while True:
        if served.process.poll() is not None:
            raise AssertionError(
                f"voicestudio serve exited with {served.process.returncode}:\n{log.read_text()}"
            )
        try:
            if httpx.get(f"{served.url}/api/health", timeout=1.0).status_code == 200:
                return
        except httpx.TransportError:
            pass
        if time.monotonic() > give_up:
            raise AssertionError(
                f"voicestudio serve did not answer within {START_GIVE_UP_S} s:\n{log.read_text()}"
            )
        time.sleep(0.05)
