"""Recordings: reading, writing and resampling, the validation gate, analysis, quality verdicts, pictures.

`voicestudio.audio.pictures` is imported on its own, so that loading matplotlib is paid only when drawing.
"""

from voicestudio.audio.errors import (
    AudioError,
    EmptyAudio,
    MissingAudio,
    NotAudio,
    SampleRateTooLow,
    SilentAudio,
    TooLong,
    TooShort,
    TruncatedAudio,
)
from voicestudio.audio.io import AudioClip, AudioInfo, probe_audio, read_audio, resample, write_wav_atomic
from voicestudio.audio.quality import assess, check_take
from voicestudio.audio.validate import DEFAULT_TAKE_LIMITS, TakeLimits, load_take

__all__ = [
    "DEFAULT_TAKE_LIMITS",
    "AudioClip",
    "AudioError",
    "AudioInfo",
    "EmptyAudio",
    "MissingAudio",
    "NotAudio",
    "SampleRateTooLow",
    "SilentAudio",
    "TakeLimits",
    "TooLong",
    "TooShort",
    "TruncatedAudio",
    "assess",
    "check_take",
    "load_take",
    "probe_audio",
    "read_audio",
    "resample",
    "write_wav_atomic",
]
