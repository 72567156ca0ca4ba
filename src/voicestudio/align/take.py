"""Align one recorded take to its text and save the phone times: what `voicestudio align` and the API run."""

from pathlib import Path

from voicestudio.align.aligner import Aligner
from voicestudio.align.dtw import DtwAligner
from voicestudio.align.labels import LabelFileError, write_lab, write_textgrid
from voicestudio.audio.validate import load_take
from voicestudio.domain import Alignment, Language

LABEL_SUFFIXES = (".textgrid", ".lab")


def align_take_file(
    wav_path: Path, text: str, language: Language, out_path: Path, aligner: Aligner | None = None
) -> Alignment:
    """Check the take, align it to `text`, write a TextGrid or HTK .lab by `out_path`'s suffix."""
    suffix = out_path.suffix.lower()
    if suffix not in LABEL_SUFFIXES:
        raise LabelFileError(
            f"{out_path.name}: name the output .TextGrid (Praat) or .lab (HTK) so the format is clear."
        )
    clip = load_take(wav_path)
    alignment = (aligner or DtwAligner()).align(clip.samples, clip.sample_rate_hz, text, language)
    if suffix == ".lab":
        write_lab(out_path, alignment)
    else:
        write_textgrid(out_path, alignment)
    return alignment
