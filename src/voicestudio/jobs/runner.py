"""Running jobs: one claimed job through its function to a recorded end, and the claim → run → record loop."""

import importlib
import json
import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from types import TracebackType
from typing import Literal, Protocol

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from voicestudio.db.engine import make_engine, session_factory
from voicestudio.db.types import utc_now
from voicestudio.domain.jobs import Job, JobState
from voicestudio.errors import VoicestudioError
from voicestudio.jobs.context import JobContext
from voicestudio.jobs.errors import JobCancelled, JobContinues, JobError, JobLost, WorkerStopping
from voicestudio.jobs.events import EventBus, JobEvent
from voicestudio.jobs.registry import job_function, registered_kinds
from voicestudio.jobs.store import JobStore
from voicestudio.logs import job_log_context
from voicestudio.storage.blobs import BlobStore
from voicestudio.storage.factory import open_blob_store

_LOG = logging.getLogger("voicestudio.jobs")


@dataclass(frozen=True, slots=True)
class WorkerSettings:
    """Where a worker finds its jobs and files, which modules define its job kinds, and its pace.

    Plain values, so a spawned child process receives exactly what its parent was given.
    """

    database_url: str
    blob_location: str
    job_modules: tuple[str, ...] = ()  # imported by the worker; each registers its kinds
    poll_interval_s: float = 0.5  # how often an idle worker looks for queued jobs
    progress_interval_s: float = 0.25  # at most one progress write (and cancel check) per this
    heartbeat_interval_s: float = 2.0  # a running job's worker says it is alive this often
    stale_after_s: float = 20.0  # a running job silent this long lost its worker: queue it again
    log_format: Literal["text", "json"] = "text"  # the worker's log lines (see voicestudio.logs)
    log_level: str = "INFO"
    chunk_steps: int | None = None  # long jobs stop after this many steps and continue in a new run
    queues: tuple[str, ...] | None = None  # run only kinds that wait on these queues; None: every kind


class StopSignal(Protocol):
    """threading.Event and multiprocessing's Event both fit."""

    def is_set(self) -> bool: ...

    def wait(self, timeout: float | None = None) -> bool: ...


def new_worker_id(label: str = "worker") -> str:
    """A worker's name in the jobs table: host, label and a random suffix (unique across restarts)."""
    return f"{socket.gethostname()}:{label}:{uuid.uuid4().hex[:8]}"


def load_job_modules(modules: Sequence[str]) -> None:
    """Import the modules that register job kinds; JobError naming the one that is missing."""
    for name in modules:
        try:
            importlib.import_module(name)
        except ImportError as error:
            raise JobError(
                f"The job module {name!r} cannot be imported ({error}). Check the worker's job modules."
            ) from error


def run_job(
    job: Job,
    worker_id: str,
    store: JobStore,
    blobs: BlobStore,
    sessions: sessionmaker[Session],
    settings: WorkerSettings,
    *,
    events: EventBus | None = None,
    should_stop: Callable[[], bool] = lambda: False,
) -> JobState:
    """Run one claimed job and record how it ended; returns the state it was left in.

    The user reads the message of a VoicestudioError; any other exception is logged with its
    traceback and an id, and the job is tried again until it has used its attempts.
    """
    try:
        with job_log_context(job.id):
            state = _run(job, worker_id, store, blobs, sessions, settings, events, should_stop)
    except JobLost as lost:
        _LOG.warning("%s; its result is dropped", lost)
        return store.get(job.id).state
    if events is not None:
        events.publish(job.id, JobEvent.from_job(store.get(job.id)))
    return state


