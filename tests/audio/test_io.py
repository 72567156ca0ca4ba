"""A singer's recording comes in as whatever their recorder saved, and always reads back as the same sound."""

import tempfile
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest
import soundfile as sf
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from voicestudio import files
from voicestudio.audio.io import AudioClip, probe_audio, read_audio, resample, write_wav_atomic

RATE_HZ = 48000


def sine(
    freq_hz: float, duration_s: float, rate_hz: int = RATE_HZ, amplitude: float = 0.5
) -> npt.NDArray[np.float32]:
    t = np.arange(round(duration_s * rate_hz)) / rate_hz
    return (amplitude * np.sin(2 * np.pi * freq_hz * t)).astype(np.float32)


def dominant_freq_hz(samples: npt.NDArray[np.float32], rate_hz: int) -> float:
    """The strongest frequency, refined between FFT bins by a parabola through the peak."""
    spectrum = np.abs(np.fft.rfft(samples * np.hanning(len(samples))))
    k = int(np.argmax(spectrum[1:-1])) + 1
    a, b, c = np.log(spectrum[k - 1 : k + 2])
    offset = 0.5 * (a - c) / (a - 2 * b + c)
    return float((k + offset) * rate_hz / len(samples))


@pytest.mark.parametrize(
    ("file_format", "subtype", "max_error"),
    [
        ("WAV", "PCM_U8", 1 / 128),
        ("WAV", "PCM_16", 1 / 32768),
        ("WAV", "PCM_24", 1 / 2**23),
        ("WAV", "PCM_32", 1e-6),
        ("WAV", "FLOAT", 1e-7),
        ("WAV", "DOUBLE", 1e-7),
        ("FLAC", "PCM_16", 1 / 32768),
        ("FLAC", "PCM_24", 1 / 2**23),
    ],
)
def test_lossless_formats_read_back_as_the_same_sound(
    tmp_path: Path, file_format: str, subtype: str, max_error: float
) -> None:
    original = sine(440.0, 0.5)
    path = tmp_path / f"take.{file_format.lower()}"
    sf.write(path, original, RATE_HZ, format=file_format, subtype=subtype)

    clip = read_audio(path)

    assert clip.sample_rate_hz == RATE_HZ
    assert clip.samples.dtype == np.float32
    assert clip.samples.shape == original.shape
    assert float(np.max(np.abs(clip.samples - original))) <= max_error


def test_an_ogg_vorbis_take_keeps_its_length_pitch_and_level(tmp_path: Path) -> None:
    original = sine(440.0, 1.0)
    path = tmp_path / "take.ogg"
    sf.write(path, original, RATE_HZ, format="OGG", subtype="VORBIS")

    clip = read_audio(path)

    assert len(clip.samples) == len(original)
    assert dominant_freq_hz(clip.samples, RATE_HZ) == pytest.approx(440.0, abs=0.5)
    assert float(np.max(np.abs(clip.samples))) == pytest.approx(0.5, abs=0.02)


def test_a_stereo_take_becomes_the_mean_of_its_channels(tmp_path: Path) -> None:
    left = sine(440.0, 0.5, amplitude=0.6)
    right = sine(440.0, 0.5, amplitude=0.2)
    path = tmp_path / "stereo.wav"
    sf.write(path, np.stack([left, right], axis=1), RATE_HZ, subtype="FLOAT")

    clip = read_audio(path)

    assert clip.samples.ndim == 1
    assert float(np.max(np.abs(clip.samples - (left + right) / 2))) < 1e-6


def test_resampling_48k_to_44k1_keeps_a_440_hz_tone_at_440_hz(tmp_path: Path) -> None:
    path = tmp_path / "a4.wav"
    sf.write(path, sine(440.0, 1.0), RATE_HZ, subtype="PCM_24")

    clip = read_audio(path, sample_rate_hz=44100)

    assert clip.sample_rate_hz == 44100
    assert len(clip.samples) == 44100
    assert clip.duration_s == pytest.approx(1.0)
    assert dominant_freq_hz(clip.samples, 44100) == pytest.approx(440.0, abs=0.2)
    middle = clip.samples[4410:-4410]
    assert float(np.max(np.abs(middle))) == pytest.approx(0.5, abs=0.005)


def test_resample_changes_the_length_by_the_rate_ratio() -> None:
    out = resample(sine(440.0, 1.0), RATE_HZ, 16000)
    assert out.dtype == np.float32
    assert len(out) == 16000


def test_the_header_tells_rate_channels_and_length_without_decoding(tmp_path: Path) -> None:
    path = tmp_path / "stereo24.wav"
    sf.write(path, np.zeros((22050, 2), dtype=np.float32), 44100, subtype="PCM_24")

    info = probe_audio(path)

    assert (info.sample_rate_hz, info.channels, info.frames) == (44100, 2, 22050)
    assert info.duration_s == pytest.approx(0.5)
    assert (info.format, info.subtype) == ("WAV", "PCM_24")
    assert info.path == path


def test_writing_a_take_leaves_no_part_file_and_replaces_the_old_one(tmp_path: Path) -> None:
    path = tmp_path / "take.wav"
    write_wav_atomic(path, sine(220.0, 0.2), RATE_HZ)
    write_wav_atomic(path, sine(220.0, 0.4), RATE_HZ, bit_depth=24)

    assert sorted(p.name for p in tmp_path.iterdir()) == ["take.wav"]
    info = probe_audio(path)
    assert info.subtype == "PCM_24"
    assert info.duration_s == pytest.approx(0.4)


def test_a_disk_that_fills_up_mid_write_keeps_the_old_take_and_leaves_no_part_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "take.wav"
    write_wav_atomic(path, sine(220.0, 0.2), RATE_HZ)

    def disk_full(fd: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(files.os, "fsync", disk_full)
    with pytest.raises(OSError, match="No space left"):
        write_wav_atomic(path, sine(220.0, 0.4), RATE_HZ)

    assert sorted(p.name for p in tmp_path.iterdir()) == ["take.wav"]
    assert probe_audio(path).duration_s == pytest.approx(0.2)


def test_samples_beyond_full_scale_are_clipped_when_written(tmp_path: Path) -> None:
    path = tmp_path / "hot.wav"
    write_wav_atomic(path, np.array([1.5, -2.0, 0.25, np.nan], dtype=np.float32), RATE_HZ)

    clip = read_audio(path)

    assert clip.samples.tolist() == pytest.approx([32767 / 32768, -1.0, 0.25, 0.0], abs=1 / 32768)


@settings(max_examples=30, deadline=None)
@given(
    samples=arrays(np.float32, st.integers(1, 2000), elements=st.floats(-1.0, 1.0, width=32)),
    bit_depth=st.sampled_from([16, 24]),
)
def test_any_take_written_reads_back_within_one_step_of_its_bit_depth(
    samples: npt.NDArray[np.float32], bit_depth: int
) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "take.wav"
        write_wav_atomic(path, samples, 22050, bit_depth=16 if bit_depth == 16 else 24)
        clip = read_audio(path)
    step = 2.0 ** (1 - bit_depth)
    assert clip.sample_rate_hz == 22050
    assert float(np.max(np.abs(clip.samples - samples))) <= step


def test_a_clip_is_mono_float32_and_knows_its_duration() -> None:
    clip = AudioClip(np.zeros(24000, dtype=np.float64), 48000)  # type: ignore[arg-type]
    assert clip.samples.dtype == np.float32
    assert clip.duration_s == pytest.approx(0.5)
    with pytest.raises(ValueError, match="mono"):
        AudioClip(np.zeros((10, 2), dtype=np.float32), 48000)
