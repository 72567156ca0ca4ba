"""Speaker-adapted refinement: train the speaker's own phone models over a whole reclist, then re-align
every take with them.

All takes of one speaker share the phone set, so the `dtw` engine's boundaries (warped from another
voice) seed a 3-state left-to-right HMM per phone with diagonal Gaussian-mixture emissions over the
cepstra of the features the `dtw` engine compares. Rounds of forced Viterbi alignment of each take's
known phones and re-estimation follow. A boundary moves at most `window_ms` from the `dtw` one and is
pulled back towards it (a Gaussian prior); boundaries beside silence stay, because one silence model
for pads, pauses and breaths swallows soft onsets and decays; a phone seen fewer than
`min_occurrences` times over the reclist keeps its `dtw` boundaries.
"""

import itertools
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

import numpy as np
import numpy.typing as npt

from voicestudio.align.aligner import AlignmentFailed
from voicestudio.align.dtw import HOP_MS, SILENCE_PHONES
from voicestudio.align.features import alignment_features
from voicestudio.align.hmm import DiagonalGmm, fit_gmm, forced_viterbi, pooled_variance_floor
from voicestudio.domain.alignment import Alignment, PhoneSegment

STATES_PER_PHONE: Final = 3
CEPSTRA: Final = 13  # per half (log-mel, deltas) of the dtw features
MIN_FRAMES_PER_MIXTURE: Final = 20
SILENCE_MODEL: Final = "sil"  # "sil" and "pau" share one model
MAX_CELLS: Final = 8_000_000  # frames × states one take's Viterbi pass may use; longer takes keep dtw
_FLAT_LOG_STAY: Final = float(np.log(0.5))
_MIN_STAY: Final = 0.01
_MAX_STAY: Final = 0.99

StateKey = tuple[str, int]  # (phone model, state index)


@dataclass(frozen=True, slots=True)
class RefineSettings:
    """How the refinement trains and how far it lets a boundary move (bench/refine.py compares them)."""

    mixtures: int = 2  # Gaussians per state, at most
    window_ms: float = 60.0  # a boundary never moves further than this from the dtw one
    boundary_sigma_ms: float = 10.0  # the prior pulling a boundary back towards the dtw one
    acoustic_scale: float = 0.2  # weight of the emission log-likelihoods against that prior
    keep_silence_edges: bool = True  # boundaries beside "sil"/"pau" stay where dtw put them
    min_occurrences: int = 2  # a phone seen fewer times over the reclist is not trained and does not move


@dataclass(frozen=True, slots=True, eq=False)
class _Take:
    """One take as the trainer sees it: its frames, its dtw alignment and where each boundary may go."""

    features: npt.NDArray[np.float32]
    dtw: Alignment
    duration_ms: float
    models: tuple[str, ...]  # per segment
    dtw_starts: npt.NDArray[np.int64]  # first frame of each segment, then the frame count
    earliest: npt.NDArray[np.int64]  # per boundary (segment i → i+1): the first frame segment i+1 may start
    latest: npt.NDArray[np.int64]


@dataclass(frozen=True, slots=True, eq=False)
class _State:
    """A trained HMM state: its emission mixture and the log probability of staying one more frame."""

    gmm: DiagonalGmm
    log_stay: float


def refine_alignments(
    takes: Sequence[tuple[npt.NDArray[np.float32], int]],
    alignments: Sequence[Alignment],
    *,
    iterations: int = 3,
) -> list[Alignment]:
    """The `dtw` alignments of one speaker's takes, re-aligned with phone models trained on all of them.

    Same phones in the same order, each alignment covering its take from 0 ms to its end.
    """
    return refine_alignments_with(RefineSettings(), takes, alignments, iterations=iterations)


def refine_alignments_with(
    settings: RefineSettings,
    takes: Sequence[tuple[npt.NDArray[np.float32], int]],
    alignments: Sequence[Alignment],
    *,
    iterations: int = 3,
) -> list[Alignment]:
    """`refine_alignments` with chosen settings; a refined segment's `score` is the share of its frames
    that its own phone model explains best (a segment that was not refined keeps the dtw score)."""
    if len(takes) != len(alignments):
        raise AlignmentFailed(
            f"{len(takes)} takes came with {len(alignments)} alignments; "
            "pass each take together with the alignment made for it."
        )
    if iterations < 0:
        raise AlignmentFailed(f"The number of refinement rounds must be 0 or more, not {iterations}.")
    counts = Counter(_model(s.phone) for a in alignments for s in a.segments)
    trained = frozenset(model for model, count in counts.items() if count >= settings.min_occurrences)
    prepared = [
        _prepare(number, samples, sample_rate_hz, alignment, trained, settings)
        for number, ((samples, sample_rate_hz), alignment) in enumerate(zip(takes, alignments, strict=True))
    ]
    if iterations == 0 or not trained:
        return [take.dtw for take in prepared]
    starts = [take.dtw_starts for take in prepared]
    states: dict[StateKey, _State] = {}
    for _ in range(iterations):
        states = _train(prepared, starts, trained, settings)
        starts = [_realign(take, now, states, settings) for take, now in zip(prepared, starts, strict=True)]
    return [_to_alignment(take, now, states) for take, now in zip(prepared, starts, strict=True)]


