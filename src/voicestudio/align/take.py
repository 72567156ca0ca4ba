"""Align one recorded take to its text and save the phone times: what `voicestudio align` and the API run."""

from collections.abc import Sequence
from pathlib import Path

from voicestudio.align.aligner import Aligner, AlignmentFailed, PhonemeAligner
from voicestudio.align.dtw import DtwAligner
from voicestudio.align.labels import LabelFileError, write_lab, write_textgrid
from voicestudio.align.sphinx import sphinx_or_dtw
from voicestudio.audio.validate import load_take
from voicestudio.domain import Alignment, Language
from voicestudio.errors import VoicestudioError

LABEL_SUFFIXES = (".textgrid", ".lab")


class AlignRequestError(VoicestudioError):
    """A request to align that does not say what was said: neither text nor phones, or both."""


def default_aligner(language: Language, by_phonemes: bool = False) -> Aligner:
    """The engine that measured best for a language (bench/align.py): pocketsphinx, falling back to dtw
    when unsure, for English text; dtw for Japanese and for phone strings, which pocketsphinx cannot take."""
    if language is Language.en and not by_phonemes:
        return sphinx_or_dtw()
    return DtwAligner()


def align_take_file(
    wav_path: Path,
    text: str | None,
    language: Language,
    out_path: Path,
    aligner: Aligner | None = None,
    *,
    phonemes: Sequence[str] | None = None,
) -> Alignment:
    """Check the take, align it to `text` or to `phonemes` (exactly one), write a TextGrid or HTK .lab by
    `out_path`'s suffix."""
    suffix = out_path.suffix.lower()
    if suffix not in LABEL_SUFFIXES:
        raise LabelFileError(
            f"{out_path.name}: name the output .TextGrid (Praat) or .lab (HTK) so the format is clear."
        )
    if (text is None) == (phonemes is None):
        raise AlignRequestError(
            "Say what the take says in one way: give either the text or the phones, "
            f"not {'both' if text is not None else 'neither'}."
        )
    engine = aligner or default_aligner(language, phonemes is not None)
    if phonemes is not None and not isinstance(engine, PhonemeAligner):
        raise AlignmentFailed(
            f"The {type(engine).__name__} engine aligns text only; give the text, or use the dtw engine."
        )
    clip = load_take(wav_path)
    if isinstance(engine, PhonemeAligner) and phonemes is not None:
        alignment = engine.align_phonemes(clip.samples, clip.sample_rate_hz, phonemes, language)
    else:
        assert text is not None  # exactly one of the two, checked above
        alignment = engine.align(clip.samples, clip.sample_rate_hz, text, language)
    if suffix == ".lab":
        write_lab(out_path, alignment)
    else:
        write_textgrid(out_path, alignment)
    return alignment
