"""The `sphinx` engine places English phones by PocketSphinx's acoustic model, named as `dtw` names them."""

import itertools
from pathlib import Path

import numpy as np
import pytest

from fixtures.speech import SpeechFixture, natural_english
from voicestudio.align.aligner import AlignmentFailed
from voicestudio.align.dtw import DtwAligner
from voicestudio.align.fallback import mean_phone_score
from voicestudio.align.metrics import GAPS, matching_start_errors_ms
from voicestudio.align.sphinx import MIN_SCORE, SphinxAligner
from voicestudio.audio.io import AudioClip, read_audio
from voicestudio.domain.alignment import Alignment
from voicestudio.domain.language import Language

UNKNOWN_WORD = "glimmerdash"  # in neither the CMU dictionary nor PocketSphinx's
UNKNOWN_WORD_SENTENCE = f"The {UNKNOWN_WORD} lamp glowed in the hall."


@pytest.fixture(scope="module")
def pangram(en_natural_speech: SpeechFixture) -> AudioClip:
    return read_audio(en_natural_speech.wav_path)


@pytest.fixture(scope="module")
def pangram_alignment(pangram: AudioClip, en_natural_speech: SpeechFixture) -> Alignment:
    return SphinxAligner().align(pangram.samples, pangram.sample_rate_hz, en_natural_speech.text, Language.en)


@pytest.fixture(scope="module")
def unknown_word_speech(tmp_path_factory: pytest.TempPathFactory) -> SpeechFixture:
    """A sentence with a made-up word, spoken by the piper `joe` voice with its true phone times."""
    folder: Path = tmp_path_factory.mktemp("sphinx")
    return natural_english(UNKNOWN_WORD_SENTENCE, folder, "unknown_word")


def spoken(alignment: Alignment) -> list[str]:
    return [s.phone for s in alignment.segments if s.phone not in GAPS]


def test_a_natural_english_voice_lands_near_its_true_phone_times(
    pangram: AudioClip, pangram_alignment: Alignment, en_natural_speech: SpeechFixture
) -> None:
    errors = matching_start_errors_ms(pangram_alignment, en_natural_speech.alignment)

    assert len(errors) >= 30  # measured: all 31 spoken phones of the pangram match the truth's
    assert np.median(errors) <= 25.0  # measured: 17 ms (dtw: 15 ms); 27 ms against piper's own timing
    assert np.percentile(errors, 90) <= 65.0  # measured: 46 ms
    segments = pangram_alignment.segments
    assert segments[0].start_ms == 0.0 and segments[0].phone == "sil"
    assert segments[-1].phone == "sil"
    assert abs(segments[-1].end_ms - 1000.0 * pangram.duration_s) < 1e-6
    assert all(a.end_ms == b.start_ms and a.end_ms > a.start_ms for a, b in itertools.pairwise(segments))


def test_phones_are_named_as_the_dtw_engine_names_them(
    pangram: AudioClip, pangram_alignment: Alignment, en_natural_speech: SpeechFixture
) -> None:
    by_dtw = DtwAligner().align(pangram.samples, pangram.sample_rate_hz, en_natural_speech.text, Language.en)

    assert spoken(pangram_alignment) == spoken(by_dtw)
    assert spoken(pangram_alignment)[:5] == ["ð", "ə", "k", "w", "ɪ"]
    assert {s.phone for s in pangram_alignment.segments} & GAPS <= {"sil", "pau"}


def test_a_word_missing_from_the_dictionary_is_read_by_the_studios_g2p(
    unknown_word_speech: SpeechFixture,
) -> None:
    clip = read_audio(unknown_word_speech.wav_path)

    found = SphinxAligner().align(clip.samples, clip.sample_rate_hz, UNKNOWN_WORD_SENTENCE, Language.en)

    assert spoken(found)[2:10] == ["ɡ", "l", "ɪ", "m", "ɚ", "d", "æ", "ʃ"]  # g-l-i-mm-er-d-a-sh
    errors = matching_start_errors_ms(found, unknown_word_speech.alignment)
    assert len(errors) >= 24  # measured: 25
    assert np.median(errors) <= 25.0  # measured: 17 ms
    word = [s for s in found.segments if s.phone not in GAPS][2:10]
    truth = [s for s in unknown_word_speech.alignment.segments if s.phone not in GAPS][2:10]
    word_errors = [abs(a.start_ms - b.start_ms) for a, b in zip(word, truth, strict=True)]
    assert np.median(word_errors) <= 40.0  # measured: 22 ms


def test_the_right_text_scores_well_above_the_fallback_threshold_and_another_text_below_it(
    pangram: AudioClip, pangram_alignment: Alignment
) -> None:
    wrong = SphinxAligner().align(
        pangram.samples, pangram.sample_rate_hz, "Please measure the beige fabric twice.", Language.en
    )

    assert mean_phone_score(pangram_alignment) >= 2.0 * MIN_SCORE  # measured: 0.59
    assert mean_phone_score(wrong) < MIN_SCORE  # measured: 0.07
    assert all(0.0 <= s.score <= 1.0 for s in pangram_alignment.segments)


def test_a_japanese_take_is_refused_with_the_engine_to_use_instead(pangram: AudioClip) -> None:
    with pytest.raises(AlignmentFailed, match=r"only English.*dtw"):
        SphinxAligner().align(pangram.samples, pangram.sample_rate_hz, "こんにちは", Language.ja)


def test_a_silent_take_or_a_text_without_words_is_refused(pangram: AudioClip) -> None:
    silence = np.zeros(16_000, dtype=np.float32)
    with pytest.raises(AlignmentFailed, match="silent"):
        SphinxAligner().align(silence, 16_000, "Hello there.", Language.en)
    with pytest.raises(AlignmentFailed, match="no English words"):
        SphinxAligner().align(pangram.samples, pangram.sample_rate_hz, "!?", Language.en)


def test_a_take_much_shorter_than_its_text_fails_with_what_to_check(pangram: AudioClip) -> None:
    short = pangram.samples[: pangram.sample_rate_hz // 2]
    long_text = "The quick brown fox jumps over the lazy dog, and then it runs far away into the woods."

    with pytest.raises(AlignmentFailed, match="this prompt"):
        SphinxAligner().align(short, pangram.sample_rate_hz, long_text, Language.en)
