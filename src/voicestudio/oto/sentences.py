"""UTAU units cut from continuous sentences: the best instance of each unit, each in a wav of its own.

A singer who records a paragraph prompt set instead of a reclist still gets a voicebank: each take's
units are placed as `generate_oto` places them, scored on how far the alignment, the vowel's level
and pitch, and its length can be trusted, and the best instance of each alias is cut into its own
44.1 kHz 16-bit mono wav with an oto line in that file's coordinates.

File names (safe on Windows, and in Shift-JIS for UTAU): a CV unit is its kana alias (`か.wav`); a
head `- か` is `_か.wav` (UTAU's `_` marks a mora sung from a rest); VC `a k` is `a_k.wav`, VCV
`a か` is `a_か.wav`; a tail `a R` is `a_end.wav`, since `a_R` and the VC `a_r` are one name to
Windows. Kana that Shift-JIS lacks (ゔ) are written in katakana (ヴ); any other clash gets `~2`.

`sentence_bank_from_folder` does it all for a folder of ja-paragraph takes: load, align by the prompts'
phonemes, pick, cut, and write oto.ini. Aliases spell ゔ as ヴ (`ゔぁ` → `ヴぁ`, `ゔ` → `ヴ`): Shift-JIS has
no hiragana ゔ, and this is how UTAU reclists and OpenUTAU write those morae (its romaji lyrics turn `va`
into ヴぁ; its JA CVVC phonemizer lists `v=ヴ,ヴぁ,ヴぃ,…`), so lyrics typed there find the unit.
"""

from __future__ import annotations

import math
import os
import shutil
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Final

import numpy as np
import numpy.typing as npt

from voicestudio.align.aligner import PhonemeAligner
from voicestudio.align.dtw import DtwAligner
from voicestudio.audio.io import resample, write_wav_atomic
from voicestudio.audio.validate import load_take
from voicestudio.domain.alignment import Alignment
from voicestudio.domain.language import Language
from voicestudio.domain.oto import OtoEntry
from voicestudio.domain.progress import Progress, ProgressCallback, ignore_progress
from voicestudio.domain.prompts import Prompt, PromptSet, PromptSetKind
from voicestudio.errors import VoicestudioError
from voicestudio.files import WINDOWS_FORBIDDEN_CHARS, is_windows_device_name
from voicestudio.oto.generate import FRAME_MS, LOW_CONFIDENCE, TakeSignal, analyse_take, generate_oto
from voicestudio.oto.ini import OtoEncoding, normalize_encoding, write_oto_ini
from voicestudio.oto.phones import VOWELS, is_devoiced, is_pause
from voicestudio.oto.units import (
    HEAD_PREFIX,
    PAUSE_MORAE,
    UnitKind,
    UnitRequest,
    UnitStyle,
    morae_to_units,
)
from voicestudio.text.errors import KanaError
from voicestudio.text.kana import phonemes_to_morae, to_katakana
from voicestudio.text.prompts import load_prompt_set, prompt_units

# --- scoring ---
MIN_FRAMES: Final = 3  # vowels shorter than this many frames are not measured (their length counts)
PITCH_WEIGHT_DB_PER_SEMITONE: Final = 2.0  # a semitone of pitch change counts as 2 dB of level change
UNVOICED_INSTABILITY_DB: Final = 6.0  # a vowel frame without pitch is this unsteady
STABILITY_SCALE_DB: Final = 2.0  # instability of this much (dB a frame) halves the stability
VOICED_SHARE_MIN: Final = 0.25  # a vowel with pitch in fewer of its frames is taken as devoiced
CLARITY_FRAME_MS: Final = 10.0  # periodicity is measured on this much sound...
CLARITY_HOP_MS: Final = 10.0  # ... every this often, one period of the vowel's median pitch later...
CLARITY_LAG_SLACK: Final = 0.05  # ... give or take this share of a period (the pitch moves)
GOOD_VOWEL_MS: Final = 60.0  # a vowel this long has room to stretch; shorter ones score in proportion
ONSETLESS_FACTOR: Final = 0.7  # a bare vowel that continues another vowel (い in たかい) has no onset
# --- cutting ---
CONTEXT_MS: Final = 50.0  # audio kept before offset and after the cutoff's end, where the take has it
EDGE_FADE_MS: Final = 5.0  # the kept context fades in and out over this much, so cut edges never click
OUTPUT_RATE_HZ: Final = 44100
TICKS_PER_MS: Final = 10  # entries are written to 0.1 ms
STAGING_PREFIX: Final = ".sentence-units-"
TAIL_FILE_SUFFIX: Final = "_end"
HEAD_FILE_PREFIX: Final = "_"
DUPLICATE_MARK: Final = "~"
FILE_ENCODING: Final = "cp932"  # UTAU reads names and oto.ini in Shift-JIS
_BARE_VOWELS: Final = frozenset("あいうえお")
# --- a bank from a folder ---
OTO_FILE_NAME: Final = "oto.ini"
WAV_SUFFIX: Final = ".wav"
ALIGN_STAGE: Final = "align"
CUT_STAGE: Final = "cut"
COVERAGE_SET: Final = "ja-cv"  # a bank's coverage counts the morae of this reclist (its breath left out)
EXPECTED_NAMES_SHOWN: Final = 3  # prompt file names an error about a folder without takes lists
ALIAS_SPELLING: Final = {"ゔ": "ヴ"}  # see the module's docstring

