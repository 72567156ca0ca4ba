"""Jobs through Celery and Redis: real `voicestudio worker` processes on one PostgreSQL database and one blob
folder, as on separate hosts. Long jobs run chunk by chunk, progress arrives over pub/sub, a killed worker's
job comes back to another one and goes on from its saved state, training goes only to a gpu worker.

Two cpu workers and one gpu worker serve the whole module (each takes seconds to start).
"""

import asyncio
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from celery import Celery
from sqlalchemy import text

import jobs.kinds  # noqa: F401  (registers the test kinds: the API side routes them by their queue)
from services.processes import stop
from voicestudio.db import make_engine
from voicestudio.jobs import Job, JobEvent, JobState, JobStore, WorkerSettings
from voicestudio.jobs.celery_app import CeleryConfig, CeleryDispatcher, make_celery_app
from voicestudio.jobs.redis_events import RedisEventBus
from voicestudio.jobs.sweep import Sweeper
from voicestudio.settings import StudioSettings
from voicestudio.web.state import Studio

from .waiting import eventually, finished, wait_for_job

VISIBILITY_TIMEOUT_S = 2.0  # a killed worker's message comes back this soon
CHUNK_STEPS = 4
STALE_AFTER_S = 1.0  # with heartbeats every 0.2 s
TESTS_DIR = Path(__file__).resolve().parents[1]
STOP_TIMEOUT_S = 30.0


@dataclass
class CeleryStudio:
    """The API side of a Celery studio (a store that dispatches, a Redis bus) and its worker processes."""

    folder: Path
    env: dict[str, str]
    app: Celery
    dispatcher: CeleryDispatcher
    store: JobStore  # sends each job it queues
    quiet_store: JobStore  # the same table, sending nothing: the test sends, or loses, the message itself
    bus: RedisEventBus
    workers: dict[int, subprocess.Popen[bytes]] = field(default_factory=dict)  # by process id

    def start_worker(self, queues: str) -> None:
        """`voicestudio worker --queues QUEUES` with the test kinds, logging to QUEUES-<n>.log."""
        log = self.folder / f"{queues}-{len(self.workers)}.log"
        process = subprocess.Popen(
            [sys.executable, "-m", "voicestudio", "worker", "--queues", queues, "--job-module", "jobs.kinds"],
            env=self.env,
            cwd=self.folder,
            stdout=log.open("wb"),
            stderr=subprocess.STDOUT,
        )
        self.workers[process.pid] = process

    def worker_running(self, job: Job) -> subprocess.Popen[bytes]:
        """The worker process that holds the job (its worker id is host:celery-QUEUES-PID:suffix)."""
        assert job.worker_id is not None
        return self.workers[int(job.worker_id.split(":")[1].rsplit("-", 1)[1])]

    def stop_workers(self) -> None:
        stop(self.workers.values(), STOP_TIMEOUT_S)


@pytest.fixture(scope="module")
def celery_studio(
    tmp_path_factory: pytest.TempPathFactory, postgres_url: str, redis_url: str
) -> Iterator[CeleryStudio]:
    folder = tmp_path_factory.mktemp("celery")
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(TESTS_DIR), os.environ.get("PYTHONPATH", "")]),
        "VOICESTUDIO_JOB_BACKEND": "celery",
        "VOICESTUDIO_DATA_DIR": str(folder),
        "VOICESTUDIO_DATABASE_URL": postgres_url,
        "VOICESTUDIO_BLOB_LOCATION": str(folder / "blobs"),
        "VOICESTUDIO_BROKER_URL": redis_url,
        "VOICESTUDIO_CELERY_VISIBILITY_TIMEOUT_S": str(VISIBILITY_TIMEOUT_S),
        "VOICESTUDIO_TRAINING_CHUNK_STEPS": str(CHUNK_STEPS),
        "VOICESTUDIO_JOB_HEARTBEAT_INTERVAL_S": "0.2",
        "VOICESTUDIO_JOB_STALE_AFTER_S": str(STALE_AFTER_S),
    }
    worker = WorkerSettings(postgres_url, str(folder / "blobs"), stale_after_s=STALE_AFTER_S)
    app = make_celery_app(CeleryConfig(redis_url, VISIBILITY_TIMEOUT_S, worker))
    dispatcher = CeleryDispatcher(app)
    store = JobStore.from_url(postgres_url, dispatch=dispatcher)
    studio = CeleryStudio(
        folder=folder,
        env=env,
        app=app,
        dispatcher=dispatcher,
        store=store,
        quiet_store=JobStore.from_url(postgres_url),
        bus=RedisEventBus(redis_url, store, fallback_interval_s=60.0),  # long: events come over pub/sub
    )
    for queues in ("cpu", "cpu", "gpu"):
        studio.start_worker(queues)
    yield studio
    studio.stop_workers()
    studio.bus.close()
    app.close()
    engine = make_engine(postgres_url)
    with engine.begin() as connection:
        connection.execute(text("DELETE FROM jobs"))
    engine.dispose()


