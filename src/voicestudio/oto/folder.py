"""oto.ini for a folder of reclist recordings: each file's name says what it holds, the audio where.

Every name is read before any audio is touched, so a folder with a stray file stops at once with the
list of names to fix. Each recording is then aligned against its name's reading and cut into units on
a small thread pool (the reference synthesizer is a subprocess, so threads overlap). A recording that
cannot be used (silent, unreadable, not alignable) does not stop the folder: its units get entries of
confidence 0 whose note says what to do, and it is listed in `FolderOto.flagged`.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, as_completed
from contextlib import contextmanager
from dataclasses import dataclass, replace
from functools import partial
from pathlib import Path
from typing import Final, TypeVar

import numpy as np
import numpy.typing as npt
from threadpoolctl import threadpool_limits  # type: ignore[import-untyped]  # untyped package

from voicestudio.align.aligner import Aligner, AlignmentFailed
from voicestudio.align.dtw import DtwAligner
from voicestudio.align.reference import PhonemeError, ReferenceSpeech, synthesize_kana, synthesize_reference
from voicestudio.align.refine import refine_alignments
from voicestudio.audio.analysis import leading_silence_ms, trailing_silence_ms
from voicestudio.audio.errors import AudioError
from voicestudio.audio.io import AudioClip
from voicestudio.audio.validate import load_take
from voicestudio.domain import (
    Alignment,
    Language,
    OtoEntry,
    PhoneSegment,
    Progress,
    ProgressCallback,
    ignore_progress,
)
from voicestudio.errors import VoicestudioError
from voicestudio.oto.generate import LOW_CONFIDENCE, NOT_FOUND_PREUTTERANCE_MS, generate_oto
from voicestudio.oto.phones import is_pause
from voicestudio.oto.units import FileStyle, UnitNameError, UnitRequest, file_reading, units_for_file

PROGRESS_STAGE: Final = "oto"
WAV_SUFFIX: Final = ".wav"
LISTED_NAMES_MAX: Final = 10  # bad names shown in an error before "and N more"
POOL_THREADS: Final = max(2, min(4, (os.cpu_count() or 1) + 1))  # a file waits on hts part of the time
VOICE_MARGIN_MS: Final = 300.0  # silence kept around the voice for the aligner: about the reference's own
SILENCE: Final = "sil"
REFINE_ITERATIONS: Final = 1  # bench/refine.py: one round of re-estimation is best, more drift

_T = TypeVar("_T")


class OtoFolderError(VoicestudioError):
    """A folder that gives no oto.ini: missing, without recordings, or with names that are not readings."""


@dataclass(frozen=True, slots=True)
class FlaggedFile:
    """A recording whose entries are placeholders (confidence 0), and why, in words that say what to do."""

    wav_name: str
    reason: str


@dataclass(frozen=True, slots=True)
class FolderOto:
    """The oto entries of a folder (file order, then unit order) and what wants a human look."""

    entries: tuple[OtoEntry, ...]
    file_count: int
    flagged: tuple[FlaggedFile, ...]
    low_confidence_count: int  # entries below LOW_CONFIDENCE, the flagged files' included


@dataclass(frozen=True, slots=True)
class _FileOto:
    entries: tuple[OtoEntry, ...]
    flagged: FlaggedFile | None


def reclist_wavs(folder: Path) -> list[Path]:
    """The .wav files directly in `folder`, sorted by name; hidden files (`.ka.wav`, `._ka.wav`) are skipped.

    Raises `OtoFolderError` when the folder is missing or holds no .wav file.
    """
    folder = Path(folder)
    if not folder.exists():
        raise OtoFolderError(f"{folder} does not exist. Point to the folder that holds your recordings.")
    if not folder.is_dir():
        raise OtoFolderError(f"{folder} is a file, not a folder. Point to the folder that holds it.")
    try:
        wavs = sorted(
            (
                path
                for path in folder.iterdir()
                if path.suffix.lower() == WAV_SUFFIX and not path.name.startswith(".") and path.is_file()
            ),
            key=lambda path: path.name,
        )
    except OSError as e:
        raise OtoFolderError(
            f"{folder} cannot be read ({e.strerror or e}). Allow the studio to read it, then try again."
        ) from None
    if not wavs:
        raise OtoFolderError(
            f"{folder} has no .wav files. Record a reclist into it, one file per line named by what it "
            "says (ka.wav, か.wav, _あかさ.wav; see `voicestudio prompts show ja-cv`), or point to the "
            "folder that holds your recordings."
        )
    return wavs


def folder_units(
    folder: Path, style: FileStyle = "auto", head: bool = False
) -> list[tuple[Path, list[UnitRequest]]]:
    """Every recording of `folder` (see `reclist_wavs`) with the units its name holds, without reading audio.

    Raises `OtoFolderError` for a folder without recordings, or listing every name that is not a reading.
    """
    wavs = reclist_wavs(folder)
    planned: list[tuple[Path, list[UnitRequest]]] = []
    bad: list[str] = []
    for wav in wavs:
        try:
            planned.append((wav, units_for_file(wav.name, style, head)))
        except UnitNameError:
            bad.append(wav.name)
    if bad:
        raise _bad_names_error(Path(folder), bad)
    return planned


def oto_for_folder(
    folder: Path,
    style: FileStyle = "auto",
    *,
    head: bool = False,
    aligner: Aligner | None = None,
    refine: bool = True,
    on_progress: ProgressCallback = ignore_progress,
) -> FolderOto:
    """oto entries for every .wav in `folder` (not its subfolders), each named after its file.

    `style` and `head` are those of `units_for_file`; `aligner` defaults to `reclist_aligner()`;
    `refine` re-places boundaries with the speaker's own phone models (bench/oto.py: vowel onsets of a voice
    unlike the reference 37 → 32 ms MAE; the same voice unchanged).
    Raises `OtoFolderError` before any audio work when the folder has no recordings or a name is not
    a reading; bad recordings are flagged instead. `on_progress` hears of each file as it finishes.
    """
    planned = folder_units(folder, style, head)
    wavs = [wav for wav, _ in planned]
    units = [file_units for _, file_units in planned]
    engine = reclist_aligner() if aligner is None else aligner
    on_progress(Progress(PROGRESS_STAGE, 0, len(wavs)))
    results = _oto_of_files(wavs, units, engine, on_progress, refine)
    entries = tuple(entry for result in results for entry in result.entries)
    return FolderOto(
        entries=entries,
        file_count=len(wavs),
        flagged=tuple(result.flagged for result in results if result.flagged is not None),
        low_confidence_count=sum(entry.confidence < LOW_CONFIDENCE for entry in entries),
    )


def reclist_aligner() -> DtwAligner:
    """The aligner for reclist recordings: dtw against each name's reading spoken exactly as written, each
    vowel and ん free to be held as long as the singer holds it."""
    return DtwAligner(synthesize=speak_reading, hold_vowels=True)


def speak_reading(text: str, language: Language) -> ReferenceSpeech:
    """Reference speech of a reading as `file_reading` writes it, each mora as written (`synthesize_kana`:
    コウ is k o u, ヲ is w o); text in another language as `synthesize_reference` speaks it."""
    if language is Language.ja:
        return synthesize_kana(text)
    return synthesize_reference(text, language)


# --- reading the names ---------------------------------------------------------------------------


def _bad_names_error(folder: Path, names: Sequence[str]) -> OtoFolderError:
    shown = ", ".join(names[:LISTED_NAMES_MAX])
    if len(names) > LISTED_NAMES_MAX:
        shown += f" and {len(names) - LISTED_NAMES_MAX} more"
    what = "1 file is" if len(names) == 1 else f"{len(names)} files are"
    return OtoFolderError(
        f"{what} not named by what they say, so no oto.ini was written for {folder}: {shown}. "
        "Name each recording by its reading as UTAU reclists do (ka.wav, か.wav, _あかさ.wav, "
        "ka_ki_ku.wav), or move the files that are not reclist recordings out of the folder."
    )


# --- the recordings ------------------------------------------------------------------------------


def _oto_of_files(
    wavs: Sequence[Path],
    units: Sequence[Sequence[UnitRequest]],
    aligner: Aligner,
    on_progress: ProgressCallback,
    refine: bool,
) -> list[_FileOto]:
    """Each file's entries, in file order; progress is reported from the caller's thread as files finish.

    With `refine`, every file is aligned first, the speaker's own phone models re-place the boundaries
    over the whole reclist (`refine_alignments`), and only then are the units cut.
    """
    with _one_blas_thread(), ThreadPoolExecutor(min(POOL_THREADS, len(wavs))) as pool:
        cut_now = not refine
        aligned = _in_pool(
            pool,
            [
                partial(_align_file, wav, file_units, aligner, cut_now, index)
                for index, (wav, file_units) in enumerate(zip(wavs, units, strict=True))
            ],
            lambda index: on_progress(Progress(PROGRESS_STAGE, index[0], len(wavs), wavs[index[1]].name)),
        )
        if cut_now:
            return [result for result in aligned if isinstance(result, _FileOto)]
        refined = _refined([result for result in aligned if isinstance(result, _Aligned)])
        return _in_pool(
            pool,
            [
                partial(_cut, refined.get(index, result), file_units)
                for index, (result, file_units) in enumerate(zip(aligned, units, strict=True))
            ],
            lambda _: None,
        )


def _in_pool(
    pool: ThreadPoolExecutor, jobs: Sequence[Callable[[], _T]], done: Callable[[tuple[int, int]], None]
) -> list[_T]:
    """Run `jobs` on `pool`; results in job order; `done((count, index))` hears of each as it finishes."""
    futures: dict[Future[_T], int] = {pool.submit(job): index for index, job in enumerate(jobs)}
    results: dict[int, _T] = {}
    try:
        for count, future in enumerate(as_completed(futures), start=1):
            index = futures[future]
            results[index] = future.result()
            done((count, index))
    except BaseException:
        for future in futures:
            future.cancel()
        raise
    return [results[index] for index in range(len(jobs))]


def _refined(aligned: Sequence[_Aligned]) -> dict[int, _Aligned]:
    """The aligned files with their boundaries re-placed by the speaker's own phone models, by file index."""
    if len(aligned) < 2:
        return {}
    alignments = refine_alignments(
        [(item.clip.samples, item.clip.sample_rate_hz) for item in aligned],
        [item.alignment for item in aligned],
        iterations=REFINE_ITERATIONS,
    )
    return {
        item.index: replace(item, alignment=_with_scores_of(found, item.alignment))
        for item, found in zip(aligned, alignments, strict=True)
    }


