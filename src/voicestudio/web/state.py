"""What a running studio server holds: its database, blob store, job queue, event bus and worker."""

import logging

from voicestudio.db.engine import make_engine, session_factory
from voicestudio.db.migrate import upgrade_database
from voicestudio.jobs import JobStore, LocalWorker, PollingEventBus, WorkerSettings
from voicestudio.storage import LocalBlobStore, open_blob_store
from voicestudio.studio.jobs import JOB_MODULE
from voicestudio.web.settings import StudioSettings

_LOG = logging.getLogger("voicestudio.web")
EVENT_POLL_INTERVAL_S = 0.1  # how often a WebSocket watcher re-reads its job (the worker is another process)


class Studio:
    """The server's shared objects; `start` readies the database and the worker, `stop` ends the worker."""

    def __init__(self, settings: StudioSettings) -> None:
        self.settings = settings
        self.database_url = settings.resolved_database_url
        self.engine = make_engine(self.database_url)
        self.sessions = session_factory(self.engine)
        self.blobs = open_blob_store(settings.resolved_blob_location)
        self.jobs = JobStore(self.sessions)
        self.events = PollingEventBus(self.jobs, interval_s=EVENT_POLL_INTERVAL_S)
        self.worker: LocalWorker | None = None

    def worker_settings(self) -> WorkerSettings:
        return WorkerSettings(
            database_url=self.database_url,
            blob_location=self.settings.resolved_blob_location,
            job_modules=(JOB_MODULE,),
            poll_interval_s=self.settings.worker_poll_interval_s,
        )

    def start(self) -> None:
        """Migrate the database, give back jobs a killed server left running, start the worker children."""
        upgrade_database(self.database_url)
        requeued = self.jobs.requeue_interrupted()
        if requeued:
            _LOG.warning("%d job(s) interrupted by the last shutdown go back to the queue", len(requeued))
        if isinstance(self.blobs, LocalBlobStore):
            self.blobs.remove_stale_temporaries()
        if self.settings.worker_processes > 0:
            self.worker = LocalWorker(self.worker_settings(), processes=self.settings.worker_processes)
            self.worker.start()

    def stop(self) -> None:
        """Stop the worker (a running job goes back to the queue) and close the database connections."""
        if self.worker is not None:
            self.worker.stop()
            self.worker = None
        self.engine.dispose()
