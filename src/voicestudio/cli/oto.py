"""`voicestudio oto`: an oto.ini for a folder of reclist recordings, and what in it wants a second look."""

from enum import StrEnum
from pathlib import Path

from rich.console import Console
from rich.table import Table

from voicestudio.cli.progress import progress_bar
from voicestudio.domain import OtoEntry
from voicestudio.oto import OtoEncoding, OtoFileError, format_oto_ini, normalize_encoding, write_oto_ini
from voicestudio.oto.folder import FolderOto, folder_units, oto_for_folder
from voicestudio.oto.generate import LOW_CONFIDENCE
from voicestudio.oto.units import FileStyle
from voicestudio.voicebank.package import OTO_NAME

LISTED_ALIASES_MAX = 12  # low-confidence aliases named in the summary


class Reclist(StrEnum):
    """How file names map to units: read from each name, or one style for every file."""

    auto = "auto"
    cv = "cv"
    vcv = "vcv"
    cvvc = "cvvc"


class TextEncoding(StrEnum):
    """oto.ini encodings: Shift-JIS for UTAU, UTF-8 for OpenUTAU."""

    shift_jis = "shift_jis"
    utf_8 = "utf-8"


def oto_command(
    folder: Path,
    reclist: Reclist,
    head: bool,
    encoding: TextEncoding,
    out: Path | None,
    console: Console,
    refine: bool = True,
) -> int:
    """Write the folder's oto.ini (DIR/oto.ini unless `out`), then say what wants a look; exit code 0."""
    target = folder / OTO_NAME if out is None else out
    codec = normalize_encoding(encoding.value)
    check_writable(folder, reclist, head, codec, target)
    with progress_bar("oto", console) as on_progress:
        result = oto_for_folder(
            folder, file_style(reclist), head=head, refine=refine, on_progress=on_progress
        )
    write_oto_ini(target, result.entries, codec)
    lines, files = len(result.entries), result.file_count
    console.print(
        f"Wrote {lines} lines for {files} recordings to {target} ({encoding.value}).", highlight=False
    )
    print_oto_summary(result, console)
    return 0


def check_writable(folder: Path, reclist: Reclist, head: bool, codec: OtoEncoding, target: Path) -> None:
    """Refuse before any audio work what could not be written: names that are no reading, names or
    aliases the encoding cannot store, a missing folder for `target`."""
    planned = [
        OtoEntry(wav.name, unit.alias, 0.0, 0.0, 0.0, 0.0, 0.0)
        for wav, units in folder_units(folder, file_style(reclist), head)
        for unit in units
    ]
    format_oto_ini(planned, codec)
    if not target.parent.is_dir():
        raise OtoFileError(
            f"{target.parent} does not exist. Create it, or write the oto.ini elsewhere with --out."
        )


def file_style(reclist: Reclist) -> FileStyle:
    """The units' style for a --reclist choice."""
    styles: dict[Reclist, FileStyle] = {
        Reclist.auto: "auto",
        Reclist.cv: "cv",
        Reclist.vcv: "vcv",
        Reclist.cvvc: "cvvc",
    }
    return styles[reclist]


def print_oto_summary(result: FolderOto, console: Console) -> None:
    """How many lines want a look, which aliases, and every flagged recording with what to do."""
    low = [entry for entry in result.entries if entry.confidence < LOW_CONFIDENCE]
    if low:
        names = ", ".join(entry.alias for entry in low[:LISTED_ALIASES_MAX])
        more = f" and {len(low) - LISTED_ALIASES_MAX} more" if len(low) > LISTED_ALIASES_MAX else ""
        wants = "1 line wants" if len(low) == 1 else f"{len(low)} lines want"
        console.print(f"{wants} a look (confidence below {LOW_CONFIDENCE}): {names}{more}.", highlight=False)
    else:
        console.print(f"Every line looks sure (confidence {LOW_CONFIDENCE} or more).")
    if result.flagged:
        count = len(result.flagged)
        what = "1 recording" if count == 1 else f"{count} recordings"
        table = Table(title=f"{what} could not be used: placeholder lines, set them by hand or record again")
        table.add_column("file", overflow="fold")
        table.add_column("what is wrong, what to do", overflow="fold")
        for flag in result.flagged:
            table.add_row(flag.wav_name, flag.reason)
        console.print(table)
