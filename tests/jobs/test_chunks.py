"""A long job runs as several short runs, each continuing from the state the last one saved; every run's
time is counted, and GPU time apart."""

from pathlib import Path

import jobs.kinds  # noqa: F401  (registers the test kinds)
from voicestudio.db import session_factory
from voicestudio.jobs import JobState, JobStore, WorkerSettings, run_job
from voicestudio.storage import LocalBlobStore

from .conftest import migrated_sqlite

STEP_S = 0.02  # test.chunked sleeps this long per step


def run_until_idle(folder: Path, chunk_steps: int | None) -> tuple[JobStore, list[JobState]]:
    """One worker in this process running whatever is queued, run by run; the states each run left."""
    url = migrated_sqlite(folder)
    sessions = session_factory(url)
    store, blobs = JobStore(sessions), LocalBlobStore(folder / "blobs")
    settings = WorkerSettings(url, str(folder / "blobs"), chunk_steps=chunk_steps)
    store.create("test.chunked", {"steps": 10, "log": str(folder / "runs.log")})
    store.create("test.train", {})
    states = []
    while (job := store.claim("worker-a")) is not None:
        states.append(run_job(job, "worker-a", store, blobs, sessions, settings))
    return store, states


def test_a_counter_of_ten_steps_runs_as_three_chunks_of_four_and_counts_each_run(tmp_path: Path) -> None:
    store, states = run_until_idle(tmp_path, chunk_steps=4)
    assert states == [JobState.queued, JobState.queued, JobState.succeeded, JobState.succeeded]
    assert (tmp_path / "runs.log").read_text().split() == ["0", "4", "8"]  # each run went on from the last
    counter, training = sorted(store.list_jobs(), key=lambda job: job.kind)
    assert (counter.kind, counter.state, counter.result, counter.attempts) == (
        "test.chunked",
        JobState.succeeded,
        {"counted": 10},
        1,  # chunks do not use up attempts
    )
    assert counter.run_s >= 10 * STEP_S
    assert (counter.device, counter.gpu_s) == ("cpu", 0.0)
    assert (training.device, training.state) == ("cuda", JobState.succeeded)
    assert training.gpu_s == training.run_s > 0


def test_without_chunks_the_counter_runs_once(tmp_path: Path) -> None:
    _, states = run_until_idle(tmp_path, chunk_steps=None)
    assert states == [JobState.succeeded, JobState.succeeded]
    assert (tmp_path / "runs.log").read_text().split() == ["0"]
