"""The studio's trained voice models: one `voice_models` row each, with piper's `model.onnx` and
`model.onnx.json` as blobs and the card the page shows; listed, read and downloaded for the owner of the
model's project. The local user also sees the models folder's models (`studio.models`).
"""

import dataclasses
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from voicestudio.db.models import ProjectRow, VoiceModelRow
from voicestudio.db.types import utc_now
from voicestudio.domain.jobs import JsonObject
from voicestudio.neural.values import ExportedModel
from voicestudio.storage.blobs import BlobStore
from voicestudio.studio.errors import NotFound, StudioError
from voicestudio.studio.gc import record_blob
from voicestudio.studio.models import (
    CONFIG_FILE,
    ModelCard,
    ModelFileName,
    ModelUnreadable,
    check_model_id,
    get_folder_model,
    list_folder_models,
    model_card,
    model_file,
    parse_json_object,
)
from voicestudio.studio.rows import project_row
from voicestudio.studio.training_state import store_file

_CARD_FIELDS = frozenset(field.name for field in dataclasses.fields(ModelCard)) - {"id", "model_bytes"}


def store_voice_model(
    sessions: sessionmaker[Session],
    blobs: BlobStore,
    model_id: str,
    project_id: str,
    job_id: str | None,
    exported: ExportedModel,
    card: JsonObject,
) -> ModelCard:
    """Store an exported model's files as blobs (counted against the project owner's storage) and record
    it under `model_id` with its card; the piper config's facts go in the card, so listing reads no blob.
    A record the same job stored before is kept."""
    config = parse_json_object(exported.config_path.read_bytes(), f"{model_id}/{CONFIG_FILE}")
    shown = model_card(check_model_id(model_id), config, card, exported.size_bytes)
    onnx = store_file(blobs, exported.onnx_path)
    config_blob = store_file(blobs, exported.config_path)
    with sessions.begin() as session:
        existing = session.get(VoiceModelRow, model_id)
        if existing is not None and existing.job_id == job_id:
            return row_card(existing)
        if existing is not None:
            raise StudioError(f"The model id {model_id} is taken by another training. Train the voice again.")
        owner = project_row(session, project_id).owner  # NotFound once deleted
        record_blob(session, owner, onnx)
        record_blob(session, owner, config_blob)
        row = VoiceModelRow(
            id=model_id,
            project_id=project_id,
            job_id=job_id,
            onnx_key=onnx.key,
            config_key=config_blob.key,
            model_bytes=onnx.size_bytes,
            card={**card, **_card_json(shown)},
            created_at=utc_now(),
        )
        session.add(row)
    return shown


def job_voice_model(session: Session, job_id: str) -> ModelCard | None:
    """The model training job `job_id` stored, if it got that far."""
    row = session.scalar(select(VoiceModelRow).where(VoiceModelRow.job_id == job_id).limit(1))
    return row_card(row) if row is not None else None


def row_card(row: VoiceModelRow) -> ModelCard:
    """The card of a stored model, from its row alone."""
    fields: dict[str, Any] = {key: value for key, value in (row.card or {}).items() if key in _CARD_FIELDS}
    try:
        return ModelCard(id=row.id, model_bytes=row.model_bytes, **fields)
    except TypeError as error:
        raise ModelUnreadable(
            f"The card of model {row.id} is incomplete ({error}). Train it again."
        ) from error


def list_voice_models(session: Session, owner: str, folder: Path | None = None) -> list[ModelCard]:
    """The owner's models, newest first, then those of the models folder (when given) by id."""
    rows = session.scalars(
        select(VoiceModelRow)
        .join(ProjectRow, ProjectRow.id == VoiceModelRow.project_id)
        .where(ProjectRow.owner == owner)
        .order_by(VoiceModelRow.created_at.desc(), VoiceModelRow.id)
    )
    cards = [row_card(row) for row in rows]
    if folder is not None:
        stored = {card.id for card in cards}
        cards += [card for card in list_folder_models(folder) if card.id not in stored]
    return cards


def get_voice_model(session: Session, owner: str, model_id: str, folder: Path | None = None) -> ModelCard:
    """One model's card; NotFound when the owner has no such model (someone else's included)."""
    row = _owned_row(session, owner, model_id)
    if row is not None:
        return row_card(row)
    if folder is None:
        raise _not_found(model_id)
    return get_folder_model(folder, model_id)


def voice_model_file(
    session: Session,
    blobs: BlobStore,
    owner: str,
    model_id: str,
    name: ModelFileName,
    folder: Path | None = None,
) -> Path | str:
    """Where to fetch a model's ONNX file or piper config: a local file, or a URL (a presigned S3 link)."""
    row = _owned_row(session, owner, model_id)
    if row is not None:
        return blobs.download_target(row.config_key if name == CONFIG_FILE else row.onnx_key)
    if folder is None:
        raise _not_found(model_id)
    return model_file(folder, model_id, name)


def voice_model_config(
    session: Session, blobs: BlobStore, owner: str, model_id: str, folder: Path | None = None
) -> tuple[str, dict[str, Any]]:
    """A model's piper config and a tag that changes whenever the config does (its blob key, or the
    folder file's path, size and time), for callers that cache what they build from it."""
    row = _owned_row(session, owner, model_id)
    if row is not None:
        return row.config_key, parse_json_object(blobs.read(row.config_key), f"{model_id}/{CONFIG_FILE}")
    if folder is None:
        raise _not_found(model_id)
    path = model_file(folder, model_id, CONFIG_FILE)
    try:
        status, data = path.stat(), path.read_bytes()
    except OSError as error:
        raise ModelUnreadable(f"{model_id}/{CONFIG_FILE}: {error}. Export the model again.") from error
    tag = f"{path}:{status.st_size}:{status.st_mtime_ns}"
    return tag, parse_json_object(data, f"{model_id}/{CONFIG_FILE}")


def _owned_row(session: Session, owner: str, model_id: str) -> VoiceModelRow | None:
    check_model_id(model_id)
    return session.scalar(
        select(VoiceModelRow)
        .join(ProjectRow, ProjectRow.id == VoiceModelRow.project_id)
        .where(VoiceModelRow.id == model_id, ProjectRow.owner == owner)
    )


def _card_json(card: ModelCard) -> JsonObject:
    return {key: value for key, value in dataclasses.asdict(card).items() if key in _CARD_FIELDS}


def _not_found(model_id: str) -> NotFound:
    return NotFound(f"There is no model {model_id!r}; it may have been deleted. Pick one from /api/models.")