def test_a_long_job_runs_chunk_by_chunk_and_its_progress_arrives_over_redis(
    celery_studio: CeleryStudio, tmp_path: Path
) -> None:
    studio = celery_studio
    log = tmp_path / "runs.log"
    job_id = studio.quiet_store.create("test.chunked", {"steps": 12, "log": str(log)})

    async def follow() -> list[JobEvent]:
        events = studio.bus.subscribe(job_id)
        first = await anext(events)  # listening now: send the job
        await asyncio.to_thread(studio.dispatcher, studio.store.get(job_id))
        return [first] + [event async for event in events]

    events = asyncio.run(follow())
    states = [event.state for event in events]
    starts = [
        i for i, state in enumerate(states) if state is JobState.running and states[i - 1] is JobState.queued
    ]
    assert len(starts) == 3  # 12 steps, 4 a chunk: three tasks, each claiming the job again
    assert states.count(JobState.queued) == 3  # created, and after each of the first two chunks
    fractions = [event.progress_fraction for event in events]
    assert fractions == sorted(fractions)  # a chunk goes on from the last one's progress
    assert len({f for f in fractions if 0.0 < f < 1.0}) >= 3  # seen while it ran, over pub/sub
    assert (events[-1].state, events[-1].result) == (JobState.succeeded, {"counted": 12})
    assert log.read_text().split() == ["0", "4", "8"]
    done = studio.store.get(job_id)
    assert (done.attempts, done.device, done.gpu_s) == (1, "cpu", 0.0)
    assert done.run_s >= 12 * 0.02  # the three chunks' time, summed


def test_cancelling_reaches_a_job_that_a_celery_worker_runs(
    celery_studio: CeleryStudio, tmp_path: Path
) -> None:
    store = celery_studio.store
    job_id = store.create("test.gate", {"gate": str(tmp_path / "never-opened")})
    wait_for_job(store, job_id, lambda job: job.progress_fraction > 0, "running")
    assert store.cancel(job_id).cancel_requested
    stopped = finished(store, job_id)
    assert (stopped.state, stopped.progress_fraction, stopped.result) == (JobState.cancelled, 0.5, None)


def test_training_goes_only_to_a_worker_on_the_gpu_queue(celery_studio: CeleryStudio) -> None:
    store = celery_studio.store
    training, echo = store.create("test.train", {}), store.create("test.echo", {"value": "ka.wav"})
    trained, echoed = finished(store, training), finished(store, echo)
    assert (trained.state, echoed.state) == (JobState.succeeded, JobState.succeeded)
    # every worker knows both kinds: only the queues decide who runs which
    assert ":celery-gpu-" in (trained.worker_id or "") and ":celery-cpu-" in (echoed.worker_id or "")
    assert (trained.device, echoed.device) == ("cuda", "cpu")
    assert trained.gpu_s == trained.run_s > 0 and echoed.gpu_s == 0.0


