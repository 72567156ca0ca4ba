"""A project's oto.ini lines: generated from its current reclist takes, reviewed and edited by hand.

Times are UTAU's: offset from the file's start; consonant, preutterance and overlap from the offset;
a negative cutoff is the length from the offset, a positive one is measured back from the file's end.
"""

import math
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from sqlalchemy import delete, select
from sqlalchemy.orm import Session, sessionmaker

from voicestudio.db.models import OtoLineRow, TakeRow, new_id
from voicestudio.domain import OtoEntry, Progress, ProgressCallback, ignore_progress
from voicestudio.oto.folder import FlaggedFile, oto_for_folder
from voicestudio.oto.generate import LOW_CONFIDENCE
from voicestudio.oto.units import FileStyle
from voicestudio.storage.blobs import BlobStore
from voicestudio.studio.catalog import BankFile, bank_files, reclist_sets
from voicestudio.studio.errors import NotFound, NothingToDo, OtoOrderError
from voicestudio.studio.rows import current_takes, project_row
from voicestudio.studio.takes import place_blob

COLLECT_STAGE = "collecting takes"
ALIGN_STAGE = "aligning"
STYLE_OF_KIND: dict[str, FileStyle] = {"cv": "cv", "vcv": "vcv", "cvvc": "cvvc"}
END_TOLERANCE_MS = 0.5  # a cutoff may reach this far past the last sample (rounding of the length)


@dataclass(frozen=True, slots=True)
class OtoTimes:
    """The five times of an oto line, in ms, in UTAU's coordinates."""

    offset_ms: float
    consonant_ms: float
    cutoff_ms: float
    preutterance_ms: float
    overlap_ms: float


@dataclass(frozen=True, slots=True)
class OtoLine:
    """One oto.ini line of a project, with the take its file is now and that take's length."""

    id: str
    position: int
    wav_name: str
    alias: str
    offset_ms: float
    consonant_ms: float
    cutoff_ms: float
    preutterance_ms: float
    overlap_ms: float
    confidence: float
    note: str
    edited: bool
    take_id: str | None
    duration_ms: float | None

    def entry(self) -> OtoEntry:
        """The line as an oto.ini entry."""
        return OtoEntry(
            self.wav_name,
            self.alias,
            self.offset_ms,
            self.consonant_ms,
            self.cutoff_ms,
            self.preutterance_ms,
            self.overlap_ms,
            self.confidence,
            self.note,
        )


@dataclass(frozen=True, slots=True)
class OtoRunSummary:
    """What one generation did: lines the project now has, files aligned, and what wants a look."""

    line_count: int
    file_count: int
    flagged: tuple[FlaggedFile, ...]
    low_confidence_count: int


def recorded_bank_files(session: Session, project_id: str) -> list[tuple[BankFile, TakeRow]]:
    """Each reclist prompt of the project that has a current take, with that take."""
    project = project_row(session, project_id)
    takes = current_takes(session, project_id)
    return [(file, takes[file.key]) for file in bank_files(project.prompt_sets) if file.key in takes]


def check_oto_inputs(session: Session, project_id: str) -> int:
    """How many reclist takes an oto run would align; NothingToDo when there are none."""
    project = project_row(session, project_id)
    if not reclist_sets(project.prompt_sets):
        raise NothingToDo(
            f"The project records no reclist ({', '.join(project.prompt_sets)}); oto.ini lines come from "
            "CV, VCV or CVVC reclists. Add one such prompt set to the project."
        )
    count = len(recorded_bank_files(session, project_id))
    if count == 0:
        raise NothingToDo("No reclist prompt has a usable take yet. Record some, then generate again.")
    return count


