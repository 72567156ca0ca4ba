"""A singer gets one verdict per take, with the number that led to it and what to do next."""

import math
from dataclasses import astuple, replace
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from voicestudio.audio import quality
from voicestudio.audio.errors import SampleRateTooLow, SilentAudio, TruncatedAudio
from voicestudio.audio.io import AudioClip, read_audio
from voicestudio.audio.quality import assess, check_take, judge
from voicestudio.domain import QualityReport, Verdict


def test_a_clean_take_is_ok_with_nothing_to_fix(clean_take: Path) -> None:
    report = check_take(clean_take)

    assert report.verdict is Verdict.ok
    assert report.reasons == ()
    assert report.sample_rate_hz == 48000
    assert 2500.0 < report.duration_ms < 4000.0
    assert report.peak_dbfs == pytest.approx(-3.0, abs=0.05)
    assert report.clipped_ratio < quality.CLIPPED_WARN_RATIO
    assert report.snr_db > 45.0
    assert report.noise_floor_dbfs < -70.0
    assert -30.0 < report.loudness_lufs < -15.0
    assert report.rms_dbfs < report.peak_dbfs - 10.0
    assert 150.0 < report.leading_silence_ms < 500.0
    assert 150.0 < report.trailing_silence_ms < 600.0
    assert 0.3 < report.voiced_ratio < 0.8
    assert 150.0 < report.f0_min_hz < report.f0_median_hz < report.f0_max_hz < 700.0
    assert abs(report.dc_offset) < 0.005


def test_a_take_recorded_with_the_gain_far_too_high_fails_for_clipping(clipped_take: Path) -> None:
    report = check_take(clipped_take)

    assert report.verdict is Verdict.fail
    assert report.clipped_ratio > 0.05
    assert report.peak_dbfs == pytest.approx(0.0, abs=0.01)
    assert report.reasons[0] == (
        f"clipped {100 * report.clipped_ratio:.1f} % of samples: lower the input gain and retake"
    )


def test_a_take_with_noise_10_db_below_the_voice_fails_for_noise(noisy_take: Path, clean_take: Path) -> None:
    report = check_take(noisy_take)

    assert report.verdict is Verdict.fail
    assert 8.0 < report.snr_db < quality.SNR_FAIL_DB
    assert report.noise_floor_dbfs > check_take(clean_take).noise_floor_dbfs + 40.0
    assert report.reasons[0] == (
        f"noisy: the voice is only {report.snr_db:.0f} dB above the background (aim for 30 dB or more): "
        "record in a quieter room or closer to the microphone"
    )
    assert report.clipped_ratio == 0.0


def test_a_take_recorded_too_quietly_is_usable_but_asks_for_more_gain(quiet_take: Path) -> None:
    report = check_take(quiet_take)

    assert report.verdict is Verdict.warn
    assert report.peak_dbfs == pytest.approx(-36.0, abs=0.1)
    assert report.snr_db > quality.SNR_WARN_DB
    assert report.reasons == (
        "quiet: peak -36 dBFS: raise the input gain (aim for a peak between -12 and -3 dBFS)",
    )


def test_an_8_khz_take_is_refused_at_the_gate_and_measured_when_asked(
    low_rate_take: Path, clean_take: Path
) -> None:
    with pytest.raises(SampleRateTooLow):
        check_take(low_rate_take)

    report = assess(read_audio(low_rate_take))

    assert report.sample_rate_hz == 8000
    assert report.verdict is Verdict.warn
    assert report.reasons == ("low sample rate (8 kHz): set the recorder to 44.1 or 48 kHz",)
    assert report.f0_median_hz == pytest.approx(check_take(clean_take).f0_median_hz, rel=0.05)


def test_a_silent_take_is_refused_at_the_gate_and_has_no_voice_when_measured(silent_take: Path) -> None:
    with pytest.raises(SilentAudio):
        check_take(silent_take)

    report = assess(read_audio(silent_take))

    assert report.verdict is Verdict.fail
    assert report.voiced_ratio < 0.02
    assert report.f0_median_hz == 0.0
    assert report.peak_dbfs == pytest.approx(-80.0, abs=0.1)
    assert report.reasons[0].startswith("no voice found: only 0.0 s of the take has a pitch")


def test_a_take_cut_off_in_its_header_gets_no_report(truncated_take: Path) -> None:
    with pytest.raises(TruncatedAudio):
        check_take(truncated_take)


