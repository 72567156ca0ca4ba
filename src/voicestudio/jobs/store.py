"""Jobs in the database: create, claim atomically, report progress, finish; portable SQL only.

Every change bumps `version`, and every worker-side change is a compare-and-set on (`worker_id`,
`state` = running), so two workers never hold the same job and a worker that lost its job finds out.
Each time a job (re)enters the queue the store calls its `dispatch`, so a broker can hand it to a worker.
"""

import json
import logging
from collections.abc import Callable, Collection
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import CursorResult, Select, Update, case, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from voicestudio.db.engine import session_factory
from voicestudio.db.models import JobRow
from voicestudio.db.types import utc_now
from voicestudio.domain.jobs import Job, JobState, JsonObject
from voicestudio.jobs.errors import JobError, JobLost, JobNotFound

DEFAULT_MAX_ATTEMPTS = 3
CLAIM_CANDIDATES = 8  # queued jobs looked at per claim try; losing a race moves on to the next one
CPU_DEVICE = "cpu"  # time on any other device ("cuda", "runpod", "modal") counts as GPU time

Dispatch = Callable[[Job], None]
"""Told of each job that is queued (new, next chunk, retry, given back), after the change is committed."""

_LOG = logging.getLogger("voicestudio.jobs")


class JobStore:
    """The jobs table as a queue that survives restarts of the API and of its workers."""

    def __init__(self, sessions: sessionmaker[Session], *, dispatch: Dispatch | None = None) -> None:
        self._sessions = sessions
        self._dispatch = dispatch  # None: workers find queued jobs by polling the table

    @classmethod
    def from_url(cls, url: str | None = None, *, dispatch: Dispatch | None = None) -> "JobStore":
        """A store on the database at `url` (default: SQLite in the data folder)."""
        return cls(session_factory(url), dispatch=dispatch)

    # --- the API side ---------------------------------------------------------------------------

    def create(
        self,
        kind: str,
        payload: JsonObject,
        project_id: str | None = None,
        *,
        owner: str | None = None,
        max_attempts: int = DEFAULT_MAX_ATTEMPTS,
    ) -> str:
        """Queue a job of `kind` with its inputs (JSON); returns its id."""
        if max_attempts < 1:
            raise ValueError(f"max_attempts must be at least 1, not {max_attempts}")
        try:
            json.dumps(payload, allow_nan=False)
        except (TypeError, ValueError) as error:
            raise JobError(f"The inputs of a {kind} job must be plain JSON ({error}).") from None
        now = utc_now()
        row = JobRow(
            kind=kind,
            state=JobState.queued.value,
            payload=payload,
            project_id=project_id,
            owner=owner,
            max_attempts=max_attempts,
            attempts=0,
            version=1,
            cancel_requested=False,
            progress_fraction=0.0,
            progress_stage="",
            created_at=now,
            updated_at=now,
        )
        try:
            with self._sessions.begin() as session:
                session.add(row)
        except IntegrityError:
            raise JobError(
                f"There is no project {project_id} for a {kind} job; it may be deleted. Reload the page."
            ) from None
        self._queued(row.id)
        return row.id

    def get(self, job_id: str) -> Job:
        """The job as it is now; JobNotFound if there is none with that id."""
        with self._sessions() as session:
            row = session.get(JobRow, job_id)
            if row is None:
                raise JobNotFound(f"There is no job {job_id}. It may belong to a deleted project.")
            return _to_job(row)

    def list_jobs(
        self,
        project_id: str | None = None,
        *,
        owner: str | None = None,
        states: Collection[JobState] | None = None,
        limit: int = 100,
    ) -> list[Job]:
        """The newest jobs first (one query), of one project and/or one owner or of all, in the given
        states or in any."""
        query = select(JobRow).order_by(JobRow.created_at.desc(), JobRow.id).limit(limit)
        if project_id is not None:
            query = query.where(JobRow.project_id == project_id)
        if owner is not None:
            query = query.where(JobRow.owner == owner)
        if states is not None:
            query = query.where(JobRow.state.in_(sorted(state.value for state in states)))
        with self._sessions() as session:
            return [_to_job(row) for row in session.scalars(query)]

    def waiting_since(self, before: datetime, *, limit: int = 100) -> list[Job]:
        """Queued jobs unchanged since `before`, oldest first: their message to a worker may be lost."""
        query = (
            select(JobRow)
            .where(JobRow.state == JobState.queued.value, JobRow.updated_at < before)
            .order_by(JobRow.updated_at, JobRow.id)
            .limit(limit)
        )
        with self._sessions() as session:
            return [_to_job(row) for row in session.scalars(query)]

    def cancel(self, job_id: str) -> Job:
        """Cancel at once if queued; if running, ask the worker to stop at its next progress report."""
        now = utc_now()
        with self._sessions.begin() as session:
            done = _changed(
                session,
                _bump(job_id, now)
                .where(JobRow.state == JobState.queued.value)
                .values(state=JobState.cancelled.value, finished_at=now),
            )
            if not done:
                _changed(
                    session,
                    _bump(job_id, now)
                    .where(JobRow.state == JobState.running.value, JobRow.cancel_requested.is_(False))
                    .values(cancel_requested=True),
                )
        return self.get(job_id)

    # --- the worker side --------------------------------------------------------------------------

    def claim(self, worker_id: str, kinds: Collection[str] | None = None) -> Job | None:
        """Take the oldest queued job (of `kinds`, if given) for `worker_id`; None when nothing is waiting."""
        query = (
            select(JobRow.id, JobRow.version)
            .where(JobRow.state == JobState.queued.value)
            .order_by(JobRow.created_at, JobRow.id)
            .limit(CLAIM_CANDIDATES)
        )
        if kinds is not None:
            query = query.where(JobRow.kind.in_(sorted(kinds)))
        while True:
            with self._sessions() as session:
                candidates = session.execute(query).all()
                session.rollback()
                if not candidates:
                    return None
                for job_id, version in candidates:
                    now = utc_now()
                    statement = (
                        update(JobRow)
                        .where(
                            JobRow.id == job_id,
                            JobRow.version == version,
                            JobRow.state == JobState.queued.value,
                        )
                        .values(
                            state=JobState.running.value,
                            worker_id=worker_id,
                            attempts=JobRow.attempts + 1,
                            version=JobRow.version + 1,
                            **_fresh_progress(),
                            started_at=now,
                            heartbeat_at=now,
                            updated_at=now,
                        )
                    )
                    won = _changed(session, statement)
                    session.commit()
                    if won:
                        return self.get(job_id)
            # Every candidate went to another worker in the meantime: look again.

    def claim_job(self, job_id: str, worker_id: str, stale_after_s: float) -> Job | None:
        """Take this one job for `worker_id` (a broker message names it); None when there is nothing to do.

        Wins if the job is queued, or running but silent for `stale_after_s` (its worker died and the
        message came back) or held by `worker_id` itself (its run ended on an error before it was
        recorded). A finished job, or one that a live worker runs, is left alone: duplicate messages are
        harmless. A silent job with no attempts left fails, one whose cancel was asked is cancelled.
        """
        now = utc_now()
        claimed = {
            "state": JobState.running.value,
            "worker_id": worker_id,
            "attempts": JobRow.attempts + 1,
            "version": JobRow.version + 1,
            **_fresh_progress(),
            "started_at": now,
            "heartbeat_at": now,
            "updated_at": now,
        }
        silent_since = now - timedelta(seconds=stale_after_s)
        abandoned = (
            (JobRow.worker_id == worker_id)
            | (JobRow.heartbeat_at < silent_since)
            | JobRow.heartbeat_at.is_(None)
        )
        with self._sessions.begin() as session:
            queued = update(JobRow).where(JobRow.id == job_id, JobRow.state == JobState.queued.value)
            taken_over = update(JobRow).where(
                JobRow.id == job_id,
                JobRow.state == JobState.running.value,
                abandoned,
                JobRow.attempts < JobRow.max_attempts,
                JobRow.cancel_requested.is_(False),
            )
            won = _changed(session, queued.values(**claimed)) or _changed(
                session, taken_over.values(**claimed)
            )
        if won:
            return self.get(job_id)
        # Silent with no attempts left, or with its cancel asked: record how it ended.
        for _job_id, state in self._give_back(_running_jobs(job_id=job_id, heartbeat_before=silent_since)):
            if state is JobState.queued:
                self._queued(job_id)
        return None

    def record_progress(
        self, job_id: str, worker_id: str, fraction: float, stage: str, detail: JsonObject | None = None
    ) -> Job:
        """Store progress (0..1, stage, `detail` if given); the job returned says whether cancel was asked."""
        now = utc_now()
        values: dict[str, Any] = {
            "progress_fraction": min(max(fraction, 0.0), 1.0),
            "progress_stage": stage[:100],
            "heartbeat_at": now,
        }
        if detail is not None:
            values["progress_detail"] = detail
        self._change_held(job_id, worker_id, now, **values)
        return self.get(job_id)

    def heartbeat(self, job_id: str, worker_id: str) -> bool:
        """Say the worker is alive (watchers see no change); returns whether cancel was asked."""
        with self._sessions.begin() as session:
            statement = update(JobRow).where(JobRow.id == job_id).values(heartbeat_at=utc_now())
            self._held(session, job_id, worker_id, statement)
            return bool(session.scalar(select(JobRow.cancel_requested).where(JobRow.id == job_id)))

    def record_state(self, job_id: str, worker_id: str, state_key: str) -> None:
        """Remember the blob a later run of the job continues from (e.g. its newest checkpoint)."""
        self._change_held(job_id, worker_id, utc_now(), state_key=state_key)

    def continue_later(self, job_id: str, worker_id: str) -> None:
        """Queue a job that finished one chunk of its work; the chunk does not use up an attempt."""
        self._requeue_held(job_id, worker_id)

    def record_usage(self, job_id: str, device: str, run_s: float) -> None:
        """Add one run's wall time to the job's totals (and to its GPU time unless `device` is the CPU)."""
        gpu_s = 0.0 if device == CPU_DEVICE else run_s
        statement = (
            update(JobRow)
            .where(JobRow.id == job_id)
            .values(device=device[:16], run_s=JobRow.run_s + run_s, gpu_s=JobRow.gpu_s + gpu_s)
        )
        with self._sessions.begin() as session:
            _changed(session, statement)  # no new version: the run's ending, written next, brings one

    def succeed(self, job_id: str, worker_id: str, result: JsonObject) -> None:
        """Record the job's result (JSON) and mark it succeeded."""
        now = utc_now()
        self._change_held(
            job_id,
            worker_id,
            now,
            state=JobState.succeeded.value,
            result=result,
            error_message=None,
            progress_fraction=1.0,
            finished_at=now,
        )

    def fail(self, job_id: str, worker_id: str, message: str, *, requeue: bool = False) -> JobState:
        """Record a failure the user can read; with `requeue`, queue the job for another attempt instead."""
        now = utc_now()
        if requeue:
            values: dict[str, Any] = {"state": JobState.queued.value, "error_message": message}
        else:
            values = {"state": JobState.failed.value, "error_message": message, "finished_at": now}
        self._change_held(job_id, worker_id, now, **values)
        if requeue:
            self._queued(job_id)
        return JobState(values["state"])

    def mark_cancelled(self, job_id: str, worker_id: str) -> None:
        """The worker stopped the job because the user cancelled it."""
        now = utc_now()
        self._change_held(job_id, worker_id, now, state=JobState.cancelled.value, finished_at=now)

    def release(self, job_id: str, worker_id: str) -> None:
        """Put a job back in the queue because its worker is shutting down; that attempt does not count."""
        self._requeue_held(job_id, worker_id)

    def requeue_interrupted(
        self, *, worker_id: str | None = None, heartbeat_before: datetime | None = None
    ) -> list[str]:
        """Give back jobs left `running` by a worker that died; returns the ids it changed.

        With no arguments every running job counts as interrupted (start-up of a one-machine studio,
        before its worker starts); `worker_id` picks one dead worker's jobs, `heartbeat_before` the
        jobs whose worker has been silent since then. A job whose cancel was asked becomes cancelled;
        one that already used all its attempts fails with a message; the others are queued again.
        """
        given_back = self._give_back(_running_jobs(worker_id=worker_id, heartbeat_before=heartbeat_before))
        for job_id, state in given_back:
            if state is JobState.queued:
                self._queued(job_id)
        return [job_id for job_id, _state in given_back]

    def _give_back(self, query: Select[str, str, int, int, int, bool]) -> list[tuple[str, JobState]]:
        """Requeue, fail or cancel the running jobs `query` picks (see requeue_interrupted)."""
        changed: list[tuple[str, JobState]] = []
        with self._sessions() as session:
            rows = session.execute(query).all()
            session.rollback()
            for job_id, kind, version, attempts, max_attempts, cancel_requested in rows:
                now = utc_now()
                if cancel_requested:
                    values: dict[str, Any] = {"state": JobState.cancelled.value, "finished_at": now}
                elif attempts >= max_attempts:
                    values = {
                        "state": JobState.failed.value,
                        "finished_at": now,
                        "error_message": (
                            f"The worker stopped while running this job, {attempts} times. It may have run "
                            "out of memory; close other programs or make the job smaller, then run it again."
                        ),
                    }
                else:
                    values = {"state": JobState.queued.value}
                statement = (
                    update(JobRow)
                    .where(
                        JobRow.id == job_id, JobRow.version == version, JobRow.state == JobState.running.value
                    )
                    .values(version=JobRow.version + 1, updated_at=now, **values)
                )
                if _changed(session, statement):
                    changed.append((job_id, JobState(values["state"])))
                    _LOG.warning("job %s (%s) was interrupted: now %s", job_id, kind, values["state"])
                session.commit()
        return changed

    def _requeue_held(self, job_id: str, worker_id: str) -> None:
        """Queue again a job `worker_id` holds, giving back the attempt its run used."""
        self._change_held(
            job_id, worker_id, utc_now(), state=JobState.queued.value, attempts=JobRow.attempts - 1
        )
        self._queued(job_id)

    def _queued(self, job_id: str) -> None:
        """Tell the dispatcher, if any, that the job waits for a worker (not if it was deleted meanwhile)."""
        if self._dispatch is None:
            return
        try:
            job = self.get(job_id)
        except JobNotFound:
            _LOG.info("job %s was deleted (with its project) before it could be sent to a worker", job_id)
            return
        self._dispatch(job)

    def _change_held(self, job_id: str, worker_id: str, now: datetime, **values: Any) -> None:
        """Set `values` (and a new version) while `worker_id` still runs the job; JobLost otherwise."""
        with self._sessions.begin() as session:
            self._held(session, job_id, worker_id, _bump(job_id, now).values(**values))

    def _held(self, session: Session, job_id: str, worker_id: str, statement: Update) -> None:
        """Run `statement` only while `worker_id` still runs the job; JobLost otherwise."""
        held = statement.where(JobRow.worker_id == worker_id, JobRow.state == JobState.running.value)
        if not _changed(session, held):
            raise JobLost(f"job {job_id} is no longer held by worker {worker_id}")


