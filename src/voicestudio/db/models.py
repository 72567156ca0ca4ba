"""The studio's tables as typed SQLAlchemy models; portable SQL only (SQLite alone, PostgreSQL at scale)."""

import uuid
from datetime import datetime
from typing import Any, Final

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from voicestudio.db.types import UtcDateTime, utc_now

# Named constraints, so later migrations can alter them the same way on every backend.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
ID_LENGTH = 36  # a uuid4 as text
LOCAL_OWNER: Final = "local"  # the user id of a studio without accounts, who owns every row then
KEY_LENGTH = 100  # blob keys are 78 characters


def new_id() -> str:
    """A fresh row id (uuid4 text), made by the application so stateless servers need no sequence."""
    return str(uuid.uuid4())


class Base(DeclarativeBase):
    """Every table of the studio."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class ProjectRow(Base):
    """A voice being made: its language and the prompt sets the singer records."""

    __tablename__ = "projects"

    id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True, default=new_id)
    owner: Mapped[str] = mapped_column(String(255), index=True, server_default=LOCAL_OWNER)  # a user id
    name: Mapped[str] = mapped_column(String(200))
    language: Mapped[str] = mapped_column(String(8))  # Language value: "ja", "en"
    prompt_sets: Mapped[list[str]] = mapped_column(JSON, default=list)  # prompt set names, in order
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utc_now)


class TakeRow(Base):
    """One recording of a prompt; a retake is a new row, and the old stays current until the new passes."""

    __tablename__ = "takes"
    __table_args__ = (Index("ix_takes_project_prompt", "project_id", "prompt_id"),)

    id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True, default=new_id)
    project_id: Mapped[str] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), index=True)
    prompt_id: Mapped[str] = mapped_column(String(100))
    blob_key: Mapped[str] = mapped_column(String(KEY_LENGTH))
    sample_rate_hz: Mapped[int] = mapped_column(Integer)
    duration_ms: Mapped[float] = mapped_column(Float)
    verdict: Mapped[str | None] = mapped_column(String(8))  # Verdict value, None until checked
    reasons: Mapped[list[str]] = mapped_column(JSON, default=list)
    quality: Mapped[dict[str, Any] | None] = mapped_column(JSON)  # QualityReport fields
    is_current: Mapped[bool] = mapped_column(Boolean, default=False)  # the take used for this prompt
    superseded_by: Mapped[str | None] = mapped_column(ForeignKey("takes.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utc_now)


class OtoLineRow(Base):
    """One oto.ini line of a project, in UTAU's coordinates (ms; cutoff negative = length from offset)."""

    __tablename__ = "oto_lines"

    id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True, default=new_id)
    project_id: Mapped[str] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)  # line order in oto.ini
    wav_name: Mapped[str] = mapped_column(String(255))
    alias: Mapped[str] = mapped_column(String(255))
    offset_ms: Mapped[float] = mapped_column(Float)
    consonant_ms: Mapped[float] = mapped_column(Float)
    cutoff_ms: Mapped[float] = mapped_column(Float)
    preutterance_ms: Mapped[float] = mapped_column(Float)
    overlap_ms: Mapped[float] = mapped_column(Float)
    confidence: Mapped[float] = mapped_column(Float, default=1.0)
    note: Mapped[str] = mapped_column(String(500), default="")
    edited: Mapped[bool] = mapped_column(Boolean, default=False)  # changed by hand: regeneration keeps it


