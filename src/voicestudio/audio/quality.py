"""The verdict on one take: measurements, then rules a singer understands, each with its number and action.

fail (record it again) when:
  - more than CLIPPED_FAIL_RATIO of the samples are clipped;
  - the voice is less than SNR_FAIL_DB above the background;
  - less than NO_VOICE_MS of the take has a pitch.
warn (usable, a retake would be better) when:
  - any clipping above CLIPPED_WARN_RATIO, or the voice is less than SNR_WARN_DB above the background;
  - the peak is below QUIET_PEAK_DBFS;
  - the silence before the voice is longer than LONG_LEADING_SILENCE_MS or shorter than
    SHORT_EDGE_SILENCE_MS, or after it longer than LONG_TRAILING_SILENCE_MS or shorter than
    SHORT_EDGE_SILENCE_MS;
  - |DC offset| exceeds DC_OFFSET_WARN;
  - the sample rate is below LOW_SAMPLE_RATE_HZ.
"""

from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import numpy.typing as npt

from voicestudio.audio import analysis
from voicestudio.audio.io import AudioClip
from voicestudio.audio.validate import DEFAULT_TAKE_LIMITS, TakeLimits, load_take
from voicestudio.domain import QualityReport, Verdict

CLIPPED_FAIL_RATIO = 0.001  # 0.1 % of samples: audible crackle on every loud vowel
CLIPPED_WARN_RATIO = 0.0001  # 0.01 %: a few flattened peaks, usually inaudible
SNR_FAIL_DB = 15.0  # the background is plainly audible under the voice
SNR_WARN_DB = 25.0  # usable for UTAU, but a neural voice learns the room too
SNR_AIM_DB = 30.0  # what a quiet room and a close microphone give
QUIET_PEAK_DBFS = -30.0  # the voice sits in the bottom bits; raising it later raises the noise too
GOOD_PEAK_RANGE_DBFS = (-12.0, -3.0)  # where a peak should land
LONG_LEADING_SILENCE_MS = 2000.0
LONG_TRAILING_SILENCE_MS = 3000.0
SHORT_EDGE_SILENCE_MS = 100.0  # less than this and the first consonant or the release may be cut
DC_OFFSET_WARN = 0.02  # 2 % of full scale: an interface bias, not the voice's own asymmetry
NO_VOICE_MS = 150.0  # less pitched sound than half a mora: nothing was sung or spoken
LOW_SAMPLE_RATE_HZ = 44100  # UTAU and the neural engines expect 44.1 or 48 kHz
F0_RANGE_PERCENTILES = (2.0, 98.0)  # f0 min/max ignore the outer 2 %: octave slips at voice edges


@dataclass(frozen=True, slots=True)
class _Finding:
    """One reason, with how serious it is."""

    verdict: Verdict
    reason: str


Rule = Callable[[QualityReport], _Finding | None]


def check_take(path: Path, limits: TakeLimits = DEFAULT_TAKE_LIMITS) -> QualityReport:
    """Load a take through the validation gate (raising its AudioError) and assess it."""
    return assess(load_take(path, limits))


def assess(clip: AudioClip) -> QualityReport:
    """Measure `clip` and judge it; f0 min/max are the 2nd/98th percentiles of the voiced frames."""
    x, rate_hz = clip.samples, clip.sample_rate_hz
    f0_hz = analysis.f0_track_hz(x, rate_hz)
    low_hz, median_hz, high_hz = _f0_summary_hz(f0_hz)
    measured = QualityReport(
        duration_ms=1000.0 * clip.duration_s,
        sample_rate_hz=rate_hz,
        peak_dbfs=analysis.peak_dbfs(x),
        clipped_ratio=analysis.clipped_ratio(x),
        rms_dbfs=analysis.rms_dbfs(x),
        loudness_lufs=analysis.integrated_loudness_lufs(x, rate_hz),
        noise_floor_dbfs=analysis.noise_floor_dbfs(x, rate_hz),
        snr_db=analysis.snr_db(x, rate_hz),
        leading_silence_ms=analysis.leading_silence_ms(x, rate_hz),
        trailing_silence_ms=analysis.trailing_silence_ms(x, rate_hz),
        voiced_ratio=analysis.voiced_ratio(f0_hz),
        f0_median_hz=median_hz,
        f0_min_hz=low_hz,
        f0_max_hz=high_hz,
        dc_offset=analysis.dc_offset(x),
        verdict=Verdict.ok,
    )
    return judge(measured)


def judge(report: QualityReport) -> QualityReport:
    """The same measurements with the verdict and reasons the rules give; failures are listed first."""
    rules = _RULES_WITHOUT_VOICE if _voiced_ms(report) < NO_VOICE_MS else _RULES_WITH_VOICE
    findings = [f for f in (rule(report) for rule in rules) if f is not None]
    fails = [f.reason for f in findings if f.verdict is Verdict.fail]
    warns = [f.reason for f in findings if f.verdict is Verdict.warn]
    verdict = Verdict.fail if fails else Verdict.warn if warns else Verdict.ok
    return replace(report, verdict=verdict, reasons=tuple(fails + warns))


