"""Waiting for a job that another process runs: re-read its row until it gets where the test expects."""

import time
from collections.abc import Callable

from voicestudio.jobs import Job, JobStore

GIVE_UP_AFTER_S = 60.0  # only so that a broken worker fails the test instead of hanging it


def wait_for_job(store: JobStore, job_id: str, arrived: Callable[[Job], bool], where: str) -> Job:
    """The job as soon as `arrived(job)`; AssertionError naming `where` if it never gets there."""
    give_up = time.monotonic() + GIVE_UP_AFTER_S
    while True:
        job = store.get(job_id)
        if arrived(job):
            return job
        if time.monotonic() > give_up:
            raise AssertionError(f"job {job_id} never got {where}; last seen: {job}")
        time.sleep(0.01)


def finished(store: JobStore, job_id: str) -> Job:
    return wait_for_job(store, job_id, lambda job: job.is_finished, "finished")


def eventually(holds: Callable[[], bool], what: str) -> None:
    """Return once `holds()`; AssertionError naming `what` if it never does (a respawn takes seconds)."""
    give_up = time.monotonic() + GIVE_UP_AFTER_S
    while not holds():
        if time.monotonic() > give_up:
            raise AssertionError(f"{what} never happened")
        time.sleep(0.05)
