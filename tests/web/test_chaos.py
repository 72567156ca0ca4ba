"""Chaos on the scale stack: a voice trains through a real API server and a real Celery gpu worker on
PostgreSQL, S3 and Redis; both are SIGKILLed mid-training and started again. The job goes on from its saved
step, ends succeeded, its model downloads and speaks, and every take is still there, byte for byte."""

import contextlib
import os
import signal
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest

from db.postgres import postgres_database
from services.processes import die_with_parent, stop
from services.redis_broker import redis_database
from services.seaweed import SeaweedServer
from voicestudio.db import upgrade_database
from web.server import served_studio
from web.test_voices import (
    MIN_AUDIO_ENV,
    MIN_AUDIO_S,
    TINY,
    new_project,
    record_sentences,
    speak,
    upload,
    wait_for_detail,
)
from web.test_voices import consent_wav as consent_wav  # the module's fixtures, shared
from web.test_voices import sentence_wavs as sentence_wavs

STEPS = 4
CHUNK_STEPS = 2  # two chunks: the first saves its state at step 2
KILL_AT_STEP = 3  # in the second chunk, with work done since the saved state
SAVED_STEP = 2  # the first chunk's saved state; a checkpoint saved later in the second is fine too
CHAOS_ENV = {
    "VOICESTUDIO_JOB_BACKEND": "celery",
    "VOICESTUDIO_TRAINING_CHUNK_STEPS": str(CHUNK_STEPS),
    "VOICESTUDIO_CELERY_VISIBILITY_TIMEOUT_S": "3",  # the killed worker's message comes back this soon
    "VOICESTUDIO_JOB_STALE_AFTER_S": "4",
    "VOICESTUDIO_JOB_HEARTBEAT_INTERVAL_S": "0.5",
    MIN_AUDIO_ENV: str(MIN_AUDIO_S),
}
HTTP_TIMEOUT_S = 30.0
STOP_WAIT_S = 30.0


@pytest.fixture
def scale_env(
    tmp_path: Path, seaweed: SeaweedServer, monkeypatch: pytest.MonkeyPatch
) -> Iterator[dict[str, str]]:
    """VOICESTUDIO_* for a throw-away PostgreSQL database, a Redis database and an S3 bucket, set in this
    process's environment too (the served studio inherits it)."""
    with contextlib.ExitStack() as stack:
        database_url = stack.enter_context(contextlib.contextmanager(postgres_database)())
        broker_url = stack.enter_context(contextlib.contextmanager(redis_database)())
        upgrade_database(database_url)
        chosen = CHAOS_ENV | {
            "VOICESTUDIO_DATABASE_URL": database_url,
            "VOICESTUDIO_BROKER_URL": broker_url,
            "VOICESTUDIO_BLOB_LOCATION": seaweed.location(f"voicestudio-chaos-{uuid.uuid4().hex[:12]}"),
            "TMPDIR": str(tmp_path),  # the killed worker's scratch stays in the test's folder
        }
        for name, value in chosen.items():
            monkeypatch.setenv(name, value)
        yield chosen


@contextlib.contextmanager
def gpu_worker(folder: Path, log: Path) -> Iterator[subprocess.Popen[bytes]]:
    """`voicestudio worker --queues gpu` in a process group of its own; killed with its children after."""
    with log.open("ab") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "voicestudio", "worker", "--queues", "gpu"],
            env={**os.environ, "VOICESTUDIO_DATA_DIR": str(folder)},
            cwd=folder,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=die_with_parent,  # a killed test run leaves no worker taking jobs
        )
    try:
        yield process
    finally:
        stop([process], STOP_WAIT_S)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)


def sigkill_group(process: subprocess.Popen[bytes]) -> None:
    """SIGKILL a process and everything it started, as a power cut or the OOM killer would."""
    os.killpg(process.pid, signal.SIGKILL)
    assert process.wait() == -signal.SIGKILL


def take_audio(client: httpx.Client, project_id: str) -> dict[str, bytes]:
    """Every current take of the project, downloaded (through the S3 redirect), by prompt id."""
    project = client.get(f"/api/projects/{project_id}").json()
    takes = {}
    for prompt in project["prompts"]:
        if prompt["take"] is not None:
            response = client.get(f"/api/takes/{prompt['take']['id']}/audio")
            assert response.status_code == 200, response.text
            takes[prompt["prompt_id"]] = response.content
    return takes


def wait_until_finished(client: httpx.Client, job_id: str) -> dict[str, Any]:
    return wait_for_detail(client, job_id, lambda detail: False)


def test_training_survives_sigkill_of_its_worker_and_of_the_api_server(
    tmp_path: Path, scale_env: dict[str, str], sentence_wavs: dict[str, bytes], consent_wav: bytes
) -> None:
    data_dir, serve_log, worker_log = tmp_path / "data", tmp_path / "serve.log", tmp_path / "worker.log"
    data_dir.mkdir()
    with (
        gpu_worker(data_dir, worker_log) as worker,
        served_studio(data_dir, serve_log) as server,
        httpx.Client(base_url=server.url, timeout=HTTP_TIMEOUT_S, follow_redirects=True) as client,
    ):
        project_id = new_project(client, ["en-paragraph"])
        record_sentences(client, project_id, sentence_wavs)
        assert upload(client, f"/api/projects/{project_id}/consent", consent_wav).status_code == 201
        before = take_audio(client, project_id)
        assert before == sentence_wavs  # what was uploaded is what downloads
        started = client.post(
            f"/api/projects/{project_id}/voices", json=TINY | {"steps": STEPS, "checkpoint_every_steps": 1}
        )
        assert started.status_code == 202, started.text
        job_id = started.json()["job"]["id"]
        seen = wait_for_detail(client, job_id, lambda detail: detail["step"] >= KILL_AT_STEP)
        assert seen["state"] == "running", (seen, worker_log.read_text(errors="replace")[-3000:])
        assert seen["detail"]["step"] < STEPS
        sigkill_group(worker)
        server.kill()

    with (
        gpu_worker(data_dir, worker_log),
        served_studio(data_dir, serve_log) as server,
        httpx.Client(base_url=server.url, timeout=HTTP_TIMEOUT_S, follow_redirects=True) as client,
    ):
        job = wait_until_finished(client, job_id)
        assert job["state"] == "succeeded", (job["error"], worker_log.read_text(errors="replace")[-3000:])
        detail = job["detail"]
        assert SAVED_STEP <= detail["resumed_from_step"] < STEPS  # from a saved step, not from 0
        assert (detail["step"], detail["total_steps"]) == (STEPS, STEPS)
        history = [entry["step"] for entry in detail["history"]]
        assert history == list(range(1, STEPS + 1))  # no step trained twice in the record, none missing
        assert job["attempts"] == 2  # the killed run counts; the chunks that ended on their own do not

        model_id = job["result"]["model_id"]
        card = next(card for card in client.get("/api/models").json() if card["id"] == model_id)
        assert card["steps"] == STEPS
        onnx = client.get(f"/api/models/{model_id}/model.onnx")
        assert onnx.status_code == 200 and len(onnx.content) == card["model_bytes"]
        config = client.get(f"/api/models/{model_id}/model.onnx.json").json()
        speech = speak(onnx.content, config)
        assert speech.size > 1000 and np.all(np.isfinite(speech))

        after = take_audio(client, project_id)
        assert len(after) == len(before) == len(sentence_wavs)
        assert after == before  # every take, byte for byte
