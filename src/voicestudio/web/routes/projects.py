"""Projects and the takes recorded for their prompts."""

import anyio.to_thread
from fastapi import APIRouter, HTTPException, Request, Response
from starlette.concurrency import run_in_threadpool
from starlette.requests import ClientDisconnect

from voicestudio.storage.blobs import BlobRef, BlobTooLarge, describe_size
from voicestudio.studio.gc import TARGETED_GRACE_S, collect_garbage
from voicestudio.studio.plans import check_can_create_project, check_can_store
from voicestudio.studio.projects import create_project, delete_project, get_project, list_projects
from voicestudio.studio.takes import TakeOutcome, add_take, upload_target
from voicestudio.web.access import CurrentUser, UserDep, own_project, user_plan
from voicestudio.web.deps import SessionDep, StudioDep
from voicestudio.web.metrics import count_upload
from voicestudio.web.schemas import (
    PLAN_RESPONSES,
    UPLOAD_RESPONSES,
    WAV_BODY,
    ErrorOut,
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


@router.post("/projects", status_code=201, responses=PLAN_RESPONSES)
def new_project(body: ProjectIn, session: SessionDep, studio: StudioDep, user: UserDep) -> ProjectOut:
    """Start a project: its name, language and the prompt sets to record (402 past the plan's projects)."""
    check_can_create_project(session, user.id, user_plan(user, studio.settings))
    return project_out(create_project(session, body.name, body.language, body.prompt_sets, owner=user.id))


@router.get("/projects")
def projects(session: SessionDep, user: UserDep) -> list[ProjectOut]:
    """Every project of yours, newest first, with how many of its prompts are recorded."""
    return [project_out(project) for project in list_projects(session, owner=user.id)]


@router.get("/projects/{project_id}")
def project(project_id: str, session: SessionDep, user: UserDep) -> ProjectDetailOut:
    """A project and each of its prompts with its current take."""
    own_project(session, project_id, user)
    return project_detail_out(*get_project(session, project_id))


@router.delete("/projects/{project_id}", status_code=204, responses={404: {"model": ErrorOut}})
def remove_project(project_id: str, session: SessionDep, studio: StudioDep, user: UserDep) -> Response:
    """Delete a project with its takes, oto lines, voicebanks, voices and jobs; their files are freed."""
    keys = delete_project(session, project_id, user.id)
    collect_garbage(session, studio.blobs, only_keys=keys, deleted_owner=user.id, grace_s=TARGETED_GRACE_S)
    return Response(status_code=204)


@router.post(
    "/projects/{project_id}/takes",
    status_code=201,
    responses={**UPLOAD_RESPONSES, **PLAN_RESPONSES},
    openapi_extra=WAV_BODY,
)
async def upload_take(
    project_id: str, prompt_set: str, prompt_id: str, request: Request, studio: StudioDep, user: UserDep
) -> TakeUploadOut:
    """Upload a take (the raw WAV bytes) of one prompt; it is checked and becomes current unless it fails."""
    limit = studio.settings.max_upload_bytes
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise BlobTooLarge(
            f"The file is {describe_size(int(declared))}, over the limit of {describe_size(limit)}. "
            "Upload a shorter or smaller file (e.g. a shorter recording, or 16-bit WAV)."
        )
    declared_bytes = int(declared) if declared.isdigit() else 0
    await run_in_threadpool(_check_target, studio, user, project_id, prompt_set, prompt_id, declared_bytes)
    try:
        blob: BlobRef = await anyio.to_thread.run_sync(
            studio.blobs.put_stream, blocking_chunks(request.stream()), limit
        )
    except ClientDisconnect:
        raise HTTPException(400, "The upload stopped before the end. Upload the take again.") from None
    count_upload(request, blob.size_bytes)
    outcome = await run_in_threadpool(_add, studio, user, project_id, prompt_set, prompt_id, blob)
    return upload_out(outcome)


def _check_target(
    studio: Studio, user: CurrentUser, project_id: str, prompt_set: str, prompt_id: str, size_bytes: int
) -> None:
    """Before any byte is stored: the project is the user's, the prompt exists, the plan has room."""
    with studio.sessions() as session:
        own_project(session, project_id, user)
        upload_target(session, project_id, prompt_set, prompt_id)
        check_can_store(session, user.id, user_plan(user, studio.settings), size_bytes)


def _add(
    studio: Studio, user: CurrentUser, project_id: str, prompt_set: str, prompt_id: str, blob: BlobRef
) -> TakeOutcome:
    plan = user_plan(user, studio.settings)
    with studio.sessions() as session:
        return add_take(session, studio.blobs, project_id, prompt_set, prompt_id, blob, plan)
