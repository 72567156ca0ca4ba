"""A singer points the studio at a folder of reclist recordings and gets an oto line per unit on its vowel."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt
import pytest
import soundfile as sf
from threadpoolctl import threadpool_info  # type: ignore[import-untyped]

from fixtures.stretch import PAD_MS, WORLD_RATE_HZ, held_take, stretched_take
from voicestudio.align.aligner import AlignmentFailed
from voicestudio.domain import Alignment, Language, PhoneSegment, Progress
from voicestudio.oto.folder import FolderOto, OtoFolderError, oto_for_folder, speak_reading
from voicestudio.oto.phones import is_pause, vowel_core
from voicestudio.oto.units import UnitRequest, file_reading, units_for_file

if TYPE_CHECKING:
    from conftest import Bank

VOWEL_ONSET_MAX_ERROR_MS = 30.0
TEMPO = 1.1  # the singer is a little slower than the synthesizer...
SEMITONES = 2.0  # ... and sings higher
CV_FILES = ("ka.wav", "shi.wav", "tsu.wav", "a.wav", "ん.wav", "しゃ.wav", "チュ.wav")
VCV_FILE = "_あさあしあす.wav"
HELD_CV_FILES = ("ka.wav", "shi.wav", "a.wav", "na.wav", "しゃ.wav", "チュ.wav")
HELD_CV_MS = 1000.0  # a CV singer holds each mora's vowel about a second
HELD_VCV_MS = 500.0  # ... a VCV singer each vowel of the string, legato
HELD_ONSET_MAX_ERROR_MS = 25.0
HELD_END_MAX_ERROR_MS = 60.0


@dataclass(frozen=True)
class Recorded:
    """A folder of takes as a singer recorded them, the true start of every mora's vowel, and its oto."""

    folder: Path
    vowel_starts_ms: dict[str, list[float]]  # per file, one per mora
    oto: FolderOto
    progress: list[Progress]


def vowel_starts_ms(alignment: Alignment) -> list[float]:
    """Where each mora's vowel (or ん) starts, rests skipped."""
    return [s.start_ms for s in alignment.segments if not is_pause(s.phone) and vowel_core(s.phone)]


def write_take(path: Path, samples: npt.NDArray[np.float32], sample_rate_hz: int) -> None:
    sf.write(path, samples, sample_rate_hz, subtype="PCM_16")


@pytest.fixture(scope="session")
def recorded(cv_bank: Bank, vcv_bank: Bank, tmp_path_factory: pytest.TempPathFactory) -> Recorded:
    """CV takes (romaji and kana names) and one VCV string, slower and higher than the reference voice."""
    folder = tmp_path_factory.mktemp("reclist")
    wanted = {*CV_FILES, VCV_FILE}
    truth: dict[str, list[float]] = {}
    for file in (*cv_bank.files, *vcv_bank.files):
        if file.wav_name in wanted:
            write_take(
                folder / file.wav_name,
                stretched_take(file.samples, file.sample_rate_hz, TEMPO, SEMITONES),
                WORLD_RATE_HZ,
            )
            truth[file.wav_name] = [t * TEMPO + PAD_MS for t in vowel_starts_ms(file.alignment)]
    progress: list[Progress] = []
    return Recorded(folder, truth, oto_for_folder(folder, on_progress=progress.append), progress)


@dataclass(frozen=True)
class Held:
    """Takes sung with every vowel held, each vowel's true (start, end) per file, and their oto."""

    folder: Path
    vowels_ms: dict[str, list[tuple[float, float]]]
    oto: FolderOto


