"""Job progress as a stream of events, for the WebSocket: a protocol, and a bus that watches the job rows.

The worker runs in another process (or host), so the local bus polls the job row and reports each new
version; a Redis pub/sub bus can replace it behind the same protocol, with the worker publishing.
"""

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Protocol

from voicestudio.domain.jobs import FINISHED_STATES, Job, JobState, JsonObject
from voicestudio.jobs.store import JobStore


@dataclass(frozen=True, slots=True)
class JobEvent:
    """What a watcher needs to show about a job after one change."""

    job_id: str
    version: int
    state: JobState
    progress_fraction: float
    progress_stage: str
    cancel_requested: bool = False
    error_message: str | None = None
    result: JsonObject | None = None

    @classmethod
    def from_job(cls, job: Job) -> "JobEvent":
        return cls(
            job_id=job.id,
            version=job.version,
            state=job.state,
            progress_fraction=job.progress_fraction,
            progress_stage=job.progress_stage,
            cancel_requested=job.cancel_requested,
            error_message=job.error_message,
            result=job.result,
        )

    @property
    def is_final(self) -> bool:
        return self.state in FINISHED_STATES


class EventBus(Protocol):
    """Publishes job events and streams them to subscribers."""

    def publish(self, job_id: str, event: JobEvent) -> None:
        """Announce a change of the job (safe to call from any thread)."""
        ...

    def subscribe(self, job_id: str) -> AsyncIterator[JobEvent]:
        """The job's current state, then each change, ending after the final one."""
        ...


class PollingEventBus:
    """Reads the job row every `interval_s`, yields each new version; `publish` here wakes it early."""

    def __init__(self, store: JobStore, interval_s: float = 0.25) -> None:
        self._store = store
        self._interval_s = interval_s
        self._wakers: dict[str, set[tuple[asyncio.AbstractEventLoop, asyncio.Event]]] = {}

    def publish(self, job_id: str, event: JobEvent) -> None:
        """The database already holds the change; wake this process's subscribers so they read it now."""
        for loop, wake in list(self._wakers.get(job_id, ())):
            if not loop.is_closed():
                loop.call_soon_threadsafe(wake.set)

    async def subscribe(self, job_id: str) -> AsyncIterator[JobEvent]:
        """Events of one job until it finishes; JobNotFound if there is no such job."""
        waker = (asyncio.get_running_loop(), asyncio.Event())
        self._wakers.setdefault(job_id, set()).add(waker)
        try:
            seen_version = -1
            while True:
                job = await asyncio.to_thread(self._store.get, job_id)
                if job.version != seen_version:
                    seen_version = job.version
                    event = JobEvent.from_job(job)
                    yield event
                    if event.is_final:
                        return
                wake = waker[1]
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(wake.wait(), timeout=self._interval_s)
                wake.clear()
        finally:
            subscribers = self._wakers.get(job_id)
            if subscribers is not None:
                subscribers.discard(waker)
                if not subscribers:
                    del self._wakers[job_id]