class JobRow(Base):
    """A queued piece of work and all a watcher or a retry needs; a worker leases it by `worker_id`."""

    __tablename__ = "jobs"
    __table_args__ = (Index("ix_jobs_state_created_at", "state", "created_at"),)

    id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True, default=new_id)
    owner: Mapped[str] = mapped_column(String(255), index=True, server_default=LOCAL_OWNER)
    # SET NULL: a deleted project's jobs stay, so the GPU time they used still counts for its owner
    project_id: Mapped[str | None] = mapped_column(ForeignKey("projects.id", ondelete="SET NULL"), index=True)
    kind: Mapped[str] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(16))  # JobState value
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    error_message: Mapped[str | None] = mapped_column(Text)
    progress_fraction: Mapped[float] = mapped_column(Float, default=0.0)
    progress_stage: Mapped[str] = mapped_column(String(100), default="")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    max_attempts: Mapped[int] = mapped_column(Integer, default=3)
    cancel_requested: Mapped[bool] = mapped_column(Boolean, default=False)
    worker_id: Mapped[str | None] = mapped_column(String(200))
    version: Mapped[int] = mapped_column(Integer, default=1)  # bumped by every change (compare-and-set)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utc_now)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utc_now)
    started_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    heartbeat_at: Mapped[datetime | None] = mapped_column(UtcDateTime)  # the running worker is alive
    progress_detail: Mapped[dict[str, Any] | None] = mapped_column(JSON)  # kind-specific: losses, ETA, ...
    state_key: Mapped[str | None] = mapped_column(String(KEY_LENGTH))  # saved state blob: a checkpoint
    device: Mapped[str | None] = mapped_column(String(16))  # where it last ran: "cpu", "cuda", "runpod"...
    run_s: Mapped[float] = mapped_column(Float, default=0.0, server_default="0")  # wall s, all attempts
    gpu_s: Mapped[float] = mapped_column(Float, default=0.0, server_default="0")  # of run_s, on a GPU


class VoicebankRow(Base):
    """A built voicebank zip of a project, and the job that built it."""

    __tablename__ = "voicebanks"

    id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True, default=new_id)
    project_id: Mapped[str] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), index=True)
    blob_key: Mapped[str] = mapped_column(String(KEY_LENGTH))
    job_id: Mapped[str | None] = mapped_column(ForeignKey("jobs.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utc_now)


class ConsentRow(Base):
    """A recorded consent statement of a project: the sentence read and its audio; the newest one counts."""

    __tablename__ = "consents"

    id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True, default=new_id)
    project_id: Mapped[str] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), index=True)
    sentence: Mapped[str] = mapped_column(Text)
    language: Mapped[str] = mapped_column(String(8))  # Language value: "ja", "en"
    blob_key: Mapped[str] = mapped_column(String(KEY_LENGTH))
    sample_rate_hz: Mapped[int] = mapped_column(Integer)
    duration_ms: Mapped[float] = mapped_column(Float)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utc_now)


class VoiceModelRow(Base):
    """An exported neural voice of a project: piper's model.onnx and model.onnx.json as blobs, its card."""

    __tablename__ = "voice_models"

    id: Mapped[str] = mapped_column(String(KEY_LENGTH), primary_key=True)  # readable: <project>-<job>
    project_id: Mapped[str] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), index=True)
    job_id: Mapped[str | None] = mapped_column(ForeignKey("jobs.id", ondelete="SET NULL"))
    onnx_key: Mapped[str] = mapped_column(String(KEY_LENGTH))
    config_key: Mapped[str] = mapped_column(String(KEY_LENGTH))
    model_bytes: Mapped[int] = mapped_column(BigInteger)
    card: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # size, steps, training time, device
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utc_now)


class UserRow(Base):
    """An account: e-mail, argon2 password hash and plan; `projects.owner` and `jobs.owner` hold its id."""

    __tablename__ = "users"

    id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True, default=new_id)
    email: Mapped[str] = mapped_column(String(320), unique=True)  # stored lower-case
    password_hash: Mapped[str] = mapped_column(String(200))
    plan: Mapped[str] = mapped_column(String(40))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utc_now)


class ApiTokenRow(Base):
    """A token the CLI sends as `Authorization: Bearer`; only its sha256 is stored."""

    __tablename__ = "api_tokens"

    id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True, default=new_id)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    token_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utc_now)
    last_used_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class WebSessionRow(Base):
    """A signed-in browser: the sha256 of its cookie, its CSRF token and when it ends."""

    __tablename__ = "web_sessions"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)  # sha256 hex of the cookie value
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utc_now)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime)


class BlobRefRow(Base):
    """Who stored a blob and how large it is: quotas count these until garbage collection drops them."""

    __tablename__ = "blob_refs"

    key: Mapped[str] = mapped_column(String(KEY_LENGTH), primary_key=True)
    owner: Mapped[str] = mapped_column(String(255), primary_key=True, index=True)
    size_bytes: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utc_now)
