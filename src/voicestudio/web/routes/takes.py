"""A take's audio as uploaded, and its pictures."""

from pathlib import Path
from typing import Final

from fastapi import APIRouter, Response
from fastapi.responses import FileResponse, RedirectResponse

from voicestudio.studio.takes import get_take, take_picture_png
from voicestudio.web.access import UserDep
from voicestudio.web.deps import SessionDep, StudioDep
from voicestudio.web.schemas import REDIRECT_RESPONSE

router = APIRouter(tags=["takes"])
IMMUTABLE: Final = {"Cache-Control": "private, max-age=31536000, immutable"}  # a take never changes


@router.get(
    "/takes/{take_id}/audio",
    response_class=Response,
    responses={200: {"content": {"audio/wav": {}}}, 307: REDIRECT_RESPONSE},
)
def take_audio(take_id: str, session: SessionDep, studio: StudioDep, user: UserDep) -> Response:
    """The take as it was uploaded."""
    take = get_take(session, take_id, user.id)
    target = studio.blobs.download_target(take.blob_key, media_type="audio/wav")
    if isinstance(target, Path):
        return FileResponse(target, media_type="audio/wav", headers=IMMUTABLE)
    return RedirectResponse(target)


@router.get(
    "/takes/{take_id}/{picture}.png", response_class=Response, responses={200: {"content": {"image/png": {}}}}
)
def take_picture(
    take_id: str, picture: str, session: SessionDep, studio: StudioDep, user: UserDep
) -> Response:
    """The take's waveform, spectrogram or f0 curve as a PNG."""
    take = get_take(session, take_id, user.id)
    session.rollback()
    png = take_picture_png(studio.blobs, take, picture, studio.settings.cache_dir)
    return Response(png, media_type="image/png", headers=IMMUTABLE)
