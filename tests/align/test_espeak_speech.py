"""English speech from eSpeak NG knows when each of its phones starts."""

import ctypes
import itertools
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from fixtures.energy import energy_offset_ms, energy_onset_ms, level_db
from voicestudio.text import espeak

GAPS = ("sil", "pau")


def test_english_text_reads_as_ipa_one_string_per_clause() -> None:
    assert espeak.is_available()
    assert espeak.version().startswith("1.")
    [ipa] = espeak.text_to_ipa("hello world")
    assert "h" in ipa and "w" in ipa
    assert ipa.split() == ["həlˈoʊ", "wˈɜːld"]
    assert len(espeak.text_to_ipa("Hello, world. How are you?")) == 3
    assert espeak.text_to_ipa("  ") == []


def test_spoken_phones_cover_the_audio_and_start_where_the_sound_does() -> None:
    speech = espeak.synthesize_with_phones("Six sheep sat still.")
    alignment = speech.alignment
    starts = [s.start_ms for s in alignment.segments]

    assert speech.sample_rate_hz == 22050
    assert speech.samples.dtype == np.float32
    assert alignment.segments[0].start_ms == 0.0
    assert alignment.end_ms == pytest.approx(speech.duration_ms)
    assert all(b > a for a, b in itertools.pairwise(starts))
    assert " ".join(alignment.phones) == "sil s ɪ k s ʃ iː p s æ t s t ɪ l sil"
    first = next(s for s in alignment.segments if s.phone not in GAPS)
    last = next(s for s in reversed(alignment.segments) if s.phone not in GAPS)
    assert abs(first.start_ms - energy_onset_ms(speech.samples, speech.sample_rate_hz)) <= 30.0
    assert abs(last.end_ms - energy_offset_ms(speech.samples, speech.sample_rate_hz)) <= 15.0


def test_a_phone_espeak_renders_inside_its_neighbour_still_gets_time() -> None:
    speech = espeak.synthesize_with_phones("Bill.")
    segments = speech.alignment.segments

    assert speech.alignment.phones == ("sil", "b", "ɪ", "l", "sil")
    assert min(s.duration_ms for s in segments[1:-1]) > 30.0


def test_a_sentence_gets_the_same_phone_times_whatever_was_said_before() -> None:
    first = espeak.synthesize_with_phones("Six sheep sat still.")
    espeak.synthesize_with_phones("The quick brown fox jumps over the lazy dog.")
    again = espeak.synthesize_with_phones("Six sheep sat still.")

    assert [p for p, _ in again.phones] == [p for p, _ in first.phones]
    for (_, start_ms), (_, start_again_ms) in zip(first.phones, again.phones, strict=True):
        assert abs(start_ms - start_again_ms) < 2.0


def test_a_pause_at_a_comma_is_silent_and_the_words_around_it_are_not() -> None:
    speech = espeak.synthesize_with_phones("Hello, world.")
    segments = speech.alignment.segments
    [pause] = [s for s in segments if s.phone == "pau"]

    assert pause.duration_ms > 100.0
    for gap in (s for s in segments if s.phone in GAPS):  # eSpeak's silence is exact zeros
        assert level_db(speech.samples, speech.sample_rate_hz, gap.start_ms, gap.end_ms) < -100.0
    for segment in segments:
        if segment.phone in ("oʊ", "ɜː"):
            assert level_db(speech.samples, speech.sample_rate_hz, segment.start_ms, segment.end_ms) > -30.0


def test_speech_from_many_threads_comes_out_whole() -> None:
    text = "The quick brown fox."
    alone = espeak.synthesize_with_phones(text)
    with ThreadPoolExecutor(max_workers=4) as pool:
        together = list(pool.map(lambda _: espeak.synthesize_with_phones(text), range(8)))

    for speech in together:
        assert [p for p, _ in speech.phones] == [p for p, _ in alone.phones]
        assert abs(speech.duration_ms - alone.duration_ms) < 5.0


def test_an_unknown_voice_is_reported_to_the_user() -> None:
    with pytest.raises(espeak.EspeakUnavailable, match="no voice"):
        espeak.text_to_ipa("hello", voice="xx-nowhere")
    assert espeak.text_to_ipa("hello") == ["həlˈoʊ"]


def test_a_machine_without_espeak_is_told_how_to_install_it(monkeypatch: pytest.MonkeyPatch) -> None:
    def missing(name: str) -> ctypes.CDLL:
        raise OSError(f"{name}: cannot open shared object file")

    monkeypatch.setattr("ctypes.CDLL", missing)
    with pytest.raises(espeak.EspeakUnavailable, match=r"apt-get install espeak-ng"):
        espeak._load_library()