def _run(
    job: Job,
    worker_id: str,
    store: JobStore,
    blobs: BlobStore,
    sessions: sessionmaker[Session],
    settings: WorkerSettings,
    events: EventBus | None,
    should_stop: Callable[[], bool],
) -> JobState:
    _LOG.info("job %s (%s) attempt %d/%d on %s", job.id, job.kind, job.attempts, job.max_attempts, worker_id)
    started = time.monotonic()
    try:
        function = job_function(job.kind)
        with _Heartbeat(store, job.id, worker_id, settings.heartbeat_interval_s) as heartbeat:
            context = JobContext(
                job,
                worker_id,
                store,
                blobs,
                sessions,
                events=events,
                progress_interval_s=settings.progress_interval_s,
                should_stop=lambda: should_stop() or heartbeat.lost,
                chunk_steps=settings.chunk_steps,
            )
            # Every ending counts the run's time, before the ending itself is recorded; a lost job's
            # time is counted by the worker that holds it now, not twice.
            try:
                result = function(dict(job.payload), context)
            except JobLost:
                raise
            except BaseException:
                if not heartbeat.lost:
                    store.record_usage(job.id, context.device, time.monotonic() - started)
                raise
            if not heartbeat.lost:
                store.record_usage(job.id, context.device, time.monotonic() - started)
        if not isinstance(result, dict):
            raise TypeError(f"job function for {job.kind!r} returned {type(result).__name__}, not a dict")
        json.dumps(result, allow_nan=False)
    except JobCancelled:
        store.mark_cancelled(job.id, worker_id)
        _LOG.info("job %s cancelled", job.id)
        return JobState.cancelled
    except JobContinues:
        store.continue_later(job.id, worker_id)
        _LOG.info("job %s saved its state and goes back to the queue for its next chunk", job.id)
        return JobState.queued
    except WorkerStopping:
        store.release(job.id, worker_id)
        _LOG.info("job %s put back in the queue: the worker is stopping", job.id)
        return JobState.queued
    except VoicestudioError as error:
        _LOG.info("job %s failed: %s", job.id, error.message)
        return store.fail(job.id, worker_id, error.message)
    except Exception:
        incident = uuid.uuid4().hex[:8]
        _LOG.exception("job %s (%s) internal error %s", job.id, job.kind, incident)
        retry = job.attempts < job.max_attempts
        tried = f"tried {job.attempts} of {job.max_attempts} times"
        then = "it will run again" if retry else "run it again, and report the id if it keeps failing"
        message = f"The {job.kind} job stopped on an internal error (id {incident}, {tried}); {then}."
        return store.fail(job.id, worker_id, message, requeue=retry)
    store.succeed(job.id, worker_id, result)
    _LOG.info("job %s succeeded", job.id)
    return JobState.succeeded


class _Heartbeat:
    """A thread that tells the database the job's worker is alive, even while the job computes silently."""

    def __init__(self, store: JobStore, job_id: str, worker_id: str, interval_s: float) -> None:
        self._store = store
        self._job_id = job_id
        self._worker_id = worker_id
        self._interval_s = interval_s
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._beat, name=f"heartbeat-{job_id[:8]}", daemon=True)
        self.lost = False

    def __enter__(self) -> "_Heartbeat":
        self._thread.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self._done.set()
        self._thread.join()

    def _beat(self) -> None:
        while not self._done.wait(self._interval_s):
            try:
                self._store.heartbeat(self._job_id, self._worker_id)
            except JobLost:
                self.lost = True
                return
            except SQLAlchemyError:
                _LOG.warning("heartbeat of job %s not recorded", self._job_id, exc_info=True)


def work(settings: WorkerSettings, worker_id: str, stop: StopSignal) -> None:
    """Claim, run and record jobs until `stop` is set; also re-queues jobs whose worker went silent."""
    load_job_modules(settings.job_modules)
    kinds = registered_kinds(settings.queues)
    engine = make_engine(settings.database_url)
    sessions = session_factory(engine)
    store = JobStore(sessions)
    blobs = open_blob_store(settings.blob_location)
    _LOG.info("worker %s (pid %d) runs %s", worker_id, os.getpid(), ", ".join(sorted(kinds)) or "no kinds")
    last_sweep = float("-inf")
    try:
        while not stop.is_set():
            try:
                if time.monotonic() - last_sweep >= settings.heartbeat_interval_s:
                    last_sweep = time.monotonic()
                    silent_since = utc_now() - timedelta(seconds=settings.stale_after_s)
                    store.requeue_interrupted(heartbeat_before=silent_since)
                job = store.claim(worker_id, kinds)
                if job is None:
                    stop.wait(settings.poll_interval_s)
                    continue
                run_job(job, worker_id, store, blobs, sessions, settings, should_stop=stop.is_set)
            except SQLAlchemyError:
                _LOG.exception("worker %s cannot use the database; trying again", worker_id)
                stop.wait(max(settings.poll_interval_s, 1.0))
    finally:
        engine.dispose()
