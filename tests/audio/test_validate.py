"""A take that cannot be used is turned away with one sentence that says what is wrong and what to do."""

import pickle
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from voicestudio.audio import validate
from voicestudio.audio.errors import (
    AudioError,
    EmptyAudio,
    MissingAudio,
    NotAudio,
    SampleRateTooLow,
    SilentAudio,
    TooLong,
    TooShort,
    TruncatedAudio,
    describe_duration,
)
from voicestudio.audio.io import AudioClip, probe_audio, read_audio, write_wav_atomic
from voicestudio.audio.validate import TakeLimits, load_take
from voicestudio.errors import VoicestudioError

from . import damaged


def test_a_clean_take_passes_the_gate_as_mono_float32(clean_take: Path) -> None:
    clip = load_take(clean_take)
    assert clip.sample_rate_hz == 48000
    assert clip.samples.dtype == np.float32
    assert 2.5 < clip.duration_s < 4.0


def test_the_gate_can_hand_back_the_take_at_the_rate_the_next_step_needs(clean_take: Path) -> None:
    clip = load_take(clean_take, sample_rate_hz=16000)
    assert clip.sample_rate_hz == 16000
    assert clip.duration_s == pytest.approx(probe_audio(clean_take).duration_s, abs=1e-3)


def test_an_upload_cut_off_inside_its_header_is_called_cut_off(truncated_take: Path) -> None:
    with pytest.raises(TruncatedAudio) as caught:
        load_take(truncated_take)
    assert caught.value.message == (
        "truncated.wav: the file is cut off inside its header (30 bytes). "
        "The upload or copy stopped early; save or upload the take again."
    )


def test_an_upload_cut_off_in_its_audio_says_how_much_is_missing(
    clean_take: Path, cut_short_take: Path
) -> None:
    announced_s = probe_audio(clean_take).duration_s
    with pytest.raises(TruncatedAudio) as caught:
        load_take(cut_short_take)
    message = caught.value.message
    assert message.startswith(f"cut_short.wav: the file is cut off: its header announces {announced_s:.1f} s")
    assert f"only {announced_s / 2:.1f} s is there" in message
    assert "upload the take again" in message


@pytest.mark.parametrize(
    ("file_format", "words"),
    [
        ("FLAC", "the file is cut short or damaged (flac decoder lost sync)"),
        ("OGG", "the file is cut off after "),
    ],
)
def test_a_compressed_take_cut_in_half_is_called_cut_off(
    clean_clip: AudioClip, tmp_path: Path, file_format: str, words: str
) -> None:
    whole = tmp_path / f"whole.{file_format.lower()}"
    sf.write(whole, clean_clip.samples, clean_clip.sample_rate_hz, format=file_format)
    half = damaged.truncated_data(whole, tmp_path / f"half.{file_format.lower()}", keep_fraction=0.5)

    with pytest.raises(TruncatedAudio) as caught:
        load_take(half)

    assert caught.value.message.startswith(f"{half.name}: {words}")
    assert caught.value.message.endswith(" the take again.")


def test_random_bytes_are_not_audio(not_audio_file: Path) -> None:
    with pytest.raises(NotAudio) as caught:
        load_take(not_audio_file)
    assert caught.value.message == (
        "not_audio.wav: this is not an audio file the studio can read. "
        "Export the take as WAV, FLAC or OGG and try again."
    )


def test_a_recording_that_never_started_is_empty(empty_take: Path, tmp_path: Path) -> None:
    zero_bytes = tmp_path / "zero.wav"
    zero_bytes.write_bytes(b"")
    for path in (empty_take, zero_bytes):
        with pytest.raises(EmptyAudio) as caught:
            load_take(path)
        assert caught.value.message.startswith(f"{path.name}: the file holds no audio (0 samples).")
        assert "check the microphone" in caught.value.message