FloatArray = npt.NDArray[np.floating]


class SentenceUnitError(VoicestudioError):
    """Sentence takes the studio cannot cut units from, or unit files it cannot write."""


@dataclass(frozen=True, slots=True, eq=False)  # eq=False: arrays do not compare to a single bool
class SentenceTake:
    """One recorded sentence: its audio, the prompt's pyopenjtalk phonemes and an aligner's alignment.

    The phonemes, not the romaji reading, say what was spoken: readings spell を `wo`, speech says `o`.
    """

    wav_name: str
    samples: FloatArray
    sample_rate_hz: int
    phonemes: tuple[str, ...]
    alignment: Alignment

    @property
    def duration_ms(self) -> float:
        return 1000.0 * len(self.samples) / self.sample_rate_hz


@dataclass(frozen=True, slots=True)
class UnitCandidate:
    """One instance of a unit in a take: its oto entry in the take's coordinates and how good it is.

    `score` = `alignment_score` (the entry's confidence: its phones' alignment scores as `generate_oto`
    weighs them) × `stability` (level and pitch steadiness of its vowel) × `clarity` (how periodic the
    vowel is: noise over it lowers this) × `length_factor` (room to stretch; less for a vowel with no onset).
    """

    entry: OtoEntry
    kind: UnitKind
    mora_index: int  # 0-based mora of the take (pauses not counted) where the unit's first phone lies
    score: float
    alignment_score: float
    stability: float
    clarity: float
    length_factor: float
    voiced: bool  # False for a devoiced vowel (pyopenjtalk's capitals, or no pitch found)

    @property
    def alias(self) -> str:
        return self.entry.alias

    @property
    def wav_name(self) -> str:
        return self.entry.wav_name


def units_from_sentences(
    takes: Sequence[SentenceTake], style: UnitStyle = "cv", *, head: bool = False
) -> list[UnitCandidate]:
    """Every instance of every unit in every take, scored; devoiced instances only where no voiced one is.

    cv: a CV unit per mora; cvvc: CV + VC + tails before rests; vcv: VCV units and heads. `head` adds
    `- CV` heads of the morae sung after a rest. Raises SentenceUnitError for phonemes that are not morae.
    """
    _check_takes(takes)
    candidates: list[UnitCandidate] = []
    for take in takes:
        units = _unit_requests(take, style, head)
        if not units:
            continue
        signal = analyse_take(take.samples, take.sample_rate_hz)
        entries = generate_oto(
            take.wav_name, take.samples, take.sample_rate_hz, take.alignment, units, signal
        )
        track = _VowelTrack.of(take.samples, take.sample_rate_hz, signal)
        onsetless = _onsetless_morae(take.phonemes)
        for unit, entry in zip(units, entries, strict=True):
            candidates.append(_candidate(unit, entry, take.alignment, track, onsetless))
    voiced_aliases = {candidate.alias for candidate in candidates if candidate.voiced}
    return [c for c in candidates if c.voiced or c.alias not in voiced_aliases]


