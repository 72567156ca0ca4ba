"""Prometheus metrics at `/metrics`: this server's HTTP traffic and uploads; the jobs table at scrape time.

Workers are other processes (or other machines), so job numbers are not counted where they happen: each
scrape reads them from the database, which every API server shares, and so every server reports the same.
"""

import hmac
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Final

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.platform_collector import PlatformCollector
from prometheus_client.process_collector import ProcessCollector
from prometheus_client.registry import Collector
from sqlalchemy import case, func, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker
from starlette.types import ASGIApp, Message, Receive, Scope, Send

import voicestudio.studio.jobs  # noqa: F401  (registers the studio's job kinds with their queues)
from voicestudio.db.models import JobRow
from voicestudio.db.types import utc_now
from voicestudio.domain.jobs import FINISHED_STATES, JobState
from voicestudio.jobs.registry import CPU_QUEUE, GPU_QUEUE, job_queue, registered_kinds

METRICS_PATH: Final = "/metrics"
NAMESPACE: Final = "voicestudio"
QUEUES: Final = (CPU_QUEUE, GPU_QUEUE)
# A voicebank takes seconds to minutes, a training chunk minutes, a whole training hours.
JOB_DURATION_BUCKETS_S: Final = (1.0, 5.0, 15.0, 60.0, 300.0, 900.0, 3600.0, 4 * 3600.0, 12 * 3600.0)
HTTP_DURATION_BUCKETS_S: Final = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
UNMATCHED_ROUTE: Final = "unmatched"  # every path no route knows, so scanners cannot grow the label set
UPLOAD_KINDS: Final = ("take", "consent")
KNOWN_METHODS: Final = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


class JobsCollector(Collector):
    """Jobs by state and kind, queue depth and age, and finished jobs' run time, read at each scrape."""

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self._sessions = sessions

    def describe(self) -> Iterable[Metric]:
        return ()  # registering must not query the database

    def collect(self) -> Iterator[Metric]:
        up = GaugeMetricFamily(
            f"{NAMESPACE}_jobs_database_up", "1 if the jobs table could be read for this scrape, else 0."
        )
        try:
            with self._sessions() as session:
                metrics = list(_job_metrics(session))
        except SQLAlchemyError:
            up.add_metric([], 0.0)
            yield up
            return
        up.add_metric([], 1.0)
        yield up
        yield from metrics


def _job_metrics(session: Session) -> Iterator[Metric]:
    counts: dict[tuple[str, str], int] = {}
    oldest_queued: dict[str, float] = {}
    now = utc_now()
    rows = session.execute(
        select(JobRow.state, JobRow.kind, func.count(), func.min(JobRow.created_at)).group_by(
            JobRow.state, JobRow.kind
        )
    )
    for state, kind, count, first_created in rows:
        counts[(state, kind)] = int(count)
        if state == JobState.queued.value and first_created is not None:
            age_s = max(0.0, (now - first_created).total_seconds())
            queue = job_queue(kind)
            oldest_queued[queue] = max(oldest_queued.get(queue, 0.0), age_s)

    by_state = GaugeMetricFamily(
        f"{NAMESPACE}_jobs_by_state", "Jobs in the database by state and kind.", labels=["state", "kind"]
    )
    kinds = sorted({kind for _, kind in counts} | set(registered_kinds()))  # 0 for kinds not yet seen
    for kind in kinds:
        for state in JobState:
            by_state.add_metric([state.value, kind], float(counts.get((state.value, kind), 0)))
    yield by_state

    depth = GaugeMetricFamily(
        f"{NAMESPACE}_queue_depth", "Queued jobs per queue (gpu: training; cpu: the rest).", labels=["queue"]
    )
    age = GaugeMetricFamily(
        f"{NAMESPACE}_queue_oldest_age_seconds",
        "How long the oldest queued job of each queue has waited (0 when the queue is empty).",
        labels=["queue"],
    )
    for queue in QUEUES:
        queued = sum(
            count
            for (state, kind), count in counts.items()
            if state == JobState.queued.value and job_queue(kind) == queue
        )
        depth.add_metric([queue], float(queued))
        age.add_metric([queue], oldest_queued.get(queue, 0.0))
    yield depth
    yield age
    yield _duration_histogram(session)


def _duration_histogram(session: Session) -> Metric:
    """Finished jobs' wall time over all their attempts and chunks, bucketed by the database."""
    finished = [state.value for state in FINISHED_STATES]
    bucket_counts = [func.sum(case((JobRow.run_s <= bound, 1), else_=0)) for bound in JOB_DURATION_BUCKETS_S]
    rows = session.execute(
        select(JobRow.kind, JobRow.state, func.count(), func.sum(JobRow.run_s), *bucket_counts)
        .where(JobRow.state.in_(finished))
        .group_by(JobRow.kind, JobRow.state)
    )
    histogram = HistogramMetricFamily(
        f"{NAMESPACE}_job_duration_seconds",
        "Wall time of finished jobs (all attempts and chunks), by kind and final state.",
        labels=["kind", "state"],
    )
    for kind, state, count, total_s, *cumulative in rows:
        buckets = [
            (_bound_label(bound), float(within or 0))
            for bound, within in zip(JOB_DURATION_BUCKETS_S, cumulative, strict=True)
        ]
        buckets.append(("+Inf", float(count)))
        histogram.add_metric([kind, state], buckets, sum_value=float(total_s or 0.0))
    return histogram


