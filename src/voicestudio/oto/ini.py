"""oto.ini files: read what UTAU, OpenUTAU and other tools wrote; write what they all read back.

A line is `file.wav=alias,offset,consonant,cutoff,preutterance,overlap`, every number in ms
(see `OtoEntry` for what each is measured from). Shift-JIS always means Python's `cp932`:
Windows tools write it, and characters such as ～ (U+FF5E) and ① exist only in cp932.
UTF-8 files declare themselves with a first line `#Charset:UTF-8`, as OpenUTAU does.
"""

from __future__ import annotations

import codecs
import math
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Final, Literal

from voicestudio.domain.oto import OtoEntry
from voicestudio.errors import VoicestudioError
from voicestudio.files import write_bytes_atomic

OtoEncoding = Literal["cp932", "utf-8"]

UTF8_CHARSET_LINE: Final = "#Charset:UTF-8"
FIELD_NAMES: Final = ("offset", "consonant", "cutoff", "preutterance", "overlap")

_ENCODING_ALIASES: Final[dict[str, OtoEncoding]] = {
    "cp932": "cp932",
    "shiftjis": "cp932",
    "sjis": "cp932",
    "ms932": "cp932",
    "windows31j": "cp932",
    "utf8": "utf-8",
}
_LINE_BREAK: Final = re.compile(rb"\r\n|\r|\n")
_CHARSET_LINE: Final = re.compile(rb"[ \t]*#charset:[ \t]*(?P<name>[^ \t]*)[ \t]*", re.IGNORECASE)
_NUMBER: Final = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_BLANKS: Final = " \t"


class OtoFileError(VoicestudioError):
    """An oto.ini that cannot be read or written at all (missing, a folder, no permission)."""


class OtoEncodingError(VoicestudioError):
    """Text that the chosen oto.ini encoding cannot store, or an encoding name we do not know."""


class OtoEntryError(VoicestudioError):
    """An entry that would not read back as the same line (a comma in an alias, a NaN time, ...)."""


@dataclass(frozen=True, slots=True)
class SkippedLine:
    """A line of an oto.ini that was not read as an entry, with its 1-based number and why."""

    line_number: int
    text: str
    reason: str


@dataclass(frozen=True, slots=True)
class OtoFile:
    """What one oto.ini holds: its entries as written, the codec it was read with, and its problems.

    `encoding` is the Python codec: "cp932", "utf-8" (declared or detected), "utf-8-sig" (a BOM),
    "utf-16" (Notepad's "Unicode") or another codec a `#Charset:` line declared. `duplicates`
    lists each alias defined more than once, in the order the aliases first appear; `entries`
    keeps every definition.
    """

    entries: tuple[OtoEntry, ...]
    encoding: str
    skipped: tuple[SkippedLine, ...]
    duplicates: tuple[str, ...]


def normalize_encoding(name: str) -> OtoEncoding:
    """The codec for an encoding name a user typed: Shift-JIS spellings → "cp932", UTF-8 → "utf-8"."""
    key = name.strip().lower().replace("-", "").replace("_", "")
    try:
        return _ENCODING_ALIASES[key]
    except KeyError:
        raise OtoEncodingError(
            f"Unknown oto.ini encoding {name!r}. Use 'shift_jis' (cp932, what UTAU reads) "
            "or 'utf-8' (OpenUTAU)."
        ) from None


# --- reading -----------------------------------------------------------------------------------


def read_oto_ini(path: str | os.PathLike[str]) -> OtoFile:
    """Read one oto.ini file; only a file that cannot be opened raises (`OtoFileError`)."""
    file = Path(path)
    try:
        data = file.read_bytes()
    except FileNotFoundError:
        raise OtoFileError(
            f"{file}: no such file. Check the path; a voicebank keeps oto.ini next to its wav files."
        ) from None
    except IsADirectoryError:
        raise OtoFileError(f"{file} is a folder. Pass the oto.ini file inside it.") from None
    except PermissionError:
        raise OtoFileError(f"{file}: permission denied. Allow the studio to read it, then retry.") from None
    except OSError as e:
        raise OtoFileError(f"{file} cannot be read ({e.strerror or e}). Check the disk and retry.") from None
    return parse_oto_ini(data)


