"""Neural voice models: their cards, and their ONNX file and piper config for the browser to run.

A model belongs to the owner of its project; anyone else gets 404. The local user (accounts off) also
sees the models put in the data folder's `models/` by hand.
"""

from pathlib import Path
from typing import Final

from fastapi import APIRouter, Response
from fastapi.responses import FileResponse, RedirectResponse
from pydantic import BaseModel, ConfigDict
from sqlalchemy.orm import Session

from voicestudio.studio.models import ModelFileName, models_dir
from voicestudio.studio.rows import LOCAL_OWNER
from voicestudio.studio.voice_models import get_voice_model, list_voice_models, voice_model_file
from voicestudio.web.access import CurrentUser, UserDep
from voicestudio.web.deps import SessionDep, StudioDep
from voicestudio.web.schemas import REDIRECT_RESPONSE, ErrorOut
from voicestudio.web.state import Studio

router = APIRouter(tags=["models"])
REVALIDATE: Final = {"Cache-Control": "no-cache"}  # a folder model may be replaced; ETag keeps it cheap
MEDIA_TYPES: Final[dict[ModelFileName, str]] = {
    "model.onnx": "application/octet-stream",
    "model.onnx.json": "application/json",
}


class ModelCardOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)  # read straight from the ModelCard

    id: str
    name: str
    language: str
    phoneme_type: str
    espeak_voice: str
    sample_rate_hz: int
    model_bytes: int
    size: str | None
    steps: int | None
    training_time_s: float | None
    device: str | None
    consent_sentence: str | None


def model_folder(studio: Studio, user: CurrentUser) -> Path | None:
    """The data folder's `models/`, which only the local user sees (it has no owner)."""
    return models_dir(studio.settings.data_dir) if user.id == LOCAL_OWNER else None


@router.get("/models")
def models(session: SessionDep, studio: StudioDep, user: UserDep) -> list[ModelCardOut]:
    """Every voice model of the user, newest first."""
    return [
        ModelCardOut.model_validate(card)
        for card in list_voice_models(session, user.id, model_folder(studio, user))
    ]


@router.get("/models/{model_id}", responses={404: {"model": ErrorOut}})
def model(model_id: str, session: SessionDep, studio: StudioDep, user: UserDep) -> ModelCardOut:
    """One model's card."""
    return ModelCardOut.model_validate(
        get_voice_model(session, user.id, model_id, model_folder(studio, user))
    )


@router.get(
    "/models/{model_id}/model.onnx",
    response_class=Response,
    responses={
        200: {"content": {"application/octet-stream": {}}},
        307: REDIRECT_RESPONSE,
        404: {"model": ErrorOut},
    },
)
def model_onnx(model_id: str, session: SessionDep, studio: StudioDep, user: UserDep) -> Response:
    """The model itself (ONNX), as onnxruntime and onnxruntime-web load it."""
    return _send(session, studio, user, model_id, "model.onnx")


@router.get(
    "/models/{model_id}/model.onnx.json",
    response_class=Response,
    responses={
        200: {"content": {"application/json": {}}},
        307: REDIRECT_RESPONSE,
        404: {"model": ErrorOut},
    },
)
def model_config(model_id: str, session: SessionDep, studio: StudioDep, user: UserDep) -> Response:
    """The model's piper config: sample rate, phoneme map, espeak voice, noise scales."""
    return _send(session, studio, user, model_id, "model.onnx.json")


def _send(
    session: Session, studio: Studio, user: CurrentUser, model_id: str, name: ModelFileName
) -> Response:
    target = voice_model_file(session, studio.blobs, user.id, model_id, name, model_folder(studio, user))
    session.rollback()
    if isinstance(target, Path):
        return FileResponse(target, media_type=MEDIA_TYPES[name], headers=REVALIDATE)
    return RedirectResponse(target)
