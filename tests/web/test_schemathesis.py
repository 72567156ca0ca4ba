"""Every route of the API, fed by schemathesis from the app's own OpenAPI document, answers without a 500.

A member signed in by API token, on a plan without neural training or GPU minutes (so nothing trains),
owns a project with a take, its oto lines and a voicebank, on the scale stack (PostgreSQL, S3, Celery).
Each route gets EXAMPLES_PER_ROUTE generated requests, valid and invalid, the same on every run; in about
half of them the path carries the member's real ids, the query a real prompt and a WAV body the real take
(whole or cut short), so requests reach past "not found". No answer may be a 500 (its traceback from the
server log is shown), an error must be `{"error": "<what to do>"}`, a success must match its schema.
"""

import json
import logging
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final, cast

import hypothesis.strategies as st
import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.python.asgi import ASGIClient
from schemathesis.specs.openapi.checks import content_type_conformance, response_schema_conformance

from voicestudio.settings import StudioSettings
from voicestudio.web.app import create_app
from web.accounts import AccountsStudio, accounts_studio_on
from web.jobs import finished
from web.stacks import SCALE

EXAMPLES_PER_ROUTE: Final = 10
SERVER_LOGGER: Final = "voicestudio.web"  # where InternalErrors logs a 500's traceback
FUZZ_PLAN: Final = {  # room for what the fuzzing stores; nothing may train
    "title": "Free",
    "max_projects": 3,
    "storage_bytes": 20_000_000,
    "neural_training": False,
    "gpu_minutes_month": 0,
}


@dataclass(frozen=True, slots=True)
class Fuzzer:
    """The signed-in member whose requests schemathesis sends, and the real ids they own."""

    studio: AccountsStudio
    headers: dict[str, str]
    known_ids: dict[str, str]  # path parameter → a real value of it
    spare_project_id: str  # the only real project a generated DELETE may remove


class ServerLog(logging.Handler):
    """Keeps every record the server logs with a traceback, to show beside a 500."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.tracebacks: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.exc_info:
            self.tracebacks.append(self.format(record))


@pytest.fixture(scope="module")
def fuzzer(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, takes: dict[str, bytes]
) -> Iterator[Fuzzer]:
    """On the scale stack (PostgreSQL, S3, Celery): a member with a project, a take, its oto, a voicebank."""
    root = tmp_path_factory.mktemp("schemathesis")
    plans_file = root / "fuzz-plans.json"
    plans_file.write_text(json.dumps({"free": FUZZ_PLAN}), encoding="utf-8")
    with accounts_studio_on(request, SCALE, root, plans_file=plans_file) as studio:
        member = studio.member("fuzz@example.org")
        token = member.token("schemathesis")
        spare_token = member.send("POST", "/api/account/tokens", json={"name": "spare"}).json()["id"]
        project_id, spare_project_id = member.new_project("Fuzz"), member.new_project("Spare")
        take = member.upload(project_id, "ka", takes["ka"])
        assert take.status_code == 201, take.text
        oto = member.send("POST", f"/api/projects/{project_id}/oto").json()["job"]
        assert finished(member.client, oto["id"])["state"] == "succeeded"
        build = member.send("POST", f"/api/projects/{project_id}/voicebanks", json={"name": "Fuzz"})
        built = finished(member.client, build.json()["job"]["id"])
        assert built["state"] == "succeeded", built["error"]
        line = member.get(f"/api/projects/{project_id}/oto").json()["lines"][0]
        known = {
            "project_id": project_id,
            "take_id": take.json()["take"]["id"],
            "line_id": line["id"],
            "job_id": oto["id"],
            "voicebank_id": built["result"]["voicebank_id"],
            "token_id": spare_token,
            "name": "ja-cv",
            "prompt_id": "ka",
            "picture": "waveform",
        }
        yield Fuzzer(studio, {"Authorization": f"Bearer {token}"}, known, spare_project_id)


@pytest.fixture
def server_log() -> Iterator[ServerLog]:
    """The server's tracebacks logged during one test."""
    handler = ServerLog()
    logger = logging.getLogger(SERVER_LOGGER)
    logger.addHandler(handler)
    yield handler
    logger.removeHandler(handler)


