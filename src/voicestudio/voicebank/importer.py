"""Importing someone's UTAU/OpenUTAU voicebank zip: checked, extracted whole or not at all, then read.

Every entry is checked before anything is written (`safety`); names are decoded by the rule in
`zipnames`; the files go into a hidden folder beside `dest` that is renamed to `dest` only once every
byte is out and the bank has been read, so a refused or damaged zip leaves nothing at `dest`. The
bank is read as OpenUTAU reads it (OpenUtau.Core/Classic/VoicebankLoader.cs): `character.yaml` over
`character.txt`, both in the yaml's `text_file_encoding` (Shift-JIS without one), and an oto.ini in
the bank's folder and in each folder below it.
"""

import lzma
import os
import shutil
import tempfile
import zipfile
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path, PurePosixPath
from typing import Final

from voicestudio.domain import Language, OtoEntry, ProgressCallback, Voicebank, ignore_progress
from voicestudio.domain.progress import Progress
from voicestudio.oto import OtoEncoding, OtoEncodingError, SkippedLine, normalize_encoding, read_oto_ini
from voicestudio.voicebank.character import (
    CharacterInfo,
    merge_character,
    parse_character_txt,
    parse_character_yaml,
    yaml_encoding_name,
)
from voicestudio.voicebank.errors import UnsafeArchive, VoicebankError
from voicestudio.voicebank.safety import DEFAULT_IMPORT_LIMITS, ImportLimits, Member, check_archive
from voicestudio.voicebank.zipnames import UTF8_NAME_FLAG, RawName, decode_entry_names

PROGRESS_STAGE: Final = "import"
CHARACTER_TXT: Final = "character.txt"
CHARACTER_YAML: Final = "character.yaml"
OTO_INI: Final = "oto.ini"
_CHUNK_BYTES: Final = 1 << 20
# What zipfile and the decompressors raise for bytes that do not decompress or check out.
_DAMAGED: Final = (
    zipfile.BadZipFile,
    zlib.error,
    lzma.LZMAError,
    EOFError,
    NotImplementedError,
    RuntimeError,
)


@dataclass(frozen=True, slots=True)
class ImportedOto:
    """One oto.ini of the bank: its folder (relative to the bank, "" for the bank's own), codec and lines.

    Each entry's `wav_name` is relative to the bank's folder, so `A3/oto.ini`'s `ka.wav` is `A3/ka.wav`.
    """

    folder: str
    encoding: str
    entries: tuple[OtoEntry, ...]
    skipped: tuple[SkippedLine, ...]
    duplicates: tuple[str, ...]

    @property
    def path(self) -> str:
        """The oto.ini's path relative to the bank's folder."""
        return f"{self.folder}/{OTO_INI}" if self.folder else OTO_INI


@dataclass(frozen=True, slots=True)
class SkippedOtoLine:
    """A line of one of the bank's oto.ini files that was not read as an entry."""

    oto_path: str
    line: SkippedLine


@dataclass(frozen=True, slots=True)
class ImportedVoicebank:
    """An extracted voicebank: where it is, who it is, how its text was encoded, and its oto entries."""

    root: Path  # the folder holding character.txt (or the oto.ini files), inside `dest`
    name: str
    author: str
    text_file_encoding: str  # "shift_jis" or "utf-8", as character.yaml spells it
    name_encoding: str  # how the zip's unflagged names were read: "ascii", "cp932", "utf-8" or "mixed"
    character: CharacterInfo
    oto_files: tuple[ImportedOto, ...]
    missing_wavs: tuple[str, ...]  # recordings the entries name that the zip does not hold
    notes: tuple[str, ...]  # what was read differently from what the files declare

    @property
    def entries(self) -> tuple[OtoEntry, ...]:
        """Every entry of every oto.ini, the bank's own first, then its folders' in name order."""
        return tuple(entry for oto in self.oto_files for entry in oto.entries)

    @property
    def skipped(self) -> tuple[SkippedOtoLine, ...]:
        """Every line that was not read as an entry, with the oto.ini it is in."""
        return tuple(SkippedOtoLine(oto.path, line) for oto in self.oto_files for line in oto.skipped)

    def voicebank(self, language: Language) -> Voicebank:
        """The bank as the studio packages it, in `language` (a zip does not say which)."""
        return Voicebank(self.name, self.author, language, self.text_file_encoding, self.entries)


