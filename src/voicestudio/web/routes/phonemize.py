"""Phonemes from the server for voices the browser cannot phonemize (Japanese); espeak voices work too."""

from fastapi import APIRouter
from pydantic import BaseModel, Field

from voicestudio.studio.phonemize import phonemize_for_model
from voicestudio.studio.voice_models import voice_model_config
from voicestudio.web.access import UserDep
from voicestudio.web.deps import SessionDep, StudioDep
from voicestudio.web.routes.models import model_folder
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
def phonemize(body: PhonemizeIn, session: SessionDep, studio: StudioDep, user: UserDep) -> PhonemizeOut:
    """Text → phonemes and phoneme ids per sentence, as piper's own phonemizer makes them for the model."""
    tag, config = voice_model_config(
        session, studio.blobs, user.id, body.model_id, model_folder(studio, user)
    )
    session.rollback()  # the phonemizer may take a while; hold no transaction meanwhile
    result = phonemize_for_model(tag, config, body.model_id, body.text)
    return PhonemizeOut(
        phoneme_type=result.phoneme_type,
        phonemes=[list(sentence) for sentence in result.phonemes],
        phoneme_ids=[list(sentence) for sentence in result.phoneme_ids],
        missing_phonemes=list(result.missing_phonemes),
    )
