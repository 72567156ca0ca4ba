"""Upgrading a project to a neural voice: the consent statement, readiness, and starting a training job."""

import anyio.to_thread
from fastapi import APIRouter, HTTPException, Request
from starlette.concurrency import run_in_threadpool
from starlette.requests import ClientDisconnect

from voicestudio.domain import Language
from voicestudio.neural.values import BaseCheckpoint
from voicestudio.storage.blobs import BlobRef, BlobTooLarge, describe_size
from voicestudio.studio.consent import ConsentInfo, add_consent, consent_sentence
from voicestudio.studio.jobs import queue_training
from voicestudio.studio.plans import check_can_store
from voicestudio.studio.voices import TrainRequest, training_readiness
from voicestudio.web.access import CurrentUser, UserDep, check_can_train, own_project, user_plan
from voicestudio.web.deps import SessionDep, StudioDep
from voicestudio.web.metrics import count_upload
from voicestudio.web.schemas import (
    PLAN_RESPONSES,
    UPLOAD_RESPONSES,
    WAV_BODY,
    ConsentSentenceOut,
    ConsentUploadOut,
    ErrorOut,
    JobRefOut,
    TrainingReadinessOut,
    VoiceIn,
    consent_out,
    job_out,
    readiness_out,
)
from voicestudio.web.state import Studio
from voicestudio.web.streaming import blocking_chunks

router = APIRouter(tags=["voices"])


@router.get("/consent-sentence")
def consent_statement(language: Language) -> ConsentSentenceOut:
    """The fixed statement the owner of a voice reads aloud before it is trained."""
    return ConsentSentenceOut(language=language, sentence=consent_sentence(language))


@router.post(
    "/projects/{project_id}/consent",
    status_code=201,
    responses={**UPLOAD_RESPONSES, **PLAN_RESPONSES},
    openapi_extra=WAV_BODY,
)
async def upload_consent(
    project_id: str, request: Request, studio: StudioDep, user: UserDep
) -> ConsentUploadOut:
    """Upload the consent statement read aloud (raw WAV bytes); it is checked like a take."""
    limit = studio.settings.max_upload_bytes
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise BlobTooLarge(
            f"The file is {describe_size(int(declared))}, over the limit of {describe_size(limit)}. "
            "Record the consent statement again; it takes a few seconds."
        )
    declared_bytes = int(declared) if declared.isdigit() else 0
    await run_in_threadpool(_check_project, studio, project_id, user, declared_bytes)
    try:
        blob: BlobRef = await anyio.to_thread.run_sync(
            studio.blobs.put_stream, blocking_chunks(request.stream()), limit
        )
    except ClientDisconnect:
        raise HTTPException(400, "The upload stopped before the end. Upload the recording again.") from None
    count_upload(request, blob.size_bytes, what="consent")
    consent = await run_in_threadpool(_add, studio, project_id, user, blob)
    return ConsentUploadOut(consent=consent_out(consent))


@router.get("/projects/{project_id}/training")
def training(project_id: str, session: SessionDep, studio: StudioDep, user: UserDep) -> TrainingReadinessOut:
    """Whether the project can train a voice: its consent, and its sentence audio against the minimum."""
    own_project(session, project_id, user)
    return readiness_out(training_readiness(session, project_id, studio.settings.min_training_audio_s))


@router.post(
    "/projects/{project_id}/voices",
    status_code=202,
    responses={
        402: {"model": ErrorOut},
        404: {"model": ErrorOut},
        409: {"model": ErrorOut},
        422: {"model": ErrorOut},
    },
)
def train_voice(
    project_id: str, body: VoiceIn, session: SessionDep, studio: StudioDep, user: UserDep
) -> JobRefOut:
    """Start training a voice on the project's sentence takes; 409 until it has consent and enough audio,
    402 when the user's plan has no neural training or no GPU minutes left."""
    own_project(session, project_id, user)
    check_can_train(session, user, studio.settings)
    request = TrainRequest(
        preset=body.preset,
        steps=body.steps,
        device=body.device,
        base=BaseCheckpoint(body.base.location, body.base.sha256) if body.base is not None else None,
        checkpoint_every_steps=body.checkpoint_every_steps,
        precision=studio.settings.training_precision,
    )
    job_id = queue_training(
        session, studio.jobs, project_id, request, studio.settings.min_training_audio_s, owner=user.id
    )
    return JobRefOut(job=job_out(studio.jobs.get(job_id)))


def _check_project(studio: Studio, project_id: str, user: CurrentUser, size_bytes: int) -> None:
    """Before any byte is stored: the project is the user's and the plan has room for `size_bytes`."""
    with studio.sessions() as session:
        own_project(session, project_id, user)
        check_can_store(session, user.id, user_plan(user, studio.settings), size_bytes)


def _add(studio: Studio, project_id: str, user: CurrentUser, blob: BlobRef) -> ConsentInfo:
    plan = user_plan(user, studio.settings)
    with studio.sessions() as session:
        own_project(session, project_id, user)
        return add_consent(session, studio.blobs, project_id, blob, plan)
