"""Projects and the takes recorded for their prompts."""

import anyio.to_thread
from fastapi import APIRouter, HTTPException, Request
from starlette.concurrency import run_in_threadpool
from starlette.requests import ClientDisconnect

from voicestudio.storage.blobs import BlobRef, BlobTooLarge, describe_size
from voicestudio.studio.projects import create_project, get_project, list_projects
from voicestudio.studio.takes import TakeOutcome, add_take, upload_target
from voicestudio.web.deps import SessionDep, StudioDep
from voicestudio.web.schemas import (
    UPLOAD_RESPONSES,
    WAV_BODY,
    ProjectDetailOut,
    ProjectIn,
    ProjectOut,
    TakeUploadOut,
    project_detail_out,
    project_out,
    upload_out,
)
from voicestudio.web.state import Studio
from voicestudio.web.streaming import blocking_chunks

router = APIRouter(tags=["projects"])


@router.post("/projects", status_code=201)
def new_project(body: ProjectIn, session: SessionDep) -> ProjectOut:
    """Start a project: its name, language and the prompt sets to record."""
    return project_out(create_project(session, body.name, body.language, body.prompt_sets))


@router.get("/projects")
def projects(session: SessionDep) -> list[ProjectOut]:
    """Every project, newest first, with how many of its prompts are recorded."""
    return [project_out(project) for project in list_projects(session)]


@router.get("/projects/{project_id}")
def project(project_id: str, session: SessionDep) -> ProjectDetailOut:
    """A project and each of its prompts with its current take."""
    return project_detail_out(*get_project(session, project_id))


@router.post(
    "/projects/{project_id}/takes",
    status_code=201,
    responses=UPLOAD_RESPONSES,
    openapi_extra=WAV_BODY,
)
async def upload_take(
    project_id: str, prompt_set: str, prompt_id: str, request: Request, studio: StudioDep
) -> TakeUploadOut:
    """Upload a take (the raw WAV bytes) of one prompt; it is checked and becomes current unless it fails."""
    limit = studio.settings.max_upload_bytes
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise BlobTooLarge(
            f"The file is {describe_size(int(declared))}, over the limit of {describe_size(limit)}. "
            "Upload a shorter or smaller file (e.g. a shorter recording, or 16-bit WAV)."
        )
    await run_in_threadpool(_check_target, studio, project_id, prompt_set, prompt_id)
    try:
        blob: BlobRef = await anyio.to_thread.run_sync(
            studio.blobs.put_stream, blocking_chunks(request.stream()), limit
        )
    except ClientDisconnect:
        raise HTTPException(400, "The upload stopped before the end. Upload the take again.") from None
    outcome = await run_in_threadpool(_add, studio, project_id, prompt_set, prompt_id, blob)
    return upload_out(outcome)


def _check_target(studio: Studio, project_id: str, prompt_set: str, prompt_id: str) -> None:
    with studio.sessions() as session:
        upload_target(session, project_id, prompt_set, prompt_id)


def _add(studio: Studio, project_id: str, prompt_set: str, prompt_id: str, blob: BlobRef) -> TakeOutcome:
    with studio.sessions() as session:
        return add_take(session, studio.blobs, project_id, prompt_set, prompt_id, blob)
