"""`/healthz` (the process answers) and `/readyz` (it can reach its database, blob store and broker).

Both are public: a load balancer or an orchestrator asks them without signing in. Failure details
(host names, driver messages) go to the log, not to the public answer, which names only what to check.
"""

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

import anyio
import anyio.to_thread
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy import text

from voicestudio.web.state import Studio

_LOG = logging.getLogger("voicestudio.web")

HEALTH_PATH: Final = "/healthz"
READY_PATH: Final = "/readyz"
PUBLIC_PATHS: Final = frozenset({HEALTH_PATH, READY_PATH})  # answered without signing in
CHECK_TIMEOUT_S: Final = 3.0  # a dependency slower than this is as good as down for a load balancer
BROKER_TIMEOUT_S: Final = 2.0
OK: Final = "ok"
NOT_USED: Final = "not used"


@dataclass(frozen=True, slots=True)
class Check:
    """One dependency: its name in the answer, how to probe it, and what to check when it fails."""

    name: str
    probe: Callable[[], None]
    advice: str


def _database_probe(studio: Studio) -> None:
    with studio.engine.connect() as connection:
        connection.execute(text("SELECT 1"))


def _blobs_probe(studio: Studio) -> None:
    studio.blobs.check()


def _broker_probe(broker_url: str) -> Callable[[], None]:
    def probe() -> None:
        import redis  # only a Celery deployment has a broker to ask

        client = redis.Redis.from_url(
            broker_url, socket_connect_timeout=BROKER_TIMEOUT_S, socket_timeout=BROKER_TIMEOUT_S
        )
        try:
            client.ping()
        finally:
            client.close()

    return probe


def readiness_checks(studio: Studio) -> list[Check]:
    """What this server needs to do its work: the database, the blob store and, with Celery, the broker."""
    settings = studio.settings
    checks = [
        Check(
            "database",
            lambda: _database_probe(studio),
            "Check VOICESTUDIO_DATABASE_URL and that the database server is running and accepts connections.",
        ),
        Check(
            "blobs",
            lambda: _blobs_probe(studio),
            "Check VOICESTUDIO_BLOB_LOCATION: the folder exists and is readable, or the bucket exists, "
            "its endpoint answers and the credentials may read it.",
        ),
    ]
    if settings.job_backend == "celery":
        checks.append(
            Check(
                "broker",
                _broker_probe(settings.broker_url),
                "Check VOICESTUDIO_BROKER_URL and that Redis is running and reachable from this server.",
            )
        )
    return checks


async def _outcome(check: Check) -> str | None:
    """None if the probe passed in time; otherwise why not (logged in full, answered in short)."""
    try:
        with anyio.fail_after(CHECK_TIMEOUT_S):
            await anyio.to_thread.run_sync(check.probe, abandon_on_cancel=True)
    except TimeoutError:
        _LOG.warning("readiness: %s did not answer within %.1f s", check.name, CHECK_TIMEOUT_S)
        return f"no answer within {CHECK_TIMEOUT_S:g} s"
    except Exception as error:
        _LOG.warning("readiness: %s failed: %s", check.name, error, exc_info=True)
        return f"failed ({type(error).__name__})"
    return None


router = APIRouter(tags=["operations"])


@router.get(HEALTH_PATH)
def healthz() -> dict[str, str]:
    """The process is up and answering; it asks nothing else (use /readyz for its dependencies)."""
    return {"status": OK}


@router.get(
    READY_PATH, responses={503: {"description": "A dependency cannot be reached; the body names it."}}
)
async def readyz(request: Request) -> JSONResponse:
    """Whether this server can serve: its database, blob store and (with Celery) broker all answer."""
    studio: Studio = request.app.state.studio
    checks = readiness_checks(studio)
    outcomes: dict[str, str | None] = {}

    async def run(check: Check) -> None:
        outcomes[check.name] = await _outcome(check)

    async with anyio.create_task_group() as group:
        for check in checks:
            group.start_soon(run, check)

    body: dict[str, str] = {"database": OK, "blobs": OK, "broker": NOT_USED}
    failed = [check for check in checks if outcomes[check.name] is not None]
    for check in checks:
        problem = outcomes[check.name]
        body[check.name] = OK if problem is None else f"{problem}. {check.advice}"
    if not failed:
        return JSONResponse(body)
    names = ", ".join(check.name for check in failed)
    body["error"] = f"Not ready: the {names} cannot be used. {' '.join(check.advice for check in failed)}"
    return JSONResponse(body, status_code=503)
