"""Reference speech: a known phone string spoken by a synthesizer, with the true time of every phone.

An aligner maps a reference's boundaries onto a recording of the same text, and the studio plays a
reference as the example of a prompt. Japanese is spoken by HTS (Open JTalk's labels, the voice in
pyopenjtalk), English by eSpeak NG. Either speaks a written text or, for a user who knows better than
the dictionary, a phone string exactly as given; Japanese kana can also be spoken exactly as written.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt
import soundfile as sf

from voicestudio.align.labels import parse_lab
from voicestudio.domain.alignment import Alignment, PhoneSegment
from voicestudio.domain.language import Language
from voicestudio.errors import VoicestudioError
from voicestudio.text import espeak
from voicestudio.text.arpabet import PHONEMES as ARPABET_PHONEMES
from voicestudio.text.arpabet import VOWELS as ARPABET_VOWELS
from voicestudio.text.arpabet import ipa_to_arpabet, strip_stress
from voicestudio.text.errors import G2PError, KanaError
from voicestudio.text.kana import (
    LONG_VOWEL,
    MoraGroup,
    kana_to_phonemes,
    mora_table,
    split_morae,
    to_katakana,
)

if TYPE_CHECKING:
    from pyopenjtalk.types import NJDFeature

HTS_ENGINE = "hts_engine"
# The HTS voice peaks past full scale on some sentences; render 6 dB lower so no sample is clipped.
HEADROOM_DB = -6.0
ENGLISH_VOICE = "en-us"
# A full-context label starts `p1^p2-p3+p4=p5/A:…`; the phone itself is p3.
_CURRENT_PHONE = re.compile(r"^[^\^]*\^[^-]*-([^+]+)\+")
SILENCE, PAUSE = "sil", "pau"
PAUSE_PHONES = frozenset({SILENCE, PAUSE})  # what a phone string may write for a pause
_JA_PAUSE_KANA = "、"
_JA_LONG_VOWELS = frozenset({LONG_VOWEL, "～", "〜"})  # marks that lengthen the vowel before them
_JA_VOWELS = ("a", "i", "u", "e", "o")
_JA_DEVOICED = {vowel.upper(): vowel for vowel in _JA_VOWELS}  # pyopenjtalk's devoiced vowels
_JA_MORAIC = ("N", "cl")  # phones that are a mora on their own, like a vowel
# Open JTalk reads ヲ as "o", also in a word's pronunciation; ウォ is how it says "w o".
_JA_KATAKANA_OVERRIDES: dict[tuple[str, ...], str] = {("w", "o"): "ウォ"}
# ARPAbet → eSpeak NG's en-us phoneme mnemonics (espeak-ng docs/phonemes), chosen so that eSpeak
# reports the same phone back (see `_espeak_mnemonics` for the few that depend on the next phone).
_ESPEAK_STRESSED = {
    "AA": "A:", "AE": "a", "AH": "V", "AO": "O:", "AW": "aU", "AY": "aI", "EH": "E", "ER": "3:",
    "EY": "eI", "IH": "I", "IY": "i:", "OW": "oU", "OY": "OI", "UH": "U", "UW": "u:",
    "B": "b", "CH": "tS", "D": "d", "DH": "D", "F": "f", "G": "g", "HH": "h", "JH": "dZ", "K": "k",
    "L": "l", "M": "m", "N": "n", "NG": "N", "P": "p", "R": "r", "S": "s", "SH": "S", "T": "t",
    "TH": "T", "V": "v", "W": "w", "Y": "j", "Z": "z", "ZH": "Z",
}  # fmt: skip
_ESPEAK_UNSTRESSED = {**_ESPEAK_STRESSED, "AH": "@", "ER": "3", "IY": "i"}
_ESPEAK_STRESS_MARKS = {"1": "'", "2": ","}
_ESPEAK_FINAL_IH = "I#"  # a word-final unstressed "I" comes out as i (happY); "I#" stays ᵻ, still IH
_ESPEAK_SCHWA_BEFORE_R = "@2"  # "@" then r comes out as ɚ; "@2" stays ə (but before a vowel it is ɪ)
_VELARS = frozenset({"K", "G", "NG"})  # "n" before them comes out as ŋ unless a word boundary (||) parts them
# eSpeak's IPA names of reduced vowels: a phone string that writes them means the unstressed ARPAbet.
_IPA_UNSTRESSED = frozenset({"ə", "ɐ", "ɚ", "i", "ᵻ"})
_ESPEAK_R_COLOURED = frozenset({"ɜː", "ɚ", "ɝ"})
_ESPEAK_LINKING_R = frozenset({"ɹ", "r"})


class ReferenceUnavailable(VoicestudioError):
    """A synthesizer the reference speech needs is not installed."""


class PhonemeError(VoicestudioError):
    """Phones or kana the reference cannot speak as written, naming the phone (and its place) or the kana."""


@dataclass(frozen=True, slots=True, eq=False)  # eq=False: arrays do not compare to a single bool
class ReferenceSpeech:
    """Synthesized speech of `text` and where each of its phones starts and ends."""

    samples: npt.NDArray[np.float32]
    sample_rate_hz: int
    alignment: Alignment
    text: str
    language: Language

    @property
    def duration_ms(self) -> float:
        return 1000.0 * len(self.samples) / self.sample_rate_hz


def synthesize_reference(text: str, language: Language) -> ReferenceSpeech:
    """Speak `text` in `language` with the true phone times."""
    if language is Language.ja:
        return synthesize_japanese(text)
    if language is Language.en:
        return synthesize_english(text)
    raise ValueError(f"no reference synthesizer for language {language!r}")


def synthesize_english(text: str) -> ReferenceSpeech:
    """American English by eSpeak NG; phones are eSpeak's IPA names, "sil" at the ends, "pau" at clauses."""
    speech = espeak.synthesize_with_phones(text, ENGLISH_VOICE)
    return ReferenceSpeech(speech.samples, speech.sample_rate_hz, speech.alignment, text, Language.en)