def generate_project_oto(
    sessions: sessionmaker[Session],
    blobs: BlobStore,
    project_id: str,
    on_progress: ProgressCallback = ignore_progress,
) -> OtoRunSummary:
    """Align every current reclist take of the project and store its oto lines.

    Lines edited by hand are kept as they are; every other line is replaced. The takes are laid out
    under their file names (one folder per reclist) and each folder goes through `oto_for_folder`.
    """
    with sessions() as session:
        check_oto_inputs(session, project_id)
        recorded = recorded_bank_files(session, project_id)
        kinds = {s.name: s.kind.value for s in reclist_sets(project_row(session, project_id).prompt_sets)}
    total = len(recorded)
    entries: list[OtoEntry] = []
    flagged: list[FlaggedFile] = []
    with tempfile.TemporaryDirectory(prefix="voicestudio-oto-") as scratch:
        folders: dict[str, dict[str, str]] = {}  # prompt set -> file name in its folder -> bank wav name
        for done, (file, take) in enumerate(recorded, start=1):
            local_name = Path(file.prompt.wav_name).name
            folder = Path(scratch) / file.prompt_set
            folder.mkdir(exist_ok=True)
            place_blob(blobs, take.blob_key, folder / local_name)
            folders.setdefault(file.prompt_set, {})[local_name] = file.wav_name
            on_progress(Progress(COLLECT_STAGE, done, total, file.wav_name))
        aligned = 0
        for prompt_set, names in folders.items():
            result = oto_for_folder(
                Path(scratch) / prompt_set,
                STYLE_OF_KIND[kinds[prompt_set]],
                on_progress=_shifted(on_progress, aligned, total),
            )
            entries.extend(replace(entry, wav_name=names[entry.wav_name]) for entry in result.entries)
            flagged.extend(replace(flag, wav_name=names[flag.wav_name]) for flag in result.flagged)
            aligned += len(names)
    line_count = store_generated_lines(sessions, project_id, entries)
    return OtoRunSummary(
        line_count=line_count,
        file_count=total,
        flagged=tuple(flagged),
        low_confidence_count=sum(entry.confidence < LOW_CONFIDENCE for entry in entries),
    )


def _shifted(on_progress: ProgressCallback, before: int, total: int) -> ProgressCallback:
    """A folder's progress as progress over all folders, `before` files having been aligned already."""

    def report(progress: Progress) -> None:
        on_progress(Progress(ALIGN_STAGE, before + progress.done, total, progress.item))

    return report


def store_generated_lines(
    sessions: sessionmaker[Session], project_id: str, entries: Sequence[OtoEntry]
) -> int:
    """Replace the project's unedited lines by `entries` in one transaction; edited lines stay as they are.

    An entry for the same file and alias as an edited line is dropped, the edited line taking its place
    in the order; edited lines no entry matches go to the end. Returns the project's line count.
    """
    with sessions.begin() as session:
        project_row(session, project_id)
        session.execute(
            delete(OtoLineRow).where(OtoLineRow.project_id == project_id, OtoLineRow.edited.is_(False))
        )
        kept = {
            (row.wav_name, row.alias): row
            for row in session.scalars(
                select(OtoLineRow).where(OtoLineRow.project_id == project_id).order_by(OtoLineRow.position)
            )
        }
        position = 0
        for entry in entries:
            edited = kept.pop((entry.wav_name, entry.alias), None)
            if edited is not None:
                edited.position = position
            else:
                session.add(_row(project_id, position, entry))
            position += 1
        for row in kept.values():
            row.position = position
            position += 1
    return position


def _row(project_id: str, position: int, entry: OtoEntry) -> OtoLineRow:
    return OtoLineRow(
        id=new_id(),
        project_id=project_id,
        position=position,
        wav_name=entry.wav_name,
        alias=entry.alias,
        offset_ms=entry.offset_ms,
        consonant_ms=entry.consonant_ms,
        cutoff_ms=entry.cutoff_ms,
        preutterance_ms=entry.preutterance_ms,
        overlap_ms=entry.overlap_ms,
        confidence=entry.confidence,
        note=entry.note,
        edited=False,
    )


def oto_lines(session: Session, project_id: str) -> list[OtoLine]:
    """The project's lines, least confident first (then in oto.ini order), each with its current take."""
    takes = _takes_by_wav_name(session, project_id)  # NotFound for a project that is not there
    rows = session.scalars(select(OtoLineRow).where(OtoLineRow.project_id == project_id)).all()
    lines = [_line(row, takes.get(row.wav_name)) for row in rows]
    return sorted(lines, key=lambda line: (line.confidence, line.position))


def lines_in_order(session: Session, project_id: str) -> list[OtoLine]:
    """The project's lines in oto.ini order."""
    return sorted(oto_lines(session, project_id), key=lambda line: line.position)


