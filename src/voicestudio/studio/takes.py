"""Takes: recordings of a prompt, checked on arrival; a retake replaces the current one unless it fails."""

import math
import shutil
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, fields
from datetime import datetime
from pathlib import Path, PurePosixPath
from typing import Final

from sqlalchemy import select
from sqlalchemy.orm import Session

from voicestudio.audio.io import AudioClip, read_audio
from voicestudio.audio.pictures import f0_png, spectrogram_png, waveform_png
from voicestudio.audio.quality import check_take
from voicestudio.db.models import ProjectRow, TakeRow, new_id
from voicestudio.db.types import utc_now
from voicestudio.domain import Prompt, QualityReport, Verdict
from voicestudio.storage.blobs import BlobRef, BlobStore
from voicestudio.studio.cache import read_cached, write_cached
from voicestudio.studio.catalog import find_prompt, prompt_key, prompt_wav_name, split_prompt_key
from voicestudio.studio.errors import NotFound
from voicestudio.studio.gc import record_blob_now, release_blob
from voicestudio.studio.plans import Plan, check_can_store
from voicestudio.studio.rows import project_row

PICTURES: Final[dict[str, Callable[[AudioClip], bytes]]] = {
    "waveform": waveform_png,
    "spectrogram": spectrogram_png,
    "f0": f0_png,
}
COPY_CHUNK_BYTES: Final = 1 << 20
_REPORT_SKIPPED: Final = frozenset({"verdict", "reasons"})


@dataclass(frozen=True, slots=True)
class TakeInfo:
    """A take as the studio shows it: its prompt, its audio's shape, and the quality verdict with numbers."""

    id: str
    project_id: str
    prompt_set: str
    prompt_id: str
    wav_name: str
    blob_key: str
    sample_rate_hz: int
    duration_ms: float
    verdict: Verdict
    reasons: tuple[str, ...]
    report: dict[str, float | int | None]  # QualityReport's numbers; None where not finite
    is_current: bool
    created_at: datetime


@dataclass(frozen=True, slots=True)
class TakeOutcome:
    """A stored take, and whether it became its prompt's current take."""

    take: TakeInfo
    current: bool


def take_info(row: TakeRow) -> TakeInfo:
    """The take's row as the studio shows it."""
    prompt_set, prompt_id = split_prompt_key(row.prompt_id)
    return TakeInfo(
        id=row.id,
        project_id=row.project_id,
        prompt_set=prompt_set,
        prompt_id=prompt_id,
        wav_name=prompt_wav_name(prompt_set, prompt_id),
        blob_key=row.blob_key,
        sample_rate_hz=row.sample_rate_hz,
        duration_ms=row.duration_ms,
        verdict=Verdict(row.verdict) if row.verdict else Verdict.warn,
        reasons=tuple(row.reasons or ()),
        report=dict(row.quality or {}),
        is_current=row.is_current,
        created_at=row.created_at,
    )


def upload_target(session: Session, project_id: str, prompt_set: str, prompt_id: str) -> Prompt:
    """The prompt a take is uploaded for; NotFound before any byte is stored if there is no such prompt."""
    project = project_row(session, project_id)
    return find_prompt(project.prompt_sets, prompt_set, prompt_id)


def add_take(
    session: Session,
    blobs: BlobStore,
    project_id: str,
    prompt_set: str,
    prompt_id: str,
    blob: BlobRef,
    plan: Plan | None = None,
) -> TakeOutcome:
    """Check the stored upload `blob` as a take of the prompt and record it.

    The blob counts against the project owner's storage from here on; past `plan`'s storage it is
    refused with PlanLimit. A take the audio checks refuse (not audio, silent, too short, ...) raises
    their AudioError. A refused blob is deleted again unless something else uses the same bytes. A take
    becomes current unless its verdict is fail; the take it replaces is kept, marked as superseded.
    """
    owner: str | None = None
    try:
        owner = project_row(session, project_id).owner
        prompt = upload_target(session, project_id, prompt_set, prompt_id)
        if plan is not None:
            check_can_store(session, owner, plan, blob.size_bytes, key=blob.key)
        record_blob_now(session, owner, blob)
        with blob_file(blobs, blob.key, prompt.wav_name) as path:
            report = check_take(path)
        row = _record_take(session, project_id, prompt_key(prompt_set, prompt_id), blob, report)
    except BaseException:
        release_blob(session, blobs, owner, blob.key)
        raise
    return TakeOutcome(take_info(row), row.is_current)


