"""A packaged UTAU/OpenUTAU voicebank."""

from dataclasses import dataclass

from voicestudio.domain.language import Language
from voicestudio.domain.oto import OtoEntry


@dataclass(frozen=True, slots=True)
class Voicebank:
    """What goes into the zip: identity, text encoding of oto.ini, and its entries."""

    name: str
    author: str
    language: Language
    text_file_encoding: str  # "shift_jis" (written with Python's cp932) or "utf-8"
    entries: tuple[OtoEntry, ...]
