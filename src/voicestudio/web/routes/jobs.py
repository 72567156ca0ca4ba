"""Jobs: their state, cancelling them, and a WebSocket that follows one until it finishes."""

import contextlib
from typing import Final

import anyio
import anyio.to_thread
from fastapi import APIRouter, WebSocket, WebSocketDisconnect

from voicestudio.jobs.errors import JobNotFound
from voicestudio.web.deps import StudioDep
from voicestudio.web.schemas import JobOut, job_out
from voicestudio.web.state import Studio

router = APIRouter(tags=["jobs"])
events_router = APIRouter()
NORMAL_CLOSE: Final = 1000
NOT_FOUND_CLOSE: Final = 4404  # application close codes live in 4000-4999


@router.get("/jobs/{job_id}")
def job(job_id: str, studio: StudioDep) -> JobOut:
    """The job as it is now."""
    return job_out(studio.jobs.get(job_id))


@router.post("/jobs/{job_id}/cancel")
def cancel_job(job_id: str, studio: StudioDep) -> JobOut:
    """Cancel a queued job at once, a running one at its next progress report."""
    return job_out(studio.jobs.cancel(job_id))


@events_router.websocket("/ws/jobs/{job_id}")
async def job_events(websocket: WebSocket, job_id: str) -> None:
    """Sends the job's JSON now and at every change; closes after it has finished.

    A watcher that goes away stops the polling at once, not at the job's next change.
    """
    studio: Studio = websocket.app.state.studio
    await websocket.accept()
    close_code: int | None = None
    async with anyio.create_task_group() as tasks:
        tasks.start_soon(_cancel_on_disconnect, websocket, tasks.cancel_scope)
        close_code = await _send_changes(websocket, studio, job_id)
        tasks.cancel_scope.cancel()
    if close_code is not None:
        with contextlib.suppress(WebSocketDisconnect, RuntimeError, OSError):
            await websocket.close(code=close_code)


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
