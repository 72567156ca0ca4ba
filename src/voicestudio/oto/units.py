"""Which oto.ini units a recording holds: aliases and their phones, from UTAU's file-name conventions.

A CV file (`ka.wav`, `か.wav`) holds one unit; a VCV string (`_あかさ.wav`) holds `- あ`, `a か`,
`a さ`; a CVVC string (`_かきく.wav`, `ka_ki_ku.wav`) holds CV aliases, VC aliases (`a k`) and a
tail (`u R`). Aliases follow the file name's script: kana names give kana aliases, romaji names
romaji ones; the vowel before a VCV mora and both sides of a VC alias are always romaji.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Final, Literal

from voicestudio.errors import VoicestudioError
from voicestudio.oto.phones import NASAL_MORA, vowel_core
from voicestudio.text.errors import KanaError
from voicestudio.text.kana import (
    LONG_VOWEL,
    SOKUON,
    SOKUON_PHONEME,
    VOWELS,
    kana_to_phonemes,
    kana_to_romaji,
    romaji_to_kana,
    split_morae,
    to_hiragana,
    to_katakana,
)

UnitKind = Literal["cv", "vcv", "vc", "head", "tail"]
UnitStyle = Literal["cv", "vcv", "cvvc"]
FileStyle = Literal["auto", "cv", "vcv", "cvvc"]

READING_PAUSE: Final = "、"  # how `file_reading` writes a rest
HEAD_PREFIX: Final = "- "  # a unit sung after a rest: `- か`
TAIL_SUFFIX: Final = " R"  # a vowel released into a rest: `a R`
VCV_MARK: Final = "_"  # VCV and CVVC reclist names start with it: `_あかさ.wav`
NASAL_ROMAJI: Final = "n"  # how VC, VCV and tail aliases write ん (phone N)
# Morae that break a phrase: the next mora is sung after a rest, the one before is released.
PAUSE_MORAE: Final = frozenset({"、", "。", "？", "！", ",", ".", "?", "!", "息"})
PAUSE_WORDS: Final = frozenset({"pau", "sil", "sp", "R", "br", "breath"})  # pauses in romaji readings
_LONG_VOWELS: Final = frozenset({LONG_VOWEL, "～", "〜"})


class UnitNameError(VoicestudioError):
    """A file name or reading that is not a string of Japanese morae the studio can cut units from."""


@dataclass(frozen=True, slots=True)
class UnitRequest:
    """One oto.ini unit to cut: its alias, its kind and the phones it spans.

    `phones` are pyopenjtalk phone names in the order they are spoken (`a k a` for `a か`);
    `mora_index` is the 0-based mora of the recording (pauses not counted) where its first phone lies.
    """

    alias: str
    kind: UnitKind
    phones: tuple[str, ...]
    mora_index: int


@dataclass(frozen=True, slots=True)
class _Mora:
    """A mora as written (`text`, for aliases) with its phones; `index` counts the recording's morae."""

    text: str
    phones: tuple[str, ...]
    index: int

    @property
    def onset(self) -> str:
        """The consonant phone, or "" for a vowel, ん or っ."""
        return self.phones[0] if len(self.phones) == 2 else ""

    @property
    def vowel_name(self) -> str:
        """How VC, VCV and tail aliases write the sound this mora ends in ("a", "n"); "" for っ."""
        core = vowel_core(self.phones[-1])
        if core == NASAL_MORA:
            return NASAL_ROMAJI
        return core if core in VOWELS else ""


@dataclass(frozen=True, slots=True)
class _Phrase:
    """Morae sung without a break; `released` when a rest follows (not when っ cuts it)."""

    morae: tuple[_Mora, ...]
    released: bool


def file_style(wav_name: str) -> UnitStyle:
    """The reclist style a file name implies: `_` prefix → vcv, one mora → cv, several → cvvc."""
    stem = _stem(wav_name)
    if stem.startswith(VCV_MARK):
        return "vcv"
    morae = [mora for phrase in _phrases(stem, wav_name) for mora in phrase.morae]
    return "cv" if len(morae) <= 1 else "cvvc"


