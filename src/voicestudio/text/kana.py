"""Kana ↔ romaji ↔ phonemes for Japanese morae, from the table in `data/morae.tsv`.

Phonemes use pyopenjtalk's phone names (`k a`, `sh i`, `ts u`, `N`, `cl`), so a pyopenjtalk reading,
a kana reclist name and a romaji wav name all convert into each other.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from functools import cache
from importlib import resources

from voicestudio.text.errors import KanaError

SOKUON = "っ"  # the geminate mora: a closure before the next consonant
SOKUON_PHONEME = "cl"
LONG_VOWEL = "ー"  # lengthens the vowel before it
SMALL_KANA = frozenset("ぁぃぅぇぉゃゅょゎァィゥェォャュョヮ")
VOWELS = ("a", "i", "u", "e", "o")
_PAUSES = frozenset({"pau", "sil", "sp"})
_PUNCTUATION_TO_ROMAJI = {"、": ",", "。": ".", "？": "?", "！": "!", "　": " "}
_ROMAJI_TO_PUNCTUATION = {",": "、", ".": "。", "?": "？", "!": "！"}
_SOKUON_ROMAJI = ("xtsu", "ltsu", "xtu", "ltu")


class MoraGroup(StrEnum):
    """Where a mora belongs: the recorded groups of ja-cv, conversion-only aliases and the breath."""

    vowel = "vowel"
    cv = "cv"
    youon = "youon"  # a CV mora with a small ゃ ゅ ょ
    extended = "extended"  # loanword morae such as ふぁ, てぃ, ゔぁ
    n = "n"  # the moraic nasal ん
    alias = "alias"  # sounds the same as another mora; converts but is not recorded
    breath = "breath"


@dataclass(frozen=True, slots=True)
class Mora:
    """One row of the mora table."""

    hiragana: str
    katakana: str
    romaji: str
    phonemes: tuple[str, ...]
    group: MoraGroup

    @property
    def consonant(self) -> str:
        """The onset phoneme, or "" for a vowel, ん and the breath."""
        return self.phonemes[0] if len(self.phonemes) == 2 else ""

    @property
    def vowel(self) -> str:
        """The phoneme a mora ends in: its vowel, or N for ん, or "" for the breath."""
        last = self.phonemes[-1]
        return last if last in VOWELS or last == "N" else ""


@cache
def mora_table() -> tuple[Mora, ...]:
    """Every row of `data/morae.tsv`, in file order (vowels, CV rows, youon, extended, ん, …)."""
    text = resources.files("voicestudio.text").joinpath("data/morae.tsv").read_text(encoding="utf-8")
    rows = [line for line in text.splitlines() if line.strip() and not line.startswith("#")]
    morae: list[Mora] = []
    for line in rows[1:]:  # rows[0] is the header
        hiragana, katakana, romaji, phonemes, group = line.split("\t")
        morae.append(Mora(hiragana, katakana, romaji, tuple(phonemes.split()), MoraGroup(group)))
    return tuple(morae)


@cache
def _by_kana() -> dict[str, Mora]:
    index: dict[str, Mora] = {}
    for mora in mora_table():
        index[mora.hiragana] = mora
        index[mora.katakana] = mora
    return index


@cache
def _by_romaji() -> dict[str, Mora]:
    return {mora.romaji: mora for mora in mora_table()}


@cache
def _by_phonemes() -> dict[tuple[str, ...], Mora]:
    """The first row with those phonemes wins, so じ stands for ぢ and を for うぉ."""
    index: dict[tuple[str, ...], Mora] = {}
    for mora in mora_table():
        index.setdefault(mora.phonemes, mora)
    return index


@cache
def _longest_romaji() -> int:
    return max(len(romaji) for romaji in _by_romaji())


def lookup_mora(kana: str) -> Mora:
    """The table row of one mora written in hiragana or katakana."""
    try:
        return _by_kana()[kana]
    except KeyError:
        raise KanaError(
            f"{kana!r} is not a mora the studio knows; write it with kana of the mora table."
        ) from None


def to_hiragana(text: str) -> str:
    """Katakana letters turned into hiragana; everything else, ー included, is kept."""
    return "".join(chr(ord(c) - 0x60) if "ァ" <= c <= "ヶ" else c for c in text)


def to_katakana(text: str) -> str:
    """Hiragana letters turned into katakana; everything else is kept."""
    return "".join(chr(ord(c) + 0x60) if "ぁ" <= c <= "ゖ" else c for c in text)


def split_morae(kana: str) -> list[str]:
    """Cut kana into morae: small kana stay with the mora before; っ, ん and ー are morae of their own."""
    morae: list[str] = []
    for char in kana:
        if char in SMALL_KANA and morae and morae[-1][-1] not in SMALL_KANA and morae[-1] not in "っッーんン":
            morae[-1] += char
        else:
            morae.append(char)
    return morae


def _is_sokuon(mora: str) -> bool:
    return mora in ("っ", "ッ")


def _is_long_vowel(mora: str) -> bool:
    return mora in (LONG_VOWEL, "～", "〜")


def kana_to_romaji(kana: str, sep: str = "") -> str:
    """Romaji of kana (Hepburn: shi, chi, tsu, fu, ji); っ doubles the next consonant, ー repeats the vowel.

    With `sep` every mora is one token ("ki t te"); joined, ん before a vowel or y is written n'.
    Japanese punctuation becomes ASCII; ASCII passes through, so "_あか" gives "_aka".
    """
    morae = split_morae(kana)
    tokens: list[str] = []
    for position, mora in enumerate(morae):
        following = _peek_romaji(morae[position + 1]) if position + 1 < len(morae) else ""
        if _is_sokuon(mora):
            if following[:1] and following[0] not in "aiueon" and following[0].isalpha():
                tokens.append("t" if following.startswith("ch") else following[0])
            else:
                tokens.append("xtsu")
        elif _is_long_vowel(mora):
            previous = tokens[-1] if tokens else ""
            tokens.append(previous[-1] if previous[-1:] in VOWELS else "-")
        elif mora in ("ん", "ン") and not sep and following[:1] in ("a", "i", "u", "e", "o", "y"):
            tokens.append("n'")
        else:
            tokens.append(_romaji_of_plain(mora, kana))
    return sep.join(tokens)


def _peek_romaji(mora: str) -> str:
    """Romaji of the next mora, or "" when it has none (its own turn reports the error)."""
    try:
        return _romaji_of_plain(mora)
    except KanaError:
        return ""


def _romaji_of_plain(mora: str, whole: str = "") -> str:
    """Romaji of one mora that is not っ or ー; punctuation and ASCII map to themselves."""
    if mora in _by_kana():
        return _by_kana()[mora].romaji
    if _is_sokuon(mora) or _is_long_vowel(mora):
        return ""
    if mora in _PUNCTUATION_TO_ROMAJI:
        return _PUNCTUATION_TO_ROMAJI[mora]
    if mora.isascii():
        return mora
    where = f" in {whole!r}" if whole else ""
    raise KanaError(
        f"{mora!r}{where} is not a mora the studio knows; write the text in kana of the mora table."
    )


def romaji_to_kana(romaji: str, hiragana: bool = True) -> str:
    """Kana of romaji written as `kana_to_romaji` writes it (joined or space separated).

    Doubled consonants and tch give っ, n' or a lone n gives ん, "-" gives ー; case is ignored;
    other characters that are not letters ("_", digits) pass through.
    """
    chunks = romaji.lower().split()
    kana: list[str] = []
    for number, chunk in enumerate(chunks):
        next_chunk = chunks[number + 1] if number + 1 < len(chunks) else ""
        kana.extend(_chunk_to_kana(chunk, next_chunk, romaji))
    text = "".join(kana)
    return text if hiragana else to_katakana(text)


def _chunk_to_kana(chunk: str, next_chunk: str, whole: str) -> list[str]:
    kana: list[str] = []
    position = 0
    while position < len(chunk):
        rest = chunk[position:]
        following = chunk[position + 1 : position + 2] or next_chunk[:1]
        sokuon = next((spelling for spelling in _SOKUON_ROMAJI if rest.startswith(spelling)), None)
        if sokuon is not None:
            kana.append(SOKUON)
            position += len(sokuon)
            continue
        char = rest[0]
        if (
            char.isalpha()
            and char not in "aiueon"
            and (following == char or (char == "t" and following == "c"))
        ):
            kana.append(SOKUON)
            position += 1
            continue
        if rest.startswith("n'"):
            kana.append("ん")
            position += 2
            continue
        if char == "-":
            kana.append(LONG_VOWEL)
            position += 1
            continue
        if char in _ROMAJI_TO_PUNCTUATION or not char.isalpha():
            kana.append(_ROMAJI_TO_PUNCTUATION.get(char, char))
            position += 1
            continue
        for length in range(min(_longest_romaji(), len(rest)), 0, -1):
            mora = _by_romaji().get(rest[:length])
            if mora is not None:
                kana.append(mora.hiragana)
                position += length
                break
        else:
            raise KanaError(
                f"{rest!r} in {whole!r} does not start with romaji the studio knows; "
                "spell each mora as the mora table does (ka, shi, tsu, kya, n)."
            )
    return kana


def kana_to_phonemes(kana: str) -> tuple[str, ...]:
    """pyopenjtalk phones of kana: っ is cl, ー repeats the phone before it, ん is N."""
    phonemes: list[str] = []
    for mora in split_morae(kana):
        if _is_sokuon(mora):
            phonemes.append(SOKUON_PHONEME)
        elif _is_long_vowel(mora):
            if not phonemes or phonemes[-1] == SOKUON_PHONEME:
                raise KanaError(f"ー in {kana!r} follows no vowel; put it after the mora it lengthens.")
            phonemes.append(phonemes[-1])
        elif mora in _by_kana():
            phonemes.extend(_by_kana()[mora].phonemes)
        else:
            raise KanaError(
                f"{mora!r} in {kana!r} is not a mora the studio knows; write it with kana of the mora table."
            )
    return tuple(phonemes)


def mora_from_phonemes(phonemes: Sequence[str], hiragana: bool = True) -> str:
    """The kana of one mora's phones, e.g. ("ky", "a") → きゃ; devoiced vowels (pyopenjtalk's U, I) count."""
    key = tuple(_voiced(phoneme) for phoneme in phonemes)
    if key == (SOKUON_PHONEME,):
        return SOKUON if hiragana else "ッ"
    mora = _by_phonemes().get(key)
    if mora is None:
        raise KanaError(f"{' '.join(phonemes)!r} is not the phones of one Japanese mora.")
    return mora.hiragana if hiragana else mora.katakana


def phonemes_to_morae(phonemes: Sequence[str], hiragana: bool = True) -> list[str]:
    """Group a phone sequence into kana morae (consonant + vowel, a vowel, N, cl); pauses are skipped."""
    morae: list[str] = []
    onset: list[str] = []
    for phoneme in phonemes:
        if phoneme in _PAUSES:
            if onset:
                raise KanaError(f"{onset[0]!r} before a pause has no vowel in {' '.join(phonemes)!r}.")
            continue
        onset.append(phoneme)
        voiced = _voiced(phoneme)
        if voiced in VOWELS or voiced in ("N", SOKUON_PHONEME, "br"):
            morae.append(mora_from_phonemes(onset, hiragana))
            onset = []
        elif len(onset) > 1:
            raise KanaError(
                f"{' '.join(onset)!r} in {' '.join(phonemes)!r} is two consonants without a vowel."
            )
    if onset:
        raise KanaError(f"{onset[0]!r} at the end of {' '.join(phonemes)!r} has no vowel.")
    return morae


def _voiced(phoneme: str) -> str:
    """pyopenjtalk writes devoiced vowels in capitals (U, I); the mora is the same."""
    return phoneme.lower() if phoneme in ("A", "I", "U", "E", "O") else phoneme
