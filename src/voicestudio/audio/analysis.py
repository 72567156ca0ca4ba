"""Measurements of a mono recording: levels, clipping, noise, silences, f0. Pure functions on arrays.

Levels are in dBFS relative to a full-scale square wave (a full-scale sine has an RMS of -3 dBFS);
anything quieter than `FLOOR_DBFS` is reported as `FLOOR_DBFS`, so every result is a finite number.
"""

import numpy as np
import numpy.typing as npt
import pyloudnorm
import pyworld
import soxr

FLOOR_DBFS = -120.0  # below 24-bit dither; reported for digital silence instead of -inf
LOUDNESS_FLOOR_LUFS = -70.0  # the absolute gate of ITU-R BS.1770; reported for silence or < 0.4 s
LOUDNESS_MIN_DURATION_S = 0.4  # one BS.1770 gating block
CLIP_LEVEL = 0.999  # |x| at or above this is a clipped sample
CLIP_RUN_SAMPLES = 3  # this many equal samples at the file's extreme are a flattened (clipped) top
CLIP_RUN_MIN_LEVEL = 0.25  # flat tops quieter than -12 dBFS are quantisation, not clipping
NOISE_PERCENTILE = 5.0  # the quietest 5 % of frames are taken as the room's background
VOICE_MARGIN_DB = 6.0  # frames this far above the background count as voice for the SNR
SILENCE_MARGIN_DB = 12.0  # the voice starts/ends where frames rise this far above the background
SILENCE_FLOOR_DBFS = -60.0  # ... and above this absolute level
MIN_VOICE_MS = 30.0  # a voice onset lasts at least this long; shorter bursts are clicks
F0_FLOOR_HZ = 70.0  # below a bass's low E (82 Hz); lower floors let DIO find 60 Hz ghosts in breaths
F0_CEIL_HZ = 1100.0  # above a soprano's high C
F0_FRAME_PERIOD_MS = 5.0
F0_ANALYSIS_RATE_HZ = 16000  # f0 is estimated at this rate: well above 2 × F0_CEIL_HZ, and fast
F0_BLOCK_S = 10.0  # DIO's time grows faster than the length; 10 s blocks keep it proportional
F0_BLOCK_CONTEXT_S = 1.0  # audio either side of a block, so its edge frames equal one long call's

FloatArray = npt.NDArray[np.floating]


def _power_to_dbfs(power: float) -> float:
    """Mean square → dBFS, never below FLOOR_DBFS."""
    return max(10.0 * float(np.log10(power)) if power > 0 else FLOOR_DBFS, FLOOR_DBFS)


def peak_dbfs(samples: FloatArray) -> float:
    """Level of the loudest sample in dBFS (0 = full scale); FLOOR_DBFS for silence or no samples."""
    if len(samples) == 0:
        return FLOOR_DBFS
    return _power_to_dbfs(float(np.max(np.abs(samples))) ** 2)


def rms_dbfs(samples: FloatArray) -> float:
    """Root-mean-square level of the whole recording in dBFS; FLOOR_DBFS for silence or no samples."""
    if len(samples) == 0:
        return FLOOR_DBFS
    return _power_to_dbfs(float(np.mean(np.square(samples), dtype=np.float64)))


def clipped_ratio(samples: FloatArray) -> float:
    """Fraction (0..1) of samples that are clipped.

    A sample is clipped when |x| >= CLIP_LEVEL, or when it belongs to a run of CLIP_RUN_SAMPLES or
    more equal samples at the recording's maximum or minimum: the flat top an integer recorder
    leaves, even after the file was turned down.
    """
    if len(samples) == 0:
        return 0.0
    x = np.asarray(samples)
    clipped = np.abs(x) >= CLIP_LEVEL
    for extreme in (x.max(), x.min()):
        if abs(float(extreme)) >= CLIP_RUN_MIN_LEVEL:
            clipped |= _in_runs_of_at_least(x == extreme, CLIP_RUN_SAMPLES)
    return float(np.mean(clipped))


def _in_runs_of_at_least(mask: npt.NDArray[np.bool_], run_length: int) -> npt.NDArray[np.bool_]:
    """True where `mask` is True within a run of at least `run_length` consecutive Trues."""
    edges = np.diff(np.concatenate(([0], mask.astype(np.int8), [0])))
    starts = np.flatnonzero(edges == 1)
    ends = np.flatnonzero(edges == -1)
    long_runs = (ends - starts) >= run_length
    marks = np.zeros(len(mask) + 1, dtype=np.int64)
    np.add.at(marks, starts[long_runs], 1)
    np.add.at(marks, ends[long_runs], -1)
    return np.cumsum(marks[:-1]) > 0


