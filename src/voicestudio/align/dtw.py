"""The `dtw` engine: speak the known text with a synthesizer, then warp its true phone times onto the take.

Dynamic time warping runs over log-mel frames with steps (1,1), (1,2) and (2,1), so the take may be
spoken from half to twice the reference's tempo. The path may start and end anywhere in the take (open
begin and end), so leading and trailing silence of any length are left to the first and last "sil";
each step's weight depends only on the reference, so every path is judged on the same scale, and a
small toll on the uneven steps keeps the path straight where the two sounds are alike (a stop's closure
in silence). Both signals are floored at one noise floor and normalised over their sounding frames
(`paired_features`), so a short take in long room noise aligns like a clean one.
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Final

import numpy as np
import numpy.typing as npt

from voicestudio.align.aligner import AlignmentFailed
from voicestudio.align.features import mel_power, paired_features, room_noise
from voicestudio.align.reference import ReferenceSpeech, synthesize_phonemes, synthesize_reference
from voicestudio.domain.alignment import Alignment, PhoneSegment
from voicestudio.domain.language import Language

HOP_MS: Final = 5.0
SILENCE_PHONES: Final = frozenset({"sil", "pau"})
# The take's peak must rise this far above digital silence for there to be anything to align.
MIN_PEAK_DBFS: Final = -60.0
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

Synthesizer = Callable[[str, Language], ReferenceSpeech]
PhonemeSynthesizer = Callable[[Sequence[str], Language], ReferenceSpeech]


@dataclass(frozen=True, slots=True)
class WarpPath:
    """For each reference frame, the (fractional) take frame it matched and the local cost there."""

    take_frame: npt.NDArray[np.float64]
    local_cost: npt.NDArray[np.float64]
    total_cost: float


@dataclass(frozen=True, slots=True)
class DtwAligner:
    """Aligns a take to a synthesized reference of the same text; phones are the reference's names."""

    synthesize: Synthesizer = synthesize_reference
    hop_ms: float = HOP_MS
    speak_phonemes: PhonemeSynthesizer = synthesize_phonemes

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
        _require_sound(samples, sample_rate_hz)
        try:
            reference = speak()
        except ValueError as e:
            raise AlignmentFailed(f"{what} cannot be spoken for alignment: {e}.") from None
        return align_to_reference(samples, sample_rate_hz, reference, self.hop_ms)


def align_to_reference(
    samples: npt.NDArray[np.float32], sample_rate_hz: int, reference: ReferenceSpeech, hop_ms: float = HOP_MS
) -> Alignment:
    """Warp `reference`'s phone times onto `samples` (a take of the same text)."""
    segments = reference.alignment.segments
    lead_ms, tail_ms = _edge_silence_ms(reference.alignment)
    take_power = mel_power(samples, sample_rate_hz, hop_ms)
    # Room for the reference's own edge silence, even when the take starts or ends on speech: frames of
    # the take's own room noise, which the reference's silence matches as it matches the take's pauses.
    lead_frames, tail_frames = round(lead_ms / hop_ms), round(tail_ms / hop_ms)
    padded = np.vstack([room_noise(take_power, lead_frames), take_power, room_noise(take_power, tail_frames)])
    ref, take = paired_features(mel_power(reference.samples, reference.sample_rate_hz, hop_ms), padded)
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
    path = warp(ref, take)
    take_ms = (path.take_frame - lead_frames) * hop_ms
    duration_ms = 1000.0 * len(samples) / sample_rate_hz
    ref_frame_ms = np.arange(len(ref)) * hop_ms
    boundaries_ms = np.interp([s.end_ms for s in segments[:-1]], ref_frame_ms, take_ms)
    boundaries_ms = _increasing_within(boundaries_ms, duration_ms)
    starts = np.concatenate([[0.0], boundaries_ms])
    ends = np.concatenate([boundaries_ms, [duration_ms]])
    rms_cost = path.local_cost / np.sqrt(ref.shape[1])
    # A spoken phone matched against the padding was not found in the take at all.
    in_padding = (path.take_frame < lead_frames - 0.5) | (path.take_frame > len(take) - tail_frames - 0.5)
    spoken_cost = np.where(in_padding, FAR_RMS, rms_cost)
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
                ),
            )
            for segment, start, end in zip(segments, starts, ends, strict=True)
        )
    )


