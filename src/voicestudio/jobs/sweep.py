"""The periodic sweep a broker-fed studio needs: no job may hang because a worker or a message was lost."""

import logging
import threading
import time
from dataclasses import dataclass
from datetime import timedelta
from typing import Final, Protocol

from sqlalchemy.exc import SQLAlchemyError

from voicestudio.db.types import utc_now
from voicestudio.domain.jobs import Job
from voicestudio.jobs.store import JobStore

SWEEP_INTERVAL_S: Final = 5.0

_LOG = logging.getLogger("voicestudio.jobs")


class Redispatch(Protocol):
    """A dispatcher that can send a job again and retry what the broker refused (CeleryDispatcher)."""

    def __call__(self, job: Job) -> None: ...

    def resend_undelivered(self) -> int: ...


@dataclass(frozen=True, slots=True)
class SweepCount:
    """What one sweep did."""

    requeued: int  # running jobs whose worker went silent, queued again (and sent) or ended
    resent: int  # queued jobs sent again: the broker had refused them, or they waited very long


class Sweeper:
    """Every `interval_s`: give back jobs whose worker has been silent for `stale_after_s` (the store sends
    the re-queued ones again), retry messages the broker refused, and send again jobs that have waited
    `resend_after_s` (a broker restarted without its queue). Several API servers may sweep at once.
    """

    def __init__(
        self,
        store: JobStore,
        dispatch: Redispatch,
        *,
        stale_after_s: float,
        resend_after_s: float,
        interval_s: float = SWEEP_INTERVAL_S,
    ) -> None:
        self._store = store
        self._dispatch = dispatch
        self._stale_after_s = stale_after_s
        self._resend_after_s = resend_after_s
        self._interval_s = interval_s
        self._resent_at: dict[str, float] = {}  # job id -> monotonic time this sweeper last sent it
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def sweep(self) -> SweepCount:
        """One sweep now."""
        now = utc_now()
        requeued = self._store.requeue_interrupted(
            heartbeat_before=now - timedelta(seconds=self._stale_after_s)
        )
        resent = self._dispatch.resend_undelivered()
        clock = time.monotonic()
        waiting = self._store.waiting_since(now - timedelta(seconds=self._resend_after_s))
        self._resent_at = {job.id: self._resent_at[job.id] for job in waiting if job.id in self._resent_at}
        for job in waiting:
            if clock - self._resent_at.get(job.id, float("-inf")) >= self._resend_after_s:
                _LOG.warning(
                    "job %s (%s) has waited since %s; sending it again", job.id, job.kind, job.updated_at
                )
                self._dispatch(job)
                self._resent_at[job.id] = clock
                resent += 1
        return SweepCount(requeued=len(requeued), resent=resent)

    def start(self) -> None:
        """Sweep in a background thread until `stop`."""
        if self._thread is not None:
            raise RuntimeError("this Sweeper was already started")
        self._thread = threading.Thread(target=self._loop, name="voicestudio-job-sweeper", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """End the background sweeps (the one under way finishes first)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None

    def _loop(self) -> None:
        while not self._stop.wait(self._interval_s):
            try:
                self.sweep()
            except SQLAlchemyError:
                _LOG.exception(
                    "the job sweep cannot use the database; trying again in %.0f s", self._interval_s
                )
            except Exception:  # the thread must outlive any one sweep, or no lost job is ever sent again
                _LOG.exception("the job sweep failed; trying again in %.0f s", self._interval_s)
