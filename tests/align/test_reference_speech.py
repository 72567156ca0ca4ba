"""An aligner's reference: a synthesizer speaks the known phone string and says where each phone is."""

import itertools

import numpy as np
import pyopenjtalk
import pytest

from fixtures.energy import energy_onset_ms, level_db
from voicestudio.align.reference import (
    HEADROOM_DB,
    PhonemeError,
    ReferenceSpeech,
    ReferenceUnavailable,
    synthesize_english,
    synthesize_japanese,
    synthesize_kana,
    synthesize_reference,
)
from voicestudio.domain.language import Language

JA_TEXT = "こんにちは、今日はいい天気ですね。"
GAPS = ("sil", "pau")


@pytest.fixture(scope="module")
def ja_reference() -> ReferenceSpeech:
    return synthesize_japanese(JA_TEXT)


def test_japanese_reference_speaks_exactly_the_phones_of_the_reading(ja_reference: ReferenceSpeech) -> None:
    speech = ja_reference
    phones = speech.alignment.phones

    assert speech.sample_rate_hz == 48000
    assert speech.language is Language.ja
    assert phones[0] == "sil" and phones[-1] == "sil"
    assert [p for p in phones if p != "sil"] == str(pyopenjtalk.g2p(JA_TEXT)).split()
    assert phones.count("pau") == 1


def test_japanese_reference_boundaries_rise_and_end_with_the_audio(ja_reference: ReferenceSpeech) -> None:
    speech = ja_reference
    segments = speech.alignment.segments
    boundaries = [segments[0].start_ms] + [s.end_ms for s in segments]

    assert boundaries[0] == 0.0
    assert all(b > a for a, b in itertools.pairwise(boundaries))
    assert all(a.end_ms == b.start_ms for a, b in itertools.pairwise(segments))
    assert abs(boundaries[-1] - speech.duration_ms) <= 10.0
    [pause] = [s for s in segments if s.phone == "pau"]
    assert level_db(speech.samples, speech.sample_rate_hz, pause.start_ms, pause.end_ms) < -60.0
    vowels = [s for s in segments if s.phone in ("a", "o", "e", "i")]
    assert min(level_db(speech.samples, speech.sample_rate_hz, s.start_ms, s.end_ms) for s in vowels) > -35.0


def test_japanese_reference_is_the_audio_pyopenjtalk_speaks(ja_reference: ReferenceSpeech) -> None:
    speech = ja_reference
    expected, expected_rate_hz = pyopenjtalk.tts(JA_TEXT)
    ours = speech.samples.astype(np.float64) * 32768.0
    theirs = expected * 10.0 ** (HEADROOM_DB / 20.0)

    assert np.max(np.abs(ours)) < 32767.0  # the headroom leaves no sample clipped

    assert expected_rate_hz == speech.sample_rate_hz
    assert abs(len(ours) - len(theirs)) <= 240  # one 5 ms frame at 48 kHz
    length = min(len(ours), len(theirs))
    assert np.max(np.abs(ours[:length] - theirs[:length])) < 16.0  # 16-bit steps


def test_a_single_mora_is_framed_by_silence() -> None:
    speech = synthesize_japanese("しゃ")
    assert speech.alignment.phones == ("sil", "sh", "a", "sil")
    assert speech.alignment.end_ms == pytest.approx(speech.duration_ms, abs=10.0)


def test_english_reference_covers_its_audio_and_starts_with_the_sound() -> None:
    speech = synthesize_reference("The quick brown fox jumps over the lazy dog.", Language.en)
    segments = speech.alignment.segments
    first = next(s for s in segments if s.phone not in GAPS)

    assert speech.language is Language.en
    assert speech.sample_rate_hz == 22050
    assert segments[0].start_ms == 0.0
    assert speech.alignment.end_ms == pytest.approx(speech.duration_ms)
    assert [p for p in speech.alignment.phones if p not in GAPS][:6] == ["ð", "ə", "k", "w", "ɪ", "k"]
    assert abs(first.start_ms - energy_onset_ms(speech.samples, speech.sample_rate_hz)) <= 30.0


def test_the_language_picks_the_synthesizer() -> None:
    assert synthesize_reference("か", Language.ja).sample_rate_hz == 48000
    assert synthesize_english("Hi.").sample_rate_hz == 22050


def test_a_machine_without_hts_engine_is_told_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("shutil.which", lambda name: None)
    with pytest.raises(ReferenceUnavailable, match=r"apt-get install htsengine"):
        synthesize_japanese(JA_TEXT)


def test_kana_are_spoken_mora_by_mora_as_written() -> None:
    assert pyopenjtalk.g2p("トウキョウ、ヲ") == "t o o ky o o pau o"  # what Open JTalk alone would say

    speech = synthesize_kana("トウキョウ、ヲ")
    hiragana = synthesize_kana("とうきょう、を")

    assert speech.alignment.phones == ("sil", "t", "o", "u", "ky", "o", "u", "pau", "w", "o", "sil")
    assert hiragana.alignment.phones == speech.alignment.phones
    assert speech.text == "トウキョウ、ヲ" and speech.sample_rate_hz == 48_000
    [pause] = [s for s in speech.alignment.segments if s.phone == "pau"]
    assert level_db(speech.samples, speech.sample_rate_hz, pause.start_ms, pause.end_ms) < -60.0
    assert speech.alignment.end_ms == pytest.approx(speech.duration_ms, abs=10.0)


def test_kana_open_jtalk_reads_as_written_keep_its_accent() -> None:
    as_kana = synthesize_kana("、コンニチワ、、")  # pauses at the ends and runs of them are dropped
    as_text = synthesize_japanese("コンニチワ")

    assert as_kana.alignment == as_text.alignment
    assert np.array_equal(as_kana.samples, as_text.samples)


@pytest.mark.parametrize(
    ("kana", "expected"),
    [
        ("カ漢字", "'漢' in 'カ漢字' is not a mora"),
        ("ーカ", "ー in 'ーカ' follows no vowel"),
        ("息", "'息' is not a mora that can be spoken"),
    ],
)
def test_text_that_is_not_morae_is_refused_naming_the_kana(kana: str, expected: str) -> None:
    with pytest.raises(PhonemeError, match=expected):
        synthesize_kana(kana)


def test_kana_without_morae_is_nothing_to_speak() -> None:
    with pytest.raises(ValueError, match="no text to speak"):
        synthesize_kana("、、")
