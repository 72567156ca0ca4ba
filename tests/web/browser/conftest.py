"""The studio served by a real `voicestudio serve` for the whole session, and chromium to drive it."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import httpx
import pytest

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page, Playwright

    from web.browser.driver import Studio

SERVER_START_S = 90.0
SERVER_URL_ENV = "VOICESTUDIO_BROWSER_TEST_URL"  # set: test that running studio instead of starting one


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _wait_for_health(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    """Poll /api/health until the server answers; fail with its log if it exits or never answers."""
    deadline = time.monotonic() + SERVER_START_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"voicestudio serve exited with {process.returncode}:\n{log.read_text()[-4000:]}")
        try:
            if httpx.get(f"{url}/api/health", timeout=2.0).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    pytest.fail(f"voicestudio serve did not answer within {SERVER_START_S:.0f} s:\n{log.read_text()[-4000:]}")


@pytest.fixture(scope="session")
def studio(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Studio]:
    """`voicestudio serve` on a free port with an empty data folder, started once."""
    from web.browser.driver import Studio

    given = os.environ.get(SERVER_URL_ENV)
    if given:
        with httpx.Client(base_url=given, timeout=60.0) as client:
            yield Studio(given.rstrip("/"), client)
        return
    data_dir = tmp_path_factory.mktemp("studio-data")
    log = data_dir.parent / "server.log"
    port = _free_port()
    command = [str(Path(sys.executable).parent / "voicestudio"), "serve", "--host", "127.0.0.1",
               "--port", str(port), "--data-dir", str(data_dir)]  # fmt: skip
    with log.open("wb") as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_for_health(url, process, log)
        with httpx.Client(base_url=url, timeout=60.0) as client:
            yield Studio(url, client)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture(scope="session")
def pw() -> Iterator[Playwright]:
    """Playwright's driver, started once."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="session")
def plain_browser(pw: Playwright) -> Iterator[Browser]:
    """One browser for the pages that do not record."""
    from web.browser.driver import launch

    with launch(pw) as opened:
        yield opened


@pytest.fixture
def tab(plain_browser: Browser, studio: Studio) -> Iterator[Page]:
    """A fresh tab; a script error on it fails the test."""
    from web.browser.driver import VIEWPORT

    context = plain_browser.new_context(viewport=VIEWPORT, accept_downloads=True)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    yield page
    context.close()
    assert not errors, f"script errors on the page: {errors}"


@pytest.fixture(scope="session")
def screenshot_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where the pages' screenshots go (also copied to $VOICESTUDIO_SCREENSHOT_DIR when set)."""
    return tmp_path_factory.mktemp("screenshots")


TINY_VOICE_SENTENCES = (
    "The quick brown fox jumps over the lazy dog.",
    "She sells sea shells by the sea shore.",
    "A stitch in time saves nine.",
    "Every cloud has a silver lining.",
)
TINY_VOICE_MIN_S = 5.0  # the four eSpeak sentences hold about 8 s; the studio's real minimum is a minute


@pytest.fixture(scope="session")
def tiny_voice(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny voice trained for two steps and exported by the studio's own code, card included."""
    from fixtures.speech import espeak_takes
    from voicestudio.domain.language import Language
    from voicestudio.neural.piper import PiperEngine
    from voicestudio.neural.values import TrainingSettings
    from voicestudio.studio.voices import export_voice

    work = tmp_path_factory.mktemp("tiny-voice")
    engine = PiperEngine(min_duration_s=TINY_VOICE_MIN_S)
    dataset = engine.prepare(espeak_takes(TINY_VOICE_SENTENCES), Language.en, work / "dataset")
    settings = TrainingSettings(preset="tiny", steps=2, batch_size=2, device="cpu", checkpoint_every_steps=2)
    checkpoint = engine.train(dataset, work / "train", settings)
    model_dir = work / "models" / "tiny"
    export_voice(engine, checkpoint, model_dir, {"name": "Tiny test voice", "device": "cpu"})
    return model_dir
