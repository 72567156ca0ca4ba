"""Blob ownership and garbage collection: who stored which blob (for quotas), and removing unused blobs.

Blobs are content-addressed, so two users who upload the same bytes share one blob. `blob_refs` keeps
one row per (key, owner); a row no table of that owner references any more is dropped, and a blob that
no table and no `blob_refs` row references is deleted from the store. New refs and blobs get a grace
period, so an upload between storing its blob and recording its row is never collected; storing bytes
that are already there refreshes the blob's age (`BlobStore.modified_at`) for the same reason.
"""

import json
import logging
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
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
from voicestudio.domain.jobs import JobState
from voicestudio.errors import VoicestudioError
from voicestudio.storage.blobs import BlobRef, BlobStore, StorageError
from voicestudio.studio.training_state import MANIFEST_MAX_BYTES, TrainingState, state_blob_keys

_LOG = logging.getLogger("voicestudio.gc")
DEFAULT_GRACE_S: Final = 3600.0  # a blob younger than this is never collected: its row may be on the way
TARGETED_GRACE_S: Final = 300.0  # after a deletion: bytes stored again this recently may be a new upload
KEY_BATCH: Final = 500  # keys per IN (...) list
UNFINISHED_STATES: Final = (JobState.queued.value, JobState.running.value)  # their training state is kept


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


def training_state_pairs(
    session: Session, blobs: BlobStore, owners: Collection[str] | None = None
) -> set[tuple[str, str]]:
    """(owner, key) of the dataset and checkpoint each unfinished job's saved training state names, so a
    training keeps them however long it runs; a failed or cancelled one gives them up.

    `owners` limits the manifests read to those owners' jobs (a targeted collection), so deleting one
    project never reads every user's manifests.
    """
    query = (
        select(func.coalesce(JobRow.owner, ProjectRow.owner), JobRow.state_key)
        .outerjoin(ProjectRow, ProjectRow.id == JobRow.project_id)
        .where(JobRow.state_key.is_not(None), JobRow.state.in_(UNFINISHED_STATES))
    )
    if owners is not None:
        if not owners:
            return set()
        query = query.where(func.coalesce(JobRow.owner, ProjectRow.owner).in_(sorted(owners)))
    rows = session.execute(query).all()
    return {(str(owner), key) for owner, state in rows for key in state_blob_keys(blobs, str(state))}


def with_training_state(blobs: BlobStore, keys: Collection[str]) -> dict[str, str | None]:
    """`keys`, plus the dataset tar and checkpoint of each training-state manifest among them.

    Maps each key to the manifest that named it (None for the keys given), so a collection can tell
    the blobs a deleted job left from a concurrent training's identical ones.
    """
    expanded: dict[str, str | None] = dict.fromkeys(keys)
    for key in sorted(expanded):
        for named in _manifest_keys(blobs, key):
            expanded.setdefault(named, key)
    return expanded


def referenced_pairs(session: Session, keys: Collection[str] | None = None) -> set[tuple[str, str]]:
    """(owner, key) of every blob a row references: takes, voicebanks, consents, models, job states."""
    pairs: set[tuple[str, str]] = set()
    for query in _reference_queries():
        for chunk in _batches(keys):
            bounded = query if chunk is None else query.where(query.selected_columns[1].in_(chunk))
            pairs.update((str(owner), str(key)) for owner, key in session.execute(bounded) if key)
    return pairs


