"""A speaker upgrades to an AI voice in the browser: the page says how much read speech is missing, the
spoken consent is recorded through the microphone, training runs with a live progress bar and loss chart,
and the finished model's card links to its files and to the page where it speaks in the browser.

The first test plays the back end's part (routes and a WebSocket answered by the test), so the page's own
behaviour is checked to the number; the second trains a real tiny voice for 2 steps on a studio that
accepts 3 s of sentences, and hears it speak.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest
import soundfile as sf

from voicestudio.align.reference import synthesize_english
from voicestudio.text.prompts import load_prompt_set

pytest.importorskip("playwright.sync_api", reason="the browser tests need playwright: pip install '.[test]'")

from playwright.sync_api import Browser, Page, Playwright, Route, WebSocketRoute

from web.browser.conftest import _free_port, _wait_for_health
from web.browser.driver import (
    CHROMIUM,
    MIC_RATE_HZ,
    TAIL_MS,
    VIEWPORT,
    MicFile,
    Studio,
    launch,
    mic_file,
    screenshot,
)

VENDOR = Path(__file__).parents[3] / "src" / "voicestudio" / "web" / "static" / "vendor"
pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason=f"install Debian's chromium at {CHROMIUM}"),
]

PARAGRAPHS = "en-paragraph"
SENTENCES_UPLOADED = 3
MIN_TRAINING_AUDIO_S = 3.0
TRAIN_STEPS = 2
TRAIN_TIMEOUT_MS = 300_000  # dataset, 2 tiny steps and the ONNX export on 2 shared CPU cores
SYNTH_TIMEOUT_MS = 120_000
FAKE_STEPS = 30
MIDWAY = 20  # the scripted job pauses here, 10 steps of 0.5 s before its end
FAKE_LOSSES = ("mel", "kl", "disc")
FAKE_MODEL = "model-from-the-test"
FAKE_SENTENCE = (
    "I, the owner of this voice, agree that the studio trains a synthetic voice from my recordings."
)
SILENCE_RMS = 1e-4
NOT_READY = (
    "The voice needs at least 3 s of sentences; you have 1.5 s. Record the paragraph set (en-paragraph)."
)


def _fake_detail(step: int) -> dict[str, Any]:
    """A train job's detail at `step` of FAKE_STEPS: three falling losses and the history so far."""

    def losses(at: int) -> dict[str, float]:
        return {"mel": 40.0 / at + 20.0, "kl": 5.0 / at + 1.0, "disc": 3.0 - at / FAKE_STEPS}

    history = [{"step": at, "losses": losses(at)} for at in range(1, step + 1)]
    return {"step": step, "total_steps": FAKE_STEPS, "epoch": step // 10, "losses": losses(step),
            "seconds_per_step": 0.5, "eta_s": 0.5 * (FAKE_STEPS - step), "history": history,
            "device": "cuda"}  # fmt: skip


def _fake_job(state: str, step: int) -> dict[str, Any]:
    done = state == "succeeded"
    return {"id": "train-job", "kind": "train", "state": state, "fraction": step / FAKE_STEPS,
            "stage": "training", "error": None, "result": {"model_id": FAKE_MODEL} if done else None,
            "attempts": 1, "detail": _fake_detail(step) if step else None}  # fmt: skip


