"""A job that vanishes or changes hands mid-way: the sweep keeps sweeping, and no run is counted twice."""

import threading
from pathlib import Path

from voicestudio.db.engine import session_factory
from voicestudio.domain.jobs import Job, JsonObject
from voicestudio.domain.progress import Progress
from voicestudio.jobs import JobContext, JobNotFound, JobState, JobStore, register
from voicestudio.jobs.runner import WorkerSettings, run_job
from voicestudio.jobs.sweep import Sweeper
from voicestudio.storage import LocalBlobStore

WAIT_S = 30.0  # a ceiling for Event.wait; the test goes on as soon as the event is set


class VanishingDispatcher:
    """A broker whose first retry meets a job deleted with its project; later sweeps find it healthy."""

    def __init__(self) -> None:
        self.sweeps = 0
        self.second_sweep = threading.Event()

    def __call__(self, job: Job) -> None:
        pass

    def resend_undelivered(self) -> int:
        self.sweeps += 1
        if self.sweeps == 1:
            raise JobNotFound("There is no job 1234. It may belong to a deleted project.")
        self.second_sweep.set()
        return 0


def test_a_sweep_that_meets_a_vanished_job_keeps_the_sweeper_alive(store: JobStore) -> None:
    dispatcher = VanishingDispatcher()
    sweeper = Sweeper(store, dispatcher, stale_after_s=20.0, resend_after_s=3600.0, interval_s=0.01)
    sweeper.start()
    try:
        assert dispatcher.second_sweep.wait(WAIT_S)
        assert sweeper._thread is not None and sweeper._thread.is_alive()
    finally:
        sweeper.stop()
    assert dispatcher.sweeps >= 2


STORES: list[JobStore] = []  # the store of the test that runs now


def lose_the_job(payload: JsonObject, ctx: JobContext) -> JsonObject:
    """Have the job taken over by another worker mid-way, then report progress as if nothing happened."""
    store = STORES[0]
    store.requeue_interrupted(worker_id="slow-worker")  # the sweep thought this worker dead
    assert store.claim("other-worker", ["lose-the-job"]) is not None
    ctx.progress(Progress("training", 1, 2))  # JobLost: the job is the other worker's now
    return {}


register("lose-the-job", lose_the_job)


def test_a_run_whose_job_went_to_another_worker_does_not_count_its_time(
    database_url: str, tmp_path: Path
) -> None:
    sessions = session_factory(database_url)
    store = JobStore(sessions)

    STORES[:] = [store]
    job_id = store.create("lose-the-job", {})
    job = store.claim("slow-worker", ["lose-the-job"])
    assert job is not None
    settings = WorkerSettings(database_url=database_url, blob_location=str(tmp_path))

    state = run_job(job, "slow-worker", store, LocalBlobStore(tmp_path), sessions, settings)

    after = store.get(job_id)
    assert (state, after.state, after.worker_id) == (JobState.running, JobState.running, "other-worker")
    assert (after.run_s, after.gpu_s, after.device) == (0.0, 0.0, None)  # the other worker's run counts it
