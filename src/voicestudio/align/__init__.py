"""Phoneme alignment: where each phone of a recording starts and ends."""

from voicestudio.align.aligner import Aligner, AlignmentFailed, PhonemeAligner
from voicestudio.align.dtw import DtwAligner
from voicestudio.align.fallback import FallbackAligner
from voicestudio.align.reference import (
    PhonemeError,
    ReferenceSpeech,
    ReferenceUnavailable,
    synthesize_english,
    synthesize_japanese,
    synthesize_kana,
    synthesize_phonemes,
    synthesize_reference,
)
from voicestudio.align.refine import refine_alignments
from voicestudio.align.sphinx import SphinxAligner, sphinx_or_dtw

__all__ = [
    "Aligner",
    "AlignmentFailed",
    "DtwAligner",
    "FallbackAligner",
    "PhonemeAligner",
    "PhonemeError",
    "ReferenceSpeech",
    "ReferenceUnavailable",
    "SphinxAligner",
    "refine_alignments",
    "sphinx_or_dtw",
    "synthesize_english",
    "synthesize_japanese",
    "synthesize_kana",
    "synthesize_phonemes",
    "synthesize_reference",
]
