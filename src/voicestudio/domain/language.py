"""Languages the studio records and speaks."""

from enum import StrEnum


class Language(StrEnum):
    """ISO 639-1 code of a prompt set's, a voicebank's or a model's language."""

    ja = "ja"
    en = "en"
