"""Usage outlives projects: a job keeps its row (and its GPU seconds) when its project is deleted, and
every project and job has an owner ('local' while accounts are off).

Revision ID: 0004
Revises: 0003
Created: 2026-12-10
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

FK_NAME = "fk_jobs_project_id_projects"
LOCAL_OWNER = "local"  # as in voicestudio.db.models, written out so this file never changes with it
OWNER_TYPE = sa.String(length=255)
_JOB_LINKS = ("voicebanks", "voice_models")  # tables whose job_id refers to jobs (ON DELETE SET NULL)


def upgrade() -> None:
    op.execute(f"UPDATE projects SET owner = '{LOCAL_OWNER}' WHERE owner IS NULL")
    op.execute(f"UPDATE jobs SET owner = '{LOCAL_OWNER}' WHERE owner IS NULL")
    _change(owner_required=True, on_project_delete="SET NULL")


def downgrade() -> None:
    _change(owner_required=False, on_project_delete="CASCADE")


def _change(*, owner_required: bool, on_project_delete: str) -> None:
    default = LOCAL_OWNER if owner_required else None
    if op.get_bind().dialect.name == "sqlite":
        _replace_sqlite_projects_owner(owner_required, default)
    else:
        with op.batch_alter_table("projects") as batch:
            batch.alter_column(
                "owner", existing_type=OWNER_TYPE, nullable=not owner_required, server_default=default
            )
    links = _job_links()
    with op.batch_alter_table("jobs") as batch:
        batch.alter_column(
            "owner", existing_type=OWNER_TYPE, nullable=not owner_required, server_default=default
        )
        batch.drop_constraint(FK_NAME, type_="foreignkey")
        batch.create_foreign_key(FK_NAME, "projects", ["project_id"], ["id"], ondelete=on_project_delete)
    _restore_job_links(links)


def _replace_sqlite_projects_owner(required: bool, default: str | None) -> None:
    """SQLite cannot alter a column, and batch mode's copy would drop `projects`, which with foreign keys
    on deletes every take, bank and consent (ON DELETE CASCADE). So the column is replaced in place."""
    op.drop_index("ix_projects_owner", table_name="projects")
    op.add_column(
        "projects", sa.Column("owner_new", OWNER_TYPE, nullable=not required, server_default=default)
    )
    op.execute("UPDATE projects SET owner_new = owner")
    op.drop_column("projects", "owner")
    op.alter_column("projects", "owner_new", new_column_name="owner")
    op.create_index("ix_projects_owner", "projects", ["owner"])


def _job_links() -> dict[str, list[tuple[str, str]]]:
    """Which voicebank and model came from which job: SQLite alters `jobs` by copying it and dropping the
    old table, and that drop sets their job_id to NULL (ON DELETE SET NULL); they are written back."""
    connection = op.get_bind()
    return {
        table: [
            (str(row_id), str(job_id))
            for row_id, job_id in connection.execute(
                sa.text(f"SELECT id, job_id FROM {table} WHERE job_id IS NOT NULL")
            )
        ]
        for table in _JOB_LINKS
    }


def _restore_job_links(links: dict[str, list[tuple[str, str]]]) -> None:
    connection = op.get_bind()
    for table in _JOB_LINKS:
        if links[table]:
            connection.execute(
                sa.text(f"UPDATE {table} SET job_id = :job_id WHERE id = :row_id AND job_id IS NULL"),
                [{"job_id": job_id, "row_id": row_id} for row_id, job_id in links[table]],
            )
