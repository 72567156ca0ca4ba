"""Phonemes from the server for voices the browser cannot phonemize (Japanese); espeak voices work too."""

from fastapi import APIRouter
from pydantic import BaseModel, Field

from voicestudio.studio.models import models_dir
from voicestudio.studio.phonemize import phonemize_for_model
from voicestudio.web.deps import StudioDep
from voicestudio.web.schemas import ErrorOut

router = APIRouter(tags=["models"])


class PhonemizeIn(BaseModel):
    text: str = Field(description="The words to phonemize; sentences are split as piper splits them.")
    model_id: str = Field(description="The model whose piper config picks the phonemizer and the ids.")


class PhonemizeOut(BaseModel):
    phoneme_type: str
    phonemes: list[list[str]] = Field(description="Piper's phonemes, one list per sentence.")
    phoneme_ids: list[list[int]] = Field(description="The model's ids (^ _ (id _)* $), per sentence.")
    missing_phonemes: list[str] = Field(description="Phonemes its id map lacks (left out of the ids).")


@router.post("/phonemize", responses={404: {"model": ErrorOut}, 422: {"model": ErrorOut}})
def phonemize(body: PhonemizeIn, studio: StudioDep) -> PhonemizeOut:
    """Text → phonemes and phoneme ids per sentence, as piper's own phonemizer makes them for the model."""
    result = phonemize_for_model(models_dir(studio.settings.data_dir), body.model_id, body.text)
    return PhonemizeOut(
        phoneme_type=result.phoneme_type,
        phonemes=[list(sentence) for sentence in result.phonemes],
        phoneme_ids=[list(sentence) for sentence in result.phoneme_ids],
        missing_phonemes=list(result.missing_phonemes),
    )
