"""Upgrade to an AI voice: consent, readiness in numbers, a training job with live losses, its model and card;
a server killed mid-training resumes from its checkpoint, and a cancelled run keeps its checkpoint."""

import time
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest

from voicestudio.align.reference import synthesize_english
from voicestudio.neural.checkpoints import read_checkpoint
from voicestudio.text.prompts import load_prompt_set
from web.audio import silent_take, wav_bytes
from web.conftest import StudioUnderTest, started_studio
from web.jobs import FINISHED, GIVE_UP_AFTER_S, finished
from web.server import served_studio

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

SENTENCES = 4  # about 15 s of eSpeak speech
MIN_AUDIO_S = 5.0  # lowered from the real minute, so four sentences are enough
TINY: dict[str, Any] = {"preset": "tiny", "device": "cpu", "checkpoint_every_steps": 1}
MIN_AUDIO_ENV = "VOICESTUDIO_MIN_TRAINING_AUDIO_S"


@pytest.fixture(scope="module")
def sentence_wavs() -> dict[str, bytes]:
    """The first en-paragraph sentences as eSpeak reads them, as uploaded WAVs by prompt id."""
    wavs = {}
    for prompt in load_prompt_set("en-paragraph").prompts[:SENTENCES]:
        speech = synthesize_english(prompt.text)
        wavs[prompt.id] = wav_bytes(speech.samples, speech.sample_rate_hz)
    return wavs


@pytest.fixture(scope="module")
def consent_wav() -> bytes:
    speech = synthesize_english(
        "I, the owner of this voice, agree that the studio trains a synthetic voice from my recordings."
    )
    return wav_bytes(speech.samples, speech.sample_rate_hz)


@pytest.fixture(scope="module")
def studio(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StudioUnderTest]:
    """A studio whose minimum of sentence audio is lowered through its environment variable."""
    with pytest.MonkeyPatch.context() as env:
        env.setenv(MIN_AUDIO_ENV, str(MIN_AUDIO_S))
        with started_studio(tmp_path_factory.mktemp("voices")) as started:
            yield started


def new_project(client: httpx.Client, sets: list[str]) -> str:
    response = client.post(
        "/api/projects", json={"name": "Robin Reads", "language": "en", "prompt_sets": sets}
    )
    assert response.status_code == 201, response.text
    project_id: str = response.json()["id"]
    return project_id


def upload(client: httpx.Client, path: str, data: bytes, **params: str) -> httpx.Response:
    return client.post(path, params=params, content=data, headers={"Content-Type": "audio/wav"})


def record_sentences(client: httpx.Client, project_id: str, wavs: dict[str, bytes]) -> None:
    for prompt_id, data in wavs.items():
        response = upload(
            client, f"/api/projects/{project_id}/takes", data, prompt_set="en-paragraph", prompt_id=prompt_id
        )
        assert response.status_code == 201, response.text
        assert response.json()["current"], response.json()["take"]["reasons"]


def job_messages(client: TestClient, job_id: str) -> list[dict[str, Any]]:
    """Every Job message the WebSocket sends until it closes after the finished state."""
    messages = []
    with client.websocket_connect(f"/ws/jobs/{job_id}") as socket:
        while True:
            message = socket.receive_json()
            messages.append(message)
            if message["state"] in FINISHED:
                return messages


def test_the_consent_sentence_is_fixed_per_language(studio: StudioUnderTest) -> None:
    english = studio.client.get("/api/consent-sentence", params={"language": "en"}).json()
    japanese = studio.client.get("/api/consent-sentence", params={"language": "ja"}).json()
    assert english["language"] == "en" and english["sentence"].startswith("I, the owner of this voice")
    assert japanese["language"] == "ja" and "同意" in japanese["sentence"]
    assert studio.client.get("/api/consent-sentence", params={"language": "fr"}).status_code == 422


