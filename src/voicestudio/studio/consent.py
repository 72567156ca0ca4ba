"""Consent before a neural voice: the owner reads a fixed statement aloud; the newest recording counts."""

from dataclasses import dataclass
from datetime import datetime
from typing import Final

from sqlalchemy import select
from sqlalchemy.orm import Session

from voicestudio.audio.validate import load_take
from voicestudio.db.models import ConsentRow, new_id
from voicestudio.db.types import utc_now
from voicestudio.domain import Language
from voicestudio.storage.blobs import BlobRef, BlobStore
from voicestudio.studio.gc import record_blob_now, release_blob
from voicestudio.studio.plans import Plan, check_can_store
from voicestudio.studio.rows import project_row
from voicestudio.studio.takes import blob_file

CONSENT_SENTENCES: Final[dict[Language, str]] = {
    Language.en: (
        "I, the owner of this voice, agree that the studio trains a synthetic voice from my recordings."
    ),
    Language.ja: "私はこの声の持ち主です。スタジオが私の録音から合成音声を作ることに同意します。",
}
CONSENT_WAV_NAME: Final = "consent.wav"  # how messages about the upload name it


@dataclass(frozen=True, slots=True)
class ConsentInfo:
    """A recorded consent statement: the sentence read, its audio and when it was recorded."""

    id: str
    project_id: str
    sentence: str
    language: Language
    blob_key: str
    sample_rate_hz: int
    duration_ms: float
    created_at: datetime


def consent_sentence(language: Language) -> str:
    """The statement the owner of a voice in `language` reads aloud before it is trained."""
    return CONSENT_SENTENCES[language]


def add_consent(
    session: Session, blobs: BlobStore, project_id: str, blob: BlobRef, plan: Plan | None = None
) -> ConsentInfo:
    """Check the stored upload as a recording (readable, not silent, sane length) and keep it as consent.

    The blob counts against the project owner's storage; past `plan`'s storage it is refused with
    PlanLimit. A recording the audio checks refuse raises their AudioError. A refused blob is deleted
    again unless something else uses the same bytes.
    """
    owner: str | None = None
    try:
        project = project_row(session, project_id)
        language = Language(project.language)
        owner = project.owner
        if plan is not None:
            check_can_store(session, owner, plan, blob.size_bytes, key=blob.key)
        record_blob_now(session, owner, blob)  # also ends the read while the audio is checked
        with blob_file(blobs, blob.key, CONSENT_WAV_NAME) as path:
            clip = load_take(path)
        row = ConsentRow(
            id=new_id(),
            project_id=project_id,
            sentence=consent_sentence(language),
            language=language.value,
            blob_key=blob.key,
            sample_rate_hz=clip.sample_rate_hz,
            duration_ms=1000.0 * clip.duration_s,
            created_at=utc_now(),
        )
        with session.begin():
            project_row(session, project_id)
            session.add(row)
    except BaseException:
        release_blob(session, blobs, owner, blob.key)
        raise
    return _info(row)


def latest_consent(session: Session, project_id: str) -> ConsentInfo | None:
    """The project's newest consent recording, or None before the first."""
    query = (
        select(ConsentRow)
        .where(ConsentRow.project_id == project_id)
        .order_by(ConsentRow.created_at.desc(), ConsentRow.id.desc())
        .limit(1)
    )
    row = session.scalars(query).first()
    return _info(row) if row is not None else None


def _info(row: ConsentRow) -> ConsentInfo:
    return ConsentInfo(
        id=row.id,
        project_id=row.project_id,
        sentence=row.sentence,
        language=Language(row.language),
        blob_key=row.blob_key,
        sample_rate_hz=row.sample_rate_hz,
        duration_ms=row.duration_ms,
        created_at=row.created_at,
    )
