"""Frame features for comparing two utterances: normalised log-mel spectra at a common rate.

Both sides are resampled to 16 kHz so that a 48 kHz take and a 22.05 kHz reference land in the same
feature space. `alignment_features` describes one utterance alone (mean/variance normalisation over it);
`paired_features` describes a reference and a take for comparing with each other: both floored at the
same noise floor relative to their level, and normalised with the statistics of their sounding frames,
so that a long stretch of room noise around a short take neither looks unlike the reference's digital
silence nor swamps the statistics of the speech.
"""

from typing import Final

import numpy as np
import numpy.typing as npt

from voicestudio.audio.io import resample

ANALYSIS_RATE_HZ: Final = 16_000
WINDOW_MS: Final = 25.0
MIN_MEL_HZ: Final = 60.0
MAX_MEL_HZ: Final = 7_600.0
N_MELS: Final = 40
# Band energies are floored this far below the utterance's loudest band, so digital silence and a
# quiet room read the same instead of as -inf.
FLOOR_BELOW_PEAK_DB: Final = 50.0
DELTA_REACH_FRAMES: Final = 2
# A band's noise floor: the power it stays above in 90 % of frames (the quietest tenth is room noise).
NOISE_PERCENTILE: Final = 10.0
# Paired features floor every band this far above the noisier signal's noise floor (room noise flickers
# by several dB from frame to frame), measured from each signal's loudest frame; the floor lies at least
# MIN_RANGE_DB below that frame, so a take of pure noise does not flatten the reference, and at most
# FLOOR_BELOW_PEAK_DB below it.
FLOOR_ABOVE_NOISE_DB: Final = 10.0
MIN_RANGE_DB: Final = 30.0
# A sounding frame's energy is this far above the quietest frames and within this range of the level.
SOUNDING_ABOVE_NOISE_DB: Final = 10.0
SOUNDING_BELOW_LEVEL_DB: Final = 45.0
MIN_SOUNDING_FRAMES: Final = 10  # fewer than this: the statistics come from this many loudest frames
# A dimension's spread is taken as at least this share of the median dimension's, so that a band that
# barely moves in a short take is not blown up into noise.
MIN_SPREAD_SHARE: Final = 0.5
_VARIANCE_EPSILON: Final = 1e-8
_TINY_POWER: Final = 1e-20


def mel_power(
    samples: npt.NDArray[np.float32], sample_rate_hz: int, hop_ms: float = 5.0, n_mels: int = N_MELS
) -> npt.NDArray[np.float64]:
    """Mel-band power (frames × `n_mels`, not floored) at 16 kHz; frame k is centred at k·`hop_ms`."""
    signal = resample(np.asarray(samples, dtype=np.float32), sample_rate_hz, ANALYSIS_RATE_HZ)
    window_samples = round(WINDOW_MS * ANALYSIS_RATE_HZ / 1000.0)
    fft_size = 1 << (window_samples - 1).bit_length()
    frames = _centred_frames(signal.astype(np.float64), window_samples, _hop_samples(hop_ms))
    power = np.abs(np.fft.rfft(frames * np.hanning(window_samples), n=fft_size, axis=1)) ** 2
    return np.asarray(power @ mel_filterbank(n_mels, fft_size, ANALYSIS_RATE_HZ).T, dtype=np.float64)


def log_mel(
    samples: npt.NDArray[np.float32], sample_rate_hz: int, hop_ms: float = 5.0, n_mels: int = N_MELS
) -> npt.NDArray[np.float32]:
    """Log-mel energies (frames × `n_mels`) at 16 kHz, floored FLOOR_BELOW_PEAK_DB below the loudest band."""
    bands = mel_power(samples, sample_rate_hz, hop_ms, n_mels)
    floor = max(float(bands.max()), _TINY_POWER) * 10.0 ** (-FLOOR_BELOW_PEAK_DB / 10.0)
    return np.asarray(np.log(np.maximum(bands, floor)), dtype=np.float32)


