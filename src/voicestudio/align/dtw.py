"""The `dtw` engine: speak the known text with a synthesizer, then warp its true phone times onto the take.

Dynamic time warping runs over log-mel frames with steps (1,1), (1,2) and (2,1), so the take may be
spoken from half to twice the reference's tempo. The path may start and end anywhere in the take (open
begin and end), so leading and trailing silence of any length are left to the first and last "sil";
each step's weight depends only on the reference, so every path is judged on the same scale, and a
small toll on the uneven steps keeps the path straight where the two sounds are alike (a stop's closure
in silence). Both signals are floored at one noise floor and normalised over their sounding frames
(`paired_features`), so a short take in long room noise aligns like a clean one.

Reclist singers hold each vowel (か as "かーーー", 0.5 to 2 s), far past twice the reference's length. With
`hold_vowels`, a frame inside a vowel or ん (but its edges) or a silence may also stay while the take
advances (a step (0,1) at half a frame's distance, less `HOLD_FREE_RMS`, so a well-matched hold is
covered rather than skipped), the path runs from the take's first frame to its last, and a boundary after
a held frame goes where the hold ends. The statistics the features are normalised with are taken as if
the reference held its vowels as long, so the take's long vowel does not shift or shrink them.
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Final

import numpy as np
import numpy.typing as npt

from voicestudio.align.aligner import AlignmentFailed, increasing_within, require_sound
from voicestudio.align.features import (
    MIN_SPREAD_SHARE,
    mel_power,
    paired_features,
    room_noise,
    sounding_frames,
)
from voicestudio.align.reference import ReferenceSpeech, synthesize_phonemes, synthesize_reference
from voicestudio.domain.alignment import Alignment, PhoneSegment
from voicestudio.domain.language import Language

HOP_MS: Final = 5.0
SILENCE_PHONES: Final = frozenset({"sil", "pau"})
MAX_CELLS: Final = 200_000_000  # cost-matrix cells (reference frames × take frames) one alignment may use
# Added to the path cost for each (1,2) or (2,1) step: a tenth of a well-matched frame's distance (about
# 5), enough to break ties in silence, too little to resist a real change of tempo.
UNEVEN_STEP_COST: Final = 0.5
# A phone's score maps the mean distance of its frames, as root mean square per feature dimension, from
# 1 at NEAR_RMS to 0 at FAR_RMS. Measured medians: a phone re-spoken by another voice (WORLD, ±3
# semitones, ×0.85 / ×1.15 tempo, in room noise) 0.52 to 0.66; aligned to the wrong text 0.91; noise 1.8.
NEAR_RMS: Final = 0.55
FAR_RMS: Final = 1.0

# Back-pointers: which step reached a cell.
_DIAGONAL: Final = 0
_TAKE_TWICE: Final = 1  # (1, 2): one reference frame against two frames of the take
_REFERENCE_TWICE: Final = 2  # (2, 1): two reference frames against one frame of the take
_HOLD: Final = 3  # (0, 1): a held vowel's reference frame against one more frame of the take
# Phones a singer may hold (pyopenjtalk's names; the devoiced A I U E O cannot be sung long).
HELD_PHONES: Final = frozenset({"a", "i", "u", "e", "o", "N"})
# A take sounding this many times as long as its reference was sung held (bench/oto.py: CV takes held ~1 s
# sound 4-12 times as long as the reference, eSpeak's slower speech 1.1-2.7 times, and aligns better unheld).
HELD_WHEN_LONGER: Final = 3.0
# A held frame weighs what each half of a (1,2) step weighs, so a hold of n frames costs n/2 distances.
HOLD_WEIGHT: Final = 0.5
# Held frames closer than this (rms per dimension) lower the path's cost, so the path prefers to cover a
# well-matched hold than to wrap the reference's silences around it.
HOLD_FREE_RMS: Final = 0.5
HOLD_EDGE_MS: Final = 20.0  # a vowel's first and last this long glide to its neighbours: never held

Synthesizer = Callable[[str, Language], ReferenceSpeech]
PhonemeSynthesizer = Callable[[Sequence[str], Language], ReferenceSpeech]


@dataclass(frozen=True, slots=True)
class WarpPath:
    """For each reference frame, the take frames it matched (mean, first, last) and the mean local cost."""

    take_frame: npt.NDArray[np.float64]
    local_cost: npt.NDArray[np.float64]
    total_cost: float
    first_take_frame: npt.NDArray[np.float64]
    last_take_frame: npt.NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class DtwAligner:
    """Aligns a take to a synthesized reference of the same text; phones are the reference's names."""

    synthesize: Synthesizer = synthesize_reference
    hop_ms: float = HOP_MS
    speak_phonemes: PhonemeSynthesizer = synthesize_phonemes
    hold_vowels: bool = False  # let the take hold any vowel or ん for as long as it likes (sung reclists)

    def align(
        self, samples: npt.NDArray[np.float32], sample_rate_hz: int, text: str, language: Language
    ) -> Alignment:
        """The reference's phones placed on `samples`; the first and last segment reach the take's ends."""
        return self._align_spoken(
            samples, sample_rate_hz, lambda: self.synthesize(text, language), f"The text {text!r}"
        )

    def align_phonemes(
        self,
        samples: npt.NDArray[np.float32],
        sample_rate_hz: int,
        phonemes: Sequence[str],
        language: Language,
    ) -> Alignment:
        """`phonemes` (spoken exactly as given, see `synthesize_phonemes`) placed on `samples`, under the
        caller's names; the first and last segment reach the take's ends."""
        what = f"The phones {' '.join(phonemes)!r}"
        return self._align_spoken(
            samples, sample_rate_hz, lambda: self.speak_phonemes(phonemes, language), what
        )

    def _align_spoken(
        self,
        samples: npt.NDArray[np.float32],
        sample_rate_hz: int,
        speak: Callable[[], ReferenceSpeech],
        what: str,
    ) -> Alignment:
        """Check the take, let `speak` synthesize the reference, warp it onto the take.

        `what` names what was said in messages: "The text '…'" or "The phones '…'"."""
        samples = np.asarray(samples, dtype=np.float32)
        require_sound(samples, sample_rate_hz)
        try:
            reference = speak()
        except ValueError as e:
            raise AlignmentFailed(f"{what} cannot be spoken for alignment: {e}.") from None
        return align_to_reference(samples, sample_rate_hz, reference, self.hop_ms, self.hold_vowels)


