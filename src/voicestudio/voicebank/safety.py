"""Checks that a zip can be extracted without harm, made on its directory before any byte is written.

Refused: names that climb out of the extraction folder ("..", absolute paths, drive letters), symbolic
links, two entries for one path, more files or more bytes than the limits, and zip bombs: entries (or
archives) whose size claims blow up past a compression ratio no recording reaches, or whose entries
overlap. Extraction counts the bytes it really writes too (see `importer`), so a header that
understates a size does not get past the limits.
"""

import stat
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

from voicestudio.voicebank.errors import UnsafeArchive, VoicebankError
from voicestudio.voicebank.paths import archive_member_problem, normalize_member_name

_MiB: Final = 1 << 20
_GiB: Final = 1 << 30
_SUPPORTED_METHODS: Final = frozenset(
    {zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED, zipfile.ZIP_BZIP2, zipfile.ZIP_LZMA}
)
_ENCRYPTED_FLAG: Final = 0x1
_SKIPPED_FOLDERS: Final = frozenset({"__MACOSX"})  # resource forks macOS adds; never part of a bank


@dataclass(frozen=True, slots=True)
class ImportLimits:
    """How much a voicebank zip may hold; generous for the largest multi-pitch banks, fatal to bombs.

    A compression ratio is uncompressed ÷ compressed size; recordings deflate to about 1.1–3.
    Ratios count only for entries (and archives) larger than `ratio_floor_bytes`.
    """

    max_files: int = 20_000
    max_file_bytes: int = 1 * _GiB
    max_total_bytes: int = 4 * _GiB
    max_ratio: float = 100.0
    max_total_ratio: float = 50.0
    ratio_floor_bytes: int = 1 * _MiB


DEFAULT_IMPORT_LIMITS: Final = ImportLimits()


@dataclass(frozen=True, slots=True)
class Member:
    """An entry that passed the checks: its ZipInfo, its decoded relative path, and whether it is a folder."""

    info: zipfile.ZipInfo
    path: str  # relative, "/"-separated, no empty or "." parts
    is_dir: bool


def check_archive(
    archive_name: str,
    infos: Sequence[zipfile.ZipInfo],
    names: Sequence[str],
    archive_size_bytes: int,
    limits: ImportLimits,
) -> tuple[Member, ...]:
    """The entries to extract, in archive order, or `UnsafeArchive`/`VoicebankError` for the first problem.

    `names` are the decoded names of `infos`. Entries under `__MACOSX/` are checked, then left out.
    """
    if len(infos) > limits.max_files:
        raise UnsafeArchive(
            f"{archive_name} holds {len(infos)} files; a voicebank import takes at most {limits.max_files}. "
            "Split the archive into one zip per voicebank."
        )
    members: list[Member] = []
    total_bytes = 0
    total_compressed_bytes = 0
    for info, name in zip(infos, names, strict=True):
        _check_entry(archive_name, info, name, limits)
        total_bytes += info.file_size
        total_compressed_bytes += info.compress_size
        if total_bytes > limits.max_total_bytes:
            raise UnsafeArchive(
                f"{archive_name} unpacks to more than {_size(limits.max_total_bytes)} (at entry {name!r}), "
                "more than a voicebank import takes. It was not extracted; if it really is one voicebank, "
                "raise the import size limit."
            )
        path = normalize_member_name(name)
        if not path:
            continue  # the archive's own root folder ("./")
        if path.split("/")[0] in _SKIPPED_FOLDERS:
            continue
        members.append(Member(info, path, info.is_dir() or name.endswith("\\")))
    if total_compressed_bytes > archive_size_bytes:
        raise UnsafeArchive(
            f"{archive_name}: its entries claim {_size(total_compressed_bytes)} of compressed data in a "
            f"{_size(archive_size_bytes)} file, so they overlap: a zip bomb. It was not extracted."
        )
    ratio = total_bytes / max(total_compressed_bytes, 1)
    if total_bytes > limits.ratio_floor_bytes and ratio > limits.max_total_ratio:
        raise UnsafeArchive(
            f"{archive_name} would unpack {ratio:.0f} times larger than it is; recordings compress "
            f"far less (the limit is {limits.max_total_ratio:g}). It looks like a zip bomb and was not "
            "extracted."
        )
    _check_paths(archive_name, members)
    return tuple(members)


def _check_entry(archive_name: str, info: zipfile.ZipInfo, name: str, limits: ImportLimits) -> None:
    problem = archive_member_problem(name)
    if problem:
        raise UnsafeArchive(
            f"{archive_name}: the entry {name!r} {problem}, so extracting it would write outside the "
            "voicebank folder. Nothing was extracted; get the voicebank from its author again."
        )
    if stat.S_ISLNK(info.external_attr >> 16):
        raise UnsafeArchive(
            f"{archive_name}: the entry {name!r} is a symbolic link, which could point anywhere on the "
            "server. Nothing was extracted; zip the voicebank again without links."
        )
    if info.flag_bits & _ENCRYPTED_FLAG:
        raise VoicebankError(
            f"{archive_name}: the entry {name!r} is password-protected. Unpack the zip with its password "
            "and zip the folder again without one."
        )
    if info.compress_type not in _SUPPORTED_METHODS:
        raise VoicebankError(
            f"{archive_name}: the entry {name!r} uses a compression method (number {info.compress_type}) "
            "the studio cannot unpack. Unpack it with 7-Zip and zip the folder again."
        )
    if info.file_size > limits.max_file_bytes:
        raise UnsafeArchive(
            f"{archive_name}: the entry {name!r} would unpack to {_size(info.file_size)}, more than the "
            f"{_size(limits.max_file_bytes)} one file may take. It was not extracted."
        )
    ratio = info.file_size / max(info.compress_size, 1)
    if info.file_size > limits.ratio_floor_bytes and ratio > limits.max_ratio:
        raise UnsafeArchive(
            f"{archive_name}: the entry {name!r} would unpack {ratio:.0f} times larger than it is stored "
            f"(the limit is {limits.max_ratio:g}); no recording compresses like that. It looks like a zip "
            "bomb and was not extracted."
        )


def _check_paths(archive_name: str, members: Sequence[Member]) -> None:
    """Refuse two entries for one path, and a file standing where another entry needs a folder."""
    files: set[str] = set()
    folders: set[str] = set()
    for member in members:
        parts = member.path.split("/")
        folders.update("/".join(parts[:i]) for i in range(1, len(parts)))
        if member.is_dir:
            folders.add(member.path)
        elif member.path in files:
            raise UnsafeArchive(
                f"{archive_name}: {member.path!r} appears twice, so one copy would silently replace the "
                "other. Nothing was extracted; zip the voicebank again."
            )
        else:
            files.add(member.path)
    clash = sorted(files & folders)
    if clash:
        raise UnsafeArchive(
            f"{archive_name}: {clash[0]!r} is both a file and a folder. Nothing was extracted; zip the "
            "voicebank again."
        )


def _size(size_bytes: int) -> str:
    if size_bytes >= _GiB:
        return f"{size_bytes / _GiB:.1f} GiB"
    if size_bytes >= _MiB:
        return f"{size_bytes / _MiB:.1f} MiB"
    return f"{size_bytes} bytes"
