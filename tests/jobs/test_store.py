"""The job queue in the database: claimed once, cancelled when asked, never lost when a worker dies."""

import threading
from datetime import timedelta

import pytest
from sqlalchemy import update

from voicestudio.db import JobRow, make_engine, utc_now
from voicestudio.jobs import JobError, JobLost, JobNotFound, JobState, JobStore


def test_a_queued_job_is_claimed_by_one_worker_and_counts_an_attempt(store: JobStore) -> None:
    job_id = store.create("oto.generate", {"style": "cv", "files": ["ka.wav"]}, max_attempts=2)
    queued = store.get(job_id)
    assert (queued.state, queued.attempts, queued.version, queued.payload["files"]) == (
        JobState.queued,
        0,
        1,
        ["ka.wav"],
    )
    running = store.claim("worker-a")
    assert running is not None
    assert (running.id, running.state, running.worker_id, running.attempts) == (
        job_id,
        JobState.running,
        "worker-a",
        1,
    )
    assert running.version > queued.version
    assert store.claim("worker-b") is None

    store.record_progress(job_id, "worker-a", 0.25, "aligning")
    assert (store.get(job_id).progress_fraction, store.get(job_id).progress_stage) == (0.25, "aligning")
    store.succeed(job_id, "worker-a", {"lines": 3})
    done = store.get(job_id)
    assert (done.state, done.result, done.progress_fraction, done.is_finished) == (
        JobState.succeeded,
        {"lines": 3},
        1.0,
        True,
    )
    assert done.created_at <= done.started_at <= done.finished_at  # type: ignore[operator]


def test_a_worker_only_claims_kinds_it_knows(store: JobStore) -> None:
    training = store.create("neural.train", {})
    oto = store.create("oto.generate", {})
    claimed = store.claim("cpu-worker", kinds={"oto.generate", "voicebank.build"})
    assert claimed is not None and claimed.id == oto
    assert store.claim("cpu-worker", kinds={"oto.generate"}) is None
    assert store.get(training).state is JobState.queued


