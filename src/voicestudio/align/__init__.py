"""Phoneme alignment: where each phone of a recording starts and ends."""

from voicestudio.align.reference import (
    ReferenceSpeech,
    ReferenceUnavailable,
    synthesize_english,
    synthesize_japanese,
    synthesize_reference,
)

__all__ = [
    "ReferenceSpeech",
    "ReferenceUnavailable",
    "synthesize_english",
    "synthesize_japanese",
    "synthesize_reference",
]