def parse_oto_ini(data: bytes) -> OtoFile:
    """Parse the bytes of one oto.ini, tolerating what real voicebanks contain; never raises.

    Blank lines and `#` comments are ignored. Missing numbers read as 0 and extra fields are
    ignored (both noted in the entry's `note`); lines without `=`, with a non-numeric field or
    with bytes of no known encoding are skipped and reported with their line number.
    """
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        # Notepad's "Unicode": re-encode as UTF-8 so lines split the same way as every other file.
        as_utf8 = parse_oto_ini(codecs.BOM_UTF8 + data.decode("utf-16", errors="replace").encode("utf-8"))
        return OtoFile(as_utf8.entries, "utf-16", as_utf8.skipped, as_utf8.duplicates)
    bom = data.startswith(codecs.BOM_UTF8)
    raw_lines = _LINE_BREAK.split(data[len(codecs.BOM_UTF8) :] if bom else data)
    skipped: list[SkippedLine] = []
    start = 0

    declared = _CHARSET_LINE.fullmatch(raw_lines[0])
    if declared is not None:
        start = 1
        charset = declared["name"].decode("ascii", errors="replace")
        codec = _codec_for_charset(charset)
        if codec is None:
            reason = f"line 1: unknown charset {charset!r}; the encoding was guessed"
            skipped.append(SkippedLine(1, f"#Charset:{charset}", reason))
    else:
        codec = None
    if codec is None:
        codec = "utf-8" if bom else _guess_codec(data)
    reported = "utf-8-sig" if bom and declared is None else codec
    # Undeclared files may mix encodings; a line that is not cp932 may still be UTF-8.
    fallback = "utf-8" if declared is None and codec == "cp932" else None

    entries: list[OtoEntry] = []
    for index in range(start, len(raw_lines)):
        number = index + 1
        text = _decode_line(raw_lines[index], codec, fallback)
        if text is None:
            what = "neither Shift-JIS nor UTF-8" if fallback else f"not valid {codec}"
            shown = raw_lines[index].decode(codec, errors="replace")
            skipped.append(SkippedLine(number, shown, f"line {number}: bytes that are {what}"))
            continue
        parsed = _parse_line(number, text)
        if isinstance(parsed, OtoEntry):
            entries.append(parsed)
        elif isinstance(parsed, SkippedLine):
            skipped.append(parsed)
    return OtoFile(tuple(entries), reported, tuple(skipped), _duplicate_aliases(entries))


def _codec_for_charset(charset: str) -> str | None:
    """The Python codec for a `#Charset:` value; Shift-JIS names mean cp932; None if unknown."""
    try:
        return normalize_encoding(charset)
    except OtoEncodingError:
        pass
    try:
        # Lines are split as bytes, so only codecs that keep ASCII line breaks as they are will do.
        # Undecodable lines are shown with replacement characters, so the codec must offer those.
        if "\r\n".encode(charset) == b"\r\n" and b"\r\n\xff".decode(charset, errors="replace")[:2] == "\r\n":
            return codecs.lookup(charset).name
    except (LookupError, ValueError, TypeError):  # ValueError covers UnicodeError
        pass
    return None


def _guess_codec(data: bytes) -> str:
    """UTF-8 when the bytes are valid UTF-8 with some non-ASCII text, else cp932 (UTAU's own)."""
    if data.isascii():
        return "cp932"
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return "cp932"
    return "utf-8"


def _decode_line(raw: bytes, codec: str, fallback: str | None) -> str | None:
    for name in (codec, fallback):
        if name is None:
            continue
        try:
            return raw.decode(name)
        except UnicodeError:
            continue
    return None


def _parse_line(number: int, text: str) -> OtoEntry | SkippedLine | None:
    """One decoded line → an entry, a skipped line with its reason, or None for blanks/comments."""
    line = text.strip(_BLANKS + "\ufeff")
    if not line or line.startswith("#"):
        return None
    wav_part, equals, rest = line.partition("=")
    if not equals:
        return SkippedLine(number, text, f"line {number}: no '=' between the file name and the alias")
    wav_name = wav_part.strip(_BLANKS)
    if not wav_name:
        return SkippedLine(number, text, f"line {number}: no file name before '='")
    fields = rest.split(",")
    alias = fields[0].strip(_BLANKS) or _stem(wav_name)
    values: list[float] = []
    for name, field in zip(FIELD_NAMES, fields[1:], strict=False):
        value = field.strip(_BLANKS)
        if not value:
            values.append(0.0)
            continue
        if _NUMBER.fullmatch(value) is None or not math.isfinite(float(value)):
            return SkippedLine(number, text, f"line {number}: {name} is {value!r}, not a number of ms")
        values.append(float(value))
    notes: list[str] = []
    if len(values) < len(FIELD_NAMES):
        missing = FIELD_NAMES[len(values) :]
        notes.append(f"line {number}: {', '.join(missing)} missing, read as 0")
        values.extend(0.0 for _ in missing)
    extra = fields[1 + len(FIELD_NAMES) :]
    if extra:
        notes.append(f"line {number}: {len(extra)} extra field(s) ignored: {','.join(extra)!r}")
    offset, consonant, cutoff, preutterance, overlap = values
    return OtoEntry(wav_name, alias, offset, consonant, cutoff, preutterance, overlap, note="; ".join(notes))


