"""Ways a take goes wrong, each a function from a good recording (path) to a damaged copy (path)."""

import os
import struct
from pathlib import Path

import numpy as np
import soundfile as sf

from voicestudio.audio.io import read_audio, write_wav_atomic


def clipped(src: Path, dst: Path, gain: float = 8.0) -> Path:
    """The take recorded with the input gain far too high: amplified, then clipped at full scale."""
    clip = read_audio(src)
    write_wav_atomic(dst, np.clip(clip.samples * gain, -1.0, 1.0), clip.sample_rate_hz)
    return dst


def noisy(src: Path, dst: Path, snr_db: float = 10.0, seed: int = 20240611) -> Path:
    """The take with white noise `snr_db` below the take's own RMS level (a fan, a busy street)."""
    clip = read_audio(src)
    signal_rms = float(np.sqrt(np.mean(np.square(clip.samples, dtype=np.float64))))
    noise_rms = signal_rms / 10.0 ** (snr_db / 20.0)
    noise = np.random.default_rng(seed).normal(0.0, noise_rms, len(clip.samples))
    write_wav_atomic(dst, clip.samples + noise.astype(np.float32), clip.sample_rate_hz)
    return dst


def quiet(src: Path, dst: Path, peak_dbfs: float = -36.0) -> Path:
    """The take recorded with the input gain too low: its loudest sample at `peak_dbfs`."""
    clip = read_audio(src)
    gain = 10.0 ** (peak_dbfs / 20.0) / float(np.max(np.abs(clip.samples)))
    write_wav_atomic(dst, clip.samples * gain, clip.sample_rate_hz)
    return dst


def silent(src: Path, dst: Path, peak_dbfs: float = -80.0, seed: int = 7) -> Path:
    """A take as long as `src` in which only a faint hiss was recorded (a muted microphone)."""
    clip = read_audio(src)
    hiss = np.random.default_rng(seed).uniform(-1.0, 1.0, len(clip.samples))
    write_wav_atomic(dst, hiss * 10.0 ** (peak_dbfs / 20.0), clip.sample_rate_hz, bit_depth=24)
    return dst


def low_rate(src: Path, dst: Path, sample_rate_hz: int = 8000) -> Path:
    """The take as a telephone-quality recorder would have saved it."""
    clip = read_audio(src, sample_rate_hz)
    write_wav_atomic(dst, clip.samples, sample_rate_hz)
    return dst


def truncated_header(src: Path, dst: Path, keep_bytes: int = 30) -> Path:
    """The first `keep_bytes` of the file: an upload cut off inside the WAV header."""
    dst.write_bytes(src.read_bytes()[:keep_bytes])
    return dst


def truncated_data(src: Path, dst: Path, keep_fraction: float = 0.5) -> Path:
    """The file cut at `keep_fraction` of its length: the header still announces all the audio."""
    data = src.read_bytes()
    dst.write_bytes(data[: int(len(data) * keep_fraction)])
    return dst


def not_audio(dst: Path, size_bytes: int = 4096, seed: int = 3) -> Path:
    """Random bytes under an audio file's name."""
    dst.write_bytes(np.random.default_rng(seed).bytes(size_bytes))
    return dst


def empty(dst: Path, sample_rate_hz: int = 48000) -> Path:
    """A valid WAV header with no samples after it: a recording that never started."""
    sf.write(str(dst), np.zeros(0, dtype=np.float32), sample_rate_hz, subtype="PCM_16", format="WAV")
    return dst


def sparse_long(dst: Path, duration_s: float = 7200.0, sample_rate_hz: int = 16000) -> Path:
    """A complete 16-bit mono WAV of `duration_s` of silence that takes no disk space (a sparse file).

    The header is written by hand and the file extended with `truncate`, so no sample is written.
    """
    data_bytes = round(duration_s * sample_rate_hz) * 2
    header = b"RIFF" + struct.pack("<I", 36 + data_bytes) + b"WAVE"
    header += b"fmt " + struct.pack("<IHHIIHH", 16, 1, 1, sample_rate_hz, sample_rate_hz * 2, 2, 16)
    header += b"data" + struct.pack("<I", data_bytes)
    with dst.open("wb") as f:
        f.write(header)
    os.truncate(dst, len(header) + data_bytes)
    return dst
