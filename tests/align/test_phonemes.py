"""A user who knows the phones better than the dictionary aligns a take by its phone string."""

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pyopenjtalk
import pytest

from fixtures.speech import SpeechFixture
from voicestudio.align import PhonemeError, ReferenceSpeech, synthesize_phonemes
from voicestudio.align.dtw import DtwAligner
from voicestudio.align.labels import read_lab
from voicestudio.align.metrics import matching_start_errors_ms
from voicestudio.align.reference import phonemes_to_katakana
from voicestudio.align.take import AlignRequestError, align_take_file
from voicestudio.audio.io import read_audio
from voicestudio.domain.alignment import Alignment
from voicestudio.domain.language import Language
from voicestudio.errors import VoicestudioError
from voicestudio.text.kana import MoraGroup, kana_to_phonemes, mora_table

# What the user types for "こんにちは、今日はいい天気ですね。" (pyopenjtalk's reading, devoiced U included).
JA_PHONES = "k o N n i ch i w a pau ky o o w a i i t e N k i d e s U n e"
# "The quick brown fox jumps over the lazy dog." in ARPAbet, as eSpeak NG says it.
EN_ARPABET = "DH AH0 K W IH1 K B R AW1 N F AA1 K S JH AH1 M P S OW2 V ER0 DH AH0 L EY1 Z IY0 D AA1 G"
GAPS = ("sil", "pau")
# Pairs of morae that Open JTalk reads otherwise than written, one for each way it does, with its reading.
# Of the 130 × 130 pairs of the mora table it misreads 72 (all spoken as written when this was written);
# spoken word by word with Open JTalk's own analysis, 40 of those 72 could not be said.
MISREAD_PAIRS = {
    "コウ": "k o o",  # a long o
    "ハヘ": "h a e",  # へ as the particle
    "コヒ": "k o i",
    "アツァ": "a ts u a",
    "スツァ": "s u cl a",
    "スツ": "s u cl",
    "オファ": "o f u a",
    "ラヴァ": "r a v u a",
    "バリュ": "b a ry u u",
    "トゥディ": "t u d e i",
    "ディブ": "d e i b u",
    "シェイ": "sh e e",
}


@pytest.fixture(scope="module")
def aligner() -> DtwAligner:
    return DtwAligner()


def spoken(alignment: Alignment) -> list[str]:
    return [phone for phone in alignment.phones if phone not in GAPS]


def voiced(reading: str) -> tuple[str, ...]:
    """pyopenjtalk's phones with its devoiced vowels (U, I) written as the vowels they are."""
    return tuple(phone.lower() if phone in "AIUEO" else phone for phone in reading.split())


def start_errors_by_position_ms(found: Alignment, truth: Alignment) -> np.ndarray:
    """|found − true| start of every spoken phone, paired by position (the names differ: ARPAbet vs IPA)."""
    a = [s for s in found.segments if s.phone not in GAPS]
    b = [s for s in truth.segments if s.phone not in GAPS]
    return np.array([abs(x.start_ms - y.start_ms) for x, y in zip(a, b, strict=True)])


def test_japanese_phones_land_where_the_text_alignment_puts_them(
    aligner: DtwAligner, ja_speech: SpeechFixture
) -> None:
    clip = read_audio(ja_speech.wav_path)
    assert pyopenjtalk.g2p(ja_speech.text) == JA_PHONES

    by_phones = aligner.align_phonemes(clip.samples, clip.sample_rate_hz, JA_PHONES.split(), Language.ja)
    by_text = aligner.align(clip.samples, clip.sample_rate_hz, ja_speech.text, Language.ja)

    assert by_phones.phones == by_text.phones
    errors = matching_start_errors_ms(by_phones, by_text)
    assert len(errors) == 27
    assert np.median(errors) <= 5.0  # measured: 0 ms
    assert errors.max() <= 30.0  # measured: 17.5 ms
    assert np.median(matching_start_errors_ms(by_phones, ja_speech.alignment)) <= 5.0