def test_a_long_wait_before_singing_is_pointed_out(clean_clip: AudioClip) -> None:
    rate_hz = clean_clip.sample_rate_hz
    room = clean_clip.samples[: rate_hz // 10]  # the take's own background
    waited = np.concatenate([np.tile(room, 30), clean_clip.samples])

    report = assess(AudioClip(waited, rate_hz))

    assert report.verdict is Verdict.warn
    lead_s = report.leading_silence_ms / 1000.0
    assert lead_s == pytest.approx(3.0 + assess(clean_clip).leading_silence_ms / 1000.0, abs=0.05)
    assert report.reasons == (
        f"long silence before the voice ({lead_s:.1f} s): start singing sooner or trim it",
    )


def test_a_voice_that_starts_at_the_first_sample_is_pointed_out(clean_clip: AudioClip) -> None:
    lead_ms = assess(clean_clip).leading_silence_ms
    cut = clean_clip.samples[round(lead_ms / 1000.0 * clean_clip.sample_rate_hz) :]

    report = assess(AudioClip(cut, clean_clip.sample_rate_hz))

    assert report.verdict is Verdict.warn
    assert report.leading_silence_ms < quality.SHORT_EDGE_SILENCE_MS
    assert report.reasons[0].startswith("the voice starts right at the beginning (")
    assert "leave half a second of silence before you start" in report.reasons[0]


def test_a_biased_interface_is_pointed_out(clean_clip: AudioClip) -> None:
    biased = clean_clip.samples * 0.5 + np.float32(0.05)

    report = assess(AudioClip(biased, clean_clip.sample_rate_hz))

    assert report.dc_offset == pytest.approx(0.05, abs=0.002)
    assert report.verdict is Verdict.warn
    assert report.reasons == (
        f"DC offset of {100 * report.dc_offset:.1f} % of full scale: "
        "the audio interface adds a constant bias; "
        "turn on its low-cut (high-pass) filter or try another input",
    )


@pytest.mark.parametrize("fixture", ["clean_take", "clipped_take", "noisy_take", "quiet_take", "silent_take"])
def test_every_number_in_a_report_is_finite_so_it_can_be_sent_as_json(
    fixture: str, request: pytest.FixtureRequest
) -> None:
    report = assess(read_audio(request.getfixturevalue(fixture)))
    numbers = [v for v in astuple(report) if isinstance(v, float | int) and not isinstance(v, str)]
    assert len(numbers) == 15
    assert all(math.isfinite(v) for v in numbers)


_measurements = st.builds(
    QualityReport,
    duration_ms=st.floats(300.0, 600_000.0),
    sample_rate_hz=st.sampled_from([16000, 22050, 44100, 48000]),
    peak_dbfs=st.floats(-120.0, 0.0),
    clipped_ratio=st.floats(0.0, 1.0),
    rms_dbfs=st.floats(-120.0, 0.0),
    loudness_lufs=st.floats(-70.0, 0.0),
    noise_floor_dbfs=st.floats(-120.0, 0.0),
    snr_db=st.floats(0.0, 100.0),
    leading_silence_ms=st.floats(0.0, 10_000.0),
    trailing_silence_ms=st.floats(0.0, 10_000.0),
    voiced_ratio=st.floats(0.0, 1.0),
    f0_median_hz=st.floats(0.0, 1100.0),
    f0_min_hz=st.floats(0.0, 1100.0),
    f0_max_hz=st.floats(0.0, 1100.0),
    dc_offset=st.floats(-0.5, 0.5),
    verdict=st.just(Verdict.ok),
)


@settings(max_examples=200, deadline=None)
@given(measured=_measurements)
def test_the_verdict_is_the_worst_of_its_reasons_and_never_silent(measured: QualityReport) -> None:
    report = judge(measured)
    assert (report.verdict is Verdict.ok) == (report.reasons == ())
    assert replace(report, verdict=Verdict.ok, reasons=()) == measured
    failing = report.clipped_ratio > quality.CLIPPED_FAIL_RATIO or (
        report.voiced_ratio * report.duration_ms < quality.NO_VOICE_MS
    )
    if failing:
        assert report.verdict is Verdict.fail
    assert all(": " in reason for reason in report.reasons)  # what is wrong: what to do
