"""Jobs run in worker child processes: results, progress, failures, cancels; a killed worker loses nothing.

One pair of worker children serves the whole module (spawning costs about a second each).
"""

import asyncio
import os
import signal
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from voicestudio.jobs import JobEvent, JobState, JobStore, LocalWorker, PollingEventBus, WorkerSettings

from .conftest import migrated_sqlite
from .waiting import eventually, finished, wait_for_job


def settings_for(folder: Path) -> WorkerSettings:
    return WorkerSettings(
        database_url=migrated_sqlite(folder),
        blob_location=str(folder / "blobs"),
        job_modules=("jobs.kinds",),
        poll_interval_s=0.02,
        progress_interval_s=0.02,
        heartbeat_interval_s=0.5,
    )


@pytest.fixture(scope="module")
def studio(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LocalWorker, JobStore, Path]]:
    """Two worker children on one SQLite file, the parent's view of the queue, and a scratch folder."""
    folder = tmp_path_factory.mktemp("studio")
    settings = settings_for(folder)
    worker = LocalWorker(settings, processes=2)
    worker.start()
    yield worker, JobStore.from_url(settings.database_url), folder
    worker.stop()


@pytest.fixture
def worker(studio: tuple[LocalWorker, JobStore, Path]) -> LocalWorker:
    return studio[0]


@pytest.fixture
def store(studio: tuple[LocalWorker, JobStore, Path]) -> JobStore:
    return studio[1]


def test_a_registered_job_runs_in_a_child_process_and_succeeds(worker: LocalWorker, store: JobStore) -> None:
    job = finished(store, store.create("test.echo", {"value": "ka.wav"}))
    assert job.state is JobState.succeeded
    assert job.result is not None and job.result["echo"] == "ka.wav"
    assert job.result["pid"] != os.getpid()
    assert job.result["pid"] in worker.worker_pids().values()
    assert (job.attempts, job.progress_fraction, job.error_message) == (1, 1.0, None)


def test_progress_is_visible_from_the_server_while_the_job_runs(store: JobStore, tmp_path: Path) -> None:
    gate = tmp_path / "gate"
    job_id = store.create("test.gate", {"gate": str(gate)})
    halfway = wait_for_job(store, job_id, lambda job: job.progress_fraction > 0, "any progress")
    assert (halfway.state, halfway.progress_fraction, halfway.progress_stage) == (
        JobState.running,
        0.5,
        "waiting at the gate",
    )
    gate.touch()
    done = finished(store, job_id)
    assert (done.state, done.progress_fraction, done.progress_stage) == (
        JobState.succeeded,
        1.0,
        "through the gate",
    )


def test_a_failing_job_records_a_message_for_the_user_and_its_attempts(store: JobStore) -> None:
    refused = finished(store, store.create("test.user_error", {}))
    assert (refused.state, refused.attempts) == (JobState.failed, 1)  # bad input: no point retrying
    assert refused.error_message == "ka.wav is silent. Check the microphone and record it again."

    crashed = finished(store, store.create("test.crash", {}, max_attempts=2))
    assert (crashed.state, crashed.attempts) == (JobState.failed, 2)
    message = crashed.error_message or ""
    assert message.startswith("The test.crash job stopped on an internal error (id ")
    assert "tried 2 of 2 times" in message
    assert "Traceback" not in message and "internal detail" not in message and "RuntimeError" not in message


def test_cancelling_a_queued_job_and_a_running_one(store: JobStore, tmp_path: Path) -> None:
    nobody_runs_this = store.create("test.kind_no_worker_knows", {})
    assert store.cancel(nobody_runs_this).state is JobState.cancelled

    gate = tmp_path / "gate-never-opened"
    running = store.create("test.gate", {"gate": str(gate)})
    wait_for_job(store, running, lambda job: job.progress_fraction > 0, "running")
    assert store.cancel(running).cancel_requested
    stopped = finished(store, running)
    assert (stopped.state, stopped.progress_fraction, stopped.result) == (JobState.cancelled, 0.5, None)


def test_a_worker_killed_mid_job_is_replaced_and_the_job_completes(
    worker: LocalWorker, store: JobStore, tmp_path: Path
) -> None:
    gate = tmp_path / "gate"
    job_id = store.create("test.gate", {"gate": str(gate)})
    first = wait_for_job(store, job_id, lambda job: job.progress_fraction > 0, "running")
    assert first.worker_id is not None
    killed_pid = worker.worker_pids()[first.worker_id]
    os.kill(killed_pid, signal.SIGKILL)

    second = wait_for_job(store, job_id, lambda job: job.attempts == 2, "claimed again")
    assert second.worker_id != first.worker_id
    gate.touch()
    done = finished(store, job_id)
    assert done.state is JobState.succeeded
    assert done.result is not None and done.result["attempt"] == 2
    assert killed_pid not in worker.worker_pids().values()
    eventually(lambda: len(worker.worker_pids()) == 2, "the killed worker process being replaced")


def test_two_worker_processes_never_run_the_same_job(store: JobStore, tmp_path: Path) -> None:
    log = tmp_path / "runs.log"
    job_ids = [store.create("test.append", {"log": str(log)}) for _ in range(30)]
    assert all(finished(store, job_id).state is JobState.succeeded for job_id in job_ids)
    runs = Counter(line.split()[0] for line in log.read_text().splitlines())
    assert runs == Counter({job_id: 1 for job_id in job_ids})


def test_stopping_a_worker_puts_its_running_job_back_without_using_an_attempt(tmp_path: Path) -> None:
    settings = settings_for(tmp_path)
    store = JobStore.from_url(settings.database_url)
    job_id = store.create("test.gate", {"gate": str(tmp_path / "gate")})
    with LocalWorker(settings) as worker:
        wait_for_job(store, job_id, lambda job: job.progress_fraction > 0, "running")
        pids = list(worker.worker_pids().values())
    assert worker.worker_pids() == {}
    assert all(not Path(f"/proc/{pid}").exists() for pid in pids)
    left = store.get(job_id)
    assert (left.state, left.attempts) == (JobState.queued, 0)


def test_the_server_streams_the_progress_of_a_job_the_child_runs(store: JobStore) -> None:
    job_id = store.create("test.count", {"steps": 10})
    bus = PollingEventBus(store, interval_s=0.01)

    async def follow() -> list[JobEvent]:
        return [event async for event in bus.subscribe(job_id)]

    events = asyncio.run(follow())
    fractions = [event.progress_fraction for event in events]
    assert fractions == sorted(fractions)
    assert [event.version for event in events] == sorted({event.version for event in events})
    assert any(0.0 < fraction < 1.0 for fraction in fractions)  # seen while it ran, not only at the end
    assert (events[-1].state, events[-1].result) == (JobState.succeeded, {"counted": 10})
