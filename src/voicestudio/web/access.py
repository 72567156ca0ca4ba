"""Who is asking, and what they may reach: every route that names a project checks its owner here.

With accounts off the studio has one local user who owns everything; with accounts on, a request is
signed in by its session cookie or `Authorization: Bearer <token>`. Another user's ids answer 404, so
ids do not leak.
"""

from dataclasses import dataclass
from typing import Annotated, Final

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from voicestudio.db.models import ProjectRow
from voicestudio.studio.errors import NotFound

LOCAL_USER_ID: Final = "local"  # the owner of everything while accounts are off


@dataclass(frozen=True, slots=True)
class CurrentUser:
    """The user a request acts for, and the plan that limits it."""

    id: str
    email: str | None
    plan: str


LOCAL_USER: Final = CurrentUser(id=LOCAL_USER_ID, email=None, plan="local")


def current_user(request: Request) -> CurrentUser:
    """The signed-in user (accounts on) or the local user (accounts off)."""
    if not request.app.state.studio.settings.accounts_enabled:
        return LOCAL_USER
    raise NotImplementedError("accounts: sign-in by cookie or token")


UserDep = Annotated[CurrentUser, Depends(current_user)]


def own_project(session: Session, project_id: str, user: CurrentUser) -> ProjectRow:
    """The project when `user` owns it; NotFound (404) when it is missing or someone else's."""
    row = session.get(ProjectRow, project_id)
    if row is None or row.owner != user.id:
        raise NotFound(f"There is no project {project_id}; it may have been deleted. Reload the projects.")
    return row
