"""Accounts: sign-up, sign-in and out, the account with its plan and usage, API tokens, export, deletion."""

from typing import Final

from fastapi import APIRouter, Request, Response
from fastapi.responses import StreamingResponse
from sqlalchemy.orm import Session

from voicestudio.settings import StudioSettings
from voicestudio.studio.accounts import (
    SESSION_COOKIE,
    AccountsOff,
    create_token,
    delete_account,
    end_session,
    list_tokens,
    revoke_token,
    sign_in,
    sign_up,
    start_session,
)
from voicestudio.studio.export import export_entries, stream_zip
from voicestudio.studio.plans import usage_of
from voicestudio.studio.usage import training_costs
from voicestudio.web.access import Caller, CallerDep, CurrentUser, UserDep, user_plan
from voicestudio.web.deps import SessionDep, StudioDep
from voicestudio.web.schemas import (
    AUTH_RESPONSES,
    AccountOut,
    DeleteAccountIn,
    ErrorOut,
    NewTokenOut,
    PlanOut,
    SignInIn,
    SignUpIn,
    TokenIn,
    TokenOut,
    TrainingCostOut,
    UsageDetailOut,
    usage_out,
)
from voicestudio.web.state import Studio

router = APIRouter(tags=["account"])
EXPORT_FILE_NAME: Final = "voicestudio-export.zip"
NO_ACCOUNTS: Final = (
    "This studio runs without accounts: everything belongs to its one local user. "
    "Set VOICESTUDIO_ACCOUNTS_ENABLED=true to serve several users."
)


@router.post(
    "/account/sign-up", status_code=201, responses={409: {"model": ErrorOut}, 422: {"model": ErrorOut}}
)
def create_account(body: SignUpIn, response: Response, session: SessionDep, studio: StudioDep) -> AccountOut:
    """Make an account (e-mail and password, on the studio's default plan) and sign this browser in."""
    _require_accounts(studio.settings)
    account = sign_up(session, body.email, body.password, studio.settings.default_plan)
    return _signed_in(session, studio, response, CurrentUser(account.id, account.email, account.plan))


@router.post("/account/sign-in", responses={401: {"model": ErrorOut}})
def open_session(body: SignInIn, response: Response, session: SessionDep, studio: StudioDep) -> AccountOut:
    """Sign in with e-mail and password: sets the session cookie and returns the page's CSRF token."""
    _require_accounts(studio.settings)
    account = sign_in(session, body.email, body.password)
    return _signed_in(session, studio, response, CurrentUser(account.id, account.email, account.plan))


@router.post("/account/sign-out", status_code=204, responses=AUTH_RESPONSES)
def close_session(request: Request, session: SessionDep, studio: StudioDep, caller: CallerDep) -> Response:
    """Sign this browser out (its session ends on the server too)."""
    cookie = request.cookies.get(SESSION_COOKIE)
    if cookie:
        end_session(session, cookie)
    response = Response(status_code=204)
    _clear_cookie(response, studio.settings)
    return response


@router.get("/account", responses=AUTH_RESPONSES)
def account(session: SessionDep, studio: StudioDep, caller: CallerDep) -> AccountOut:
    """Who you are, your plan and what of it you use; the CSRF token for the page's requests."""
    return _account_out(session, studio.settings, caller)


@router.get("/account/usage", responses=AUTH_RESPONSES)
def usage(session: SessionDep, studio: StudioDep, user: UserDep) -> UsageDetailOut:
    """Your plan's limits, what you use, and each of your trainings with its GPU time and cost."""
    plan = user_plan(user, studio.settings)
    price = studio.settings.gpu_price_per_hour_usd
    return UsageDetailOut(
        plan=PlanOut.model_validate(plan),
        usage=usage_out(plan, usage_of(session, user.id)),
        gpu_price_per_hour_usd=price,
        trainings=[TrainingCostOut.model_validate(cost) for cost in training_costs(session, user.id, price)],
    )