class FakeTrainingBackEnd:
    """The voice routes of the contract, answered by the test; it remembers what the page sent."""

    def __init__(self, project_id: str) -> None:
        self.project_id = project_id
        self.consent_bodies: list[bytes] = []
        self.train_bodies: list[dict[str, Any]] = []
        self.refuse_next_training = True
        self.socket: WebSocketRoute | None = None
        self.have_s = 1.5

    def training(self, route: Route) -> None:
        consent = bool(self.consent_bodies)
        ready = consent and self.have_s >= MIN_TRAINING_AUDIO_S
        message = "" if ready else NOT_READY
        body = {"ready": ready, "have_s": self.have_s, "needed_s": MIN_TRAINING_AUDIO_S, "consent": consent,
                "sentence": FAKE_SENTENCE, "message": message}  # fmt: skip
        route.fulfill(json=body)

    def consent(self, route: Route) -> None:
        self.consent_bodies.append(route.request.post_data_buffer or b"")
        consent = {
            "id": "c1",
            "sentence": FAKE_SENTENCE,
            "duration_ms": 1500.0,
            "created_at": "2025-01-01T00:00Z",
        }
        route.fulfill(status=201, json={"consent": consent})

    def voices(self, route: Route) -> None:
        if self.refuse_next_training:
            self.refuse_next_training = False
            route.fulfill(
                status=409, json={"error": "Another voice is training on this studio; wait for it."}
            )
            return
        self.train_bodies.append(json.loads(route.request.post_data or "{}"))
        route.fulfill(status=202, json={"job": _fake_job("queued", 0)})

    def models(self, route: Route) -> None:
        card = {"id": FAKE_MODEL, "name": "My voice", "language": "en", "phoneme_type": "espeak",
                "espeak_voice": "en-us", "sample_rate_hz": 22050, "model_bytes": 63_500_000, "size": "medium",
                "steps": FAKE_STEPS, "training_time_s": 754.0, "device": "cuda",
                "consent_sentence": FAKE_SENTENCE}  # fmt: skip
        route.fulfill(json=[card])

    def job_socket(self, ws: WebSocketRoute) -> None:
        """The job's WebSocket: the first MIDWAY steps at once; the rest when the test calls finish()."""
        self.socket = ws
        for step in range(1, MIDWAY + 1):
            ws.send(json.dumps(_fake_job("running", step)))

    def finish(self) -> None:
        assert self.socket is not None, "the page never opened the job's WebSocket"
        for step in range(MIDWAY + 1, FAKE_STEPS + 1):
            self.socket.send(json.dumps(_fake_job("running", step)))
        self.socket.send(json.dumps(_fake_job("succeeded", FAKE_STEPS)))

    def install(self, page: Page) -> None:
        project = f"**/api/projects/{self.project_id}"
        page.route(
            "**/api/consent-sentence?*",
            lambda r: r.fulfill(json={"language": "en", "sentence": FAKE_SENTENCE}),
        )
        page.route(f"{project}/training", self.training)
        page.route(f"{project}/consent", self.consent)
        page.route(f"{project}/voices", self.voices)
        page.route("**/api/models", self.models)
        page.route("**/api/jobs/train-job", lambda r: r.fulfill(json=_fake_job("succeeded", FAKE_STEPS)))
        page.route_web_socket("**/ws/jobs/train-job", self.job_socket)


_PIXELS_PER_LOSS = """() => {
  const canvas = document.querySelector('[data-testid=voice-loss-canvas]');
  const data = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
  const out = {};
  for (const key of document.querySelectorAll('[data-testid=voice-loss-legend] [data-loss]')) {
    const rgb = getComputedStyle(key.querySelector('.swatch')).backgroundColor.match(/\\d+/g).map(Number);
    let count = 0;
    for (let i = 0; i < data.length; i += 4) {
      if (data[i + 3] > 200 && Math.abs(data[i] - rgb[0]) + Math.abs(data[i + 1] - rgb[1])
          + Math.abs(data[i + 2] - rgb[2]) < 30) count += 1;
    }
    out[key.dataset.loss] = count;
  }
  return out;
}"""


def _create_project(api: httpx.Client, name: str) -> str:
    answer = api.post("/api/projects", json={"name": name, "language": "en", "prompt_sets": [PARAGRAPHS]})
    assert answer.status_code == 201, answer.text
    return str(answer.json()["id"])


def _record_consent(page: Page, mic: MicFile | None, hold_ms: float) -> None:
    """Press record, let the microphone play the statement (or `hold_ms`), press stop, wait for the save."""
    page.click("[data-testid=consent-record]")
    page.wait_for_function(
        "ms => Number(document.querySelector('[data-testid=consent-elapsed]').dataset.ms) >= ms",
        arg=(mic.duration_ms + TAIL_MS) if mic else hold_ms,
    )
    page.click("[data-testid=consent-stop]")
    page.locator("[data-testid=consent-state]:is([data-state=done], [data-state=failed])").wait_for()


