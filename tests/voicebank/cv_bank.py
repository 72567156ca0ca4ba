"""A tiny CV voicebank: three morae, their oto entries made by hand, and the bank they make."""

from dataclasses import replace

from voicestudio.domain import Language, OtoEntry, Voicebank

RECORDED_RATE_HZ = 48_000
QUIET_MORA = "さ"
QUIET_GAIN = 0.25  # さ is recorded 12 dB below the others
MORAE = ("か", "き", QUIET_MORA)


def cv_entries(suffix: str = ".wav") -> tuple[OtoEntry, ...]:
    """One CV entry per mora, plus a "- か" head alias on the same recording, as a CV oto.ini has."""
    entries = [OtoEntry(f"{kana}{suffix}", kana, 52.5, 110.0, -420.0, 75.0, 25.0) for kana in MORAE]
    entries.append(OtoEntry(f"か{suffix}", "- か", 40.0, 122.25, -430.5, 87.125, 12.0))
    return tuple(entries)


def cv_bank(encoding: str = "shift_jis", name: str = "テスト歌声: CV #1", author: str = "山田") -> Voicebank:
    """The bank the recordings make, its text in `encoding`."""
    return Voicebank(name, author, Language.ja, encoding, cv_entries())


def romaji_bank(bank: Voicebank) -> Voicebank:
    """The same bank with ASCII file names (か.wav → ka.wav) and an ASCII name."""
    romaji = {"か": "ka", "き": "ki", "さ": "sa"}
    entries = tuple(replace(e, wav_name=f"{romaji[e.wav_name[0]]}.wav") for e in bank.entries)
    return replace(bank, name="test CV", entries=entries)
