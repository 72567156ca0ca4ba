"""Reclist banks spoken by the reference synthesizer, with its true phone times, built once per session."""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pytest

from voicestudio.align.reference import ReferenceSpeech, ReferenceUnavailable, synthesize_japanese
from voicestudio.domain.alignment import Alignment
from voicestudio.domain.oto import OtoEntry
from voicestudio.oto.generate import generate_oto
from voicestudio.oto.units import FileStyle, UnitRequest, morae_to_units, units_for_file
from voicestudio.text.kana import romaji_to_kana

# A CV reclist: every kind of onset (plosive, fricative, affricate, nasal, liquid, glide), youon,
# a bare vowel and ん; mostly romaji names, some kana ones (aliases follow the name's script).
CV_NAMES = (
    "a.wav", "ka.wav", "ki.wav", "sa.wav", "shi.wav", "tsu.wav", "te.wav", "na.wav", "hi.wav",
    "fu.wav", "ma.wav", "yo.wav", "ru.wav", "wa.wav", "ga.wav", "ji.wav", "do.wav", "ba.wav",
    "pa.wav", "kya.wav", "しゃ.wav", "チュ.wav", "ryo.wav", "ん.wav",
)  # fmt: skip
VCV_NAMES = ("_akaakiaku.wav", "_あさあしあす.wav", "_いないにいぬ.wav", "_おがおごおん.wav")
CVVC_NAMES = ("_かかきかくか.wav", "ga_gi_gu.wav", "mamimume.wav", "_らられらろ.wav")
SENTENCE = "今日はいい天気ですね"
SENTENCE_READING = "kyo o wa i i te n ki de su ne"
SYNTH_THREADS = 4  # hts_engine runs as a process: threads overlap them


@dataclass(frozen=True, slots=True, eq=False)
class BankFile:
    """One recording of a bank: its samples, the synthesizer's true alignment and the units it holds."""

    wav_name: str
    samples: npt.NDArray[np.float32]
    sample_rate_hz: int
    alignment: Alignment
    units: tuple[UnitRequest, ...]

    @property
    def duration_ms(self) -> float:
        return 1000.0 * len(self.samples) / self.sample_rate_hz

    def entries(self, alignment: Alignment | None = None) -> list[OtoEntry]:
        """oto entries for this file, on the true alignment unless another is given."""
        chosen = self.alignment if alignment is None else alignment
        return generate_oto(self.wav_name, self.samples, self.sample_rate_hz, chosen, self.units)


@dataclass(frozen=True, slots=True, eq=False)
class Bank:
    """A reclist's recordings and the entries generated for them on the true alignment."""

    style: FileStyle
    files: tuple[BankFile, ...]
    entries: tuple[tuple[OtoEntry, ...], ...]  # per file, one per unit


def spoken_text(wav_name: str) -> str:
    """What the singer says for a reclist file: its name's morae, as kana."""
    stem = wav_name.rsplit(".", 1)[0].lstrip("_").replace("_", " ")
    return stem.replace(" ", "") if not stem.isascii() else romaji_to_kana(stem)


def speak(texts: Sequence[str]) -> list[ReferenceSpeech]:
    try:
        with ThreadPoolExecutor(SYNTH_THREADS) as pool:
            return list(pool.map(synthesize_japanese, texts))
    except ReferenceUnavailable as e:
        pytest.skip(str(e))


def build_bank(names: Sequence[str], style: FileStyle) -> Bank:
    files = tuple(
        BankFile(
            name,
            speech.samples,
            speech.sample_rate_hz,
            speech.alignment,
            tuple(units_for_file(name, style)),
        )
        for name, speech in zip(names, speak([spoken_text(name) for name in names]), strict=True)
    )
    return Bank(style, files, tuple(tuple(file.entries()) for file in files))


@pytest.fixture(scope="session")
def cv_bank() -> Bank:
    """24 CV files (`ka.wav`, `しゃ.wav`, `ん.wav` …), one mora each."""
    return build_bank(CV_NAMES, "auto")


@pytest.fixture(scope="session")
def vcv_bank() -> Bank:
    """VCV strings (`_akaakiaku.wav`, `_あさあしあす.wav` …)."""
    return build_bank(VCV_NAMES, "auto")


@pytest.fixture(scope="session")
def cvvc_bank() -> Bank:
    """CVVC strings, both `_かかきかくか.wav` and `ga_gi_gu.wav` styles."""
    return build_bank(CVVC_NAMES, "cvvc")


@pytest.fixture(scope="session")
def banks(cv_bank: Bank, vcv_bank: Bank, cvvc_bank: Bank) -> dict[str, Bank]:
    return {"cv": cv_bank, "vcv": vcv_bank, "cvvc": cvvc_bank}


@pytest.fixture(scope="session")
def sentence() -> BankFile:
    """A spoken sentence with the CVVC units of its reading, for cutting units from continuous speech."""
    (speech,) = speak([SENTENCE])
    units = tuple(morae_to_units(SENTENCE_READING, "cvvc"))
    return BankFile("sentence.wav", speech.samples, speech.sample_rate_hz, speech.alignment, units)