def synthesize_japanese(text: str) -> ReferenceSpeech:
    """Japanese by HTS from Open JTalk's full-context labels (48 kHz); phones as `pyopenjtalk.g2p` names
    them, with "sil" at the ends and "pau" at pauses. The times are those the engine chose, to the frame."""
    import pyopenjtalk

    if not text.strip():
        raise ValueError("there is no text to speak")
    engine, voice = _hts_engine_and_voice()
    labels = [str(label) for label in pyopenjtalk.extract_fullcontext(text)]
    samples, sample_rate_hz, alignment = _render_with_hts(engine, voice, labels)
    return ReferenceSpeech(samples, sample_rate_hz, alignment, text, Language.ja)


def synthesize_kana(kana: str) -> ReferenceSpeech:
    """Japanese by HTS saying the morae of `kana` (katakana or hiragana) exactly as written, 、 as a pause;
    phones and times as `synthesize_japanese` gives them.

    Open JTalk reads kana as words (コウ → k o o, ハヘ → h a e, ツァ after a mora → ts u a, ヲ → o). Where
    that differs from the morae as written, each phrase goes to HTS as one flat-accented word instead.
    Raises PhonemeError for text that is not morae of the mora table, ValueError when there are none."""
    import pyopenjtalk

    phrases = _kana_phrases(kana)
    written: list[str] = []
    words: list[NJDFeature] = []
    for phrase in phrases:
        if written:
            written.append(PAUSE)
            words.append(_njd_word(_JA_PAUSE_KANA, "記号", "読点", 0))
        written.extend(phrase.phones)
        words.append(_njd_word(phrase.katakana, "名詞", "一般", len(split_morae(phrase.katakana))))
    text = _JA_PAUSE_KANA.join(phrase.katakana for phrase in phrases)
    labels = [str(label) for label in pyopenjtalk.extract_fullcontext(text)]
    if [_japanese_key(_current_phone(label)) for label in labels[1:-1]] != written:
        labels = [str(label) for label in pyopenjtalk.make_label(words)]
    engine, voice = _hts_engine_and_voice()
    samples, sample_rate_hz, alignment = _render_with_hts(engine, voice, labels)
    return ReferenceSpeech(samples, sample_rate_hz, alignment, kana, Language.ja)


