"""`voicestudio login`: sign in to a studio server once and keep an API token for later commands.

The token is made through the API as the page would (sign in, ask for a token, sign out) and stored in
`~/.config/voicestudio/credentials.json` (or under `$XDG_CONFIG_HOME`), readable by the user alone.
"""

import contextlib
import json
import os
import socket
import tempfile
import urllib.error
import urllib.request
from dataclasses import dataclass
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Annotated, Any, Final

import typer
from rich.console import Console

from voicestudio.errors import VoicestudioError

CREDENTIALS_FILE: Final = "credentials.json"
TIMEOUT_S: Final = 30.0
SESSION_COOKIE: Final = (
    "voicestudio_session"  # the server's (studio.accounts), not imported: the CLI starts light
)


class LoginFailed(VoicestudioError):
    """The server could not be reached, or it refused the e-mail and password."""


@dataclass(frozen=True, slots=True)
class Credentials:
    """What `login` keeps for one server."""

    server: str
    email: str
    token: str
    token_id: str


def credentials_path() -> Path:
    """`$XDG_CONFIG_HOME/voicestudio/credentials.json`, by default under ~/.config."""
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "voicestudio" / CREDENTIALS_FILE


def sign_in_for_token(server: str, email: str, password: str) -> Credentials:
    """Sign in at `server` and make an API token named after this machine; the session is closed again."""
    base = server.rstrip("/")
    signed_in, cookies = _call("POST", f"{base}/api/account/sign-in", {"email": email, "password": password})
    cookie = cookies.get(SESSION_COOKIE)
    if cookie is None:
        raise LoginFailed(f"{base} signed in without a session cookie. Check that the address is a studio.")
    headers = {"Cookie": f"{SESSION_COOKIE}={cookie}", "X-CSRF-Token": str(signed_in.get("csrf_token", ""))}
    made, _ = _call(
        "POST", f"{base}/api/account/tokens", {"name": f"voicestudio CLI on {socket.gethostname()}"}, headers
    )
    with contextlib.suppress(LoginFailed):
        _call("POST", f"{base}/api/account/sign-out", None, headers)
    return Credentials(base, str(signed_in.get("email", email)), str(made["token"]), str(made["id"]))


def save_credentials(credentials: Credentials, path: Path | None = None) -> Path:
    """Keep the token for its server (others stay), in a file only the user can read; temp file + rename."""
    target = path or credentials_path()
    target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    stored = load_all(target)
    stored[credentials.server] = {
        "email": credentials.email,
        "token": credentials.token,
        "token_id": credentials.token_id,
    }
    handle, temporary = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=target.parent)
    try:
        os.fchmod(handle, 0o600)
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            json.dump({"servers": stored}, out, indent=2)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return target


def load_all(path: Path | None = None) -> dict[str, dict[str, str]]:
    """Every server's stored login, by server address; empty when there is no file yet."""
    target = path or credentials_path()
    try:
        raw = json.loads(target.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as error:
        raise LoginFailed(
            f"{target} is not readable ({error}). Delete it and run `voicestudio login` again."
        ) from None
    servers = raw.get("servers", {}) if isinstance(raw, dict) else {}
    return {str(server): dict(entry) for server, entry in servers.items() if isinstance(entry, dict)}


def stored_token(server: str, path: Path | None = None) -> str | None:
    """The API token kept for `server`, for commands that talk to it; None before `login`."""
    entry = load_all(path).get(server.rstrip("/"))
    return entry.get("token") if entry is not None else None


def login_command(server: str, email: str, password: str, console: Console, path: Path | None = None) -> int:
    """The CLI's `login`: sign in, keep the token, say where it is."""
    credentials = sign_in_for_token(server, email, password)
    target = save_credentials(credentials, path)
    console.print(f"Signed in to {credentials.server} as {credentials.email}; the API token is in {target}.")
    return 0


def login(
    server: Annotated[
        str, typer.Option("--server", help="The studio's address, e.g. https://studio.example.org.")
    ],
    email: Annotated[str, typer.Option("--email", help="Your account's e-mail.")],
    password: Annotated[
        str,
        typer.Option(
            "--password",
            prompt=True,
            hide_input=True,
            envvar="VOICESTUDIO_PASSWORD",
            help="Asked for when not given (or set VOICESTUDIO_PASSWORD).",
        ),
    ],
) -> None:
    """Sign in to a studio server and keep an API token for the CLI (in ~/.config/voicestudio)."""
    raise typer.Exit(login_command(server, email, password, Console()))


def _call(
    method: str, url: str, body: dict[str, Any] | None, headers: dict[str, str] | None = None
) -> tuple[dict[str, Any], dict[str, str]]:
    """One JSON request; the answer's JSON and cookies, or LoginFailed with the server's own words."""
    data = json.dumps(body).encode("utf-8") if body is not None else None
    request = urllib.request.Request(url, data=data, method=method)
    request.add_header("Accept", "application/json")
    if data is not None:
        request.add_header("Content-Type", "application/json")
    for name, value in (headers or {}).items():
        request.add_header(name, value)
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_S) as response:
            raw = response.read()
            cookies = SimpleCookie()
            for header in response.headers.get_all("Set-Cookie") or []:
                cookies.load(header)
    except urllib.error.HTTPError as error:
        raise LoginFailed(_server_message(error)) from None
    except (urllib.error.URLError, OSError) as error:
        reason = getattr(error, "reason", error)
        raise LoginFailed(
            f"Could not reach {url} ({reason}). Check the address and that the server runs."
        ) from None
    answer = json.loads(raw) if raw else {}
    return (answer if isinstance(answer, dict) else {}), {
        name: morsel.value for name, morsel in cookies.items()
    }


def _server_message(error: urllib.error.HTTPError) -> str:
    try:
        body = json.loads(error.read())
    except ValueError:
        body = None
    if isinstance(body, dict) and isinstance(body.get("error"), str):
        return str(body["error"])
    return f"The server answered {error.code} {error.reason}. Check the address (--server)."