def _bound_label(bound_s: float) -> str:
    return repr(float(bound_s))


@dataclass(frozen=True, slots=True)
class StudioMetrics:
    """One server's registry: HTTP requests and their latency, upload bytes, and the jobs collector."""

    registry: CollectorRegistry
    http_requests: Counter
    http_duration: Histogram
    uploads: Counter
    upload_bytes: Counter

    @classmethod
    def create(cls, sessions: sessionmaker[Session]) -> "StudioMetrics":
        """A fresh registry (one per app, so two apps in one process never mix their numbers)."""
        registry = CollectorRegistry(auto_describe=False)
        ProcessCollector(registry=registry)
        PlatformCollector(registry=registry)
        registry.register(JobsCollector(sessions))
        created = cls(
            registry=registry,
            http_requests=Counter(
                f"{NAMESPACE}_http_requests",
                "HTTP requests answered, by method, route template and status.",
                ["method", "route", "status"],
                registry=registry,
            ),
            http_duration=Histogram(
                f"{NAMESPACE}_http_request_duration_seconds",
                "Time from a request's arrival to the end of its response, by method and route template.",
                ["method", "route"],
                buckets=HTTP_DURATION_BUCKETS_S,
                registry=registry,
            ),
            uploads=Counter(
                f"{NAMESPACE}_uploads",
                "Files uploaded and stored, by what they are.",
                ["what"],
                registry=registry,
            ),
            upload_bytes=Counter(
                f"{NAMESPACE}_upload_bytes",
                "Bytes uploaded and stored, by what they are.",
                ["what"],
                registry=registry,
            ),
        )
        for what in UPLOAD_KINDS:  # shown as 0 before the first upload, so rates start from the start
            created.uploads.labels(what)
            created.upload_bytes.labels(what)
        return created

    def exposition(self) -> bytes:
        """Every metric in Prometheus' text format."""
        return generate_latest(self.registry)


def count_upload(request: Request, size_bytes: int, what: str = "take") -> None:
    """Count one stored upload of `size_bytes` on the metrics of the app serving `request`."""
    metrics: StudioMetrics = request.app.state.metrics
    metrics.uploads.labels(what).inc()
    metrics.upload_bytes.labels(what).inc(size_bytes)


def route_template(route: object, path: str) -> str:
    """The path template that `route` matched in `path`, prefix included (`/api/projects/{project_id}`).

    A route included under a prefix knows only its own part, so the prefix is taken from `path`: the part
    before where the route's pattern matches. Never the raw path, so ids do not become label values.
    """
    pattern = getattr(route, "path_regex", None)
    template = getattr(route, "path_format", None)
    if pattern is None or not isinstance(template, str):
        return UNMATCHED_ROUTE
    for cut in (index for index, char in enumerate(path) if char == "/"):
        if pattern.fullmatch(path[cut:]):
            return path[:cut] + template
    return UNMATCHED_ROUTE


class HttpMetrics:
    """ASGI middleware counting each HTTP request by route template and status, and timing it to its end."""

    def __init__(self, app: ASGIApp, metrics: StudioMetrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started_s = time.perf_counter()
        path = str(scope.get("path", ""))
        root_path = str(scope.get("root_path", ""))
        status = 500  # an exception that escapes before the response starts is answered with 500

        async def recording_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, recording_send)
        finally:
            method = str(scope.get("method", ""))
            method = method if method in KNOWN_METHODS else "other"
            route = route_template(scope.get("route"), path)
            mounted_at = str(scope.get("root_path", "")).removeprefix(root_path)
            if route == UNMATCHED_ROUTE and mounted_at:  # a mounted app (the static files) took it
                route = f"{mounted_at}/{{path}}"
            self.metrics.http_requests.labels(method, route, str(status)).inc()
            self.metrics.http_duration.labels(method, route).observe(time.perf_counter() - started_s)


router = APIRouter(include_in_schema=False)


@router.get(METRICS_PATH)
def metrics(request: Request) -> Response:
    """Prometheus' text exposition of this server's metrics and of the shared jobs table; with
    `metrics_token` set, only for a scraper that sends it as `Authorization: Bearer`."""
    token = request.app.state.studio.settings.metrics_token
    if token is not None:
        sent = request.headers.get("authorization", "").removeprefix("Bearer ").strip()
        if not hmac.compare_digest(sent.encode(), token.get_secret_value().encode()):
            return JSONResponse(
                {"error": "Metrics need the scrape token: send it as Authorization: Bearer <token>."},
                status_code=401,
            )
    studio_metrics: StudioMetrics = request.app.state.metrics
    return Response(studio_metrics.exposition(), media_type=CONTENT_TYPE_LATEST)