def normalised(
    features: npt.NDArray[np.float32], frames: npt.NDArray[np.bool_] | None = None
) -> npt.NDArray[np.float32]:
    """Each dimension shifted to mean 0 and scaled to variance 1 over `frames` (default: the utterance)."""
    chosen = features if frames is None else features[frames]
    mean = chosen.mean(axis=0, keepdims=True)
    deviation = np.sqrt(chosen.var(axis=0, keepdims=True) + _VARIANCE_EPSILON)
    return np.asarray((features - mean) / deviation, dtype=np.float32)


def deltas(
    features: npt.NDArray[np.float32], reach_frames: int = DELTA_REACH_FRAMES
) -> npt.NDArray[np.float32]:
    """Regression slope of each dimension over ±`reach_frames` frames (edges repeated)."""
    padded = np.pad(features, ((reach_frames, reach_frames), (0, 0)), mode="edge")
    count = len(features)
    slope = sum(
        k
        * (
            padded[reach_frames + k : reach_frames + k + count]
            - padded[reach_frames - k : reach_frames - k + count]
        )
        for k in range(1, reach_frames + 1)
    )
    scale = 2.0 * sum(k * k for k in range(1, reach_frames + 1))
    return (np.asarray(slope) / scale).astype(np.float32)


def alignment_features(
    samples: npt.NDArray[np.float32], sample_rate_hz: int, hop_ms: float = 5.0
) -> npt.NDArray[np.float32]:
    """What the aligner compares: normalised log-mel with normalised deltas beside it."""
    mel = log_mel(samples, sample_rate_hz, hop_ms)
    return np.hstack([normalised(mel), normalised(deltas(mel))])


def frame_energy_db(power: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """Each frame's total mel power in dB (relative to full-scale power 1)."""
    return np.asarray(10.0 * np.log10(power.sum(axis=1) + _TINY_POWER), dtype=np.float64)


def room_noise(power: npt.NDArray[np.float64], count: int) -> npt.NDArray[np.float64]:
    """`count` frames (× bands) of what the room sounds like in this take: its quietest tenth of frames,
    in their order and repeated as needed, so they flicker as the room noise does."""
    energy_db = frame_energy_db(power)
    quiet = power[energy_db <= np.percentile(energy_db, NOISE_PERCENTILE)]
    return np.asarray(np.resize(quiet, (count, power.shape[1])), dtype=np.float64)


def sounding_frames(power: npt.NDArray[np.float64]) -> npt.NDArray[np.bool_]:
    """Frames clearly above the quietest ones and within `SOUNDING_BELOW_LEVEL_DB` of the loudest."""
    energy_db = frame_energy_db(power)
    noise_db = float(np.percentile(energy_db, NOISE_PERCENTILE / 2.0))
    level_db = float(energy_db.max())
    threshold_db = max(noise_db + SOUNDING_ABOVE_NOISE_DB, level_db - SOUNDING_BELOW_LEVEL_DB)
    return np.asarray(energy_db > threshold_db, dtype=np.bool_)


def paired_features(
    reference_power: npt.NDArray[np.float64], take_power: npt.NDArray[np.float64]
) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.float32]]:
    """Log-mel and deltas of two utterances (from `mel_power`) made comparable: one noise floor relative
    to each one's level, each one's mean over its sounding frames removed, one spread for both."""
    floor_db = _common_floor_db(reference_power, take_power)
    logs = [
        np.log(np.maximum(power, 10.0 ** ((_level_db(power) + floor_db) / 10.0)))
        for power in (reference_power, take_power)
    ]
    masks = [_frames_for_statistics(power) for power in (reference_power, take_power)]
    parts: list[list[npt.NDArray[np.float32]]] = [[], []]
    for describe in (_identity, _deltas64):
        centred = [
            features - features[mask].mean(axis=0, keepdims=True)
            for features, mask in zip((describe(log) for log in logs), masks, strict=True)
        ]
        pooled = np.vstack([features[mask] for features, mask in zip(centred, masks, strict=True)])
        spread = np.sqrt(pooled.var(axis=0, keepdims=True) + _VARIANCE_EPSILON)
        spread = np.maximum(spread, MIN_SPREAD_SHARE * float(np.median(spread)))
        for side, features in enumerate(centred):
            parts[side].append(np.asarray(features / spread, dtype=np.float32))
    return np.hstack(parts[0]), np.hstack(parts[1])


