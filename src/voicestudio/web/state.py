"""What a running studio server holds: its database, blob store, job queue, event bus and job backend.

With the local backend the server runs worker children that poll the jobs table; with Celery it sends each
queued job to the broker, follows progress over Redis pub/sub and sweeps up jobs whose worker died.
"""

import logging

from celery import Celery

from voicestudio.db.engine import PoolSettings, make_engine, session_factory
from voicestudio.db.migrate import upgrade_database
from voicestudio.jobs import EventBus, JobStore, LocalWorker, PollingEventBus, WorkerSettings
from voicestudio.jobs.celery_app import CeleryConfig, CeleryDispatcher, make_celery_app
from voicestudio.jobs.redis_events import RedisEventBus
from voicestudio.jobs.sweep import Sweeper
from voicestudio.settings import StudioSettings
from voicestudio.storage import open_blob_store
from voicestudio.studio.jobs import JOB_MODULE
from voicestudio.studio.workers import worker_settings

_LOG = logging.getLogger("voicestudio.web")
EVENT_POLL_INTERVAL_S = 0.1  # how often a WebSocket watcher re-reads its job (the worker is another process)


class Studio:
    """The server's shared objects; `start` readies the database and the job backend, `stop` ends it."""

    def __init__(self, settings: StudioSettings) -> None:
        self.settings = settings
        self.database_url = settings.resolved_database_url
        pool = PoolSettings(settings.db_pool_size, settings.db_max_overflow, settings.db_pool_recycle_s)
        self.engine = make_engine(self.database_url, pool=pool)
        self.sessions = session_factory(self.engine)
        self.blobs = open_blob_store(settings.resolved_blob_location)
        self.worker: LocalWorker | None = None
        self.sweeper: Sweeper | None = None
        self.celery: Celery | None = None  # only sends messages; the workers run `voicestudio worker`
        self.events: EventBus
        if settings.job_backend == "celery":
            config = CeleryConfig(
                settings.broker_url, settings.celery_visibility_timeout_s, self.worker_settings()
            )
            self.celery = make_celery_app(config)
            dispatcher = CeleryDispatcher(self.celery)
            self.jobs = JobStore(self.sessions, dispatch=dispatcher)
            self.events = RedisEventBus(settings.broker_url, self.jobs)
            self.sweeper = Sweeper(
                self.jobs,
                dispatcher,
                stale_after_s=config.worker.stale_after_s,
                resend_after_s=settings.celery_visibility_timeout_s,
            )
        else:
            self.jobs = JobStore(self.sessions)
            self.events = PollingEventBus(self.jobs, interval_s=EVENT_POLL_INTERVAL_S)

    def worker_settings(self) -> WorkerSettings:
        """What this studio's workers run: its database, blobs and job kinds (in chunks with Celery)."""
        return worker_settings(self.settings, job_modules=(JOB_MODULE,))

    def start(self) -> None:
        """Migrate the database, then start the local worker children, or the sweep of a Celery studio."""
        upgrade_database(self.database_url)
        self.blobs.remove_stale_temporaries()
        if self.sweeper is not None:
            self.sweeper.start()  # Celery workers outlive API server restarts: nothing to give back here
            return
        requeued = self.jobs.requeue_interrupted()
        if requeued:
            _LOG.warning("%d job(s) interrupted by the last shutdown go back to the queue", len(requeued))
        if self.settings.worker_processes > 0:
            self.worker = LocalWorker(self.worker_settings(), processes=self.settings.worker_processes)
            self.worker.start()

    def stop(self) -> None:
        """Stop the worker (a running job goes back to the queue) or the sweep; close the connections."""
        if self.worker is not None:
            self.worker.stop()
            self.worker = None
        if self.sweeper is not None:
            self.sweeper.stop()
        if self.celery is not None:
            self.celery.close()
        if isinstance(self.events, RedisEventBus):
            self.events.close()
        self.engine.dispose()
