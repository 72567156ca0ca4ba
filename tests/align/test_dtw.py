"""The `dtw` engine places the phones of a known text on a take, whoever speaks it and however fast."""

import itertools

import numpy as np
import pytest

from fixtures.speech import SpeechFixture
from fixtures.stretch import PAD_MS, WORLD_RATE_HZ, stretched_take
from voicestudio.align.aligner import Aligner, AlignmentFailed
from voicestudio.align.dtw import DtwAligner
from voicestudio.align.metrics import matching_start_errors_ms
from voicestudio.audio.io import read_audio
from voicestudio.domain.alignment import Alignment
from voicestudio.domain.language import Language


def covers_the_take(alignment: Alignment, duration_ms: float) -> bool:
    segments = alignment.segments
    joined = all(a.end_ms == b.start_ms for a, b in itertools.pairwise(segments))
    return segments[0].start_ms == 0.0 and abs(segments[-1].end_ms - duration_ms) < 1e-6 and joined


@pytest.fixture(scope="module")
def aligner() -> Aligner:
    return DtwAligner()


def test_a_take_in_the_reference_voice_lands_on_its_true_phone_times(
    aligner: Aligner, ja_speech: SpeechFixture
) -> None:
    clip = read_audio(ja_speech.wav_path)

    found = aligner.align(clip.samples, clip.sample_rate_hz, ja_speech.text, Language.ja)

    errors = matching_start_errors_ms(found, ja_speech.alignment)
    assert np.median(errors) <= 5.0
    assert errors.max() <= 20.0
    assert covers_the_take(found, 1000.0 * clip.duration_s)
    assert np.median([s.score for s in found.segments]) > 0.8


@pytest.mark.parametrize(("tempo_factor", "semitones"), [(0.85, -3.0), (1.15, 3.0)])
def test_a_faster_or_slower_higher_or_lower_take_with_silence_around_it_still_aligns(
    aligner: Aligner, ja_speech: SpeechFixture, tempo_factor: float, semitones: float
) -> None:
    clip = read_audio(ja_speech.wav_path)
    take = stretched_take(clip.samples, clip.sample_rate_hz, tempo_factor, semitones)

    found = aligner.align(take, WORLD_RATE_HZ, ja_speech.text, Language.ja)

    errors = matching_start_errors_ms(found, ja_speech.alignment, tempo_factor, PAD_MS)
    assert np.median(errors) <= 20.0
    assert np.percentile(errors, 90) <= 50.0
    duration_ms = 1000.0 * len(take) / WORLD_RATE_HZ
    assert covers_the_take(found, duration_ms)
    first, last = found.segments[0], found.segments[-1]
    assert first.phone == "sil" and first.end_ms >= PAD_MS
    assert last.phone == "sil" and last.duration_ms >= PAD_MS


def test_english_from_another_voice_aligns_against_the_espeak_reference(
    aligner: Aligner, en_natural_speech: SpeechFixture
) -> None:
    clip = read_audio(en_natural_speech.wav_path)

    found = aligner.align(clip.samples, clip.sample_rate_hz, en_natural_speech.text, Language.en)

    errors = matching_start_errors_ms(found, en_natural_speech.alignment)
    assert len(errors) >= 25  # measured: all 31 spoken phones of the pangram match
    assert np.median(errors) <= 40.0  # measured: 27 ms
    assert np.percentile(errors, 90) <= 90.0  # measured: 65 ms
    assert covers_the_take(found, 1000.0 * clip.duration_s)


def test_the_wrong_text_scores_lower_than_the_right_one(aligner: Aligner, ja_speech: SpeechFixture) -> None:
    clip = read_audio(ja_speech.wav_path)

    right = aligner.align(clip.samples, clip.sample_rate_hz, ja_speech.text, Language.ja)
    wrong = aligner.align(clip.samples, clip.sample_rate_hz, "さようなら、また明日。", Language.ja)

    assert np.mean([s.score for s in wrong.segments]) < np.mean([s.score for s in right.segments]) - 0.1


def test_a_silent_take_is_refused_with_a_reason(aligner: Aligner) -> None:
    silence = np.zeros(48_000, dtype=np.float32)

    with pytest.raises(AlignmentFailed, match="silent"):
        aligner.align(silence, 48_000, "こんにちは", Language.ja)


def test_a_take_far_shorter_than_the_text_is_refused_with_a_reason(
    aligner: Aligner, ja_speech: SpeechFixture
) -> None:
    clip = read_audio(ja_speech.wav_path)
    fragment = clip.samples[: clip.sample_rate_hz // 2]

    with pytest.raises(AlignmentFailed, match="less than half"):
        aligner.align(fragment, clip.sample_rate_hz, ja_speech.text, Language.ja)