def align_to_reference(
    samples: npt.NDArray[np.float32],
    sample_rate_hz: int,
    reference: ReferenceSpeech,
    hop_ms: float = HOP_MS,
    hold_vowels: bool = False,
) -> Alignment:
    """Warp `reference`'s phone times onto `samples` (a take of the same text); with `hold_vowels`, its
    vowels and ん may last any time in a take that sounds much longer than the reference (a sung reclist)."""
    segments = reference.alignment.segments
    lead_ms, tail_ms = _edge_silence_ms(reference.alignment)
    take_power = mel_power(samples, sample_rate_hz, hop_ms)
    # Room for the reference's own edge silence, even when the take starts or ends on speech: frames of
    # the take's own room noise, which the reference's silence matches as it matches the take's pauses.
    lead_frames, tail_frames = round(lead_ms / hop_ms), round(tail_ms / hop_ms)
    padded = np.vstack([room_noise(take_power, lead_frames), take_power, room_noise(take_power, tail_frames)])
    ref_power = mel_power(reference.samples, reference.sample_rate_hz, hop_ms)
    if hold_vowels and _sounds_held(take_power, ref_power):
        vowels = _held_frames(reference.alignment, len(ref_power), hop_ms, HELD_PHONES)
        held = vowels | _held_frames(reference.alignment, len(ref_power), hop_ms, SILENCE_PHONES)
        ref, take = _paired_as_held(ref_power, padded, vowels)
    else:
        held = None
        ref, take = paired_features(ref_power, padded)
    if len(ref) * len(take) > MAX_CELLS:
        raise AlignmentFailed(
            f"The take lasts {len(samples) / sample_rate_hz:.0f} s, too long to align in one piece. "
            "Trim the silence around it or record the prompt in shorter parts."
        )
    if 2 * len(take) < len(ref):
        raise AlignmentFailed(
            f"The take lasts {len(samples) / sample_rate_hz:.1f} s, less than half the "
            f"{reference.duration_ms / 1000.0:.1f} s the text needs. Check that the take is this prompt."
        )
    path = warp(ref, take, held=held)
    duration_ms = 1000.0 * len(samples) / sample_rate_hz
    ends_ms = [s.end_ms for s in segments[:-1]]
    if held is None:
        ref_frame_ms = np.arange(len(ref)) * hop_ms
        boundaries_ms = np.interp(ends_ms, ref_frame_ms, (path.take_frame - lead_frames) * hop_ms)
    else:
        boundaries_ms = (_between_rows(path, np.asarray(ends_ms) / hop_ms) - lead_frames) * hop_ms
    boundaries_ms = increasing_within(boundaries_ms, duration_ms)
    starts = np.concatenate([[0.0], boundaries_ms])
    ends = np.concatenate([boundaries_ms, [duration_ms]])
    rms_cost = path.local_cost / np.sqrt(ref.shape[1])
    # A spoken phone matched against the padding was not found in the take at all.
    in_padding = (path.take_frame < lead_frames - 0.5) | (path.take_frame > len(take) - tail_frames - 0.5)
    spoken_cost = np.where(in_padding, FAR_RMS, rms_cost)
    # Held: each reference frame counts as often as the take frames it matched, so a well-matched hold
    # scores like a short vowel however briefly its gliding edges were matched.
    matched = None if held is None else path.last_take_frame - path.first_take_frame + 1.0
    return Alignment(
        tuple(
            PhoneSegment(
                segment.phone,
                float(start),
                float(end),
                _score(
                    rms_cost if segment.phone in SILENCE_PHONES else spoken_cost,
                    segment.start_ms,
                    segment.end_ms,
                    hop_ms,
                    matched,
                ),
            )
            for segment, start, end in zip(segments, starts, ends, strict=True)
        )
    )


