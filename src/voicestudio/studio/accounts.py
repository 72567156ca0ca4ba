"""Accounts: sign-up and sign-in with argon2id hashes, browser sessions with a CSRF token, API tokens.

Only digests of secrets are stored: the sha256 of a session cookie or an API token, the argon2id hash of
a password. The values themselves are shown once, to the browser or the CLI that asked for them.
"""

import functools
import hashlib
import os
import re
import secrets
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from voicestudio.db.models import (
    ApiTokenRow,
    BlobRefRow,
    JobRow,
    ProjectRow,
    UserRow,
    WebSessionRow,
    new_id,
)
from voicestudio.db.types import utc_now
from voicestudio.errors import VoicestudioError
from voicestudio.storage.blobs import BlobStore
from voicestudio.studio.errors import NotFound
from voicestudio.studio.gc import TARGETED_GRACE_S, GcReport, collect_garbage, project_blob_keys

SESSION_COOKIE: Final = "voicestudio_session"
CSRF_HEADER: Final = "X-CSRF-Token"
TOKEN_PREFIX: Final = "vst_"  # makes a leaked token recognisable in logs and secret scanners
PASSWORD_MIN_CHARS: Final = 8
PASSWORD_MAX_CHARS: Final = 1024  # argon2 hashes any length; this only bounds the work one request asks
EMAIL_MAX_CHARS: Final = 320
TOKEN_NAME_MAX_CHARS: Final = 100
TOKEN_TOUCH_INTERVAL: Final = timedelta(minutes=5)  # last_used_at is refreshed at most this often
_EMAIL: Final = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")

PASSWORDS: Final = PasswordHasher()  # argon2id with argon2-cffi's recommended parameters
# Each hash takes ~0.3 s of one core and 64 MiB: at most one per core at a time, so a burst of sign-ins
# queues instead of exhausting the server's memory.
_HASHING: Final = threading.BoundedSemaphore(os.cpu_count() or 1)


def _hash(password: str) -> str:
    with _HASHING:
        return PASSWORDS.hash(password)


class AccountError(VoicestudioError):
    """A sign-up, sign-in or account request that cannot be done as asked."""


class NotSignedIn(AccountError):
    """The request carries no valid session cookie or API token (401)."""


class WrongCredentials(AccountError):
    """The e-mail and password do not match an account (401)."""


class CsrfRejected(AccountError):
    """A cookie-signed request that changes something lacks the session's CSRF token (403)."""


class EmailTaken(AccountError):
    """Another account already has this e-mail (409)."""


class InvalidAccountInput(AccountError):
    """An e-mail, password or token name that cannot be used (422)."""


class AccountsOff(NotFound):
    """The studio runs without accounts: one local user owns everything (404)."""


@dataclass(frozen=True, slots=True)
class Account:
    """A user as the studio shows them: never their password hash."""

    id: str
    email: str
    plan: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class BrowserSession:
    """A new signed-in browser: the cookie value (shown once) and the CSRF token its page sends back."""

    cookie_value: str
    csrf_token: str
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class SignedIn:
    """Who a request acts for; `csrf_token` is the session's (None when it came with an API token)."""

    account: Account
    csrf_token: str | None


@dataclass(frozen=True, slots=True)
class TokenInfo:
    """An API token without its secret."""

    id: str
    name: str
    created_at: datetime
    last_used_at: datetime | None


@dataclass(frozen=True, slots=True)
class NewToken:
    """A token just made: `token` is shown now and never again (only its sha256 is stored)."""

    info: TokenInfo
    token: str


