"""Jobs: your jobs, one job's state, cancelling it, and a WebSocket that follows it until it finishes."""

import contextlib
from typing import Final

import anyio
import anyio.to_thread
from fastapi import APIRouter, WebSocket, WebSocketDisconnect

from voicestudio.domain.jobs import Job
from voicestudio.jobs.errors import JobNotFound
from voicestudio.jobs.events import JobEvent
from voicestudio.studio.accounts import NotSignedIn
from voicestudio.web.access import CurrentUser, UserDep, own_job, websocket_user
from voicestudio.web.deps import StudioDep
from voicestudio.web.schemas import JobOut, job_out
from voicestudio.web.state import Studio

router = APIRouter(tags=["jobs"])
events_router = APIRouter()
NORMAL_CLOSE: Final = 1000
NOT_SIGNED_IN_CLOSE: Final = 4401  # application close codes live in 4000-4999
NOT_FOUND_CLOSE: Final = 4404
JOBS_LISTED: Final = 100


@router.get("/jobs")
def jobs(studio: StudioDep, user: UserDep) -> list[JobOut]:
    """Your newest jobs (at most 100), newest first."""
    return [job_out(job) for job in studio.jobs.list_jobs(owner=user.id, limit=JOBS_LISTED)]


@router.get("/jobs/{job_id}")
def job(job_id: str, studio: StudioDep, user: UserDep) -> JobOut:
    """The job as it is now."""
    return job_out(own_job(studio.jobs.get(job_id), user))


@router.post("/jobs/{job_id}/cancel")
def cancel_job(job_id: str, studio: StudioDep, user: UserDep) -> JobOut:
    """Cancel a queued job at once, a running one at its next progress report."""
    own_job(studio.jobs.get(job_id), user)
    cancelled = studio.jobs.cancel(job_id)
    studio.events.publish(job_id, JobEvent.from_job(cancelled))  # every API server's watchers hear it now
    return job_out(cancelled)


@events_router.websocket("/ws/jobs/{job_id}")
async def job_events(websocket: WebSocket, job_id: str) -> None:
    """Sends the job's JSON now and at every change; closes after it has finished.

    The watcher signs in like the page (session cookie, or a bearer token); someone else's job answers
    like a missing one. A watcher that goes away stops the polling at once, not at the job's next change.
    """
    studio: Studio = websocket.app.state.studio
    await websocket.accept()
    try:
        user = await anyio.to_thread.run_sync(websocket_user, websocket)
        await anyio.to_thread.run_sync(_owned_job, studio, job_id, user)
    except NotSignedIn as error:
        await _refuse(websocket, error.message, NOT_SIGNED_IN_CLOSE)
        return
    except JobNotFound as error:
        await _refuse(websocket, error.message, NOT_FOUND_CLOSE)
        return
    close_code: int | None = None
    async with anyio.create_task_group() as tasks:
        tasks.start_soon(_cancel_on_disconnect, websocket, tasks.cancel_scope)
        close_code = await _send_changes(websocket, studio, job_id)
        tasks.cancel_scope.cancel()
    if close_code is not None:
        with contextlib.suppress(WebSocketDisconnect, RuntimeError, OSError):
            await websocket.close(code=close_code)


def _owned_job(studio: Studio, job_id: str, user: CurrentUser) -> Job:
    return own_job(studio.jobs.get(job_id), user)


async def _refuse(websocket: WebSocket, message: str, code: int) -> None:
    with contextlib.suppress(WebSocketDisconnect, RuntimeError, OSError):
        await websocket.send_json({"error": message})
        await websocket.close(code=code)


async def _send_changes(websocket: WebSocket, studio: Studio, job_id: str) -> int | None:
    """Send each new version of the job until it finishes; the close code, or None if the watcher left."""
    sent_version = 0
    events = studio.events.subscribe(job_id)
    try:
        async for _event in events:
            current = await anyio.to_thread.run_sync(studio.jobs.get, job_id)
            if current.version <= sent_version:
                continue
            sent_version = current.version
            await websocket.send_text(job_out(current).model_dump_json())
            if current.is_finished:
                return NORMAL_CLOSE
    except JobNotFound as error:
        await websocket.send_json({"error": error.message})
        return NOT_FOUND_CLOSE
    except (WebSocketDisconnect, OSError):
        return None
    finally:
        close = getattr(events, "aclose", None)
        if close is not None:
            await close()
    return NORMAL_CLOSE


async def _cancel_on_disconnect(websocket: WebSocket, scope: anyio.CancelScope) -> None:
    """Wait for the watcher to leave (whatever it sends is ignored), then stop the sender."""
    with contextlib.suppress(WebSocketDisconnect, RuntimeError):
        while (await websocket.receive())["type"] != "websocket.disconnect":
            pass
    scope.cancel()
