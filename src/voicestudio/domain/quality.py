"""The verdict on one take, in numbers and in words a singer understands."""

from dataclasses import dataclass, field
from enum import StrEnum


class Verdict(StrEnum):
    """ok: use it; warn: usable, but a retake would be better; fail: record it again."""

    ok = "ok"
    warn = "warn"
    fail = "fail"


@dataclass(frozen=True, slots=True)
class QualityReport:
    """Measurements of one take and the verdict they lead to; levels in dBFS, times in ms."""

    duration_ms: float
    sample_rate_hz: int
    peak_dbfs: float
    clipped_ratio: float
    rms_dbfs: float
    loudness_lufs: float
    noise_floor_dbfs: float
    snr_db: float
    leading_silence_ms: float
    trailing_silence_ms: float
    voiced_ratio: float
    f0_median_hz: float
    f0_min_hz: float
    f0_max_hz: float
    dc_offset: float
    verdict: Verdict
    reasons: tuple[str, ...] = field(default=())
