"""Alignment label files: HTK `.lab` and Praat TextGrid, read and written without loss.

Both store times at 100 ns resolution here (HTK's unit), so an alignment in ms round-trips
to 0.0001 ms. Files are written atomically: `path.part` first, then renamed.
"""

from __future__ import annotations

import codecs
import math
import os
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Final, TypeVar

from voicestudio.domain.alignment import Alignment, PhoneSegment
from voicestudio.errors import VoicestudioError
from voicestudio.files import write_bytes_atomic

TICKS_PER_MS: Final = 10_000  # HTK counts time in 100 ns units
TICKS_PER_SECOND: Final = 10_000_000
WORDS_TIER: Final = "words"

_Parsed = TypeVar("_Parsed")

_LINE_BREAK: Final = re.compile(r"\r\n|\r|\n")
_INTEGER: Final = re.compile(r"[0-9]+")


class LabelFileError(VoicestudioError):
    """A label file that cannot be read, or an alignment that cannot be written as one."""


# --- HTK .lab ----------------------------------------------------------------------------------


def format_lab(alignment: Alignment) -> str:
    """HTK label text: one `start end phone` line per segment, times as integers in 100 ns."""
    lines = []
    for segment in alignment.segments:
        start, end = _segment_ticks(segment)
        if not segment.phone or any(c.isspace() for c in segment.phone):
            raise LabelFileError(
                f"The phone at {segment.start_ms:g} ms is {segment.phone!r}; a .lab label must be one "
                "word without spaces. Name it (e.g. 'pau') or leave the segment out."
            )
        lines.append(f"{start} {end} {segment.phone}\n")
    return "".join(lines)


def parse_lab(text: str) -> Alignment:
    """Read HTK label text (`start end phone`, 100 ns integers); blank lines are ignored."""
    segments = []
    for number, line in enumerate(_LINE_BREAK.split(text.removeprefix("\ufeff")), start=1):
        fields = line.split()
        if not fields:
            continue
        if len(fields) != 3:
            raise LabelFileError(
                f"line {number}: {line.strip()!r} has {len(fields)} field(s); an HTK .lab line is "
                "'start end phone' with times in 100 ns units."
            )
        start, end, phone = fields
        if not (_INTEGER.fullmatch(start) and _INTEGER.fullmatch(end)):
            hint = " They look like seconds; multiply by 10,000,000." if "." in start + end else ""
            raise LabelFileError(
                f"line {number}: times {start!r} {end!r} must be whole numbers of 100 ns.{hint}"
            )
        if int(end) < int(start):
            raise LabelFileError(f"line {number}: {phone!r} ends ({end}) before it starts ({start}).")
        segments.append(PhoneSegment(phone, _ticks_to_ms(int(start)), _ticks_to_ms(int(end))))
    return Alignment(tuple(segments))


def read_lab(path: str | os.PathLike[str]) -> Alignment:
    """Read an HTK `.lab` file (UTF-8, with or without a BOM)."""
    data = _read_bytes(Path(path), "label")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise LabelFileError(
            f"{path}: byte {e.start} is not UTF-8. Save the .lab file as UTF-8 and try again."
        ) from None
    return _with_path(path, parse_lab, text)


def write_lab(path: str | os.PathLike[str], alignment: Alignment) -> None:
    """Write an HTK `.lab` file (UTF-8, LF) atomically."""
    _write_atomic(Path(path), format_lab(alignment).encode("utf-8"))


# --- Praat TextGrid: writing -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Interval:
    start_ticks: int
    end_ticks: int
    text: str


