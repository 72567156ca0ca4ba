"""Long work the studio does for a user, and a neural training run in particular."""

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

JsonObject = dict[str, Any]


class JobState(StrEnum):
    """queued → running → succeeded / failed / cancelled."""

    queued = "queued"
    running = "running"
    succeeded = "succeeded"
    failed = "failed"
    cancelled = "cancelled"


FINISHED_STATES = frozenset({JobState.succeeded, JobState.failed, JobState.cancelled})


@dataclass(frozen=True, slots=True)
class TrainingJob:
    """One neural training run of a project's takes."""

    id: str
    project_id: str
    state: JobState
    device: str  # "cpu" or "cuda"
    steps_done: int
    steps_total: int
    base_checkpoint: str | None = None


@dataclass(frozen=True, slots=True)
class Job:
    """One piece of queued work as the studio tracks it; a worker computes `result` from `payload` alone."""

    id: str
    kind: str
    state: JobState
    project_id: str | None
    payload: JsonObject
    result: JsonObject | None
    error_message: str | None  # for the user: what went wrong and what to do, never a traceback
    progress_fraction: float  # 0..1
    progress_stage: str
    attempts: int  # times a worker has started it
    max_attempts: int
    cancel_requested: bool
    worker_id: str | None  # the worker running it, or that ran it last
    version: int  # grows with every change, so a watcher sees that something changed
    created_at: datetime  # UTC, like every time below
    updated_at: datetime
    started_at: datetime | None = None
    finished_at: datetime | None = None
    owner: str | None = None
    progress_detail: JsonObject | None = None  # kind-specific progress, e.g. a training run's losses and ETA
    state_key: str | None = None  # blob of the state a later run continues from (a training checkpoint)
    device: str | None = None  # where it last ran: "cpu", "cuda", "runpod", "modal"
    run_s: float = 0.0  # wall seconds over all attempts and chunks
    gpu_s: float = 0.0  # the part of run_s spent holding a GPU

    @property
    def is_finished(self) -> bool:
        return self.state in FINISHED_STATES
