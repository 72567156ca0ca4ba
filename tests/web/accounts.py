"""A studio with accounts on, for the account, isolation and plan tests: members with their own cookies.

`accounts_studio` starts the app on a stack (`web.stacks`: SQLite and a blob folder, or PostgreSQL, S3
and Celery), with no worker child (on the scale stack a job that is sent goes to the shared Celery
worker) and a plans file whose free plan is small enough to reach in a test.
"""

import io
import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import numpy as np
import pytest
import soundfile as sf

from voicestudio.jobs import JobStore
from voicestudio.settings import StudioSettings
from voicestudio.web.app import create_app
from web.conftest import StudioUnderTest, static_folder
from web.stacks import ScaleServices, StudioClient, services_for, stack_settings

PASSWORD: Final = "correct horse battery"
FREE_STORAGE_BYTES: Final = 300_000  # three one-second takes
PLANS: Final = {
    "free": {
        "title": "Free",
        "max_projects": 3,
        "storage_bytes": FREE_STORAGE_BYTES,
        "neural_training": False,
        "gpu_minutes_month": 0,
    },
    "pro": {
        "title": "Pro",
        "max_projects": 20,
        "storage_bytes": 50_000_000,
        "neural_training": True,
        "gpu_minutes_month": 30,
    },
}


@dataclass(frozen=True, slots=True)
class AccountsStudio(StudioUnderTest):
    """A started app with accounts on, a client without credentials, and its data folder."""

    def unsent_jobs(self) -> JobStore:
        """The studio's jobs table through a store that sends nothing: a job queued here stays queued."""
        return JobStore(self.studio.sessions)

    def browser(self) -> StudioClient:
        """A new browser (an empty cookie jar) on the studio."""
        return StudioClient(self.app)

    def member(self, email: str, password: str = PASSWORD) -> "Member":
        """Sign up `email` in a browser of its own (its own cookie jar)."""
        client = self.browser()
        signed_up = client.post("/api/account/sign-up", json={"email": email, "password": password})
        assert signed_up.status_code == 201, signed_up.text
        return Member(client, signed_up.json()["email"], signed_up.json()["csrf_token"])


@dataclass(frozen=True, slots=True)
class Member:
    """A signed-in browser: its client keeps the session cookie; unsafe requests carry the CSRF token."""

    client: StudioClient
    email: str
    csrf_token: str

    def get(self, path: str, **options: Any) -> Any:
        return self.client.get(path, **options)

    def send(self, method: str, path: str, **options: Any) -> Any:
        headers = {"X-CSRF-Token": self.csrf_token, **options.pop("headers", {})}
        return self.client.request(method, path, headers=headers, **options)

    def new_project(self, name: str = "Ame", sets: tuple[str, ...] = ("ja-cv",)) -> str:
        made = self.send("POST", "/api/projects", json={"name": name, "language": "ja", "prompt_sets": sets})
        assert made.status_code == 201, made.text
        project_id: str = made.json()["id"]
        return project_id

    def upload(self, project_id: str, prompt_id: str, data: bytes, prompt_set: str = "ja-cv") -> Any:
        return self.send(
            "POST",
            f"/api/projects/{project_id}/takes",
            params={"prompt_set": prompt_set, "prompt_id": prompt_id},
            content=data,
            headers={"Content-Type": "audio/wav"},
        )

    def token(self, name: str = "test CLI") -> str:
        made = self.send("POST", "/api/account/tokens", json={"name": name})
        assert made.status_code == 201, made.text
        token: str = made.json()["token"]
        return token


def tone_wav(frequency_hz: float, seconds: float = 1.0, rate_hz: int = 44_100) -> bytes:
    """A faded sine with faint noise as 16-bit WAV: readable audio that the take checks store."""
    t = np.arange(int(seconds * rate_hz)) / rate_hz
    fade = np.minimum(1.0, np.minimum(t, seconds - t) * 10)
    noise = 0.001 * np.random.default_rng(int(frequency_hz)).standard_normal(t.size)
    samples = (0.3 * np.sin(2 * np.pi * frequency_hz * t) * fade + noise).astype(np.float32)
    out = io.BytesIO()
    sf.write(out, samples, rate_hz, subtype="PCM_16", format="WAV")
    return out.getvalue()


@contextmanager
def accounts_studio(
    root: Path, scale: ScaleServices | None = None, **overrides: Any
) -> Iterator[AccountsStudio]:
    """A started studio with accounts on under `root`, with the test plans: on the scale stack's services
    where `scale` is given, else on the embedded stack (SQLite and a blob folder under `root`)."""
    plans_file = root / "plans.json"
    plans_file.write_text(json.dumps(PLANS), encoding="utf-8")
    chosen: dict[str, Any] = {
        "data_dir": root / "data",
        "worker_processes": 0,
        "static_dir": static_folder(root),
        "accounts_enabled": True,
        "plans_file": plans_file,
        "default_plan": "free",
    }
    settings = StudioSettings(**(chosen | stack_settings(scale) | overrides))
    app = create_app(settings)
    with StudioClient(app) as client:
        yield AccountsStudio(app, client, settings.data_dir, scale)


@contextmanager
def accounts_studio_on(
    request: pytest.FixtureRequest, stack: str, root: Path, **overrides: Any
) -> Iterator[AccountsStudio]:
    """`accounts_studio` on `stack` (for a module fixture that depends on `stack`)."""
    with accounts_studio(root, scale=services_for(request, stack), **overrides) as started:
        yield started


def set_plan(studio: AccountsStudio, email: str, plan: str) -> None:
    """What an operator does to upgrade a user: their row's plan."""
    from voicestudio.db.models import UserRow

    with studio.studio.sessions.begin() as session:
        user = session.query(UserRow).filter(UserRow.email == email).one()
        user.plan = plan
