"""A project's oto lines (generate, review, edit) and its voicebank zips."""

from pathlib import Path

from fastapi import APIRouter, Response
from fastapi.responses import FileResponse, RedirectResponse

from voicestudio.studio.jobs import queue_oto, queue_voicebank
from voicestudio.studio.oto import OtoTimes, edit_oto_line, oto_lines
from voicestudio.studio.plans import check_can_store
from voicestudio.studio.voicebanks import voicebank_download
from voicestudio.web.access import UserDep, own_project, user_plan
from voicestudio.web.deps import SessionDep, StudioDep
from voicestudio.web.schemas import (
    PLAN_RESPONSES,
    REDIRECT_RESPONSE,
    ErrorOut,
    JobRefOut,
    OtoLineOut,
    OtoLinesOut,
    OtoTimesIn,
    VoicebankIn,
    job_out,
    line_out,
)

router = APIRouter(tags=["oto and voicebanks"])


@router.post("/projects/{project_id}/oto", status_code=202, responses={409: {"model": ErrorOut}})
def generate_oto(project_id: str, session: SessionDep, studio: StudioDep, user: UserDep) -> JobRefOut:
    """Queue the alignment of every current reclist take; edited lines are kept, the others replaced."""
    own_project(session, project_id, user)
    job_id = queue_oto(session, studio.jobs, project_id, owner=user.id)
    return JobRefOut(job=job_out(studio.jobs.get(job_id)))


@router.get("/projects/{project_id}/oto")
def project_oto(project_id: str, session: SessionDep, user: UserDep) -> OtoLinesOut:
    """The project's oto lines, least confident first."""
    own_project(session, project_id, user)
    return OtoLinesOut(lines=[line_out(line) for line in oto_lines(session, project_id)])


@router.put("/projects/{project_id}/oto/{line_id}", responses={422: {"model": ErrorOut}})
def edit_line(
    project_id: str, line_id: str, body: OtoTimesIn, session: SessionDep, user: UserDep
) -> OtoLineOut:
    """Set one line's times by hand (UTAU's coordinates, ms); refused if they break UTAU's order."""
    own_project(session, project_id, user)
    times = OtoTimes(body.offset_ms, body.consonant_ms, body.cutoff_ms, body.preutterance_ms, body.overlap_ms)
    return line_out(edit_oto_line(session, project_id, line_id, times))


@router.post(
    "/projects/{project_id}/voicebanks",
    status_code=202,
    responses={409: {"model": ErrorOut}, **PLAN_RESPONSES},
)
def build_voicebank(
    project_id: str, session: SessionDep, studio: StudioDep, user: UserDep, body: VoicebankIn | None = None
) -> JobRefOut:
    """Queue a voicebank zip of the project's oto lines and takes; the job's result names the voicebank."""
    own_project(session, project_id, user)
    check_can_store(session, user.id, user_plan(user, studio.settings), 0)  # the zip needs room to land
    chosen = body or VoicebankIn()
    job_id = queue_voicebank(session, studio.jobs, project_id, chosen.name, chosen.encoding, owner=user.id)
    return JobRefOut(job=job_out(studio.jobs.get(job_id)))


@router.get(
    "/voicebanks/{voicebank_id}/download",
    response_class=Response,
    responses={200: {"content": {"application/zip": {}}}, 307: REDIRECT_RESPONSE},
)
def download_voicebank(voicebank_id: str, session: SessionDep, studio: StudioDep, user: UserDep) -> Response:
    """The voicebank zip, as an attachment named after the bank."""
    download = voicebank_download(session, studio.blobs, voicebank_id, user.id)
    if isinstance(download.target, Path):
        return FileResponse(download.target, media_type="application/zip", filename=download.file_name)
    return RedirectResponse(download.target)
