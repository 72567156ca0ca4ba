"""User B guesses user A's ids on every route the API has, and learns nothing: 404, as for a missing id.

The routes come from the OpenAPI document (and the WebSocket routers), so a new route is covered the
day it is added; a route whose path names an id this file cannot fill fails the coverage test until
its noun is added to OWNED_IDS (or it is declared public). On each stack: SQLite and a blob folder, or
PostgreSQL, S3 and Celery.
"""

import io
import re
import uuid
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Final

import pytest
from fastapi import APIRouter
from fastapi.routing import APIWebSocketRoute

import voicestudio.web.routes as route_package
from voicestudio.db.models import ConsentRow, OtoLineRow, VoicebankRow, VoiceModelRow, new_id
from voicestudio.db.types import utc_now
from voicestudio.studio.gc import record_blob
from web.accounts import AccountsStudio, Member, accounts_studio_on, set_plan, tone_wav
from web.stacks import StudioClient, each_stack  # noqa: F401  (each_stack: every test runs on each stack)

SECRET_NAME: Final = "Hidden Ame Project"
A_EMAIL: Final = "ame-owner@example.org"
# Routes anyone may call: they hold nothing of a user's.
PUBLIC: Final = frozenset(
    {
        ("GET", "/healthz"),
        ("GET", "/readyz"),
        ("GET", "/metrics"),
        ("GET", "/api/health"),
        ("GET", "/api/prompt-sets"),
        ("GET", "/api/prompt-sets/{name}"),
        ("GET", "/api/prompt-sets/{name}/prompts/{prompt_id}/example.wav"),
        ("GET", "/api/consent-sentence"),
        ("POST", "/api/account/sign-up"),
        ("POST", "/api/account/sign-in"),
    }
)
# Path and query parameters that are not anyone's: what to send for them.
PLAIN_VALUES: Final = {"picture": "waveform", "prompt_set": "ja-cv", "prompt_id": "ka", "language": "ja"}
ID_PATTERN: Final = re.compile(r"\{(\w+)\}")


@dataclass(frozen=True, slots=True)
class Owned:
    """User A's real rows, by the name a route gives their id."""

    ids: dict[str, str]
    take_bytes: bytes


@dataclass(frozen=True, slots=True)
class Setting:
    studio: AccountsStudio
    owner: Member
    owned: Owned
    intruder_token: str


@pytest.fixture(scope="module")
def setting(
    request: pytest.FixtureRequest, stack: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Setting]:
    """A studio on each stack where A has one of everything, and B is signed in with a token."""
    with accounts_studio_on(request, stack, tmp_path_factory.mktemp("isolation")) as studio:
        owner = studio.member(A_EMAIL)
        set_plan(studio, A_EMAIL, "pro")
        intruder = studio.member("guesser@example.org")
        yield Setting(studio, owner, seed(studio, owner), intruder.token())


def seed(studio: AccountsStudio, owner: Member) -> Owned:
    """A project with a take (through the API), and an oto line, voicebank, consent, model and a job
    that stays queued (sent to no worker)."""
    project_id = owner.new_project(SECRET_NAME, ("ja-cv",))
    take_bytes = tone_wav(330.0)
    uploaded = owner.upload(project_id, "ka", take_bytes)
    assert uploaded.status_code == 201, uploaded.text
    made = owner.send("POST", "/api/account/tokens", json={"name": "A's laptop"}).json()
    blobs = studio.studio.blobs
    bank = blobs.put_stream([b"PK\x05\x06" + bytes(18)], 1000)
    consent = blobs.put_stream([tone_wav(440.0)], 1_000_000)
    onnx = blobs.put_stream([b"onnx model of A"], 1000)
    config = blobs.put_stream([b'{"audio": {"sample_rate": 22050}}'], 1000)
    ids = {"project_id": project_id, "take_id": uploaded.json()["take"]["id"], "token_id": made["id"]}
    ids["job_id"] = studio.unsent_jobs().create(
        "oto", {"project_id": project_id}, project_id, owner=owner_id(studio)
    )
    ids |= {"line_id": new_id(), "voicebank_id": new_id(), "consent_id": new_id()}
    ids["model_id"] = f"ame-{uuid.uuid4().hex[:8]}"
    with studio.studio.sessions.begin() as session:
        session.add(
            OtoLineRow(
                id=ids["line_id"],
                project_id=project_id,
                position=0,
                wav_name="ka.wav",
                alias="ka",
                offset_ms=10,
                consonant_ms=50,
                cutoff_ms=-300,
                preutterance_ms=40,
                overlap_ms=10,
                confidence=0.9,
                note="",
                edited=False,
            )
        )
        session.add(
            VoicebankRow(id=ids["voicebank_id"], project_id=project_id, blob_key=bank.key, job_id=None)
        )
        session.add(
            ConsentRow(
                id=ids["consent_id"],
                project_id=project_id,
                sentence="I agree.",
                language="ja",
                blob_key=consent.key,
                sample_rate_hz=44_100,
                duration_ms=1000.0,
                created_at=utc_now(),
            )
        )
        session.add(
            VoiceModelRow(
                id=ids["model_id"],
                project_id=project_id,
                job_id=None,
                onnx_key=onnx.key,
                config_key=config.key,
                model_bytes=onnx.size_bytes,
                created_at=utc_now(),
                card={
                    "name": "Ame voice",
                    "language": "ja",
                    "phoneme_type": "openjtalk",
                    "espeak_voice": "ja",
                    "sample_rate_hz": 22_050,
                },
            )
        )
        for ref in (bank, consent, onnx, config):
            record_blob(session, owner_id(studio), ref)
    return Owned(ids, take_bytes)


