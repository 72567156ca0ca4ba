"""The `dtw` engine places the phones of a known text on a take, whoever speaks it and however fast."""

import itertools

import numpy as np
import numpy.typing as npt
import pytest

from fixtures.speech import SpeechFixture
from fixtures.stretch import NOISE_DBFS, PAD_MS, WORLD_RATE_HZ, stretched_take
from voicestudio.align.aligner import Aligner, AlignmentFailed
from voicestudio.align.dtw import DtwAligner, warp
from voicestudio.align.metrics import GAPS, matching_start_errors_ms
from voicestudio.audio.io import read_audio
from voicestudio.domain.alignment import Alignment
from voicestudio.domain.language import Language

STRETCHES = [(0.85, -3.0), (1.15, 3.0)]  # (tempo factor, semitones): slower and lower, faster and higher
WRONG_TEXT = "さようなら、また明日。"
Stretched = dict[tuple[str, float], npt.NDArray[np.float32]]


def covers_the_take(alignment: Alignment, duration_ms: float) -> bool:
    segments = alignment.segments
    joined = all(a.end_ms == b.start_ms for a, b in itertools.pairwise(segments))
    return segments[0].start_ms == 0.0 and abs(segments[-1].end_ms - duration_ms) < 1e-6 and joined


def spoken_scores(alignment: Alignment) -> npt.NDArray[np.float64]:
    return np.array([s.score for s in alignment.segments if s.phone not in GAPS])


@pytest.fixture(scope="module")
def aligner() -> Aligner:
    return DtwAligner()


@pytest.fixture(scope="session")
def stretched(ja_speech: SpeechFixture, ja_cv_speech: dict[str, SpeechFixture]) -> Stretched:
    """The sentence and two lone morae (か, しゃ) re-spoken by WORLD at both stretches, each inside
    0.5 s of faint noise, keyed by (text, tempo factor)."""
    takes: Stretched = {}
    for speech in (ja_speech, ja_cv_speech["か"], ja_cv_speech["しゃ"]):
        clip = read_audio(speech.wav_path)
        for tempo_factor, semitones in STRETCHES:
            take = stretched_take(clip.samples, clip.sample_rate_hz, tempo_factor, semitones)
            takes[speech.text, tempo_factor] = take
    return takes


def in_a_louder_room(
    take: npt.NDArray[np.float32], extra_s: float, noise_dbfs: float
) -> npt.NDArray[np.float32]:
    """`take` with `extra_s` more of its faint noise before and after, and white noise at `noise_dbfs`
    over all of it."""
    rng = np.random.default_rng(1)
    extra = rng.normal(0.0, 10.0 ** (NOISE_DBFS / 20.0), round(extra_s * WORLD_RATE_HZ))
    longer = np.concatenate([extra, take, extra])
    return (longer + rng.normal(0.0, 10.0 ** (noise_dbfs / 20.0), len(longer))).astype(np.float32)


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


@pytest.mark.parametrize("tempo_factor", [0.85, 1.15])
def test_a_faster_or_slower_higher_or_lower_take_with_silence_around_it_still_aligns(
    aligner: Aligner, ja_speech: SpeechFixture, stretched: Stretched, tempo_factor: float
) -> None:
    take = stretched[ja_speech.text, tempo_factor]

    found = aligner.align(take, WORLD_RATE_HZ, ja_speech.text, Language.ja)

    errors = matching_start_errors_ms(found, ja_speech.alignment, tempo_factor, PAD_MS)
    assert np.median(errors) <= 20.0
    assert np.percentile(errors, 90) <= 50.0
    duration_ms = 1000.0 * len(take) / WORLD_RATE_HZ
    assert covers_the_take(found, duration_ms)
    first, last = found.segments[0], found.segments[-1]
    assert first.phone == "sil" and first.end_ms >= PAD_MS
    assert last.phone == "sil" and last.duration_ms >= PAD_MS


@pytest.mark.parametrize("mora", ["か", "しゃ"])
@pytest.mark.parametrize("tempo_factor", [0.85, 1.15])
def test_a_lone_mora_in_half_a_second_of_room_noise_lands_on_its_true_times(
    aligner: Aligner,
    ja_cv_speech: dict[str, SpeechFixture],
    stretched: Stretched,
    mora: str,
    tempo_factor: float,
) -> None:
    take = stretched[mora, tempo_factor]  # a CV reclist take: one mora, noise both sides

    found = aligner.align(take, WORLD_RATE_HZ, mora, Language.ja)

    errors = matching_start_errors_ms(found, ja_cv_speech[mora].alignment, tempo_factor, PAD_MS)
    assert len(errors) == 2
    assert errors.max() <= 20.0  # measured: 14 ms at most (it was 750-930 ms, squeezed to an edge)
    first, last = found.segments[0], found.segments[-1]
    assert first.phone == "sil" and first.end_ms >= PAD_MS
    assert last.phone == "sil" and last.duration_ms >= PAD_MS
    assert spoken_scores(found).min() > 0.6  # measured: 0.67 at least, so oto does not flag the entry


