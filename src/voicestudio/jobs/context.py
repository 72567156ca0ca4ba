"""What a running job may use: progress reports (which deliver cancellation), the blob store, the database."""

import time
from collections.abc import Callable

from sqlalchemy.orm import Session, sessionmaker

from voicestudio.domain.jobs import Job, JsonObject
from voicestudio.domain.progress import Progress
from voicestudio.jobs.errors import JobCancelled, WorkerStopping
from voicestudio.jobs.events import EventBus, JobEvent
from voicestudio.jobs.store import CPU_DEVICE, JobStore
from voicestudio.storage.blobs import BlobStore


class JobContext:
    """Handed to a job function with its payload; `progress` is its ProgressCallback."""

    def __init__(
        self,
        job: Job,
        worker_id: str,
        store: JobStore,
        blobs: BlobStore,
        sessions: sessionmaker[Session],
        *,
        events: EventBus | None = None,
        progress_interval_s: float = 0.25,
        should_stop: Callable[[], bool] = lambda: False,
        chunk_steps: int | None = None,
    ) -> None:
        self.job = job
        self.worker_id = worker_id
        self.blobs = blobs
        self.sessions = sessions
        self._store = store
        self._events = events
        self._interval_s = progress_interval_s
        self._should_stop = should_stop
        self._last_write = float("-inf")
        self._last_stage: str | None = None
        self.chunk_steps = chunk_steps  # None: run to the end; else stop after this many steps (JobContinues)
        self._state_key = job.state_key
        self._device = CPU_DEVICE

    @property
    def job_id(self) -> str:
        return self.job.id

    @property
    def payload(self) -> JsonObject:
        return self.job.payload

    @property
    def attempt(self) -> int:
        """1 on the first run, 2 on the first retry, …"""
        return self.job.attempts

    @property
    def state_key(self) -> str | None:
        """The blob an earlier run saved with `save_state`, or None on a first run."""
        return self._state_key

    @property
    def device(self) -> str:
        """Where the job computes: "cpu" unless it said otherwise with `set_device`."""
        return self._device

    def set_device(self, name: str) -> None:
        """Say where the work runs ("cuda", "runpod", "modal"); the run's time counts as GPU time then."""
        self._device = name

    def save_state(self, key: str) -> None:
        """Record `key` (a stored blob) as the state the job's next run continues from."""
        self._store.record_state(self.job.id, self.worker_id, key)
        self._state_key = key

    def progress(self, progress: Progress, detail: JsonObject | None = None) -> None:
        """Record how far the job is, with the kind's own `detail` (JSON; None keeps the last one), at most
        every `progress_interval_s` and at each new stage or end.

        Raises JobCancelled when the user cancelled, WorkerStopping when the worker shuts down;
        let both pass, clean up in `finally`.
        """
        if self._should_stop():
            raise WorkerStopping
        now = time.monotonic()
        new_stage = progress.stage != self._last_stage
        if not new_stage and progress.done < progress.total and now - self._last_write < self._interval_s:
            return
        self._last_write = now
        self._last_stage = progress.stage
        job = self._store.record_progress(
            self.job.id, self.worker_id, progress.fraction, progress.stage, detail
        )
        if self._events is not None:
            self._events.publish(job.id, JobEvent.from_job(job))
        if job.cancel_requested:
            raise JobCancelled

    def check_cancelled(self) -> None:
        """Raise JobCancelled / WorkerStopping now if either is due, for long stretches without progress."""
        if self._should_stop():
            raise WorkerStopping
        if self._store.heartbeat(self.job.id, self.worker_id):
            raise JobCancelled