def pick_best(candidates: Sequence[UnitCandidate]) -> list[UnitCandidate]:
    """One candidate per alias, the highest score, in the order aliases first appear.

    Ties go to the first take name in sort order, then the earlier instance, so a rerun picks the same.
    """
    best: dict[str, UnitCandidate] = {}
    for candidate in candidates:
        held = best.get(candidate.alias)
        if held is None or _rank(candidate) < _rank(held):
            best[candidate.alias] = candidate
    return list(best.values())


def write_sentence_units(
    takes: Sequence[SentenceTake],
    chosen: Sequence[UnitCandidate],
    out_folder: Path,
    on_progress: ProgressCallback = ignore_progress,
) -> tuple[OtoEntry, ...]:
    """Cut each chosen instance into its own wav in `out_folder`; their oto entries in those files.

    Each file holds the unit from CONTEXT_MS before offset to CONTEXT_MS after the cutoff's end (as
    much of that as the take has). All files are written into a staging folder inside `out_folder`
    and moved in only when every one is whole, so a failed write leaves no file behind.
    """
    by_name = {take.wav_name: take for take in takes}
    _check_takes(takes)
    missing = sorted({c.wav_name for c in chosen if c.wav_name not in by_name})
    if missing:
        raise SentenceUnitError(
            f"units were chosen from {', '.join(missing)}, which are not among the takes given: "
            "pass the takes the candidates were made from."
        )
    names = _file_names(chosen)
    try:
        out_folder.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=STAGING_PREFIX, dir=out_folder))
    except OSError as e:
        raise SentenceUnitError(f"cannot create the folder {out_folder}: {e.strerror or e}.") from None
    entries: list[OtoEntry] = []
    try:
        for done, (candidate, name) in enumerate(zip(chosen, names, strict=True), start=1):
            samples, entry = _cut(by_name[candidate.wav_name], candidate.entry, name)
            write_wav_atomic(staging / name, samples, OUTPUT_RATE_HZ)
            entries.append(entry)
            on_progress(Progress("sentence units", done, len(chosen), name))
        for name in names:
            os.replace(staging / name, out_folder / name)
    except OSError as e:
        raise SentenceUnitError(
            f"cannot write unit files into {out_folder}: {e.strerror or e}. "
            "Check that the folder is writable and the disk has room, then try again."
        ) from None
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return tuple(entries)


# --- a bank from a folder of takes -------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SkippedTake:
    """A take left out of the bank, and why, in words that say what to do."""

    wav_name: str
    reason: str


@dataclass(frozen=True, slots=True)
class SentenceBank:
    """A bank cut from sentence takes: its oto entries (in the unit files), what it used, lacks, left out.

    `covered_morae` and `missing_morae` split the morae of ja-cv (COVERAGE_SET) by whether a CV unit was
    cut for them; `unstorable_aliases` lists units left out because the oto.ini's encoding cannot store them.
    """

    folder: Path
    oto_path: Path
    entries: tuple[OtoEntry, ...]
    chosen: tuple[UnitCandidate, ...]  # where each entry was cut from (same order), in its take's times
    takes_used: tuple[str, ...]
    skipped: tuple[SkippedTake, ...]
    ignored: tuple[str, ...]  # .wav files in the folder that are no prompt of the set
    covered_morae: tuple[str, ...]
    missing_morae: tuple[str, ...]
    low_confidence_count: int  # entries below LOW_CONFIDENCE
    unstorable_aliases: tuple[str, ...] = ()

    @property
    def morae_total(self) -> int:
        return len(self.covered_morae) + len(self.missing_morae)