@router.get("/account/tokens", responses=AUTH_RESPONSES)
def tokens(session: SessionDep, studio: StudioDep, user: UserDep) -> list[TokenOut]:
    """Your API tokens (names and dates; the secrets are never shown again)."""
    _require_accounts(studio.settings)
    return [TokenOut.model_validate(token) for token in list_tokens(session, user.id)]


@router.post("/account/tokens", status_code=201, responses=AUTH_RESPONSES)
def new_token(
    session: SessionDep, studio: StudioDep, user: UserDep, body: TokenIn | None = None
) -> NewTokenOut:
    """Make an API token for the CLI or a script; its secret is in this answer only."""
    _require_accounts(studio.settings)
    made = create_token(session, user.id, (body or TokenIn()).name)
    return NewTokenOut(**TokenOut.model_validate(made.info).model_dump(), token=made.token)


@router.delete("/account/tokens/{token_id}", status_code=204, responses={404: {"model": ErrorOut}})
def remove_token(token_id: str, session: SessionDep, studio: StudioDep, user: UserDep) -> Response:
    """Revoke one of your API tokens: requests with it are refused from now on."""
    _require_accounts(studio.settings)
    revoke_token(session, user.id, token_id)
    return Response(status_code=204)


@router.get(
    "/account/export",
    response_class=StreamingResponse,
    responses={200: {"content": {"application/zip": {}}}, **AUTH_RESPONSES},
)
def export(session: SessionDep, studio: StudioDep, user: UserDep) -> StreamingResponse:
    """All your data as one zip, streamed: projects, takes, oto.ini, voicebanks, consents, models, jobs."""
    entries = export_entries(session, user.id, studio.settings.gpu_price_per_hour_usd)
    session.close()
    return StreamingResponse(
        stream_zip(entries, studio.blobs),
        media_type="application/zip",
        headers={
            "Content-Disposition": f'attachment; filename="{EXPORT_FILE_NAME}"',
            "Cache-Control": "no-store",
        },
    )


@router.delete("/account", status_code=204, responses={**AUTH_RESPONSES, 404: {"model": ErrorOut}})
def remove_account(body: DeleteAccountIn, session: SessionDep, studio: StudioDep, user: UserDep) -> Response:
    """Delete your account and everything in it, after checking your password; files only you had go too."""
    _require_accounts(studio.settings)
    delete_account(session, studio.blobs, user.id, body.password)
    response = Response(status_code=204)
    _clear_cookie(response, studio.settings)
    return response


def _require_accounts(settings: StudioSettings) -> None:
    if not settings.accounts_enabled:
        raise AccountsOff(NO_ACCOUNTS)


def _signed_in(session: Session, studio: Studio, response: Response, user: CurrentUser) -> AccountOut:
    """Start a browser session for `user`: the cookie on `response`, the CSRF token in the answer."""
    lifetime_s = studio.settings.session_lifetime_s
    browser = start_session(session, user.id, lifetime_s)
    response.set_cookie(
        SESSION_COOKIE,
        browser.cookie_value,
        max_age=int(lifetime_s),
        path="/",
        httponly=True,
        samesite="lax",
        secure=studio.settings.secure_cookies,
    )
    return _account_out(session, studio.settings, Caller(user, browser.csrf_token))


def _clear_cookie(response: Response, settings: StudioSettings) -> None:
    response.delete_cookie(
        SESSION_COOKIE, path="/", httponly=True, samesite="lax", secure=settings.secure_cookies
    )


def _account_out(session: Session, settings: StudioSettings, caller: Caller) -> AccountOut:
    plan = user_plan(caller.user, settings)
    return AccountOut(
        accounts=settings.accounts_enabled,
        email=caller.user.email,
        plan=PlanOut.model_validate(plan),
        usage=usage_out(plan, usage_of(session, caller.user.id)),
        gpu_price_per_hour_usd=settings.gpu_price_per_hour_usd,
        csrf_token=caller.csrf_token,
    )