def format_textgrid(alignment: Alignment, tier_name: str = "phones", words: Alignment | None = None) -> str:
    """A TextGrid in Praat's long text format: an IntervalTier `tier_name`, and "words" if given.

    Praat needs a tier to cover the whole grid, so time before, between and after segments
    becomes intervals with an empty label; times are in seconds.
    """
    tiers = [(tier_name, alignment)] + ([(WORDS_TIER, words)] if words is not None else [])
    end = max(_ms_to_ticks(tier.end_ms, "The end of the alignment") for _, tier in tiers)
    if end <= 0:
        raise LabelFileError("The alignment has no segments with a duration; there is no TextGrid to write.")
    out = [
        'File type = "ooTextFile"',
        'Object class = "TextGrid"',
        "",
        "xmin = 0 ",
        f"xmax = {_seconds(end)} ",
        "tiers? <exists> ",
        f"size = {len(tiers)} ",
        "item []: ",
    ]
    for number, (name, tier) in enumerate(tiers, start=1):
        intervals = _covering_intervals(name, tier, end)
        out += [
            f"    item [{number}]:",
            '        class = "IntervalTier" ',
            f"        name = {_quoted(name)} ",
            "        xmin = 0 ",
            f"        xmax = {_seconds(end)} ",
            f"        intervals: size = {len(intervals)} ",
        ]
        for index, interval in enumerate(intervals, start=1):
            out += [
                f"        intervals [{index}]:",
                f"            xmin = {_seconds(interval.start_ticks)} ",
                f"            xmax = {_seconds(interval.end_ticks)} ",
                f"            text = {_quoted(interval.text)} ",
            ]
    return "\n".join(out) + "\n"


def write_textgrid(
    path: str | os.PathLike[str],
    alignment: Alignment,
    tier_name: str = "phones",
    words: Alignment | None = None,
) -> None:
    """Write a long-format TextGrid (UTF-8, which Praat reads) atomically."""
    _write_atomic(Path(path), format_textgrid(alignment, tier_name, words).encode("utf-8"))


def _covering_intervals(tier_name: str, alignment: Alignment, end_ticks: int) -> list[_Interval]:
    intervals: list[_Interval] = []
    cursor = 0
    for segment in alignment.segments:
        start, end = _segment_ticks(segment)
        if start < cursor:
            raise LabelFileError(
                f"Tier {tier_name!r}: {segment.phone!r} starts at {segment.start_ms:g} ms, before the "
                f"previous segment ends ({cursor / TICKS_PER_MS:g} ms). Segments must not overlap."
            )
        if end == start:
            raise LabelFileError(
                f"Tier {tier_name!r}: {segment.phone!r} at {segment.start_ms:g} ms lasts 0 ms; "
                "Praat needs every interval to last. Drop it or give it a duration."
            )
        if start > cursor:
            intervals.append(_Interval(cursor, start, ""))
        intervals.append(_Interval(start, end, segment.phone))
        cursor = end
    if cursor < end_ticks:
        intervals.append(_Interval(cursor, end_ticks, ""))
    return intervals


def _seconds(ticks: int) -> str:
    """Exact decimal seconds for a time in 100 ns: 12_345_000 → "1.2345"."""
    whole, fraction = divmod(ticks, TICKS_PER_SECOND)
    return f"{whole}.{fraction:07d}".rstrip("0").rstrip(".")


def _quoted(text: str) -> str:
    return '"' + text.replace('"', '""') + '"'


# --- Praat TextGrid: reading -------------------------------------------------------------------

_TOKEN: Final = re.compile(
    r"""
      (?P<string>"(?:[^"]|"")*")
    | (?P<flag><exists>|<absent>)
    | (?P<index>\[[^\]\n]*\])                       # "item [1]:" and "intervals [3]:" in the long format
    | (?P<comment>![^\n]*)
    | (?P<number>(?<![\w.])[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?(?![\w.]))
    | (?P<name>[^\W\d][\w?]*)                        # "xmin", "tiers?", "intervals": names, not values
    | (?P<other>\S)
    """,
    re.VERBOSE,
)


@dataclass(frozen=True, slots=True)
class _Token:
    kind: str  # "string", "number" or "flag"
    text: str
    line: int


