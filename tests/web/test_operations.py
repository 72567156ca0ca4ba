"""An operator runs the studio: probes ask if it is up and ready, Prometheus scrapes it, logs are JSON.

The metrics tests put jobs where they want them, so their studio is the embedded one with no worker;
readiness is also asked of a studio on the scale stack (PostgreSQL, S3, Redis).
"""

import io
import json
import logging
import re
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from pydantic import SecretStr
from sqlalchemy import update

from db.postgres import SERVER_URL as POSTGRES_URL
from voicestudio.db.engine import PoolSettings, make_engine
from voicestudio.db.models import JobRow
from voicestudio.logs import log_handler, mask_secrets
from voicestudio.settings import StudioSettings
from voicestudio.web.app import create_app
from web.conftest import StudioUnderTest, started_studio, studio_on
from web.server import served_studio
from web.stacks import SCALE

with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # starlette asks for httpx2 instead of httpx; both work
    from starlette.testclient import TestClient

CLOSED_PORT_POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:1/voicestudio"
CLOSED_PORT_REDIS = "redis://127.0.0.1:1/0"
REDIS = "redis://127.0.0.1:6379/0"
SETTINGS_DOC = Path(__file__).parents[2] / "docs" / "settings.md"


@pytest.fixture(scope="module")
def studio(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StudioUnderTest]:
    """A started studio without worker children: jobs stay where the test puts them."""
    with started_studio(tmp_path_factory.mktemp("ops"), worker_processes=0) as started:
        yield started


@contextmanager
def unstarted_client(tmp_path: Path, **settings: object) -> Iterator[TestClient]:
    """A client of an app that is never started: nothing is migrated, nothing connects until asked."""
    static = tmp_path / "static"
    static.mkdir(exist_ok=True)
    app = create_app(StudioSettings(data_dir=tmp_path / "data", static_dir=static, **settings))  # type: ignore[arg-type]
    client = TestClient(app, raise_server_exceptions=False)  # not entered: entering would start the app
    try:
        yield client
    finally:
        client.close()


def metric_value(exposition: str, name: str, **labels: str) -> float:
    """The value of one sample of `name` with exactly `labels`, from Prometheus' text format."""
    wanted = ",".join(f'{key}="{value}"' for key, value in sorted(labels.items()))
    for line in exposition.splitlines():
        if line.startswith("#") or " " not in line:
            continue
        sample, value = line.rsplit(" ", 1)
        sample_name, _, label_text = sample.partition("{")
        if sample_name != name:
            continue
        found = ",".join(sorted(re.findall(r'\w+="[^"]*"', label_text)))
        if found == wanted:
            return float(value)
    raise AssertionError(f"no sample {name}{{{wanted}}} in the metrics")


def test_a_load_balancer_sees_a_live_and_ready_one_machine_studio(studio: StudioUnderTest) -> None:
    live = studio.client.get("/healthz")
    assert (live.status_code, live.json()) == (200, {"status": "ok"})

    ready = studio.client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json() == {"database": "ok", "blobs": "ok", "broker": "not used"}


