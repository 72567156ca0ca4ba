"""One oto.ini line in UTAU's own coordinate system."""

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class OtoEntry:
    """One oto.ini line; every time is in ms, as UTAU measures it (from offset, except offset)."""

    wav_name: str
    alias: str
    offset_ms: float  # from the start of the file
    consonant_ms: float  # fixed region, from offset
    cutoff_ms: float  # negative: length from offset; positive: from the file's end
    preutterance_ms: float  # from offset
    overlap_ms: float  # from offset
    confidence: float = 1.0
    note: str = ""
