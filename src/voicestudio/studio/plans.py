"""Plans: what a user may do (projects, storage, neural training, GPU minutes a month), checked before work.

Plans are configuration: a JSON file (`plans_file`) or the built-in free and pro plans. A request past its
plan is refused with PlanLimit (402) before anything is stored or queued, never halfway through a job.
"""

import functools
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Final

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from voicestudio.db.models import BlobRefRow, JobRow, ProjectRow
from voicestudio.db.types import utc_now
from voicestudio.errors import VoicestudioError
from voicestudio.storage.blobs import describe_size

LOCAL_PLAN_NAME: Final = "local"
SECONDS_PER_MINUTE: Final = 60.0
SECONDS_PER_HOUR: Final = 3600.0


class PlanLimit(VoicestudioError):
    """A request the user's plan does not include (402); the message says what to do instead."""


class PlansFileError(VoicestudioError):
    """The plans file is missing or not valid plans JSON; the message says where and what."""


@dataclass(frozen=True, slots=True)
class Plan:
    """What one plan includes; None means no limit."""

    name: str
    title: str
    max_projects: int | None
    storage_bytes: int | None
    neural_training: bool
    gpu_minutes_month: float | None


@dataclass(frozen=True, slots=True)
class Usage:
    """What a user holds now and the GPU time of their jobs that ran since the 1st of this month (UTC)."""

    projects: int
    storage_bytes: int  # blobs recorded for them, referenced or not yet collected
    gpu_s_month: float

    @property
    def gpu_minutes_month(self) -> float:
        return self.gpu_s_month / SECONDS_PER_MINUTE


BUILTIN_PLANS: Final = {
    "free": Plan("free", "Free", 3, 1_000_000_000, False, 0.0),
    "pro": Plan("pro", "Pro", 50, 50_000_000_000, True, 600.0),
}
LOCAL_PLAN: Final = Plan(LOCAL_PLAN_NAME, "This studio (no accounts)", None, None, True, None)


class _PlanIn(BaseModel):
    """One plan as the plans file writes it."""

    model_config = ConfigDict(extra="forbid")

    title: str | None = None
    max_projects: int | None = Field(default=None, ge=0)
    storage_bytes: int | None = Field(default=None, ge=0)
    neural_training: bool = False
    gpu_minutes_month: float | None = Field(default=None, ge=0)


def load_plans(path: Path | None) -> dict[str, Plan]:
    """The plans of `path` (JSON: {"name": {max_projects, storage_bytes, ...}}), or the built-in ones."""
    if path is None:
        return dict(BUILTIN_PLANS)
    try:
        stamp = path.stat().st_mtime_ns
    except OSError as error:
        raise PlansFileError(
            f"The plans file {path} cannot be read ({error.strerror}). Fix plans_file or remove the setting."
        ) from None
    return dict(_read_plans(path, stamp))


@functools.lru_cache(maxsize=8)
def _read_plans(path: Path, _stamp_ns: int) -> tuple[tuple[str, Plan], ...]:
    """The file's plans; cached until the file changes (`_stamp_ns` is its modification time)."""
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(raw, dict) or not raw:
            raise ValueError("expected an object of plans by name")
        plans = {name: _PlanIn.model_validate(body) for name, body in raw.items()}
    except (OSError, ValueError, ValidationError) as error:
        first_line = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise PlansFileError(
            f"The plans file {path} is not valid: {first_line}. Write it as "
            '{"free": {"max_projects": 3, "storage_bytes": 1000000000, "neural_training": false, '
            '"gpu_minutes_month": 0}, ...}.'
        ) from None
    return tuple(
        (
            name,
            Plan(
                name=name,
                title=body.title or name.capitalize(),
                max_projects=body.max_projects,
                storage_bytes=body.storage_bytes,
                neural_training=body.neural_training,
                gpu_minutes_month=body.gpu_minutes_month,
            ),
        )
        for name, body in plans.items()
    )


def plan_named(name: str, plans: dict[str, Plan], default_plan: str) -> Plan:
    """The plan called `name`: the local plan for the local user, the default plan for a removed one."""
    if name == LOCAL_PLAN_NAME:
        return LOCAL_PLAN
    chosen = plans.get(name) or plans.get(default_plan)
    if chosen is None:
        raise PlansFileError(
            f"Neither the plan {name!r} nor the default plan {default_plan!r} is configured; "
            f"the plans are {', '.join(sorted(plans))}. Fix default_plan or the plans file."
        )
    return chosen