def test_training_page_explains_records_consent_and_draws_each_loss_live(
    plain_browser: Browser, studio: Studio, screenshot_dir: Path
) -> None:
    project_id = _create_project(studio.api, "Voice page, scripted back end")
    page = plain_browser.new_context(viewport=VIEWPORT).new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    fake = FakeTrainingBackEnd(project_id)
    fake.install(page)

    page.goto(f"{studio.url}/#/projects/{project_id}/voice")
    readiness = page.locator("[data-testid=voice-readiness][data-ready=false]")
    readiness.wait_for()
    assert page.inner_text("[data-testid=consent-sentence]") == FAKE_SENTENCE
    assert page.inner_text("[data-testid=voice-message]") == NOT_READY
    assert page.inner_text("[data-testid=voice-audio]") == "1.5 s of 3 s of sentences"
    first = load_prompt_set(PARAGRAPHS).prompts[0].id
    link = page.get_attribute("[data-testid=voice-record-paragraphs]", "href")
    assert link == f"#/projects/{project_id}/record/{PARAGRAPHS}/{first}"
    fake.have_s = 4.2  # the speaker records sentences in another tab meanwhile
    assert page.get_attribute("[data-testid=consent-status]", "data-consent") == "false"
    assert page.is_disabled("[data-testid=voice-start]")
    assert page.get_attribute("[data-testid=nav-voice]", "class") == "active"

    _record_consent(page, None, hold_ms=600.0)  # chromium's fake microphone beeps
    assert page.get_attribute("[data-testid=consent-state]", "data-state") == "done"
    page.locator("[data-testid=voice-readiness][data-ready=true]").wait_for()
    wav, rate_hz = sf.read(io.BytesIO(fake.consent_bodies[0]), dtype="float32")
    assert rate_hz in (MIC_RATE_HZ, 48000)
    assert len(wav) / rate_hz >= 0.6
    assert float(np.max(np.abs(wav))) > 0.01  # the beep, not silence

    page.select_option("[data-testid=voice-preset]", "tiny")
    page.fill("[data-testid=voice-steps]", "0")
    page.click("[data-testid=voice-start]")
    assert page.inner_text("[data-testid=error-text]") == "Steps must be a whole number of at least 1."
    page.fill("[data-testid=voice-steps]", str(FAKE_STEPS))
    page.click("[data-testid=voice-base] summary")
    page.fill("[data-testid=voice-base-sha256]", "abc")
    page.click("[data-testid=voice-start]")
    assert "location" in page.inner_text("[data-testid=error-text]")
    page.fill("[data-testid=voice-base-sha256]", "")
    page.click("[data-testid=voice-start]")  # the back end refuses the first one (409)
    page.locator("[data-testid=error-text]", has_text="Another voice is training").wait_for()
    assert fake.train_bodies == []

    page.select_option("[data-testid=voice-device]", "cpu")
    page.click("[data-testid=voice-start]")
    step = page.locator("[data-testid=voice-step]")
    page.locator(f"[data-testid=voice-step][data-step='{MIDWAY}']").wait_for()
    assert (
        step.inner_text()
        == f"Step {MIDWAY} / {FAKE_STEPS} · epoch 2 · 0.50 s/step · about 5 s left · on cuda"
    )
    assert float(step.get_attribute("data-eta-s") or 0) == 0.5 * (FAKE_STEPS - MIDWAY)
    assert (
        float(page.get_attribute("[data-testid=voice-progress]", "data-fraction") or 0) == MIDWAY / FAKE_STEPS
    )
    assert page.get_attribute("[data-testid=voice-loss]", "data-points-per-loss") == str(MIDWAY)
    assert page.is_disabled("[data-testid=voice-start]")  # one training at a time from this page
    screenshot(page, screenshot_dir, "voice-training")
    fake.finish()
    card = page.locator(f"[data-testid=voice-model-card][data-model-id={FAKE_MODEL}]")
    card.wait_for()
    assert fake.train_bodies == [{"preset": "tiny", "steps": FAKE_STEPS, "device": "cpu", "base": None}]

    assert step.get_attribute("data-step") == str(FAKE_STEPS)
    assert step.get_attribute("data-total-steps") == str(FAKE_STEPS)
    assert step.inner_text().startswith(f"Step {FAKE_STEPS} / {FAKE_STEPS} · epoch 3 · 0.50 s/step")
    assert page.get_attribute("[data-testid=voice-progress]", "data-state") == "succeeded"
    chart = page.locator("[data-testid=voice-loss]")
    assert chart.get_attribute("data-losses") == ",".join(FAKE_LOSSES)
    assert chart.get_attribute("data-points-per-loss") == str(FAKE_STEPS)
    pixels = page.evaluate(_PIXELS_PER_LOSS)
    assert set(pixels) == set(FAKE_LOSSES)
    assert min(pixels.values()) > 300, pixels  # each line crosses the plot

    assert page.inner_text("[data-testid=voice-model-size]") == "medium preset, 63.5 MB"
    assert page.inner_text("[data-testid=voice-model-steps]") == str(FAKE_STEPS)
    assert page.inner_text("[data-testid=voice-model-training-time]") == "12 min 34 s"
    assert page.inner_text("[data-testid=voice-model-device]") == "cuda"
    assert page.inner_text("[data-testid=voice-model-consent]") == FAKE_SENTENCE
    assert (
        page.get_attribute("[data-testid=voice-download-onnx]", "href")
        == f"/api/models/{FAKE_MODEL}/model.onnx"
    )
    assert page.get_attribute("[data-testid=voice-download-config]", "href") == (
        f"/api/models/{FAKE_MODEL}/model.onnx.json"
    )
    assert page.get_attribute("[data-testid=voice-try]", "href") == f"#/synth/{FAKE_MODEL}"
    screenshot(page, screenshot_dir, "voice-scripted")

    page.reload()  # the browser remembers the training and shows its card again
    card.wait_for()
    assert page.get_attribute("[data-testid=voice-loss]", "data-points-per-loss") == str(FAKE_STEPS)
    page.context.close()
    assert not errors, errors


