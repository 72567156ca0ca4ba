"""Packaging a voicebank zip that UTAU and OpenUTAU install as it is.

The zip holds UTAU's `install.txt` (which OpenUTAU's installer skips) and one folder named after the
bank with `character.txt`, `character.yaml`, `readme.txt`, `icon.bmp`, one `oto.ini` per folder of
recordings, every recording the entries refer to as 44.1 kHz 16-bit mono PCM, and the `.frq` pitch
maps found beside them. Levels are kept as recorded: a file is resampled or mixed to mono, never
normalized. The zip is written as `NAME.part` and renamed when complete, so a failed build leaves no
zip behind.
"""

import os
import tempfile
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass, replace
from pathlib import Path, PurePosixPath
from typing import Final

import numpy as np

from voicestudio.audio import AudioError, MissingAudio, probe_audio, read_audio, write_wav_atomic
from voicestudio.domain import OtoEntry, ProgressCallback, Voicebank, ignore_progress
from voicestudio.domain.progress import Progress
from voicestudio.errors import VoicestudioError
from voicestudio.files import part_path
from voicestudio.oto import format_oto_ini
from voicestudio.voicebank.character import (
    ICON_NAME,
    default_phonemizer,
    format_character_txt,
    format_character_yaml,
    format_install_txt,
    format_readme,
    text_codec,
)
from voicestudio.voicebank.errors import VoicebankError
from voicestudio.voicebank.icon import generated_icon_bmp, icon_bmp_from_image
from voicestudio.voicebank.paths import bank_file_problem, bank_folder_name
from voicestudio.voicebank.zipnames import NameEncoding, choose_name_encoding
from voicestudio.voicebank.zipwrite import EncodedNameZip

BANK_SAMPLE_RATE_HZ: Final = 44_100
PROGRESS_STAGE: Final = "voicebank"
OTO_NAME: Final = "oto.ini"
INSTALL_TXT: Final = "install.txt"
_BANK_FORMAT: Final = ("WAV", "PCM_16")


@dataclass(frozen=True, slots=True)
class BuildSummary:
    """What went into the zip: where it is, its folder and name encoding, and what was converted."""

    zip_path: Path
    folder_name: str
    name_encoding: NameEncoding
    entry_count: int
    wav_count: int
    resampled_wavs: tuple[str, ...]  # recorded at another rate, now 44.1 kHz
    clipped_wavs: tuple[str, ...]  # went past full scale once resampled or made 16-bit
    frq_count: int
    dropped_frq: tuple[str, ...]  # pitch maps of resampled recordings: their frames no longer line up
    zip_size_bytes: int


@dataclass(frozen=True, slots=True)
class _Plan:
    """Everything decided before any file is read: names, folders and the text files' bytes."""

    folder: str
    name_encoding: NameEncoding
    entry_count: int
    wav_names: tuple[str, ...]
    install_txt: bytes  # beside the bank folder, at the top of the zip
    text_files: tuple[tuple[str, bytes], ...]  # (path inside the bank folder, bytes)


@dataclass(frozen=True, slots=True)
class _Written:
    """What writing the recordings did to them."""

    resampled_wavs: tuple[str, ...]
    clipped_wavs: tuple[str, ...]
    frq_count: int
    dropped_frq: tuple[str, ...]


