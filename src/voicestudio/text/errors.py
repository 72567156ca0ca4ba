"""Errors of the text part; each message names what failed and what to do about it."""

from voicestudio.errors import VoicestudioError


class KanaError(VoicestudioError):
    """Kana, romaji or phonemes that are not a Japanese mora of the studio's table."""


class G2PError(VoicestudioError):
    """Text whose pronunciation could not be found, naming the word that failed."""


class UnknownPromptSet(VoicestudioError):
    """A prompt set name that the studio does not ship; the message lists the ones it does."""


class PromptSetFileError(VoicestudioError):
    """A prompt set data file that cannot be read as a prompt set."""


class ReclistError(VoicestudioError):
    """A reclist file that cannot be imported, naming the file and the line."""