def _model(phone: str) -> str:
    return SILENCE_MODEL if phone in SILENCE_PHONES else phone


def _prepare(
    number: int,
    samples: npt.NDArray[np.float32],
    sample_rate_hz: int,
    alignment: Alignment,
    trained: frozenset[str],
    settings: RefineSettings,
) -> _Take:
    """Frames, the dtw segmentation in frames and each boundary's window for one take."""
    samples = np.asarray(samples, dtype=np.float32)
    if samples.ndim != 1 or sample_rate_hz <= 0 or len(samples) == 0:
        raise AlignmentFailed(f"Take {number + 1} is empty or not mono; mix it to mono or record it again.")
    if not np.all(np.isfinite(samples)):
        raise AlignmentFailed(
            f"Take {number + 1} contains invalid samples (NaN or infinity); record it again."
        )
    if not alignment.segments:
        raise AlignmentFailed(f"Take {number + 1} has no aligned phones; align it before refining.")
    duration_ms = 1000.0 * len(samples) / sample_rate_hz
    if abs(alignment.end_ms - duration_ms) > HOP_MS:
        raise AlignmentFailed(
            f"Take {number + 1} lasts {duration_ms:.0f} ms but its alignment ends at "
            f"{alignment.end_ms:.0f} ms; pass each take together with the alignment made for it."
        )
    features = _cepstra(alignment_features(samples, sample_rate_hz, HOP_MS))
    frames = len(features)
    models = tuple(_model(s.phone) for s in alignment.segments)
    pairs = list(itertools.pairwise(models))
    movable = np.array(
        [
            a in trained and b in trained and not (settings.keep_silence_edges and SILENCE_MODEL in (a, b))
            for a, b in pairs
        ],
        dtype=bool,
    )
    boundaries_ms = np.array([s.end_ms for s in alignment.segments[:-1]], dtype=np.float64)
    dtw_frames = np.clip(_first_frame_at_or_after(boundaries_ms), 0, frames)
    reach_ms = np.where(movable, settings.window_ms, 0.0)
    earliest = np.clip(_first_frame_at_or_after(boundaries_ms - reach_ms), 1, max(1, frames - 1))
    latest = np.clip(_first_frame_at_or_after(boundaries_ms + reach_ms), 1, max(1, frames - 1))
    return _Take(
        features,
        alignment,
        duration_ms,
        models,
        np.concatenate([[0], dtw_frames, [frames]]).astype(np.int64),
        np.where(movable, earliest, dtw_frames).astype(np.int64),
        np.where(movable, latest, dtw_frames).astype(np.int64),
    )