@pytest.mark.parametrize("tempo_factor", [0.85, 1.15])
def test_a_lone_mora_in_a_second_and_a_half_of_louder_noise_still_lands_on_its_true_times(
    aligner: Aligner, ja_cv_speech: dict[str, SpeechFixture], stretched: Stretched, tempo_factor: float
) -> None:
    take = in_a_louder_room(stretched["か", tempo_factor], extra_s=1.0, noise_dbfs=-50.0)

    found = aligner.align(take, WORLD_RATE_HZ, "か", Language.ja)

    errors = matching_start_errors_ms(found, ja_cv_speech["か"].alignment, tempo_factor, PAD_MS + 1000.0)
    assert errors.max() <= 20.0  # measured: 9 ms at most (it was 1.3-1.4 s off)


@pytest.mark.parametrize("tempo_factor", [0.85, 1.15])
def test_scores_tell_the_right_text_from_a_wrong_one_and_from_noise(
    aligner: Aligner, ja_speech: SpeechFixture, stretched: Stretched, tempo_factor: float
) -> None:
    take = stretched[ja_speech.text, tempo_factor]
    noise = np.random.default_rng(2).normal(0.0, 0.01, 3 * WORLD_RATE_HZ // 2).astype(np.float32)

    right = spoken_scores(aligner.align(take, WORLD_RATE_HZ, ja_speech.text, Language.ja))
    wrong = spoken_scores(aligner.align(take, WORLD_RATE_HZ, WRONG_TEXT, Language.ja))
    nothing = spoken_scores(aligner.align(noise, WORLD_RATE_HZ, ja_speech.text, Language.ja))

    assert np.median(right) > 0.6  # measured: 0.93 (×0.85), 0.71 (×1.15)
    assert np.mean(right > 0.6) >= 0.6  # measured: 74 % of the phones at both stretches
    assert np.median(wrong) < 0.4  # measured: 0.00
    assert np.median(nothing) < 0.4  # measured: 0.00
    assert np.median(right) - np.median(wrong) >= 0.5  # measured: 0.71 at least


def test_english_from_another_voice_aligns_against_the_espeak_reference(
    aligner: Aligner, en_natural_speech: SpeechFixture
) -> None:
    clip = read_audio(en_natural_speech.wav_path)

    found = aligner.align(clip.samples, clip.sample_rate_hz, en_natural_speech.text, Language.en)

    errors = matching_start_errors_ms(found, en_natural_speech.alignment)
    assert len(errors) >= 25  # measured: all 31 spoken phones of the pangram match
    assert np.median(errors) <= 25.0  # measured: 15 ms (29 ms against piper's own timing)
    assert np.percentile(errors, 90) <= 75.0  # measured: 57 ms
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


def test_a_held_reference_frame_covers_the_whole_hold_and_the_next_boundary_follows_it() -> None:
    # three sounds, silence-vowel-silence; the take holds the vowel six times as long as the reference
    ref = np.array([[0.0, 0.0], [0.0, 0.0], [4.0, 4.0], [4.0, 4.0], [0.0, 0.0]], dtype=np.float32)
    take = np.array([[0.0, 0.0]] * 2 + [[4.0, 4.0]] * 12 + [[0.0, 0.0]] * 2, dtype=np.float32)
    held = np.array([True, False, True, False, True])

    path = warp(ref, take, held=held)

    assert path.first_take_frame.tolist() == [0, 1, 2, 13, 14]
    assert path.last_take_frame.tolist() == [0, 1, 12, 13, 15]
    # each of the 11 extra frames of a perfect hold earns half of HOLD_FREE_RMS (0.5) × √2 dimensions
    assert path.total_cost == pytest.approx(-11 * 0.5 * 0.5 * np.sqrt(2.0), abs=1e-4)
    unheld = warp(ref, take)  # steps of at most twice the reference's pace cannot cover the hold
    assert unheld.last_take_frame[3] - unheld.first_take_frame[1] < 6
