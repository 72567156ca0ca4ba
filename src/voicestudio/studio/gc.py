"""Blob ownership and garbage collection: who stored which blob (for quotas), and removing unused blobs.

Blobs are content-addressed, so two users who upload the same bytes share one blob. `blob_refs` keeps
one row per (key, owner); a row no table of that owner references any more is dropped, and a blob that
no table and no `blob_refs` row references is deleted from the store. New refs get a grace period, so
an upload between storing its blob and recording its row is never collected.
"""

import logging
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Final

from sqlalchemy import Select, delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from voicestudio.db.models import (
    BlobRefRow,
    ConsentRow,
    JobRow,
    ProjectRow,
    TakeRow,
    VoicebankRow,
    VoiceModelRow,
)
from voicestudio.db.types import utc_now
from voicestudio.storage.blobs import BlobRef, BlobStore, StorageError
from voicestudio.studio.training_state import state_blob_keys

_LOG = logging.getLogger("voicestudio.gc")
DEFAULT_GRACE_S: Final = 3600.0  # a blob younger than this is never collected: its row may be on the way
KEY_BATCH: Final = 500  # keys per IN (...) list


@dataclass(frozen=True, slots=True)
class GcReport:
    """What one collection did: ownership rows dropped, blobs deleted from the store, bytes they held."""

    refs_dropped: int
    blobs_deleted: int
    bytes_freed: int


def record_blob(session: Session, owner: str, ref: BlobRef) -> None:
    """Count the stored blob `ref` against `owner`'s storage (once per owner); the caller commits."""
    if session.get(BlobRefRow, (ref.key, owner)) is None:
        session.add(BlobRefRow(key=ref.key, owner=owner, size_bytes=ref.size_bytes, created_at=utc_now()))


def record_blob_now(session: Session, owner: str, ref: BlobRef) -> None:
    """`record_blob` in a transaction of its own, right after storing, so collection never takes the blob."""
    session.rollback()
    record_blob(session, owner, ref)
    try:
        session.commit()
    except IntegrityError:
        session.rollback()  # the same bytes, stored by the same owner at the same moment: counted once


def training_state_pairs(session: Session, blobs: BlobStore) -> set[tuple[str, str]]:
    """(owner, key) of the dataset and checkpoint each job's saved training state names, so a running
    training keeps them however long it runs."""
    rows = session.execute(
        select(func.coalesce(JobRow.owner, ProjectRow.owner), JobRow.state_key)
        .outerjoin(ProjectRow, ProjectRow.id == JobRow.project_id)
        .where(JobRow.state_key.is_not(None))
    ).all()
    return {(str(owner), key) for owner, state in rows for key in state_blob_keys(blobs, str(state))}


def referenced_pairs(session: Session, keys: Collection[str] | None = None) -> set[tuple[str, str]]:
    """(owner, key) of every blob a row references: takes, voicebanks, consents, models, job states."""
    pairs: set[tuple[str, str]] = set()
    for query in _reference_queries():
        for chunk in _batches(keys):
            bounded = query if chunk is None else query.where(query.selected_columns[1].in_(chunk))
            pairs.update((str(owner), str(key)) for owner, key in session.execute(bounded) if key)
    return pairs


def project_blob_keys(session: Session, project_id: str) -> set[str]:
    """The blob keys the rows of one project reference (its takes, banks, consents, models, jobs)."""
    keys: set[str] = set()
    for query in _reference_queries():
        keys.update(
            str(key) for _owner, key in session.execute(query.where(ProjectRow.id == project_id)) if key
        )
    return keys


def blob_in_use(session: Session, key: str) -> bool:
    """Whether any row or any ownership record still needs the blob `key`."""
    if referenced_pairs(session, [key]):
        return True
    return session.scalar(select(BlobRefRow.key).where(BlobRefRow.key == key).limit(1)) is not None


def release_blob(session: Session, blobs: BlobStore, owner: str | None, key: str) -> None:
    """Undo an upload that was refused: `owner`'s record goes unless a row of theirs uses the blob,
    and the blob goes unless anything else uses it."""
    session.rollback()
    if owner is not None and (owner, key) not in referenced_pairs(session, [key]):
        session.execute(delete(BlobRefRow).where(BlobRefRow.key == key, BlobRefRow.owner == owner))
        session.commit()
    in_use = blob_in_use(session, key)
    session.rollback()
    if not in_use:
        blobs.delete(key)


