"""A voice model speaking in the browser: the studio serves a piper voice, the synth page phonemizes with
espeak-ng in WASM and runs the model in onnxruntime-web (WASM, and WebGPU on a software adapter), the audio
matches Python's onnxruntime, and a voice stored in the browser still speaks with the studio unreachable.

The model is the studio's own: a tiny voice trained for two steps and exported once per session (the
`tiny_voice` fixture), so every test here runs on what a user's "Upgrade to AI Voice" produces. Its config
maps phonemes to the same ids as piper's pretrained voices (a superset of joe's map) with espeak voice
en-us. $VOICESTUDIO_SYNTH_TEST_MODEL names another model folder (model.onnx + model.onnx.json), such as the
pretrained `joe` voice's data folder, to run the same checks on it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import onnxruntime
import pytest

pytest.importorskip("playwright.sync_api", reason="the browser tests need playwright: pip install '.[test]'")

from playwright.sync_api import Browser, Page, Playwright, Route

from web.browser.conftest import _free_port, _wait_for_health
from web.browser.driver import CHROMIUM, CHROMIUM_FLAGS, VIEWPORT

VENDOR = Path(__file__).parents[3] / "src" / "voicestudio" / "web" / "static" / "vendor"
pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason=f"install Debian's chromium at {CHROMIUM}"),
    pytest.mark.skipif(not (VENDOR / "versions.json").exists(), reason="run scripts/vendor-web first"),
]

MODEL_ENV = "VOICESTUDIO_SYNTH_TEST_MODEL"
MODEL_ID = "voice"
SENTENCE = "The quick brown fox jumps over the lazy dog."
OFFLINE_TEXT = "No server in the loop. It still speaks!"
MAX_ABS_DIFFERENCE = 1e-3
LOAD_TIMEOUT_MS = 180_000  # room for a 63 MB medium model ($VOICESTUDIO_SYNTH_TEST_MODEL) on 2 cores
WEBGPU_FLAGS = ("--enable-unsafe-webgpu", "--enable-features=Vulkan", "--use-angle=swiftshader",
                "--use-webgpu-adapter=swiftshader")  # fmt: skip
SENTENCES = (
    "The quick brown fox jumps over the lazy dog.",
    "She sells seashells by the seashore, and the shells she sells are surely seashells.",
    "How much wood would a woodchuck chuck if a woodchuck could chuck wood?",
    "I can't believe it's already September!",
    "Please call Stella and ask her to bring these things with her from the store.",
    "The museum opens at nine o'clock; tickets cost twelve dollars.",
    "We have three options: wait, leave, or try again.",
    "My phone number is 555-0123, and my birthday is June 4th, 1990.",
    "Dr. Smith arrived at 3:30 p.m. to check on the patient.",
    "Wait... did you hear that?",
    "Although it was raining, the children played outside for hours.",
    '"Where are you going?" she asked.',
    "The weather in New York is unpredictable in April.",
    "Reading books is one of the best ways to learn new words.",
    "He paid $45.99 for the jacket, which was on sale.",
    "Can you imagine a world without music?",
    "The scientists discovered a new species of frog in the rainforest.",
    "Turn left at the second traffic light, then go straight for two miles.",
    "Thank you very much for your help yesterday.",
    "It's a beautiful day — let's go to the beach.",
    "The meeting has been moved to Thursday afternoon.",
    "Voice cloning requires only a few minutes of clean recordings.",
    "Mr. and Mrs. Brown live next door to us.",
    "Oh no! I forgot my keys at the office.",
    "The temperature dropped to minus ten degrees overnight.",
    "Would you like tea or coffee with your breakfast?",
    "The train leaves at 7:45, so don't be late.",
    "A journey of a thousand miles begins with a single step.",
    "This sentence, which is rather long, contains several commas, clauses, and pauses.",
    "He said (quietly) that the café was closed",
)


@dataclass(frozen=True, slots=True)
class VoiceServer:
    """A studio holding one voice model, and that model's files."""

    url: str
    model: Path
    config: Path


def _model_folder(request: pytest.FixtureRequest) -> Path:
    """The folder named by $VOICESTUDIO_SYNTH_TEST_MODEL, else the session's exported tiny voice."""
    given = os.environ.get(MODEL_ENV)
    if given:
        return Path(given)
    folder: Path = request.getfixturevalue("tiny_voice")
    return folder