def _with_scores_of(refined: Alignment, aligned: Alignment) -> Alignment:
    """The refined boundaries with the aligner's scores, which the oto confidence is calibrated on (the
    refinement's own scores rate how well the speaker's models fit, on another scale)."""
    return Alignment(
        tuple(
            replace(segment, score=original.score)
            for segment, original in zip(refined.segments, aligned.segments, strict=True)
        )
    )


@dataclass(frozen=True, slots=True, eq=False)
class _Aligned:
    """A file aligned but not yet cut."""

    index: int
    wav_name: str
    clip: AudioClip
    alignment: Alignment


def _align_file(
    wav: Path, units: Sequence[UnitRequest], aligner: Aligner, cut_now: bool, index: int
) -> _FileOto | _Aligned:
    """Load and align one file; cut its units at once unless the reclist is refined first."""
    if not units:  # a breath or rest prompt: nothing to cut
        return _FileOto((), None)
    try:
        clip = load_take(wav)
        alignment = _align_voice(aligner, clip.samples, clip.sample_rate_hz, file_reading(wav.name))
    except (AudioError, AlignmentFailed, PhonemeError) as e:
        reason = _without_name(e.message, wav.name)
        return _FileOto(_placeholders(wav.name, units, reason), FlaggedFile(wav.name, reason))
    aligned = _Aligned(index, wav.name, clip, alignment)
    return _cut(aligned, units) if cut_now else aligned