def errors_say_what_is_wrong(
    _ctx: Any, response: schemathesis.Response, case: schemathesis.Case[Any]
) -> None:
    """A 4xx or 5xx answer is JSON `{"error": message}` with a message, never a bare page or traceback."""
    if response.status_code < 400:
        return
    content_type = response.headers.get("content-type", [""])[0]
    assert content_type.startswith("application/json"), (
        f"{case.method} {case.formatted_path} answered {response.status_code} as {content_type!r}"
    )
    body = response.json()
    assert isinstance(body, dict) and isinstance(body.get("error"), str) and body["error"].strip(), (
        f"{case.method} {case.formatted_path} answered {response.status_code} with no error message: {body}"
    )


CHECKS: Final = [
    not_a_server_error,
    errors_say_what_is_wrong,
    content_type_conformance,
    response_schema_conformance,
]


def openapi_document() -> dict[str, Any]:
    """The API's OpenAPI document, from an app that is built but never started (nothing is stored)."""
    with tempfile.TemporaryDirectory(prefix="voicestudio-openapi-") as root:
        settings = StudioSettings(
            data_dir=Path(root),
            database_url=f"sqlite:///{root}/openapi.db",
            blob_location=str(Path(root) / "blobs"),
            job_backend="local",
            accounts_enabled=True,
            worker_processes=0,
        )
        app = create_app(settings)
        document = app.openapi()
        app.state.studio.engine.dispose()
    return document


schema = schemathesis.openapi.from_dict(openapi_document())
schemathesis.serializer.alias("audio/wav", "application/octet-stream")  # takes and consents: raw bytes
REAL_TAKE_BYTES: Final = (None, 0, 44, 2_000, -1)  # None: the generated body; -1: the whole real take


def with_real_values(
    case: schemathesis.Case[Any], fuzzer: Fuzzer, take: bytes, kept_bytes: int | None
) -> None:
    """The member's real ids in the path, a real prompt in the query, and the real take cut short."""
    deleting = case.method.upper() == "DELETE"
    known = dict(fuzzer.known_ids, project_id=fuzzer.spare_project_id) if deleting else fuzzer.known_ids
    if case.path_parameters:
        case.path_parameters = {name: known.get(name, value) for name, value in case.path_parameters.items()}
    if case.query and "prompt_id" in case.query:
        case.query = {**case.query, "prompt_set": "ja-cv", "prompt_id": "ka"}
    if case.media_type == "audio/wav" and kept_bytes is not None:
        case.body = take if kept_bytes < 0 else take[:kept_bytes]


@schema.parametrize()
@schema.given(real_values=st.booleans(), kept_bytes=st.sampled_from(REAL_TAKE_BYTES))
@settings(
    max_examples=EXAMPLES_PER_ROUTE,
    derandomize=True,  # the same inputs on every run
    database=None,
    deadline=None,
    suppress_health_check=list(HealthCheck),  # the module's studio is shared by every example, on purpose
)
def test_every_route_answers_any_input_without_a_server_error(
    case: schemathesis.Case[Any],
    real_values: bool,
    kept_bytes: int | None,
    fuzzer: Fuzzer,
    server_log: ServerLog,
    takes: dict[str, bytes],
) -> None:
    if real_values:
        with_real_values(case, fuzzer, takes["ka"], kept_bytes)
    app = fuzzer.studio.app
    seen = len(server_log.tracebacks)
    try:
        # In process (the client is not entered: the studio's own test client already started the app);
        # a redirect to S3 is the answer under test, not followed into the app.
        case.call_and_validate(
            session=ASGIClient(cast(Any, app)),
            app=app,
            headers=fuzzer.headers,
            checks=CHECKS,
            max_redirects=0,
        )
    except BaseException as failure:
        logged = server_log.tracebacks[seen:]
        if logged:
            failure.add_note("The server logged:\n" + "\n\n".join(logged))
        raise


def test_the_member_still_owns_their_project_after_the_fuzzing(fuzzer: Fuzzer) -> None:
    """Run last: whatever the generated requests did, the member's token and real project still work."""
    project_id = fuzzer.known_ids["project_id"]
    project = fuzzer.studio.browser().get(f"/api/projects/{project_id}", headers=fuzzer.headers)
    assert project.status_code == 200, project.text
    assert project.json()["recorded"] == 1
