"""The numbers behind a verdict, measured on signals whose true values are known."""

import numpy as np
import numpy.typing as npt
import pytest
import pyworld
from hypothesis import given, settings
from hypothesis import strategies as st

from voicestudio.audio import analysis
from voicestudio.audio.io import AudioClip

RATE_HZ = 48000


def tone(
    freq_hz: float, duration_s: float, amplitude: float, rate_hz: int = RATE_HZ
) -> npt.NDArray[np.float32]:
    t = np.arange(round(duration_s * rate_hz)) / rate_hz
    return (amplitude * np.sin(2 * np.pi * freq_hz * t)).astype(np.float32)


def hiss(
    duration_s: float, rms_dbfs: float, seed: int = 1, rate_hz: int = RATE_HZ
) -> npt.NDArray[np.float32]:
    rms = 10.0 ** (rms_dbfs / 20.0)
    return np.random.default_rng(seed).normal(0.0, rms, round(duration_s * rate_hz)).astype(np.float32)


def sung_vowel(f0_hz: float, duration_s: float, rate_hz: int = RATE_HZ) -> npt.NDArray[np.float32]:
    """A vowel-like tone: ten harmonics falling 6 dB per octave, peak about 0.5."""
    t = np.arange(round(duration_s * rate_hz)) / rate_hz
    wave = sum(np.sin(2 * np.pi * f0_hz * k * t) / k for k in range(1, 11))
    return (0.3 * wave).astype(np.float32)


def test_levels_of_a_half_scale_sine() -> None:
    x = tone(1000.0, 1.0, 0.5)
    assert analysis.peak_dbfs(x) == pytest.approx(-6.02, abs=0.01)
    assert analysis.rms_dbfs(x) == pytest.approx(-9.03, abs=0.01)


def test_digital_silence_reads_as_the_floor_not_minus_infinity() -> None:
    silence = np.zeros(RATE_HZ, dtype=np.float32)
    assert analysis.peak_dbfs(silence) == analysis.FLOOR_DBFS
    assert analysis.rms_dbfs(silence) == analysis.FLOOR_DBFS
    assert analysis.noise_floor_dbfs(silence, RATE_HZ) == analysis.FLOOR_DBFS
    assert analysis.integrated_loudness_lufs(silence, RATE_HZ) == analysis.LOUDNESS_FLOOR_LUFS
    assert analysis.snr_db(silence, RATE_HZ) == 0.0
    assert analysis.peak_dbfs(np.zeros(0, dtype=np.float32)) == analysis.FLOOR_DBFS


def test_a_sine_driven_to_twice_full_scale_is_clipped_two_thirds_of_the_time() -> None:
    driven = np.clip(tone(100.0, 1.0, 2.0), -1.0, 1.0)
    assert analysis.clipped_ratio(driven) == pytest.approx(2 / 3, abs=0.01)
    assert analysis.clipped_ratio(tone(100.0, 1.0, 0.9)) == 0.0


def test_a_clipped_recording_turned_down_afterwards_still_counts_as_clipped() -> None:
    """An integer recorder's flat tops stay flat when the file is later normalised to -6 dBFS."""
    driven = np.clip(np.round(tone(100.0, 1.0, 2.0) * 32767), -32767, 32767) / 32767
    turned_down = (driven * 0.5).astype(np.float32)
    assert analysis.clipped_ratio(turned_down) == pytest.approx(2 / 3, abs=0.01)


def test_loudness_of_a_1_khz_tone_follows_bs_1770() -> None:
    """BS.1770 calibrates a full-scale 1 kHz sine on one channel to -3.01 LUFS."""
    assert analysis.integrated_loudness_lufs(tone(1000.0, 2.0, 0.1), RATE_HZ) == pytest.approx(-23.0, abs=0.2)


def test_loudness_of_less_than_one_gating_block_is_the_floor() -> None:
    assert analysis.integrated_loudness_lufs(tone(1000.0, 0.2, 0.5), RATE_HZ) == analysis.LOUDNESS_FLOOR_LUFS


def test_frame_levels_cover_every_sample_in_10_ms_frames() -> None:
    levels = analysis.frame_rms_dbfs(np.full(4850, 0.1, dtype=np.float32), RATE_HZ, frame_ms=10.0)
    assert len(levels) == 11  # ten full frames and a 50-sample tail
    assert levels == pytest.approx(np.full(11, -20.0), abs=1e-3)


