"""`voicestudio login` against a real server on loopback: the token it keeps signs the CLI's requests."""

import json
import stat
import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import typer
import uvicorn
from rich.console import Console
from typer.testing import CliRunner

from voicestudio.cli import account as cli_account
from voicestudio.cli.account import LoginFailed, login_command, stored_token
from voicestudio.studio.accounts import SESSION_COOKIE
from web.accounts import PASSWORD, AccountsStudio, accounts_studio
from web.server import free_port


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[AccountsStudio, str]]:
    """The accounts studio, also served over HTTP by uvicorn in a thread (the CLI speaks real HTTP)."""
    with accounts_studio(tmp_path_factory.mktemp("cli")) as started:
        port = free_port()
        server = uvicorn.Server(uvicorn.Config(started.app, host="127.0.0.1", port=port, log_level="warning"))
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        url = f"http://127.0.0.1:{port}"
        while not server.started:
            if not thread.is_alive():
                raise AssertionError("uvicorn did not start")
            thread.join(0.02)
        try:
            yield started, url
        finally:
            server.should_exit = True
            thread.join()


def test_login_keeps_a_token_only_the_user_can_read(
    served: tuple[AccountsStudio, str], tmp_path: Path
) -> None:
    studio, url = served
    studio.member("cli@example.org")
    path = tmp_path / "config" / "voicestudio" / "credentials.json"
    console = Console(record=True, width=200)

    assert login_command(url + "/", "CLI@example.org", PASSWORD, console, path) == 0
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    stored = json.loads(path.read_text())["servers"][url]
    assert stored["email"] == "cli@example.org" and stored["token"].startswith("vst_")
    assert f"Signed in to {url} as cli@example.org" in console.export_text()
    assert list(path.parent.glob("*.part")) == []

    token = stored_token(url, path)
    assert token == stored["token"]
    me = httpx.get(f"{url}/api/account", headers={"Authorization": f"Bearer {token}"})
    assert me.status_code == 200 and me.json()["email"] == "cli@example.org"
    tokens = httpx.get(f"{url}/api/account/tokens", headers={"Authorization": f"Bearer {token}"}).json()
    assert [t["id"] for t in tokens] == [stored["token_id"]] and tokens[0]["name"].startswith(
        "voicestudio CLI on "
    )


def test_login_with_a_wrong_password_says_so_and_keeps_nothing(
    served: tuple[AccountsStudio, str], tmp_path: Path
) -> None:
    _studio, url = served
    path = tmp_path / "credentials.json"
    with pytest.raises(LoginFailed, match="The e-mail or the password is wrong"):
        login_command(url, "cli@example.org", "wrong password", Console(), path)
    assert not path.exists()
    with pytest.raises(LoginFailed, match="Could not reach"):
        login_command(f"http://127.0.0.1:{free_port()}", "cli@example.org", PASSWORD, Console(), path)


def test_the_login_command_asks_for_the_password(
    served: tuple[AccountsStudio, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _studio, url = served
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    app = typer.Typer()
    app.command()(cli_account.login)
    result = CliRunner().invoke(app, ["--server", url, "--email", "cli@example.org"], input=f"{PASSWORD}\n")
    assert result.exit_code == 0, result.output
    assert "Password:" in result.output and PASSWORD not in result.output
    assert stored_token(url, tmp_path / "voicestudio" / "credentials.json") is not None
    assert cli_account.SESSION_COOKIE == SESSION_COOKIE