def warp(
    ref: npt.NDArray[np.float32],
    take: npt.NDArray[np.float32],
    uneven_step_cost: float = UNEVEN_STEP_COST,
    held: npt.NDArray[np.bool_] | None = None,
) -> WarpPath:
    """The cheapest monotone path that covers every reference frame and any stretch of the take; each
    (1,2) or (2,1) step costs `uneven_step_cost` on top of its frames' distances.

    With `held`, the reference frames it marks may also match any run of take frames (each further frame
    at `HOLD_WEIGHT` of its distance), and the path covers the whole take, first frame to last."""
    cost = _distances(ref, take)
    rows, columns = cost.shape
    free = HOLD_FREE_RMS * float(np.sqrt(ref.shape[1]))
    toll = np.float32(uneven_step_cost)
    # Only the last two rows of running totals are needed; the back-pointers keep the path.
    before_last = np.full(columns, np.inf, dtype=np.float32)
    step = np.zeros((rows, columns), dtype=np.int8)
    if held is None:
        last = cost[0].copy()
    else:
        last = np.full(columns, np.inf, dtype=np.float32)
        last[0] = cost[0, 0]
        if held[0]:
            _hold_row(last, cost[0], step[0], free)
    candidates = np.full(
        (3, columns), np.inf, dtype=np.float32
    )  # rows: _DIAGONAL, _TAKE_TWICE, _REFERENCE_TWICE
    for i in range(1, rows):
        here = cost[i]
        np.add(last[:-1], here[1:], out=candidates[_DIAGONAL, 1:])
        np.add(here[1:-1], here[2:], out=candidates[_TAKE_TWICE, 2:])
        candidates[_TAKE_TWICE, 2:] *= 0.5
        candidates[_TAKE_TWICE, 2:] += last[:-2]
        candidates[_TAKE_TWICE, 2:] += toll
        if i >= 2:
            np.add(cost[i - 1, 1:], here[1:], out=candidates[_REFERENCE_TWICE, 1:])
            candidates[_REFERENCE_TWICE, 1:] += before_last[:-1]
            candidates[_REFERENCE_TWICE, 1:] += toll
        best = np.minimum(candidates[_DIAGONAL], candidates[_TAKE_TWICE], out=before_last)
        np.minimum(best, candidates[_REFERENCE_TWICE], out=best)
        step[i] = np.where(
            best == candidates[_DIAGONAL],
            _DIAGONAL,
            np.where(best == candidates[_TAKE_TWICE], _TAKE_TWICE, _REFERENCE_TWICE),
        )
        if held is not None and held[i]:
            _hold_row(best, here, step[i], free)
        before_last, last = last, best
    end = int(np.argmin(last)) if held is None else columns - 1
    if not np.isfinite(last[end]):
        raise AlignmentFailed("The take is too short for the text; check that the take is this prompt.")
    return _trace(cost, step, end, float(last[end]))


