"""A user's jobs as the account page shows them: which are theirs, and what each training cost."""

from dataclasses import dataclass
from datetime import datetime
from typing import Final

from sqlalchemy import select
from sqlalchemy.orm import Session

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


def user_job_ids(session: Session, owner: str, limit: int) -> list[str]:
    """The ids of `owner`'s newest jobs, newest first."""
    query = (
        select(JobRow.id)
        .where(JobRow.owner == owner)
        .order_by(JobRow.created_at.desc(), JobRow.id)
        .limit(limit)
    )
    return list(session.scalars(query))


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