def test_japanese_phones_are_spoken_as_written_where_open_jtalk_would_read_otherwise() -> None:
    phones = ["t", "o", "u", "ky", "o", "u"]
    katakana = phonemes_to_katakana(phones)
    assert katakana == "トウキョウ"
    assert pyopenjtalk.g2p(katakana) == "t o o ky o o"  # read as text, "o u" becomes a long "o o"

    speech = synthesize_phonemes(phones, Language.ja)

    assert speech.alignment.phones == ("sil", "t", "o", "u", "ky", "o", "u", "sil")
    assert speech.sample_rate_hz == 48_000
    assert all(s.duration_ms > 0.0 for s in speech.alignment.segments)


def test_every_mora_of_the_table_becomes_katakana_open_jtalk_reads_as_those_phones() -> None:
    morae = [mora for mora in mora_table() if mora.group is not MoraGroup.breath]

    misread = [
        (mora.phonemes, pyopenjtalk.g2p(phonemes_to_katakana(mora.phonemes)))
        for mora in morae
        if tuple(pyopenjtalk.g2p(phonemes_to_katakana(mora.phonemes)).split()) != mora.phonemes
    ]

    assert len(morae) > 100
    assert misread == []


def test_pairs_of_morae_open_jtalk_misreads_are_spoken_as_written() -> None:
    pairs = [kana_to_phonemes(pair) for pair in MISREAD_PAIRS]
    assert {pair: " ".join(voiced(pyopenjtalk.g2p(pair))) for pair in MISREAD_PAIRS} == MISREAD_PAIRS

    def speak(phones: tuple[str, ...]) -> ReferenceSpeech:
        return synthesize_phonemes(phones, Language.ja)

    with ThreadPoolExecutor(4) as pool:  # hts_engine runs as a process: threads overlap them
        spoken = list(pool.map(speak, pairs))

    assert [speech.alignment.phones for speech in spoken] == [("sil", *phones, "sil") for phones in pairs]
    assert pairs[0] == ("k", "o", "u") and pairs[1] == ("h", "a", "h", "e")
    assert min(s.duration_ms for speech in spoken for s in speech.alignment.segments) >= 20.0  # measured: 30


def test_every_mora_of_the_table_is_spoken_as_written_in_one_breath() -> None:
    morae = dict.fromkeys(mora.phonemes for mora in mora_table() if mora.group is not MoraGroup.breath)
    phones = [phone for mora in morae for phone in mora]

    speech = synthesize_phonemes(phones, Language.ja)

    assert len(morae) == 130
    assert speech.alignment.phones == ("sil", *phones, "sil")
    assert min(s.duration_ms for s in speech.alignment.segments) >= 20.0  # measured: 30 ms


def test_pauses_keep_their_place_and_the_ends_stay_silent() -> None:
    speech = synthesize_phonemes(["sil", "a", "cl", "sil", "pau", "k", "a", "pau"], Language.ja)

    assert speech.alignment.phones == ("sil", "a", "cl", "pau", "k", "a", "sil")
    [pause] = [s for s in speech.alignment.segments if s.phone == "pau"]
    assert pause.duration_ms > 50.0


def test_english_arpabet_lands_on_the_true_phone_times_of_espeak_speech(
    aligner: DtwAligner, en_speech: SpeechFixture
) -> None:
    clip = read_audio(en_speech.wav_path)

    found = aligner.align_phonemes(clip.samples, clip.sample_rate_hz, EN_ARPABET.split(), Language.en)

    assert spoken(found) == EN_ARPABET.split()
    errors = start_errors_by_position_ms(found, en_speech.alignment)
    assert len(errors) == 31
    assert np.median(errors) <= 5.0  # measured: 1.7 ms
    assert np.percentile(errors, 90) <= 15.0  # measured: 6.0 ms
    assert np.median([s.score for s in found.segments]) > 0.8  # measured: 0.87