def import_voicebank_zip(
    zip_path: Path,
    dest: Path,
    limits: ImportLimits = DEFAULT_IMPORT_LIMITS,
    on_progress: ProgressCallback = ignore_progress,
) -> ImportedVoicebank:
    """Extract the voicebank in `zip_path` into the new folder `dest` and read it.

    Raises `UnsafeArchive` for a zip that would write outside `dest` or past `limits`, and
    `VoicebankError` for one that is damaged or holds no voicebank; `dest` is then left untouched.
    `on_progress` hears of each extracted entry.
    """
    zip_path, dest = Path(zip_path), Path(dest)
    if dest.exists():
        raise VoicebankError(
            f"{dest} already exists. Choose a new folder for the voicebank, or remove that one."
        )
    with _open_zip(zip_path) as archive:
        infos = archive.infolist()
        decoded = decode_entry_names([_raw_name(info) for info in infos])
        members = check_archive(zip_path.name, infos, decoded.names, zip_path.stat().st_size, limits)
        root = find_bank_root(zip_path.name, members)
        try:
            dest.parent.mkdir(parents=True, exist_ok=True)
            staging = Path(tempfile.mkdtemp(prefix=f".{dest.name}.importing-", dir=dest.parent))
        except OSError as e:
            raise VoicebankError(
                f"{dest.parent} cannot be written ({e.strerror or e}). Choose another folder."
            ) from None
        try:
            _extract(zip_path.name, archive, members, staging, limits, on_progress)
            bank = _read_bank(staging, root, dest, decoded.unflagged_encoding, zip_path.stem)
            os.rename(staging, dest)
        except OSError as e:
            shutil.rmtree(staging, ignore_errors=True)
            raise VoicebankError(
                f"{zip_path.name} cannot be extracted into {dest} ({e.strerror or e}). "
                "Check the free space and that the folder is new, then import it again."
            ) from None
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
    return bank


def find_bank_root(archive_name: str, members: Sequence[Member]) -> str:
    """The folder of the bank inside the archive ("" for its top): the shallowest one with character.txt.

    Without character.txt, the folder that holds every oto.ini. Raises `VoicebankError` for an
    archive with neither, or with several banks side by side.
    """
    files = [PurePosixPath(m.path) for m in members if not m.is_dir]
    characters = [p.parent for p in files if p.name.lower() == CHARACTER_TXT]
    if characters:
        depth = min(len(p.parts) for p in characters)
        shallowest = sorted({str(p) for p in characters if len(p.parts) == depth})
        if len(shallowest) > 1:
            listed = ", ".join(shallowest[:4])
            raise VoicebankError(
                f"{archive_name} holds {len(shallowest)} voicebanks side by side ({listed}). "
                "Zip each voicebank on its own and import them one at a time."
            )
        return "" if shallowest[0] == "." else shallowest[0]
    otos = [p.parent.parts for p in files if p.name.lower() == OTO_INI]
    if not otos:
        raise VoicebankError(
            f"{archive_name} holds no character.txt and no oto.ini, so it is not an UTAU voicebank. "
            "Check that you chose the voicebank's zip."
        )
    common = otos[0]
    for parts in otos[1:]:
        length = 0
        while length < min(len(common), len(parts)) and common[length] == parts[length]:
            length += 1
        common = common[:length]
    return "/".join(common)


