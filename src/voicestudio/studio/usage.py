"""A user's jobs as the account page shows them: which are theirs, and what each training cost."""

from dataclasses import dataclass
from datetime import datetime
from typing import Final

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from voicestudio.db.models import JobRow, ProjectRow
from voicestudio.studio.plans import training_cost_usd

TRAIN_KIND: Final = "train"


@dataclass(frozen=True, slots=True)
class TrainingCost:
    """One training job of a user: where it ran, its wall and GPU seconds, and their price."""

    job_id: str
    project_id: str | None
    project_name: str | None
    state: str
    device: str | None
    run_s: float
    gpu_s: float
    cost_usd: float
    created_at: datetime


def training_costs(
    session: Session, owner: str, price_per_gpu_hour_usd: float, limit: int = 100
) -> list[TrainingCost]:
    """`owner`'s newest trainings with their cost at the configured price per GPU-hour."""
    query = (
        select(JobRow, ProjectRow.name)
        .outerjoin(ProjectRow, ProjectRow.id == JobRow.project_id)
        .where(JobRow.owner == owner, JobRow.kind == TRAIN_KIND)
        .order_by(JobRow.created_at.desc(), JobRow.id)
        .limit(limit)
    )
    return [
        TrainingCost(
            job_id=row.id,
            project_id=row.project_id,
            project_name=name,
            state=row.state,
            device=row.device,
            run_s=row.run_s,
            gpu_s=row.gpu_s,
            cost_usd=training_cost_usd(row.gpu_s, price_per_gpu_hour_usd),
            created_at=row.created_at,
        )
        for row, name in session.execute(query)
    ]


def add_gpu_seconds(sessions: sessionmaker[Session], job_id: str, gpu_s: float) -> None:
    """Add GPU time that ran elsewhere (a rented GPU's chunk) to the job's GPU seconds, in the database,
    so a retried or crashed run keeps what the GPU already used; ValueError for a negative or NaN time."""
    if not gpu_s >= 0.0:
        raise ValueError(f"GPU seconds must be 0 or more, not {gpu_s}")
    with sessions.begin() as session:
        session.execute(
            update(JobRow).where(JobRow.id == job_id).values(gpu_s=JobRow.gpu_s + gpu_s),
            execution_options={"synchronize_session": False},
        )