def _hold_row(
    total: npt.NDArray[np.float32], here: npt.NDArray[np.float32], step: npt.NDArray[np.int8], free: float
) -> None:
    """Let a held row's cell also be reached from its left neighbour, in place, as one prefix scan:
    total[j] = min over k < j of total[k] + HOLD_WEIGHT × Σ (here[m] − free) for k < m ≤ j."""
    weighted = np.cumsum(HOLD_WEIGHT * (here.astype(np.float64) - free))
    from_left = weighted[1:] + np.minimum.accumulate(total[:-1] - weighted[:-1])
    longer = np.flatnonzero(from_left < total[1:]) + 1
    step[longer] = _HOLD
    total[longer] = from_left[longer - 1]


def _trace(cost: npt.NDArray[np.float32], step: npt.NDArray[np.int8], end: int, total: float) -> WarpPath:
    """Walk the back-pointers from (last row, `end`) to row 0; note the take frames each row matched."""
    rows, columns = cost.shape
    frame_sum = np.zeros(rows)
    cost_sum = np.zeros(rows)
    count = np.zeros(rows)
    first = np.full(rows, float(columns))
    last = np.full(rows, -1.0)

    def visit(i: int, j: int) -> None:
        frame_sum[i] += j
        cost_sum[i] += cost[i, j]
        count[i] += 1
        first[i] = min(first[i], j)
        last[i] = max(last[i], j)

    i, j = rows - 1, end
    visit(i, j)
    while i > 0 or step[i, j] == _HOLD:
        move = step[i, j]
        if move == _HOLD:
            j -= 1
        elif move == _DIAGONAL:
            i, j = i - 1, j - 1
        elif move == _TAKE_TWICE:
            visit(i, j - 1)
            i, j = i - 1, j - 2
        else:
            visit(i - 1, j)
            i, j = i - 2, j - 1
        visit(i, j)
    return WarpPath(frame_sum / count, cost_sum / count, total, first, last)