@dataclass(frozen=True, slots=True)
class _KanaPhrase:
    """Morae between pauses: katakana Open JTalk pronounces as the mora table's phones, and those phones."""

    katakana: str
    phones: tuple[str, ...]


def _kana_phrases(kana: str) -> list[_KanaPhrase]:
    """The phrases of `kana` between its 、 (empty ones dropped), ヲ spelled ウォ (Open JTalk says w o)."""
    phrases: list[_KanaPhrase] = []
    for phrase in to_katakana(kana).split(_JA_PAUSE_KANA):
        if not phrase.strip():
            continue
        try:
            phones = kana_to_phonemes(phrase)
            phrases.append(_KanaPhrase("".join(_spelled_mora(mora) for mora in split_morae(phrase)), phones))
        except KanaError as e:
            raise PhonemeError(f"{kana!r} cannot be spoken mora by mora: {e}") from None
    if not phrases:
        raise ValueError("there is no text to speak")
    return phrases


def _spelled_mora(mora: str) -> str:
    """The katakana of one mora that Open JTalk pronounces as the mora table's phones of it."""
    if mora in _JA_LONG_VOWELS:
        return LONG_VOWEL
    spelled = _katakana_by_phones().get(kana_to_phonemes(mora))
    if spelled is None:
        raise KanaError(f"{mora!r} is not a mora that can be spoken; write it with kana of the mora table.")
    return spelled


def _njd_word(text: str, pos: str, pos_group: str, mora_size: int) -> NJDFeature:
    """One word of Open JTalk's analysis, pronounced as written, with a flat accent."""
    return {
        "string": text,
        "pos": pos,
        "pos_group1": pos_group,
        "pos_group2": "*",
        "pos_group3": "*",
        "ctype": "*",
        "cform": "*",
        "orig": text,
        "read": text,
        "pron": text,
        "acc": 0,
        "mora_size": mora_size,
        "chain_rule": "*",
        "chain_flag": -1,
        "is_reading_protected": True,
        "is_reading_rewritten": False,
    }


def _hts_engine_and_voice() -> tuple[Path, Path]:
    """The hts_engine program and pyopenjtalk's voice, or ReferenceUnavailable saying what to install."""
    import pyopenjtalk

    engine = shutil.which(HTS_ENGINE)
    if engine is None:
        raise ReferenceUnavailable(
            "Japanese reference speech needs hts_engine; install htsengine: apt-get install htsengine."
        )
    voice = Path(pyopenjtalk.__file__).parent / "htsvoice" / "mei_normal.htsvoice"
    if not voice.is_file():
        raise ReferenceUnavailable(f"The HTS voice {voice} is missing; reinstall pyopenjtalk-plus.")
    return Path(engine), voice


@dataclass(frozen=True, slots=True)
class _Phone:
    """One phone of a caller's phone string: its name as written and its place (1 = first)."""

    name: str
    position: int

    @property
    def is_pause(self) -> bool:
        return self.name in PAUSE_PHONES


def synthesize_phonemes(phonemes: Sequence[str], language: Language) -> ReferenceSpeech:
    """Speak exactly `phonemes` with the true phone times: pyopenjtalk's names for Japanese, ARPAbet (stress
    digits optional, any case) or eSpeak's IPA for English; "pau"/"sil" are pauses.

    The phones keep the caller's names as written, pauses are "pau", the silent ends "sil".
    Raises PhonemeError naming the first phone that is not valid or that the synthesizer would change."""
    phones = _pauses_between_phones(phonemes)
    if language is Language.ja:
        return _speak_japanese_phones(phones)
    if language is Language.en:
        return _speak_english_phones(phones)
    raise ValueError(f"no reference synthesizer for language {language!r}")


