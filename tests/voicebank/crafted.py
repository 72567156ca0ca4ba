"""Zips written and read byte by byte, independently of Python's zipfile: raw names, flags, lying sizes."""

import struct
import zlib
from dataclasses import dataclass
from pathlib import Path

LOCAL_HEADER = struct.Struct("<4s5H3L2H")
CENTRAL_HEADER = struct.Struct("<4s6H3L5H2L")
END_RECORD = struct.Struct("<4s4H2LH")
UNIX_FILE = 0o100644 << 16
UNIX_SYMLINK = 0o120777 << 16
DEFLATED = 8
STORED = 0


@dataclass(frozen=True)
class RawEntry:
    """One entry exactly as it will be stored: name bytes, flag bits, attributes and (maybe false) size."""

    name: bytes
    data: bytes = b""
    flags: int = 0
    external_attr: int = UNIX_FILE
    deflate: bool = False
    declared_size: int | None = None  # the uncompressed size the headers claim; the real one if None
    extra: bytes = b""


def write_raw_zip(path: Path, entries: list[RawEntry]) -> Path:
    """A zip holding `entries` as given; version made by Unix, so the attributes' high half is a mode."""
    body = bytearray()
    central = bytearray()
    for entry in entries:
        if entry.deflate:
            packer = zlib.compressobj(9, zlib.DEFLATED, -15)
            stored = packer.compress(entry.data) + packer.flush()
        else:
            stored = entry.data
        method = DEFLATED if entry.deflate else STORED
        crc = zlib.crc32(entry.data)
        size = len(entry.data) if entry.declared_size is None else entry.declared_size
        offset = len(body)
        common = (20, entry.flags, method, 0, 0x21, crc, len(stored), size, len(entry.name), len(entry.extra))
        body += LOCAL_HEADER.pack(b"PK\x03\x04", *common) + entry.name + entry.extra + stored
        central += (
            CENTRAL_HEADER.pack(b"PK\x01\x02", (3 << 8) | 20, *common, 0, 0, 0, entry.external_attr, offset)
            + entry.name
            + entry.extra
        )
    end = END_RECORD.pack(b"PK\x05\x06", 0, 0, len(entries), len(entries), len(central), len(body), 0)
    path.write_bytes(bytes(body + central + end))
    return path


def unicode_path_extra(unicode_name: str, stored_name: bytes) -> bytes:
    """An Info-ZIP Unicode Path field (0x7075) giving the UTF-8 name of an entry stored as `stored_name`."""
    body = b"\x01" + struct.pack("<I", zlib.crc32(stored_name)) + unicode_name.encode("utf-8")
    return struct.pack("<HH", 0x7075, len(body)) + body


@dataclass(frozen=True)
class StoredName:
    """An entry's name bytes and flag bits as its central and its local header store them."""

    central_name: bytes
    central_flags: int
    local_name: bytes
    local_flags: int


def stored_names(path: Path) -> list[StoredName]:
    """Every entry's name bytes and flags, read from the central directory and each local header."""
    data = path.read_bytes()
    end_at = data.rindex(b"PK\x05\x06")
    _, _, _, _, count, _, central_at, _ = END_RECORD.unpack_from(data, end_at)
    names: list[StoredName] = []
    pos = central_at
    for _ in range(count):
        fields = CENTRAL_HEADER.unpack_from(data, pos)
        flags, name_len, extra_len, comment_len, local_at = (
            fields[3],
            fields[10],
            fields[11],
            fields[12],
            fields[16],
        )
        central_name = data[pos + CENTRAL_HEADER.size : pos + CENTRAL_HEADER.size + name_len]
        local = LOCAL_HEADER.unpack_from(data, local_at)
        local_name = data[local_at + LOCAL_HEADER.size : local_at + LOCAL_HEADER.size + local[9]]
        names.append(StoredName(central_name, flags, local_name, local[2]))
        pos += CENTRAL_HEADER.size + name_len + extra_len + comment_len
    return names
