"""What oto placement needs to know about pyopenjtalk's phones: rests, vowels, and how consonants start."""

from typing import Final

PAUSE_PHONES: Final = frozenset({"sil", "pau", "sp"})  # rests, as aligners and pyopenjtalk write them
VOWELS: Final = ("a", "i", "u", "e", "o")
DEVOICED_VOWELS: Final = frozenset({"A", "I", "U", "E", "O"})  # pyopenjtalk's whispered vowels
NASAL_MORA: Final = "N"  # ん
SOKUON: Final = "cl"  # っ, a closure
# Plosives and affricates start with a closure: their crossfade with the note before stays short.
STOPS: Final = frozenset(
    {"k", "g", "t", "d", "p", "b", "ky", "gy", "py", "by", "ty", "dy", "ch", "ts", "j", "cl"}
)


def is_pause(phone: str) -> bool:
    """Whether `phone` is a rest (sil, pau, sp)."""
    return phone in PAUSE_PHONES


def vowel_core(phone: str) -> str:
    """The phone a mora ends in, voiced: "a".."o" (also for devoiced A..O), "N" or "cl"; "" otherwise."""
    lower = phone.lower() if phone in DEVOICED_VOWELS else phone
    return lower if lower in VOWELS or lower in (NASAL_MORA, SOKUON) else ""


def same_phone(expected: str, aligned: str) -> bool:
    """Whether an aligned phone is the expected one; a devoiced vowel (U) is its vowel (u)."""
    return expected == aligned or (vowel_core(expected) != "" and vowel_core(expected) == vowel_core(aligned))


def is_devoiced(phone: str) -> bool:
    """Whether pyopenjtalk marked the vowel as whispered (capital A I U E O)."""
    return phone in DEVOICED_VOWELS


def is_plosive(phone: str) -> bool:
    """Plosives and affricates (k, t, ch, ts, j, …); fricatives, nasals, liquids and glides are not."""
    return phone in STOPS