def collect_garbage(
    session: Session,
    blobs: BlobStore,
    *,
    only_keys: Collection[str] | None = None,
    grace_s: float = DEFAULT_GRACE_S,
    now: datetime | None = None,
) -> GcReport:
    """Drop ownership records no row backs any more, then delete blobs nothing references.

    `only_keys` limits the work to those blobs (after deleting an account or a project); without it
    every record is looked at and the store's own listing (`list_keys`, where the store has one) finds
    blobs that were never recorded. Records and blobs younger than `grace_s` are left alone.
    """
    cutoff = (now or utc_now()) - timedelta(seconds=grace_s)
    session.rollback()
    referenced = referenced_pairs(session, only_keys) | training_state_pairs(session, blobs)
    refs_query = select(BlobRefRow.key, BlobRefRow.owner, BlobRefRow.size_bytes).where(
        BlobRefRow.created_at <= cutoff
    )
    stale: list[tuple[str, str, int]] = []
    for chunk in _batches(only_keys):
        bounded = refs_query if chunk is None else refs_query.where(BlobRefRow.key.in_(chunk))
        stale.extend(
            (key, owner, size)
            for key, owner, size in session.execute(bounded)
            if (owner, key) not in referenced
        )
    for key, owner, _size in stale:
        session.execute(delete(BlobRefRow).where(BlobRefRow.key == key, BlobRefRow.owner == owner))
    session.commit()

    sizes = {key: size for key, _owner, size in stale}
    candidates: dict[str, bool] = dict.fromkeys(sizes, True)  # key -> known to be older than the grace
    if only_keys is not None:
        candidates.update({key: candidates.get(key, grace_s <= 0) for key in only_keys})
    else:
        for ref in _store_keys(blobs):
            if ref.key not in candidates:
                candidates[ref.key] = _older_than(blobs, ref.key, cutoff)
                sizes.setdefault(ref.key, ref.size_bytes)
    referenced_keys = {key for _owner, key in referenced}
    deleted = freed = 0
    for key, old_enough in candidates.items():
        if key in referenced_keys or not old_enough or blob_in_use(session, key):
            continue
        session.rollback()
        try:
            present = blobs.exists(key)
            blobs.delete(key)
        except StorageError as error:
            _LOG.warning("could not delete unused blob %s: %s", key, error.message)
            continue
        if present:
            deleted += 1
            freed += sizes.get(key, 0)
    session.rollback()
    if stale or deleted:
        _LOG.info("garbage collection: %d ownership records dropped, %d blobs deleted", len(stale), deleted)
    return GcReport(refs_dropped=len(stale), blobs_deleted=deleted, bytes_freed=freed)


def stored_bytes(session: Session, owner: str) -> int:
    """The bytes of every blob recorded for `owner` (what counts against their storage)."""
    total = session.scalar(
        select(func.coalesce(func.sum(BlobRefRow.size_bytes), 0)).where(BlobRefRow.owner == owner)
    )
    return int(total or 0)


def _reference_queries() -> list[Select[str | None, str | None]]:
    """One (owner, key) query per column that holds a blob key."""
    owned_by_project = [
        (TakeRow.project_id, TakeRow.blob_key),
        (VoicebankRow.project_id, VoicebankRow.blob_key),
        (ConsentRow.project_id, ConsentRow.blob_key),
        (VoiceModelRow.project_id, VoiceModelRow.onnx_key),
        (VoiceModelRow.project_id, VoiceModelRow.config_key),
    ]
    queries: list[Select[str | None, str | None]] = [
        select(ProjectRow.owner, key_column).join(ProjectRow, ProjectRow.id == project_column)
        for project_column, key_column in owned_by_project
    ]
    queries.append(
        select(func.coalesce(JobRow.owner, ProjectRow.owner), JobRow.state_key)
        .outerjoin(ProjectRow, ProjectRow.id == JobRow.project_id)
        .where(JobRow.state_key.is_not(None))
    )
    return queries


def _batches(keys: Collection[str] | None) -> Iterable[list[str] | None]:
    if keys is None:
        yield None
        return
    ordered = sorted(set(keys))
    for start in range(0, len(ordered), KEY_BATCH):
        yield ordered[start : start + KEY_BATCH]


def _store_keys(blobs: BlobStore) -> Iterable[BlobRef]:
    """Every blob in the store, where the store can list itself; nothing otherwise."""
    list_keys = getattr(blobs, "list_keys", None)
    if list_keys is None:
        return ()
    refs: Iterable[BlobRef] = list_keys()
    return refs


def _older_than(blobs: BlobStore, key: str, cutoff: datetime) -> bool:
    """Whether the blob was stored before `cutoff`; False when the store cannot say (kept to be safe)."""
    modified_at = getattr(blobs, "modified_at", None)
    if callable(modified_at):
        stamp = modified_at(key)
        return isinstance(stamp, datetime) and stamp <= cutoff
    try:
        target = blobs.download_target(key)
    except StorageError:
        return False
    if isinstance(target, Path):
        try:
            return datetime.fromtimestamp(target.stat().st_mtime, UTC) <= cutoff
        except OSError:
            return False
    return False
