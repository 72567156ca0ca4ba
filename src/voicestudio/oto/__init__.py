"""UTAU oto.ini: the unit settings of a voicebank, and the files that hold them."""

from voicestudio.oto.ini import (
    OtoEncoding,
    OtoEncodingError,
    OtoEntryError,
    OtoFile,
    OtoFileError,
    SkippedLine,
    format_oto_ini,
    normalize_encoding,
    parse_oto_ini,
    read_oto_ini,
    write_oto_ini,
)

__all__ = [
    "OtoEncoding",
    "OtoEncodingError",
    "OtoEntryError",
    "OtoFile",
    "OtoFileError",
    "SkippedLine",
    "format_oto_ini",
    "normalize_encoding",
    "parse_oto_ini",
    "read_oto_ini",
    "write_oto_ini",
]