def test_workers_claiming_at_the_same_moment_never_share_a_job(store: JobStore) -> None:
    job_ids = {store.create("test.append", {"n": n}) for n in range(40)}
    claimed: dict[str, list[str]] = {}
    start = threading.Barrier(6)

    def claim_all(worker_id: str) -> None:
        mine = claimed.setdefault(worker_id, [])
        start.wait()
        while (job := store.claim(worker_id)) is not None:
            mine.append(job.id)

    threads = [threading.Thread(target=claim_all, args=(f"worker-{n}",)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    everything = [job_id for ids in claimed.values() for job_id in ids]
    assert sorted(everything) == sorted(job_ids)  # each job exactly once
    assert all(store.get(job_id).attempts == 1 for job_id in job_ids)


def test_cancelling_a_queued_job_is_immediate_and_a_running_one_is_asked_to_stop(store: JobStore) -> None:
    queued = store.create("oto.generate", {})
    assert store.cancel(queued).state is JobState.cancelled
    assert store.claim("worker-a") is None

    running = store.create("oto.generate", {})
    assert store.claim("worker-a") is not None
    asked = store.cancel(running)
    assert (asked.state, asked.cancel_requested) == (JobState.running, True)
    assert store.record_progress(running, "worker-a", 0.5, "placing").cancel_requested
    assert store.heartbeat(running, "worker-a") is True
    store.mark_cancelled(running, "worker-a")
    assert store.get(running).state is JobState.cancelled
    assert store.cancel(running).state is JobState.cancelled  # cancelling again changes nothing


def test_jobs_of_a_dead_worker_go_back_to_the_queue_and_none_is_lost(store: JobStore) -> None:
    plain, cancelled, worn_out = (store.create("oto.generate", {"n": n}, max_attempts=2) for n in range(3))
    for _ in (plain, cancelled):
        assert store.claim("dead-worker") is not None
    store.cancel(cancelled)
    assert store.claim("dead-worker") is not None
    store.fail(worn_out, "dead-worker", "first try failed", requeue=True)
    assert store.claim("dead-worker") is not None  # its second and last attempt

    changed = store.requeue_interrupted()  # start-up: nobody can be running anything
    assert sorted(changed) == sorted([plain, cancelled, worn_out])
    assert (store.get(plain).state, store.get(plain).attempts) == (JobState.queued, 1)
    assert store.get(cancelled).state is JobState.cancelled
    failed = store.get(worn_out)
    assert (failed.state, failed.attempts) == (JobState.failed, 2)
    assert "worker stopped while running this job, 2 times" in (failed.error_message or "")

    again = store.claim("new-worker")
    assert again is not None and (again.id, again.attempts) == (plain, 2)
    store.succeed(plain, "new-worker", {"ok": True})
    assert store.get(plain).state is JobState.succeeded


def test_only_silent_workers_lose_their_jobs(store: JobStore, database_url: str) -> None:
    silent, alive = store.create("a", {}), store.create("b", {})
    assert store.claim("silent-worker", kinds={"a"}) is not None
    assert store.claim("alive-worker", kinds={"b"}) is not None
    long_ago = utc_now() - timedelta(minutes=5)
    engine = make_engine(database_url)
    with engine.begin() as connection:  # as if its last heartbeat was five minutes ago
        connection.execute(update(JobRow).where(JobRow.id == silent).values(heartbeat_at=long_ago))
    engine.dispose()
    assert store.requeue_interrupted(heartbeat_before=utc_now() - timedelta(seconds=20)) == [silent]
    assert store.get(alive).state is JobState.running
    assert store.requeue_interrupted(worker_id="someone-else") == []

    with pytest.raises(JobLost):  # the silent worker wakes up and tries to finish: too late
        store.succeed(silent, "silent-worker", {})
    assert store.get(silent).state is JobState.queued


def test_a_graceful_release_does_not_use_up_an_attempt(store: JobStore) -> None:
    job_id = store.create("neural.train", {})
    assert store.claim("worker-a") is not None
    store.release(job_id, "worker-a")
    assert (store.get(job_id).state, store.get(job_id).attempts) == (JobState.queued, 0)


def test_a_retryable_failure_queues_the_job_again_until_its_attempts_are_used(store: JobStore) -> None:
    job_id = store.create("oto.generate", {}, max_attempts=2)
    assert store.claim("w") is not None
    assert store.fail(job_id, "w", "hiccup", requeue=True) is JobState.queued
    assert store.claim("w") is not None
    assert store.fail(job_id, "w", "The take is silent. Record it again.") is JobState.failed
    failed = store.get(job_id)
    assert (failed.attempts, failed.error_message) == (2, "The take is silent. Record it again.")


def test_unknown_jobs_and_bad_payloads_are_explained(store: JobStore) -> None:
    with pytest.raises(JobNotFound, match="There is no job nope"):
        store.get("nope")
    with pytest.raises(JobError, match="must be plain JSON"):
        store.create("oto.generate", {"path": object()})
    with pytest.raises(JobError, match="There is no project gone"):
        store.create("oto.generate", {}, project_id="gone")
    assert [job.kind for job in store.list_jobs()] == []
    store.create("oto.generate", {}, project_id=None)
    assert [job.state for job in store.list_jobs(states={JobState.queued})] == [JobState.queued]


def _silence(database_url: str, job_id: str) -> None:
    """As if the job's worker last said it was alive five minutes ago."""
    engine = make_engine(database_url)
    with engine.begin() as connection:
        long_ago = utc_now() - timedelta(minutes=5)
        connection.execute(update(JobRow).where(JobRow.id == job_id).values(heartbeat_at=long_ago))
    engine.dispose()


def test_a_message_claims_the_job_it_names_and_a_duplicate_does_nothing(
    store: JobStore, database_url: str
) -> None:
    job_id = store.create("train", {}, max_attempts=3)
    first = store.claim_job(job_id, "gpu-a", stale_after_s=20)
    assert first is not None and (first.state, first.worker_id, first.attempts) == (
        JobState.running,
        "gpu-a",
        1,
    )
    assert store.claim_job(job_id, "gpu-b", stale_after_s=20) is None  # a duplicate: gpu-a is alive
    assert store.get(job_id).worker_id == "gpu-a"

    _silence(database_url, job_id)  # gpu-a died; its message comes back to gpu-b
    second = store.claim_job(job_id, "gpu-b", stale_after_s=20)
    assert second is not None and (second.worker_id, second.attempts) == ("gpu-b", 2)
    with pytest.raises(JobLost):
        store.succeed(job_id, "gpu-a", {})

    # gpu-b's run ended on a database error before it was recorded; the retried message is its own again
    again = store.claim_job(job_id, "gpu-b", stale_after_s=20)
    assert again is not None and again.attempts == 3
    store.succeed(job_id, "gpu-b", {"model_id": "m1"})
    assert store.claim_job(job_id, "gpu-c", stale_after_s=20) is None  # a late duplicate of a finished job
    assert store.get(job_id).result == {"model_id": "m1"}
    assert store.claim_job("no-such-job", "gpu-c", stale_after_s=20) is None


def test_a_redelivered_job_that_was_cancelled_or_worn_out_ends_instead_of_running(
    store: JobStore, database_url: str
) -> None:
    cancelled, worn_out = store.create("train", {}), store.create("train", {}, max_attempts=1)
    for job_id in (cancelled, worn_out):
        assert store.claim_job(job_id, "dead-worker", stale_after_s=20) is not None
        _silence(database_url, job_id)
    store.cancel(cancelled)
    assert store.claim_job(cancelled, "gpu-b", stale_after_s=20) is None
    assert store.claim_job(worn_out, "gpu-b", stale_after_s=20) is None
    assert store.get(cancelled).state is JobState.cancelled
    failed = store.get(worn_out)
    assert (failed.state, failed.attempts) == (JobState.failed, 1)
    assert "worker stopped while running this job, 1 times" in (failed.error_message or "")


def test_the_dispatcher_hears_of_every_job_that_enters_the_queue(database_url: str) -> None:
    sent: list[tuple[str, JobState]] = []
    store = JobStore.from_url(database_url, dispatch=lambda job: sent.append((job.id, job.state)))
    job_id = store.create("train", {})
    store.claim_job(job_id, "w", stale_after_s=20)
    store.continue_later(job_id, "w")  # its next chunk
    store.claim_job(job_id, "w", stale_after_s=20)
    store.fail(job_id, "w", "internal error", requeue=True)  # its next attempt
    store.claim_job(job_id, "w", stale_after_s=20)
    store.release(job_id, "w")  # the worker stops
    store.claim_job(job_id, "w", stale_after_s=20)
    store.requeue_interrupted()  # the worker died
    store.claim_job(job_id, "w", stale_after_s=20)
    store.succeed(job_id, "w", {})
    store.cancel(store.create("oto", {}))
    assert len(sent) == 6
    assert sent[:5] == [(job_id, JobState.queued)] * 5
    assert sent[5][1] is JobState.queued and sent[5][0] != job_id


def test_a_job_continuing_from_its_saved_state_keeps_its_progress(store: JobStore) -> None:
    fresh, chunked = store.create("oto", {}), store.create("train", {})
    for job_id in (fresh, chunked):
        store.claim_job(job_id, "w", stale_after_s=20)
        store.record_progress(job_id, "w", 0.25, "training")
    store.record_state(chunked, "w", "sha256/ab/cd/" + "ab" + "cd" + "0" * 60)
    store.continue_later(chunked, "w")
    store.release(fresh, "w")
    assert (store.get(chunked).progress_fraction, store.get(chunked).progress_stage) == (0.25, "training")
    assert store.claim_job(chunked, "w", stale_after_s=20).progress_fraction == 0.25  # type: ignore[union-attr]
    assert store.claim_job(fresh, "w", stale_after_s=20).progress_fraction == 0.0  # type: ignore[union-attr]


def test_each_run_adds_its_wall_time_and_gpu_time(store: JobStore) -> None:
    job_id = store.create("train", {})
    store.record_usage(job_id, "cpu", 1.5)  # preparing the dataset
    store.record_usage(job_id, "cuda", 2.0)  # one chunk of training
    store.record_usage(job_id, "cuda", 2.5)  # the next
    job = store.get(job_id)
    assert (job.device, job.run_s, job.gpu_s) == ("cuda", 6.0, 4.5)


def test_jobs_waiting_long_are_found_for_sending_again(store: JobStore, database_url: str) -> None:
    old, new = store.create("oto", {}), store.create("oto", {})
    engine = make_engine(database_url)
    with engine.begin() as connection:
        connection.execute(
            update(JobRow).where(JobRow.id == old).values(updated_at=utc_now() - timedelta(hours=2))
        )
    engine.dispose()
    assert [job.id for job in store.waiting_since(utc_now() - timedelta(hours=1))] == [old]
    assert {job.id for job in store.waiting_since(utc_now())} == {old, new}


def test_a_users_jobs_are_listed_in_one_query_newest_first(store: JobStore) -> None:
    older = store.create("oto", {}, owner="ema")
    store.create("oto", {}, owner="ryo")
    newer = store.create("train", {}, owner="ema")
    assert [job.id for job in store.list_jobs(owner="ema")] == [newer, older]
    assert [job.id for job in store.list_jobs(owner="ema", limit=1)] == [newer]
    assert store.list_jobs(owner="nobody") == []


def test_a_job_deleted_before_it_is_sent_is_not_sent(database_url: str) -> None:
    sent: list[str] = []
    store = JobStore.from_url(database_url, dispatch=lambda job: sent.append(job.id))
    store._queued("no-such-job")  # its project was deleted between the commit and the dispatch
    assert sent == []