def _record_take(
    session: Session, project_id: str, key: str, blob: BlobRef, report: QualityReport
) -> TakeRow:
    current = report.verdict is not Verdict.fail
    row = TakeRow(
        id=new_id(),
        project_id=project_id,
        prompt_id=key,
        blob_key=blob.key,
        sample_rate_hz=report.sample_rate_hz,
        duration_ms=report.duration_ms,
        verdict=report.verdict.value,
        reasons=list(report.reasons),
        quality=report_numbers(report),
        is_current=current,
        created_at=utc_now(),
    )
    previous: list[TakeRow] = []
    with session.begin():
        if current:
            previous = list(
                session.scalars(
                    select(TakeRow).where(
                        TakeRow.project_id == project_id,
                        TakeRow.prompt_id == key,
                        TakeRow.is_current.is_(True),
                    )
                )
            )
            for old in previous:
                old.is_current = False
        session.add(row)
        session.flush()
        for old in previous:
            old.superseded_by = row.id
    return row


def report_numbers(report: QualityReport) -> dict[str, float | int | None]:
    """The report's measurements as JSON numbers (non-finite ones, such as an infinite SNR, as None)."""
    numbers: dict[str, float | int | None] = {}
    for field in fields(report):
        if field.name in _REPORT_SKIPPED:
            continue
        value = getattr(report, field.name)
        if isinstance(value, int):
            numbers[field.name] = value
        else:
            number = float(value)
            numbers[field.name] = number if math.isfinite(number) else None
    return numbers


def get_take(session: Session, take_id: str, owner: str) -> TakeInfo:
    """The take `take_id` of one of `owner`'s projects; NotFound if there is none or it is someone else's."""
    row = session.get(TakeRow, take_id)
    project = session.get(ProjectRow, row.project_id) if row is not None else None
    if row is None or project is None or project.owner != owner:
        raise NotFound(f"There is no take {take_id}; it may belong to a deleted project. Reload the page.")
    return take_info(row)


def take_picture_png(blobs: BlobStore, take: TakeInfo, kind: str, cache_dir: Path) -> bytes:
    """The take's `kind` picture (waveform, spectrogram, f0), drawn once, then read from `cache_dir`."""
    if kind not in PICTURES:
        raise NotFound(f"There is no {kind!r} picture of a take; ask for one of {', '.join(PICTURES)}.")
    cached_path = cache_dir / "pictures" / f"{take.id}.{kind}.png"
    cached = read_cached(cached_path)
    if cached is not None:
        return cached
    with blob_file(blobs, take.blob_key, take.wav_name) as path:
        clip = read_audio(path)
    png = PICTURES[kind](clip)
    write_cached(cached_path, png)
    return png


@contextmanager
def blob_file(blobs: BlobStore, key: str, name: str) -> Iterator[Path]:
    """The blob as a local file called `name` (so messages name it), in a folder removed afterwards."""
    with tempfile.TemporaryDirectory(prefix="voicestudio-") as scratch:
        path = Path(scratch) / PurePosixPath(name).name
        place_blob(blobs, key, path)
        yield path


def place_blob(blobs: BlobStore, key: str, path: Path) -> None:
    """Put the blob at `path`: a link to the stored file where the store is local, else a copy."""
    target = blobs.download_target(key)
    if isinstance(target, Path):
        try:
            path.symlink_to(target.resolve())
            return
        except OSError:
            pass
    with blobs.open(key) as source, path.open("wb") as out:
        shutil.copyfileobj(source, out, COPY_CHUNK_BYTES)
