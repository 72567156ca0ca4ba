"""The studio's web server as an app factory: API routers, job events, static front end, one worker."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio.to_thread
from fastapi import FastAPI

from voicestudio import __version__
from voicestudio.web.errors import InternalErrors, install_error_handlers
from voicestudio.web.middleware import CrossOriginIsolation
from voicestudio.web.routes import catalog, jobs, models, oto, phonemize, projects, takes, voices
from voicestudio.web.routes.frontend import mount_front_end
from voicestudio.web.settings import StudioSettings
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
    install_error_handlers(app)
    app.add_middleware(InternalErrors)
    app.add_middleware(CrossOriginIsolation)  # outermost, so errors and static files carry the headers too
    for module in (catalog, projects, takes, oto, jobs, models, voices, phonemize):
        app.include_router(module.router, prefix=API_PREFIX)
    app.include_router(jobs.events_router)
    mount_front_end(app, studio.settings.static_dir)
    return app