def _stem(wav_name: str) -> str:
    """The alias UTAU gives a line whose alias is empty: the file name without its extension."""
    folder_end = max(wav_name.rfind("/"), wav_name.rfind("\\")) + 1
    dot = wav_name.rfind(".")
    return wav_name[:dot] if dot > folder_end else wav_name


def _duplicate_aliases(entries: Iterable[OtoEntry]) -> tuple[str, ...]:
    counts: dict[str, int] = {}
    for entry in entries:
        counts[entry.alias] = counts.get(entry.alias, 0) + 1
    return tuple(alias for alias, count in counts.items() if count > 1)


# --- writing -----------------------------------------------------------------------------------


def format_oto_ini(entries: Iterable[OtoEntry], encoding: OtoEncoding = "cp932") -> bytes:
    """The bytes of an oto.ini: CRLF lines, times compact (no ".0", at most 3 decimals).

    UTF-8 output starts with `#Charset:UTF-8`. An empty alias is written as the file name
    without its extension, which is how UTAU reads it. Raises `OtoEncodingError` for text the
    encoding cannot store and `OtoEntryError` for an entry that would not read back the same.
    """
    codec = normalize_encoding(encoding)
    chunks = [(UTF8_CHARSET_LINE + "\r\n").encode("ascii")] if codec == "utf-8" else []
    for entry in entries:
        line = _format_line(entry)
        try:
            chunks.append(line.encode(codec))
        except UnicodeEncodeError as e:
            raise _unencodable(entry, e.object[e.start : e.end], codec) from None
    return b"".join(chunks)


def write_oto_ini(
    path: str | os.PathLike[str], entries: Iterable[OtoEntry], encoding: OtoEncoding = "cp932"
) -> None:
    """Write an oto.ini beside `path` as `path.part`, then rename it: never a half-written file.

    Everything is checked and encoded first, so an entry that cannot be written leaves no file.
    """
    data = format_oto_ini(entries, encoding)
    target = Path(path)
    try:
        write_bytes_atomic(target, data)
    except OSError as e:
        raise OtoFileError(
            f"{target} cannot be written ({e.strerror or e}). Check the folder exists and is writable."
        ) from None


def _format_line(entry: OtoEntry) -> str:
    alias = entry.alias or _stem(entry.wav_name)
    _check_writable(entry, alias)
    return f"{entry.wav_name}={alias},{','.join(_format_ms(t) for t in _times(entry))}\r\n"


def _times(entry: OtoEntry) -> tuple[float, float, float, float, float]:
    return entry.offset_ms, entry.consonant_ms, entry.cutoff_ms, entry.preutterance_ms, entry.overlap_ms


def _format_ms(value: float) -> str:
    """12.0 → "12", 12.3456 → "12.346", -0.0 → "0"."""
    text = f"{value:.3f}".rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


def _check_writable(entry: OtoEntry, alias: str) -> None:
    problem = ""
    if not entry.wav_name.strip(_BLANKS):
        problem = "has no wav file name"
    elif entry.wav_name != entry.wav_name.strip(_BLANKS) or alias != alias.strip(_BLANKS):
        problem = "has spaces at the start or end of its file name or alias, which readers drop"
    elif entry.wav_name.startswith("#"):
        problem = "has a file name starting with '#', which reads as a comment"
    elif "=" in entry.wav_name or "=" in alias:
        problem = "has '=' in its file name or alias, which ends the file name"
    elif "," in alias:
        problem = "has ',' in its alias, which separates the fields"
    elif any(c in s for s in (entry.wav_name, alias) for c in "\r\n"):
        problem = "has a line break in its file name or alias"
    else:
        bad = [name for name, t in zip(FIELD_NAMES, _times(entry), strict=True) if not math.isfinite(t)]
        if bad:
            problem = f"has no finite {', '.join(bad)}"
    if problem:
        raise OtoEntryError(
            f"Alias {alias!r} ({entry.wav_name}) {problem}. Fix the entry, then write the oto.ini again."
        )


def _unencodable(entry: OtoEntry, chars: str, codec: OtoEncoding) -> OtoEncodingError:
    alias = entry.alias or _stem(entry.wav_name)
    where = f"alias {alias!r}" if chars in alias else f"file name {entry.wav_name!r} (alias {alias!r})"
    points = " ".join(f"U+{ord(c):04X}" for c in chars)
    if codec == "cp932":
        return OtoEncodingError(
            f"The {where} contains {chars!r} ({points}), which Shift-JIS (cp932) cannot store. "
            "Write the oto.ini with --encoding utf-8 (OpenUTAU reads it), or rename the alias."
        )
    return OtoEncodingError(
        f"The {where} contains {chars!r} ({points}), which is not valid text. Rename the alias."
    )