def test_noise_floor_and_snr_of_a_tone_over_room_hiss() -> None:
    """0.5 s of hiss at -60 dBFS, a -23 dBFS tone over it for 1 s, then 0.5 s of hiss again."""
    room = hiss(2.0, -60.0)
    take = room.copy()
    take[RATE_HZ // 2 : RATE_HZ * 3 // 2] += tone(300.0, 1.0, 0.1)
    assert analysis.noise_floor_dbfs(take, RATE_HZ) == pytest.approx(-60.0, abs=1.0)
    assert analysis.snr_db(take, RATE_HZ) == pytest.approx(37.0, abs=1.5)


def test_silence_before_and_after_the_voice() -> None:
    take = np.concatenate([hiss(0.5, -70.0), sung_vowel(220.0, 1.0), hiss(0.8, -70.0, seed=2)])
    assert analysis.leading_silence_ms(take, RATE_HZ) == pytest.approx(500.0, abs=10.0)
    assert analysis.trailing_silence_ms(take, RATE_HZ) == pytest.approx(800.0, abs=10.0)


def test_a_click_in_the_silence_is_not_the_start_of_the_voice() -> None:
    take = np.concatenate([hiss(0.5, -70.0), sung_vowel(220.0, 1.0), hiss(0.5, -70.0, seed=2)])
    take[RATE_HZ // 10 : RATE_HZ // 10 + 48] = 0.5  # a 1 ms click at 100 ms
    assert analysis.leading_silence_ms(take, RATE_HZ) == pytest.approx(500.0, abs=10.0)


def test_without_a_voice_the_silence_is_the_whole_take() -> None:
    room = hiss(1.5, -70.0)
    assert analysis.leading_silence_ms(room, RATE_HZ) == pytest.approx(1500.0)
    assert analysis.trailing_silence_ms(room, RATE_HZ) == pytest.approx(1500.0)


@pytest.mark.parametrize("f0_hz", [98.0, 220.0, 440.0, 880.0])
def test_f0_of_a_sung_vowel(f0_hz: float) -> None:
    track = analysis.f0_track_hz(sung_vowel(f0_hz, 1.0), RATE_HZ)
    assert len(track) == pytest.approx(1000 / analysis.F0_FRAME_PERIOD_MS + 1, abs=1)
    voiced = track[track > 0]
    assert analysis.voiced_ratio(track) > 0.9
    assert float(np.median(voiced)) == pytest.approx(f0_hz, rel=0.01)


def test_a_long_take_gets_the_same_pitch_track_as_one_analysis_of_it_all() -> None:
    """Long takes are analysed in blocks; frames at the blocks' edges must not notice."""
    rate_hz = 16000
    t = np.arange(23 * rate_hz) / rate_hz
    phase = 2 * np.pi * (150.0 * t + 4.0 * t**2)  # a glide from 150 Hz up to 334 Hz
    glide = sum(np.sin(k * phase) / k for k in range(1, 6)) * 0.3
    glide[:rate_hz] = 0.0  # a second of silence before it

    blocked = analysis.f0_track_hz(glide.astype(np.float32), rate_hz)
    x = np.ascontiguousarray(glide.astype(np.float32).astype(np.float64))
    coarse, times = pyworld.dio(x, rate_hz, f0_floor=70.0, f0_ceil=1100.0, frame_period=5.0)
    whole = pyworld.stonemask(x, coarse, times, rate_hz)

    assert len(blocked) == len(whole) == 23 * 200 + 1
    assert float(np.max(np.abs(blocked - whole))) < 0.5


def test_hiss_has_no_pitch() -> None:
    track = analysis.f0_track_hz(hiss(1.0, -20.0), RATE_HZ)
    assert analysis.voiced_ratio(track) < 0.1


def test_f0_of_the_synthesized_voice_is_in_a_speaking_range(clean_clip: AudioClip) -> None:
    track = analysis.f0_track_hz(clean_clip.samples, clean_clip.sample_rate_hz)
    voiced = track[track > 0]
    assert 150.0 < float(np.median(voiced)) < 500.0
    assert 0.3 < analysis.voiced_ratio(track) < 0.8


def test_voiced_ratio_counts_frames_with_a_pitch() -> None:
    assert analysis.voiced_ratio(np.array([0.0, 0.0, 110.0, 220.0])) == 0.5
    assert analysis.voiced_ratio(np.zeros(0)) == 0.0


def test_dc_offset_is_the_mean_sample() -> None:
    assert analysis.dc_offset(tone(100.0, 1.0, 0.5) + np.float32(0.05)) == pytest.approx(0.05, abs=1e-4)


@settings(max_examples=40, deadline=None)
@given(gain_db=st.floats(-60.0, 0.0), seed=st.integers(0, 1000))
def test_turning_a_take_down_lowers_every_level_by_the_same_decibels(gain_db: float, seed: int) -> None:
    take = hiss(0.5, -12.0, seed=seed).clip(-1.0, 1.0)
    quieter = (take * 10.0 ** (gain_db / 20.0)).astype(np.float32)
    assert analysis.peak_dbfs(quieter) == pytest.approx(analysis.peak_dbfs(take) + gain_db, abs=0.01)
    assert analysis.rms_dbfs(quieter) == pytest.approx(analysis.rms_dbfs(take) + gain_db, abs=0.01)
    assert 0.0 <= analysis.clipped_ratio(quieter) <= analysis.clipped_ratio(take) + 1e-9