def test_a_two_hour_upload_is_rejected_from_its_header_without_reading_a_sample(
    two_hour_take: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    decoded: list[Path] = []

    def spy_read_audio(path: Path, sample_rate_hz: int | None = None) -> AudioClip:
        decoded.append(path)
        return read_audio(path, sample_rate_hz)

    monkeypatch.setattr(validate, "read_audio", spy_read_audio)
    assert probe_audio(two_hour_take).duration_s == pytest.approx(7200.0)

    with pytest.raises(TooLong) as caught:
        load_take(two_hour_take)

    assert decoded == []
    assert caught.value.message == (
        "two_hours.wav: the recording is 2 h 0 min long; a take may be at most 10 min. "
        "Split it or record each prompt on its own."
    )


def test_an_8_khz_take_is_turned_away_before_it_is_decoded(
    low_rate_take: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(validate, "read_audio", lambda *_: pytest.fail("the samples were read"))
    with pytest.raises(SampleRateTooLow) as caught:
        load_take(low_rate_take)
    assert caught.value.message == (
        "low_rate.wav: the recording's sample rate is 8 kHz; a voice needs at least 16 kHz. "
        "Set the recorder to 44.1 or 48 kHz and record it again."
    )


def test_a_take_shorter_than_a_mora_is_too_short(clean_clip: AudioClip, tmp_path: Path) -> None:
    path = tmp_path / "blip.wav"
    write_wav_atomic(
        path, clean_clip.samples[: clean_clip.sample_rate_hz // 10] + 0.1, clean_clip.sample_rate_hz
    )
    with pytest.raises(TooShort) as caught:
        load_take(path)
    assert caught.value.message == (
        "blip.wav: the recording is only 0.10 s long; a take must be at least 0.30 s. "
        "Record the whole prompt again."
    )


def test_a_take_with_only_faint_hiss_is_silent(silent_take: Path) -> None:
    with pytest.raises(SilentAudio) as caught:
        load_take(silent_take)
    assert caught.value.message.startswith(
        "silent.wav: the recording is silent (loudest point -80 dBFS, below -60 dBFS)."
    )
    assert "not muted" in caught.value.message


def test_a_missing_file_is_named_with_its_path(tmp_path: Path) -> None:
    with pytest.raises(MissingAudio, match=r"^nowhere\.wav: there is no such file"):
        load_take(tmp_path / "nowhere.wav")


def test_a_folder_is_not_a_recording(tmp_path: Path) -> None:
    with pytest.raises(NotAudio, match="is a folder"):
        load_take(tmp_path)


def test_the_cheapest_check_speaks_first(tmp_path: Path) -> None:
    """Too long beats a low rate (both from the header); a low rate beats too short (that needs decoding)."""
    long_and_low = damaged.sparse_long(tmp_path / "long_low.wav", duration_s=3600.0, sample_rate_hz=8000)
    with pytest.raises(TooLong):
        load_take(long_and_low)

    short_and_low = tmp_path / "short_low.wav"
    write_wav_atomic(short_and_low, np.full(800, 0.5, dtype=np.float32), 8000)
    with pytest.raises(SampleRateTooLow):
        load_take(short_and_low)


def test_limits_can_be_tightened(clean_take: Path) -> None:
    with pytest.raises(TooLong, match=r"at most 1\.0 s\."):
        load_take(clean_take, TakeLimits(max_duration_s=1.0))
    with pytest.raises(SilentAudio):
        load_take(clean_take, TakeLimits(silence_peak_dbfs=0.0))


@pytest.mark.parametrize(
    "fixture",
    ["truncated_take", "cut_short_take", "not_audio_file", "empty_take", "two_hour_take", "silent_take"],
)
def test_every_rejection_is_a_user_error_that_names_the_file_and_survives_a_worker(
    fixture: str, request: pytest.FixtureRequest
) -> None:
    path: Path = request.getfixturevalue(fixture)
    with pytest.raises(AudioError) as caught:
        load_take(path)
    error = caught.value
    assert isinstance(error, VoicestudioError)
    assert error.message.startswith(f"{path.name}: ")
    assert "\n" not in error.message
    copied = pickle.loads(pickle.dumps(error))
    assert type(copied) is type(error)
    assert copied.message == error.message


@pytest.mark.parametrize(
    ("duration_s", "words"),
    [(0.123, "0.12 s"), (3.44, "3.4 s"), (600.0, "10 min"), (725.0, "12 min 5 s"), (7200.0, "2 h 0 min")],
)
def test_durations_read_as_a_person_says_them(duration_s: float, words: str) -> None:
    assert describe_duration(duration_s) == words