def integrated_loudness_lufs(samples: FloatArray, sample_rate_hz: int) -> float:
    """Programme loudness in LUFS (ITU-R BS.1770, gated); LOUDNESS_FLOOR_LUFS for silence or < 0.4 s."""
    if len(samples) < LOUDNESS_MIN_DURATION_S * sample_rate_hz:
        return LOUDNESS_FLOOR_LUFS
    meter = pyloudnorm.Meter(sample_rate_hz)
    loudness = float(meter.integrated_loudness(np.asarray(samples, dtype=np.float64)))
    if not np.isfinite(loudness):
        return LOUDNESS_FLOOR_LUFS
    return max(loudness, LOUDNESS_FLOOR_LUFS)


def frame_rms_dbfs(
    samples: FloatArray, sample_rate_hz: int, frame_ms: float = 10.0
) -> npt.NDArray[np.float64]:
    """RMS level in dBFS of each consecutive `frame_ms` frame (the last one may be shorter)."""
    return _frame_levels_dbfs(samples, sample_rate_hz, frame_ms, remove_frame_mean=False)


def _ac_frame_levels_dbfs(
    samples: FloatArray, sample_rate_hz: int, frame_ms: float
) -> npt.NDArray[np.float64]:
    """Frame levels with each frame's own mean removed: a DC offset is neither voice nor noise."""
    return _frame_levels_dbfs(samples, sample_rate_hz, frame_ms, remove_frame_mean=True)


def _frame_levels_dbfs(
    samples: FloatArray, sample_rate_hz: int, frame_ms: float, remove_frame_mean: bool
) -> npt.NDArray[np.float64]:
    """Mean square per frame in dBFS, optionally of the frame's deviation from its own mean."""
    frame_len = max(1, round(sample_rate_hz * frame_ms / 1000.0))
    x = np.asarray(samples)
    full = len(x) // frame_len
    frames = [x[: full * frame_len].reshape(full, frame_len)]
    if len(x) > full * frame_len:
        frames.append(x[full * frame_len :].reshape(1, -1))
    powers = [
        (
            f.var(axis=1, dtype=np.float64)
            if remove_frame_mean
            else np.square(f).mean(axis=1, dtype=np.float64)
        )
        for f in frames
    ]
    power = np.concatenate(powers) if powers else np.zeros(0)
    floor_power = 10.0 ** (FLOOR_DBFS / 10.0)
    return np.asarray(10.0 * np.log10(np.maximum(power, floor_power)), dtype=np.float64)


def noise_floor_dbfs(
    samples: FloatArray, sample_rate_hz: int, percentile: float = NOISE_PERCENTILE, frame_ms: float = 10.0
) -> float:
    """Background level in dBFS: the `percentile`-th percentile of the frame levels, DC offset removed."""
    levels = _ac_frame_levels_dbfs(samples, sample_rate_hz, frame_ms)
    if len(levels) == 0:
        return FLOOR_DBFS
    return float(np.percentile(levels, percentile))


def snr_db(samples: FloatArray, sample_rate_hz: int, frame_ms: float = 10.0) -> float:
    """How far the voice stands above the background, in dB.

    Voice frames are those VOICE_MARGIN_DB above the noise floor; the background's power is taken
    out of their mean power before comparing, so the result estimates the voice-to-noise ratio.
    A DC offset is neither voice nor noise and is removed first. 0 when nothing rises above the background.
    """
    levels = _ac_frame_levels_dbfs(samples, sample_rate_hz, frame_ms)
    if len(levels) == 0:
        return 0.0
    noise_dbfs = float(np.percentile(levels, NOISE_PERCENTILE))
    voice = levels[levels >= noise_dbfs + VOICE_MARGIN_DB]
    if len(voice) == 0:
        return 0.0
    noise_power = 10.0 ** (noise_dbfs / 10.0)
    voice_power = float(np.mean(10.0 ** (voice / 10.0))) - noise_power
    if voice_power <= 0:
        return 0.0
    return 10.0 * float(np.log10(voice_power / noise_power))


def _voice_frames(
    samples: FloatArray, sample_rate_hz: int, floor_dbfs: float, margin_db: float, frame_ms: float
) -> npt.NDArray[np.bool_]:
    """Per frame: True inside a stretch of voice at least MIN_VOICE_MS long."""
    levels = _ac_frame_levels_dbfs(samples, sample_rate_hz, frame_ms)
    if len(levels) == 0:
        return np.zeros(0, dtype=bool)
    threshold_dbfs = max(float(np.percentile(levels, NOISE_PERCENTILE)) + margin_db, floor_dbfs)
    min_frames = max(1, round(MIN_VOICE_MS / frame_ms))
    return _in_runs_of_at_least(levels > threshold_dbfs, min_frames)