def _running_jobs(
    *, job_id: str | None = None, worker_id: str | None = None, heartbeat_before: datetime | None = None
) -> Select[str, str, int, int, int, bool]:
    """Running jobs (one, one worker's, those silent since `heartbeat_before`), as a give-back reads them."""
    query = select(
        JobRow.id,
        JobRow.kind,
        JobRow.version,
        JobRow.attempts,
        JobRow.max_attempts,
        JobRow.cancel_requested,
    ).where(JobRow.state == JobState.running.value)
    if job_id is not None:
        query = query.where(JobRow.id == job_id)
    if worker_id is not None:
        query = query.where(JobRow.worker_id == worker_id)
    if heartbeat_before is not None:
        query = query.where((JobRow.heartbeat_at < heartbeat_before) | JobRow.heartbeat_at.is_(None))
    return query


def _fresh_progress() -> dict[str, Any]:
    """A claimed job's progress: from zero, unless it continues from a saved state (its next chunk)."""
    from_scratch = JobRow.state_key.is_(None)
    return {
        "progress_fraction": case((from_scratch, 0.0), else_=JobRow.progress_fraction),
        "progress_stage": case((from_scratch, ""), else_=JobRow.progress_stage),
    }


def _bump(job_id: str, now: datetime) -> Update:
    """An update of one job that watchers will notice (new version, new updated_at)."""
    return update(JobRow).where(JobRow.id == job_id).values(version=JobRow.version + 1, updated_at=now)


def _changed(session: Session, statement: Update) -> bool:
    """Run an UPDATE; whether it changed a row (the compare-and-set won)."""
    result = cast(
        CursorResult[Any], session.execute(statement, execution_options={"synchronize_session": False})
    )
    return result.rowcount > 0


def _to_job(row: JobRow) -> Job:
    return Job(
        id=row.id,
        kind=row.kind,
        state=JobState(row.state),
        project_id=row.project_id,
        payload=dict(row.payload),
        result=dict(row.result) if row.result is not None else None,
        error_message=row.error_message,
        progress_fraction=row.progress_fraction,
        progress_stage=row.progress_stage,
        attempts=row.attempts,
        max_attempts=row.max_attempts,
        cancel_requested=row.cancel_requested,
        worker_id=row.worker_id,
        version=row.version,
        created_at=row.created_at,
        updated_at=row.updated_at,
        started_at=row.started_at,
        finished_at=row.finished_at,
        owner=row.owner,
        progress_detail=dict(row.progress_detail) if row.progress_detail is not None else None,
        state_key=row.state_key,
        device=row.device,
        run_s=row.run_s,
        gpu_s=row.gpu_s,
    )