def _pauses_between_phones(phonemes: Sequence[str]) -> list[_Phone]:
    """The phones with their places; pauses at the ends dropped (the ends are silent), runs of them merged."""
    phones: list[_Phone] = []
    for position, name in enumerate(phonemes, start=1):
        name = name.strip()
        if not name:
            raise PhonemeError(f"Phone {position} is empty; separate the phones with single spaces.")
        phone = _Phone(PAUSE if name.lower() in PAUSE_PHONES else name, position)
        if phone.is_pause and (not phones or phones[-1].is_pause):
            continue
        phones.append(phone)
    while phones and phones[-1].is_pause:
        phones.pop()
    if not phones:
        raise PhonemeError(
            'There are no phones to speak; write them separated by spaces, e.g. "k o N n i ch i w a".'
        )
    return phones


def phonemes_to_katakana(phonemes: Sequence[str]) -> str:
    """Katakana that pyopenjtalk reads as exactly `phonemes` (its names; "pau"/"sil" give 、).

    Raises PhonemeError naming the first phone that is not a Japanese phone or does not make a mora."""
    return "".join(_katakana_morae([_Phone(name, n) for n, name in enumerate(phonemes, start=1)]))


def _katakana_morae(phones: Sequence[_Phone]) -> list[str]:
    """One katakana mora (or 、 for a pause) per consonant + vowel, vowel, N or cl."""
    katakana = _katakana_by_phones()
    morae: list[str] = []
    onset: _Phone | None = None
    for phone in phones:
        if phone.is_pause:
            if onset is not None:
                raise _no_vowel_after(onset, "before the pause")
            morae.append(_JA_PAUSE_KANA)
            continue
        name = _JA_DEVOICED.get(phone.name, phone.name)
        if name not in _japanese_phone_names():
            raise PhonemeError(
                f"Phone {phone.position} {phone.name!r} is not a Japanese phone. Use pyopenjtalk's names: "
                f"{' '.join(_japanese_phone_names())} (A I U E O devoiced; pau or sil for a pause)."
            )
        if name not in _JA_VOWELS and name not in _JA_MORAIC:
            if onset is not None:
                raise _no_vowel_after(onset, f"before {phone.name!r} (phone {phone.position})")
            onset = phone
            continue
        key = (onset.name, name) if onset is not None else (name,)
        mora = katakana.get(key)
        if mora is None:
            start = onset or phone
            raise PhonemeError(
                f"Phones {start.position}-{phone.position} {' '.join(key)!r} are not a Japanese mora; "
                "N and cl stand alone, and a consonant goes with the vowel after it (k a, sh i, ky o)."
            )
        morae.append(mora)
        onset = None
    if onset is not None:
        raise _no_vowel_after(onset, "at the end")
    return morae


def _no_vowel_after(onset: _Phone, where: str) -> PhonemeError:
    return PhonemeError(
        f"Phone {onset.position} {onset.name!r} has no vowel after it {where}; "
        "a Japanese consonant is always followed by its vowel (k a, not k k a)."
    )


@cache
def _katakana_by_phones() -> dict[tuple[str, ...], str]:
    """The mora table turned round: phones → the katakana pyopenjtalk reads as those phones."""
    katakana: dict[tuple[str, ...], str] = {("cl",): "ッ"}
    for mora in mora_table():
        if mora.group is not MoraGroup.breath:
            katakana.setdefault(mora.phonemes, mora.katakana)
    katakana.update(_JA_KATAKANA_OVERRIDES)
    return katakana


@cache
def _japanese_phone_names() -> tuple[str, ...]:
    """Every phone a Japanese phone string may use (lower case), vowels first, then consonants."""
    consonants = dict.fromkeys(key[0] for key in _katakana_by_phones() if len(key) == 2)
    return (*_JA_VOWELS, *_JA_MORAIC, *consonants)


