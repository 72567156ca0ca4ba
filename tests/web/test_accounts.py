"""Singers sign up, sign in and out; the page's cookie needs its CSRF token, the CLI its API token.

On each stack (SQLite, or PostgreSQL with S3 and Celery): sessions, tokens and users live in its database.
"""

import hashlib
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from argon2 import PasswordHasher
from sqlalchemy import select, update

from voicestudio.db.models import ApiTokenRow, UserRow, WebSessionRow
from voicestudio.db.types import utc_now
from voicestudio.studio.accounts import PASSWORDS, SESSION_COOKIE
from web.accounts import PASSWORD, AccountsStudio, accounts_studio_on
from web.conftest import StudioUnderTest, started_studio
from web.stacks import StudioClient, each_stack  # noqa: F401  (each_stack: the studio runs on each stack)


@pytest.fixture(scope="module")
def accounts(
    request: pytest.FixtureRequest, stack: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[AccountsStudio]:
    with accounts_studio_on(request, stack, tmp_path_factory.mktemp("accounts")) as started:
        yield started


def browser(accounts: AccountsStudio) -> StudioClient:
    return accounts.browser()


def test_a_singer_signs_up_signs_out_and_signs_in_again(accounts: AccountsStudio) -> None:
    page = browser(accounts)
    signed_up = page.post("/api/account/sign-up", json={"email": "  Ame@Example.ORG ", "password": PASSWORD})
    assert signed_up.status_code == 201
    account = signed_up.json()
    assert (account["accounts"], account["email"], account["plan"]["name"]) == (
        True,
        "ame@example.org",
        "free",
    )
    assert account["usage"] == {
        "projects": 0,
        "storage_bytes": 0,
        "gpu_minutes_used": 0.0,
        "gpu_minutes_left": 0.0,
    }
    cookie_header = signed_up.headers["set-cookie"]
    assert cookie_header.startswith(f"{SESSION_COOKIE}=")
    assert "HttpOnly" in cookie_header and "SameSite=lax" in cookie_header and "Secure" not in cookie_header
    cookie = page.cookies[SESSION_COOKIE]

    with accounts.studio.sessions() as session:
        stored = session.scalars(select(WebSessionRow)).all()
        user = session.scalar(select(UserRow).where(UserRow.email == "ame@example.org"))
    assert user is not None and user.password_hash.startswith("$argon2id$")
    assert PASSWORD not in user.password_hash
    assert hashlib.sha256(cookie.encode()).hexdigest() in {row.id for row in stored}
    assert cookie not in {row.id for row in stored}

    me = page.get("/api/account").json()
    assert me["email"] == "ame@example.org" and me["csrf_token"] == account["csrf_token"]

    out = page.post("/api/account/sign-out", headers={"X-CSRF-Token": account["csrf_token"]})
    assert out.status_code == 204
    page.cookies.set(SESSION_COOKIE, cookie)  # the old cookie is worth nothing now
    ended = page.get("/api/account")
    assert ended.status_code == 401 and "Sign in again" in ended.json()["error"]
    page.cookies.clear()

    anonymous = page.get("/api/projects")
    assert anonymous.status_code == 401
    assert anonymous.json()["error"].startswith("Sign in first")
    assert anonymous.headers["www-authenticate"].startswith("Bearer")

    again = page.post("/api/account/sign-in", json={"email": "AME@example.org", "password": PASSWORD})
    assert again.status_code == 200
    assert again.json()["csrf_token"] != account["csrf_token"]
    assert page.get("/api/account").json()["email"] == "ame@example.org"


def test_a_wrong_password_and_an_unknown_e_mail_get_the_same_answer(accounts: AccountsStudio) -> None:
    accounts.member("kiri@example.org")
    page = browser(accounts)
    wrong = page.post("/api/account/sign-in", json={"email": "kiri@example.org", "password": "not it at all"})
    unknown = page.post("/api/account/sign-in", json={"email": "nobody@example.org", "password": PASSWORD})
    assert (wrong.status_code, unknown.status_code) == (401, 401)
    assert wrong.json() == unknown.json()
    assert wrong.json()["error"] == "The e-mail or the password is wrong. Check both and sign in again."
    assert SESSION_COOKIE not in page.cookies


def test_an_e_mail_has_one_account_and_a_password_has_eight_characters(accounts: AccountsStudio) -> None:
    accounts.member("yuki@example.org")
    page = browser(accounts)
    twice = page.post("/api/account/sign-up", json={"email": "YUKI@example.org", "password": PASSWORD})
    assert twice.status_code == 409 and "Sign in instead" in twice.json()["error"]
    short = page.post("/api/account/sign-up", json={"email": "hana@example.org", "password": "1234567"})
    assert short.status_code == 422 and "7 characters; use at least 8" in short.json()["error"]
    not_mail = page.post("/api/account/sign-up", json={"email": "hana", "password": PASSWORD})
    assert not_mail.status_code == 422 and "not an e-mail address" in not_mail.json()["error"]


def test_a_cookie_signed_change_needs_the_csrf_token(accounts: AccountsStudio) -> None:
    sora = accounts.member("sora@example.org")
    body = {"name": "Sora", "language": "ja", "prompt_sets": ["ja-cv"]}
    missing = sora.client.post("/api/projects", json=body)
    assert missing.status_code == 403 and "X-CSRF-Token" in missing.json()["error"]
    forged = sora.client.post("/api/projects", json=body, headers={"X-CSRF-Token": "guessed"})
    assert forged.status_code == 403
    assert sora.get("/api/projects").json() == []

    assert sora.send("POST", "/api/projects", json=body).status_code == 201
    token = sora.token()
    cli = browser(accounts)  # no cookie: the bearer token alone signs the request, no CSRF token needed
    made = cli.post(
        "/api/projects", json={**body, "name": "Sora 2"}, headers={"Authorization": f"Bearer {token}"}
    )
    assert made.status_code == 201
    assert sorted(p["name"] for p in sora.get("/api/projects").json()) == ["Sora", "Sora 2"]


def test_api_tokens_are_shown_once_stored_as_digests_and_revocable(accounts: AccountsStudio) -> None:
    mio = accounts.member("mio@example.org")
    made = mio.send("POST", "/api/account/tokens", json={"name": "laptop"})
    assert made.status_code == 201
    token = made.json()["token"]
    listed = mio.get("/api/account/tokens").json()
    assert [(t["id"], t["name"]) for t in listed] == [(made.json()["id"], "laptop")]
    assert token not in str(listed)
    with accounts.studio.sessions() as session:
        digests = set(session.scalars(select(ApiTokenRow.token_sha256)))
    assert hashlib.sha256(token.encode()).hexdigest() in digests and token not in digests

    cli = browser(accounts)
    bearer = {"Authorization": f"Bearer {token}"}
    me = cli.get("/api/account", headers=bearer).json()
    assert (me["email"], me["csrf_token"]) == ("mio@example.org", None)
    assert mio.get("/api/account/tokens").json()[0]["last_used_at"] is not None

    other = accounts.member("ren@example.org")
    assert other.send("DELETE", f"/api/account/tokens/{made.json()['id']}").status_code == 404
    assert cli.get("/api/account", headers=bearer).status_code == 200

    assert mio.send("DELETE", f"/api/account/tokens/{made.json()['id']}").status_code == 204
    revoked = cli.get("/api/account", headers=bearer)
    assert revoked.status_code == 401 and "not valid" in revoked.json()["error"]


def test_a_password_hashed_with_older_parameters_is_rehashed_at_sign_in(accounts: AccountsStudio) -> None:
    accounts.member("nagi@example.org")
    weak = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1).hash(PASSWORD)
    with accounts.studio.sessions.begin() as session:
        session.execute(update(UserRow).where(UserRow.email == "nagi@example.org").values(password_hash=weak))
    page = browser(accounts)
    assert (
        page.post(
            "/api/account/sign-in", json={"email": "nagi@example.org", "password": PASSWORD}
        ).status_code
        == 200
    )
    with accounts.studio.sessions() as session:
        stored = session.scalar(select(UserRow.password_hash).where(UserRow.email == "nagi@example.org"))
    assert stored is not None and stored != weak
    assert not PASSWORDS.check_needs_rehash(stored)
    assert f"m={PASSWORDS.memory_cost},t={PASSWORDS.time_cost},p={PASSWORDS.parallelism}" in stored


