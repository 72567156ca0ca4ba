"""A training job's saved state in the blob store, so any worker on any host can continue it: a small JSON
manifest naming the dataset tar and the newest checkpoint, and a worker-local cache of extracted datasets.

The manifest's key is what the job records (`JobContext.save_state`); the blobs it names are the job's
until it ends. The cache is disposable: a missing entry is extracted again from the tar.
"""

import contextlib
import json
import os
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from voicestudio.domain.jobs import JsonObject
from voicestudio.errors import VoicestudioError
from voicestudio.neural.chunk import unpack_dataset
from voicestudio.neural.dataset import MANIFEST_NAME, load_dataset
from voicestudio.neural.values import Dataset
from voicestudio.storage.blobs import BlobRef, BlobStore, check_blob_key
from voicestudio.studio.errors import StudioError
from voicestudio.training_chunks import ARTIFACT_MAX_BYTES, fetch_blob

STATE_FORMAT: Final = "voicestudio.training-state/1"
MANIFEST_MAX_BYTES: Final = 64_000
CACHE_FOLDER: Final = "voicestudio-worker-cache"
CACHE_KEEP_S: Final = 24 * 3600.0  # a dataset no run used for a day is removed from the worker's cache


class TrainingStateUnreadable(StudioError):
    """A saved training state that is missing or damaged; the job has to start its training again."""


@dataclass(frozen=True, slots=True)
class TrainingState:
    """Where a training job stands: its dataset tar, its newest checkpoint (None before the first) and that
    checkpoint's step, as blob keys."""

    dataset_key: str
    checkpoint_key: str | None
    step: int

    def to_json(self) -> JsonObject:
        return {
            "format": STATE_FORMAT,
            "dataset": self.dataset_key,
            "checkpoint": self.checkpoint_key,
            "step": self.step,
        }

    @classmethod
    def from_json(cls, data: JsonObject) -> "TrainingState":
        if data.get("format") != STATE_FORMAT:
            raise ValueError(f"format is {data.get('format')!r}, not {STATE_FORMAT!r}")
        checkpoint = data.get("checkpoint")
        return cls(
            dataset_key=check_blob_key(str(data["dataset"])),
            checkpoint_key=check_blob_key(str(checkpoint)) if checkpoint is not None else None,
            step=int(data["step"]),
        )

    @property
    def keys(self) -> tuple[str, ...]:
        """The blobs this state needs."""
        return (self.dataset_key,) if self.checkpoint_key is None else (self.dataset_key, self.checkpoint_key)


def save_training_state(blobs: BlobStore, state: TrainingState) -> str:
    """Store the state's manifest; returns its blob key."""
    text = json.dumps(state.to_json(), sort_keys=True).encode("utf-8")
    return blobs.put_stream([text], MANIFEST_MAX_BYTES).key


def load_training_state(blobs: BlobStore, key: str) -> TrainingState:
    """The state stored under `key`; TrainingStateUnreadable when it or a blob it names is gone or damaged."""
    try:
        state = TrainingState.from_json(json.loads(blobs.read(key).decode("utf-8")))
    except (VoicestudioError, ValueError, KeyError, TypeError, AttributeError, UnicodeDecodeError) as error:
        raise TrainingStateUnreadable(
            f"The saved training state {key} cannot be read ({error}). Start the training again."
        ) from error
    missing = [k for k in state.keys if not blobs.exists(k)]
    if missing:
        raise TrainingStateUnreadable(
            f"The saved training state names files that are gone ({', '.join(missing)}). "
            "Start the training again."
        )
    return state


def state_blob_keys(blobs: BlobStore, key: str) -> tuple[str, ...]:
    """The blobs a saved training state names (dataset tar, checkpoint), for garbage collection to keep;
    nothing when `key` is gone or holds no training state."""
    try:
        return TrainingState.from_json(json.loads(blobs.read(key).decode("utf-8"))).keys
    except (VoicestudioError, ValueError, KeyError, TypeError, AttributeError, UnicodeDecodeError):
        return ()


def store_file(blobs: BlobStore, path: Path) -> BlobRef:
    """Stream a local file (a dataset tar, a checkpoint) into the blob store."""
    with path.open("rb") as source:
        return blobs.put_stream(source, ARTIFACT_MAX_BYTES)


def delete_blobs(blobs: BlobStore, keys: list[str | None], keep: tuple[str | None, ...] = ()) -> None:
    """Delete the blobs of superseded state, sparing any key still in `keep` (content addresses repeat)."""
    for key in dict.fromkeys(keys):
        if key is not None and key not in keep:
            blobs.delete(key)


def worker_cache_dir() -> Path:
    """The worker's cache folder, in the system's temporary folder (`TMPDIR` moves it)."""
    return Path(tempfile.gettempdir()) / CACHE_FOLDER


class DatasetCache:
    """Dataset tars extracted under `root/datasets/<sha256>`: consecutive chunks on a host extract once."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def folder(self, key: str) -> Path:
        """Where the dataset stored under `key` is extracted."""
        return self.root / "datasets" / check_blob_key(key).rsplit("/", 1)[1]

    def dataset(self, blobs: BlobStore, key: str) -> Dataset:
        """The dataset of tar `key`, extracted on first use; marks the entry as used now."""
        folder = self.folder(key)
        if not (folder / MANIFEST_NAME).is_file():
            folder.parent.mkdir(parents=True, exist_ok=True)
            with tempfile.TemporaryDirectory(dir=folder.parent, prefix=".fetch-") as scratch:
                unpack_dataset(fetch_blob(blobs, key, Path(scratch) / "dataset.tar"), folder)
        _touch(folder)
        return load_dataset(folder)

    def adopt(self, key: str, prepared_dir: Path) -> Path:
        """Move a freshly prepared dataset folder into the cache as the entry of tar `key`."""
        folder = self.folder(key)
        folder.parent.mkdir(parents=True, exist_ok=True)
        try:
            prepared_dir.rename(folder)
        except OSError:
            if not folder.is_dir():
                shutil.copytree(prepared_dir, folder)
        _touch(folder)
        return folder

    def drop(self, key: str) -> None:
        """Remove one entry (its job has ended)."""
        shutil.rmtree(self.folder(key), ignore_errors=True)

    def prune(self, older_than_s: float = CACHE_KEEP_S) -> int:
        """Remove entries (and leftovers of killed extractions) unused for `older_than_s`; returns a count."""
        datasets = self.root / "datasets"
        if not datasets.is_dir():
            return 0
        deadline = time.time() - older_than_s
        removed = 0
        for entry in datasets.iterdir():
            try:
                stale = entry.stat().st_mtime < deadline
            except FileNotFoundError:
                continue
            if stale:
                shutil.rmtree(entry, ignore_errors=True)
                removed += 1
        return removed


def _touch(folder: Path) -> None:
    with contextlib.suppress(OSError):
        os.utime(folder)