def test_a_load_balancer_sees_a_studio_on_postgresql_s3_and_redis_ready(
    request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    with studio_on(request, SCALE, tmp_path, worker_processes=0) as scaled:
        ready = scaled.client.get("/readyz")
        live = scaled.client.get("/healthz")
    assert (ready.status_code, ready.json()) == (200, {"database": "ok", "blobs": "ok", "broker": "ok"})
    assert live.status_code == 200


def test_readiness_names_the_database_when_postgresql_is_down(tmp_path: Path) -> None:
    with unstarted_client(tmp_path, database_url=CLOSED_PORT_POSTGRES) as client:
        live = client.get("/healthz")
        ready = client.get("/readyz")
    assert live.status_code == 200  # the process is up; only its database is not
    assert ready.status_code == 503
    body = ready.json()
    assert body["database"].startswith("failed (OperationalError)")
    assert "VOICESTUDIO_DATABASE_URL" in body["database"]
    assert (body["blobs"], body["broker"]) == ("ok", "not used")
    assert body["error"].startswith("Not ready: the database cannot be used.")
    assert "127.0.0.1" not in ready.text  # where the database lives stays in the log


def test_readiness_names_the_broker_when_redis_is_down(tmp_path: Path) -> None:
    with unstarted_client(tmp_path, job_backend="celery", broker_url=CLOSED_PORT_REDIS) as client:
        ready = client.get("/readyz")
    assert ready.status_code == 503
    body = ready.json()
    assert body["database"] == "ok"
    assert body["broker"].startswith("failed (ConnectionError)")
    assert "VOICESTUDIO_BROKER_URL" in body["error"]


def test_a_scaled_out_server_is_ready_with_postgresql_and_redis(tmp_path: Path) -> None:
    with unstarted_client(
        tmp_path, database_url=POSTGRES_URL, job_backend="celery", broker_url=REDIS
    ) as client:
        ready = client.get("/readyz")
    assert (ready.status_code, ready.json()) == (200, {"database": "ok", "blobs": "ok", "broker": "ok"})


def test_prometheus_counts_jobs_by_state_queue_and_duration(studio: StudioUnderTest) -> None:
    jobs = studio.app.state.studio.jobs
    oto_ids = [jobs.create("oto", {"n": n}) for n in range(4)]
    for n in range(2):
        jobs.create("train", {"n": n})
    for job_id, run_s in ((oto_ids[0], 3.0), (oto_ids[1], 40.0)):
        claimed = jobs.claim("metrics-test-worker", kinds={"oto"})
        assert claimed is not None and claimed.id == job_id
        jobs.succeed(job_id, "metrics-test-worker", {})
        with studio.app.state.studio.sessions.begin() as session:  # what the worker records at the end
            session.execute(update(JobRow).where(JobRow.id == job_id).values(run_s=run_s))
    jobs.cancel(oto_ids[2])

    scrape = studio.client.get("/metrics")
    assert scrape.status_code == 200
    assert scrape.headers["content-type"].startswith("text/plain")
    text = scrape.text
    assert metric_value(text, "voicestudio_jobs_database_up") == 1
    expected = {("oto", "queued"): 1, ("oto", "succeeded"): 2, ("oto", "cancelled"): 1, ("oto", "running"): 0}
    expected |= {("train", "queued"): 2, ("train", "succeeded"): 0}
    for (kind, state), count in expected.items():
        assert metric_value(text, "voicestudio_jobs_by_state", kind=kind, state=state) == count
    assert metric_value(text, "voicestudio_queue_depth", queue="cpu") == 1
    assert metric_value(text, "voicestudio_queue_depth", queue="gpu") == 2
    assert metric_value(text, "voicestudio_queue_oldest_age_seconds", queue="gpu") >= 0

    succeeded = {"kind": "oto", "state": "succeeded"}
    assert metric_value(text, "voicestudio_job_duration_seconds_count", **succeeded) == 2
    assert metric_value(text, "voicestudio_job_duration_seconds_sum", **succeeded) == 43.0
    assert metric_value(text, "voicestudio_job_duration_seconds_bucket", le="1.0", **succeeded) == 0
    assert metric_value(text, "voicestudio_job_duration_seconds_bucket", le="5.0", **succeeded) == 1
    assert metric_value(text, "voicestudio_job_duration_seconds_bucket", le="60.0", **succeeded) == 2
    assert metric_value(text, "voicestudio_job_duration_seconds_bucket", le="+Inf", **succeeded) == 2


def test_prometheus_counts_requests_by_route_template_and_status(studio: StudioUnderTest) -> None:
    client = studio.client
    for project_id in ("no-such-project-1", "no-such-project-2", "no-such-project-3"):
        assert client.get(f"/api/projects/{project_id}").status_code == 404
    assert client.get("/api/health").status_code == 200
    assert client.get("/no/such/page").status_code == 404

    text = client.get("/metrics").text
    route = "/api/projects/{project_id}"
    assert metric_value(text, "voicestudio_http_requests_total", method="GET", route=route, status="404") == 3
    assert (
        metric_value(text, "voicestudio_http_request_duration_seconds_count", method="GET", route=route) == 3
    )
    health = {"method": "GET", "route": "/api/health", "status": "200"}
    assert metric_value(text, "voicestudio_http_requests_total", **health) == 1
    unmatched = {"method": "GET", "route": "unmatched", "status": "404"}
    assert metric_value(text, "voicestudio_http_requests_total", **unmatched) == 1
    assert "no-such-project" not in text and "/no/such/page" not in text


def test_uploaded_bytes_are_counted(studio: StudioUnderTest, takes: dict[str, bytes]) -> None:
    uploads = "voicestudio_uploads_total"
    upload_bytes = "voicestudio_upload_bytes_total"
    before = studio.client.get("/metrics").text
    body = {"name": "Metered", "language": "ja", "prompt_sets": ["ja-cv"]}
    project_id = studio.client.post("/api/projects", json=body).json()["id"]
    for prompt_id in ("ka", "ki"):
        answer = studio.client.post(
            f"/api/projects/{project_id}/takes",
            params={"prompt_set": "ja-cv", "prompt_id": prompt_id},
            content=takes[prompt_id],
            headers={"content-type": "audio/wav"},
        )
        assert answer.status_code == 201, answer.text
    after = studio.client.get("/metrics").text

    grown = metric_value(after, upload_bytes, what="take") - metric_value(before, upload_bytes, what="take")
    assert grown == len(takes["ka"]) + len(takes["ki"])
    assert metric_value(after, uploads, what="take") - metric_value(before, uploads, what="take") == 2


def test_each_request_has_an_id_in_its_response_and_its_json_log_lines(tmp_path: Path) -> None:
    lines = io.StringIO()
    handler = log_handler("json", lines)
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        with unstarted_client(tmp_path, database_url=CLOSED_PORT_POSTGRES) as client:
            sent = client.get("/readyz", headers={"X-Request-ID": "probe-42"})
            fresh = client.get("/healthz")
    finally:
        root.removeHandler(handler)

    assert sent.headers["X-Request-ID"] == "probe-42"
    assert re.fullmatch(r"[0-9a-f]{32}", fresh.headers["X-Request-ID"])
    records = [json.loads(line) for line in lines.getvalue().splitlines()]
    failure = next(record for record in records if record["message"].startswith("readiness: database failed"))
    assert failure["request_id"] == "probe-42"
    assert failure["level"] == "WARNING"
    assert failure["logger"] == "voicestudio.web"
    assert "OperationalError" in failure["exception"]
    assert failure["job_id"] is None
    assert set(failure) >= {"time", "level", "logger", "message", "request_id", "job_id", "exception"}


def test_secrets_never_reach_the_log() -> None:
    line = (
        "GET /x Authorization: Bearer abc.def password=hunter2 postgresql://app:s3cret@db/studio token: xyz"
    )
    masked = mask_secrets(line)
    for secret in ("abc.def", "hunter2", "s3cret", "xyz"):
        assert secret not in masked
    assert "postgresql://app:***@db/studio" in masked


def test_voicestudio_serve_takes_its_settings_from_the_environment_and_logs_json(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("VOICESTUDIO_LOG_FORMAT", "json")
    monkeypatch.setenv("VOICESTUDIO_WORKER_PROCESSES", "0")
    log = tmp_path / "serve.log"
    with served_studio(tmp_path / "data", log) as server:
        answer = httpx.get(f"{server.url}/readyz", headers={"X-Request-ID": "deploy-check-7"})
    assert answer.status_code == 200
    lines = log.read_text().splitlines()
    first = next(index for index, line in enumerate(lines) if line.startswith("{"))  # before: import warnings
    records = [json.loads(line) for line in lines[first:] if line.strip()]
    assert len(records) >= 3  # startup, the access line, shutdown
    access = [record for record in records if record["logger"] == "uvicorn.access"]
    assert any(
        record["request_id"] == "deploy-check-7" and "/readyz" in record["message"] for record in access
    )
    assert {record["level"] for record in records} <= {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}


def test_flags_beat_the_environment_which_beats_dot_env(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from voicestudio.cli.serve import SettingsError, load_settings

    monkeypatch.chdir(tmp_path)
    Path(".env").write_text(
        "VOICESTUDIO_DATA_DIR=from-dotenv\nVOICESTUDIO_MIN_TRAINING_AUDIO_S=30\nVOICESTUDIO_LOG_LEVEL=DEBUG\n",
        encoding="utf-8",
    )
    monkeypatch.setenv("VOICESTUDIO_MIN_TRAINING_AUDIO_S", "45")
    settings = load_settings(data_dir=Path("from-flag"), min_training_audio_s=None)
    assert (settings.data_dir, settings.min_training_audio_s, settings.log_level) == (
        Path("from-flag"),
        45.0,
        "DEBUG",
    )

    monkeypatch.setenv("VOICESTUDIO_LOG_FORMAT", "xml")
    with pytest.raises(SettingsError, match="VOICESTUDIO_LOG_FORMAT: Input should be 'text' or 'json'"):
        load_settings()


def test_postgresql_pool_sizes_come_from_the_settings() -> None:
    engine = make_engine(CLOSED_PORT_POSTGRES, pool=PoolSettings(size=7, max_overflow=3, recycle_s=600.0))
    try:
        assert (engine.pool.size(), engine.pool._max_overflow, engine.pool._recycle) == (7, 3, 600.0)  # type: ignore[attr-defined]
    finally:
        engine.dispose()


def test_docs_list_every_setting_with_its_environment_variable_and_default() -> None:
    rows = {}
    for line in SETTINGS_DOC.read_text(encoding="utf-8").splitlines():
        match = re.match(r"\| `(VOICESTUDIO_[A-Z0-9_]+)` \| ([^|]*) \|", line)
        if match:
            assert match.group(1) not in rows, f"{match.group(1)} is listed twice"
            rows[match.group(1)] = match.group(2).strip()
    fields = StudioSettings.model_fields
    assert set(rows) == {f"VOICESTUDIO_{name.upper()}" for name in fields}
    for name, field in fields.items():
        default = field.default
        if default is None or isinstance(default, SecretStr) or name == "static_dir":
            continue
        shown = str(default).lower() if isinstance(default, bool) else str(default)
        assert rows[f"VOICESTUDIO_{name.upper()}"] == f"`{shown}`", name


def test_metrics_with_a_scrape_token_answer_only_the_scraper_that_sends_it(tmp_path: Path) -> None:
    with unstarted_client(tmp_path, metrics_token="scrape-me") as client:
        assert client.get("/metrics").status_code == 401
        wrong = client.get("/metrics", headers={"authorization": "Bearer guess"})
        assert wrong.status_code == 401 and "scrape token" in wrong.json()["error"]
        right = client.get("/metrics", headers={"authorization": "Bearer scrape-me"})
        assert right.status_code == 200
        assert "voicestudio_http_requests_total" in right.text