def owner_id(studio: AccountsStudio) -> str:
    from voicestudio.db.models import UserRow

    with studio.studio.sessions() as session:
        return session.query(UserRow.id).filter(UserRow.email == A_EMAIL).one()[0]


# --- the routes, as the API describes them --------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Route:
    """One operation of the OpenAPI document, and the document (for its schemas)."""

    method: str
    path: str
    operation: dict[str, Any]
    spec: dict[str, Any]

    @property
    def path_params(self) -> list[str]:
        return ID_PATTERN.findall(self.path)

    @property
    def public(self) -> bool:
        return (self.method, self.path) in PUBLIC


def http_routes(studio: AccountsStudio) -> list[Route]:
    spec = studio.app.openapi()
    return [
        Route(method.upper(), path, operation, spec)
        for path, operations in spec["paths"].items()
        for method, operation in operations.items()
    ]


def websocket_paths() -> list[str]:
    """Every WebSocket route of every router module (they are not in the OpenAPI document)."""
    import importlib
    import pkgutil

    paths: set[str] = set()
    for module_info in pkgutil.iter_modules(route_package.__path__):
        module = importlib.import_module(f"{route_package.__name__}.{module_info.name}")
        for value in vars(module).values():
            if isinstance(value, APIRouter):
                paths.update(r.path for r in value.routes if isinstance(r, APIWebSocketRoute))
    return sorted(paths)


def unfillable(route: Route, ids: dict[str, str]) -> list[str]:
    """The route's parameters (path, required query, `*_id` body fields) this file has no value for."""
    names = list(route.path_params)
    names += [
        p["name"] for p in route.operation.get("parameters", []) if p["in"] == "query" and p.get("required")
    ]
    names += body_id_fields(route)
    return [name for name in names if name not in ids and name not in PLAIN_VALUES]


def body_id_fields(route: Route) -> list[str]:
    schema = json_body_schema(route)
    return [name for name in (schema or {}).get("properties", {}) if name.endswith("_id")]


def json_body_schema(route: Route) -> dict[str, Any] | None:
    content = route.operation.get("requestBody", {}).get("content", {})
    if "application/json" not in content:
        return None
    return resolve(route.spec, content["application/json"]["schema"])