def units_for_file(wav_name: str, style: FileStyle, head: bool = False) -> list[UnitRequest]:
    """The units a reclist recording holds, each alias once (its first instance in the file).

    `style="auto"` reads the style from the name (see `file_style`). `head` makes CV aliases heads
    (`- ka`); VCV and CVVC strings always start with a head. Raises `UnitNameError` for names that
    are not morae.
    """
    resolved: UnitStyle = file_style(wav_name) if style == "auto" else style
    phrases = _phrases(_stem(wav_name), wav_name)
    return _first_of_each_alias(_units(phrases, resolved, head))


def morae_to_units(morae: Sequence[str] | str, style: UnitStyle, head: bool = False) -> list[UnitRequest]:
    """Every unit instance of a reading, in order, repeats included, so the best one can be chosen.

    `morae` is kana or romaji, as one string or one item per mora ("kyo o wa , a me");
    punctuation and `pau` break phrases (a head after, a CVVC tail before).
    """
    text = morae if isinstance(morae, str) else " ".join(morae)
    return _units(_phrases(text, text), style, head)


def file_reading(wav_name: str) -> str:
    """What a reclist recording says, as katakana with 、 at rests: `_あかさ.wav` → アカサ, `ka.wav` → カ.

    The text to align the recording against; raises `UnitNameError` for names that are not morae.
    """
    try:
        written = _written_morae(_stem(wav_name))
    except KanaError as e:
        raise _not_morae(wav_name, e) from None
    return "".join(_katakana_of(mora) for mora in written)


# --- reading morae -------------------------------------------------------------------------------


def _stem(wav_name: str) -> str:
    """The file name without folders and extension: `sub/_あかさ.wav` → `_あかさ`."""
    name = wav_name.replace("\\", "/").rsplit("/", 1)[-1]
    dot = name.rfind(".")
    return name[:dot] if dot > 0 else name


def _is_kana(char: str) -> bool:
    return "\u3041" <= char <= "\u30ff" and char != "・"


def _phrases(text: str, source: str) -> list[_Phrase]:
    """Morae of a kana or romaji string, cut into phrases at pauses and at っ (which keeps its index)."""
    try:
        return _phrases_of(_written_morae(text), source)
    except KanaError as e:
        raise _not_morae(source, e) from None


def _not_morae(source: str, error: KanaError) -> UnitNameError:
    return UnitNameError(
        f"{source!r} is not a string of Japanese morae ({error}) Name recordings by their reading, "
        "as reclists do: ka.wav, か.wav, _あかさ.wav, ka_ki_ku.wav."
    )


def _phrases_of(written: Sequence[str], source: str) -> list[_Phrase]:
    phrases: list[_Phrase] = []
    current: list[_Mora] = []
    index = 0
    for text_of_mora in written:
        if text_of_mora in PAUSE_MORAE:
            phrases.append(_Phrase(tuple(current), released=True))
            current = []
            continue
        phones = _mora_phones(text_of_mora, current, source)
        if phones == (SOKUON_PHONEME,):
            # っ: the next consonant starts from a closure, as after a rest, but nothing is released.
            phrases.append(_Phrase(tuple(current), released=False))
            current = []
        else:
            current.append(_Mora(text_of_mora, phones, index))
        index += 1
    phrases.append(_Phrase(tuple(current), released=True))
    return [phrase for phrase in phrases if phrase.morae]


def _written_morae(text: str) -> list[str]:
    """Kana morae as written, or romaji morae in the table's spelling; `_` and spaces dropped."""
    body = text.strip().lstrip(VCV_MARK)
    if body in PAUSE_MORAE or body in PAUSE_WORDS:  # a breath or rest prompt holds no unit
        return []
    if any(_is_kana(char) for char in body):
        kana = "".join(char for char in body if char not in " _\t")
        return split_morae(kana)
    words = ["," if word in PAUSE_WORDS else word for word in body.replace("_", " ").split()]
    return [_romaji_of(mora) for mora in split_morae(romaji_to_kana(" ".join(words)))]