def sha256_hex(secret: str) -> str:
    """The digest stored in place of a cookie value or token."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def normalize_email(email: str) -> str:
    """The e-mail as stored: trimmed, lower-case; InvalidAccountInput unless it looks like one."""
    clean = email.strip().lower()
    if len(clean) > EMAIL_MAX_CHARS or not _EMAIL.fullmatch(clean):
        raise InvalidAccountInput(f"{email.strip()!r} is not an e-mail address. Type it as name@example.org.")
    return clean


def check_new_password(password: str) -> None:
    """InvalidAccountInput for a password too short (or absurdly long) to accept."""
    if len(password) < PASSWORD_MIN_CHARS:
        raise InvalidAccountInput(
            f"The password has {len(password)} characters; use at least {PASSWORD_MIN_CHARS}."
        )
    if len(password) > PASSWORD_MAX_CHARS:
        raise InvalidAccountInput(f"The password is longer than {PASSWORD_MAX_CHARS} characters; shorten it.")


def sign_up(session: Session, email: str, password: str, plan: str) -> Account:
    """A new account on `plan`; EmailTaken if the e-mail has one already."""
    clean = normalize_email(email)
    check_new_password(password)
    row = UserRow(id=new_id(), email=clean, password_hash=_hash(password), plan=plan, created_at=utc_now())
    taken = EmailTaken(f"There is already an account for {clean}. Sign in instead.")
    if session.scalar(select(UserRow.id).where(UserRow.email == clean)) is not None:
        session.rollback()
        raise taken
    try:
        session.add(row)
        session.commit()
    except IntegrityError:
        session.rollback()
        raise taken from None
    return _account(row)


def sign_in(session: Session, email: str, password: str) -> Account:
    """The account whose e-mail and password these are; WrongCredentials otherwise (same for both)."""
    try:
        clean = normalize_email(email)
    except InvalidAccountInput:
        clean = ""
    row = session.scalar(select(UserRow).where(UserRow.email == clean)) if clean else None
    if row is None:
        _verify(_dummy_hash(), password)
        session.rollback()
        raise _wrong_credentials()
    if not _verify(row.password_hash, password):
        session.rollback()
        raise _wrong_credentials()
    if PASSWORDS.check_needs_rehash(row.password_hash):
        row.password_hash = _hash(password)  # parameters changed since: store the stronger hash
    session.commit()
    return _account(row)


def confirm_password(session: Session, user_id: str, password: str) -> None:
    """WrongCredentials unless `password` is the account's (before deleting it, for one)."""
    row = session.get(UserRow, user_id)
    if row is None or not _verify(row.password_hash, password):
        session.rollback()
        raise WrongCredentials("The password is wrong. Type your current password to confirm.")


def start_session(session: Session, user_id: str, lifetime_s: float) -> BrowserSession:
    """A new browser session for the user; their sessions that have ended are removed on the way."""
    now = utc_now()
    cookie_value = secrets.token_urlsafe(32)
    csrf_token = secrets.token_urlsafe(32)
    expires_at = now + timedelta(seconds=lifetime_s)
    session.execute(
        delete(WebSessionRow).where(WebSessionRow.user_id == user_id, WebSessionRow.expires_at <= now)
    )
    session.add(
        WebSessionRow(
            id=sha256_hex(cookie_value),
            user_id=user_id,
            csrf_token=csrf_token,
            created_at=now,
            expires_at=expires_at,
        )
    )
    session.commit()
    return BrowserSession(cookie_value, csrf_token, expires_at)


def end_session(session: Session, cookie_value: str) -> None:
    """Sign the browser out: its session row goes (a missing one is fine)."""
    session.execute(delete(WebSessionRow).where(WebSessionRow.id == sha256_hex(cookie_value)))
    session.commit()


def session_account(session: Session, cookie_value: str) -> SignedIn:
    """Who holds the session cookie; NotSignedIn when it is unknown or has ended."""
    row = session.get(WebSessionRow, sha256_hex(cookie_value))
    if row is None or row.expires_at <= utc_now():
        session.rollback()
        raise NotSignedIn("Your session has ended. Sign in again.")
    user = session.get(UserRow, row.user_id)
    if user is None:
        session.rollback()
        raise NotSignedIn("Your session has ended. Sign in again.")
    signed_in = SignedIn(_account(user), row.csrf_token)
    session.rollback()
    return signed_in


