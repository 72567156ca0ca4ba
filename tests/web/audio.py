"""Takes for the web tests: reference morae held like a singer holds them, and takes that must be refused."""

import io

import numpy as np
import numpy.typing as npt
import soundfile as sf

from fixtures.stretch import WORLD_RATE_HZ, stretched_take
from voicestudio.align.reference import synthesize_japanese
from voicestudio.audio.io import resample

TAKE_RATE_HZ = 44_100
HOLD_FACTOR = 2.0  # a CV singer holds the mora: twice as long as the synthesizer says it
CLIP_GAIN = 30.0  # far past full scale: clipped on every loud period


def wav_bytes(samples: npt.NDArray[np.float32], sample_rate_hz: int) -> bytes:
    """16-bit PCM WAV, as the browser's recorder uploads it."""
    out = io.BytesIO()
    sf.write(out, np.clip(samples, -1.0, 1.0), sample_rate_hz, subtype="PCM_16", format="WAV")
    return out.getvalue()


def held_mora(kana: str) -> npt.NDArray[np.float32]:
    """One mora (HTS) held HOLD_FACTOR times as long, with 0.5 s of faint noise around it, at 44.1 kHz."""
    speech = synthesize_japanese(kana)
    held = stretched_take(speech.samples, speech.sample_rate_hz, HOLD_FACTOR, 0.0)
    return resample(held, WORLD_RATE_HZ, TAKE_RATE_HZ)


def clipped(samples: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
    """The take recorded with the gain far too high."""
    return np.clip(samples * CLIP_GAIN, -1.0, 1.0).astype(np.float32)


def silent_take() -> bytes:
    """Two seconds of digital silence: a muted microphone."""
    return wav_bytes(np.zeros(2 * TAKE_RATE_HZ, dtype=np.float32), TAKE_RATE_HZ)
