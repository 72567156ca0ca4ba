"""The session's speech files carry their true phone times, on disk and in memory."""

import itertools

import soundfile as sf

from fixtures.energy import energy_onset_ms
from fixtures.piper_phones import (
    PhoneSpan,
    join_word_gaps,
    phone_spans,
    symbol_spans,
    symbol_spans_around_pads,
)
from fixtures.speech import SpeechFixture
from voicestudio.align.labels import read_lab
from voicestudio.domain.language import Language
from voicestudio.text import espeak

GAPS = ("sil", "pau", "sp")


def _duration_ms(fixture: SpeechFixture) -> float:
    info = sf.info(fixture.wav_path)
    assert info.samplerate == fixture.sample_rate_hz
    assert info.subtype == "PCM_16"
    return 1000.0 * int(info.frames) / int(info.samplerate)


def test_every_fixture_is_a_wav_with_a_lab_that_reads_back_the_same(
    ja_speech: SpeechFixture,
    ja_cv_speech: dict[str, SpeechFixture],
    en_speech: SpeechFixture,
    en_natural_speech: SpeechFixture,
) -> None:
    for fixture in [ja_speech, en_speech, en_natural_speech, *ja_cv_speech.values()]:
        assert fixture.wav_path.suffix == ".wav" and fixture.lab_path.suffix == ".lab"
        assert not fixture.wav_path.with_suffix(".wav.part").exists()
        back = read_lab(fixture.lab_path)
        assert back.phones == fixture.alignment.phones
        for ours, read in zip(fixture.alignment.segments, back.segments, strict=True):
            assert abs(ours.start_ms - read.start_ms) < 1e-4 and abs(ours.end_ms - read.end_ms) < 1e-4
        assert abs(fixture.alignment.end_ms - _duration_ms(fixture)) <= 10.0


def test_japanese_fixtures_are_named_by_their_reading(
    ja_speech: SpeechFixture, ja_cv_speech: dict[str, SpeechFixture]
) -> None:
    assert ja_speech.language is Language.ja and ja_speech.sample_rate_hz == 48000
    assert {mora: f.wav_path.name for mora, f in ja_cv_speech.items()} == {
        "か": "ka.wav",
        "き": "ki.wav",
        "しゃ": "sha.wav",
    }
    assert ja_cv_speech["しゃ"].alignment.phones == ("sil", "sh", "a", "sil")


def test_natural_voice_alignment_covers_its_audio_and_names_espeaks_phones(
    en_natural_speech: SpeechFixture, en_speech: SpeechFixture
) -> None:
    samples, sample_rate_hz = sf.read(en_natural_speech.wav_path, dtype="float32")
    segments = en_natural_speech.alignment.segments
    starts = [s.start_ms for s in segments]
    natural_phones = [p for p in en_natural_speech.alignment.phones if p not in GAPS]
    espeak_phones = [p for p in en_speech.alignment.phones if p not in GAPS]
    first = next(s for s in segments if s.phone not in GAPS)

    assert sample_rate_hz == 22050
    assert starts[0] == 0.0
    assert all(b > a for a, b in itertools.pairwise(starts))
    assert abs(en_natural_speech.alignment.end_ms - 1000.0 * len(samples) / sample_rate_hz) <= 50.0
    assert natural_phones == espeak_phones
    assert not any(set(p) & {"ˈ", "ˌ", "^", "$", "_"} for p in en_natural_speech.alignment.phones)
    assert segments[0].phone == "sil" and segments[-1].phone == "sil"
    assert "sp" not in en_natural_speech.alignment.phones  # the space between words sounds: it is no gap
    assert abs(first.start_ms - energy_onset_ms(samples, sample_rate_hz)) <= 40.0


def test_the_english_fixture_speaks_the_pangram_in_ipa(en_speech: SpeechFixture) -> None:
    [ipa] = espeak.text_to_ipa(en_speech.text)
    spoken = "".join(p for p in en_speech.alignment.phones if p not in GAPS)
    assert spoken == ipa.translate(str.maketrans("", "", " ˈˌ"))


def test_piper_symbols_become_phones_even_without_espeaks_names() -> None:
    symbols = [("^", 100), ("h", 50), ("ˈ", 20), ("ɑ", 60), ("ː", 40), (",", 80), (" ", 30)]
    symbols += [("t", 50), (".", 70), ("$", 10)]
    spans = phone_spans(symbol_spans(symbols))
    assert [(s.phone, s.start_sample, s.end_sample) for s in spans] == [
        ("sil", 0, 100),
        ("h", 100, 150),
        ("ɑː", 150, 270),
        ("pau", 270, 380),
        ("t", 380, 430),
        ("sil", 430, 510),
    ]
    named = phone_spans(symbol_spans(symbols), espeak_phones=["h", "ɑː", "t"])
    assert [s.phone for s in named] == ["sil", "h", "ɑː", "pau", "t", "sil"]


def test_piper_pads_split_between_their_neighbours_and_word_gaps_join_the_next_consonant() -> None:
    symbols = [("^", 100, 20), ("k", 50, 40), ("ɪ", 60, 30), (" ", 30, 40), ("f", 50, 20), ("$", 10, 0)]
    at_start = symbol_spans_around_pads(symbols)
    piper = symbol_spans_around_pads(symbols, pad_to_next=0.0)
    middle = symbol_spans_around_pads(symbols, pad_to_next=0.5)

    assert [(s.symbol, s.start_sample, s.end_sample) for s in at_start] == [
        ("^", 0, 100),
        ("k", 100, 170),
        ("ɪ", 170, 270),
        (" ", 270, 330),
        ("f", 330, 420),
        ("$", 420, 450),
    ]
    assert [s.end_sample for s in piper] == [120, 210, 300, 370, 440, 450]  # symbol + following pad
    assert [s.end_sample for s in middle] == [110, 190, 285, 350, 430, 450]
    gap_before_consonant = [PhoneSpan("ɪ", 170, 270), PhoneSpan("sp", 270, 330), PhoneSpan("f", 330, 420)]
    gap_before_vowel = [PhoneSpan("k", 170, 270), PhoneSpan("sp", 270, 330), PhoneSpan("ɪ", 330, 420)]
    assert join_word_gaps(gap_before_consonant) == [PhoneSpan("ɪ", 170, 270), PhoneSpan("f", 270, 420)]
    assert join_word_gaps(gap_before_vowel) == [PhoneSpan("k", 170, 330), PhoneSpan("ɪ", 330, 420)]
