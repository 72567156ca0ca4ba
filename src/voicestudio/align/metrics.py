"""How far an alignment's boundaries are from the true ones, for tests, benchmarks and engine choice."""

import difflib
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from voicestudio.domain.alignment import Alignment

GAPS = frozenset({"sil", "pau", "sp", ""})


def matching_start_errors_ms(
    found: Alignment, truth: Alignment, scale: float = 1.0, shift_ms: float = 0.0
) -> npt.NDArray[np.float64]:
    """|found − true| start of every spoken phone both phone strings agree on (pauses left out).

    `scale` and `shift_ms` map the true times onto the take when it was stretched or padded.
    """
    a = [s for s in found.segments if s.phone not in GAPS]
    b = [s for s in truth.segments if s.phone not in GAPS]
    matcher = difflib.SequenceMatcher(a=[s.phone for s in a], b=[s.phone for s in b], autojunk=False)
    return np.array(
        [
            abs(a[block.a + k].start_ms - (b[block.b + k].start_ms * scale + shift_ms))
            for block in matcher.get_matching_blocks()
            for k in range(block.size)
        ],
        dtype=np.float64,
    )


@dataclass(frozen=True, slots=True)
class ErrorSummary:
    """Boundary errors in ms, summarised as the benchmarks report them."""

    count: int
    mean_ms: float
    median_ms: float
    p90_ms: float
    within_20ms: float  # share 0..1
    within_50ms: float


def summarize_errors_ms(errors_ms: npt.NDArray[np.float64]) -> ErrorSummary:
    """Mean, median, 90th percentile and the shares within 20 and 50 ms."""
    if len(errors_ms) == 0:
        return ErrorSummary(0, float("nan"), float("nan"), float("nan"), 0.0, 0.0)
    return ErrorSummary(
        count=len(errors_ms),
        mean_ms=float(np.mean(errors_ms)),
        median_ms=float(np.median(errors_ms)),
        p90_ms=float(np.percentile(errors_ms, 90)),
        within_20ms=float(np.mean(errors_ms <= 20.0)),
        within_50ms=float(np.mean(errors_ms <= 50.0)),
    )