def month_start(now: datetime) -> datetime:
    """00:00 UTC on the 1st of `now`'s month: GPU minutes count from there."""
    utc = now.astimezone(UTC)
    return utc.replace(day=1, hour=0, minute=0, second=0, microsecond=0)


def ran_at(since: datetime) -> ColumnElement[bool]:
    """Jobs whose GPU time counts from `since` on: by when they last ran, the end of their last run
    (finished_at) or, while running or between training chunks, the start of their latest (started_at),
    not when they were queued; a job that never ran used no GPU time, whatever its created_at."""
    return func.coalesce(JobRow.finished_at, JobRow.started_at, JobRow.created_at) >= since


def usage_of(session: Session, owner: str, now: datetime | None = None) -> Usage:
    """The user's projects, stored bytes and this month's GPU seconds."""
    since = month_start(now or utc_now())
    projects = session.scalar(select(func.count()).select_from(ProjectRow).where(ProjectRow.owner == owner))
    stored = session.scalar(
        select(func.coalesce(func.sum(BlobRefRow.size_bytes), 0)).where(BlobRefRow.owner == owner)
    )
    gpu_s = session.scalar(
        select(func.coalesce(func.sum(JobRow.gpu_s), 0.0)).where(JobRow.owner == owner, ran_at(since))
    )
    return Usage(projects=int(projects or 0), storage_bytes=int(stored or 0), gpu_s_month=float(gpu_s or 0.0))


def gpu_minutes_left(plan: Plan, usage: Usage) -> float | None:
    """GPU minutes the plan still allows this month; None without a limit."""
    if plan.gpu_minutes_month is None:
        return None
    return max(0.0, plan.gpu_minutes_month - usage.gpu_minutes_month)


def training_cost_usd(gpu_s: float, price_per_gpu_hour_usd: float) -> float:
    """What a job's GPU time costs at the configured price per GPU-hour."""
    return gpu_s / SECONDS_PER_HOUR * price_per_gpu_hour_usd


def check_can_create_project(session: Session, owner: str, plan: Plan) -> None:
    """PlanLimit when the user already has as many projects as the plan includes; ends the session's read."""
    if plan.max_projects is None:
        return
    count = usage_of(session, owner).projects
    session.rollback()
    if count >= plan.max_projects:
        raise PlanLimit(
            f"Your {plan.name} plan includes {plan.max_projects} projects; delete one or upgrade."
        )


def check_can_store(
    session: Session, owner: str, plan: Plan, size_bytes: int, key: str | None = None
) -> None:
    """PlanLimit when `size_bytes` more would take the user past the plan's storage.

    A blob the user already has (`key`) costs nothing again; with size 0 this checks the user is
    not already over (before a job that stores its result). Ends the session's read.
    """
    if plan.storage_bytes is None:
        return
    if key is not None and session.get(BlobRefRow, (key, owner)) is not None:
        size_bytes = 0
    used = usage_of(session, owner).storage_bytes
    session.rollback()
    if used + size_bytes > plan.storage_bytes or (size_bytes == 0 and used >= plan.storage_bytes):
        needs = f" and this needs {describe_size(size_bytes)} more" if size_bytes else ""
        raise PlanLimit(
            f"Your {plan.name} plan stores {describe_size(plan.storage_bytes)}; you use "
            f"{describe_size(used)}{needs}. Delete a project you no longer need, or upgrade."
        )


def check_training_allowed(session: Session, owner: str, plan: Plan, now: datetime | None = None) -> None:
    """PlanLimit when the plan has no neural training or no GPU minutes left this month; ends the read."""
    if not plan.neural_training:
        raise PlanLimit(
            f"Your {plan.name} plan makes UTAU voicebanks only; training a neural voice needs a plan "
            "with neural training. Upgrade to train one."
        )
    if plan.gpu_minutes_month is None:
        return
    usage = usage_of(session, owner, now)
    session.rollback()
    left = gpu_minutes_left(plan, usage)
    if left is not None and left <= 0:
        raise PlanLimit(
            f"Your {plan.name} plan includes {plan.gpu_minutes_month:g} GPU minutes a month and you have "
            f"used {usage.gpu_minutes_month:.0f}. Training is possible again on the 1st, or upgrade."
        )