def test_a_job_whose_worker_was_killed_is_redelivered_and_goes_on_from_its_saved_state(
    celery_studio: CeleryStudio, tmp_path: Path
) -> None:
    studio, log, gate = celery_studio, tmp_path / "runs.log", tmp_path / "gate"
    payload = {"steps": 12, "log": str(log), "hold_at": 6, "gate": str(gate)}
    job_id = studio.store.create("test.chunked", payload)
    held = wait_for_job(
        studio.store, job_id, lambda job: job.progress_stage == "holding before step 6", "step 6 of chunk 2"
    )
    assert held.state_key is not None  # the first chunk's count is saved
    killed = studio.worker_running(held)
    killed.send_signal(signal.SIGKILL)
    assert killed.wait() == -signal.SIGKILL
    gate.touch()

    done = finished(studio.store, job_id)  # the message comes back to the other cpu worker after its timeout
    assert (done.state, done.result) == (JobState.succeeded, {"counted": 12})
    assert log.read_text().split() == ["0", "4", "4", "8"]  # the second chunk ran again from 4, not from 0
    assert done.attempts == 2  # the killed run counts as an attempt
    assert done.worker_id != held.worker_id


def test_a_worker_told_to_stop_gives_its_job_back_to_the_queue_at_once(
    celery_studio: CeleryStudio, tmp_path: Path
) -> None:
    studio, gate = celery_studio, tmp_path / "gate"
    studio.start_worker("cpu")  # in place of the one killed above
    job_id = studio.store.create("test.gate", {"gate": str(gate)})
    held = wait_for_job(studio.store, job_id, lambda job: job.progress_fraction > 0, "running")
    stopping = studio.worker_running(held)
    stopping.send_signal(signal.SIGTERM)  # a warm shutdown, as systemd or docker stop would ask
    assert stopping.wait() == 0
    gate.touch()
    done = finished(studio.store, job_id)
    assert (done.state, done.attempts) == (JobState.succeeded, 1)  # the stopped run used no attempt
    assert done.worker_id != held.worker_id


def test_the_sweep_sends_again_jobs_whose_message_or_worker_was_lost(celery_studio: CeleryStudio) -> None:
    studio = celery_studio
    lost_message = studio.quiet_store.create("test.echo", {"value": "a.wav"})  # never sent
    lost_worker = studio.quiet_store.create("test.echo", {"value": "i.wav"})
    assert studio.quiet_store.claim_job(lost_worker, "host-that-died", STALE_AFTER_S) is not None
    sweeper = Sweeper(studio.store, studio.dispatcher, stale_after_s=STALE_AFTER_S, resend_after_s=0.0)
    first = sweeper.sweep()
    assert first.resent == 1  # the job that waits with no message
    swept = [first]

    def dead_host_job_requeued() -> bool:
        swept.append(sweeper.sweep())
        return sum(count.requeued for count in swept) == 1

    eventually(dead_host_job_requeued, "the dead host's job being queued again")  # silent for STALE_AFTER_S
    for job_id, attempts in ((lost_message, 1), (lost_worker, 2)):
        done = finished(studio.store, job_id)
        assert (done.state, done.attempts) == (JobState.succeeded, attempts)


def test_a_broker_that_cannot_be_reached_leaves_the_job_queued_for_the_sweep(tmp_path: Path) -> None:
    worker = WorkerSettings(f"sqlite:///{tmp_path / 'unused.db'}", str(tmp_path / "blobs"))
    dispatcher = CeleryDispatcher(make_celery_app(CeleryConfig("redis://127.0.0.1:1/0", 60.0, worker)))
    assert dispatcher.send("job-1", "cpu") is False
    assert dispatcher.resend_undelivered() == 0  # still down: kept for the next sweep


def test_a_celery_studio_sends_jobs_to_the_workers_and_follows_them_over_redis(
    celery_studio: CeleryStudio, postgres_url: str, redis_url: str
) -> None:
    settings = StudioSettings(
        job_backend="celery",
        data_dir=celery_studio.folder,
        database_url=postgres_url,
        blob_location=str(celery_studio.folder / "blobs"),
        broker_url=redis_url,
        celery_visibility_timeout_s=VISIBILITY_TIMEOUT_S,
    )
    studio = Studio(settings)
    studio.start()
    try:
        assert studio.worker is None and studio.sweeper is not None
        job_id = studio.jobs.create("test.echo", {"value": "u.wav"})

        async def follow() -> list[JobEvent]:
            return [event async for event in studio.events.subscribe(job_id)]

        events = asyncio.run(follow())
    finally:
        studio.stop()
    last = events[-1]
    assert last.state is JobState.succeeded and last.result is not None
    assert (last.result["echo"], last.result["attempt"]) == ("u.wav", 1)
