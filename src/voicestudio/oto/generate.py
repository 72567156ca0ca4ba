"""oto.ini entries from a recording and its phone alignment, in UTAU's coordinate system.

For each unit the alignment says where its phones are; the recording's loudness, voicing and
pitch refine where the sound starts, where the vowel is steady and where it fades. Every entry
keeps UTAU's order: 0 ≤ offset, overlap < preutterance ≤ consonant (the fixed region), the
cutoff's end after the fixed region and inside the file. An entry the studio is unsure of has a
low `confidence` and a `note` saying why; a unit that cannot be found gives an entry with
confidence 0 instead of an error, so one bad take never stops a voicebank.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Final

import numpy as np
import numpy.typing as npt

from voicestudio.audio.analysis import f0_track_hz, frame_rms_dbfs, noise_floor_dbfs
from voicestudio.domain.alignment import Alignment, PhoneSegment
from voicestudio.domain.oto import OtoEntry
from voicestudio.oto.phones import SOKUON, is_devoiced, is_pause, is_plosive, same_phone, vowel_core
from voicestudio.oto.units import UnitKind, UnitRequest

# --- analysis ---
FRAME_MS: Final = 5.0  # level and f0 frames
ONSET_MARGIN_DB: Final = 12.0  # sound starts where the level rises this far above the noise floor...
ONSET_FLOOR_DBFS: Final = -60.0  # ... and above this absolute level
ONSET_SEARCH_MS: Final = 30.0  # how far before the aligned onset a rise in level may move the offset
LOCAL_FLOOR_WINDOW_MS: Final = 200.0  # the noise floor is measured in the rest before the onset...
LOCAL_FLOOR_PERCENTILE: Final = 10.0  # ... as this percentile of its frame levels
SILENT_MARGIN_DB: Final = 12.0  # a file whose loudest frame is not this far above its floor is silent
STEADY_FROM_SHARE: Final = 0.3  # the fixed region ends in this part of the vowel (share of its length)...
STEADY_TO_SHARE: Final = 0.6  # ... where level and pitch change least
STEADY_DEFAULT_SHARE: Final = 0.45  # for vowels too short to measure
STEADY_MIN_FRAMES: Final = 3
PITCH_WEIGHT_DB_PER_SEMITONE: Final = 2.0  # a semitone of pitch change counts as 2 dB of level change
UNVOICED_INSTABILITY: Final = 6.0  # a frame without pitch is this unsteady (dB)
FADE_DROP_DB: Final = (
    10.0  # before a rest, the usable vowel ends where the level falls this far below its peak
)
MIN_STRETCH_MS: Final = 20.0  # the stretchable region (fixed end → cutoff) is at least this long when it fits
# --- CV and head units ---
CONSONANT_LEAD_MS: Final = 20.0  # offset before the consonant after a rest
VOWEL_LEAD_MS: Final = 15.0  # offset before a bare vowel (or ん) after a rest: its preutterance
CONTINUOUS_LEAD_MS: Final = 10.0  # offset before the consonant inside a phrase
PLOSIVE_OVERLAP_MS: Final = 15.0  # plosives and affricates crossfade this long after offset...
PLOSIVE_OVERLAP_SHARE: Final = 0.5  # ... or for this share of the preutterance if that is shorter
CONTINUANT_OVERLAP_SHARE: Final = 0.4  # fricatives, nasals, liquids, glides: into this share of the consonant
VOWEL_OVERLAP_MS: Final = 10.0  # bare vowels and ん
HEAD_OVERLAP_MS: Final = 5.0  # `- ` heads follow a rest: almost nothing to crossfade with
CUTOFF_MARGIN_MS: Final = 10.0  # inside a phrase the vowel ends this long before the next phone
# --- VCV units ---
VCV_OFFSET_SHARE: Final = 0.4  # offset this far into the vowel before the mora...
VCV_LEAD_MAX_MS: Final = 100.0  # ... but no more than this before the consonant
VCV_LEAD_MIN_MS: Final = 10.0
VCV_OVERLAP_SHARE: Final = 0.5  # share of (consonant onset − offset) crossfaded on the shared vowel
CONTINUANT_VCV_OVERLAP_SHARE: Final = 1.0 / 3.0  # continuants crossfade into their first third
# --- VC units ---
VC_OFFSET_SHARE: Final = 0.5  # offset in the middle of the vowel...
VC_LEAD_MAX_MS: Final = 120.0  # ... but no more than this before the consonant
VC_LEAD_MIN_MS: Final = 10.0
VC_OVERLAP_SHARE: Final = 0.3  # share of the preutterance
VC_FIXED_SHARE: Final = 0.5  # the fixed region covers this share of the consonant
# --- tails (`a R`) ---
TAIL_OFFSET_SHARE: Final = 0.5
TAIL_LEAD_MAX_MS: Final = 120.0
TAIL_LEAD_MIN_MS: Final = 10.0
TAIL_OVERLAP_SHARE: Final = 0.3
TAIL_FIXED_MS: Final = 30.0  # the release after the vowel that stays fixed
TAIL_RELEASE_MS: Final = 80.0  # how much of the rest after the vowel the tail keeps
# --- confidence ---
LOW_CONFIDENCE: Final = 0.5  # entries below this are counted for review
LOW_SCORE: Final = 0.5  # alignment scores below this are noted
SHORT_VOWEL_MS: Final = 40.0
SHORT_VOWEL_FACTOR: Final = 0.6
DEVOICED_FACTOR: Final = 0.4
UNVOICED_VOWEL_FACTOR: Final = 0.6
VOICED_SHARE_MIN: Final = 0.25  # a vowel with pitch in fewer of its frames than this is noted
PAUSE_INSIDE_FACTOR: Final = 0.5
PHONE_MISMATCH_FACTOR: Final = 0.4  # other consonants than expected: always worth a look
MOVED_FACTOR: Final = 0.8
ADJUSTED_FACTOR: Final = 0.8
ADJUST_TOLERANCE_MS: Final = 5.0  # order repairs larger than this are noted
NOT_FOUND_PREUTTERANCE_MS: Final = 50.0  # a placeholder for units that are not in the alignment
CONTEXT_MORAE: Final = 2  # morae each side shown in the note of a unit that is not found
# --- resolution ---
TICKS_PER_MS: Final = 10  # entries are written to 0.1 ms
MIN_GAP_TICKS: Final = 10  # 1 ms between positions that must be in order

FloatArray = npt.NDArray[np.floating]


@dataclass(frozen=True, slots=True)
class OtoResult:
    """Entries for a voicebank and how many of them want a human look (confidence < LOW_CONFIDENCE)."""

    entries: tuple[OtoEntry, ...]
    low_confidence_count: int

    @classmethod
    def from_entries(cls, entries: Iterable[OtoEntry]) -> OtoResult:
        kept = tuple(entries)
        return cls(kept, sum(entry.confidence < LOW_CONFIDENCE for entry in kept))


def generate_oto(
    wav_name: str,
    samples: FloatArray,
    sample_rate_hz: int,
    alignment: Alignment,
    units: Sequence[UnitRequest],
    signal: TakeSignal | None = None,
) -> list[OtoEntry]:
    """One oto.ini entry per unit, in the order of `units`, placed on `alignment` and refined on the audio.

    `alignment` uses pyopenjtalk phone names with `sil`/`pau` for rests, as the aligners write it;
    `signal` is `analyse_take` of the same samples, for a caller that needs it too (computed if absent).
    Only a recording under 5 ms, where no unit fits, gives all-zero entries (with confidence 0).
    """
    signal = analyse_take(samples, sample_rate_hz) if signal is None else signal
    morae = _AlignedMorae.of(alignment)
    return [_entry_for(wav_name, unit, alignment, morae, signal) for unit in units]


# --- the recording ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, eq=False)
class TakeSignal:
    """Per-frame level (dBFS), f0 (Hz, 0 unvoiced) and instability of one recording, and its length."""

    levels_dbfs: npt.NDArray[np.float64]
    f0_hz: npt.NDArray[np.float64]
    instability: npt.NDArray[np.float64]  # see `_instability`
    floor_dbfs: float
    duration_ms: float

    @property
    def silent(self) -> bool:
        """No frame rises SILENT_MARGIN_DB above the noise floor and above ONSET_FLOOR_DBFS."""
        if len(self.levels_dbfs) == 0:
            return True
        peak_dbfs = float(self.levels_dbfs.max())
        return peak_dbfs < max(self.floor_dbfs + SILENT_MARGIN_DB, ONSET_FLOOR_DBFS)

    def frame(self, time_ms: float) -> int:
        """The level frame that holds `time_ms`, clipped to the file."""
        last = max(len(self.levels_dbfs) - 1, 0)
        return min(max(int(time_ms // FRAME_MS), 0), last)

    def local_floor_dbfs(self, before_ms: float) -> float:
        """The background level just before `before_ms` (never below the file's own floor)."""
        first = self.frame(before_ms - LOCAL_FLOOR_WINDOW_MS)
        levels = self.levels_dbfs[first : self.frame(before_ms)]
        if len(levels) == 0:
            return self.floor_dbfs
        return max(self.floor_dbfs, float(np.percentile(levels, LOCAL_FLOOR_PERCENTILE)))


def analyse_take(samples: FloatArray, sample_rate_hz: int) -> TakeSignal:
    """Level, f0, their instability and the noise floor of a recording, FRAME_MS apart (DIO + StoneMask)."""
    x = np.asarray(samples, dtype=np.float32)
    duration_ms = 1000.0 * len(x) / sample_rate_hz
    if len(x) == 0:
        empty = np.zeros(0, dtype=np.float64)
        return TakeSignal(empty, empty, empty, 0.0, 0.0)
    levels = frame_rms_dbfs(x, sample_rate_hz, FRAME_MS)
    f0 = f0_track_hz(x, sample_rate_hz, frame_period_ms=FRAME_MS)
    floor_dbfs = noise_floor_dbfs(x, sample_rate_hz, frame_ms=FRAME_MS)
    return TakeSignal(levels, f0, _instability(levels, f0), floor_dbfs, duration_ms)


def _sound_start_ms(onset_ms: float, signal: TakeSignal) -> float:
    """Where the sound running into `onset_ms` starts: the level stays above the local noise floor
    (or is voiced) back to there, at most ONSET_SEARCH_MS earlier (setParam-style)."""
    floor_dbfs = signal.local_floor_dbfs(onset_ms)
    threshold_dbfs = max(floor_dbfs + ONSET_MARGIN_DB, ONSET_FLOOR_DBFS)

    def sounding(frame: int) -> bool:
        level = float(signal.levels_dbfs[frame])
        voiced = frame < len(signal.f0_hz) and bool(signal.f0_hz[frame] > 0)
        return level > threshold_dbfs or (voiced and level > floor_dbfs + ONSET_MARGIN_DB)

    frame = signal.frame(onset_ms)
    earliest = signal.frame(max(onset_ms - ONSET_SEARCH_MS, 0.0))
    start = onset_ms
    while frame - 1 >= earliest and sounding(frame - 1):
        frame -= 1
        start = frame * FRAME_MS
    return min(start, onset_ms)


def _instability(levels: npt.NDArray[np.float64], f0_hz: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """Per level frame: how much level (dB) and pitch (weighted semitones) change around it, smoothed."""
    count = len(levels)
    if count < 3:
        return np.zeros(count, dtype=np.float64)
    level_change = np.zeros(count)
    level_change[1:-1] = np.abs(levels[2:] - levels[:-2]) / 2.0
    f0 = np.zeros(count)
    f0[: min(count, len(f0_hz))] = f0_hz[:count]
    pitch_change = np.full(count, UNVOICED_INSTABILITY / PITCH_WEIGHT_DB_PER_SEMITONE)
    voiced = (f0[2:] > 0) & (f0[:-2] > 0) & (f0[1:-1] > 0)
    ratio = np.where(voiced, f0[2:], 1.0) / np.where(voiced, f0[:-2], 1.0)
    pitch_change[1:-1] = np.where(
        voiced, np.abs(12.0 * np.log2(ratio)) / 2.0, UNVOICED_INSTABILITY / PITCH_WEIGHT_DB_PER_SEMITONE
    )
    raw = level_change + PITCH_WEIGHT_DB_PER_SEMITONE * pitch_change
    return np.asarray(np.convolve(raw, np.ones(3) / 3.0, mode="same"), dtype=np.float64)


def _steady_point_ms(vowel: PhoneSegment, signal: TakeSignal) -> float:
    """Where the vowel is steadiest in its STEADY_FROM..TO_SHARE part: the fixed region ends there."""
    low = vowel.start_ms + STEADY_FROM_SHARE * vowel.duration_ms
    high = vowel.start_ms + STEADY_TO_SHARE * vowel.duration_ms
    first = math.ceil(low / FRAME_MS - 0.5)  # frames whose centre lies in [low, high]
    last = math.floor(high / FRAME_MS - 0.5)
    last = min(last, len(signal.levels_dbfs) - 1)
    if last - first + 1 < STEADY_MIN_FRAMES:
        return vowel.start_ms + STEADY_DEFAULT_SHARE * vowel.duration_ms
    scores = signal.instability[first : last + 1]
    best = first + int(np.argmin(scores))
    return (best + 0.5) * FRAME_MS


def _voiced_share(vowel: PhoneSegment, signal: TakeSignal) -> float:
    """Share of the vowel's f0 frames that have pitch (1.0 when it is too short to tell)."""
    frames = signal.f0_hz[math.ceil(vowel.start_ms / FRAME_MS) : math.floor(vowel.end_ms / FRAME_MS) + 1]
    return 1.0 if len(frames) == 0 else float(np.mean(frames > 0))


def _vowel_end_ms(
    vowel: PhoneSegment, after: PhoneSegment | None, steady_ms: float, signal: TakeSignal
) -> float:
    """The end of the usable vowel: where it fades before a rest, or just before the next phone."""
    if after is None or is_pause(after.phone):
        first, last = signal.frame(vowel.start_ms), signal.frame(max(vowel.end_ms - 1e-6, vowel.start_ms))
        levels = signal.levels_dbfs[first : last + 1]
        if len(levels) == 0:
            end = vowel.end_ms
        else:
            loud = np.flatnonzero(levels >= float(levels.max()) - FADE_DROP_DB)
            end = min(vowel.end_ms, (first + int(loud[-1]) + 1) * FRAME_MS)
    else:
        end = vowel.end_ms - CUTOFF_MARGIN_MS
    return max(end, min(vowel.end_ms, steady_ms + MIN_STRETCH_MS))


# --- where the units are in the alignment -------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _AlignedMorae:
    """The alignment's segments grouped into morae (consonants + vowel, ん or っ), rests left out."""

    morae: tuple[tuple[int, ...], ...]
    mora_of: dict[int, tuple[int, int]]  # segment index → (mora index, position in the mora)
    spoken: tuple[int, ...]  # indices of the segments that are not rests

    @classmethod
    def of(cls, alignment: Alignment) -> _AlignedMorae:
        morae: list[tuple[int, ...]] = []
        pending: list[int] = []
        spoken: list[int] = []
        for index, segment in enumerate(alignment.segments):
            if is_pause(segment.phone):
                if pending:  # a consonant cut off by a rest still counts as a mora
                    morae.append(tuple(pending))
                    pending = []
                continue
            spoken.append(index)
            pending.append(index)
            if vowel_core(segment.phone):
                morae.append(tuple(pending))
                pending = []
        if pending:
            morae.append(tuple(pending))
        mora_of = {seg: (m, p) for m, mora in enumerate(morae) for p, seg in enumerate(mora)}
        return cls(tuple(morae), mora_of, tuple(spoken))


@dataclass(frozen=True, slots=True)
class _Match:
    """The alignment segments a unit was placed on, with what lowers the trust in them."""

    segments: tuple[int, ...]
    factor: float = 1.0
    notes: tuple[str, ...] = ()


def _slots(kind: UnitKind, morae: _AlignedMorae, index: int) -> tuple[int, ...] | None:
    """The segments a unit of `kind` whose first phone lies in mora `index` takes, by the mora structure."""
    if not 0 <= index < len(morae.morae):
        return None
    mora = morae.morae[index]
    following = morae.morae[index + 1] if index + 1 < len(morae.morae) else None
    if kind in ("cv", "head"):
        return mora[-2:] if len(mora) >= 2 else mora
    if kind == "tail":
        return mora[-1:]
    if following is None:
        return None
    if kind == "vcv":
        return (mora[-1], *following[-2:])
    return (mora[-1], following[0])  # vc


def _fits(kind: UnitKind, segments: Sequence[int], morae: _AlignedMorae) -> bool:
    """Whether a phone match sits where its kind must: CVs start a mora, VCV and VC cross into the next."""
    if kind in ("cv", "head"):
        return morae.mora_of[segments[0]][1] == 0
    if kind in ("vcv", "vc"):
        return len(segments) >= 2 and morae.mora_of[segments[1]][1] == 0
    return True


def _phones_equal(phones: Sequence[str], segments: Sequence[int], alignment: Alignment) -> bool:
    return len(phones) == len(segments) and all(
        same_phone(phone, alignment.segments[seg].phone) for phone, seg in zip(phones, segments, strict=True)
    )


def _locate(unit: UnitRequest, alignment: Alignment, morae: _AlignedMorae) -> _Match | None:
    """The unit's segments: at its mora; else the same phones at the nearest mora; else at its mora
    with other consonants (an aligner that heard を as o); None when none of these fits."""
    if not unit.phones:
        return None
    slots = _slots(unit.kind, morae, unit.mora_index)
    if slots is not None and _phones_equal(unit.phones, slots, alignment):
        return _Match(slots)
    size = len(unit.phones)
    spoken = morae.spoken
    candidates = [
        spoken[start : start + size]
        for start in range(len(spoken) - size + 1)
        if _phones_equal(unit.phones, spoken[start : start + size], alignment)
        and _fits(unit.kind, spoken[start : start + size], morae)
    ]
    if candidates:
        best = min(candidates, key=lambda segs: abs(morae.mora_of[segs[0]][0] - unit.mora_index))
        found_at = morae.mora_of[best[0]][0]
        note = f"found at mora {found_at + 1}, not {unit.mora_index + 1}: check the alignment"
        return _Match(best, MOVED_FACTOR, (note,))
    if slots is not None and _vowels_agree(unit.phones, slots, alignment):
        heard = " ".join(alignment.segments[seg].phone for seg in slots)
        note = f"the alignment has '{heard}' where '{' '.join(unit.phones)}' was expected"
        return _Match(slots, PHONE_MISMATCH_FACTOR, (note,))
    return None


def _vowels_agree(phones: Sequence[str], segments: Sequence[int], alignment: Alignment) -> bool:
    ours = [vowel_core(phone) for phone in phones if vowel_core(phone)]
    theirs = [vowel_core(alignment.segments[seg].phone) for seg in segments]
    return bool(ours) and ours == [v for v in theirs if v] and len(segments) >= len(ours)


# --- placing one unit ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Points:
    """A unit's positions in ms from the start of the file (UTAU measures them from offset)."""

    offset: float
    overlap: float
    preutterance: float
    fixed_end: float
    cutoff_end: float


def _entry_for(
    wav_name: str, unit: UnitRequest, alignment: Alignment, morae: _AlignedMorae, signal: TakeSignal
) -> OtoEntry:
    match = _locate(unit, alignment, morae)
    if match is None:
        note = (
            f"'{' '.join(unit.phones)}' is not in the alignment near mora {unit.mora_index + 1} "
            f"({_context(unit.mora_index, alignment, morae)}): set this entry by hand or drop it"
        )
        points = _Points(0.0, 0.0, NOT_FOUND_PREUTTERANCE_MS, NOT_FOUND_PREUTTERANCE_MS, signal.duration_ms)
        return _finish(wav_name, unit.alias, points, signal.duration_ms, 0.0, [note])
    segs = [alignment.segments[i] for i in match.segments]
    first, last = match.segments[0], match.segments[-1]
    before = alignment.segments[first - 1] if first > 0 else None
    after = alignment.segments[last + 1] if last + 1 < len(alignment.segments) else None
    points = _place(unit.kind, segs, before, after, signal)
    confidence, notes = _trust(unit.kind, segs, match, signal)
    pause_inside = any(is_pause(s.phone) for s in alignment.segments[first : last + 1])
    if pause_inside:
        confidence *= PAUSE_INSIDE_FACTOR
        notes.append("a rest interrupts the unit")
    return _finish(wav_name, unit.alias, points, signal.duration_ms, confidence, notes)


def _context(index: int, alignment: Alignment, morae: _AlignedMorae) -> str:
    """The aligned phones of the morae around `index`, to show where a unit was looked for."""
    if not morae.morae:
        return "no phones"
    low = max(0, min(index, len(morae.morae)) - CONTEXT_MORAE)
    near = morae.morae[low : index + CONTEXT_MORAE + 1]
    return " ".join(alignment.segments[seg].phone for mora in near for seg in mora)


def _place(
    kind: UnitKind,
    segs: Sequence[PhoneSegment],
    before: PhoneSegment | None,
    after: PhoneSegment | None,
    signal: TakeSignal,
) -> _Points:
    if kind == "vc":
        return _place_vc(segs[0], segs[-1])
    if kind == "tail":
        return _place_tail(segs[0], after, signal)
    vowel = segs[-1]
    steady = _steady_point_ms(vowel, signal)
    fixed_end = max(steady, vowel.start_ms)
    cutoff_end = _vowel_end_ms(vowel, after, steady, signal)
    if kind == "vcv" and len(segs) >= 2:
        consonant = segs[1] if len(segs) >= 3 else None
        return _place_vcv(segs[0], consonant, vowel, fixed_end, cutoff_end)
    consonant = segs[-2] if len(segs) >= 2 else None
    return _place_cv(kind, consonant, vowel, before, fixed_end, cutoff_end, signal)


def _place_cv(
    kind: UnitKind,
    consonant: PhoneSegment | None,
    vowel: PhoneSegment,
    before: PhoneSegment | None,
    fixed_end: float,
    cutoff_end: float,
    signal: TakeSignal,
) -> _Points:
    """CV and head units: offset a little before the onset, preutterance at the consonant→vowel boundary."""
    onset = consonant.start_ms if consonant is not None else vowel.start_ms
    after_rest = before is None or is_pause(before.phone) or before.phone == SOKUON
    if after_rest:
        sound_start = _sound_start_ms(onset, signal)
        lead = CONSONANT_LEAD_MS if consonant is not None else VOWEL_LEAD_MS
        offset = max(sound_start - lead, 0.0)
    else:
        sound_start = onset
        offset = max(onset - CONTINUOUS_LEAD_MS, 0.0)
    # A bare vowel's note starts where its sound does; a consonant's where the vowel takes over.
    preutterance = vowel.start_ms if consonant is not None else sound_start
    span = preutterance - offset
    if kind == "head":
        overlap = offset + min(HEAD_OVERLAP_MS, span / 2.0)
    elif consonant is None:
        overlap = offset + min(VOWEL_OVERLAP_MS, span / 2.0)
    elif is_plosive(consonant.phone):
        overlap = offset + min(PLOSIVE_OVERLAP_MS, PLOSIVE_OVERLAP_SHARE * span)
    else:
        overlap = onset + CONTINUANT_OVERLAP_SHARE * consonant.duration_ms
    return _Points(offset, overlap, preutterance, fixed_end, cutoff_end)


def _place_vcv(
    previous: PhoneSegment,
    consonant: PhoneSegment | None,
    vowel: PhoneSegment,
    fixed_end: float,
    cutoff_end: float,
) -> _Points:
    """VCV units: offset in the vowel before, overlap on it, preutterance at the consonant→vowel boundary."""
    onset = consonant.start_ms if consonant is not None else vowel.start_ms
    offset = max(previous.start_ms + VCV_OFFSET_SHARE * previous.duration_ms, onset - VCV_LEAD_MAX_MS)
    offset = max(min(offset, onset - VCV_LEAD_MIN_MS), 0.0)
    if consonant is None or is_plosive(consonant.phone):
        overlap = offset + VCV_OVERLAP_SHARE * (onset - offset)
    else:
        overlap = onset + CONTINUANT_VCV_OVERLAP_SHARE * consonant.duration_ms
    return _Points(offset, overlap, vowel.start_ms, fixed_end, cutoff_end)


def _place_vc(vowel: PhoneSegment, consonant: PhoneSegment) -> _Points:
    """VC units (`a k`): offset in the vowel, preutterance at the vowel→consonant boundary, the
    fixed region into the consonant, cutoff where the consonant ends."""
    boundary = consonant.start_ms
    offset = max(vowel.start_ms + VC_OFFSET_SHARE * vowel.duration_ms, boundary - VC_LEAD_MAX_MS)
    offset = max(min(offset, boundary - VC_LEAD_MIN_MS), 0.0)
    overlap = offset + VC_OVERLAP_SHARE * (boundary - offset)
    fixed_end = boundary + VC_FIXED_SHARE * consonant.duration_ms
    return _Points(offset, overlap, boundary, fixed_end, consonant.end_ms)


def _place_tail(vowel: PhoneSegment, after: PhoneSegment | None, signal: TakeSignal) -> _Points:
    """Tails (`a R`): offset in the vowel, preutterance at its release, then some of the rest after it."""
    release = vowel.end_ms
    offset = max(vowel.start_ms + TAIL_OFFSET_SHARE * vowel.duration_ms, release - TAIL_LEAD_MAX_MS)
    offset = max(min(offset, release - TAIL_LEAD_MIN_MS), 0.0)
    overlap = offset + TAIL_OVERLAP_SHARE * (release - offset)
    if after is None:
        limit = signal.duration_ms
    elif is_pause(after.phone):
        limit = after.end_ms
    else:
        limit = after.start_ms
    fixed_end = min(release + TAIL_FIXED_MS, limit)
    cutoff_end = min(release + TAIL_RELEASE_MS, limit)
    return _Points(offset, overlap, release, fixed_end, cutoff_end)


def _trust(
    kind: UnitKind, segs: Sequence[PhoneSegment], match: _Match, signal: TakeSignal
) -> tuple[float, list[str]]:
    """Confidence 0..1 and the reasons it is lower than the alignment's own score."""
    notes = list(match.notes)
    score = min(s.score for s in segs)
    confidence = max(0.0, min(1.0, score)) * match.factor
    if score < LOW_SCORE:
        notes.append(f"low alignment score ({score:.2f})")
    vowel = segs[0] if kind in ("vc", "tail") else segs[-1]
    if vowel.duration_ms < SHORT_VOWEL_MS:
        confidence *= SHORT_VOWEL_FACTOR
        notes.append(f"short vowel ({vowel.duration_ms:.0f} ms)")
    if is_devoiced(vowel.phone):
        confidence *= DEVOICED_FACTOR
        notes.append(f"devoiced vowel '{vowel.phone}': it has no pitch to sing")
    elif _voiced_share(vowel, signal) < VOICED_SHARE_MIN and vowel.phone != SOKUON:
        confidence *= UNVOICED_VOWEL_FACTOR
        notes.append(f"no pitch found in '{vowel.phone}'")
    if signal.silent:
        confidence = 0.0
        notes.append("no voice rises above the background (a silent or noise-only take): record it again")
    return confidence, notes


# --- UTAU's coordinates -------------------------------------------------------------------------


def _finish(
    wav_name: str, alias: str, points: _Points, duration_ms: float, confidence: float, notes: list[str]
) -> OtoEntry:
    """The entry in UTAU's coordinates, on a 0.1 ms grid, repaired into UTAU's order if needed."""
    end = math.floor(duration_ms * TICKS_PER_MS) - 1  # one tick of margin: float sums stay inside
    gap = MIN_GAP_TICKS
    if end < 5 * gap:
        note = "; ".join([*notes, "the recording is too short for a unit"])
        return OtoEntry(wav_name, alias, 0.0, 0.0, 0.0, 0.0, 0.0, confidence=0.0, note=note)
    wanted = (points.offset, points.overlap, points.preutterance, points.fixed_end, points.cutoff_end)
    offset = _clamp(math.floor(points.offset * TICKS_PER_MS), 0, end - 4 * gap)
    preutterance = _clamp(round(points.preutterance * TICKS_PER_MS), offset + 2 * gap, end - 2 * gap)
    overlap = _clamp(round(points.overlap * TICKS_PER_MS), offset, preutterance - gap)
    fixed_end = _clamp(round(points.fixed_end * TICKS_PER_MS), preutterance, end - gap)
    cutoff_end = _clamp(round(points.cutoff_end * TICKS_PER_MS), fixed_end + gap, end)
    placed = (offset, overlap, preutterance, fixed_end, cutoff_end)
    moved_ms = max(abs(tick / TICKS_PER_MS - want) for tick, want in zip(placed, wanted, strict=True))
    if moved_ms > ADJUST_TOLERANCE_MS:
        confidence *= ADJUSTED_FACTOR
        notes = [*notes, f"moved by up to {moved_ms:.0f} ms to keep UTAU's order"]

    def ms(tick: int) -> float:
        return (tick - offset) / TICKS_PER_MS

    return OtoEntry(
        wav_name=wav_name,
        alias=alias,
        offset_ms=offset / TICKS_PER_MS,
        consonant_ms=ms(fixed_end),
        cutoff_ms=-ms(cutoff_end),
        preutterance_ms=ms(preutterance),
        overlap_ms=ms(overlap),
        confidence=round(max(0.0, min(1.0, confidence)), 3),
        note="; ".join(notes),
    )


def _clamp(value: int, low: int, high: int) -> int:
    return max(low, min(value, high))
