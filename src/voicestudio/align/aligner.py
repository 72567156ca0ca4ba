"""The aligner contract: a recording and the text said in it → where each phone starts and ends."""

from collections.abc import Sequence
from typing import Final, Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt

from voicestudio.domain.alignment import Alignment
from voicestudio.domain.language import Language
from voicestudio.errors import VoicestudioError

# The take's peak must rise this far above digital silence for there to be anything to align.
MIN_PEAK_DBFS: Final = -60.0


class AlignmentFailed(VoicestudioError):
    """A recording whose phones could not be placed, with what the singer can do about it."""


def require_sound(samples: npt.NDArray[np.float32], sample_rate_hz: int) -> None:
    """Refuse, before any engine works on it, a take that is not mono, is empty or is silent."""
    if samples.ndim != 1:
        raise AlignmentFailed("The take has more than one channel; mix it to mono before aligning.")
    if sample_rate_hz <= 0 or len(samples) == 0:
        raise AlignmentFailed("The take is empty; record the prompt again.")
    if float(np.max(np.abs(samples))) <= 10.0 ** (MIN_PEAK_DBFS / 20.0):
        raise AlignmentFailed(
            f"The take is silent (peak below {MIN_PEAK_DBFS:.0f} dBFS); "
            "check the microphone and record it again."
        )


def increasing_within(boundaries_ms: npt.NDArray[np.float64], duration_ms: float) -> npt.NDArray[np.float64]:
    """Inner boundaries clipped to the take, each at least a hair after the one before, so an engine's
    alignment has no overlaps and no empty segments."""
    count = len(boundaries_ms)
    epsilon_ms = min(0.01, duration_ms / (count + 2))
    low = epsilon_ms * np.arange(1, count + 1)
    high = duration_ms - epsilon_ms * np.arange(count, 0, -1)
    rising = np.maximum.accumulate(np.clip(boundaries_ms, low, high) - low) + low
    return np.asarray(np.minimum(rising, high), dtype=np.float64)


class Aligner(Protocol):
    """An alignment engine; it derives the phones from `text` itself, so callers pass only what was said."""

    def align(
        self, samples: npt.NDArray[np.float32], sample_rate_hz: int, text: str, language: Language
    ) -> Alignment:
        """The phones of `text` in `samples` (mono), covering the whole recording from 0 ms to its end."""
        ...


@runtime_checkable
class PhonemeAligner(Aligner, Protocol):
    """An aligner that also takes the phones themselves, for a take the dictionary would read otherwise."""

    def align_phonemes(
        self,
        samples: npt.NDArray[np.float32],
        sample_rate_hz: int,
        phonemes: Sequence[str],
        language: Language,
    ) -> Alignment:
        """`phonemes`, spoken as given, in `samples` (mono), covering the whole recording."""
        ...