def test_a_project_without_consent_or_sentences_hears_what_is_missing_in_numbers(
    studio: StudioUnderTest,
) -> None:
    client = studio.client
    project_id = new_project(client, ["en-paragraph"])
    readiness = client.get(f"/api/projects/{project_id}/training").json()
    assert (readiness["ready"], readiness["have_s"], readiness["needed_s"]) == (False, 0.0, MIN_AUDIO_S)
    assert readiness["consent"] is False
    assert "Record the consent statement first" in readiness["message"]
    assert "at least 5 s of sentences; you have 0 s" in readiness["message"]
    assert "(en-paragraph)" in readiness["message"]

    refused = client.post(f"/api/projects/{project_id}/voices", json=TINY | {"steps": 2})
    assert refused.status_code == 409
    assert "consent statement" in refused.json()["error"]

    reclist_only = new_project(client, ["en-arpasing"])
    message = client.get(f"/api/projects/{reclist_only}/training").json()["message"]
    assert "records no sentences" in message and "en-paragraph" in message


def test_a_silent_consent_recording_is_refused_and_nothing_is_kept(studio: StudioUnderTest) -> None:
    project_id = new_project(studio.client, ["en-paragraph"])
    before = studio.blob_files()
    refused = upload(studio.client, f"/api/projects/{project_id}/consent", silent_take())
    assert refused.status_code == 422
    assert "consent.wav" in refused.json()["error"]
    assert studio.blob_files() == before
    assert studio.client.get(f"/api/projects/{project_id}/training").json()["consent"] is False


def test_a_voice_trains_with_live_losses_and_appears_with_its_card(
    studio: StudioUnderTest, sentence_wavs: dict[str, bytes], consent_wav: bytes
) -> None:
    client = studio.client
    project_id = new_project(client, ["en-paragraph"])
    record_sentences(client, project_id, sentence_wavs)
    readiness = client.get(f"/api/projects/{project_id}/training").json()
    assert readiness["ready"] is False and readiness["consent"] is False
    assert 10.0 < readiness["have_s"] < 20.0  # the four sentences, less their silent ends
    assert client.post(f"/api/projects/{project_id}/voices", json=TINY).status_code == 409

    uploaded = upload(client, f"/api/projects/{project_id}/consent", consent_wav)
    assert uploaded.status_code == 201, uploaded.text
    consent = uploaded.json()["consent"]
    assert consent["sentence"] == readiness["sentence"]
    assert 4000.0 < consent["duration_ms"] < 10000.0
    readiness = client.get(f"/api/projects/{project_id}/training").json()
    assert (readiness["ready"], readiness["consent"]) == (True, True)
    assert readiness["message"].startswith("Ready to train on")

    started = client.post(f"/api/projects/{project_id}/voices", json=TINY | {"steps": 2})
    assert started.status_code == 202, started.text
    job = started.json()["job"]
    assert (job["kind"], job["detail"]) == ("train", None)
    messages = job_messages(client, job["id"])
    done = messages[-1]
    assert done["state"] == "succeeded", done["error"]
    training = [m for m in messages if m["detail"] is not None]
    assert training, [m["stage"] for m in messages]
    detail = done["detail"]
    assert (detail["step"], detail["total_steps"], detail["device"]) == (2, 2, "cpu")
    assert {"loss_g", "loss_d", "train_mel"} <= set(detail["losses"])
    assert all(np.isfinite(value) for value in detail["losses"].values())
    assert [entry["step"] for entry in detail["history"]] == [1, 2]
    assert detail["eta_s"] == 0.0 and detail["seconds_per_step"] > 0
    assert client.get(f"/api/jobs/{job['id']}").json()["detail"] == detail

    model_id = done["result"]["model_id"]
    assert model_id.startswith("robin-reads-")
    cards = {card["id"]: card for card in client.get("/api/models").json()}
    card = cards[model_id]
    assert (card["name"], card["size"], card["steps"], card["device"]) == ("Robin Reads", "tiny", 2, "cpu")
    assert card["consent_sentence"] == consent["sentence"]
    assert card["training_time_s"] > 0 and card["sample_rate_hz"] == 22050
    assert card["language"] == "en_US" and card["phoneme_type"] == "espeak"
    onnx = client.get(f"/api/models/{model_id}/model.onnx")
    assert onnx.status_code == 200 and len(onnx.content) == card["model_bytes"]
    assert client.get(f"/api/models/{model_id}/model.onnx.json").json()["audio"]["sample_rate"] == 22050
    assert [p.name for p in (studio.data_dir / "models").iterdir()] == [model_id]


