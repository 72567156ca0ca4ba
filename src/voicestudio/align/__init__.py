"""Phoneme alignment: where each phone of a recording starts and ends."""

from voicestudio.align.aligner import Aligner, AlignmentFailed
from voicestudio.align.dtw import DtwAligner
from voicestudio.align.reference import (
    ReferenceSpeech,
    ReferenceUnavailable,
    synthesize_english,
    synthesize_japanese,
    synthesize_reference,
)

__all__ = [
    "Aligner",
    "AlignmentFailed",
    "DtwAligner",
    "ReferenceSpeech",
    "ReferenceUnavailable",
    "synthesize_english",
    "synthesize_japanese",
    "synthesize_reference",
]
