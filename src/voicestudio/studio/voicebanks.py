"""Voicebank zips of a project: its current takes and oto lines (edited ones included), packaged for UTAU."""

import tempfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Final, Literal

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from voicestudio.db.models import JobRow, OtoLineRow, ProjectRow, VoicebankRow, new_id
from voicestudio.db.types import utc_now
from voicestudio.domain import Language, OtoEntry, ProgressCallback, Voicebank, ignore_progress
from voicestudio.storage.blobs import BlobStore
from voicestudio.studio.errors import NotFound, NothingToDo, StudioError
from voicestudio.studio.gc import record_blob
from voicestudio.studio.oto import lines_in_order, recorded_bank_files
from voicestudio.studio.rows import project_row
from voicestudio.studio.takes import place_blob
from voicestudio.voicebank.package import build_voicebank_zip
from voicestudio.voicebank.paths import bank_folder_name

TextEncoding = Literal["shift_jis", "utf-8"]
ZIP_MAX_BYTES: Final = 20 * 1000**3  # a bank of 10-minute takes stays far below this


@dataclass(frozen=True, slots=True)
class VoicebankDownload:
    """Where a built zip is (a local file, or a URL the browser can fetch) and the name to save it as."""

    target: Path | str
    file_name: str


def check_voicebank_inputs(session: Session, project_id: str, name: str | None) -> str:
    """The bank's name (the project's when none is given); NothingToDo while the project has no oto lines."""
    project = project_row(session, project_id)
    has_lines = session.scalar(select(OtoLineRow.id).where(OtoLineRow.project_id == project_id).limit(1))
    if has_lines is None:
        raise NothingToDo(
            "The project has no oto.ini lines yet. Generate the oto first, then build the voicebank."
        )
    chosen = (name if name is not None else project.name).strip()
    if not chosen:
        raise StudioError("The voicebank needs a name. Type one, or leave it out to use the project's name.")
    return chosen


def default_encoding(entries: list[OtoEntry]) -> TextEncoding:
    """Shift-JIS (what UTAU reads) when every alias and file name fits in it, else UTF-8 (OpenUTAU)."""
    try:
        for entry in entries:
            f"{entry.wav_name}={entry.alias}".encode("cp932")
    except UnicodeEncodeError:
        return "utf-8"
    return "shift_jis"


def build_project_voicebank(
    sessions: sessionmaker[Session],
    blobs: BlobStore,
    project_id: str,
    job_id: str | None,
    name: str | None = None,
    encoding: TextEncoding | None = None,
    on_progress: ProgressCallback = ignore_progress,
) -> str:
    """Package the project's oto lines and the current takes they cut into a zip; returns the voicebank's id.

    A run of a job that already stored its zip (a retry after a crash) returns that voicebank again.
    """
    with sessions() as session:
        if job_id is not None:
            done = session.scalar(select(VoicebankRow.id).where(VoicebankRow.job_id == job_id))
            if done is not None:
                return done
        bank_name = check_voicebank_inputs(session, project_id, name)
        language = Language(project_row(session, project_id).language)
        entries = [line.entry() for line in lines_in_order(session, project_id)]
        takes = {file.wav_name: take for file, take in recorded_bank_files(session, project_id)}
    missing = sorted({entry.wav_name for entry in entries} - set(takes))
    if missing:
        shown = ", ".join(missing[:10]) + (f" and {len(missing) - 10} more" if len(missing) > 10 else "")
        raise NothingToDo(
            f"The oto lines use recordings that have no current take: {shown}. Record them again, "
            "or generate the oto again to drop their lines."
        )
    bank = Voicebank(
        name=bank_name,
        author="",
        language=language,
        text_file_encoding=encoding or default_encoding(entries),
        entries=tuple(entries),
    )
    with tempfile.TemporaryDirectory(prefix="voicestudio-bank-") as scratch:
        folder = Path(scratch) / "takes"
        for wav_name in dict.fromkeys(entry.wav_name for entry in entries):
            path = folder / PurePosixPath(wav_name)
            path.parent.mkdir(parents=True, exist_ok=True)
            place_blob(blobs, takes[wav_name].blob_key, path)
        zip_path = Path(scratch) / "voicebank.zip"
        build_voicebank_zip(folder, bank, zip_path, on_progress=on_progress)
        with zip_path.open("rb") as packed:
            stored = blobs.put_stream(packed, ZIP_MAX_BYTES)
    row = VoicebankRow(
        id=new_id(), project_id=project_id, blob_key=stored.key, job_id=job_id, created_at=utc_now()
    )
    with sessions.begin() as session:
        owner = project_row(session, project_id).owner
        record_blob(session, owner, stored)
        session.add(row)
    return row.id


def voicebank_download(
    session: Session, blobs: BlobStore, voicebank_id: str, owner: str
) -> VoicebankDownload:
    """The zip of `owner`'s voicebank `voicebank_id` and its file name (the bank's name); NotFound if there
    is none or it is someone else's."""
    row = session.get(VoicebankRow, voicebank_id)
    project = session.get(ProjectRow, row.project_id) if row is not None else None
    if row is None or project is None or project.owner != owner:
        raise NotFound(f"There is no voicebank {voicebank_id}; it may have been deleted. Build it again.")
    name = project.name
    if row.job_id is not None:
        job = session.get(JobRow, row.job_id)
        if job is not None and isinstance(job.payload.get("name"), str) and job.payload["name"].strip():
            name = job.payload["name"].strip()
    file_name = f"{bank_folder_name(name)}.zip"
    target = blobs.download_target(row.blob_key, download_name=file_name, media_type="application/zip")
    return VoicebankDownload(target, file_name)