def build_voicebank_zip(
    folder: Path,
    bank: Voicebank,
    out_zip: Path,
    icon_png: Path | None = None,
    on_progress: ProgressCallback = ignore_progress,
    *,
    phonemizer: str | None = None,
) -> BuildSummary:
    """Write `out_zip` from the recordings in `folder` that `bank.entries` refer to.

    `phonemizer` is the OpenUTAU default phonemizer; None picks the one for the bank's language.
    Raises `VoicebankError` (no entries, a missing or unreadable recording, a name that cannot be
    stored) and then leaves no zip. `on_progress` hears of each recording written.
    """
    folder, out_zip = Path(folder), Path(out_zip)
    plan = _plan(bank, phonemizer or default_phonemizer(bank.language))
    missing = [name for name in plan.wav_names if not (folder / name).is_file()]
    if missing:
        raise _missing_error(bank, folder, missing)
    icon = icon_bmp_from_image(icon_png) if icon_png is not None else generated_icon_bmp(bank.name)

    part = part_path(out_zip)
    try:
        with (
            tempfile.TemporaryDirectory(prefix=".voicebank-", dir=out_zip.parent) as scratch,
            zipfile.ZipFile(part, "w", zipfile.ZIP_DEFLATED) as archive,
        ):
            out = EncodedNameZip(archive, plan.name_encoding)
            _write_text_files(out, plan, icon)
            written = _write_recordings(out, plan, folder, Path(scratch), on_progress)
        os.replace(part, out_zip)
    except VoicestudioError:
        part.unlink(missing_ok=True)
        raise
    except OSError as e:
        part.unlink(missing_ok=True)
        raise VoicebankError(
            f"{out_zip} cannot be written ({e.strerror or e}). Check the folder exists and has free space."
        ) from None
    except BaseException:
        part.unlink(missing_ok=True)
        raise
    return BuildSummary(
        zip_path=out_zip,
        folder_name=plan.folder,
        name_encoding=plan.name_encoding,
        entry_count=plan.entry_count,
        wav_count=len(plan.wav_names),
        resampled_wavs=written.resampled_wavs,
        clipped_wavs=written.clipped_wavs,
        frq_count=written.frq_count,
        dropped_frq=written.dropped_frq,
        zip_size_bytes=out_zip.stat().st_size,
    )


def _plan(bank: Voicebank, phonemizer: str | None) -> _Plan:
    """Check the bank and encode its text files; raises `VoicebankError` before anything is written."""
    if not bank.entries:
        raise VoicebankError(
            f"The voicebank {bank.name!r} has no oto entries. "
            "Generate the oto.ini from your recordings first, then build again."
        )
    codec = text_codec(bank)
    wav_names = tuple(dict.fromkeys(entry.wav_name for entry in bank.entries))
    seen: dict[str, str] = {}
    for name in wav_names:
        problem = bank_file_problem(name)
        other = seen.setdefault(name.lower(), name)
        if problem is None and other != name:
            problem = f"differs from {other!r} only in case, and Windows keeps one file for both"
        if problem is None and PurePosixPath(name).suffix.lower() != ".wav":
            problem = "is not a .wav file, which UTAU needs"
        if problem:
            alias = next(entry.alias for entry in bank.entries if entry.wav_name == name)
            raise VoicebankError(
                f"The recording {name!r} (alias {alias!r}) {problem}. Rename it and its oto entries, "
                "then build again."
            )
    text_files: list[tuple[str, bytes]] = [
        ("character.txt", format_character_txt(bank)),
        ("character.yaml", format_character_yaml(bank, phonemizer).encode("utf-8")),
        ("readme.txt", format_readme(bank)),
    ]
    for oto_folder, entries in _entries_by_folder(bank.entries).items():
        try:
            oto = format_oto_ini(entries, codec)
        except VoicestudioError as e:
            raise VoicebankError(e.message) from None
        text_files.append((f"{oto_folder}/{OTO_NAME}" if oto_folder else OTO_NAME, oto))
    folder = bank_folder_name(bank.name)
    names = [folder, *(name for name, _ in text_files), *wav_names, *(_frq_name(n) for n in wav_names)]
    encoding = choose_name_encoding(names, codec)
    install_txt = format_install_txt(bank, folder)
    return _Plan(folder, encoding, len(bank.entries), wav_names, install_txt, tuple(text_files))


def _entries_by_folder(entries: Iterable[OtoEntry]) -> dict[str, list[OtoEntry]]:
    """Entries grouped by the folder of their recording, each named relative to its own oto.ini."""
    groups: dict[str, list[OtoEntry]] = {}
    for entry in entries:
        path = PurePosixPath(entry.wav_name)
        parent = "" if str(path.parent) == "." else str(path.parent)
        groups.setdefault(parent, []).append(replace(entry, wav_name=path.name))
    return groups