def leading_silence_ms(
    samples: FloatArray,
    sample_rate_hz: int,
    floor_dbfs: float = SILENCE_FLOOR_DBFS,
    margin_db: float = SILENCE_MARGIN_DB,
    frame_ms: float = 10.0,
) -> float:
    """Time before the voice starts, in ms; the whole duration when there is no voice.

    The voice starts where the 10 ms level first stays above both the noise floor + `margin_db`
    and `floor_dbfs` for MIN_VOICE_MS.
    """
    voiced = _voice_frames(samples, sample_rate_hz, floor_dbfs, margin_db, frame_ms)
    if not voiced.any():
        return 1000.0 * len(samples) / sample_rate_hz
    return float(np.argmax(voiced)) * frame_ms


def trailing_silence_ms(
    samples: FloatArray,
    sample_rate_hz: int,
    floor_dbfs: float = SILENCE_FLOOR_DBFS,
    margin_db: float = SILENCE_MARGIN_DB,
    frame_ms: float = 10.0,
) -> float:
    """Time after the voice ends, in ms; the whole duration when there is no voice (see leading)."""
    voiced = _voice_frames(samples, sample_rate_hz, floor_dbfs, margin_db, frame_ms)
    duration_ms = 1000.0 * len(samples) / sample_rate_hz
    if not voiced.any():
        return duration_ms
    voice_end_ms = (len(voiced) - int(np.argmax(voiced[::-1]))) * frame_ms
    return max(0.0, duration_ms - voice_end_ms)


def f0_track_hz(
    samples: FloatArray,
    sample_rate_hz: int,
    f0_floor_hz: float = F0_FLOOR_HZ,
    f0_ceil_hz: float = F0_CEIL_HZ,
    frame_period_ms: float = F0_FRAME_PERIOD_MS,
) -> npt.NDArray[np.float64]:
    """Fundamental frequency in Hz every `frame_period_ms` (frame i at i × period), 0 where unvoiced.

    WORLD's DIO estimate refined by StoneMask, computed at F0_ANALYSIS_RATE_HZ (or the file's rate
    when lower), in float64 as WORLD requires. Long recordings go through in F0_BLOCK_S blocks.
    """
    x = np.asarray(samples, dtype=np.float64)
    if len(x) == 0:
        return np.zeros(0, dtype=np.float64)
    rate_hz = sample_rate_hz
    if sample_rate_hz > F0_ANALYSIS_RATE_HZ:
        x = np.asarray(soxr.resample(x, sample_rate_hz, F0_ANALYSIS_RATE_HZ), dtype=np.float64)
        rate_hz = F0_ANALYSIS_RATE_HZ
    ceil_hz = min(f0_ceil_hz, rate_hz / 2.0 - 1.0)
    hop = rate_hz * frame_period_ms / 1000.0
    if not hop.is_integer():  # blocks must start on a frame; otherwise analyse in one piece
        return _world_f0_hz(x, rate_hz, f0_floor_hz, ceil_hz, frame_period_ms)
    hop_samples = int(hop)
    n_frames = _world_frame_count(len(x), rate_hz, frame_period_ms)
    block_frames = round(F0_BLOCK_S * 1000.0 / frame_period_ms)
    context_frames = round(F0_BLOCK_CONTEXT_S * 1000.0 / frame_period_ms)
    track_hz = np.zeros(n_frames, dtype=np.float64)
    for first in range(0, n_frames, block_frames):
        last = min(first + block_frames, n_frames)
        from_frame = max(0, first - context_frames)
        piece = x[from_frame * hop_samples : (last + context_frames) * hop_samples]
        piece_hz = _world_f0_hz(piece, rate_hz, f0_floor_hz, ceil_hz, frame_period_ms)
        track_hz[first:last] = piece_hz[first - from_frame : last - from_frame]
    return track_hz


def _world_frame_count(n_samples: int, rate_hz: int, frame_period_ms: float) -> int:
    """How many frames WORLD gives `n_samples`: one every period from 0 up to the last sample."""
    return int(1000.0 * n_samples / rate_hz / frame_period_ms) + 1


def _world_f0_hz(
    x: npt.NDArray[np.float64], rate_hz: int, f0_floor_hz: float, f0_ceil_hz: float, frame_period_ms: float
) -> npt.NDArray[np.float64]:
    """DIO then StoneMask on one piece of audio."""
    x = np.ascontiguousarray(x)
    coarse_hz, times_s = pyworld.dio(
        x, rate_hz, f0_floor=f0_floor_hz, f0_ceil=f0_ceil_hz, frame_period=frame_period_ms
    )
    return np.asarray(pyworld.stonemask(x, coarse_hz, times_s, rate_hz), dtype=np.float64)


def voiced_ratio(f0_hz: FloatArray) -> float:
    """Fraction (0..1) of f0 frames that are voiced (f0 > 0); 0 for an empty track."""
    if len(f0_hz) == 0:
        return 0.0
    return float(np.mean(np.asarray(f0_hz) > 0))


def dc_offset(samples: FloatArray) -> float:
    """Mean sample value, as a fraction of full scale (0 for a well-behaved interface)."""
    if len(samples) == 0:
        return 0.0
    return float(np.mean(samples, dtype=np.float64))
