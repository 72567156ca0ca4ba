"""Frame features for comparing two utterances: normalised log-mel spectra at a common rate.

Both sides are resampled to 16 kHz so that a 48 kHz take and a 22.05 kHz reference land in the same
feature space; per-utterance mean/variance normalisation removes level and channel differences.
"""

from typing import Final

import numpy as np
import numpy.typing as npt

from voicestudio.audio.io import resample

ANALYSIS_RATE_HZ: Final = 16_000
WINDOW_MS: Final = 25.0
MIN_MEL_HZ: Final = 60.0
MAX_MEL_HZ: Final = 7_600.0
# Band energies are floored this far below the utterance's loudest band, so digital silence and a
# quiet room read the same instead of as -inf.
FLOOR_BELOW_PEAK_DB: Final = 50.0
DELTA_REACH_FRAMES: Final = 2
_VARIANCE_EPSILON: Final = 1e-8


def log_mel(
    samples: npt.NDArray[np.float32], sample_rate_hz: int, hop_ms: float = 5.0, n_mels: int = 40
) -> npt.NDArray[np.float32]:
    """Log-mel energies (frames × `n_mels`) at 16 kHz; frame k is centred at k·`hop_ms`."""
    signal = resample(np.asarray(samples, dtype=np.float32), sample_rate_hz, ANALYSIS_RATE_HZ)
    window_samples = round(WINDOW_MS * ANALYSIS_RATE_HZ / 1000.0)
    fft_size = 1 << (window_samples - 1).bit_length()
    frames = _centred_frames(signal.astype(np.float64), window_samples, _hop_samples(hop_ms))
    power = np.abs(np.fft.rfft(frames * np.hanning(window_samples), n=fft_size, axis=1)) ** 2
    bands = power @ mel_filterbank(n_mels, fft_size, ANALYSIS_RATE_HZ).T
    floor = max(float(bands.max()), 1e-20) * 10.0 ** (-FLOOR_BELOW_PEAK_DB / 10.0)
    return np.asarray(np.log(np.maximum(bands, floor)), dtype=np.float32)


def normalised(features: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
    """Each dimension shifted to mean 0 and scaled to variance 1 over the utterance."""
    mean = features.mean(axis=0, keepdims=True)
    deviation = np.sqrt(features.var(axis=0, keepdims=True) + _VARIANCE_EPSILON)
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


def mel_filterbank(n_mels: int, fft_size: int, sample_rate_hz: int) -> npt.NDArray[np.float64]:
    """Triangular filters (n_mels × fft_size/2+1), equally spaced on the HTK mel scale, peak 1."""
    edges_hz = _mel_to_hz(np.linspace(_hz_to_mel(MIN_MEL_HZ), _hz_to_mel(MAX_MEL_HZ), n_mels + 2))
    bins_hz = np.linspace(0.0, sample_rate_hz / 2.0, fft_size // 2 + 1)
    lower, centre, upper = edges_hz[:-2, None], edges_hz[1:-1, None], edges_hz[2:, None]
    rising = (bins_hz - lower) / (centre - lower)
    falling = (upper - bins_hz) / (upper - centre)
    return np.maximum(0.0, np.minimum(rising, falling))


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
