"""Health, prompt sets and their example audio."""

from fastapi import APIRouter, Response

from voicestudio import __version__
from voicestudio.studio.examples import example_wav
from voicestudio.text.prompts import list_prompt_sets, load_prompt_set
from voicestudio.web.deps import StudioDep
from voicestudio.web.schemas import (
    HealthOut,
    PromptSetOut,
    PromptSetSummaryOut,
    prompt_set_out,
    prompt_set_summary_out,
)

router = APIRouter(tags=["prompts"])


@router.get("/health")
def health() -> HealthOut:
    """The server answers; its version."""
    return HealthOut(ok=True, version=__version__)


@router.get("/prompt-sets")
def prompt_sets() -> list[PromptSetSummaryOut]:
    """Every prompt set and reclist the studio ships."""
    return [prompt_set_summary_out(prompt_set) for prompt_set in list_prompt_sets()]


@router.get("/prompt-sets/{name}")
def prompt_set(name: str) -> PromptSetOut:
    """One prompt set with all its prompts."""
    return prompt_set_out(load_prompt_set(name))


@router.get(
    "/prompt-sets/{name}/prompts/{prompt_id}/example.wav",
    response_class=Response,
    responses={200: {"content": {"audio/wav": {}}}},
)
def example(name: str, prompt_id: str, studio: StudioDep) -> Response:
    """The prompt spoken by the server's synthesizer (made on the first request, then cached)."""
    data = example_wav(name, prompt_id, studio.settings.cache_dir)
    return Response(data, media_type="audio/wav", headers={"Cache-Control": "public, max-age=86400"})