@pytest.fixture(scope="module")
def voice_server(
    tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
) -> Iterator[VoiceServer]:
    """`voicestudio serve` whose data folder holds the test voice as models/voice/ (linked, not copied)."""
    source = _model_folder(request)
    model = next(iter(sorted(source.glob("*.onnx"))), None)
    if model is None:
        pytest.skip(f"{source} holds no .onnx model")
    data_dir = tmp_path_factory.mktemp("synth-data")
    folder = data_dir / "models" / MODEL_ID
    folder.mkdir(parents=True)
    (folder / "model.onnx").symlink_to(model)
    (folder / "model.onnx.json").symlink_to(model.with_name(model.name + ".json"))
    card = source / "card.json"
    if card.is_file():
        (folder / "card.json").symlink_to(card)
    else:
        (folder / "card.json").write_text(
            json.dumps({"name": "Test voice", "size": "medium", "device": "cpu"})
        )
    log = data_dir.parent / "synth-server.log"
    port = _free_port()
    command = [str(Path(sys.executable).parent / "voicestudio"), "serve", "--host", "127.0.0.1",
               "--port", str(port), "--data-dir", str(data_dir)]  # fmt: skip
    with log.open("wb") as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_for_health(url, process, log)
        yield VoiceServer(url, folder / "model.onnx", folder / "model.onnx.json")
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.fixture(scope="module")
def python_voice(voice_server: VoiceServer) -> Any:
    """The same voice in piper's Python package: its phonemizer is the server's."""
    from piper import PiperVoice

    return PiperVoice.load(voice_server.model, voice_server.config)


def _python_audio(voice_server: VoiceServer, ids: list[int]) -> np.ndarray:
    """The model's raw output in Python's onnxruntime with both noise scales at 0."""
    config = json.loads(voice_server.config.read_text())
    session = onnxruntime.InferenceSession(str(voice_server.model), providers=["CPUExecutionProvider"])
    scales = np.array([0.0, config["inference"].get("length_scale", 1.0), 0.0], dtype=np.float32)
    feeds = {"input": np.array([ids], dtype=np.int64), "input_lengths": np.array([len(ids)], dtype=np.int64),
             "scales": scales}  # fmt: skip
    return np.asarray(session.run(None, feeds)[0], dtype=np.float32).reshape(-1)


def _hop_length(voice_server: VoiceServer) -> int:
    """Samples per frame: the shortest sound the model gives one phoneme (VITS rounds durations up)."""
    return int(json.loads(voice_server.config.read_text()).get("hop_length", 256))


def _open_synth(browser: Browser, voice_server: VoiceServer, query: str) -> Page:
    """The synth page on the test voice, loaded; a script error fails the test."""
    page = browser.new_context(viewport=VIEWPORT).new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.set_default_timeout(LOAD_TIMEOUT_MS)
    page.goto(f"{voice_server.url}/{query}#/synth/{MODEL_ID}")
    page.locator("[data-testid=synth-state]:is([data-state=ready], [data-state=failed])").wait_for()
    assert page.get_attribute("[data-testid=synth-state]", "data-state") == "ready", (
        page.inner_text("[data-testid=error-text]"),
        errors,
    )
    return page


def _browser_audio(page: Page, text: str) -> tuple[list[int], np.ndarray]:
    """The first sentence's phoneme ids and the model's raw audio for them in the page, noise at 0."""
    page.evaluate("() => window.voicestudioSynth.setScales({noiseScale: 0, noiseW: 0})")
    ids = page.evaluate("text => window.voicestudioSynth.phonemeIds(text)[0].ids", text)
    audio = page.evaluate("ids => window.voicestudioSynth.rawAudio(ids)", ids)
    return ids, np.asarray(audio, dtype=np.float32)


@pytest.fixture(scope="module")
def webgpu_browser(pw: Playwright) -> Iterator[Browser]:
    """Chromium with WebGPU on its software (SwiftShader) adapter."""
    flags = [flag for flag in CHROMIUM_FLAGS if flag != "--disable-gpu"] + list(WEBGPU_FLAGS)
    browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=flags)
    yield browser
    browser.close()