def _cepstra(features: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
    """The first `CEPSTRA` DCT coefficients of each half (log-mel, deltas): nearly uncorrelated, so diagonal
    Gaussians fit them."""
    half = features.shape[1] // 2
    k = np.arange(CEPSTRA)[:, None]
    n = np.arange(half)[None, :]
    dct = np.cos(np.pi * k * (n + 0.5) / half)
    return np.hstack([features[:, :half] @ dct.T, features[:, half:] @ dct.T]).astype(np.float32)


def _first_frame_at_or_after(times_ms: npt.NDArray[np.float64]) -> npt.NDArray[np.int64]:
    """The first frame whose centre (k · HOP_MS) is at or after each time."""
    return np.ceil(times_ms / HOP_MS - 1e-9).astype(np.int64)


def _train(
    takes: Sequence[_Take],
    starts: Sequence[npt.NDArray[np.int64]],
    trained: frozenset[str],
    settings: RefineSettings,
) -> dict[StateKey, _State]:
    """Fit every trained phone's states to the frames the current segmentation gives them (equal thirds)."""
    pieces: dict[StateKey, list[npt.NDArray[np.float32]]] = defaultdict(list)
    for take, now in zip(takes, starts, strict=True):
        for model, first, end in zip(take.models, now[:-1], now[1:], strict=True):
            if model in trained:
                for state, frames in enumerate(_thirds(int(first), int(end))):
                    if frames.stop > frames.start:
                        pieces[(model, state)].append(take.features[frames])
    floor = pooled_variance_floor(np.concatenate([take.features for take in takes]))
    states: dict[StateKey, _State] = {}
    for key, runs in pieces.items():
        data = np.concatenate(runs)
        mixtures = max(1, min(settings.mixtures, len(data) // MIN_FRAMES_PER_MIXTURE))
        stay = np.clip(1.0 - len(runs) / len(data), _MIN_STAY, _MAX_STAY)
        states[key] = _State(fit_gmm(data, mixtures, floor), float(np.log(stay)))
    return states


def _thirds(first: int, end: int) -> list[slice]:
    """A segment's frames split into `STATES_PER_PHONE` nearly equal runs, in order."""
    edges = first + (np.arange(STATES_PER_PHONE + 1) * (end - first)) // STATES_PER_PHONE
    return [slice(int(a), int(b)) for a, b in itertools.pairwise(edges)]


def _realign(
    take: _Take, current: npt.NDArray[np.int64], states: dict[StateKey, _State], settings: RefineSettings
) -> npt.NDArray[np.int64]:
    """The take's segment starts after forced Viterbi alignment; `current` where no path fits."""
    frames = len(take.features)
    band_first = np.concatenate([[0], take.earliest])  # per segment: the earliest frame it may start
    band_end = np.concatenate([take.latest, [frames]])  # … and the latest it may end (exclusive)
    keys = [
        _states_within(model, int(end - first))
        for model, first, end in zip(take.models, band_first, band_end, strict=True)
    ]
    state_count = sum(len(k) for k in keys)
    if any(not k for k in keys) or frames * state_count > MAX_CELLS:
        return current
    log_emissions = np.full((frames, state_count), -np.inf)
    log_stay = np.empty(state_count)
    owner = np.empty(state_count, dtype=np.int64)
    column = 0
    for index, segment_keys in enumerate(keys):
        first, end = int(band_first[index]), int(band_end[index])
        for key in segment_keys:
            state = states.get(key)
            if state is None:  # an untrained phone: its boundaries are fixed, its frames need no model
                log_emissions[first:end, column] = 0.0
                log_stay[column] = _FLAT_LOG_STAY
            else:
                log_likelihood = state.gmm.log_likelihood(take.features[first:end])
                log_emissions[first:end, column] = settings.acoustic_scale * log_likelihood
                log_stay[column] = state.log_stay
            owner[column] = index
            column += 1
    log_leave = np.tile(np.log1p(-np.exp(log_stay)), (frames, 1))
    last_states = np.flatnonzero(np.diff(owner))  # the last state of every segment but the final one
    offset_ms = (np.arange(frames)[:, None] - take.dtw_starts[None, 1:-1]) * HOP_MS
    log_leave[:, last_states] -= 0.5 * (offset_ms / settings.boundary_sigma_ms) ** 2
    path = forced_viterbi(log_emissions, log_stay, log_leave)
    if path is None:
        return current
    boundaries = np.flatnonzero(np.diff(owner[path])) + 1
    return np.concatenate([[0], boundaries, [frames]]).astype(np.int64)


def _states_within(model: str, room_frames: int) -> list[StateKey]:
    """A phone's states, thinned (middle first) when its window leaves less than one frame per state."""
    if room_frames >= STATES_PER_PHONE:
        return [(model, state) for state in range(STATES_PER_PHONE)]
    if room_frames <= 0:
        return []
    if room_frames == 1:
        return [(model, STATES_PER_PHONE // 2)]
    return [(model, 0), (model, STATES_PER_PHONE - 1)]


def _to_alignment(take: _Take, starts: npt.NDArray[np.int64], states: dict[StateKey, _State]) -> Alignment:
    """Segments at the refined boundaries: midway between two frames, or the dtw time where one stayed."""
    inner = starts[1:-1]
    dtw_ms = np.array([s.end_ms for s in take.dtw.segments[:-1]], dtype=np.float64)
    boundaries_ms = np.where(inner == take.dtw_starts[1:-1], dtw_ms, (inner - 0.5) * HOP_MS)
    edges = np.concatenate([[0.0], boundaries_ms, [take.duration_ms]])
    shares = _own_best_shares(take, starts, states)
    return Alignment(
        tuple(
            PhoneSegment(segment.phone, float(start), float(end), segment.score if share is None else share)
            for segment, start, end, share in zip(
                take.dtw.segments, edges[:-1], edges[1:], shares, strict=True
            )
        )
    )


def _own_best_shares(
    take: _Take, starts: npt.NDArray[np.int64], states: dict[StateKey, _State]
) -> list[float | None]:
    """Per segment, the share of its frames that its own phone explains better than any other trained
    phone; None for a phone that was not trained."""
    models = sorted({model for model, _ in states})
    if not models:
        return [None] * len(take.models)
    per_model = np.full((len(take.features), len(models)), -np.inf)
    for (model, _), state in states.items():
        column = models.index(model)
        np.maximum(per_model[:, column], state.gmm.log_likelihood(take.features), out=per_model[:, column])
    winner = np.argmax(per_model, axis=1)
    shares: list[float | None] = []
    for model, first, end in zip(take.models, starts[:-1], starts[1:], strict=True):
        if model not in models or end <= first:
            shares.append(None)
        else:
            shares.append(float(np.mean(winner[first:end] == models.index(model))))
    return shares