def _cut(result: _FileOto | _Aligned, units: Sequence[UnitRequest]) -> _FileOto:
    """The units of an aligned file placed on its audio; a file already settled passes through."""
    if isinstance(result, _FileOto):
        return result
    clip = result.clip
    return _FileOto(
        tuple(generate_oto(result.wav_name, clip.samples, clip.sample_rate_hz, result.alignment, units)), None
    )


def _align_voice(
    aligner: Aligner, samples: npt.NDArray[np.float32], sample_rate_hz: int, text: str
) -> Alignment:
    """Align the voice and VOICE_MARGIN_MS around it, then lay the phones back on the whole take.

    Reclist takes carry long silences (a count-in, a wait before stopping), and with them the dtw engine
    may lay the whole reference on the take's first frames: 2 to 7 of 24 CV takes landed ~0.9 s off,
    none once trimmed.
    """
    duration_ms = 1000.0 * len(samples) / sample_rate_hz
    start_ms = max(0.0, leading_silence_ms(samples, sample_rate_hz) - VOICE_MARGIN_MS)
    end_ms = min(duration_ms, duration_ms - trailing_silence_ms(samples, sample_rate_hz) + VOICE_MARGIN_MS)
    if end_ms - start_ms < 2.0 * VOICE_MARGIN_MS:  # no voice found: let the aligner judge the whole take
        return aligner.align(samples, sample_rate_hz, text, Language.ja)
    first, last = round(start_ms * sample_rate_hz / 1000.0), round(end_ms * sample_rate_hz / 1000.0)
    found = aligner.align(samples[first:last], sample_rate_hz, text, Language.ja)
    shift_ms = 1000.0 * first / sample_rate_hz
    segments = [
        replace(s, start_ms=s.start_ms + shift_ms, end_ms=s.end_ms + shift_ms) for s in found.segments
    ]
    if not segments:
        return found
    if shift_ms > 0.0:
        if is_pause(segments[0].phone):
            segments[0] = replace(segments[0], start_ms=0.0)
        else:
            segments.insert(0, PhoneSegment(SILENCE, 0.0, shift_ms, 1.0))
    if segments[-1].end_ms < duration_ms:
        if is_pause(segments[-1].phone):
            segments[-1] = replace(segments[-1], end_ms=duration_ms)
        else:
            segments.append(PhoneSegment(SILENCE, segments[-1].end_ms, duration_ms, 1.0))
    return Alignment(tuple(segments))