def sentence_bank_from_folder(
    folder: Path,
    prompt_set: PromptSet,
    out_folder: Path,
    style: UnitStyle = "cv",
    *,
    head: bool = False,
    encoding: OtoEncoding = "cp932",
    aligner: PhonemeAligner | None = None,
    on_progress: ProgressCallback = ignore_progress,
) -> SentenceBank:
    """Cut the best unit instances out of the paragraph takes in `folder` into `out_folder`, with its oto.ini.

    A take is the wav named by a prompt's `wav_name`; other wavs are ignored (and listed), a take that
    cannot be read or aligned is skipped (with why). Progress stages: "align" per take, "cut" per unit.
    Raises SentenceUnitError, before anything is written, for a folder without a usable take.
    """
    codec = normalize_encoding(encoding)
    _check_paragraph_set(prompt_set)
    found, ignored = _prompt_takes(Path(folder), prompt_set)
    out_folder = Path(out_folder)
    if out_folder.resolve() == Path(folder).resolve():
        raise SentenceUnitError(
            f"{out_folder} holds the takes: write the bank's units to a folder of their own, e.g. "
            f"{Path(folder) / 'bank'}."
        )
    takes, skipped = _aligned_takes(found, prompt_set.language, aligner or DtwAligner(), on_progress)
    if not takes:
        reasons = " ".join(skip.reason for skip in skipped)
        raise SentenceUnitError(f"No take in {folder} can be used, so no bank was written. {reasons}")
    chosen = pick_best(units_from_sentences(takes, style, head=head))
    unstorable = [c.alias for c in chosen if not _storable(_utau_alias(c.alias), codec)]
    chosen = [c for c in chosen if c.alias not in unstorable]

    def cut_progress(progress: Progress) -> None:
        on_progress(Progress(CUT_STAGE, progress.done, progress.total, progress.item))

    cut = write_sentence_units(takes, chosen, out_folder, on_progress=cut_progress)
    entries = tuple(replace(entry, alias=_utau_alias(entry.alias)) for entry in cut)
    oto_path = out_folder / OTO_FILE_NAME
    write_oto_ini(oto_path, entries, codec)
    covered, missing = _coverage({c.alias for c in chosen if c.kind == "cv"})
    return SentenceBank(
        folder=out_folder,
        oto_path=oto_path,
        entries=entries,
        chosen=tuple(chosen),
        takes_used=tuple(take.wav_name for take in takes),
        skipped=tuple(skipped),
        ignored=tuple(ignored),
        covered_morae=covered,
        missing_morae=missing,
        low_confidence_count=sum(entry.confidence < LOW_CONFIDENCE for entry in entries),
        unstorable_aliases=tuple(unstorable),
    )


def _check_paragraph_set(prompt_set: PromptSet) -> None:
    """Only Japanese paragraph sets give UTAU units: English needs an ARPAsing reclist, reclists `oto`."""
    if prompt_set.language is not Language.ja:
        raise SentenceUnitError(
            f"{prompt_set.name} is not a Japanese prompt set, and UTAU units are cut from Japanese "
            "sentences only. For an English UTAU bank record an ARPAsing reclist (en-arpasing) and make "
            "its oto.ini with `voicestudio oto`."
        )
    if prompt_set.kind is not PromptSetKind.paragraph:
        raise SentenceUnitError(
            f"{prompt_set.name} is a {prompt_set.kind} reclist, not a paragraph set: make its oto.ini with "
            "`voicestudio oto`, or pass a paragraph set such as ja-paragraph."
        )


def _prompt_takes(folder: Path, prompt_set: PromptSet) -> tuple[list[tuple[Path, Prompt]], list[str]]:
    """The folder's wavs named by a prompt (in the set's order, name case ignored) and the other wavs."""
    if not folder.is_dir():
        what = "is a file, not a folder" if folder.exists() else "does not exist"
        raise SentenceUnitError(f"{folder} {what}. Point to the folder that holds your recorded sentences.")
    try:
        wavs = sorted(
            path
            for path in folder.iterdir()
            if path.suffix.lower() == WAV_SUFFIX and not path.name.startswith(".") and path.is_file()
        )
    except OSError as e:
        raise SentenceUnitError(
            f"{folder} cannot be read ({e.strerror or e}). Allow the studio to read it, then try again."
        ) from None
    by_name = {path.name.casefold(): path for path in wavs}
    found = [
        (by_name[prompt.wav_name.casefold()], prompt)
        for prompt in prompt_set.prompts
        if prompt.wav_name.casefold() in by_name
    ]
    taken = {path for path, _ in found}
    ignored = [path.name for path in wavs if path not in taken]
    if not found:
        names = [prompt.wav_name for prompt in prompt_set.prompts]
        shown = ", ".join(names[:EXPECTED_NAMES_SHOWN]) + (", …" if len(names) > EXPECTED_NAMES_SHOWN else "")
        others = (
            f" (its .wav files have other names: {', '.join(ignored[:EXPECTED_NAMES_SHOWN])})"
            if ignored
            else ""
        )
        raise SentenceUnitError(
            f"{folder} holds no take of {prompt_set.name}{others}: expected files named {shown} "
            f"({len(names)} in all). Record the prompts (`voicestudio prompts show {prompt_set.name}`) "
            "or point to the folder that holds them."
        )
    return found, ignored


