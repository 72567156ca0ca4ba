"""Jobs through Celery on a Redis broker: the app, its one task (run the job with this id) and the dispatcher.

The database stays the source of truth; a message only says "job <id> waits on queue cpu/gpu". The task
claims that job with a compare-and-set, so a duplicate or redelivered message is harmless, and acks it
late, so a message whose worker died comes back after the broker's visibility timeout.
"""

import logging
import os
import threading
from dataclasses import dataclass
from typing import Final

from celery import Celery
from celery.signals import worker_shutting_down
from kombu.exceptions import OperationalError as BrokerUnavailable
from redis.exceptions import RedisError
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from voicestudio.db.engine import make_engine, session_factory
from voicestudio.domain.jobs import Job
from voicestudio.jobs.events import JobEvent
from voicestudio.jobs.redis_events import RedisEventBus
from voicestudio.jobs.registry import CPU_QUEUE, job_queue
from voicestudio.jobs.runner import WorkerSettings, load_job_modules, new_worker_id, run_job
from voicestudio.jobs.store import JobStore
from voicestudio.storage.blobs import BlobStore, StorageError
from voicestudio.storage.factory import open_blob_store

RUN_JOB_TASK: Final = "voicestudio.run_job"
SKIPPED: Final = "skipped"  # what the task returns for a message with nothing left to do
RETRY_BACKOFF_MAX_S: Final = 600  # a database or store that is down is tried again at most this far apart
MAX_RETRIES: Final = 20  # then the message is dropped; the studio's sweep sends the job again later
RESTORE_SWEEPS_PER_TIMEOUT: Final = 4  # workers look for messages past their visibility timeout this often

_LOG = logging.getLogger("voicestudio.jobs")


@dataclass(frozen=True, slots=True)
class CeleryConfig:
    """The broker, how long a message may stay unacknowledged, and what the workers run and where."""

    broker_url: str  # redis://host:6379/0; also carries the job events (pub/sub)
    visibility_timeout_s: float  # an unacked message goes back to its queue after this; > one chunk
    worker: WorkerSettings


def make_celery_app(config: CeleryConfig) -> Celery:
    """A Celery app on `config.broker_url` with the job task registered; the API side only sends with it."""
    app = Celery("voicestudio", broker=config.broker_url, set_as_current=False)
    restore_every_s = min(60.0, max(1.0, config.visibility_timeout_s / RESTORE_SWEEPS_PER_TIMEOUT))
    app.conf.update(
        task_acks_late=True,  # ack after the run: a message whose worker died is delivered again
        task_reject_on_worker_lost=True,  # a pool child that dies gives its message back at once
        worker_prefetch_multiplier=1,  # a busy worker holds no queued job hostage
        broker_transport_options={
            "visibility_timeout": config.visibility_timeout_s,
            "unacked_restore_interval": restore_every_s,
            "unacked_restore_throttle": 1,
        },
        broker_connection_retry_on_startup=True,
        task_default_queue=CPU_QUEUE,
        task_serializer="json",
        accept_content=["json"],
        task_ignore_result=True,  # the jobs table holds every result
        worker_hijack_root_logger=False,
        worker_redirect_stdouts=False,
        worker_send_task_events=False,
    )
    runtime = _WorkerRuntime(config, CeleryDispatcher(app))

    def run_dispatched_job(job_id: str) -> str:
        """Claim the job this message names and run it (one chunk of it); returns the state it was left in."""
        return runtime.run(job_id)

    app.task(
        name=RUN_JOB_TASK,
        autoretry_for=(SQLAlchemyError, StorageError),  # the database or blob store is down for a while
        retry_backoff=True,
        retry_backoff_max=RETRY_BACKOFF_MAX_S,
        retry_jitter=True,
        max_retries=MAX_RETRIES,
    )(run_dispatched_job)
    worker_shutting_down.connect(runtime.on_worker_shutting_down)  # weak: it goes with the app
    return app


class CeleryDispatcher:
    """Sends each queued job to its kind's queue (a Dispatch for JobStore); remembers what the broker refused
    so that `resend_undelivered` can try again."""

    def __init__(self, app: Celery) -> None:
        self._app = app
        self._lock = threading.Lock()
        self._undelivered: dict[str, str] = {}  # job id -> queue

    def __call__(self, job: Job) -> None:
        self.send(job.id, job_queue(job.kind))

    def send(self, job_id: str, queue: str) -> bool:
        """Send one message for the job; False (logged, remembered) if the broker cannot be reached."""
        try:
            self._app.send_task(RUN_JOB_TASK, args=[job_id], queue=queue)
        except (BrokerUnavailable, RedisError, OSError) as error:
            _LOG.error("job %s not sent to the %s queue (%s); it will be sent again", job_id, queue, error)
            with self._lock:
                self._undelivered[job_id] = queue
            return False
        with self._lock:
            self._undelivered.pop(job_id, None)
        return True

    def resend_undelivered(self) -> int:
        """Send again what the broker refused before; the number now sent."""
        with self._lock:
            waiting = dict(self._undelivered)
        return sum(self.send(job_id, queue) for job_id, queue in waiting.items())


@dataclass(frozen=True, slots=True)
class _Resources:
    """One worker process's connections; made after a pool child starts, never shared across a fork."""

    pid: int
    worker_id: str
    engine: Engine
    sessions: sessionmaker[Session]
    store: JobStore
    blobs: BlobStore
    events: RedisEventBus


class _WorkerRuntime:
    """What the task uses in a worker process, made on its first message there."""

    def __init__(self, config: CeleryConfig, dispatcher: CeleryDispatcher) -> None:
        self._config = config
        self._dispatcher = dispatcher
        self._resources: _Resources | None = None
        self._lock = threading.Lock()
        self.stopping = threading.Event()  # the worker shuts down: running jobs go back to the queue

    def run(self, job_id: str) -> str:
        settings = self._config.worker
        held = self._current()
        job = held.store.claim_job(job_id, held.worker_id, settings.stale_after_s)
        if job is None:
            _LOG.info("job %s: nothing to run (finished, cancelled or running on a live worker)", job_id)
            return SKIPPED
        held.events.publish(job.id, JobEvent.from_job(job))
        state = run_job(
            job,
            held.worker_id,
            held.store,
            held.blobs,
            held.sessions,
            settings,
            events=held.events,
            should_stop=self.stopping.is_set,
        )
        return state.value

    def on_worker_shutting_down(self, **_: object) -> None:
        """A warm shutdown: the job running in this process stops at its next progress report."""
        self.stopping.set()

    def _current(self) -> _Resources:
        with self._lock:
            if self._resources is None or self._resources.pid != os.getpid():
                self._resources = self._open()
            return self._resources

    def _open(self) -> _Resources:
        settings = self._config.worker
        load_job_modules(settings.job_modules)
        blobs = open_blob_store(settings.blob_location)
        engine = make_engine(settings.database_url)
        sessions = session_factory(engine)
        store = JobStore(sessions, dispatch=self._dispatcher)
        queues = "+".join(settings.queues) if settings.queues else "all"
        worker_id = new_worker_id(f"celery-{queues}-{os.getpid()}")
        _LOG.info("worker %s (pid %d) takes jobs from the %s queue(s)", worker_id, os.getpid(), queues)
        return _Resources(
            pid=os.getpid(),
            worker_id=worker_id,
            engine=engine,
            sessions=sessions,
            store=store,
            blobs=blobs,
            events=RedisEventBus(self._config.broker_url, store),
        )