@pytest.fixture(scope="module")
def voice_studio(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Studio]:
    """`voicestudio serve` training on MIN_TRAINING_AUDIO_S of sentences; skipped without the voice routes."""
    data_dir = tmp_path_factory.mktemp("voice-data")
    log = data_dir.parent / "voice-server.log"
    port = _free_port()
    command = [str(Path(sys.executable).parent / "voicestudio"), "serve", "--host", "127.0.0.1",
               "--port", str(port), "--data-dir", str(data_dir)]  # fmt: skip
    env = {**os.environ, "VOICESTUDIO_MIN_TRAINING_AUDIO_S": str(MIN_TRAINING_AUDIO_S)}
    with log.open("wb") as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, env=env)
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_for_health(url, process, log)
        with httpx.Client(base_url=url, timeout=60.0) as client:
            if client.get("/api/consent-sentence", params={"language": "en"}).status_code == 404:
                pytest.skip("the studio has no voice training routes yet (GET /api/consent-sentence is 404)")
            yield Studio(url, client)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _upload_sentences(studio: Studio, project_id: str, folder: Path) -> float:
    """Upload the first paragraph prompts as eSpeak reads them (at 44.1 kHz); how many seconds they last."""
    total_s = 0.0
    for prompt in load_prompt_set(PARAGRAPHS).prompts[:SENTENCES_UPLOADED]:
        speech = synthesize_english(prompt.text)
        take = mic_file(speech.samples, speech.sample_rate_hz, folder / prompt.wav_name)
        answer = studio.api.post(f"/api/projects/{project_id}/takes",
                                 params={"prompt_set": PARAGRAPHS, "prompt_id": prompt.id},
                                 content=take.wav_bytes(), headers={"Content-Type": "audio/wav"})  # fmt: skip
        assert answer.status_code == 201, answer.text
        assert answer.json()["current"], answer.json()["take"]["reasons"]
        total_s += take.duration_ms / 1000.0
    return total_s


