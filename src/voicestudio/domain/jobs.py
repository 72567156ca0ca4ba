"""Long work the studio does for a user, and a neural training run in particular."""

from dataclasses import dataclass
from enum import StrEnum


class JobState(StrEnum):
    """queued → running → succeeded / failed / cancelled."""

    queued = "queued"
    running = "running"
    succeeded = "succeeded"
    failed = "failed"
    cancelled = "cancelled"


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
