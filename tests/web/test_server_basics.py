"""Every response is cross-origin isolated (browser WASM threads need it); errors are JSON with a message.

On both stacks: embedded, and PostgreSQL + S3 + Celery.
"""

import pytest

from voicestudio.jobs import JobStore
from web.conftest import STATIC_FILES, StudioUnderTest
from web.stacks import each_stack  # noqa: F401  (every test here runs on each stack)

ISOLATION = {
    "cross-origin-opener-policy": "same-origin",
    "cross-origin-embedder-policy": "require-corp",
    "cross-origin-resource-policy": "same-origin",
}


@pytest.fixture(scope="module")
def studio_workers() -> int:
    """No job runs here, so no worker child is started."""
    return 0


@pytest.mark.parametrize(
    ("path", "status", "content_type"),
    [
        ("/api/health", 200, "application/json"),
        ("/", 200, "text/html; charset=utf-8"),
        ("/static/app.mjs", 200, "text/javascript; charset=utf-8"),
        ("/static/ort.wasm", 200, "application/wasm"),
        ("/static/missing.js", 404, "application/json"),
        ("/api/projects/nothing-here", 404, "application/json"),
        ("/api/openapi.json", 200, "application/json"),
    ],
)
def test_every_response_is_cross_origin_isolated(
    studio: StudioUnderTest, path: str, status: int, content_type: str
) -> None:
    response = studio.client.get(path)
    assert response.status_code == status
    assert response.headers["content-type"] == content_type
    assert {name: response.headers[name] for name in ISOLATION} == ISOLATION
    if path.startswith("/static/") and status == 200:
        assert response.text == STATIC_FILES[path.removeprefix("/static/")]


def test_an_unexpected_error_shows_an_id_not_a_traceback(studio: StudioUnderTest) -> None:
    def explode() -> None:
        raise RuntimeError("secret internal detail")

    studio.app.add_api_route("/api/test-explode", explode)
    response = studio.client.get("/api/test-explode")
    assert response.status_code == 500
    message = response.json()["error"]
    assert message.startswith("internal error, id ") and "secret" not in message
    assert response.headers["cross-origin-embedder-policy"] == "require-corp"


def test_the_api_describes_itself(studio: StudioUnderTest) -> None:
    paths = studio.client.get("/api/openapi.json").json()["paths"]
    assert "/api/projects/{project_id}/takes" in paths
    assert "audio/wav" in paths["/api/projects/{project_id}/takes"]["post"]["requestBody"]["content"]
    assert studio.client.get("/api/docs").status_code == 200


def test_a_queued_job_can_be_watched_then_cancelled(studio: StudioUnderTest) -> None:
    unsent = JobStore(studio.studio.sessions)  # queued, but sent to no worker: it stays queued
    job_id = unsent.create("oto", {"project_id": "none"})
    with studio.client.websocket_connect(f"/ws/jobs/{job_id}") as socket:
        first = socket.receive_json()
    assert (first["id"], first["state"], first["fraction"], first["attempts"]) == (job_id, "queued", 0.0, 0)

    with studio.client.websocket_connect(f"/ws/jobs/{job_id}") as socket:
        assert socket.receive_json()["state"] == "queued"
        cancelled = studio.client.post(f"/api/jobs/{job_id}/cancel").json()
        assert cancelled["state"] == "cancelled"
        assert socket.receive_json() == cancelled
        assert socket.receive()["type"] == "websocket.close"