def _aligned_takes(
    found: Sequence[tuple[Path, Prompt]],
    language: Language,
    aligner: PhonemeAligner,
    on_progress: ProgressCallback,
) -> tuple[list[SentenceTake], list[SkippedTake]]:
    """Each take loaded and aligned by its prompt's phonemes; one that cannot be is skipped with why."""
    takes: list[SentenceTake] = []
    skipped: list[SkippedTake] = []
    for done, (path, prompt) in enumerate(found, start=1):
        try:
            clip = load_take(path)
            alignment = aligner.align_phonemes(clip.samples, clip.sample_rate_hz, prompt.phonemes, language)
        except VoicestudioError as e:
            skipped.append(SkippedTake(path.name, e.message))
        else:
            takes.append(
                SentenceTake(path.name, clip.samples, clip.sample_rate_hz, prompt.phonemes, alignment)
            )
        on_progress(Progress(ALIGN_STAGE, done, len(found), path.name))
    return takes, skipped


def _utau_alias(alias: str) -> str:
    """The alias as the bank writes it: ゔ as ヴ (see the module's docstring)."""
    return "".join(ALIAS_SPELLING.get(char, char) for char in alias)


def _storable(alias: str, codec: OtoEncoding) -> bool:
    try:
        alias.encode(codec)
    except UnicodeEncodeError:
        return False
    return True


