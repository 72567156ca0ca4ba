"""One chunk of a train job as the job hands it to whoever trains it (this worker or a rented GPU), and
what comes back. It sits below both `studio` (the job) and `remote` (the rented GPUs), so neither imports
the other; `neural` stays free of the blob store, which these values carry.
"""

import os
import shutil
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from voicestudio.neural.chunk import ChunkOutcome, StepLosses
from voicestudio.neural.values import CheckpointSaved, TrainingProgressCallback, TrainingSettings
from voicestudio.storage.blobs import BlobRef, BlobStore

ARTIFACT_MAX_BYTES: Final = 100 * 1000**3  # a dataset tar or a checkpoint; medium checkpoints are ~1 GB
COPY_CHUNK_BYTES: Final = 1 << 20


@dataclass(frozen=True, slots=True)
class ChunkInputs:
    """One chunk to train: the stored dataset tar and checkpoint (None: none yet), the settings, the step to
    stop at, a scratch folder, and where to report steps and each checkpoint written."""

    blobs: BlobStore
    dataset_key: str
    checkpoint_key: str | None
    settings: TrainingSettings
    until_step: int
    work_dir: Path
    progress: TrainingProgressCallback
    on_checkpoint: CheckpointSaved


@dataclass(frozen=True, slots=True)
class TrainedChunk:
    """Where a chunk left the run: the step and epoch reached, its checkpoint (a local file when it trained
    here, the blob it is already stored as when it trained elsewhere), each step's losses, and where it
    trained when that was not this worker ("NVIDIA H100 80GB HBM3 on runpod")."""

    step: int
    epoch: int
    checkpoint: Path | BlobRef
    steps: tuple[StepLosses, ...]
    device: str | None = None

    @classmethod
    def here(cls, outcome: ChunkOutcome) -> "TrainedChunk":
        """A chunk trained in this process, its checkpoint still a local file."""
        return cls(outcome.step, outcome.epoch, outcome.checkpoint_path, outcome.steps)


ChunkRunner = Callable[[ChunkInputs], TrainedChunk]
"""Trains one chunk somewhere (here, or on a rented GPU) and returns where it left the run."""


def fetch_blob(blobs: BlobStore, key: str, path: Path) -> Path:
    """Copy the blob to `path` (through a temporary name); returns `path`."""
    path.parent.mkdir(parents=True, exist_ok=True)
    part = path.with_name(f"{path.name}.{uuid.uuid4().hex[:8]}.part")
    try:
        with blobs.open(key) as source, part.open("wb") as out:
            shutil.copyfileobj(source, out, COPY_CHUNK_BYTES)
        os.replace(part, path)
    finally:
        part.unlink(missing_ok=True)
    return path
