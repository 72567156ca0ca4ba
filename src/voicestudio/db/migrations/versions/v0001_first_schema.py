"""First schema: projects, takes, oto lines, jobs and voicebanks.

Revision ID: 0001
Revises:
Created: 2026-11-26
"""

from collections.abc import Sequence
from datetime import datetime

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _id(name: str = "id") -> sa.Column[str]:
    return sa.Column(name, sa.String(length=36), nullable=False)


def _time(name: str, nullable: bool = False) -> sa.Column[datetime]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def _project_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["project_id"], ["projects.id"], name=op.f(f"fk_{table}_project_id_projects"), ondelete="CASCADE"
    )


def upgrade() -> None:
    op.create_table(
        "projects",
        _id(),
        sa.Column("owner", sa.String(length=255), nullable=True),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("prompt_sets", sa.JSON(), nullable=False),
        _time("created_at"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_projects")),
    )
    op.create_index(op.f("ix_projects_owner"), "projects", ["owner"])

    op.create_table(
        "jobs",
        _id(),
        sa.Column("owner", sa.String(length=255), nullable=True),
        sa.Column("project_id", sa.String(length=36), nullable=True),
        sa.Column("kind", sa.String(length=64), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("result", sa.JSON(), nullable=True),
        sa.Column("error_message", sa.Text(), nullable=True),
        sa.Column("progress_fraction", sa.Float(), nullable=False),
        sa.Column("progress_stage", sa.String(length=100), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("max_attempts", sa.Integer(), nullable=False),
        sa.Column("cancel_requested", sa.Boolean(), nullable=False),
        sa.Column("worker_id", sa.String(length=200), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        _time("created_at"),
        _time("updated_at"),
        _time("started_at", nullable=True),
        _time("finished_at", nullable=True),
        _time("heartbeat_at", nullable=True),
        _project_fk("jobs"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_jobs")),
    )
    op.create_index(op.f("ix_jobs_owner"), "jobs", ["owner"])
    op.create_index(op.f("ix_jobs_project_id"), "jobs", ["project_id"])
    op.create_index("ix_jobs_state_created_at", "jobs", ["state", "created_at"])

    op.create_table(
        "takes",
        _id(),
        _id("project_id"),
        sa.Column("prompt_id", sa.String(length=100), nullable=False),
        sa.Column("blob_key", sa.String(length=100), nullable=False),
        sa.Column("sample_rate_hz", sa.Integer(), nullable=False),
        sa.Column("duration_ms", sa.Float(), nullable=False),
        sa.Column("verdict", sa.String(length=8), nullable=True),
        sa.Column("reasons", sa.JSON(), nullable=False),
        sa.Column("quality", sa.JSON(), nullable=True),
        sa.Column("is_current", sa.Boolean(), nullable=False),
        sa.Column("superseded_by", sa.String(length=36), nullable=True),
        _time("created_at"),
        _project_fk("takes"),
        sa.ForeignKeyConstraint(
            ["superseded_by"], ["takes.id"], name=op.f("fk_takes_superseded_by_takes"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_takes")),
    )
    op.create_index(op.f("ix_takes_project_id"), "takes", ["project_id"])
    op.create_index("ix_takes_project_prompt", "takes", ["project_id", "prompt_id"])

    op.create_table(
        "oto_lines",
        _id(),
        _id("project_id"),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("wav_name", sa.String(length=255), nullable=False),
        sa.Column("alias", sa.String(length=255), nullable=False),
        *(
            sa.Column(name, sa.Float(), nullable=False)
            for name in (
                "offset_ms",
                "consonant_ms",
                "cutoff_ms",
                "preutterance_ms",
                "overlap_ms",
                "confidence",
            )
        ),
        sa.Column("note", sa.String(length=500), nullable=False),
        sa.Column("edited", sa.Boolean(), nullable=False),
        _project_fk("oto_lines"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_oto_lines")),
    )
    op.create_index(op.f("ix_oto_lines_project_id"), "oto_lines", ["project_id"])

    op.create_table(
        "voicebanks",
        _id(),
        _id("project_id"),
        sa.Column("blob_key", sa.String(length=100), nullable=False),
        sa.Column("job_id", sa.String(length=36), nullable=True),
        _time("created_at"),
        _project_fk("voicebanks"),
        sa.ForeignKeyConstraint(
            ["job_id"], ["jobs.id"], name=op.f("fk_voicebanks_job_id_jobs"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_voicebanks")),
    )
    op.create_index(op.f("ix_voicebanks_project_id"), "voicebanks", ["project_id"])


def downgrade() -> None:
    for table in ("voicebanks", "oto_lines", "takes", "jobs", "projects"):
        op.drop_table(table)