def _frq_name(wav_name: str) -> str:
    """The pitch map UTAU keeps beside a recording: `ka.wav` → `ka_wav.frq`."""
    path = PurePosixPath(wav_name)
    return str(path.with_name(path.stem + path.suffix.replace(".", "_") + ".frq"))


def _write_text_files(out: EncodedNameZip, plan: _Plan, icon: bytes) -> None:
    out.add_bytes(INSTALL_TXT, plan.install_txt)
    out.add_folder(plan.folder)
    for name, data in plan.text_files:
        out.add_bytes(f"{plan.folder}/{name}", data)
    out.add_bytes(f"{plan.folder}/{ICON_NAME}", icon)


def _write_recordings(
    out: EncodedNameZip, plan: _Plan, folder: Path, scratch: Path, on_progress: ProgressCallback
) -> _Written:
    """Each recording as 44.1 kHz 16-bit mono, with its `.frq` when that still matches it."""
    resampled: list[str] = []
    clipped: list[str] = []
    dropped_frq: list[str] = []
    frq_count = 0
    for done, wav_name in enumerate(plan.wav_names, start=1):
        converted = _bank_wav(folder / wav_name, scratch / "converted.wav")
        if converted.resampled:
            resampled.append(wav_name)
        if converted.clipped:
            clipped.append(wav_name)
        out.add_file(f"{plan.folder}/{wav_name}", converted.path)
        frq_name = _frq_name(wav_name)
        if (folder / frq_name).is_file():
            if converted.resampled:
                dropped_frq.append(frq_name)
            else:
                out.add_file(f"{plan.folder}/{frq_name}", folder / frq_name)
                frq_count += 1
        on_progress(Progress(PROGRESS_STAGE, done, len(plan.wav_names), wav_name))
    return _Written(tuple(resampled), tuple(clipped), frq_count, tuple(dropped_frq))


@dataclass(frozen=True, slots=True)
class _BankWav:
    path: Path
    resampled: bool
    clipped: bool


def _bank_wav(source: Path, scratch_path: Path) -> _BankWav:
    """`source` as 44.1 kHz 16-bit mono: the file itself when it already is, else a converted copy."""
    try:
        info = probe_audio(source)
        same_rate = info.sample_rate_hz == BANK_SAMPLE_RATE_HZ
        if same_rate and info.channels == 1 and (info.format, info.subtype) == _BANK_FORMAT:
            return _BankWav(source, resampled=False, clipped=False)
        clip = read_audio(source, BANK_SAMPLE_RATE_HZ)
        clipped = bool(np.any(np.abs(clip.samples) > 1.0))
        write_wav_atomic(scratch_path, clip.samples, BANK_SAMPLE_RATE_HZ)
    except MissingAudio:
        raise VoicebankError(
            f"The recording {source.name} disappeared from {source.parent} while the voicebank was "
            "being built. Put it back, then build again."
        ) from None
    except AudioError as e:
        raise VoicebankError(f"{e.message} The voicebank was not built.") from None
    return _BankWav(scratch_path, resampled=info.sample_rate_hz != BANK_SAMPLE_RATE_HZ, clipped=clipped)


def _missing_error(bank: Voicebank, folder: Path, missing: list[str]) -> VoicebankError:
    first = missing[0]
    if len(missing) == 1:
        alias = next(entry.alias for entry in bank.entries if entry.wav_name == first)
        return VoicebankError(
            f"The recording {first} (alias {alias!r}) is missing from {folder}. "
            "Record it again or remove its oto entries, then build again."
        )
    listed = ", ".join(missing[:4]) + (", ..." if len(missing) > 4 else "")
    return VoicebankError(
        f"{len(missing)} recordings are missing from {folder}: {listed}. "
        "Record them again or remove their oto entries, then build again."
    )