@pytest.fixture(scope="session")
def held(cv_bank: Bank, vcv_bank: Bank, tmp_path_factory: pytest.TempPathFactory) -> Held:
    """Six CV takes with the vowel held a second (romaji and kana names, a bare vowel, ん) and one VCV
    string sung legato, each vowel held half a second."""
    folder = tmp_path_factory.mktemp("held")
    truth: dict[str, list[tuple[float, float]]] = {}
    takes = [(file, HELD_CV_MS) for file in cv_bank.files if file.wav_name in HELD_CV_FILES]
    takes += [(file, HELD_VCV_MS) for file in vcv_bank.files if file.wav_name == VCV_FILE]
    for file, hold_ms in takes:
        take, alignment = held_take(file.samples, file.sample_rate_hz, file.alignment, hold_ms)
        write_take(folder / file.wav_name, take, WORLD_RATE_HZ)
        truth[file.wav_name] = [
            (s.start_ms, s.end_ms)
            for s in alignment.segments
            if not is_pause(s.phone) and vowel_core(s.phone)
        ]
    return Held(folder, truth, oto_for_folder(folder))


def vowel_of(unit: UnitRequest) -> int:
    """The mora whose vowel a unit's preutterance marks: its own, or for a VCV unit the next one."""
    return unit.mora_index + 1 if unit.kind == "vcv" else unit.mora_index


def test_every_unit_of_the_folder_gets_a_line_in_file_order(recorded: Recorded) -> None:
    names = sorted(recorded.vowel_starts_ms)
    expected = [(name, unit.alias) for name in names for unit in units_for_file(name, "auto")]
    assert [(entry.wav_name, entry.alias) for entry in recorded.oto.entries] == expected
    assert ("しゃ.wav", "しゃ") in expected and ("ka.wav", "ka") in expected
    assert [alias for name, alias in expected if name == VCV_FILE] == [
        "- あ",
        "a さ",
        "a あ",
        "a し",
        "i あ",
        "a す",
    ]
    assert recorded.oto.file_count == 8
    assert recorded.oto.flagged == ()


def test_each_line_starts_its_note_on_the_true_vowel_onset(recorded: Recorded) -> None:
    errors_ms = []
    for entry in recorded.oto.entries:
        unit = next(u for u in units_for_file(entry.wav_name, "auto") if u.alias == entry.alias)
        true_ms = recorded.vowel_starts_ms[entry.wav_name][vowel_of(unit)]
        errors_ms.append(abs(entry.offset_ms + entry.preutterance_ms - true_ms))
    assert len(errors_ms) == 13
    assert max(errors_ms) <= VOWEL_ONSET_MAX_ERROR_MS, errors_ms
    assert float(np.median(errors_ms)) <= 15.0, errors_ms


def test_progress_counts_every_file_once(recorded: Recorded) -> None:
    assert [p.done for p in recorded.progress] == list(range(9))
    assert {p.total for p in recorded.progress} == {8}
    assert sorted(p.item for p in recorded.progress[1:]) == sorted(recorded.vowel_starts_ms)
    assert all(p.stage == "oto" for p in recorded.progress)


