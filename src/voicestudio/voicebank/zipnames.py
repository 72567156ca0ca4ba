"""The bytes a voicebank zip stores for its file names, and how names in someone else's zip are read back.

What the rule rests on:
- A zip stores each name as bytes. General-purpose flag bit 11 (0x800) says they are UTF-8; without
  it every reader picks an encoding itself. Python's zipfile sets the bit for any non-ASCII name and
  reads unflagged names as cp437.
- Classic UTAU voicebanks come from Japanese Windows, whose zip tools store names in the system code
  page, cp932, without the bit; such zips unpack correctly wherever that code page is in use.
- OpenUTAU installs a zip with SharpCompress 0.38 (OpenUtau.Core/Classic/VoicebankInstaller.cs). Its
  install dialog (OpenUtau/ViewModels/SingerSetupViewModel.cs) asks for the archive's encoding,
  Shift-JIS first and preselected, and forces it (ArchiveEncoding.Forced). SharpCompress still
  decodes names carrying bit 11 as UTF-8 whatever is forced, and ignores the Info-ZIP Unicode Path
  field (0x7075) when an encoding is forced (Common/Zip/Headers/DirectoryEntryHeader.cs). The
  installer then skips every entry whose name contains "..".

Writing, one encoding per bank, so that the names match the oto.ini that refers to them:
- every name ASCII: ASCII, bit 11 clear (the same bytes in every encoding);
- a Shift-JIS bank: cp932 bytes, bit 11 clear: what UTAU's world writes and what OpenUTAU decodes with
  its preselected encoding. The oto.ini is cp932 too, so a wav it can name has a name the zip can store;
- a UTF-8 bank: UTF-8 with bit 11 set, which OpenUTAU decodes whatever encoding the user picks.

Reading: flagged names are UTF-8. Else an Info-ZIP Unicode Path field whose checksum matches the
stored name wins. The other non-ASCII names are judged together: cp932, unless it fails or gives
mojibake. UTF-8 text read as cp932 often gives mojibake without failing ("あか" → "縺ゅ°"), so names
that are all valid UTF-8 are read as UTF-8; cp932 kana almost never are, their lead bytes 0x82/0x83
being UTF-8 continuation bytes. A name neither encoding decodes makes the archive unreadable.
Names are decoded before any "\\" in them counts as a separator: in cp932 the second byte of ソ or
表 is 0x5C, the byte of "\\".
"""

import struct
import zlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Final, Literal

from voicestudio.oto import OtoEncoding
from voicestudio.voicebank.errors import VoicebankError

NameEncoding = Literal["ascii", "cp932", "utf-8"]

UTF8_NAME_FLAG: Final = 0x800
UNICODE_PATH_FIELD: Final = 0x7075
_EXTRA_HEADER: Final = struct.Struct("<HH")


def choose_name_encoding(names: Iterable[str], text_codec: OtoEncoding) -> NameEncoding:
    """The encoding for a bank's zip entry names, following the bank's text encoding (see module doc).

    Raises `VoicebankError` naming the first name a Shift-JIS bank cannot store.
    """
    listed = list(names)
    if all(name.isascii() for name in listed):
        return "ascii"
    if text_codec == "utf-8":
        return "utf-8"
    for name in listed:
        try:
            name.encode("cp932")
        except UnicodeEncodeError as e:
            chars = e.object[e.start : e.end]
            points = " ".join(f"U+{ord(c):04X}" for c in chars)
            raise VoicebankError(
                f"The file name {name!r} contains {chars!r} ({points}), which Shift-JIS (cp932) cannot "
                "store. Rename the file and its oto entries, or build the voicebank as UTF-8 (OpenUTAU)."
            ) from None
    return "cp932"


def encode_entry_name(name: str, encoding: NameEncoding) -> tuple[bytes, int]:
    """The stored bytes of one entry name and the flag bits that go with them (0x800 for UTF-8 only)."""
    if encoding == "utf-8":
        data = name.encode("utf-8")
        return data, (0 if data.isascii() else UTF8_NAME_FLAG)
    return name.encode(encoding), 0


@dataclass(frozen=True, slots=True)
class RawName:
    """An entry name as the archive stores it: its bytes, flag bit 11, and its extra fields."""

    data: bytes
    utf8_flag: bool
    extra: bytes = b""


@dataclass(frozen=True, slots=True)
class DecodedNames:
    """Entry names as text, in archive order, and how the unflagged non-ASCII ones were read."""

    names: tuple[str, ...]
    unflagged_encoding: Literal["ascii", "cp932", "utf-8", "mixed"]


def decode_entry_names(raw_names: Sequence[RawName]) -> DecodedNames:
    """Every entry name as text, by the reading rule of the module doc; `VoicebankError` when none fits."""
    decoded: list[str | None] = []
    pending: list[int] = []
    for index, raw in enumerate(raw_names):
        if raw.utf8_flag:
            decoded.append(_decode_utf8(raw.data))
            continue
        unicode_path = unicode_path_field(raw.extra, raw.data)
        if unicode_path is None and raw.data.isascii():
            unicode_path = raw.data.decode("ascii")
        decoded.append(unicode_path)
        if unicode_path is None:
            pending.append(index)
    chosen: Literal["ascii", "cp932", "utf-8", "mixed"] = "ascii"
    if pending:
        data = [raw_names[i].data for i in pending]
        if all(_valid(d, "utf-8") for d in data):
            chosen = "utf-8"
        elif all(_valid(d, "cp932") for d in data):
            chosen = "cp932"
        else:
            chosen = "mixed"
        for i in pending:
            decoded[i] = _decode_one(raw_names[i].data, chosen)
    names: list[str] = []
    for raw, name in zip(raw_names, decoded, strict=True):
        if name is None:
            shown = raw.data.decode("cp932", errors="replace")
            raise VoicebankError(
                f"The zip entry {shown!r} has a name that is neither UTF-8 nor Shift-JIS. "
                "Unpack the zip where it was made and pack it again as a UTF-8 zip."
            )
        names.append(name)
    return DecodedNames(tuple(names), chosen)


def unicode_path_field(extra: bytes, stored_name: bytes) -> str | None:
    """The UTF-8 name of an Info-ZIP Unicode Path field (0x7075) that matches `stored_name`, or None."""
    pos = 0
    while pos + _EXTRA_HEADER.size <= len(extra):
        field_id, size = _EXTRA_HEADER.unpack_from(extra, pos)
        body = extra[pos + _EXTRA_HEADER.size : pos + _EXTRA_HEADER.size + size]
        pos += _EXTRA_HEADER.size + size
        if field_id != UNICODE_PATH_FIELD or len(body) < 5 or body[0] != 1:
            continue
        (name_crc,) = struct.unpack_from("<I", body, 1)
        if name_crc != zlib.crc32(stored_name):
            continue  # the stored name changed after the field was written: the field is stale
        return _decode_utf8(body[5:])
    return None


def _decode_one(data: bytes, chosen: str) -> str | None:
    if chosen in ("utf-8", "cp932"):
        return data.decode(chosen)
    as_utf8 = _decode_utf8(data)
    if as_utf8 is not None:
        return as_utf8
    return data.decode("cp932") if _valid(data, "cp932") else None


def _decode_utf8(data: bytes) -> str | None:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return None


def _valid(data: bytes, codec: str) -> bool:
    try:
        data.decode(codec)
    except UnicodeDecodeError:
        return False
    return True