def test_speaker_trains_a_tiny_voice_and_hears_it_in_the_browser(
    pw: Playwright, voice_studio: Studio, tmp_path: Path, screenshot_dir: Path
) -> None:
    if not (VENDOR / "versions.json").exists():
        pytest.skip("run scripts/vendor-web first (the synth page needs onnxruntime-web and espeak-ng)")
    project_id = _create_project(voice_studio.api, "My AI voice")
    sentence = voice_studio.api.get("/api/consent-sentence", params={"language": "en"}).json()["sentence"]
    spoken = synthesize_english(sentence)
    mic = mic_file(spoken.samples, spoken.sample_rate_hz, tmp_path / "consent.wav")
    uploaded_s = _upload_sentences(voice_studio, project_id, tmp_path)

    with launch(pw, mic) as browser:
        page = browser.new_context(viewport=VIEWPORT).new_page()
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.goto(f"{voice_studio.url}/#/projects/{project_id}/voice")
        readiness = page.locator("[data-testid=voice-readiness][data-consent=false]")
        readiness.wait_for()
        assert page.inner_text("[data-testid=consent-sentence]") == sentence
        assert abs(float(readiness.get_attribute("data-have-s") or 0) - uploaded_s) < 0.5
        assert float(readiness.get_attribute("data-needed-s") or 0) == MIN_TRAINING_AUDIO_S
        assert page.is_disabled("[data-testid=voice-start]")

        _record_consent(page, mic, hold_ms=0.0)
        consent_state = page.get_attribute("[data-testid=consent-state]", "data-state")
        assert consent_state == "done", page.inner_text("[data-testid=error-text]")
        page.locator("[data-testid=voice-readiness][data-ready=true]").wait_for()
        screenshot(page, screenshot_dir, "voice-ready")

        page.select_option("[data-testid=voice-preset]", "tiny")
        page.fill("[data-testid=voice-steps]", str(TRAIN_STEPS))
        page.select_option("[data-testid=voice-device]", "cpu")
        page.click("[data-testid=voice-start]")
        page.locator("[data-testid=voice-progress]:is([data-state=succeeded], [data-state=failed])").wait_for(
            timeout=TRAIN_TIMEOUT_MS
        )
        assert page.get_attribute("[data-testid=voice-progress]", "data-state") == "succeeded", (
            page.inner_text("[data-testid=voice-progress-text]")
        )
        card = page.locator("[data-testid=voice-model-card]")
        card.wait_for()
        assert page.get_attribute("[data-testid=voice-step]", "data-step") == str(TRAIN_STEPS)
        assert page.get_attribute("[data-testid=voice-step]", "data-total-steps") == str(TRAIN_STEPS)
        chart = page.locator("[data-testid=voice-loss]")
        assert int(chart.get_attribute("data-points-per-loss") or 0) >= 1
        pixels = page.evaluate(_PIXELS_PER_LOSS)
        # every loss of the job has its colour; equal ones (loss_d is train_disc) cover each other
        assert set(pixels) == set((chart.get_attribute("data-losses") or "").split(","))
        assert sum(count > 0 for count in pixels.values()) >= min(3, len(pixels)), pixels
        assert page.inner_text("[data-testid=voice-model-steps]") == str(TRAIN_STEPS)
        assert page.inner_text("[data-testid=voice-model-consent]") == sentence
        model_id = card.get_attribute("data-model-id")
        onnx = voice_studio.api.get(page.get_attribute("[data-testid=voice-download-onnx]", "href") or "")
        assert onnx.status_code == 200 and len(onnx.content) > 100_000
        screenshot(page, screenshot_dir, "voice-trained")

        page.set_default_timeout(SYNTH_TIMEOUT_MS)
        page.click("[data-testid=voice-try]")
        page.locator("[data-testid=synth-state]:is([data-state=ready], [data-state=failed])").wait_for()
        assert page.url.endswith(f"#/synth/{model_id}")
        assert page.get_attribute("[data-testid=synth-state]", "data-state") == "ready"
        page.fill("[data-testid=synth-text]", "Hello from my new voice.")
        page.click("[data-testid=synth-speak]")
        page.locator("[data-testid=synth-state]:is([data-state=done], [data-state=failed])").wait_for()
        assert page.get_attribute("[data-testid=synth-state]", "data-state") == "done"
        assert float(page.get_attribute("[data-testid=synth-result]", "data-audio-ms") or 0) > 300.0
        ids = page.evaluate("() => window.voicestudioSynth.phonemeIds('Hello from my new voice.')[0].ids")
        audio = np.asarray(
            page.evaluate("ids => window.voicestudioSynth.rawAudio(ids)", ids), dtype=np.float32
        )
        assert float(np.sqrt(np.mean(audio**2))) > SILENCE_RMS
        assert not errors, errors