class _Tokens:
    """The values of a TextGrid in order; the long format's names between them are skipped."""

    def __init__(self, text: str) -> None:
        self._tokens = list(_values(text))
        self._next = 0
        self._last_line = text.rstrip().count("\n") + 1

    @property
    def line(self) -> int:
        """The line of the value read last."""
        return self._tokens[self._next - 1].line if self._next else 1

    def peek_flag(self) -> str | None:
        token = self._tokens[self._next] if self._next < len(self._tokens) else None
        if token is not None and token.kind == "flag":
            self._next += 1
            return token.text
        return None

    def string(self, what: str) -> str:
        return self._take("string", what).text

    def number(self, what: str) -> float:
        token = self._take("number", what)
        value = float(token.text)
        if not math.isfinite(value):
            raise LabelFileError(f"line {token.line}: {what} is {token.text}; expected a finite number.")
        return value

    def count(self, what: str) -> int:
        token = self._take("number", what)
        if _INTEGER.fullmatch(token.text) is None:
            raise LabelFileError(f"line {token.line}: {what} is {token.text}; expected a whole number.")
        return int(token.text)

    def _take(self, kind: str, what: str) -> _Token:
        if self._next >= len(self._tokens):
            raise LabelFileError(f"line {self._last_line}: the TextGrid ends where {what} should be.")
        token = self._tokens[self._next]
        if token.kind != kind:
            raise LabelFileError(
                f"line {token.line}: expected {what} (a {kind}), found {_shown(token)}. "
                "The TextGrid is damaged; open it in Praat and save it again."
            )
        self._next += 1
        return token


def parse_textgrid(text: str) -> dict[str, Alignment]:
    """All interval tiers of a TextGrid (long or short text format), by tier name, in file order.

    Empty-label intervals are kept as "" phones: they mark silence or gaps, and the caller
    decides what they mean. Point tiers are left out. A second tier with a name already seen
    is returned as "name (2)". Times are rounded to 100 ns.
    """
    tokens = _Tokens(text.removeprefix("\ufeff"))
    file_type = tokens.string("the file type")
    if not file_type.startswith("ooTextFile"):
        raise LabelFileError(
            f"The file type is {file_type!r}, not a TextGrid in text form. "
            "In Praat, use 'Save as text file' and try again."
        )
    object_class = tokens.string("the object class")
    if object_class != "TextGrid":
        raise LabelFileError(f"The file holds a Praat {object_class!r}, not a TextGrid.")
    tokens.number("the grid's xmin")
    tokens.number("the grid's xmax")
    if tokens.peek_flag() == "<absent>":
        return {}
    tier_count = tokens.count("the number of tiers")
    tiers: dict[str, Alignment] = {}
    for tier_number in range(1, tier_count + 1):
        tier_class = tokens.string(f"the class of tier {tier_number}")
        name = tokens.string(f"the name of tier {tier_number}")
        tokens.number(f"the xmin of tier {name!r}")
        tokens.number(f"the xmax of tier {name!r}")
        size = tokens.count(f"the number of intervals of tier {name!r}")
        if tier_class == "IntervalTier":
            segments = []
            for index in range(1, size + 1):
                where = f"interval {index} of tier {name!r}"
                start_ms = _seconds_to_ms(tokens.number(f"the xmin of {where}"))
                end_ms = _seconds_to_ms(tokens.number(f"the xmax of {where}"))
                if end_ms < start_ms:
                    raise LabelFileError(
                        f"line {tokens.line}: {where} ends ({end_ms:g} ms) before it starts ({start_ms:g} ms)"
                    )
                segments.append(PhoneSegment(tokens.string(f"the text of {where}"), start_ms, end_ms))
            tiers[_unique(name, tiers)] = Alignment(tuple(segments))
        elif tier_class == "TextTier":
            for index in range(1, size + 1):
                tokens.number(f"the time of point {index} of tier {name!r}")
                tokens.string(f"the mark of point {index} of tier {name!r}")
        else:
            raise LabelFileError(f"Tier {name!r} is a {tier_class!r}, which a TextGrid cannot hold.")
    return tiers