def _coverage(cv_aliases: set[str]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The morae of COVERAGE_SET with a CV unit among `cv_aliases` and those without, in the set's order."""
    reclist = load_prompt_set(COVERAGE_SET)
    morae = dict.fromkeys(
        mora
        for prompt in reclist.prompts
        for mora in prompt_units(prompt, reclist.language)
        if mora not in PAUSE_MORAE
    )
    return tuple(m for m in morae if m in cv_aliases), tuple(m for m in morae if m not in cv_aliases)


# --- which units a sentence holds --------------------------------------------------------------


def _check_takes(takes: Sequence[SentenceTake]) -> None:
    """Every take has its own name, mono samples and a sample rate."""
    seen: set[str] = set()
    for take in takes:
        if take.wav_name in seen:
            raise SentenceUnitError(f"two takes are named {take.wav_name!r}: give every take its own name.")
        seen.add(take.wav_name)
        if np.ndim(take.samples) != 1 or take.sample_rate_hz <= 0:
            raise SentenceUnitError(
                f"{take.wav_name}: expected mono samples and a positive sample rate, got shape "
                f"{np.shape(take.samples)} at {take.sample_rate_hz} Hz; load takes with load_take."
            )


def _phrases(phonemes: Sequence[str]) -> list[list[str]]:
    """The phonemes between rests."""
    phrases: list[list[str]] = [[]]
    for phoneme in phonemes:
        if is_pause(phoneme):
            phrases.append([])
        else:
            phrases[-1].append(phoneme)
    return [phrase for phrase in phrases if phrase]


def _sentence_kana(take: SentenceTake) -> str:
    """The take's morae as hiragana, phrases joined by 、 (so units see the rests)."""
    try:
        return "、".join("".join(phonemes_to_morae(phrase)) for phrase in _phrases(take.phonemes))
    except KanaError as e:
        raise SentenceUnitError(
            f"{take.wav_name}: its phonemes are not Japanese morae ({e}) Give the prompt's pyopenjtalk "
            "phonemes, with pau at rests."
        ) from None


def _unit_requests(take: SentenceTake, style: UnitStyle, head: bool) -> list[UnitRequest]:
    """The take's units in spoken order; heads only for morae after a rest (not after っ)."""
    kana = _sentence_kana(take)
    if not kana:
        return []
    cvs = morae_to_units(kana, "cv")
    after_rest = _morae_after_rest(take.phonemes)
    heads = [
        UnitRequest(HEAD_PREFIX + cv.alias, "head", cv.phones, cv.mora_index)
        for cv in cvs
        if cv.mora_index in after_rest
    ]
    if style == "vcv":
        chosen = [unit for unit in morae_to_units(kana, "vcv") if unit.kind == "vcv"] + heads
    else:
        chosen = list(cvs) + (heads if head else [])
        if style == "cvvc":
            chosen += [unit for unit in morae_to_units(kana, "cvvc") if unit.kind in ("vc", "tail")]
    return sorted(chosen, key=lambda unit: unit.mora_index)


def _phones_before_morae(phonemes: Sequence[str]) -> list[str]:
    """Per mora (pauses not counted): the phoneme before it, a pause included ("" at the start)."""
    starts: list[str] = []
    previous = ""
    in_mora = False
    for phoneme in phonemes:
        if is_pause(phoneme):
            previous, in_mora = phoneme, False
            continue
        if not in_mora:
            starts.append(previous)
            in_mora = True
        if phoneme.lower() in VOWELS or phoneme in ("N", "cl"):
            in_mora = False
        previous = phoneme
    return starts


def _morae_after_rest(phonemes: Sequence[str]) -> set[int]:
    before = _phones_before_morae(phonemes)
    return {index for index, previous in enumerate(before) if previous == "" or is_pause(previous)}


def _onsetless_morae(phonemes: Sequence[str]) -> set[int]:
    """Morae that are a bare vowel right after another vowel: they start mid-sound, with no onset."""
    morae = phonemes_to_morae([p for p in phonemes if not is_pause(p)])
    return {
        index
        for index, previous in enumerate(_phones_before_morae(phonemes))
        if previous.lower() in VOWELS and index < len(morae) and morae[index] in _BARE_VOWELS
    }


# --- how good an instance is -------------------------------------------------------------------


@dataclass(frozen=True, slots=True, eq=False)
class _VowelTrack:
    """One take's samples with their per-frame level (dBFS) and f0 (Hz, 0 unvoiced), FRAME_MS apart."""

    samples: npt.NDArray[np.float32]
    sample_rate_hz: int
    levels_dbfs: npt.NDArray[np.float64]
    f0_hz: npt.NDArray[np.float64]

    @classmethod
    def of(cls, samples: FloatArray, sample_rate_hz: int, signal: TakeSignal) -> _VowelTrack:
        """The track of `samples` from their `analyse_take` (its frames are FRAME_MS apart)."""
        x = np.asarray(samples, dtype=np.float32)
        return cls(x, sample_rate_hz, signal.levels_dbfs, signal.f0_hz)

    def frames(
        self, start_ms: float, end_ms: float
    ) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
        """Level and f0 of the frames that lie inside start_ms..end_ms."""
        first = max(math.ceil(start_ms / FRAME_MS), 0)
        last = min(math.floor(end_ms / FRAME_MS), len(self.levels_dbfs), len(self.f0_hz))
        if last <= first:
            empty = np.zeros(0, dtype=np.float64)
            return empty, empty
        return self.levels_dbfs[first:last], self.f0_hz[first:last]

    def clarity(self, start_ms: float, end_ms: float) -> float:
        """How periodic the sound is, 0..1: its correlation with itself one period later (a clean vowel
        ≈ 1, noise ≈ 0), at the window's median pitch; 0 without pitch, 1.0 for a window too short to tell."""
        _, f0_hz = self.frames(start_ms, end_ms)
        voiced = f0_hz[f0_hz > 0]
        if len(f0_hz) < MIN_FRAMES:
            return 1.0
        if len(voiced) == 0:
            return 0.0
        rate = self.sample_rate_hz
        period = rate / float(np.median(voiced))
        lags = range(
            max(round(period * (1 - CLARITY_LAG_SLACK)), 1), round(period * (1 + CLARITY_LAG_SLACK)) + 1
        )
        size = round(CLARITY_FRAME_MS * rate / 1000.0)
        values: list[float] = []
        for at_ms in np.arange(
            max(start_ms, 0.0), max(end_ms - CLARITY_FRAME_MS, start_ms) + 1e-9, CLARITY_HOP_MS
        ):
            first = round(at_ms * rate / 1000.0)
            if first + size + lags[-1] > len(self.samples):
                break
            frame = self.samples[first : first + size].astype(np.float64)
            later = self.samples[first + lags[0] : first + lags[-1] + size].astype(np.float64)
            values.append(_best_correlation(frame, later))
        return float(np.mean(np.maximum(values, 0.0))) if values else 1.0


def _best_correlation(frame: npt.NDArray[np.float64], later: npt.NDArray[np.float64]) -> float:
    """The highest normalized correlation of `frame` with any stretch of its length in `later`."""
    stretches = np.lib.stride_tricks.sliding_window_view(later, len(frame))
    energy = np.einsum("ij,ij->i", stretches, stretches) * float(np.dot(frame, frame))
    products = stretches @ frame
    return float(np.max(np.where(energy > 0, products / np.sqrt(np.maximum(energy, 1e-300)), 0.0)))


def _vowel_window_ms(kind: UnitKind, entry: OtoEntry) -> tuple[float, float]:
    """The vowel a unit sustains, in the take: after its preutterance (CV, head, VCV), or the vowel it
    leaves from offset to its preutterance (VC, tail)."""
    start = entry.offset_ms
    note = start + entry.preutterance_ms
    if kind in ("vc", "tail"):
        return start, note
    return note, start - entry.cutoff_ms  # generate_oto writes negative cutoffs: length from offset


def _stability(levels: npt.NDArray[np.float64], f0_hz: npt.NDArray[np.float64]) -> tuple[float, float]:
    """Steadiness 0..1 of a vowel (1 for a flat level and pitch) and the share of it that has pitch."""
    if len(levels) < MIN_FRAMES:
        return 1.0, 1.0
    voiced = f0_hz > 0
    voiced_share = float(voiced.mean())
    level_change_db = float(np.mean(np.abs(np.diff(levels))))
    both = voiced[1:] & voiced[:-1]
    semitones = 12.0 * np.log2(np.where(voiced, f0_hz, 1.0))
    pitch_change = float(np.mean(np.abs(np.diff(semitones))[both])) if both.any() else 0.0
    instability_db = (
        level_change_db
        + PITCH_WEIGHT_DB_PER_SEMITONE * pitch_change
        + UNVOICED_INSTABILITY_DB * (1.0 - voiced_share)
    )
    return 1.0 / (1.0 + instability_db / STABILITY_SCALE_DB), voiced_share


def _candidate(
    unit: UnitRequest, entry: OtoEntry, alignment: Alignment, track: _VowelTrack, onsetless: set[int]
) -> UnitCandidate:
    start_ms, end_ms = _vowel_window_ms(unit.kind, entry)
    stability, voiced_share = _stability(*track.frames(start_ms, end_ms))
    clarity = track.clarity(start_ms, end_ms)
    length_factor = min(1.0, max(end_ms - start_ms, 0.0) / GOOD_VOWEL_MS)
    if unit.kind in ("cv", "head") and unit.mora_index in onsetless:
        length_factor *= ONSETLESS_FACTOR
    middle_ms = (start_ms + end_ms) / 2.0
    phone = next((s.phone for s in alignment.segments if s.start_ms <= middle_ms < s.end_ms), "")
    voiced = not is_devoiced(phone) and voiced_share >= VOICED_SHARE_MIN
    score = entry.confidence * stability * clarity * length_factor
    return UnitCandidate(
        entry=entry,
        kind=unit.kind,
        mora_index=unit.mora_index,
        score=round(score, 6),
        alignment_score=entry.confidence,
        stability=round(stability, 6),
        clarity=round(clarity, 6),
        length_factor=round(length_factor, 6),
        voiced=voiced,
    )


def _rank(candidate: UnitCandidate) -> tuple[float, str, int, float]:
    return (-candidate.score, candidate.wav_name, candidate.mora_index, candidate.entry.offset_ms)


# --- cutting and naming ------------------------------------------------------------------------


def _file_names(chosen: Sequence[UnitCandidate]) -> list[str]:
    """A Windows- and Shift-JIS-safe wav name per unit (see the module's docstring), each unique."""
    names: list[str] = []
    taken: set[str] = set()
    for candidate in chosen:
        stem = _file_stem(candidate)
        unique, number = stem, 1
        while unique.casefold() in taken:
            number += 1
            unique = f"{stem}{DUPLICATE_MARK}{number}"
        taken.add(unique.casefold())
        names.append(unique + ".wav")
    return names


def _file_stem(candidate: UnitCandidate) -> str:
    alias = candidate.alias
    if candidate.kind == "head":
        stem = HEAD_FILE_PREFIX + alias.removeprefix(HEAD_PREFIX).strip()
    elif candidate.kind == "tail":
        stem = alias.split(" ")[0] + TAIL_FILE_SUFFIX
    else:
        stem = alias.strip()
    stem = "".join("_" if char in WINDOWS_FORBIDDEN_CHARS else char for char in stem.replace(" ", "_"))
    stem = _shift_jis_safe(stem).rstrip(". ") or "unit"
    return stem + "_" if is_windows_device_name(stem) else stem


def _shift_jis_safe(stem: str) -> str:
    """`stem` as is if Shift-JIS holds it, else in katakana (ゔぁ → ヴァ), else with `_` for what is left."""
    for option in (stem, to_katakana(stem)):
        try:
            option.encode(FILE_ENCODING)
        except UnicodeEncodeError:
            continue
        return option
    return "".join(_encodable(char) for char in to_katakana(stem))


def _encodable(char: str) -> str:
    try:
        char.encode(FILE_ENCODING)
    except UnicodeEncodeError:
        return "_"
    return char


def _cut(take: SentenceTake, entry: OtoEntry, file_name: str) -> tuple[npt.NDArray[np.float32], OtoEntry]:
    """The unit's stretch of the take at OUTPUT_RATE_HZ and its entry measured in that piece."""
    rate = take.sample_rate_hz
    length_ms = (
        -entry.cutoff_ms if entry.cutoff_ms < 0 else take.duration_ms - entry.cutoff_ms - entry.offset_ms
    )
    length_ms = max(length_ms, entry.preutterance_ms, entry.consonant_ms)
    end_ms = entry.offset_ms + length_ms
    first = max(math.floor((entry.offset_ms - CONTEXT_MS) * rate / 1000.0), 0)
    last = min(math.ceil((end_ms + CONTEXT_MS) * rate / 1000.0), len(take.samples))
    piece = np.array(take.samples[first:last], dtype=np.float32)
    start_ms = 1000.0 * first / rate
    offset_ms = math.floor((entry.offset_ms - start_ms) * TICKS_PER_MS + 0.5) / TICKS_PER_MS
    _fade_edges(piece, rate, lead_ms=offset_ms, tail_ms=1000.0 * len(piece) / rate - offset_ms - length_ms)
    out = resample(piece, rate, OUTPUT_RATE_HZ)
    needed = math.ceil((offset_ms + length_ms + 1.0) * OUTPUT_RATE_HZ / 1000.0)
    if len(out) < needed:  # the take ends at the cutoff: a millisecond of silence keeps it inside the file
        out = np.concatenate([out, np.zeros(needed - len(out), dtype=np.float32)])
    moved = OtoEntry(
        wav_name=file_name,
        alias=entry.alias,
        offset_ms=offset_ms,
        consonant_ms=entry.consonant_ms,
        cutoff_ms=-length_ms,
        preutterance_ms=entry.preutterance_ms,
        overlap_ms=entry.overlap_ms,
        confidence=entry.confidence,
        note=entry.note,
    )
    return out, moved


def _fade_edges(piece: npt.NDArray[np.float32], rate_hz: int, lead_ms: float, tail_ms: float) -> None:
    """Fade in and out over at most EDGE_FADE_MS of the context, never into the unit itself."""
    fade_in = min(round(min(EDGE_FADE_MS, max(lead_ms, 0.0)) * rate_hz / 1000.0), len(piece))
    fade_out = min(round(min(EDGE_FADE_MS, max(tail_ms, 0.0)) * rate_hz / 1000.0), len(piece))
    if fade_in > 0:
        piece[:fade_in] *= np.linspace(0.0, 1.0, fade_in, endpoint=False, dtype=np.float32)
    if fade_out > 0:
        piece[len(piece) - fade_out :] *= np.linspace(1.0, 0.0, fade_out, dtype=np.float32)
