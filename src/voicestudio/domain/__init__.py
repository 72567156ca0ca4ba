"""The nouns of the studio as small frozen values; no I/O, no web, no torch."""

from voicestudio.domain.alignment import Alignment, PhoneSegment
from voicestudio.domain.jobs import JobState, TrainingJob
from voicestudio.domain.language import Language
from voicestudio.domain.models import VoiceModel
from voicestudio.domain.oto import OtoEntry
from voicestudio.domain.progress import Progress, ProgressCallback, ignore_progress
from voicestudio.domain.prompts import Prompt, PromptSet, PromptSetKind
from voicestudio.domain.quality import QualityReport, Verdict
from voicestudio.domain.takes import Take
from voicestudio.domain.voicebank import Voicebank

__all__ = [
    "Alignment",
    "JobState",
    "Language",
    "OtoEntry",
    "PhoneSegment",
    "Progress",
    "ProgressCallback",
    "Prompt",
    "PromptSet",
    "PromptSetKind",
    "QualityReport",
    "Take",
    "TrainingJob",
    "Verdict",
    "VoiceModel",
    "Voicebank",
    "ignore_progress",
]
