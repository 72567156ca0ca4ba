"""Neural voice models: their cards, and their ONNX file and piper config for the browser to run."""

from typing import Final

from fastapi import APIRouter, Response
from fastapi.responses import FileResponse
from pydantic import BaseModel

from voicestudio.studio.models import ModelCard, get_model, list_models, model_file, models_dir
from voicestudio.web.deps import StudioDep

router = APIRouter(tags=["models"])
REVALIDATE: Final = {"Cache-Control": "no-cache"}  # a model id may be exported again; ETag keeps it cheap


class ModelCardOut(BaseModel):
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


def card_out(card: ModelCard) -> ModelCardOut:
    return ModelCardOut(
        id=card.id,
        name=card.name,
        language=card.language,
        phoneme_type=card.phoneme_type,
        espeak_voice=card.espeak_voice,
        sample_rate_hz=card.sample_rate_hz,
        model_bytes=card.model_bytes,
        size=card.size,
        steps=card.steps,
        training_time_s=card.training_time_s,
        device=card.device,
        consent_sentence=card.consent_sentence,
    )


@router.get("/models")
def models(studio: StudioDep) -> list[ModelCardOut]:
    """Every voice model the studio holds."""
    return [card_out(card) for card in list_models(models_dir(studio.settings.data_dir))]


@router.get("/models/{model_id}")
def model(model_id: str, studio: StudioDep) -> ModelCardOut:
    """One model's card."""
    return card_out(get_model(models_dir(studio.settings.data_dir), model_id))


@router.get(
    "/models/{model_id}/model.onnx",
    response_class=Response,
    responses={200: {"content": {"application/octet-stream": {}}}},
)
def model_onnx(model_id: str, studio: StudioDep) -> FileResponse:
    """The model itself (ONNX), as onnxruntime and onnxruntime-web load it."""
    path = model_file(models_dir(studio.settings.data_dir), model_id, "model.onnx")
    return FileResponse(path, media_type="application/octet-stream", headers=REVALIDATE)


@router.get("/models/{model_id}/model.onnx.json", response_class=Response)
def model_config(model_id: str, studio: StudioDep) -> FileResponse:
    """The model's piper config: sample rate, phoneme map, espeak voice, noise scales."""
    path = model_file(models_dir(studio.settings.data_dir), model_id, "model.onnx.json")
    return FileResponse(path, media_type="application/json", headers=REVALIDATE)
