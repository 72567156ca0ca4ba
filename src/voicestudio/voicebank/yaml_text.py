"""The flat YAML of `character.yaml`: strings quoted for any YAML reader, top-level scalars read back.

OpenUTAU reads `character.yaml` with YamlDotNet, as UTF-8, keys in snake_case
(OpenUtau.Core/Util/Yaml.cs, OpenUtau.Core/Classic/VoicebankConfig.cs). We write every value
double-quoted, escaping only through `\\"`, `\\\\`, `\\n`, `\\r`, `\\t` and `\\uXXXX`: a form both
YAML 1.1 and 1.2 read, and also a JSON string. Reading keeps to what the studio needs from a
voicebank: top-level `key: scalar` lines; nested blocks (subbanks, symbol sets, ...) are skipped.
"""

import re
from typing import Final

_SHORT_ESCAPES: Final = {'"': '\\"', "\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t"}
_UNPRINTABLE_SINGLES: Final = frozenset({0x7F, 0x85, 0x2028, 0x2029, 0xFEFF, 0xFFFE, 0xFFFF})
_TOP_LEVEL: Final = re.compile(r"(?P<key>[A-Za-z_][A-Za-z0-9_]*)[ \t]*:(?:[ \t]+(?P<value>.*))?")
_DOUBLE_ESCAPES: Final = {
    "0": "\0",
    "a": "\a",
    "b": "\b",
    "t": "\t",
    "\t": "\t",
    "n": "\n",
    "v": "\v",
    "f": "\f",
    "r": "\r",
    "e": "\x1b",
    " ": " ",
    '"': '"',
    "/": "/",
    "\\": "\\",
    "N": "\x85",
    "_": "\xa0",
    "L": "\u2028",
    "P": "\u2029",
}
_HEX_ESCAPES: Final = {"x": 2, "u": 4, "U": 8}
_NULLS: Final = frozenset({"", "~", "null", "Null", "NULL"})


def quote_yaml_string(text: str) -> str:
    """`text` as a double-quoted YAML scalar; ':', '#', quotes and kana are safe, controls are escaped."""
    out = ['"']
    for char in text:
        code = ord(char)
        if char in _SHORT_ESCAPES:
            out.append(_SHORT_ESCAPES[char])
        elif code < 0x20 or 0x80 <= code < 0xA0 or code in _UNPRINTABLE_SINGLES:
            out.append(f"\\u{code:04X}")
        else:
            out.append(char)
    out.append('"')
    return "".join(out)


def read_top_level_scalars(text: str) -> dict[str, str]:
    """The `key: value` pairs at the top level of a YAML document whose value is a one-line scalar.

    Plain, single- and double-quoted values are read; null values, block scalars, flow collections
    and nested mappings are left out. A later key overrides an earlier one.
    """
    pairs: dict[str, str] = {}
    for line in text.lstrip("\ufeff").splitlines():
        match = _TOP_LEVEL.fullmatch(line.rstrip())
        if match is None:
            continue  # blank, comment, document marker, sequence item or indented (nested) line
        value = _scalar(match["value"] or "")
        if value is not None:
            pairs[match["key"]] = value
    return pairs


def _scalar(raw: str) -> str | None:
    """One-line YAML scalar → its text; None for null or anything that is not a one-line scalar."""
    raw = raw.strip()
    if raw.startswith('"'):
        return _double_quoted(raw)
    if raw.startswith("'"):
        return _single_quoted(raw)
    if raw[:1] in ("|", ">", "[", "{", "&", "*", "!", "#"):
        return None
    plain = re.split(r"[ \t]#", raw, maxsplit=1)[0].strip()
    return None if plain in _NULLS else plain


def _single_quoted(raw: str) -> str | None:
    out: list[str] = []
    pos = 1
    while pos < len(raw):
        char = raw[pos]
        if char == "'":
            if raw[pos + 1 : pos + 2] == "'":
                out.append("'")
                pos += 2
                continue
            return "".join(out) if _only_comment(raw[pos + 1 :]) else None
        out.append(char)
        pos += 1
    return None  # the value goes on over more lines


def _double_quoted(raw: str) -> str | None:
    out: list[str] = []
    pos = 1
    while pos < len(raw):
        char = raw[pos]
        if char == '"':
            return "".join(out) if _only_comment(raw[pos + 1 :]) else None
        if char != "\\":
            out.append(char)
            pos += 1
            continue
        code = raw[pos + 1 : pos + 2]
        if code in _DOUBLE_ESCAPES:
            out.append(_DOUBLE_ESCAPES[code])
            pos += 2
        elif code in _HEX_ESCAPES:
            point = _hex(raw, pos + 2, _HEX_ESCAPES[code])
            pos += 2 + _HEX_ESCAPES[code]
            if point is not None and 0xD800 <= point < 0xDC00 and raw[pos : pos + 2] == "\\u":
                low = _hex(raw, pos + 2, 4)  # a UTF-16 surrogate pair, as JSON writers emit
                if low is not None and 0xDC00 <= low < 0xE000:
                    point = 0x10000 + ((point - 0xD800) << 10) + (low - 0xDC00)
                    pos += 6
            if point is None or 0xD800 <= point < 0xE000 or point > 0x10FFFF:
                return None
            out.append(chr(point))
        else:
            return None  # an invalid escape, or a line break continuing the value
    return None


def _hex(raw: str, start: int, length: int) -> int | None:
    digits = raw[start : start + length]
    if len(digits) != length or not all(c in "0123456789abcdefABCDEF" for c in digits):
        return None
    return int(digits, 16)


def _only_comment(rest: str) -> bool:
    rest = rest.strip()
    return not rest or rest.startswith("#")
