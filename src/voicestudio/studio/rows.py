"""Reading the rows most services start from: a project, and the current take of each of its prompts."""

from sqlalchemy import select
from sqlalchemy.orm import Session

from voicestudio.db.models import LOCAL_OWNER as LOCAL_OWNER  # the "local" user id, for every studio part
from voicestudio.db.models import ProjectRow, TakeRow
from voicestudio.studio.errors import NotFound


def project_row(session: Session, project_id: str) -> ProjectRow:
    """The project `project_id`; NotFound if there is none."""
    row = session.get(ProjectRow, project_id)
    if row is None:
        raise NotFound(f"There is no project {project_id}; it may have been deleted. Reload the projects.")
    return row


def owned_project_row(session: Session, project_id: str, owner: str) -> ProjectRow:
    """The project `project_id` when `owner` owns it; NotFound, the same as for a missing one, otherwise."""
    row = session.get(ProjectRow, project_id)
    if row is None or row.owner != owner:
        raise NotFound(f"There is no project {project_id}; it may have been deleted. Reload the projects.")
    return row


def current_takes(session: Session, project_id: str) -> dict[str, TakeRow]:
    """The take each recorded prompt uses now, by prompt key (`<prompt set>/<prompt id>`)."""
    query = select(TakeRow).where(TakeRow.project_id == project_id, TakeRow.is_current.is_(True))
    return {row.prompt_id: row for row in session.scalars(query)}
