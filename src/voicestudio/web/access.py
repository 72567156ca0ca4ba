"""Who is asking, and what they may reach: every route that names a project checks its owner here.

With accounts off the studio has one local user who owns everything; with accounts on, a request is
signed in by its session cookie or `Authorization: Bearer <token>`. A cookie-signed request that changes
something must echo the session's CSRF token in `X-CSRF-Token`. Another user's ids answer 404, so ids
do not leak.
"""

import hmac
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Annotated, Final
from urllib.parse import urlsplit

from fastapi import Depends, Request, WebSocket
from sqlalchemy.orm import Session

from voicestudio.db.models import ProjectRow
from voicestudio.domain.jobs import Job
from voicestudio.jobs.errors import JobNotFound
from voicestudio.settings import StudioSettings
from voicestudio.studio.accounts import (
    CSRF_HEADER,
    SESSION_COOKIE,
    CsrfRejected,
    NotSignedIn,
    SignedIn,
    session_account,
    token_account,
)
from voicestudio.studio.plans import LOCAL_PLAN_NAME, Plan, check_training_allowed, load_plans, plan_named
from voicestudio.studio.rows import LOCAL_OWNER, owned_project_row
from voicestudio.web.state import Studio

SAFE_METHODS: Final = frozenset({"GET", "HEAD", "OPTIONS"})
SIGN_IN_FIRST: Final = (
    "Sign in first: this studio has accounts. Sign in on the page, or send an API token as "
    "'Authorization: Bearer <token>' (run `voicestudio login`)."
)


@dataclass(frozen=True, slots=True)
class CurrentUser:
    """The user a request acts for, and the plan that limits it."""

    id: str
    email: str | None
    plan: str


@dataclass(frozen=True, slots=True)
class Caller:
    """The user and how they signed in: `csrf_token` is their session's (None for a token or no accounts)."""

    user: CurrentUser
    csrf_token: str | None


LOCAL_USER: Final = CurrentUser(id=LOCAL_OWNER, email=None, plan=LOCAL_PLAN_NAME)


def authenticate(
    studio: Studio, method: str, headers: Mapping[str, str], cookies: Mapping[str, str]
) -> Caller:
    """Who sends a request with these headers and cookies; NotSignedIn (401) or CsrfRejected (403)."""
    if not studio.settings.accounts_enabled:
        return Caller(LOCAL_USER, None)
    authorization = headers.get("authorization", "")
    scheme, _, credential = authorization.partition(" ")
    with studio.sessions() as session:
        if scheme.lower() == "bearer" and credential.strip():
            return _caller(token_account(session, credential.strip()))
        cookie = cookies.get(SESSION_COOKIE)
        if not cookie:
            raise NotSignedIn(SIGN_IN_FIRST)
        signed_in = session_account(session, cookie)
    if method.upper() not in SAFE_METHODS:
        sent = headers.get(CSRF_HEADER.lower(), "")
        if not sent or not hmac.compare_digest(sent.encode(), (signed_in.csrf_token or "").encode()):
            raise CsrfRejected(
                f"This request lacks the page's CSRF token ({CSRF_HEADER} header). "
                "Reload the page and try again."
            )
    return _caller(signed_in)


def current_caller(request: Request) -> Caller:
    """The signed-in user of a request, and their CSRF token (accounts off: the local user)."""
    studio: Studio = request.app.state.studio
    return authenticate(studio, request.method, request.headers, request.cookies)


def current_user(caller: Annotated[Caller, Depends(current_caller)]) -> CurrentUser:
    """The signed-in user (accounts on) or the local user (accounts off)."""
    return caller.user


CallerDep = Annotated[Caller, Depends(current_caller)]
UserDep = Annotated[CurrentUser, Depends(current_user)]


def websocket_user(websocket: WebSocket) -> CurrentUser:
    """The user behind a WebSocket handshake (cookie or bearer); NotSignedIn also for a foreign page."""
    studio: Studio = websocket.app.state.studio
    origin = websocket.headers.get("origin")
    host = websocket.headers.get("host", "")
    if studio.settings.accounts_enabled and origin and urlsplit(origin).netloc != host:
        raise NotSignedIn("This job can only be watched from the studio's own page.")
    return authenticate(studio, "GET", websocket.headers, websocket.cookies).user


def own_project(session: Session, project_id: str, user: CurrentUser) -> ProjectRow:
    """The project when `user` owns it; NotFound (404) when it is missing or someone else's."""
    return owned_project_row(session, project_id, user.id)


def own_job(job: Job, user: CurrentUser) -> Job:
    """The job when `user` owns it; JobNotFound otherwise. Every job has an owner ("local" without
    accounts), and keeps it when its project is deleted."""
    if job.owner != user.id:
        raise JobNotFound(f"There is no job {job.id}. It may belong to a deleted project.")
    return job


def user_plan(user: CurrentUser, settings: StudioSettings) -> Plan:
    """The plan that limits `user`: unlimited for the local user."""
    return plan_named(user.plan, load_plans(settings.plans_file), settings.default_plan)


def check_can_train(session: Session, user: CurrentUser, settings: StudioSettings) -> None:
    """PlanLimit (402) unless the user's plan trains neural voices and has GPU minutes left this month."""
    check_training_allowed(session, user.id, user_plan(user, settings))


def _caller(signed_in: SignedIn) -> Caller:
    account = signed_in.account
    return Caller(CurrentUser(id=account.id, email=account.email, plan=account.plan), signed_in.csrf_token)
