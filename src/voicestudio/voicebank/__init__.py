"""Voicebanks: packaging an UTAU/OpenUTAU zip from recordings and oto entries, and importing one safely."""

from voicestudio.voicebank.character import (
    ARPASING_PHONEMIZER,
    JAPANESE_PHONEMIZER,
    CharacterInfo,
    default_phonemizer,
    format_character_txt,
    format_character_yaml,
    format_readme,
)
from voicestudio.voicebank.errors import UnsafeArchive, VoicebankError
from voicestudio.voicebank.importer import (
    ImportedOto,
    ImportedVoicebank,
    SkippedOtoLine,
    import_voicebank_zip,
)
from voicestudio.voicebank.package import BuildSummary, build_voicebank_zip
from voicestudio.voicebank.safety import DEFAULT_IMPORT_LIMITS, ImportLimits
from voicestudio.voicebank.zipnames import NameEncoding

__all__ = [
    "ARPASING_PHONEMIZER",
    "DEFAULT_IMPORT_LIMITS",
    "JAPANESE_PHONEMIZER",
    "BuildSummary",
    "CharacterInfo",
    "ImportLimits",
    "ImportedOto",
    "ImportedVoicebank",
    "NameEncoding",
    "SkippedOtoLine",
    "UnsafeArchive",
    "VoicebankError",
    "build_voicebank_zip",
    "default_phonemizer",
    "format_character_txt",
    "format_character_yaml",
    "format_readme",
    "import_voicebank_zip",
]
