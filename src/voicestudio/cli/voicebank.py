"""`voicestudio build-voicebank`: a zip UTAU and OpenUTAU install, from a folder of recordings."""

from dataclasses import dataclass
from pathlib import Path

from rich.console import Console

from voicestudio.cli.oto import Reclist, TextEncoding, file_style, print_oto_summary
from voicestudio.cli.progress import progress_bar
from voicestudio.domain import Language, OtoEntry, Voicebank
from voicestudio.oto import read_oto_ini
from voicestudio.oto.folder import OtoFolderError, oto_for_folder
from voicestudio.voicebank import BuildSummary, build_voicebank_zip
from voicestudio.voicebank.package import OTO_NAME

LISTED_LINES_MAX = 5  # skipped oto.ini lines shown one by one
LISTED_NAMES_MAX = 8  # converted recordings named one by one


@dataclass(frozen=True, slots=True)
class BankRequest:
    """What the user asked for on the command line."""

    folder: Path
    name: str
    out_zip: Path
    author: str
    language: Language
    encoding: TextEncoding
    icon_png: Path | None
    reclist: Reclist
    head: bool


def build_voicebank_command(request: BankRequest, console: Console) -> int:
    """Take the folder's oto.ini (or generate one), package the zip, print what went in; exit code 0."""
    entries = _bank_entries(request, console)
    bank = Voicebank(request.name, request.author, request.language, request.encoding.value, entries)
    with progress_bar("packaging", console) as on_progress:
        summary = build_voicebank_zip(request.folder, bank, request.out_zip, request.icon_png, on_progress)
    print_build_summary(summary, console)
    return 0


def _bank_entries(request: BankRequest, console: Console) -> tuple[OtoEntry, ...]:
    """The entries of DIR/oto.ini (skipped lines reported), or without one, entries made from the names."""
    oto_path = request.folder / OTO_NAME
    if oto_path.is_file():
        oto = read_oto_ini(oto_path)
        console.print(f"Read {len(oto.entries)} entries from {oto_path} ({oto.encoding}).", highlight=False)
        if oto.skipped:
            count = len(oto.skipped)
            what = "1 line that is not an entry" if count == 1 else f"{count} lines that are not entries"
            console.print(f"Skipped {what}:", highlight=False)
            for line in oto.skipped[:LISTED_LINES_MAX]:
                console.print(f"  {line.reason}: {line.text!r}", highlight=False)
        return oto.entries
    if request.language is not Language.ja:
        raise OtoFolderError(
            f"{request.folder} has no {OTO_NAME}, and the studio writes one only for Japanese reclists. "
            f"Put the bank's {OTO_NAME} in the folder, then build again."
        )
    console.print(f"{request.folder} has no {OTO_NAME}: generating one from the recordings.", highlight=False)
    with progress_bar("oto", console) as on_progress:
        result = oto_for_folder(
            request.folder, file_style(request.reclist), head=request.head, on_progress=on_progress
        )
    print_oto_summary(result, console)
    console.print(f"To adjust the lines, run `voicestudio oto {request.folder}` and edit its {OTO_NAME}.")
    return result.entries


def print_build_summary(summary: BuildSummary, console: Console) -> None:
    """Where the zip is, what is in it and what was converted on the way."""
    size_mb = summary.zip_size_bytes / 1_000_000
    console.print(
        f"Wrote {summary.zip_path} ({size_mb:.1f} MB): folder {summary.folder_name!r}, "
        f"{summary.entry_count} oto entries, {summary.wav_count} recordings, {summary.frq_count} .frq files.",
        highlight=False,
    )
    if summary.resampled_wavs:
        console.print(f"Resampled to 44.1 kHz: {_listed(summary.resampled_wavs)}.", highlight=False)
    if summary.clipped_wavs:
        console.print(
            f"Clipped past full scale once converted (record them a little quieter): "
            f"{_listed(summary.clipped_wavs)}.",
            highlight=False,
        )
    if summary.dropped_frq:
        console.print(
            f"Left out pitch maps that no longer match their resampled recording: "
            f"{_listed(summary.dropped_frq)}.",
            highlight=False,
        )


def _listed(names: tuple[str, ...]) -> str:
    shown = ", ".join(names[:LISTED_NAMES_MAX])
    return shown + (f" and {len(names) - LISTED_NAMES_MAX} more" if len(names) > LISTED_NAMES_MAX else "")
