"""Long work as jobs: a queue in the database, registered job kinds, workers, and progress events."""

from voicestudio.domain.jobs import FINISHED_STATES, Job, JobState
from voicestudio.jobs.context import JobContext
from voicestudio.jobs.errors import (
    JobCancelled,
    JobContinues,
    JobError,
    JobLost,
    JobNotFound,
    UnknownJobKind,
    WorkerStopping,
)
from voicestudio.jobs.events import EventBus, JobEvent, PollingEventBus
from voicestudio.jobs.local import LocalWorker
from voicestudio.jobs.registry import (
    CPU_QUEUE,
    GPU_QUEUE,
    JobFunction,
    job_function,
    job_kind,
    job_queue,
    register,
    registered_kinds,
)
from voicestudio.jobs.runner import WorkerSettings, new_worker_id, run_job, work
from voicestudio.jobs.store import Dispatch, JobStore

__all__ = [
    "CPU_QUEUE",
    "FINISHED_STATES",
    "GPU_QUEUE",
    "Dispatch",
    "EventBus",
    "Job",
    "JobCancelled",
    "JobContext",
    "JobContinues",
    "JobError",
    "JobEvent",
    "JobFunction",
    "JobLost",
    "JobNotFound",
    "JobState",
    "JobStore",
    "LocalWorker",
    "PollingEventBus",
    "UnknownJobKind",
    "WorkerSettings",
    "WorkerStopping",
    "job_function",
    "job_kind",
    "job_queue",
    "new_worker_id",
    "register",
    "registered_kinds",
    "run_job",
    "work",
]