def mel_filterbank(n_mels: int, fft_size: int, sample_rate_hz: int) -> npt.NDArray[np.float64]:
    """Triangular filters (n_mels × fft_size/2+1), equally spaced on the HTK mel scale, peak 1."""
    edges_hz = _mel_to_hz(np.linspace(_hz_to_mel(MIN_MEL_HZ), _hz_to_mel(MAX_MEL_HZ), n_mels + 2))
    bins_hz = np.linspace(0.0, sample_rate_hz / 2.0, fft_size // 2 + 1)
    lower, centre, upper = edges_hz[:-2, None], edges_hz[1:-1, None], edges_hz[2:, None]
    rising = (bins_hz - lower) / (centre - lower)
    falling = (upper - bins_hz) / (upper - centre)
    return np.maximum(0.0, np.minimum(rising, falling))


def _level_db(power: npt.NDArray[np.float64]) -> float:
    """The loudest frame's energy: what the floor is measured from."""
    return float(frame_energy_db(power).max())


def _common_floor_db(
    reference_power: npt.NDArray[np.float64], take_power: npt.NDArray[np.float64]
) -> npt.NDArray[np.float64]:
    """Per band, the floor (dB relative to each signal's level) just above the noisier signal's noise."""
    noise_db = [
        10.0 * np.log10(np.percentile(power, NOISE_PERCENTILE, axis=0) + _TINY_POWER) - _level_db(power)
        for power in (reference_power, take_power)
    ]
    floor_db = np.maximum(noise_db[0], noise_db[1]) + FLOOR_ABOVE_NOISE_DB
    return np.asarray(np.clip(floor_db, -FLOOR_BELOW_PEAK_DB, -MIN_RANGE_DB), dtype=np.float64)


def _frames_for_statistics(power: npt.NDArray[np.float64]) -> npt.NDArray[np.bool_]:
    """The sounding frames, or the loudest `MIN_SOUNDING_FRAMES` where fewer sound (a lone short mora)."""
    sounding = sounding_frames(power)
    if int(sounding.sum()) < min(MIN_SOUNDING_FRAMES, len(power)):
        loudest = np.argsort(frame_energy_db(power))[-MIN_SOUNDING_FRAMES:]
        sounding[loudest] = True
    return sounding


def _identity(features: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    return features


def _deltas64(features: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    return deltas(features.astype(np.float32)).astype(np.float64)


def _hop_samples(hop_ms: float) -> int:
    return max(1, round(hop_ms * ANALYSIS_RATE_HZ / 1000.0))


def _centred_frames(
    signal: npt.NDArray[np.float64], window_samples: int, hop_samples: int
) -> npt.NDArray[np.float64]:
    """Overlapping windows, frame k centred on sample k·hop (zeros beyond the ends)."""
    count = len(signal) // hop_samples + 1
    half = window_samples // 2
    padded = np.pad(signal, (half, half + hop_samples))
    starts = np.arange(count) * hop_samples
    return np.asarray(padded[starts[:, None] + np.arange(window_samples)[None, :]], dtype=np.float64)


def _hz_to_mel(hz: npt.NDArray[np.float64] | float) -> npt.NDArray[np.float64]:
    return np.asarray(2595.0 * np.log10(1.0 + np.asarray(hz) / 700.0))


def _mel_to_hz(mel: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    return np.asarray(700.0 * (10.0 ** (mel / 2595.0) - 1.0))