def _speak_japanese_phones(phones: list[_Phone]) -> ReferenceSpeech:
    """HTS speaking the morae of `phones` as written (`synthesize_kana`), under the caller's names."""
    speech = synthesize_kana("".join(_katakana_morae(phones)))
    alignment = _named_as_asked(speech.alignment, phones, _japanese_key, _japanese_key, "Open JTalk")
    text = " ".join(phone.name for phone in phones)
    return ReferenceSpeech(speech.samples, speech.sample_rate_hz, alignment, text, Language.ja)


def _japanese_key(phone: str) -> str:
    return _JA_DEVOICED.get(phone, phone)


def _speak_english_phones(phones: list[_Phone]) -> ReferenceSpeech:
    """eSpeak NG speaking `phones` as its phoneme mnemonics, one `[[...]]` word between pauses."""
    words: list[list[str]] = [[]]
    for phone in phones:
        if phone.is_pause:
            words.append([])
        else:
            words[-1].append(_english_phone(phone))
    text = ", ".join(f"[[{_espeak_mnemonics(word)}]]" for word in words)
    speech = espeak.synthesize_with_phones(text, ENGLISH_VOICE, phoneme_input=True)
    alignment = _named_as_asked(
        speech.alignment, phones, _arpabet_of_ipa, _arpabet_key, "eSpeak NG", _is_espeak_insertion
    )
    text = " ".join(phone.name for phone in phones)
    return ReferenceSpeech(speech.samples, speech.sample_rate_hz, alignment, text, Language.en)


def _espeak_mnemonics(arpabet: list[str]) -> str:
    """eSpeak's phoneme mnemonics for one run of ARPAbet, each phone apart ("|"), so that "a" then "I"
    is not read as the diphthong "aI"."""
    mnemonics: list[str] = []
    for index, phone in enumerate(arpabet):
        base = strip_stress(phone)
        stress = phone[len(base) :]
        following = strip_stress(arpabet[index + 1]) if index + 1 < len(arpabet) else ""
        mnemonic = (_ESPEAK_UNSTRESSED if stress == "0" else _ESPEAK_STRESSED)[base]
        if base == "IH" and not following and stress != "1":
            mnemonic = _ESPEAK_FINAL_IH
        elif base == "AH" and stress == "0" and following == "R":
            mnemonic = _ESPEAK_SCHWA_BEFORE_R
        mnemonics.append(_ESPEAK_STRESS_MARKS.get(stress, "") + mnemonic)
        if following:
            mnemonics.append("||" if base == "N" and following in _VELARS else "|")
    return "".join(mnemonics)


def _english_phone(phone: _Phone) -> str:
    """ARPAbet with any stress digit of ARPAbet in any case, or of one phone in eSpeak's IPA."""
    upper = phone.name.upper()
    base = strip_stress(upper)
    stress = upper[len(base) :]
    if base in ARPABET_PHONEMES and (not stress or (len(stress) == 1 and base in ARPABET_VOWELS)):
        return upper
    try:
        arpabet = ipa_to_arpabet(phone.name)
    except G2PError:
        arpabet = ()
    if len(arpabet) == 1:
        marked = any(mark in phone.name for mark in "ˈˌ")
        reduced = phone.name in _IPA_UNSTRESSED
        return arpabet[0] if marked or reduced else strip_stress(arpabet[0])
    if len(arpabet) > 1:
        raise PhonemeError(
            f"Phone {phone.position} {phone.name!r} is {len(arpabet)} phones; "
            f"write them apart: {' '.join(arpabet)}."
        )
    raise PhonemeError(
        f"Phone {phone.position} {phone.name!r} is not an English phone. Use ARPAbet "
        f"({' '.join(ARPABET_PHONEMES)}; vowels may carry stress 0, 1 or 2), "
        "or eSpeak's IPA as in text/data/ipa_arpabet.tsv; pau or sil for a pause."
    )


def _is_espeak_insertion(previous: str, phone: str) -> bool:
    """What eSpeak adds on its own: a silent step between two vowels (i: then A:, an unnamed phone event)
    and a linking r after an r-coloured vowel before another vowel (3: then @)."""
    return phone == PAUSE or (phone in _ESPEAK_LINKING_R and previous in _ESPEAK_R_COLOURED)


