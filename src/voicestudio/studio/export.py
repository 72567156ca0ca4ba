"""A user's data as one zip, streamed: projects (JSON), takes, oto.ini, voicebanks, consents and models.

The zip is written as it is sent (entries with data descriptors, zip64 for blobs), so an export of many
gigabytes needs no more memory than one chunk and never waits for the whole archive.
"""

import contextlib
import json
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import PurePosixPath
from typing import Any, Final

from sqlalchemy import select
from sqlalchemy.orm import Session

from voicestudio.db.models import (
    ConsentRow,
    JobRow,
    OtoLineRow,
    ProjectRow,
    TakeRow,
    UserRow,
    VoicebankRow,
    VoiceModelRow,
)
from voicestudio.db.types import utc_now
from voicestudio.domain import OtoEntry
from voicestudio.errors import VoicestudioError
from voicestudio.oto.ini import format_oto_ini
from voicestudio.storage.blobs import CHUNK_BYTES, BlobStore, StorageError
from voicestudio.studio.catalog import prompt_wav_name, split_prompt_key
from voicestudio.studio.plans import training_cost_usd
from voicestudio.voicebank.paths import bank_folder_name

EXPORT_ROOT: Final = "voicestudio-export"
MISSING_FILE: Final = "MISSING.txt"


@dataclass(frozen=True, slots=True)
class ExportEntry:
    """One file of the export: its path inside the zip, and its bytes or the blob that holds them."""

    path: str
    data: bytes | None = None
    blob_key: str | None = None


def export_entries(session: Session, owner: str, price_per_gpu_hour_usd: float) -> list[ExportEntry]:
    """Every file of `owner`'s export; blobs are named, not read, so this is quick and small."""
    entries: list[ExportEntry] = []
    user = session.get(UserRow, owner)
    account = {
        "id": owner,
        "email": user.email if user is not None else None,
        "plan": user.plan if user is not None else None,
        "created_at": _time(user.created_at) if user is not None else None,
        "exported_at": _time(utc_now()),
    }
    entries.append(_json(f"{EXPORT_ROOT}/account.json", account))
    projects = session.scalars(
        select(ProjectRow).where(ProjectRow.owner == owner).order_by(ProjectRow.created_at, ProjectRow.id)
    ).all()
    for project in projects:
        entries.extend(_project_entries(session, project))
    jobs = session.scalars(
        select(JobRow).where(JobRow.owner == owner).order_by(JobRow.created_at, JobRow.id)
    ).all()
    entries.append(
        _json(f"{EXPORT_ROOT}/jobs.json", [_job_json(job, price_per_gpu_hour_usd) for job in jobs])
    )
    session.rollback()
    return entries


def stream_zip(entries: list[ExportEntry], blobs: BlobStore) -> Iterator[bytes]:
    """The zip of `entries`, chunk by chunk, reading each blob as it goes."""
    sink = _Sink()
    missing: list[str] = []
    with zipfile.ZipFile(sink, mode="w", allowZip64=True) as archive:
        for entry in entries:
            if entry.data is not None:
                archive.writestr(_info(entry.path, zipfile.ZIP_DEFLATED), entry.data)
            elif entry.blob_key is not None:
                try:
                    source = blobs.open(entry.blob_key)
                except StorageError:
                    missing.append(entry.path)
                    continue
                with (
                    source,
                    archive.open(_info(entry.path, zipfile.ZIP_STORED), "w", force_zip64=True) as out,
                ):
                    while chunk := source.read(CHUNK_BYTES):
                        out.write(chunk)
                        yield sink.take()
            yield sink.take()
        if missing:
            note = "These files were gone from storage when the export was made:\n" + "\n".join(missing)
            archive.writestr(_info(f"{EXPORT_ROOT}/{MISSING_FILE}", zipfile.ZIP_DEFLATED), note + "\n")
    yield sink.take()


class _Sink:
    """A write-only, unseekable file that hands out what was written since the last `take`."""

    def __init__(self) -> None:
        self._chunks: list[bytes] = []

    def write(self, data: bytes) -> int:
        self._chunks.append(bytes(data))
        return len(data)

    def flush(self) -> None:
        pass

    def close(self) -> None:
        pass

    def take(self) -> bytes:
        written = b"".join(self._chunks)
        self._chunks.clear()
        return written


