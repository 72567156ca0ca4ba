"""The aligner contract: a recording and the text said in it → where each phone starts and ends."""

from collections.abc import Sequence
from typing import Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt

from voicestudio.domain.alignment import Alignment
from voicestudio.domain.language import Language
from voicestudio.errors import VoicestudioError


class AlignmentFailed(VoicestudioError):
    """A recording whose phones could not be placed, with what the singer can do about it."""


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
