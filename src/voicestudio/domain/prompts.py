"""What a singer is asked to record: prompt sets (reclists and paragraph sets) and their prompts."""

from dataclasses import dataclass
from enum import StrEnum

from voicestudio.domain.language import Language


class PromptSetKind(StrEnum):
    """How a prompt set is recorded and turned into units."""

    cv = "cv"  # one mora a file (UTAU CV)
    vcv = "vcv"  # strings of morae sung legato (UTAU VCV)
    cvvc = "cvvc"  # CV strings whose VC transitions are cut too
    arpasing = "arpasing"  # English ARPAbet strings
    paragraph = "paragraph"  # natural sentences, for continuous-speech units and neural training


@dataclass(frozen=True, slots=True)
class Prompt:
    """One thing to record: its text as shown, its reading, the phonemes and the wav file name."""

    id: str
    text: str  # as displayed: kana, or words
    reading: str  # romaji or ARPAbet, space separated
    phonemes: tuple[str, ...]
    wav_name: str


@dataclass(frozen=True, slots=True)
class PromptSet:
    """A named, ordered list of prompts in one language."""

    name: str
    title: str
    language: Language
    kind: PromptSetKind
    prompts: tuple[Prompt, ...]
    description: str = ""

    def __len__(self) -> int:
        return len(self.prompts)