def _open_zip(zip_path: Path) -> zipfile.ZipFile:
    try:
        return zipfile.ZipFile(zip_path)
    except FileNotFoundError:
        raise VoicebankError(
            f"{zip_path.name}: there is no such file at {zip_path}. Check the path."
        ) from None
    except IsADirectoryError:
        raise VoicebankError(f"{zip_path.name} is a folder. Zip it first, or choose the zip file.") from None
    except UnicodeDecodeError:
        raise VoicebankError(
            f"{zip_path.name}: some entry names are marked UTF-8 but are not. Unpack the zip where it "
            "was made and pack it again."
        ) from None
    except zipfile.BadZipFile:
        raise VoicebankError(
            f"{zip_path.name} is not a zip file or is cut short. Download it again; if it is a .rar or "
            ".7z archive, unpack it and zip the voicebank folder."
        ) from None
    except OSError as e:
        raise VoicebankError(f"{zip_path.name} cannot be opened ({e.strerror or e}).") from None


def _raw_name(info: zipfile.ZipInfo) -> RawName:
    """The name bytes as stored: zipfile decoded flagged names as UTF-8 and all others as cp437."""
    flagged = bool(info.flag_bits & UTF8_NAME_FLAG)
    data = info.orig_filename.encode("utf-8" if flagged else "cp437")
    return RawName(data, flagged, info.extra)


def _extract(
    archive_name: str,
    archive: zipfile.ZipFile,
    members: Sequence[Member],
    staging: Path,
    limits: ImportLimits,
    on_progress: ProgressCallback,
) -> None:
    """Write every member under `staging`, counting the bytes really written against the limits."""
    total_bytes = 0
    for done, member in enumerate(members, start=1):
        target = staging.joinpath(*member.path.split("/"))
        if member.is_dir:
            target.mkdir(parents=True, exist_ok=True)
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            total_bytes = _extract_file(archive_name, archive, member, target, total_bytes, limits)
        on_progress(Progress(PROGRESS_STAGE, done, len(members), member.path))


def _extract_file(
    archive_name: str,
    archive: zipfile.ZipFile,
    member: Member,
    target: Path,
    total_bytes: int,
    limits: ImportLimits,
) -> int:
    """Copy one entry to `target` (a new file); returns the archive's running byte count."""
    written = 0
    allowed = min(member.info.file_size, limits.max_file_bytes)
    try:
        with archive.open(member.info) as src, target.open("xb") as dst:
            while chunk := src.read(_CHUNK_BYTES):
                written += len(chunk)
                total_bytes += len(chunk)
                if written > allowed or total_bytes > limits.max_total_bytes:
                    raise UnsafeArchive(
                        f"{archive_name}: the entry {member.path!r} unpacks to more bytes than its header "
                        "or the import limits allow: a zip bomb. Nothing was kept."
                    )
                dst.write(chunk)
    except _DAMAGED as e:
        raise VoicebankError(
            f"{archive_name}: the entry {member.path!r} is damaged ({e}). Download the zip again."
        ) from None
    return total_bytes


def _read_bank(
    staging: Path, root: str, dest: Path, name_encoding: str, fallback_name: str
) -> ImportedVoicebank:
    """Read the extracted bank in `staging`; paths in the result point into `dest`, where it will be."""
    root_dir = staging.joinpath(*root.split("/")) if root else staging
    notes: list[str] = []
    yaml_path = _child(root_dir, CHARACTER_YAML)
    yaml = CharacterInfo()
    if yaml_path is not None:
        yaml = parse_character_yaml(yaml_path.read_bytes().decode("utf-8-sig", errors="replace"))
    declared = _declared_codec(yaml.text_file_encoding, notes)
    txt = CharacterInfo()
    txt_codec: str | None = declared
    txt_path = _child(root_dir, CHARACTER_TXT)
    if txt_path is not None:
        text, txt_codec = _decode_text(txt_path.read_bytes(), declared, notes)
        txt = parse_character_txt(text)
    character = merge_character(txt, yaml)
    oto_files = tuple(_read_otos(root_dir))
    text_file_encoding = _bank_encoding(declared, oto_files, txt_codec)
    for oto in oto_files:
        if declared is not None and oto.encoding.startswith("utf-8") != (declared == "utf-8"):
            notes.append(
                f"{oto.path} reads as {oto.encoding} but character.yaml declares "
                f"{yaml.text_file_encoding}; OpenUTAU will read it as {yaml.text_file_encoding} unless "
                "the file starts with a #Charset: line."
            )
    name = character.name or (PurePosixPath(root).name if root else fallback_name)
    return ImportedVoicebank(
        root=dest.joinpath(*root.split("/")) if root else dest,
        name=name,
        author=character.author,
        text_file_encoding=text_file_encoding,
        name_encoding=name_encoding,
        character=character,
        oto_files=oto_files,
        missing_wavs=_missing_wavs(root_dir, oto_files),
        notes=tuple(notes),
    )