def test_browser_voice_on_wasm_sounds_like_python_onnxruntime(
    plain_browser: Browser, voice_server: VoiceServer, python_voice: Any
) -> None:
    page = _open_synth(plain_browser, voice_server, "?ep=wasm&threads=2")
    info = page.evaluate("() => window.voicestudioSynth.info()")
    assert info["backend"] == "wasm"
    assert info["threads"] == 2  # the studio's COOP/COEP headers make threads possible
    ids, browser_audio = _browser_audio(page, SENTENCE)
    assert ids == python_voice.phonemes_to_ids(python_voice.phonemize(SENTENCE)[0])
    python_audio = _python_audio(voice_server, ids)
    assert browser_audio.shape == python_audio.shape
    assert len(python_audio) >= len(ids) * _hop_length(voice_server)  # each phoneme one frame at least
    assert float(np.max(np.abs(python_audio))) > 10 * MAX_ABS_DIFFERENCE  # loud enough for the tolerance
    assert float(np.max(np.abs(browser_audio - python_audio))) <= MAX_ABS_DIFFERENCE
    page.context.close()


def test_browser_voice_on_webgpu_sounds_like_python_onnxruntime(
    webgpu_browser: Browser, voice_server: VoiceServer
) -> None:
    page = _open_synth(webgpu_browser, voice_server, "?ep=webgpu")
    info = page.evaluate("() => window.voicestudioSynth.info()")
    assert info["backend"] == "webgpu", f"WebGPU did not run the model: {info['why']}"
    ids, browser_audio = _browser_audio(page, SENTENCE)
    python_audio = _python_audio(voice_server, ids)
    assert browser_audio.shape == python_audio.shape
    assert float(np.max(np.abs(browser_audio - python_audio))) <= MAX_ABS_DIFFERENCE
    page.context.close()


def test_stored_voice_speaks_with_the_studio_unreachable(
    plain_browser: Browser, voice_server: VoiceServer
) -> None:
    page = _open_synth(plain_browser, voice_server, "?ep=wasm")
    assert page.get_attribute("[data-testid=synth-stored]", "data-stored") == "false"
    page.click("[data-testid=synth-store]")
    page.locator("[data-testid=synth-stored][data-stored=true]").wait_for()

    blocked: list[str] = []

    def refuse(route: Route) -> None:
        blocked.append(route.request.url)
        route.abort("internetdisconnected")

    page.route(f"{voice_server.url}/**", refuse)
    page.click("[data-testid=synth-load]")  # a new session, read from the browser's cache
    page.locator("[data-testid=synth-state][data-state=ready][data-from=browser]").wait_for()
    page.fill("[data-testid=synth-text]", OFFLINE_TEXT)
    page.click("[data-testid=synth-speak]")
    page.locator("[data-testid=synth-state]:is([data-state=done], [data-state=failed])").wait_for()
    assert page.get_attribute("[data-testid=synth-state]", "data-state") == "done"
    result = page.locator("[data-testid=synth-result]")
    assert result.get_attribute("data-sentences") == "2"
    counts = page.evaluate(
        "text => window.voicestudioSynth.phonemeIds(text).map(s => s.ids.length)", OFFLINE_TEXT
    )
    config = json.loads(voice_server.config.read_text())
    shortest_ms = 1000 * sum(counts) * _hop_length(voice_server) / config["audio"]["sample_rate"]
    assert float(result.get_attribute("data-audio-ms") or 0) >= shortest_ms > 500.0
    assert page.get_attribute("[data-testid=synth-download]", "href", timeout=1000).startswith("blob:")
    assert blocked == []  # nothing was even asked of the studio

    page.unroute(f"{voice_server.url}/**")
    page.click("[data-testid=synth-remove]")
    page.locator("[data-testid=synth-stored][data-stored=false]").wait_for()
    page.context.close()


def test_browser_phonemes_match_piper_on_english_sentences(
    plain_browser: Browser, voice_server: VoiceServer, python_voice: Any
) -> None:
    page = _open_synth(plain_browser, voice_server, "?ep=wasm")
    browser_ids = page.evaluate(
        "texts => texts.map(text => window.voicestudioSynth.phonemeIds(text).map(s => s.ids))",
        list(SENTENCES),
    )
    server_ids = [
        [python_voice.phonemes_to_ids(phonemes) for phonemes in python_voice.phonemize(text) if phonemes]
        for text in SENTENCES
    ]
    different = [
        text for text, ours, piper in zip(SENTENCES, browser_ids, server_ids, strict=True) if ours != piper
    ]
    assert len(SENTENCES) == 30
    assert len(different) <= 3, different
    page.context.close()
