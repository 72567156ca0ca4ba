"""One engine first, another when the first fails or is unsure: any two aligners behind the one protocol."""

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from voicestudio.align.aligner import Aligner, AlignmentFailed
from voicestudio.align.metrics import GAPS
from voicestudio.domain.alignment import Alignment
from voicestudio.domain.language import Language


def mean_phone_score(alignment: Alignment) -> float:
    """The mean score of the spoken phones (silences left out); 0 when nothing was spoken."""
    scores = [s.score for s in alignment.segments if s.phone not in GAPS]
    return float(np.mean(scores)) if scores else 0.0


@dataclass(frozen=True, slots=True)
class AlignerChoice:
    """An alignment and which engine made it; `reason` says why the primary's was not taken."""

    alignment: Alignment
    fell_back: bool
    reason: str = ""


@dataclass(frozen=True, slots=True)
class FallbackAligner:
    """Aligns with `primary`; takes `fallback`'s alignment when the primary raises AlignmentFailed or its
    mean spoken-phone score is below `min_score` (scores are on each engine's own scale)."""

    primary: Aligner
    fallback: Aligner
    min_score: float

    def align(
        self, samples: npt.NDArray[np.float32], sample_rate_hz: int, text: str, language: Language
    ) -> Alignment:
        """The primary's alignment when it succeeded and is sure enough, else the fallback's."""
        return self.choose(samples, sample_rate_hz, text, language).alignment

    def choose(
        self, samples: npt.NDArray[np.float32], sample_rate_hz: int, text: str, language: Language
    ) -> AlignerChoice:
        """Like `align`, telling which engine was used and why; the fallback's errors reach the caller."""
        try:
            found = self.primary.align(samples, sample_rate_hz, text, language)
        except AlignmentFailed as e:
            reason = str(e)
        else:
            score = mean_phone_score(found)
            if score >= self.min_score:
                return AlignerChoice(found, fell_back=False)
            reason = f"mean phone score {score:.2f} is below {self.min_score:.2f}"
        return AlignerChoice(self.fallback.align(samples, sample_rate_hz, text, language), True, reason)