def _held_frames(
    alignment: Alignment, frames: int, hop_ms: float, phones: frozenset[str]
) -> npt.NDArray[np.bool_]:
    """Which reference frames lie inside one of `phones`; of a vowel or ん (`HELD_PHONES`) only the inner
    part, as its first and last `HOLD_EDGE_MS` glide to its neighbours."""
    held = np.zeros(frames, dtype=bool)
    for segment in alignment.segments:
        if segment.phone not in phones:
            continue
        first = int(np.ceil(segment.start_ms / hop_ms))
        end = int(np.ceil(segment.end_ms / hop_ms))
        if segment.phone in HELD_PHONES:
            edge = min(round(HOLD_EDGE_MS / hop_ms), (end - first - 1) // 2)
            first, end = first + edge, end - edge
        held[first : min(frames, end)] = True
    return held


def _sounds_held(take_power: npt.NDArray[np.float64], ref_power: npt.NDArray[np.float64]) -> bool:
    """Whether the take sounds so much longer than the reference that its vowels were held; takes merely
    spoken slower align better without the hold."""
    return bool(sounding_frames(take_power).sum() > HELD_WHEN_LONGER * sounding_frames(ref_power).sum())


def _paired_as_held(
    ref_power: npt.NDArray[np.float64], take_power: npt.NDArray[np.float64], vowels: npt.NDArray[np.bool_]
) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.float32]]:
    """`paired_features` with the reference's statistics taken as if its vowels were held as long as the
    take sounds longer than it: each side's mean is removed, and a take that is mostly one long vowel
    would otherwise be centred on that vowel while the reference is centred between its phones."""
    extra = int(sounding_frames(take_power).sum()) - int(sounding_frames(ref_power).sum())
    starts = np.flatnonzero(vowels & ~np.concatenate([[False], vowels[:-1]]))
    ends = np.flatnonzero(vowels & ~np.concatenate([vowels[1:], [False]]))
    if extra <= 0 or len(starts) == 0:
        return paired_features(ref_power, take_power)
    held_rows = (starts + ends) // 2  # a held vowel sounds like its middle
    repeats = np.ones(len(ref_power), dtype=np.int64)
    repeats[held_rows] += extra // len(held_rows)
    repeats[held_rows[: extra % len(held_rows)]] += 1
    stretched, take = paired_features(np.repeat(ref_power, repeats, axis=0), take_power)
    ref = stretched[np.cumsum(repeats) - repeats]
    # The pooled spread of a take that is mostly one steady vowel is small, and every distance grows with
    # it; scale both sides to the reference's own spread, as when neither is held.
    sounding = sounding_frames(ref_power)
    spread = ref[sounding].std(axis=0) if int(sounding.sum()) > 1 else ref.std(axis=0)
    spread = np.maximum(spread, MIN_SPREAD_SHARE * float(np.median(spread))).astype(np.float32)
    return ref / spread, take / spread


def _between_rows(path: WarpPath, ref_frames: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """The take frame of each fractional reference frame: between rows r and r+1, from the last take frame
    r matched to the first r+1 matched, so a boundary after a held row lands where the hold ends."""
    rows = len(path.take_frame)
    row = np.clip(np.floor(ref_frames).astype(int), 0, rows - 2)
    fraction = np.clip(ref_frames - row, 0.0, 1.0)
    after = path.last_take_frame[row]
    before_next = path.first_take_frame[row + 1]
    return np.asarray(after + fraction * (before_next - after), dtype=np.float64)


def _distances(ref: npt.NDArray[np.float32], take: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
    """Euclidean distance between every reference frame and every take frame."""
    squared = ref @ take.T
    squared *= -2.0
    squared += (ref * ref).sum(axis=1)[:, None]
    squared += (take * take).sum(axis=1)[None, :]
    np.maximum(squared, 0.0, out=squared)
    distances: npt.NDArray[np.float32] = np.sqrt(squared, out=squared)
    return distances


def _score(
    rms_cost: npt.NDArray[np.float64],
    start_ms: float,
    end_ms: float,
    hop_ms: float,
    weights: npt.NDArray[np.float64] | None = None,
) -> float:
    """1 where the take matched the segment of the reference as closely as another voice saying it does;
    0 where no closer than the wrong phone or noise (`NEAR_RMS`, `FAR_RMS`). `weights`: per reference
    frame, how much it counts in the mean."""
    first = min(int(start_ms // hop_ms), len(rms_cost) - 1)
    last = max(first + 1, min(int(np.ceil(end_ms / hop_ms)), len(rms_cost)))
    chosen = None if weights is None else weights[first:last]
    mean_rms = float(np.average(rms_cost[first:last], weights=chosen))
    return float(np.clip((FAR_RMS - mean_rms) / (FAR_RMS - NEAR_RMS), 0.0, 1.0))


def _edge_silence_ms(alignment: Alignment) -> tuple[float, float]:
    """How long the reference is silent before its first phone and after its last."""
    segments = alignment.segments
    if not segments:
        raise AlignmentFailed("The text has no phones to align; write what is said in the take.")
    lead = segments[0].duration_ms if segments[0].phone in SILENCE_PHONES else 0.0
    tail = segments[-1].duration_ms if segments[-1].phone in SILENCE_PHONES else 0.0
    return lead, tail