def read_textgrid(path: str | os.PathLike[str]) -> dict[str, Alignment]:
    """Read a TextGrid file: UTF-16 (by its BOM, as Praat writes non-ASCII text) or UTF-8."""
    data = _read_bytes(Path(path), "TextGrid")
    return _with_path(path, parse_textgrid, _decode_textgrid(Path(path), data))


def _decode_textgrid(path: Path, data: bytes) -> str:
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        codec = "utf-16"
    elif data.startswith(codecs.BOM_UTF8):
        codec = "utf-8-sig"
    elif len(data) >= 2 and b"\x00" in data[:2]:
        codec = "utf-16-le" if data[1] == 0 else "utf-16-be"  # UTF-16 without a BOM
    else:
        codec = "utf-8"
    try:
        return data.decode(codec)
    except UnicodeDecodeError as e:
        raise LabelFileError(
            f"{path}: byte {e.start} is not {codec.upper()}. In Praat, set the text writing "
            "preference to UTF-8 (or UTF-16), save the TextGrid again and retry."
        ) from None


def _values(text: str) -> Iterator[_Token]:
    line = 1
    position = 0
    for match in _TOKEN.finditer(text):
        line += text.count("\n", position, match.start())
        position = match.start()
        kind = match.lastgroup
        if kind == "string":
            yield _Token(kind, match.group()[1:-1].replace('""', '"'), line)
        elif kind in ("number", "flag"):
            yield _Token(kind, match.group(), line)


def _shown(token: _Token) -> str:
    return f'"{token.text}"' if token.kind == "string" else token.text


def _unique(name: str, taken: dict[str, Alignment]) -> str:
    candidate, copy = name, 1
    while candidate in taken:
        copy += 1
        candidate = f"{name} ({copy})"
    return candidate


# --- shared --------------------------------------------------------------------------------------


def _ms_to_ticks(ms: float, what: str) -> int:
    if not math.isfinite(ms):
        raise LabelFileError(f"{what} is {ms} ms; label files need finite times.")
    return round(ms * TICKS_PER_MS)


def _segment_ticks(segment: PhoneSegment) -> tuple[int, int]:
    start = _ms_to_ticks(segment.start_ms, f"The start of {segment.phone!r}")
    end = _ms_to_ticks(segment.end_ms, f"The end of {segment.phone!r}")
    if start < 0 or end < start:
        raise LabelFileError(
            f"{segment.phone!r} runs from {segment.start_ms:g} to {segment.end_ms:g} ms; "
            "label times must start at 0 or later and not run backwards."
        )
    return start, end


def _ticks_to_ms(ticks: int) -> float:
    return ticks / TICKS_PER_MS


def _seconds_to_ms(seconds: float) -> float:
    return round(seconds * 1000.0, 4)


def _read_bytes(path: Path, kind: str) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise LabelFileError(f"{path}: no such {kind} file. Check the path.") from None
    except IsADirectoryError:
        raise LabelFileError(f"{path} is a folder; pass the {kind} file inside it.") from None
    except OSError as e:
        raise LabelFileError(f"{path} cannot be read ({e.strerror or e}).") from None


def _with_path(path: str | os.PathLike[str], parse: Callable[[str], _Parsed], text: str) -> _Parsed:
    """Parse text read from `path`, naming the file in any error."""
    try:
        return parse(text)
    except LabelFileError as e:
        raise LabelFileError(f"{path}: {e}") from None


def _write_atomic(path: Path, data: bytes) -> None:
    """Write `path.part`, then rename it over `path`, so no reader sees half a file."""
    try:
        write_bytes_atomic(path, data)
    except OSError as e:
        raise LabelFileError(f"{path} cannot be written ({e.strerror or e}). Check the folder.") from None