def _project_entries(session: Session, project: ProjectRow) -> list[ExportEntry]:
    folder = f"{EXPORT_ROOT}/projects/{bank_folder_name(project.name)}-{project.id[:8]}"
    entries: list[ExportEntry] = []
    takes_json: list[dict[str, Any]] = []
    takes = session.scalars(
        select(TakeRow).where(TakeRow.project_id == project.id).order_by(TakeRow.created_at, TakeRow.id)
    ).all()
    for take in takes:
        prompt_set, prompt_id = split_prompt_key(take.prompt_id)
        wav_name = PurePosixPath(prompt_wav_name(prompt_set, prompt_id)).name
        where = (
            f"takes/{prompt_set}/{wav_name}" if take.is_current else f"takes/{prompt_set}/older/{take.id}.wav"
        )
        entries.append(ExportEntry(f"{folder}/{where}", blob_key=take.blob_key))
        takes_json.append(
            {
                "id": take.id,
                "prompt_set": prompt_set,
                "prompt_id": prompt_id,
                "file": where,
                "current": take.is_current,
                "sample_rate_hz": take.sample_rate_hz,
                "duration_ms": take.duration_ms,
                "verdict": take.verdict,
                "reasons": list(take.reasons or []),
                "quality": take.quality,
                "created_at": _time(take.created_at),
            }
        )
    lines = session.scalars(
        select(OtoLineRow).where(OtoLineRow.project_id == project.id).order_by(OtoLineRow.position)
    ).all()
    if lines:
        # A line oto.ini cannot hold as it is is left to project.json, which has every line anyway.
        with contextlib.suppress(VoicestudioError):
            entries.append(ExportEntry(f"{folder}/oto.ini", data=format_oto_ini(map(_entry, lines), "utf-8")))
    banks = session.scalars(select(VoicebankRow).where(VoicebankRow.project_id == project.id)).all()
    consents = session.scalars(select(ConsentRow).where(ConsentRow.project_id == project.id)).all()
    models = session.scalars(select(VoiceModelRow).where(VoiceModelRow.project_id == project.id)).all()
    entries.extend(
        ExportEntry(f"{folder}/voicebanks/{bank.id}.zip", blob_key=bank.blob_key) for bank in banks
    )
    entries.extend(ExportEntry(f"{folder}/consent/{c.id}.wav", blob_key=c.blob_key) for c in consents)
    for model in models:
        model_folder = f"{folder}/models/{bank_folder_name(model.id)}"
        entries.append(ExportEntry(f"{model_folder}/model.onnx", blob_key=model.onnx_key))
        entries.append(ExportEntry(f"{model_folder}/model.onnx.json", blob_key=model.config_key))
    summary = {
        "id": project.id,
        "name": project.name,
        "language": project.language,
        "prompt_sets": list(project.prompt_sets),
        "created_at": _time(project.created_at),
        "takes": takes_json,
        "oto_lines": [
            {
                "wav_name": line.wav_name,
                "alias": line.alias,
                "offset_ms": line.offset_ms,
                "consonant_ms": line.consonant_ms,
                "cutoff_ms": line.cutoff_ms,
                "preutterance_ms": line.preutterance_ms,
                "overlap_ms": line.overlap_ms,
                "edited": line.edited,
            }
            for line in lines
        ],
        "voicebanks": [
            {"id": b.id, "file": f"voicebanks/{b.id}.zip", "created_at": _time(b.created_at)} for b in banks
        ],
        "consents": [
            {
                "id": c.id,
                "sentence": c.sentence,
                "file": f"consent/{c.id}.wav",
                "created_at": _time(c.created_at),
            }
            for c in consents
        ],
        "models": [{"id": m.id, "card": m.card, "created_at": _time(m.created_at)} for m in models],
    }
    return [_json(f"{folder}/project.json", summary), *entries]


def _entry(line: OtoLineRow) -> OtoEntry:
    return OtoEntry(
        line.wav_name,
        line.alias,
        line.offset_ms,
        line.consonant_ms,
        line.cutoff_ms,
        line.preutterance_ms,
        line.overlap_ms,
        line.confidence,
        line.note,
    )


def _job_json(job: JobRow, price_per_gpu_hour_usd: float) -> dict[str, Any]:
    return {
        "id": job.id,
        "kind": job.kind,
        "state": job.state,
        "project_id": job.project_id,
        "result": job.result,
        "created_at": _time(job.created_at),
        "finished_at": _time(job.finished_at) if job.finished_at is not None else None,
        "device": job.device,
        "run_s": job.run_s,
        "gpu_s": job.gpu_s,
        "cost_usd": round(training_cost_usd(job.gpu_s, price_per_gpu_hour_usd), 6),
    }


def _json(path: str, value: Any) -> ExportEntry:
    return ExportEntry(path, data=json.dumps(value, ensure_ascii=False, indent=2).encode("utf-8") + b"\n")


def _info(path: str, compression: int) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(path, date_time=utc_now().timetuple()[:6])
    info.compress_type = compression
    info.external_attr = 0o644 << 16
    return info


def _time(value: datetime) -> str:
    return value.isoformat()
