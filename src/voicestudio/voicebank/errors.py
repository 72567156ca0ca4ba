"""Why a voicebank cannot be packaged or imported, in words that say what to do about it."""

from voicestudio.errors import VoicestudioError


class VoicebankError(VoicestudioError):
    """A voicebank that cannot be built or read: a missing recording, a name no encoding can store, ..."""


class UnsafeArchive(VoicebankError):
    """A zip refused before anything is extracted: it would write outside its folder or blow up in size."""