def _arpabet_of_ipa(ipa: str) -> str:
    """What eSpeak said, as bare ARPAbet, to compare with what was asked."""
    if ipa in PAUSE_PHONES:
        return ipa
    try:
        return " ".join(strip_stress(phone) for phone in ipa_to_arpabet(ipa))
    except G2PError:
        return ipa


def _arpabet_key(name: str) -> str:
    if name in PAUSE_PHONES:
        return name
    return strip_stress(_english_phone(_Phone(name, 0)))


def _named_as_asked(
    alignment: Alignment,
    asked: list[_Phone],
    spoken_key: Callable[[str], str],
    asked_key: Callable[[str], str],
    synthesizer: str,
    is_insertion: Callable[[str, str], bool] = lambda previous, phone: False,
) -> Alignment:
    """The synthesizer's segments under the caller's names; the silent ends stay "sil".

    A phone `is_insertion(previous, phone)` says the synthesizer adds between two asked ones is folded
    into the phone before it. Raises PhonemeError at the first phone said otherwise than asked."""
    segments = alignment.segments
    first = 1 if segments and segments[0].phone == SILENCE else 0
    last = len(segments) - 1 if len(segments) > first and segments[-1].phone == SILENCE else len(segments)
    named: list[PhoneSegment] = []
    previous = ""
    for segment in segments[first:last]:
        want = asked[len(named)] if len(named) < len(asked) else None
        if want is not None and spoken_key(segment.phone) == asked_key(want.name):
            named.append(replace(segment, phone=want.name))
        elif named and is_insertion(previous, segment.phone):
            named[-1] = replace(named[-1], end_ms=segment.end_ms)
        elif want is None:
            raise PhonemeError(
                f"{synthesizer} adds {segment.phone!r} after the last phone; the phone string ends early."
            )
        else:
            raise PhonemeError(
                f"{synthesizer} says phone {want.position} {want.name!r} as {segment.phone!r}; "
                "it cannot say the phones in that order. Check the phone string around it."
            )
        previous = segment.phone
    if len(named) < len(asked):
        want = asked[len(named)]
        raise PhonemeError(
            f"{synthesizer} stops before phone {want.position} {want.name!r}; "
            "it cannot say the phone string in this order."
        )
    return Alignment((*segments[:first], *named, *segments[last:]))


def _render_with_hts(
    engine: Path, voice: Path, labels: list[str]
) -> tuple[npt.NDArray[np.float32], int, Alignment]:
    """Run hts_engine on full-context labels: the audio, its rate and the phone times it chose (`-od`)."""
    with tempfile.TemporaryDirectory(prefix="voicestudio-hts-") as folder:
        work = Path(folder)
        (work / "labels.lab").write_text("\n".join(labels) + "\n", encoding="utf-8")
        command = [
            str(engine),
            "-m",
            str(voice),
            "-g",
            str(HEADROOM_DB),
            "-od",
            "times.lab",
            "-ow",
            "out.wav",
        ]
        command.append("labels.lab")
        done = subprocess.run(command, cwd=work, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise RuntimeError(f"hts_engine failed ({done.returncode}): {done.stderr.strip()}")
        alignment = _alignment_from_hts_times((work / "times.lab").read_text(encoding="utf-8"))
        samples, sample_rate_hz = sf.read(work / "out.wav", dtype="float32", always_2d=False)
    return np.asarray(samples, dtype=np.float32), int(sample_rate_hz), alignment


def _alignment_from_hts_times(lab_text: str) -> Alignment:
    """Read hts_engine's `-od` output (HTK label lines whose label is the full context) as phones."""
    return Alignment(tuple(replace(s, phone=_current_phone(s.phone)) for s in parse_lab(lab_text).segments))


def _current_phone(full_context_label: str) -> str:
    match = _CURRENT_PHONE.match(full_context_label)
    if match is None:
        raise ValueError(f"not a full-context label: {full_context_label!r}")
    return match.group(1)