def _romaji_of(kana_mora: str) -> str:
    """A romaji alias for one mora: the table's spelling; pauses stay what they are."""
    return kana_mora if kana_mora in PAUSE_MORAE else kana_to_romaji(kana_mora)


def _katakana_of(mora: str) -> str:
    """One mora of `_written_morae` as katakana; rests become 、 and any long-vowel mark ー."""
    if mora in PAUSE_MORAE:
        return READING_PAUSE
    if mora in _LONG_VOWELS or mora == "-":
        return LONG_VOWEL
    return to_katakana(mora if any(_is_kana(char) for char in mora) else romaji_to_kana(mora))


def _mora_phones(text: str, phrase: Sequence[_Mora], source: str) -> tuple[str, ...]:
    """The phones of one written mora; ー repeats the vowel before it. Raises KanaError for non-morae."""
    if text in _LONG_VOWELS or text == "-":
        if not phrase or not phrase[-1].vowel_name:
            raise UnitNameError(f"{source!r}: ー follows no vowel; put it after the mora it lengthens.")
        return (phrase[-1].phones[-1],)
    kana = to_hiragana(text) if any(_is_kana(char) for char in text) else romaji_to_kana(text)
    if kana == SOKUON:
        return (SOKUON_PHONEME,)
    return kana_to_phonemes(kana)


# --- building units ------------------------------------------------------------------------------


def _units(phrases: Sequence[_Phrase], style: UnitStyle, head: bool) -> list[UnitRequest]:
    units: list[UnitRequest] = []
    for phrase in phrases:
        if style == "cv":
            units.extend(_cv_units(phrase, head))
        elif style == "vcv":
            units.extend(_vcv_units(phrase))
        else:
            units.extend(_cvvc_units(phrase))
    return units


def _cv_units(phrase: _Phrase, head: bool) -> Iterable[UnitRequest]:
    for mora in phrase.morae:
        if head:
            yield UnitRequest(HEAD_PREFIX + mora.text, "head", mora.phones, mora.index)
        else:
            yield UnitRequest(mora.text, "cv", mora.phones, mora.index)


def _vcv_units(phrase: _Phrase) -> Iterable[UnitRequest]:
    first = phrase.morae[0]
    yield UnitRequest(HEAD_PREFIX + first.text, "head", first.phones, first.index)
    for before, mora in zip(phrase.morae, phrase.morae[1:], strict=False):
        alias = f"{before.vowel_name} {mora.text}"
        yield UnitRequest(alias, "vcv", (before.phones[-1], *mora.phones), before.index)


def _cvvc_units(phrase: _Phrase) -> Iterable[UnitRequest]:
    morae = phrase.morae
    for position, mora in enumerate(morae):
        kind: UnitKind = "head" if position == 0 else "cv"
        yield UnitRequest(
            HEAD_PREFIX + mora.text if position == 0 else mora.text, kind, mora.phones, mora.index
        )
        if position + 1 < len(morae):
            following = morae[position + 1]
            consonant = following.onset or (NASAL_MORA if following.phones == (NASAL_MORA,) else "")
            if consonant:  # before a bare vowel the CV alias alone carries the transition
                name = NASAL_ROMAJI if consonant == NASAL_MORA else consonant
                alias = f"{mora.vowel_name} {name}"
                yield UnitRequest(alias, "vc", (mora.phones[-1], consonant), mora.index)
        elif phrase.released:
            yield UnitRequest(f"{mora.vowel_name}{TAIL_SUFFIX}", "tail", (mora.phones[-1],), mora.index)


def _first_of_each_alias(units: Iterable[UnitRequest]) -> list[UnitRequest]:
    seen: set[str] = set()
    kept: list[UnitRequest] = []
    for unit in units:
        if unit.alias not in seen:
            seen.add(unit.alias)
            kept.append(unit)
    return kept