def warp(
    ref: npt.NDArray[np.float32], take: npt.NDArray[np.float32], uneven_step_cost: float = UNEVEN_STEP_COST
) -> WarpPath:
    """The cheapest monotone path that covers every reference frame and any stretch of the take; each
    (1,2) or (2,1) step costs `uneven_step_cost` on top of its frames' distances."""
    cost = _distances(ref, take)
    rows, columns = cost.shape
    toll = np.float32(uneven_step_cost)
    # Only the last two rows of running totals are needed; the back-pointers keep the path.
    before_last = np.full(columns, np.inf, dtype=np.float32)
    last = cost[0].copy()
    step = np.zeros((rows, columns), dtype=np.int8)
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
        before_last, last = last, best
    end = int(np.argmin(last))
    if not np.isfinite(last[end]):
        raise AlignmentFailed("The take is too short for the text; check that the take is this prompt.")
    return _trace(cost, step, end, float(last[end]))


def _trace(cost: npt.NDArray[np.float32], step: npt.NDArray[np.int8], end: int, total: float) -> WarpPath:
    """Walk the back-pointers from (last row, `end`) to row 0; average the take frames each row matched."""
    rows = cost.shape[0]
    frame_sum = np.zeros(rows)
    cost_sum = np.zeros(rows)
    count = np.zeros(rows)

    def visit(i: int, j: int) -> None:
        frame_sum[i] += j
        cost_sum[i] += cost[i, j]
        count[i] += 1

    i, j = rows - 1, end
    visit(i, j)
    while i > 0:
        move = step[i, j]
        if move == _DIAGONAL:
            i, j = i - 1, j - 1
        elif move == _TAKE_TWICE:
            visit(i, j - 1)
            i, j = i - 1, j - 2
        else:
            visit(i - 1, j)
            i, j = i - 2, j - 1
        visit(i, j)
    return WarpPath(frame_sum / count, cost_sum / count, total)


def _distances(ref: npt.NDArray[np.float32], take: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
    """Euclidean distance between every reference frame and every take frame."""
    squared = ref @ take.T
    squared *= -2.0
    squared += (ref * ref).sum(axis=1)[:, None]
    squared += (take * take).sum(axis=1)[None, :]
    np.maximum(squared, 0.0, out=squared)
    distances: npt.NDArray[np.float32] = np.sqrt(squared, out=squared)
    return distances


def _score(rms_cost: npt.NDArray[np.float64], start_ms: float, end_ms: float, hop_ms: float) -> float:
    """1 where the take matched the segment of the reference as closely as another voice saying it does;
    0 where no closer than the wrong phone or noise (`NEAR_RMS`, `FAR_RMS`)."""
    first = min(int(start_ms // hop_ms), len(rms_cost) - 1)
    last = max(first + 1, min(int(np.ceil(end_ms / hop_ms)), len(rms_cost)))
    mean_rms = float(rms_cost[first:last].mean())
    return float(np.clip((FAR_RMS - mean_rms) / (FAR_RMS - NEAR_RMS), 0.0, 1.0))


def _edge_silence_ms(alignment: Alignment) -> tuple[float, float]:
    """How long the reference is silent before its first phone and after its last."""
    segments = alignment.segments
    if not segments:
        raise AlignmentFailed("The text has no phones to align; write what is said in the take.")
    lead = segments[0].duration_ms if segments[0].phone in SILENCE_PHONES else 0.0
    tail = segments[-1].duration_ms if segments[-1].phone in SILENCE_PHONES else 0.0
    return lead, tail


def _increasing_within(boundaries_ms: npt.NDArray[np.float64], duration_ms: float) -> npt.NDArray[np.float64]:
    """Clip to the take and keep every segment at least a hair long, so the alignment has no overlaps."""
    count = len(boundaries_ms)
    epsilon_ms = min(0.01, duration_ms / (count + 2))
    low = epsilon_ms * np.arange(1, count + 1)
    high = duration_ms - epsilon_ms * np.arange(count, 0, -1)
    clipped = np.clip(boundaries_ms, low, high)
    rising = np.maximum.accumulate(clipped - low) + low  # strictly increasing by at least epsilon
    return np.asarray(np.minimum(rising, high), dtype=np.float64)


def _require_sound(samples: npt.NDArray[np.float32], sample_rate_hz: int) -> None:
    if samples.ndim != 1:
        raise AlignmentFailed("The take has more than one channel; mix it to mono before aligning.")
    if sample_rate_hz <= 0 or len(samples) == 0:
        raise AlignmentFailed("The take is empty; record the prompt again.")
    peak = float(np.max(np.abs(samples)))
    if peak <= 10.0 ** (MIN_PEAK_DBFS / 20.0):
        raise AlignmentFailed(
            f"The take is silent (peak below {MIN_PEAK_DBFS:.0f} dBFS); "
            "check the microphone and record it again."
        )
