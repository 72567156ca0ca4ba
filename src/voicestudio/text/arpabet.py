"""ARPAbet, the English phone set of the CMU Pronouncing Dictionary, and eSpeak NG's IPA mapped onto it."""

from dataclasses import dataclass
from functools import cache
from importlib import resources

from voicestudio.text.errors import G2PError

VOWELS = ("AA", "AE", "AH", "AO", "AW", "AY", "EH", "ER", "EY", "IH", "IY", "OW", "OY", "UH", "UW")
CONSONANTS = (
    "B", "CH", "D", "DH", "F", "G", "HH", "JH", "K", "L", "M", "N", "NG",
    "P", "R", "S", "SH", "T", "TH", "V", "W", "Y", "Z", "ZH",
)  # fmt: skip
PHONEMES = tuple(sorted(VOWELS + CONSONANTS))  # the 39 phonemes of CMUdict, without stress

_PRIMARY, _SECONDARY = "ˈ", "ˌ"
# Ties join the letters of one phone (o‍ʊ) and are dropped before matching; the other marks carry no
# phone of their own: length alone, syllable and word boundaries, a syllabic mark left over.
_TIES = str.maketrans("", "", "\u200d\u0361\u035c")
_SILENT_MARKS = frozenset("ːˑ\u0329.-_‿|'")


def strip_stress(phone: str) -> str:
    """ARPAbet without its stress digit: AH0 → AH."""
    return phone.rstrip("012")


def is_vowel(phone: str) -> bool:
    """Whether an ARPAbet phone (with or without stress) is a vowel."""
    return strip_stress(phone) in VOWELS


@dataclass(frozen=True, slots=True)
class IpaRule:
    """One row of `data/ipa_arpabet.tsv`: an IPA symbol and the ARPAbet phones it stands for."""

    ipa: str
    arpabet: tuple[str, ...]


@cache
def ipa_rules() -> tuple[IpaRule, ...]:
    """The IPA → ARPAbet table, longest IPA first so that diphthongs win over their first letter."""
    text = resources.files("voicestudio.text").joinpath("data/ipa_arpabet.tsv").read_text(encoding="utf-8")
    lines = [line for line in text.splitlines() if line.strip() and not line.startswith("#")]
    rules = []
    for line in lines[1:]:  # lines[0] is the header
        ipa, arpabet = line.split("\t")
        rules.append(IpaRule(ipa, tuple(arpabet.split())))
    return tuple(sorted(rules, key=lambda rule: -len(rule.ipa)))


def ipa_to_arpabet(ipa: str, word: str = "") -> tuple[str, ...]:
    """ARPAbet with stress digits (1 after ˈ, 2 after ˌ, else 0 on vowels) for eSpeak NG's IPA of one word.

    Raises G2PError naming `word` and the symbol when the table has no row for an IPA symbol.
    """
    phones: list[str] = []
    stress = "0"
    position = 0
    text = ipa.translate(_TIES).strip()
    while position < len(text):
        char = text[position]
        if char in (_PRIMARY, _SECONDARY):
            stress = "1" if char == _PRIMARY else "2"
            position += 1
            continue
        if char.isspace() or char in _SILENT_MARKS:
            position += 1
            continue
        rule = next((rule for rule in ipa_rules() if text.startswith(rule.ipa, position)), None)
        if rule is None:
            raise G2PError(
                f"eSpeak NG reads {word or ipa!r} as /{ipa}/ and the studio has no ARPAbet for {char!r}; "
                "add that symbol to text/data/ipa_arpabet.tsv or spell the word differently."
            )
        for phone in rule.arpabet:
            if phone in VOWELS:
                phones.append(phone + stress)
                stress = "0"
            else:
                phones.append(phone)
        position += len(rule.ipa)
    return tuple(phones)