def token_account(session: Session, token: str) -> SignedIn:
    """Who holds the API token; NotSignedIn when it is unknown or revoked."""
    row = session.scalar(select(ApiTokenRow).where(ApiTokenRow.token_sha256 == sha256_hex(token)))
    user = session.get(UserRow, row.user_id) if row is not None else None
    if row is None or user is None:
        session.rollback()
        raise NotSignedIn(
            "The API token is not valid (revoked, or mistyped). Run `voicestudio login` again "
            "or make a new token on the account page."
        )
    now = utc_now()
    if row.last_used_at is None or now - row.last_used_at > TOKEN_TOUCH_INTERVAL:
        row.last_used_at = now
        session.commit()
    else:
        session.rollback()
    return SignedIn(_account(user), None)


def create_token(session: Session, user_id: str, name: str) -> NewToken:
    """A new API token for the user, named so they can tell it apart; its secret is returned once."""
    clean = name.strip()
    if not clean or len(clean) > TOKEN_NAME_MAX_CHARS:
        raise InvalidAccountInput(
            f"Name the token in 1 to {TOKEN_NAME_MAX_CHARS} characters, e.g. 'laptop CLI'."
        )
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    row = ApiTokenRow(
        id=new_id(), user_id=user_id, name=clean, token_sha256=sha256_hex(token), created_at=utc_now()
    )
    session.add(row)
    session.commit()
    return NewToken(_token_info(row), token)


def list_tokens(session: Session, user_id: str) -> list[TokenInfo]:
    """The user's API tokens, newest first, without their secrets."""
    query = (
        select(ApiTokenRow)
        .where(ApiTokenRow.user_id == user_id)
        .order_by(ApiTokenRow.created_at.desc(), ApiTokenRow.id)
    )
    return [_token_info(row) for row in session.scalars(query)]


def revoke_token(session: Session, user_id: str, token_id: str) -> None:
    """Revoke one of the user's tokens; NotFound for a missing token or someone else's."""
    row = session.get(ApiTokenRow, token_id)
    if row is None or row.user_id != user_id:
        session.rollback()
        raise NotFound(f"There is no API token {token_id}; it may be revoked already. Reload the list.")
    session.delete(row)
    session.commit()


def get_account(session: Session, user_id: str) -> Account:
    """The account `user_id`; NotSignedIn if it was deleted meanwhile."""
    row = session.get(UserRow, user_id)
    if row is None:
        raise NotSignedIn("This account no longer exists. Sign up again to use the studio.")
    return _account(row)


@functools.cache
def _dummy_hash() -> str:
    """Verified when the e-mail is unknown, so a wrong e-mail takes as long as a wrong password."""
    return _hash(secrets.token_urlsafe(16))


def delete_account(session: Session, blobs: BlobStore, user_id: str, password: str) -> GcReport:
    """Delete the account after checking its password: its projects (with everything in them), its jobs,
    tokens and sessions; then the blobs only it referenced. Bytes another user also stored stay."""
    confirm_password(session, user_id, password)
    keys = set(session.scalars(select(BlobRefRow.key).where(BlobRefRow.owner == user_id)))
    for project_id in session.scalars(select(ProjectRow.id).where(ProjectRow.owner == user_id)):
        keys |= project_blob_keys(session, project_id)
    keys.update(
        key
        for key in session.scalars(select(JobRow.state_key).where(JobRow.owner == user_id))
        if key is not None
    )
    session.execute(delete(JobRow).where(JobRow.owner == user_id))
    session.execute(delete(ProjectRow).where(ProjectRow.owner == user_id))
    session.execute(delete(UserRow).where(UserRow.id == user_id))
    session.commit()
    return collect_garbage(session, blobs, only_keys=keys, deleted_owner=user_id, grace_s=TARGETED_GRACE_S)


def _verify(password_hash: str, password: str) -> bool:
    if len(password) > PASSWORD_MAX_CHARS:
        return False
    try:
        with _HASHING:
            return PASSWORDS.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def _wrong_credentials() -> WrongCredentials:
    return WrongCredentials("The e-mail or the password is wrong. Check both and sign in again.")


def _account(row: UserRow) -> Account:
    return Account(id=row.id, email=row.email, plan=row.plan, created_at=row.created_at)


def _token_info(row: ApiTokenRow) -> TokenInfo:
    return TokenInfo(id=row.id, name=row.name, created_at=row.created_at, last_used_at=row.last_used_at)
