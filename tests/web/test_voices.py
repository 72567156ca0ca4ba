"""Upgrade to an AI voice: consent, readiness in numbers, a training job with live losses, its model and card;
a server killed mid-training resumes from its checkpoint, and a cancelled run keeps its checkpoint. The run's
state and its model live in the database and the blob store, never in folders of the data directory."""

import json
import tempfile
import time
import warnings
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import numpy.typing as npt
import onnxruntime
import pytest

from voicestudio.align.reference import synthesize_english
from voicestudio.db.engine import default_database_url
from voicestudio.db.models import VoiceModelRow
from voicestudio.jobs import JobState, JobStore, run_job
from voicestudio.neural.checkpoints import read_checkpoint
from voicestudio.storage import BlobStore, LocalBlobStore
from voicestudio.studio.errors import NotFound
from voicestudio.studio.training_state import (
    CACHE_FOLDER,
    TrainingState,
    TrainingStateUnreadable,
    load_training_state,
    save_training_state,
    state_blob_keys,
)
from voicestudio.studio.voice_models import list_voice_models, voice_model_file
from voicestudio.studio.voice_training import train_project_voice
from voicestudio.studio.voices import TrainRequest
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
def worker_tmp(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The temporary folder of the module's workers: their scratch folders and dataset cache go here."""
    return tmp_path_factory.mktemp("worker-tmp")


@pytest.fixture(scope="module")
def studio(tmp_path_factory: pytest.TempPathFactory, worker_tmp: Path) -> Iterator[StudioUnderTest]:
    """A studio whose minimum of sentence audio is lowered through its environment variable."""
    with pytest.MonkeyPatch.context() as env:
        env.setenv(MIN_AUDIO_ENV, str(MIN_AUDIO_S))
        env.setenv("TMPDIR", str(worker_tmp))  # read by the spawned worker
        with started_studio(tmp_path_factory.mktemp("voices")) as started:
            yield started


@pytest.fixture(scope="module")
def workerless_studio(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StudioUnderTest]:
    """A studio without a worker of its own: the test runs each of its jobs' runs itself."""
    with pytest.MonkeyPatch.context() as env:
        env.setenv(MIN_AUDIO_ENV, str(MIN_AUDIO_S))
        with started_studio(tmp_path_factory.mktemp("chunks"), worker_processes=0) as started:
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


def saved_checkpoint_step(jobs: JobStore, blobs: BlobStore, job_id: str, tmp_path: Path) -> int:
    """The step of the checkpoint the job's saved state names, read back from the blob store."""
    state_key = jobs.get(job_id).state_key
    assert state_key is not None
    state: TrainingState = load_training_state(blobs, state_key)
    assert state.checkpoint_key is not None
    copy = tmp_path / "saved.ckpt"
    copy.write_bytes(blobs.read(state.checkpoint_key))
    checkpoint_step = read_checkpoint(copy).step
    assert checkpoint_step == state.step
    return checkpoint_step


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
    studio: StudioUnderTest, sentence_wavs: dict[str, bytes], consent_wav: bytes, worker_tmp: Path
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
    assert client.get(f"/api/models/{model_id}").json() == card
    assert not (studio.data_dir / "models").exists() and not (studio.data_dir / "training").exists()
    assert list((worker_tmp / CACHE_FOLDER / "datasets").iterdir()) == []  # dropped once the model is stored
    assert list(worker_tmp.glob("voicestudio-train-*")) == []  # the run's scratch folder is gone


def test_a_cancelled_training_stops_and_keeps_its_checkpoint(
    studio: StudioUnderTest, sentence_wavs: dict[str, bytes], consent_wav: bytes, tmp_path: Path
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
    server = studio.app.state.studio
    assert 1 <= saved_checkpoint_step(server.jobs, server.blobs, job_id, tmp_path) < 200
    assert job["result"] is None


def test_a_server_killed_mid_training_resumes_from_the_checkpoint(
    tmp_path: Path, sentence_wavs: dict[str, bytes], consent_wav: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(MIN_AUDIO_ENV, str(MIN_AUDIO_S))
    monkeypatch.setenv("TMPDIR", str(tmp_path))  # the killed worker's scratch stays in the test's folder
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
    jobs, blobs = JobStore.from_url(default_database_url(data_dir)), LocalBlobStore(data_dir / "blobs")
    checkpoint_step = saved_checkpoint_step(jobs, blobs, job_id, tmp_path)
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


def test_training_in_chunks_continues_from_its_saved_state_and_ends_as_a_stored_model(
    workerless_studio: StudioUnderTest,
    sentence_wavs: dict[str, bytes],
    consent_wav: bytes,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    client, server = workerless_studio.client, workerless_studio.app.state.studio
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))  # the worker cache of the runs below
    cache = tmp_path / CACHE_FOLDER / "datasets"
    project_id = new_project(client, ["en-paragraph"])
    record_sentences(client, project_id, sentence_wavs)
    assert upload(client, f"/api/projects/{project_id}/consent", consent_wav).status_code == 201
    started = client.post(f"/api/projects/{project_id}/voices", json=TINY | {"steps": 4})
    job_id = started.json()["job"]["id"]
    assert "data_dir" not in server.jobs.get(job_id).payload
    settings = replace(server.worker_settings(), chunk_steps=2)

    def run_one_run() -> JobState:
        job = server.jobs.claim("test-worker", {"train"})
        assert job is not None and job.id == job_id
        return run_job(job, "test-worker", server.jobs, server.blobs, server.sessions, settings)

    assert run_one_run() is JobState.queued  # the first chunk: steps 1 and 2
    between = server.jobs.get(job_id)
    assert (between.state, between.attempts, between.result) == (JobState.queued, 0, None)
    assert (between.progress_stage, between.progress_fraction) == ("checkpoint saved", 0.5)
    assert between.state_key is not None
    state = load_training_state(server.blobs, between.state_key)
    assert state.step == 2 and all(server.blobs.exists(key) for key in state.keys)
    assert state_blob_keys(server.blobs, between.state_key) == state.keys  # what garbage collection keeps
    assert saved_checkpoint_step(server.jobs, server.blobs, job_id, tmp_path) == 2
    assert between.progress_detail is not None
    assert [entry["step"] for entry in between.progress_detail["history"]] == [1, 2]
    assert [path.name for path in cache.iterdir()] == [state.dataset_key.rsplit("/", 1)[1]]
    assert list(tmp_path.glob("voicestudio-train-*")) == []

    assert run_one_run() is JobState.succeeded  # the second chunk: steps 3 and 4, then the export
    done = server.jobs.get(job_id)
    assert done.progress_detail is not None and done.result is not None
    detail = done.progress_detail
    assert (detail["step"], detail["total_steps"], detail["resumed_from_step"]) == (4, 4, 2)
    assert [entry["step"] for entry in detail["history"]] == [1, 2, 3, 4]
    model_id = done.result["model_id"]
    with server.sessions() as session:
        row = session.get(VoiceModelRow, model_id)
        assert row is not None
        assert (row.project_id, row.job_id, row.card["steps"], row.card["size"]) == (
            project_id,
            job_id,
            4,
            "tiny",
        )
    onnx = server.blobs.read(row.onnx_key)
    config = json.loads(server.blobs.read(row.config_key))
    assert len(onnx) == row.model_bytes and config["audio"]["sample_rate"] == 22050
    speech = speak(onnx, config)
    assert speech.size > 1000 and np.all(np.isfinite(speech))
    assert not any(server.blobs.exists(key) for key in (*state.keys, between.state_key))
    assert state_blob_keys(server.blobs, between.state_key) == ()
    assert list(cache.iterdir()) == []

    assert client.get(f"/api/models/{model_id}/model.onnx").content == onnx
    assert client.get(f"/api/models/{model_id}").json()["steps"] == 4
    with server.sessions() as session:  # another user's project: the model is not theirs to see
        assert [card.id for card in list_voice_models(session, "local")] == [model_id]
        assert list_voice_models(session, "someone-else") == []
        with pytest.raises(NotFound, match="There is no model"):
            voice_model_file(session, server.blobs, "someone-else", model_id, "model.onnx")
    again = train_project_voice(
        server.sessions, server.blobs, project_id, job_id, TrainRequest(), MIN_AUDIO_S, lambda *_: None
    )
    assert (again.model_id, again.step) == (model_id, 4)  # a re-run finds the model it stored


def test_a_saved_state_that_lost_its_files_is_named_and_garbage_collection_keeps_nothing_of_it(
    tmp_path: Path,
) -> None:
    blobs = LocalBlobStore(tmp_path / "blobs")
    dataset = blobs.put_stream([b"a dataset tar"], 100)
    key = save_training_state(blobs, TrainingState(dataset.key, None, 0))
    assert load_training_state(blobs, key) == TrainingState(dataset.key, None, 0)
    blobs.delete(dataset.key)
    with pytest.raises(TrainingStateUnreadable, match="names files that are gone"):
        load_training_state(blobs, key)
    not_a_state = blobs.put_stream([b'{"step": 3}'], 100).key
    with pytest.raises(TrainingStateUnreadable, match="cannot be read"):
        load_training_state(blobs, not_a_state)
    assert state_blob_keys(blobs, not_a_state) == ()
    assert state_blob_keys(blobs, key) == (dataset.key,)  # the manifest still names it


def speak(onnx: bytes, config: dict[str, Any]) -> npt.NDArray[np.float32]:
    """Samples of the model for a few of its phonemes, through onnxruntime as piper runs it."""
    ids = config["phoneme_id_map"]
    phonemes = [ids["^"][0], *(ids[p][0] for p in "həloʊ"), ids["$"][0]]
    session = onnxruntime.InferenceSession(onnx, providers=["CPUExecutionProvider"])
    (audio,) = session.run(
        None,
        {
            "input": np.array([phonemes], dtype=np.int64),
            "input_lengths": np.array([len(phonemes)], dtype=np.int64),
            "scales": np.array([0.667, 1.0, 0.8], dtype=np.float32),
        },
    )
    samples: npt.NDArray[np.float32] = audio.reshape(-1)
    return samples


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
