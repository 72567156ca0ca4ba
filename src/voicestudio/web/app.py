"""The studio's web server as an app factory: API routers, job events, front end, worker, health, metrics."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio.to_thread
from fastapi import FastAPI

from voicestudio import __version__
from voicestudio.settings import StudioSettings
from voicestudio.web import health, metrics
from voicestudio.web.errors import InternalErrors, install_error_handlers
from voicestudio.web.metrics import HttpMetrics, StudioMetrics
from voicestudio.web.middleware import CrossOriginIsolation, RequestIds
from voicestudio.web.routes import accounts, catalog, jobs, models, oto, phonemize, projects, takes, voices
from voicestudio.web.routes.frontend import mount_front_end
from voicestudio.web.schemas import API_ERROR_RESPONSES
from voicestudio.web.state import Studio

API_PREFIX = "/api"


def create_app(settings: StudioSettings | None = None) -> FastAPI:
    """A studio server on `settings`; starting it migrates the database and starts the local worker."""
    studio = Studio(settings if settings is not None else StudioSettings())

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        await anyio.to_thread.run_sync(studio.start)
        try:
            yield
        finally:
            await anyio.to_thread.run_sync(studio.stop)

    app = FastAPI(
        title="voicestudio",
        version=__version__,
        description="Record your voice; get an UTAU voicebank.",
        lifespan=lifespan,
        openapi_url=f"{API_PREFIX}/openapi.json",
        docs_url=f"{API_PREFIX}/docs",
        redoc_url=None,
    )
    app.state.studio = studio
    app.state.metrics = StudioMetrics.create(studio.sessions)
    install_error_handlers(app)
    app.add_middleware(InternalErrors)
    app.add_middleware(HttpMetrics, metrics=app.state.metrics)  # outside InternalErrors: 500s are counted
    app.add_middleware(RequestIds)  # outside both, so their log lines carry the request id
    app.add_middleware(CrossOriginIsolation)  # outermost, so errors and static files carry the headers too
    app.include_router(health.router)  # public, like /metrics: probes and scrapers do not sign in
    app.include_router(metrics.router)
    for module in (catalog, accounts, projects, takes, oto, jobs, models, voices, phonemize):
        app.include_router(module.router, prefix=API_PREFIX, responses=API_ERROR_RESPONSES)
    app.include_router(jobs.events_router)
    mount_front_end(app, studio.settings.static_dir)
    return app
