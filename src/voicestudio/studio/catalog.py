"""Which prompts a project records, and where each reclist recording sits inside its voicebank."""

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Final

from voicestudio.domain import Language, Prompt, PromptSet, PromptSetKind
from voicestudio.errors import VoicestudioError
from voicestudio.studio.errors import NotFound, StudioError
from voicestudio.text.prompts import load_prompt_set

RECLIST_KINDS: Final = frozenset({PromptSetKind.cv, PromptSetKind.vcv, PromptSetKind.cvvc})
KEY_SEPARATOR: Final = "/"  # takes store their prompt as "<prompt set>/<prompt id>"


@dataclass(frozen=True, slots=True)
class BankFile:
    """A reclist prompt as a voicebank file: `wav_name` inside the bank (`ka.wav`, or `ja-cv/ka.wav`)."""

    wav_name: str
    prompt_set: str
    prompt: Prompt

    @property
    def key(self) -> str:
        return prompt_key(self.prompt_set, self.prompt.id)


def prompt_key(prompt_set: str, prompt_id: str) -> str:
    """How a take names its prompt: prompt ids are unique within a set only."""
    return f"{prompt_set}{KEY_SEPARATOR}{prompt_id}"


def split_prompt_key(key: str) -> tuple[str, str]:
    """(prompt set, prompt id) of a take's prompt key."""
    prompt_set, _, prompt_id = key.partition(KEY_SEPARATOR)
    return prompt_set, prompt_id


def checked_prompt_sets(names: Sequence[str], language: Language) -> list[PromptSet]:
    """The named prompt sets, each once, in order; StudioError for unknown or other-language sets."""
    chosen: list[PromptSet] = []
    for name in dict.fromkeys(names):
        prompt_set = load_prompt_set(name)  # UnknownPromptSet names the sets there are
        if prompt_set.language is not language:
            raise StudioError(
                f"The prompt set {name!r} is {prompt_set.language.value}, but the project is "
                f"{language.value}. Choose prompt sets of the project's language."
            )
        chosen.append(prompt_set)
    if not chosen:
        raise StudioError("A project needs at least one prompt set. Choose one, e.g. ja-cv.")
    return chosen


def find_prompt(project_sets: Sequence[str], prompt_set: str, prompt_id: str) -> Prompt:
    """The prompt `prompt_id` of `prompt_set`, which the project must record; NotFound otherwise."""
    if prompt_set not in project_sets:
        raise NotFound(
            f"The project does not record the prompt set {prompt_set!r}; it records "
            f"{', '.join(project_sets)}. Pick a prompt from one of those."
        )
    for prompt in load_prompt_set(prompt_set).prompts:
        if prompt.id == prompt_id:
            return prompt
    raise NotFound(f"The prompt set {prompt_set!r} has no prompt {prompt_id!r}. Reload the prompt list.")


def prompt_wav_name(prompt_set: str, prompt_id: str) -> str:
    """The file name a prompt is recorded as; `<id>.wav` if the set no longer has the prompt."""
    try:
        prompts = load_prompt_set(prompt_set).prompts
    except VoicestudioError:
        prompts = ()
    return next((prompt.wav_name for prompt in prompts if prompt.id == prompt_id), f"{prompt_id}.wav")


def reclist_sets(project_sets: Sequence[str]) -> list[PromptSet]:
    """The project's prompt sets that are UTAU reclists (CV, VCV, CVVC), in the project's order."""
    return [s for s in (load_prompt_set(name) for name in project_sets) if s.kind in RECLIST_KINDS]


def bank_files(project_sets: Sequence[str]) -> list[BankFile]:
    """Every reclist prompt of the project as a voicebank file; with several reclists, each has a folder."""
    sets = reclist_sets(project_sets)
    in_folders = len(sets) > 1
    return [
        BankFile(
            str(PurePosixPath(s.name) / prompt.wav_name) if in_folders else prompt.wav_name,
            s.name,
            prompt,
        )
        for s in sets
        for prompt in s.prompts
    ]
