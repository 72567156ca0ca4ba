"""Reference speech: a known phone string spoken by a synthesizer, with the true time of every phone.

An aligner maps a reference's boundaries onto a recording of the same text, and the studio plays a
reference as the example of a prompt. Japanese is spoken by HTS (Open JTalk's labels, the voice in
pyopenjtalk), English by eSpeak NG.
"""

import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import numpy.typing as npt
import soundfile as sf

from voicestudio.align.labels import parse_lab
from voicestudio.domain.alignment import Alignment
from voicestudio.domain.language import Language
from voicestudio.errors import VoicestudioError
from voicestudio.text import espeak

HTS_ENGINE = "hts_engine"
# The HTS voice peaks past full scale on some sentences; render 6 dB lower so no sample is clipped.
HEADROOM_DB = -6.0
ENGLISH_VOICE = "en-us"
# A full-context label starts `p1^p2-p3+p4=p5/A:…`; the phone itself is p3.
_CURRENT_PHONE = re.compile(r"^[^\^]*\^[^-]*-([^+]+)\+")


class ReferenceUnavailable(VoicestudioError):
    """A synthesizer the reference speech needs is not installed."""


@dataclass(frozen=True, slots=True, eq=False)  # eq=False: arrays do not compare to a single bool
class ReferenceSpeech:
    """Synthesized speech of `text` and where each of its phones starts and ends."""

    samples: npt.NDArray[np.float32]
    sample_rate_hz: int
    alignment: Alignment
    text: str
    language: Language

    @property
    def duration_ms(self) -> float:
        return 1000.0 * len(self.samples) / self.sample_rate_hz


def synthesize_reference(text: str, language: Language) -> ReferenceSpeech:
    """Speak `text` in `language` with the true phone times."""
    if language is Language.ja:
        return synthesize_japanese(text)
    if language is Language.en:
        return synthesize_english(text)
    raise ValueError(f"no reference synthesizer for language {language!r}")


def synthesize_english(text: str) -> ReferenceSpeech:
    """American English by eSpeak NG; phones are eSpeak's IPA names, "sil" at the ends, "pau" at clauses."""
    speech = espeak.synthesize_with_phones(text, ENGLISH_VOICE)
    return ReferenceSpeech(speech.samples, speech.sample_rate_hz, speech.alignment, text, Language.en)


def synthesize_japanese(text: str) -> ReferenceSpeech:
    """Japanese by HTS from Open JTalk's full-context labels (48 kHz); phones as `pyopenjtalk.g2p` names
    them, with "sil" at the ends and "pau" at pauses. The times are those the engine chose, to the frame."""
    import pyopenjtalk

    if not text.strip():
        raise ValueError("there is no text to speak")
    engine = shutil.which(HTS_ENGINE)
    if engine is None:
        raise ReferenceUnavailable(
            "Japanese reference speech needs hts_engine; install htsengine: apt-get install htsengine."
        )
    voice = Path(pyopenjtalk.__file__).parent / "htsvoice" / "mei_normal.htsvoice"
    if not voice.is_file():
        raise ReferenceUnavailable(f"The HTS voice {voice} is missing; reinstall pyopenjtalk-plus.")
    labels = [str(label) for label in pyopenjtalk.extract_fullcontext(text)]
    samples, sample_rate_hz, alignment = _render_with_hts(Path(engine), voice, labels)
    return ReferenceSpeech(samples, sample_rate_hz, alignment, text, Language.ja)


def _render_with_hts(
    engine: Path, voice: Path, labels: list[str]
) -> tuple[npt.NDArray[np.float32], int, Alignment]:
    """Run hts_engine on full-context labels: the audio, its rate and the phone times it chose (`-od`)."""
    with tempfile.TemporaryDirectory(prefix="voicestudio-hts-") as folder:
        work = Path(folder)
        (work / "labels.lab").write_text("\n".join(labels) + "\n", encoding="utf-8")
        command = [
            str(engine),
            "-m",
            str(voice),
            "-g",
            str(HEADROOM_DB),
            "-od",
            "times.lab",
            "-ow",
            "out.wav",
        ]
        command.append("labels.lab")
        done = subprocess.run(command, cwd=work, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise RuntimeError(f"hts_engine failed ({done.returncode}): {done.stderr.strip()}")
        alignment = _alignment_from_hts_times((work / "times.lab").read_text(encoding="utf-8"))
        samples, sample_rate_hz = sf.read(work / "out.wav", dtype="float32", always_2d=False)
    return np.asarray(samples, dtype=np.float32), int(sample_rate_hz), alignment


def _alignment_from_hts_times(lab_text: str) -> Alignment:
    """Read hts_engine's `-od` output (HTK label lines whose label is the full context) as phones."""
    return Alignment(tuple(replace(s, phone=_current_phone(s.phone)) for s in parse_lab(lab_text).segments))


def _current_phone(full_context_label: str) -> str:
    match = _CURRENT_PHONE.match(full_context_label)
    if match is None:
        raise ValueError(f"not a full-context label: {full_context_label!r}")
    return match.group(1)