def _f0_summary_hz(f0_hz: npt.NDArray[np.float64]) -> tuple[float, float, float]:
    """(low, median, high) of the voiced frames in Hz; zeros when nothing is voiced."""
    voiced = f0_hz[f0_hz > 0]
    if len(voiced) == 0:
        return 0.0, 0.0, 0.0
    low, high = np.percentile(voiced, F0_RANGE_PERCENTILES)
    return float(low), float(np.median(voiced)), float(high)


def _voiced_ms(report: QualityReport) -> float:
    return report.voiced_ratio * report.duration_ms


def _percent(ratio: float) -> str:
    pct = 100.0 * ratio
    return f"{pct:.1f}" if pct >= 0.1 else f"{pct:.2f}"


def _clipping(report: QualityReport) -> _Finding | None:
    pct = _percent(report.clipped_ratio)
    if report.clipped_ratio > CLIPPED_FAIL_RATIO:
        return _Finding(Verdict.fail, f"clipped {pct} % of samples: lower the input gain and retake")
    if report.clipped_ratio > CLIPPED_WARN_RATIO:
        return _Finding(
            Verdict.warn, f"a few clipped samples ({pct} %): lower the input gain a little for the next take"
        )
    return None


def _noise(report: QualityReport) -> _Finding | None:
    aim = f"(aim for {SNR_AIM_DB:.0f} dB or more)"
    if report.snr_db < SNR_FAIL_DB:
        return _Finding(
            Verdict.fail,
            f"noisy: the voice is only {report.snr_db:.0f} dB above the background {aim}: "
            "record in a quieter room or closer to the microphone",
        )
    if report.snr_db < SNR_WARN_DB:
        return _Finding(
            Verdict.warn,
            f"some background noise: the voice is {report.snr_db:.0f} dB above the background {aim}: "
            "a quieter room or a closer microphone would help",
        )
    return None


def _no_voice(report: QualityReport) -> _Finding | None:
    if _voiced_ms(report) >= NO_VOICE_MS:
        return None
    return _Finding(
        Verdict.fail,
        f"no voice found: only {_voiced_ms(report) / 1000.0:.1f} s of the take has a pitch: "
        "check that the microphone picks up your voice, then retake",
    )


def _quiet(report: QualityReport) -> _Finding | None:
    if report.peak_dbfs >= QUIET_PEAK_DBFS:
        return None
    low, high = GOOD_PEAK_RANGE_DBFS
    return _Finding(
        Verdict.warn,
        f"quiet: peak {report.peak_dbfs:.0f} dBFS: raise the input gain "
        f"(aim for a peak between {low:.0f} and {high:.0f} dBFS)",
    )


def _leading_silence(report: QualityReport) -> _Finding | None:
    silence_ms = report.leading_silence_ms
    if silence_ms > LONG_LEADING_SILENCE_MS:
        return _Finding(
            Verdict.warn,
            f"long silence before the voice ({silence_ms / 1000.0:.1f} s): start singing sooner or trim it",
        )
    if silence_ms < SHORT_EDGE_SILENCE_MS:
        return _Finding(
            Verdict.warn,
            f"the voice starts right at the beginning ({silence_ms:.0f} ms of silence): "
            "leave half a second of silence before you start, so the first sound is not cut",
        )
    return None


def _trailing_silence(report: QualityReport) -> _Finding | None:
    silence_ms = report.trailing_silence_ms
    if silence_ms > LONG_TRAILING_SILENCE_MS:
        return _Finding(
            Verdict.warn,
            f"long silence after the voice ({silence_ms / 1000.0:.1f} s): stop recording sooner or trim it",
        )
    if silence_ms < SHORT_EDGE_SILENCE_MS:
        return _Finding(
            Verdict.warn,
            f"the voice runs to the very end ({silence_ms:.0f} ms of silence): "
            "keep recording for half a second after you finish",
        )
    return None


def _dc(report: QualityReport) -> _Finding | None:
    if abs(report.dc_offset) <= DC_OFFSET_WARN:
        return None
    return _Finding(
        Verdict.warn,
        f"DC offset of {_percent(abs(report.dc_offset))} % of full scale: the audio interface adds a "
        "constant bias; turn on its low-cut (high-pass) filter or try another input",
    )


def _sample_rate(report: QualityReport) -> _Finding | None:
    if report.sample_rate_hz >= LOW_SAMPLE_RATE_HZ:
        return None
    return _Finding(
        Verdict.warn,
        f"low sample rate ({report.sample_rate_hz / 1000:g} kHz): set the recorder to 44.1 or 48 kHz",
    )


_RULES_WITH_VOICE: tuple[Rule, ...] = (
    _clipping,
    _noise,
    _quiet,
    _leading_silence,
    _trailing_silence,
    _dc,
    _sample_rate,
)
# Without a voice, noise and silence figures describe nothing; only what stops the voice is named.
_RULES_WITHOUT_VOICE: tuple[Rule, ...] = (_no_voice, _clipping, _quiet, _sample_rate)