def resolve(spec: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    """The schema with $ref and Optional (anyOf with null) unwrapped."""
    while True:
        if "$ref" in schema:
            schema = spec["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
        elif "anyOf" in schema:
            schema = next(s for s in schema["anyOf"] if s.get("type") != "null")
        else:
            return schema


def example(spec: dict[str, Any], schema: dict[str, Any], name: str, ids: dict[str, str]) -> Any:
    """A valid value for `schema`: ids from `ids`, the rest the smallest thing that validates."""
    schema = resolve(spec, schema)
    if name in ids:
        return ids[name]
    if "enum" in schema:
        return schema["enum"][0]
    kind = schema.get("type")
    if kind == "object":
        required = set(schema.get("required", []))
        return {
            key: example(spec, sub, key, ids)
            for key, sub in schema.get("properties", {}).items()
            if key in required or key.endswith("_id")
        }
    if kind == "array":
        return []
    if kind == "integer":
        return max(1, int(schema.get("minimum", 1)))
    if kind == "number":
        return 1.0
    if kind == "boolean":
        return False
    return "x" * max(8, int(schema.get("minLength", 1)))


def call(client: StudioClient, route: Route, ids: dict[str, str], headers: dict[str, str]) -> Any:
    """The route called with `ids` (and plain values) for its parameters and a valid body."""
    path = ID_PATTERN.sub(lambda m: ids.get(m.group(1)) or PLAIN_VALUES[m.group(1)], route.path)
    query = {
        p["name"]: ids.get(p["name"]) or PLAIN_VALUES[p["name"]]
        for p in route.operation.get("parameters", [])
        if p["in"] == "query" and p.get("required")
    }
    content = route.operation.get("requestBody", {}).get("content", {})
    options: dict[str, Any] = {"params": query, "headers": dict(headers)}
    if "application/json" in content:
        options["json"] = example(route.spec, content["application/json"]["schema"], "", ids)
    elif "audio/wav" in content:
        options["content"] = tone_wav(550.0)
        options["headers"]["Content-Type"] = "audio/wav"
    return client.request(route.method, path, follow_redirects=False, **options)


def missing_ids(ids: dict[str, str]) -> dict[str, str]:
    return {
        name: (f"gone-{uuid.uuid4().hex[:8]}" if name == "model_id" else str(uuid.uuid4())) for name in ids
    }


def shape(message: str, ids: dict[str, str]) -> str:
    for value in ids.values():
        message = message.replace(value, "<id>")
    return message


def visible_text(response: Any) -> str:
    """What a response shows: its text, or every member of a zip it sends."""
    if response.headers.get("content-type", "").startswith("application/zip"):
        archive = zipfile.ZipFile(io.BytesIO(response.content))
        return " ".join(archive.read(name).decode("utf-8", "replace") + name for name in archive.namelist())
    return str(response.content.decode("utf-8", "replace"))


# --- the tests --------------------------------------------------------------------------------------------


def test_every_route_is_covered_by_the_isolation_suite(setting: Setting) -> None:
    ids = setting.owned.ids
    gaps = {
        f"{route.method} {route.path}": unfillable(route, ids)
        for route in http_routes(setting.studio)
        if not route.public and unfillable(route, ids)
    }
    assert gaps == {}, (
        "These routes name ids the isolation suite cannot fill; add the noun to seed() (a row of user A) "
        f"or declare the route PUBLIC: {gaps}"
    )
    assert websocket_paths() == ["/ws/jobs/{job_id}"]


def test_another_user_gets_404_for_every_id_of_mine(setting: Setting) -> None:
    ids = setting.owned.ids
    guesser = setting.studio.browser()
    bearer = {"Authorization": f"Bearer {setting.intruder_token}"}
    leaks: list[str] = []
    tried = 0
    for route in http_routes(setting.studio):
        if route.public or not (route.path_params or body_id_fields(route)):
            continue
        tried += 1
        guessed = call(guesser, route, ids, bearer)
        gone = missing_ids(ids)
        missing = call(guesser, route, gone, bearer)
        where = f"{route.method} {route.path}"
        if guessed.status_code != 404 or missing.status_code != 404:
            leaks.append(
                f"{where}: {guessed.status_code} for A's ids, {missing.status_code} for missing ones"
            )
            continue
        if shape(guessed.json()["error"], ids) != shape(missing.json()["error"], gone):
            leaks.append(f"{where}: {guessed.json()['error']!r} differs from {missing.json()['error']!r}")
        if SECRET_NAME in guessed.text or A_EMAIL in guessed.text:
            leaks.append(f"{where}: the answer shows A's data: {guessed.text[:200]}")
    assert leaks == []
    assert tried >= 17

    job_id = ids["job_id"]
    with guesser.websocket_connect(f"/ws/jobs/{job_id}", headers=bearer) as socket:
        refused = socket.receive_json()
        closed = socket.receive()
    assert refused == {"error": f"There is no job {job_id}. It may belong to a deleted project."}
    assert closed["code"] == 4404

    # Nothing B sent changed A's things.
    owner = setting.owner
    assert owner.get(f"/api/projects/{ids['project_id']}").json()["name"] == SECRET_NAME
    assert owner.get(f"/api/jobs/{job_id}").json()["state"] == "queued"
    assert owner.get(f"/api/takes/{ids['take_id']}/audio").content == setting.owned.take_bytes
    line = owner.get(f"/api/projects/{ids['project_id']}/oto").json()["lines"][0]
    assert (line["id"], line["offset_ms"], line["edited"]) == (ids["line_id"], 10.0, False)
    assert [t["id"] for t in owner.get("/api/account/tokens").json()] == [ids["token_id"]]
    assert owner.get(f"/api/models/{ids['model_id']}").json()["name"] == "Ame voice"
    with owner.client.websocket_connect(f"/ws/jobs/{job_id}") as socket:
        assert socket.receive_json()["id"] == job_id


def test_lists_show_another_user_none_of_my_rows(setting: Setting) -> None:
    ids = setting.owned.ids
    guesser = setting.studio.browser()
    bearer = {"Authorization": f"Bearer {setting.intruder_token}"}
    listed = 0
    for route in http_routes(setting.studio):
        if route.method != "GET" or route.public or route.path_params:
            continue
        if any(p.get("required") for p in route.operation.get("parameters", [])):
            continue
        answer = guesser.get(route.path, headers=bearer)
        assert answer.status_code == 200, f"{route.path}: {answer.status_code} {answer.text[:200]}"
        shown = visible_text(answer)
        for name, value in ids.items():
            assert value not in shown, f"GET {route.path} shows A's {name}"
        assert SECRET_NAME not in shown and A_EMAIL not in shown, f"GET {route.path} shows A's data"
        listed += 1
    assert listed >= 6
    mine = setting.owner.get("/api/projects").json()
    assert [p["id"] for p in mine] == [ids["project_id"]]
    assert [j["id"] for j in setting.owner.get("/api/jobs").json()] == [ids["job_id"]]


def test_nothing_but_the_public_routes_answers_without_signing_in(setting: Setting) -> None:
    anonymous = setting.studio.browser()
    answered = {
        f"{route.method} {route.path}": call(anonymous, route, setting.owned.ids, {}).status_code
        for route in http_routes(setting.studio)
        if not route.public
    }
    assert {where: status for where, status in answered.items() if status != 401} == {}
    assert len(answered) >= 25
