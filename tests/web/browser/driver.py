"""Driving the studio's pages in Debian's chromium, with a file playing into its fake microphone.

Chromium's fake microphone plays one file, from its start, when a page first opens the microphone (then
silence); the file is fixed per browser launch, so every recorded take gets a browser of its own
(about half a second each).
"""

from __future__ import annotations

import io
import os
import shutil
from collections.abc import Sequence
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import numpy.typing as npt
import soundfile as sf
import soxr
from playwright.sync_api import Browser, Page, Playwright

CHROMIUM = Path("/usr/bin/chromium")
MIC_RATE_HZ = 44100  # what chromium's fake microphone delivers
SCREENSHOT_DIR_ENV = "VOICESTUDIO_SCREENSHOT_DIR"  # set: the screenshots are copied there too (for the docs)
RECORD_AT_ONCE = 5  # browsers recording side by side: the files play in real time, so this is what saves time
TAIL_MS = 250.0  # silence recorded after the voice, so no take is cut short
MIC_PAD_MS = 3000.0  # silence in the file after the voice: longer than any take records past it
CHROMIUM_FLAGS = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--use-fake-ui-for-media-stream",
    "--use-fake-device-for-media-stream",
    "--autoplay-policy=no-user-gesture-required",
)
VIEWPORT = {"width": 1280, "height": 860}


@dataclass(frozen=True, slots=True)
class Studio:
    """A running studio: its address, and a client for checking through the API what the pages did."""

    url: str
    api: httpx.Client


@dataclass(frozen=True, slots=True, eq=False)
class MicFile:
    """A file for the fake microphone (44.1 kHz, 16-bit): `samples`, what the 'singer' says, then
    MIC_PAD_MS of digital silence, so a take ends before the file does (past its end chromium plays
    faint 10 ms blocks of noise, which a pitch tracker hears as a 100 Hz voice)."""

    path: Path
    samples: npt.NDArray[np.float32]
    sample_rate_hz: int

    @property
    def duration_ms(self) -> float:
        """Length of what is said, without the silence after it."""
        return 1000.0 * len(self.samples) / self.sample_rate_hz

    def wav_bytes(self) -> bytes:
        """What is said as a 16-bit WAV file, as an upload would carry it."""
        out = io.BytesIO()
        sf.write(out, self.samples, self.sample_rate_hz, subtype="PCM_16", format="WAV")
        return out.getvalue()


def mic_file(samples: npt.NDArray[np.float32], sample_rate_hz: int, path: Path) -> MicFile:
    """Write `samples` as the fake microphone wants them (44.1 kHz, 16-bit PCM), silence after them."""
    if sample_rate_hz != MIC_RATE_HZ:
        samples = soxr.resample(samples, sample_rate_hz, MIC_RATE_HZ).astype(np.float32)
    pcm = np.round(np.clip(samples, -1.0, 32767 / 32768) * 32768).astype(np.int16)
    pad = np.zeros(round(MIC_PAD_MS * MIC_RATE_HZ / 1000), dtype=np.int16)
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(path, np.concatenate([pcm, pad]), MIC_RATE_HZ, subtype="PCM_16")
    return MicFile(path, (pcm / 32768.0).astype(np.float32), MIC_RATE_HZ)


def launch(pw: Playwright, mic: MicFile | None = None) -> Browser:
    """Debian's chromium (never a downloaded one); with `mic`, its microphone plays that file once."""
    flags = list(CHROMIUM_FLAGS)
    if mic is not None:
        flags.append(f"--use-file-for-fake-audio-capture={mic.path}%noloop")
    return pw.chromium.launch(executable_path=str(CHROMIUM), args=flags)


def screenshot(page: Page, folder: Path, name: str) -> Path:
    """Save the whole page as NAME.png in `folder` (and in $VOICESTUDIO_SCREENSHOT_DIR when set)."""
    path = folder / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    extra = os.environ.get(SCREENSHOT_DIR_ENV)
    if extra:
        Path(extra).mkdir(parents=True, exist_ok=True)
        shutil.copy(path, Path(extra) / path.name)
    return path


def record_prompts(
    pw: Playwright,
    studio: Studio,
    project_id: str,
    prompt_set: str,
    takes: Sequence[tuple[str, MicFile]],
    shots: Path | None = None,
    at_once: int = RECORD_AT_ONCE,
) -> dict[str, dict[str, Any]]:
    """Record each (prompt id, microphone file) in a browser of its own, `at_once` browsers side by side:
    open the recorder on the prompt, press R, wait until the whole file and a little silence were
    captured, press S; return what each page shows then, by prompt id. With `shots`, the last recorder
    page is saved as recorder.png."""
    shown: dict[str, dict[str, Any]] = {}
    for first in range(0, len(takes), at_once):
        batch = takes[first : first + at_once]
        with ExitStack() as stack:
            pages: list[tuple[str, MicFile, Page, list[str]]] = []
            for prompt_id, mic in batch:
                page = stack.enter_context(launch(pw, mic)).new_page(viewport=VIEWPORT)
                errors: list[str] = []
                page.on("pageerror", lambda error, errors=errors: errors.append(str(error)))
                page.goto(f"{studio.url}/#/projects/{project_id}/record/{prompt_set}/{prompt_id}")
                pages.append((prompt_id, mic, page, errors))
            for prompt_id, _, page, _ in pages:
                page.locator(f"[data-testid=recorder-page][data-prompt-id='{prompt_id}']").wait_for()
                page.keyboard.press("r")
            for _, mic, page, _ in pages:
                page.wait_for_function(
                    "ms => Number(document.querySelector('[data-testid=rec-elapsed]').dataset.ms) >= ms",
                    arg=mic.duration_ms + TAIL_MS,
                )
                page.keyboard.press("s")
            for prompt_id, _, page, errors in pages:
                page.locator("[data-testid=rec-state]:is([data-state=done], [data-state=failed])").wait_for()
                if page.get_attribute("[data-testid=rec-state]", "data-state") == "failed":
                    raise AssertionError(f"{prompt_id}: {page.inner_text('[data-testid=error-text]')}")
                shown[prompt_id] = _what_the_recorder_shows(page)
                assert not errors, f"script errors on the recorder for {prompt_id}: {errors}"
            if shots is not None and first + at_once >= len(takes):
                screenshot(pages[-1][2], shots, "recorder")
    return shown


def _what_the_recorder_shows(page: Page) -> dict[str, Any]:
    verdict = page.locator("[data-testid=verdict]")
    return {
        "verdict": verdict.get_attribute("data-verdict"),
        "take_id": verdict.get_attribute("data-take-id"),
        "words": page.inner_text("[data-testid=verdict-words]"),
        "reasons": page.locator("[data-testid=verdict-reasons] li").all_inner_texts(),
        "kept_previous": page.locator("[data-testid=kept-previous]").count() == 1,
        "not_kept": page.locator("[data-testid=not-kept]").count() == 1,
        "clip_light_seen": page.get_attribute("[data-testid=clip-light]", "data-take-clipped") == "true",
        "sample_rate_hz": int(page.get_attribute("[data-testid=mic-info]", "data-sample-rate-hz") or 0),
        "recorded_ms": float(page.get_attribute("[data-testid=rec-elapsed]", "data-ms") or 0),
        "prompt_text": page.inner_text("[data-testid=prompt-text]"),
    }