def test_arpabet_may_be_written_in_any_case_and_espeak_ipa_works_too() -> None:
    upper = synthesize_phonemes(["HH", "AH0", "L", "OW1"], Language.en)
    lower = synthesize_phonemes(["hh", "ah0", "l", "ow1"], Language.en)
    ipa = synthesize_phonemes(["h", "ə", "l", "ˈoʊ"], Language.en)

    assert spoken(upper.alignment) == ["HH", "AH0", "L", "OW1"]
    assert spoken(lower.alignment) == ["hh", "ah0", "l", "ow1"]
    assert spoken(ipa.alignment) == ["h", "ə", "l", "ˈoʊ"]
    assert upper.duration_ms > 300.0
    assert abs(upper.duration_ms - lower.duration_ms) <= 5.0  # the same phones; measured: 0.7 ms apart


@pytest.mark.parametrize(
    "phones",
    [
        "AY1 AH0",  # eSpeak puts a step between the vowels: folded into AY
        "EH1 V ER0 IY0",  # and a linking r after ER: folded into ER
        "B AE1 NG K",  # N before a velar, sayable as written
        "IH0 N S IH0",  # a final unstressed IH stays IH
        "AH0 R AY1 V",  # a schwa before R stays a schwa
    ],
)
def test_english_phones_that_espeak_would_blend_are_still_spoken_one_by_one(phones: str) -> None:
    speech = synthesize_phonemes(phones.split(), Language.en)

    assert spoken(speech.alignment) == phones.split()
    assert all(s.duration_ms > 0.0 for s in speech.alignment.segments)


@pytest.mark.parametrize(
    ("phones", "language", "expected"),
    [
        ("k k a", Language.ja, ["Phone 1 'k'", "no vowel", "k a"]),
        ("x a", Language.ja, ["Phone 1 'x'", "not a Japanese phone", "ky", " cl "]),
        ("k o N n i ch", Language.ja, ["Phone 6 'ch'", "at the end"]),
        ("ky e", Language.ja, ["Phones 1-2 'ky e'", "not a Japanese mora"]),
        ("HH XX L OW1", Language.en, ["Phone 2 'XX'", "ARPAbet", "ZH"]),
        ("HH AH5", Language.en, ["Phone 2 'AH5'", "stress 0, 1 or 2"]),
        ("pau sil", Language.en, ["no phones"]),
    ],
)
def test_a_bad_phone_string_is_refused_naming_the_phone_and_its_place(
    phones: str, language: Language, expected: list[str]
) -> None:
    with pytest.raises(PhonemeError) as refused:
        synthesize_phonemes(phones.split(), language)

    for words in expected:
        assert words in refused.value.message


def test_the_aligner_refuses_bad_phones_with_the_same_clear_error(
    aligner: DtwAligner, ja_speech: SpeechFixture
) -> None:
    clip = read_audio(ja_speech.wav_path)

    with pytest.raises(VoicestudioError, match="Phone 2 'x'"):
        aligner.align_phonemes(clip.samples, clip.sample_rate_hz, ["a", "x", "a"], Language.ja)


def test_a_take_file_aligned_by_phones_is_written_as_htk_lab(
    en_speech: SpeechFixture, tmp_path: Path
) -> None:
    out = tmp_path / "take.lab"

    found = align_take_file(en_speech.wav_path, None, Language.en, out, phonemes=EN_ARPABET.split())

    assert read_lab(out).phones == found.phones
    assert np.median(start_errors_by_position_ms(read_lab(out), en_speech.alignment)) <= 5.0


@pytest.mark.parametrize(("text", "phonemes"), [("hello", ["HH", "AH0"]), (None, None)])
def test_a_take_file_needs_exactly_one_of_text_and_phones(
    en_speech: SpeechFixture, tmp_path: Path, text: str | None, phonemes: list[str] | None
) -> None:
    out = tmp_path / "take.lab"

    with pytest.raises(AlignRequestError, match="either the text or the phones"):
        align_take_file(en_speech.wav_path, text, Language.en, out, phonemes=phonemes)

    assert not out.exists()