def test_a_folder_without_recordings_says_what_to_record(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("ka sa ta")
    (tmp_path / ".ka.wav").write_bytes(b"a hidden file is not a recording")
    with pytest.raises(OtoFolderError, match=r"has no \.wav files") as caught:
        oto_for_folder(tmp_path)
    assert "ka.wav" in caught.value.message and "prompts show" in caught.value.message


def test_a_missing_folder_is_named(tmp_path: Path) -> None:
    with pytest.raises(OtoFolderError, match="does not exist"):
        oto_for_folder(tmp_path / "nowhere")


def test_names_that_are_not_readings_are_all_listed_before_any_audio_is_read(tmp_path: Path) -> None:
    (tmp_path / "ka.wav").write_bytes(b"never read: the names are checked first")
    for name in ("hello world.wav", "xyz.wav", *(f"take{n:02d}.wav" for n in range(11))):
        (tmp_path / name).write_bytes(b"")
    with pytest.raises(OtoFolderError) as caught:
        oto_for_folder(tmp_path, "cv")
    message = caught.value.message
    assert message.startswith("13 files are not named by what they say")
    listed = message.split(": ", 1)[1].split(". ", 1)[0]
    assert listed.startswith("hello world.wav, take00.wav, take01.wav") and listed.endswith("and 3 more")
    assert "ka.wav" not in listed.split(", ")
    assert "_あかさ.wav" in message and "move the files" in message


@dataclass
class FixedAligner:
    """An aligner that hears `k a` in every take (or fails), and remembers what it was asked to hear."""

    fail_on: str = ""
    texts: list[str] | None = None
    blas_threads: list[int] | None = None

    def align(
        self, samples: npt.NDArray[np.float32], sample_rate_hz: int, text: str, language: Language
    ) -> Alignment:
        assert language is Language.ja
        if self.texts is not None:
            self.texts.append(text)
        if self.blas_threads is not None:
            self.blas_threads.extend(blas_thread_counts())
        if text == self.fail_on:
            raise AlignmentFailed("The take is too short for the text; check that the take is this prompt.")
        end_ms = 1000.0 * len(samples) / sample_rate_hz
        phones = (("sil", 0.0, 300.0), ("k", 300.0, 380.0), ("a", 380.0, 600.0), ("sil", 600.0, end_ms))
        return Alignment(tuple(PhoneSegment(p, start, end, 0.9) for p, start, end in phones))


def blas_thread_counts() -> list[int]:
    return [int(pool["num_threads"]) for pool in threadpool_info() if pool["user_api"] == "blas"]


def voice_like(duration_s: float = 1.0, sample_rate_hz: int = 16_000) -> npt.NDArray[np.float32]:
    t = np.arange(round(duration_s * sample_rate_hz)) / sample_rate_hz
    return (0.3 * np.sin(2 * np.pi * 220.0 * t) * ((t > 0.3) & (t < 0.6))).astype(np.float32)


def test_a_silent_or_broken_take_is_flagged_and_the_rest_still_placed(tmp_path: Path) -> None:
    write_take(tmp_path / "ka.wav", voice_like(), 16_000)
    write_take(tmp_path / "sa.wav", np.zeros(16_000, dtype=np.float32), 16_000)
    (tmp_path / "ta.wav").write_bytes(b"RIFF but nothing more")
    write_take(tmp_path / "na.wav", voice_like(), 16_000)
    oto = oto_for_folder(tmp_path, aligner=FixedAligner(fail_on="ナ"))
    by_file = {entry.wav_name: entry for entry in oto.entries}
    assert list(by_file) == ["ka.wav", "na.wav", "sa.wav", "ta.wav"]
    assert by_file["ka.wav"].confidence > 0.5 and by_file["ka.wav"].offset_ms > 250.0
    for name in ("na.wav", "sa.wav", "ta.wav"):
        entry = by_file[name]
        assert (entry.confidence, entry.offset_ms, entry.cutoff_ms) == (0.0, 0.0, 0.0), entry
        assert entry.preutterance_ms <= entry.consonant_ms
    reasons = dict((flag.wav_name, flag.reason) for flag in oto.flagged)
    assert list(reasons) == ["na.wav", "sa.wav", "ta.wav"]
    assert reasons["sa.wav"].startswith("The recording is silent") and "record it again" in reasons["sa.wav"]
    assert "too short for the text" in reasons["na.wav"]
    assert by_file["sa.wav"].note == reasons["sa.wav"]
    assert oto.low_confidence_count == 3


def test_the_aligner_hears_each_name_as_katakana(tmp_path: Path) -> None:
    names = ("wo.wav", "を.wav", "ha.wav", "_はへ.wav", "a_pau_ka.wav", "kya.wav")
    for name in names:
        write_take(tmp_path / name, voice_like(), 16_000)
    heard: list[str] = []
    oto_for_folder(tmp_path, aligner=FixedAligner(texts=heard))
    assert sorted(heard) == sorted(["ヲ", "ヲ", "ハ", "ハヘ", "ア、カ", "キャ"])


def test_a_reading_is_the_name_s_morae_in_katakana() -> None:
    assert file_reading("ka.wav") == "カ"
    assert file_reading("_あかさ.wav") == "アカサ"
    assert file_reading("ka_ki_ku.wav") == "カキク"
    assert file_reading("sub/_かー.wav") == "カー"
    assert file_reading("a_pau_ka.wav") == "ア、カ"
    assert file_reading("息.wav") == ""


@pytest.mark.parametrize(
    ("reading", "phones"),
    [
        ("ヒョウ", ["hy", "o", "u"]),  # Open JTalk alone says hy o o
        ("ハヘ", ["h", "a", "h", "e"]),  # ... h a e
        ("アツァ", ["a", "ts", "a"]),  # ... a ts u a
        ("カ、ウォ", ["k", "a", "pau", "w", "o"]),
        ("ヲ", ["w", "o"]),  # ... o
    ],
)
def test_a_reading_is_spoken_mora_by_mora_as_written(reading: str, phones: list[str]) -> None:
    speech = speak_reading(reading, Language.ja)
    spoken = [s.phone.lower() for s in speech.alignment.segments]
    assert spoken == ["sil", *phones, "sil"]
    assert speech.sample_rate_hz == 48_000 and speech.duration_ms > 300.0


def test_numpy_works_on_one_thread_while_the_folder_runs_and_gets_its_threads_back(tmp_path: Path) -> None:
    for name in ("ka.wav", "sa.wav", "ta.wav"):
        write_take(tmp_path / name, voice_like(), 16_000)
    before = blas_thread_counts()
    during: list[int] = []

    oto_for_folder(tmp_path, aligner=FixedAligner(blas_threads=during))

    assert during and set(during) == {1}
    assert blas_thread_counts() == before


def held_errors_ms(held: Held, names: tuple[str, ...]) -> tuple[list[float], list[float]]:
    """Per entry of `names`: |found − true| vowel onset, and |cutoff's end − the held vowel's true end|."""
    onsets, ends = [], []
    for entry in held.oto.entries:
        if entry.wav_name not in names:
            continue
        unit = next(u for u in units_for_file(entry.wav_name, "auto") if u.alias == entry.alias)
        start_ms, end_ms = held.vowels_ms[entry.wav_name][vowel_of(unit)]
        onsets.append(abs(entry.offset_ms + entry.preutterance_ms - start_ms))
        ends.append(abs(entry.offset_ms - entry.cutoff_ms - end_ms))
    return onsets, ends


def test_a_cv_take_sung_with_its_vowel_held_a_second_gets_the_vowel_s_onset_and_end(held: Held) -> None:
    onsets_ms, ends_ms = held_errors_ms(held, HELD_CV_FILES)
    assert len(onsets_ms) == len(HELD_CV_FILES)
    assert max(onsets_ms) <= HELD_ONSET_MAX_ERROR_MS, onsets_ms
    # generate_oto ends the cutoff where the vowel stops sounding steady: shi's i some 160 ms early
    assert float(np.median(ends_ms)) <= HELD_END_MAX_ERROR_MS and max(ends_ms) <= 200.0, ends_ms
    cv = [entry for entry in held.oto.entries if entry.wav_name in HELD_CV_FILES]
    assert all(entry.cutoff_ms < -800.0 for entry in cv), cv  # the held vowel is kept, not cut short
    assert all(entry.confidence > 0.0 for entry in cv), [entry.confidence for entry in cv]


def test_a_vcv_string_sung_legato_with_each_vowel_held_lands_on_every_onset(held: Held) -> None:
    onsets_ms, _ = held_errors_ms(held, (VCV_FILE,))
    assert len(onsets_ms) == 6
    assert max(onsets_ms[1:]) <= HELD_ONSET_MAX_ERROR_MS, onsets_ms
    assert onsets_ms[0] <= 60.0, onsets_ms  # "- あ": the first vowel, out of silence, starts 55 ms early
