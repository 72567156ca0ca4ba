"""The gate every take passes before analysis: readable, of a sane length and rate, and not silent."""

from dataclasses import dataclass
from pathlib import Path

from voicestudio.audio.analysis import peak_dbfs
from voicestudio.audio.errors import SampleRateTooLow, SilentAudio, TooLong, TooShort
from voicestudio.audio.io import AudioClip, probe_audio, read_audio


@dataclass(frozen=True, slots=True)
class TakeLimits:
    """Bounds a take must stay within; a take outside them is rejected, not merely warned about."""

    min_duration_s: float = 0.3  # shorter than one mora
    max_duration_s: float = 600.0  # a take is one prompt; 10 min is a long paragraph
    min_sample_rate_hz: int = 16000  # below this the consonants' noise is gone
    silence_peak_dbfs: float = -60.0  # a take whose loudest sample is below this holds no voice


DEFAULT_TAKE_LIMITS = TakeLimits()


def load_take(
    path: Path, limits: TakeLimits = DEFAULT_TAKE_LIMITS, sample_rate_hz: int | None = None
) -> AudioClip:
    """Read a take as mono float32 after checking it, cheapest check first.

    The header is checked before any sample is decoded, so a two-hour upload is turned away
    without reading it: not audio / cut off / empty → too long → sample rate → too short → silent.
    """
    path = Path(path)
    info = probe_audio(path)
    if info.duration_s > limits.max_duration_s:
        raise TooLong.at(path, info.duration_s, limits.max_duration_s)
    if info.sample_rate_hz < limits.min_sample_rate_hz:
        raise SampleRateTooLow.at(path, info.sample_rate_hz, limits.min_sample_rate_hz)
    clip = read_audio(path, sample_rate_hz)
    if clip.duration_s < limits.min_duration_s:
        raise TooShort.at(path, clip.duration_s, limits.min_duration_s)
    loudest_dbfs = peak_dbfs(clip.samples)
    if loudest_dbfs < limits.silence_peak_dbfs:
        raise SilentAudio.at(path, loudest_dbfs, limits.silence_peak_dbfs)
    return clip
