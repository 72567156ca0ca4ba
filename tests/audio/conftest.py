"""Takes for the audio tests, built once a session: one clean sung-speech take and the ways one goes wrong."""

from pathlib import Path

import numpy as np
import pytest

from voicestudio.audio.io import AudioClip, read_audio, write_wav_atomic
from voicestudio.errors import VoicestudioError

from . import damaged

SENTENCE = "こんにちは、今日はいい天気ですね。"
CLEAN_RATE_HZ = 48000
CLEAN_PEAK_DBFS = -3.0


def _speech(request: pytest.FixtureRequest) -> AudioClip:
    """The session's synthesized Japanese sentence, or the same sentence in pyopenjtalk's own voice
    where the session cannot synthesize it."""
    try:
        shared = request.getfixturevalue("ja_speech")
        return read_audio(shared.wav_path, CLEAN_RATE_HZ)
    except (pytest.FixtureLookupError, VoicestudioError):
        import pyopenjtalk

        samples, rate_hz = pyopenjtalk.tts(SENTENCE)
        return AudioClip(np.asarray(samples / 32768.0, dtype=np.float32), int(rate_hz))


@pytest.fixture(scope="session")
def takes_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("takes")


@pytest.fixture(scope="session")
def clean_take(request: pytest.FixtureRequest, takes_dir: Path) -> Path:
    """A clean 3 s spoken sentence, 48 kHz 16-bit, peak at -3 dBFS, with ~0.25 s of quiet at each end."""
    speech = _speech(request)
    samples = speech.samples / np.max(np.abs(speech.samples)) * 10.0 ** (CLEAN_PEAK_DBFS / 20.0)
    path = takes_dir / "clean.wav"
    write_wav_atomic(path, samples, speech.sample_rate_hz)
    return path


@pytest.fixture(scope="session")
def clean_clip(clean_take: Path) -> AudioClip:
    return read_audio(clean_take)


@pytest.fixture(scope="session")
def clipped_take(clean_take: Path, takes_dir: Path) -> Path:
    return damaged.clipped(clean_take, takes_dir / "clipped.wav", gain=8.0)


@pytest.fixture(scope="session")
def noisy_take(clean_take: Path, takes_dir: Path) -> Path:
    return damaged.noisy(clean_take, takes_dir / "noisy.wav", snr_db=10.0)


@pytest.fixture(scope="session")
def quiet_take(clean_take: Path, takes_dir: Path) -> Path:
    return damaged.quiet(clean_take, takes_dir / "quiet.wav", peak_dbfs=-36.0)


@pytest.fixture(scope="session")
def silent_take(clean_take: Path, takes_dir: Path) -> Path:
    return damaged.silent(clean_take, takes_dir / "silent.wav", peak_dbfs=-80.0)


@pytest.fixture(scope="session")
def low_rate_take(clean_take: Path, takes_dir: Path) -> Path:
    return damaged.low_rate(clean_take, takes_dir / "low_rate.wav", sample_rate_hz=8000)


@pytest.fixture(scope="session")
def truncated_take(clean_take: Path, takes_dir: Path) -> Path:
    return damaged.truncated_header(clean_take, takes_dir / "truncated.wav", keep_bytes=30)


@pytest.fixture(scope="session")
def cut_short_take(clean_take: Path, takes_dir: Path) -> Path:
    return damaged.truncated_data(clean_take, takes_dir / "cut_short.wav", keep_fraction=0.5)


@pytest.fixture(scope="session")
def two_hour_take(takes_dir: Path) -> Path:
    return damaged.sparse_long(takes_dir / "two_hours.wav", duration_s=7200.0, sample_rate_hz=16000)


@pytest.fixture(scope="session")
def not_audio_file(takes_dir: Path) -> Path:
    return damaged.not_audio(takes_dir / "not_audio.wav")


@pytest.fixture(scope="session")
def empty_take(takes_dir: Path) -> Path:
    return damaged.empty(takes_dir / "empty.wav")