def _placeholders(wav_name: str, units: Sequence[UnitRequest], reason: str) -> tuple[OtoEntry, ...]:
    """Entries to set by hand: the whole file (cutoff 0 reaches its end), confidence 0, the reason as note."""
    fixed_ms = NOT_FOUND_PREUTTERANCE_MS
    return tuple(
        OtoEntry(wav_name, unit.alias, 0.0, fixed_ms, 0.0, fixed_ms, 0.0, confidence=0.0, note=reason)
        for unit in units
    )


def _without_name(message: str, wav_name: str) -> str:
    """Audio errors start with the file's name, which the flag already gives: `ka.wav: the …` → `The …`."""
    prefix = f"{wav_name}: "
    rest = message[len(prefix) :] if message.startswith(prefix) else message
    return rest[:1].upper() + rest[1:]


# --- BLAS threads --------------------------------------------------------------------------------


_blas_lock = threading.Lock()
_blas_users = 0
_blas_limits: threadpool_limits | None = None


@contextmanager
def _one_blas_thread() -> Iterator[None]:
    """Run numpy's matrix products on one thread while the pool keeps the cores busy.

    BLAS wakes a thread per core for each of the aligner's small products, and those threads spin against
    the pool's: the same folder took 3x the CPU time. The count is restored when the last caller leaves.
    """
    global _blas_users, _blas_limits
    with _blas_lock:
        if _blas_users == 0:
            _blas_limits = threadpool_limits(1, "blas")
        _blas_users += 1
    try:
        yield
    finally:
        with _blas_lock:
            _blas_users -= 1
            if _blas_users == 0 and _blas_limits is not None:
                _blas_limits.restore_original_limits()
                _blas_limits = None