def _read_otos(root_dir: Path) -> list[ImportedOto]:
    """Every oto.ini at or below `root_dir`: the bank's own first, then folders in name order."""
    found: list[ImportedOto] = []
    for folder, dirs, files in os.walk(root_dir):
        dirs.sort()
        for file in sorted(files):
            if file.lower() != OTO_INI:
                continue
            relative = Path(folder).relative_to(root_dir).as_posix()
            prefix = "" if relative == "." else relative
            oto = read_oto_ini(Path(folder) / file)
            entries = tuple(
                replace(entry, wav_name=f"{prefix}/{entry.wav_name}") if prefix else entry
                for entry in oto.entries
            )
            found.append(ImportedOto(prefix, oto.encoding, entries, oto.skipped, oto.duplicates))
    return found


def _child(folder: Path, name: str) -> Path | None:
    """The file `name` in `folder`, matched regardless of case as Windows does; None when absent."""
    exact = folder / name
    if exact.is_file():
        return exact
    for child in sorted(folder.iterdir()):
        if child.name.lower() == name and child.is_file():
            return child
    return None


def _declared_codec(declared: str, notes: list[str]) -> OtoEncoding | None:
    """The Python codec for character.yaml's `text_file_encoding`, None when absent or unknown."""
    if not declared:
        return None
    try:
        return normalize_encoding(declared)
    except OtoEncodingError:
        notes.append(
            f"character.yaml declares the text encoding {declared!r}, which the studio does not read; "
            "its text files were read as Shift-JIS or UTF-8."
        )
        return None


def _decode_text(data: bytes, declared: OtoEncoding | None, notes: list[str]) -> tuple[str, str]:
    """`character.txt` as text and the codec used: the declared one, else Shift-JIS, else UTF-8."""
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8", errors="replace"), "utf-8"
    first = declared or "cp932"
    for codec in dict.fromkeys((first, "cp932", "utf-8")):
        try:
            text = data.decode(codec)
        except UnicodeDecodeError:
            continue
        if codec != first:
            notes.append(f"{CHARACTER_TXT} is not valid {first}; it was read as {codec}.")
        return text, codec
    notes.append(f"{CHARACTER_TXT} is neither Shift-JIS nor UTF-8; unreadable characters were replaced.")
    return data.decode(first, errors="replace"), first


def _bank_encoding(
    declared: OtoEncoding | None, oto_files: Sequence[ImportedOto], txt_codec: str | None
) -> str:
    """The bank's `text_file_encoding`: as declared, else as its own oto.ini (or character.txt) reads."""
    if declared is not None:
        return yaml_encoding_name(declared)
    own = next((oto.encoding for oto in oto_files if not oto.folder), None)
    codec = own or txt_codec or "cp932"
    return "utf-8" if codec.startswith("utf-8") else "shift_jis"


def _missing_wavs(root_dir: Path, oto_files: Sequence[ImportedOto]) -> tuple[str, ...]:
    """The recordings the entries name that are not in the bank (names compared regardless of case)."""
    present = {
        Path(folder, file).relative_to(root_dir).as_posix().lower()
        for folder, _, files in os.walk(root_dir)
        for file in files
    }
    named = dict.fromkeys(entry.wav_name for oto in oto_files for entry in oto.entries)
    return tuple(name for name in named if name.replace("\\", "/").lower() not in present)