def project_blob_keys(session: Session, project_id: str) -> set[str]:
    """The blob keys the rows of one project reference (its takes, banks, consents, models, jobs).

    A job's key is its training-state manifest; `collect_garbage(only_keys=...)` reads it and collects
    the dataset tar and checkpoint it names too.
    """
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
    deleted_owner: str | None = None,
    grace_s: float = DEFAULT_GRACE_S,
    now: datetime | None = None,
) -> GcReport:
    """Drop ownership records no row backs any more, then delete blobs nothing references.

    Without `only_keys` every record is looked at and the store's listing finds blobs never recorded.
    With it (after deleting an account or a project: the keys its rows referenced) the work is limited to
    those blobs and to the dataset tars and checkpoints of the training-state manifests among them.

    Records and blobs younger than `grace_s` stay: an upload stores its blob (or, for the same bytes,
    refreshes its age) before its record is made. `deleted_owner` names whose rows were just deleted:
    their unbacked records go at once, and so does a blob among `only_keys` not stored again since
    their newest record of it (a dataset or checkpoint: since the manifest naming it was stored).
    """
    cutoff = (now or utc_now()) - timedelta(seconds=grace_s)
    session.rollback()
    named_by: dict[str, str | None] = {} if only_keys is None else with_training_state(blobs, only_keys)
    keys = None if only_keys is None else set(named_by)
    refs = _refs(session, keys)
    if keys is None:
        referenced = referenced_pairs(session) | training_state_pairs(session, blobs)
    else:
        referenced = referenced_pairs(session, keys)
        owners = {owner for _key, owner, _size, _at in refs} | {owner for owner, _key in referenced}
        if deleted_owner is not None:
            owners.add(deleted_owner)  # their other projects' trainings may use the same dataset tar
        referenced |= training_state_pairs(session, blobs, owners)
    own_recorded: dict[str, datetime] = {}
    stale: list[tuple[str, str, int]] = []
    for key, owner, size, created_at in refs:
        if owner == deleted_owner:
            own_recorded[key] = max(created_at, own_recorded.get(key, created_at))
        unbacked = (owner, key) not in referenced
        if unbacked and (created_at <= cutoff or owner == deleted_owner):
            stale.append((key, owner, size))
    for key, owner, _size in stale:
        session.execute(delete(BlobRefRow).where(BlobRefRow.key == key, BlobRefRow.owner == owner))
    session.commit()

    sizes = {key: size for key, _owner, size, _at in refs}
    if keys is None:
        for ref in blobs.list_keys():
            sizes.setdefault(ref.key, ref.size_bytes)
    referenced_keys = {key for _owner, key in referenced}
    candidates = sorted((set(sizes) | set(named_by)) - referenced_keys)
    manifests = {manifest for manifest in named_by.values() if manifest is not None}
    stored_at = {key: blobs.modified_at(key) for key in sorted(set(candidates) | manifests)}
    deleted = freed = 0
    for key in candidates:
        stamp = stored_at[key]
        if stamp is None:
            continue  # not in the store
        manifest = named_by.get(key)
        since = stored_at[manifest] if manifest is not None else own_recorded.get(key)
        if stamp > cutoff and (since is None or stamp > since):
            continue  # stored (again) within the grace: its record may be on the way
        if blob_in_use(session, key):
            continue
        session.rollback()
        try:
            blobs.delete(key)
        except StorageError as error:
            _LOG.warning("could not delete unused blob %s: %s", key, error.message)
            continue
        deleted += 1
        freed += sizes.get(key, 0)
    session.rollback()
    if stale or deleted:
        _LOG.info("garbage collection: %d ownership records dropped, %d blobs deleted", len(stale), deleted)
    return GcReport(refs_dropped=len(stale), blobs_deleted=deleted, bytes_freed=freed)


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


def _refs(session: Session, keys: Collection[str] | None) -> list[tuple[str, str, int, datetime]]:
    """(key, owner, size, created_at) of the ownership records of `keys`, or of all."""
    query = select(BlobRefRow.key, BlobRefRow.owner, BlobRefRow.size_bytes, BlobRefRow.created_at)
    refs: list[tuple[str, str, int, datetime]] = []
    for chunk in _batches(keys):
        bounded = query if chunk is None else query.where(BlobRefRow.key.in_(chunk))
        refs.extend((str(k), str(o), int(n), at) for k, o, n, at in session.execute(bounded))
    return refs


def _batches(keys: Collection[str] | None) -> Iterable[list[str] | None]:
    if keys is None:
        yield None
        return
    ordered = sorted(set(keys))
    for start in range(0, len(ordered), KEY_BATCH):
        yield ordered[start : start + KEY_BATCH]


def _manifest_keys(blobs: BlobStore, key: str) -> tuple[str, ...]:
    """The blobs `key` names if it holds a training-state manifest; nothing otherwise. Reads at most a
    manifest's size, so a take or a model among the keys costs one short read."""
    try:
        with blobs.open(key) as blob:
            head = blob.read(MANIFEST_MAX_BYTES + 1)
        if len(head) > MANIFEST_MAX_BYTES or not head.lstrip().startswith(b"{"):
            return ()
        return TrainingState.from_json(json.loads(head.decode("utf-8"))).keys
    except (VoicestudioError, ValueError, KeyError, TypeError, AttributeError, UnicodeDecodeError):
        return ()