def test_a_session_past_its_lifetime_signs_nobody_in(accounts: AccountsStudio) -> None:
    tomo = accounts.member("tomo@example.org")
    cookie = tomo.client.cookies[SESSION_COOKIE]
    with accounts.studio.sessions.begin() as session:
        session.execute(
            update(WebSessionRow)
            .where(WebSessionRow.id == hashlib.sha256(cookie.encode()).hexdigest())
            .values(expires_at=utc_now() - timedelta(seconds=1))
        )
    ended = tomo.get("/api/projects")
    assert ended.status_code == 401 and ended.json()["error"] == "Your session has ended. Sign in again."


def test_the_page_and_the_health_check_stay_public(accounts: AccountsStudio) -> None:
    anonymous = browser(accounts)
    assert anonymous.get("/").status_code == 200
    assert anonymous.get("/static/app.mjs").status_code == 200
    assert anonymous.get("/api/health").json()["ok"] is True
    assert anonymous.get("/api/prompt-sets").status_code == 200
    assert anonymous.get("/api/account").status_code == 401
    with anonymous.websocket_connect("/ws/jobs/anything") as socket:
        assert socket.receive_json()["error"].startswith("Sign in first")
        closed = socket.receive()
    assert closed == {"type": "websocket.close", "code": 4401, "reason": ""}


def test_without_accounts_the_local_user_owns_everything(tmp_path: Path) -> None:
    with started_studio(tmp_path, worker_processes=0) as studio:
        local_user_owns_everything(studio)


def local_user_owns_everything(studio: StudioUnderTest) -> None:
    me = studio.client.get("/api/account")
    assert me.status_code == 200
    account = me.json()
    assert (account["accounts"], account["email"], account["csrf_token"]) == (False, None, None)
    assert account["plan"]["name"] == "local"
    assert (account["plan"]["max_projects"], account["usage"]["gpu_minutes_left"]) == (None, None)
    refused = studio.client.post(
        "/api/account/sign-up", json={"email": "a@example.org", "password": PASSWORD}
    )
    assert refused.status_code == 404 and "without accounts" in refused.json()["error"]
    assert (
        studio.client.post(
            "/api/projects", json={"name": "x", "language": "ja", "prompt_sets": ["ja-cv"]}
        ).status_code
        == 201
    )