def test_a_cancelled_training_stops_and_keeps_its_checkpoint(
    studio: StudioUnderTest, sentence_wavs: dict[str, bytes], consent_wav: bytes
) -> None:
    client = studio.client
    project_id = new_project(client, ["en-paragraph"])
    record_sentences(client, project_id, sentence_wavs)
    assert upload(client, f"/api/projects/{project_id}/consent", consent_wav).status_code == 201
    job_id = client.post(f"/api/projects/{project_id}/voices", json=TINY | {"steps": 200}).json()["job"]["id"]
    seen = wait_for_detail(client, job_id, lambda detail: detail["checkpoint_step"] >= 1)
    assert seen["state"] == "running"
    assert client.post(f"/api/jobs/{job_id}/cancel").status_code == 200
    job = finished(client, job_id)
    assert job["state"] == "cancelled"
    checkpoint = read_checkpoint(studio.data_dir / "training" / job_id / "checkpoints" / "last.ckpt")
    assert 1 <= checkpoint.step < 200
    assert job["result"] is None


def test_a_server_killed_mid_training_resumes_from_the_checkpoint(
    tmp_path: Path, sentence_wavs: dict[str, bytes], consent_wav: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(MIN_AUDIO_ENV, str(MIN_AUDIO_S))
    data_dir, log = tmp_path / "data", tmp_path / "serve.log"
    steps = 8
    with served_studio(data_dir, log) as server, httpx.Client(base_url=server.url, timeout=30.0) as client:
        project_id = new_project(client, ["en-paragraph"])
        record_sentences(client, project_id, sentence_wavs)
        assert upload(client, f"/api/projects/{project_id}/consent", consent_wav).status_code == 201
        started = client.post(f"/api/projects/{project_id}/voices", json=TINY | {"steps": steps})
        job_id = started.json()["job"]["id"]
        seen = wait_for_detail(client, job_id, lambda detail: detail["checkpoint_step"] >= 1)
        assert (seen["state"], seen["attempts"]) == ("running", 1)
        server.kill()
    checkpoint_step = read_checkpoint(data_dir / "training" / job_id / "checkpoints" / "last.ckpt").step
    assert 1 <= checkpoint_step < steps

    with served_studio(data_dir, log) as server, httpx.Client(base_url=server.url, timeout=30.0) as client:
        job = finished(client, job_id)
        assert job["state"] == "succeeded", job["error"]
        assert job["attempts"] == 2
        detail = job["detail"]
        assert detail["resumed_from_step"] == checkpoint_step  # not from 0
        assert detail["step"] == steps
        history = [entry["step"] for entry in detail["history"]]
        assert history == sorted(set(history)) and history[-1] == steps
        card = next(c for c in client.get("/api/models").json() if c["id"] == job["result"]["model_id"])
        assert card["steps"] == steps


def wait_for_detail(
    client: httpx.Client, job_id: str, condition: Callable[[dict[str, Any]], bool]
) -> dict[str, Any]:
    """The job once its training detail meets `condition`, or once it finished (the caller then sees how)."""
    give_up = time.monotonic() + GIVE_UP_AFTER_S
    while True:
        job: dict[str, Any] = client.get(f"/api/jobs/{job_id}").json()
        if job["state"] in FINISHED or (job["detail"] is not None and condition(job["detail"])):
            return job
        if time.monotonic() > give_up:
            raise AssertionError(f"job {job_id} never got there; last seen: {job}")
        time.sleep(0.05)