def edit_oto_line(session: Session, project_id: str, line_id: str, times: OtoTimes) -> OtoLine:
    """Set a line's five times by hand and mark it edited; OtoOrderError if they break UTAU's order."""
    takes = _takes_by_wav_name(session, project_id)
    row = session.get(OtoLineRow, line_id)
    if row is None or row.project_id != project_id:
        raise NotFound(f"The project has no oto line {line_id}; it may be regenerated. Reload the list.")
    take = takes.get(row.wav_name)
    check_oto_order(times, take.duration_ms if take is not None else None, f"{row.alias} ({row.wav_name})")
    row.offset_ms = times.offset_ms
    row.consonant_ms = times.consonant_ms
    row.cutoff_ms = times.cutoff_ms
    row.preutterance_ms = times.preutterance_ms
    row.overlap_ms = times.overlap_ms
    row.edited = True
    session.commit()
    return _line(row, take)


def check_oto_order(times: OtoTimes, duration_ms: float | None, what: str) -> None:
    """Raise OtoOrderError unless the times keep UTAU's order and, when the length is known, the file.

    The order: 0 ≤ offset; consonant, preutterance ≥ 0; overlap ≤ preutterance; the cutoff's end comes
    after both the fixed region and the preutterance and stays inside the recording.
    """
    values = {
        "offset": times.offset_ms,
        "consonant": times.consonant_ms,
        "cutoff": times.cutoff_ms,
        "preutterance": times.preutterance_ms,
        "overlap": times.overlap_ms,
    }
    for name, value in values.items():
        if not math.isfinite(value):
            raise OtoOrderError(f"{what}: the {name} is not a number. Type a time in ms.")
    problem = _order_problem(times, duration_ms)
    if problem:
        raise OtoOrderError(f"{what}: {problem}")


def _order_problem(times: OtoTimes, duration_ms: float | None) -> str:
    offset, consonant, cutoff = times.offset_ms, times.consonant_ms, times.cutoff_ms
    preutterance, overlap = times.preutterance_ms, times.overlap_ms
    if offset < 0:
        return f"the offset is {offset:g} ms, before the file starts. Set it to 0 or later."
    for name, value in (("consonant (fixed region)", consonant), ("preutterance", preutterance)):
        if value < 0:
            return f"the {name} is {value:g} ms, before the offset. Move it to the offset or after it."
    if overlap > preutterance:
        return (
            f"the overlap ({overlap:g} ms) comes after the preutterance ({preutterance:g} ms). "
            "Move the overlap to the preutterance or before it."
        )
    if duration_ms is not None and offset >= duration_ms:
        return f"the offset ({offset:g} ms) is past the end of the recording ({duration_ms:g} ms)."
    if cutoff < 0:
        end_from_offset: float | None = -cutoff
    elif duration_ms is not None:
        end_from_offset = duration_ms - cutoff - offset
    else:
        end_from_offset = None
    if end_from_offset is not None:
        for name, value in (("fixed region", consonant), ("preutterance", preutterance)):
            if end_from_offset < value:
                return (
                    f"the cutoff ends {end_from_offset:g} ms after the offset, before the end of the "
                    f"{name} ({value:g} ms). Move the cutoff later or the {name} earlier."
                )
    if (
        duration_ms is not None
        and end_from_offset is not None
        and offset + end_from_offset > duration_ms + END_TOLERANCE_MS
    ):
        return (
            f"the cutoff ends at {offset + end_from_offset:g} ms, past the end of the recording "
            f"({duration_ms:g} ms). Move it inside the recording (a cutoff of 0 reaches the end)."
        )
    return ""


def _takes_by_wav_name(session: Session, project_id: str) -> dict[str, TakeRow]:
    return {file.wav_name: take for file, take in recorded_bank_files(session, project_id)}


def _line(row: OtoLineRow, take: TakeRow | None) -> OtoLine:
    return OtoLine(
        id=row.id,
        position=row.position,
        wav_name=row.wav_name,
        alias=row.alias,
        offset_ms=row.offset_ms,
        consonant_ms=row.consonant_ms,
        cutoff_ms=row.cutoff_ms,
        preutterance_ms=row.preutterance_ms,
        overlap_ms=row.overlap_ms,
        confidence=row.confidence,
        note=row.note,
        edited=row.edited,
        take_id=take.id if take is not None else None,
        duration_ms=take.duration_ms if take is not None else None,
    )
