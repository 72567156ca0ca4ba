"""One chunk of a training run as a pure step over files: a dataset folder and a checkpoint in, a later
checkpoint and each step's losses out. The studio's worker and a rented GPU run the same function.

Nothing here knows of the database, the blob store or the web; what travels between machines is a dataset
tar (`pack_dataset` / `unpack_dataset`), checkpoint files and the JSON of `settings_to_json` and
`ChunkOutcome.to_json`. Importing this module loads no torch; `train_chunk` does.
"""

import math
import os
import shutil
import tarfile
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from voicestudio.domain.jobs import JsonObject
from voicestudio.neural.dataset import MANIFEST_NAME, load_dataset
from voicestudio.neural.errors import BadDataset, BadSettings
from voicestudio.neural.values import (
    CHECKPOINT_NAME,
    BaseCheckpoint,
    CheckpointSaved,
    Dataset,
    Device,
    Preset,
    TrainingProgress,
    TrainingProgressCallback,
    TrainingSettings,
    ignore_checkpoints,
    ignore_training_progress,
)

PRESETS: Final[dict[str, Preset]] = {"tiny": "tiny", "medium": "medium"}
DEVICES: Final[dict[str, Device]] = {"auto": "auto", "cpu": "cpu", "cuda": "cuda"}
DEFAULT_SEED: Final = TrainingSettings().seed


@dataclass(frozen=True, slots=True)
class StepLosses:
    """The losses of one finished step (finite values only)."""

    step: int
    losses: Mapping[str, float]


@dataclass(frozen=True, slots=True)
class ChunkOutcome:
    """Where a chunk left the run: the step reached, its checkpoint file, and each step it trained."""

    step: int
    epoch: int
    checkpoint_path: Path
    checkpoint_bytes: int
    seconds_per_step: float  # the smoothed pace at the chunk's last step; 0.0 when it trained none
    steps: tuple[StepLosses, ...]  # in order; empty when the checkpoint was already at `until_step`

    def to_json(self) -> JsonObject:
        """The outcome as a remote worker returns it; the checkpoint travels apart, so only its size."""
        return {
            "step": self.step,
            "epoch": self.epoch,
            "checkpoint_bytes": self.checkpoint_bytes,
            "seconds_per_step": self.seconds_per_step,
            "steps": [{"step": s.step, "losses": dict(s.losses)} for s in self.steps],
        }

    @classmethod
    def from_json(cls, data: JsonObject, checkpoint_path: Path) -> "ChunkOutcome":
        """An outcome read back from `to_json`, its checkpoint fetched to `checkpoint_path`."""
        return cls(
            step=int(data["step"]),
            epoch=int(data["epoch"]),
            checkpoint_path=checkpoint_path,
            checkpoint_bytes=int(data["checkpoint_bytes"]),
            seconds_per_step=float(data["seconds_per_step"]),
            steps=tuple(
                StepLosses(int(s["step"]), {str(k): float(v) for k, v in s["losses"].items()})
                for s in data["steps"]
            ),
        )


def train_chunk(
    dataset_dir: Path,
    checkpoint: Path | None,
    settings: TrainingSettings,
    until_step: int,
    out_dir: Path,
    progress: TrainingProgressCallback = ignore_training_progress,
    on_checkpoint: CheckpointSaved = ignore_checkpoints,
) -> ChunkOutcome:
    """Train the prepared set in `dataset_dir` from `checkpoint` (None: from the base or from scratch) until
    `min(until_step, settings.steps)`, into `out_dir/last.ckpt`.

    Progress and ETA count towards `settings.steps`, the whole run. `on_checkpoint` hears of every
    checkpoint written (each `checkpoint_every_steps` and the last), so a caller can keep it safe.
    """
    from voicestudio.neural.training import train_voice  # torch loads only to train

    if until_step < 1:
        raise BadSettings(f"until_step is {until_step}; train until step 1 or later.")
    dataset = load_dataset(dataset_dir)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    last = out_dir / CHECKPOINT_NAME
    if checkpoint is not None and Path(checkpoint).absolute() != last.absolute():
        _copy_file(Path(checkpoint), last)
    seen: list[TrainingProgress] = []

    def record(step: TrainingProgress) -> None:
        seen.append(step)
        progress(step)

    trained = train_voice(
        dataset, out_dir, settings, record, until_step=until_step, on_checkpoint=on_checkpoint
    )
    steps = _last_of_each_step(seen)
    return ChunkOutcome(
        step=trained.step,
        epoch=trained.epoch,
        checkpoint_path=trained.path,
        checkpoint_bytes=trained.size_bytes,
        seconds_per_step=seen[-1].seconds_per_step if seen else 0.0,
        steps=steps,
    )


def settings_to_json(settings: TrainingSettings) -> JsonObject:
    """Training settings as JSON for another machine; `cache_dir` is the receiver's own, so it stays out."""
    base = settings.base
    return {
        "preset": settings.preset,
        "steps": settings.steps,
        "batch_size": settings.batch_size,
        "device": settings.device,
        "precision": settings.precision,
        "checkpoint_every_steps": settings.checkpoint_every_steps,
        "base": None if base is None else {"location": base.location, "sha256": base.sha256},
        "seed": settings.seed,
    }


def settings_from_json(data: JsonObject, cache_dir: Path | None = None) -> TrainingSettings:
    """The settings `settings_to_json` wrote, with this machine's `cache_dir` for downloaded bases."""
    try:
        preset, device = PRESETS[str(data["preset"])], DEVICES[str(data["device"])]
        base = data.get("base")
        return TrainingSettings(
            preset=preset,
            steps=int(data["steps"]),
            batch_size=int(data["batch_size"]),
            device=device,
            precision=str(data["precision"]),
            checkpoint_every_steps=int(data["checkpoint_every_steps"]),
            base=BaseCheckpoint(str(base["location"]), str(base["sha256"])) if base else None,
            cache_dir=cache_dir,
            seed=int(data.get("seed", DEFAULT_SEED)),
        )
    except (KeyError, TypeError, ValueError) as error:
        raise BadSettings(f"the training settings are incomplete or malformed ({error!r}).") from error


def pack_dataset(dataset: Dataset, tar_path: Path) -> Path:
    """Write the prepared set (wavs, metadata, piper's feature cache, config, manifest) as an uncompressed
    tar whose members sit at its root; returns `tar_path`."""
    part = tar_path.with_name(tar_path.name + ".part")
    try:
        with tarfile.open(part, "w", format=tarfile.PAX_FORMAT) as tar:
            for path in sorted(dataset.root_dir.rglob("*")):
                if path.is_file() and not path.is_symlink():
                    tar.add(path, arcname=path.relative_to(dataset.root_dir).as_posix(), recursive=False)
        os.replace(part, tar_path)
    finally:
        part.unlink(missing_ok=True)
    return tar_path


def unpack_dataset(tar_path: Path, dataset_dir: Path) -> Dataset:
    """Extract a `pack_dataset` tar into `dataset_dir`, which appears only once whole; an existing
    complete folder is used as it is (another run extracted it first)."""
    dataset_dir = Path(dataset_dir)
    if (dataset_dir / MANIFEST_NAME).is_file():
        return load_dataset(dataset_dir)
    dataset_dir.parent.mkdir(parents=True, exist_ok=True)
    part = dataset_dir.with_name(f".{dataset_dir.name}.{uuid.uuid4().hex[:8]}.part")
    try:
        with tarfile.open(tar_path, "r:") as tar:
            tar.extractall(part, filter="data")  # no absolute paths, links out or devices
        if not (part / MANIFEST_NAME).is_file():
            raise BadDataset.at(tar_path, f"the archive has no {MANIFEST_NAME}")
        try:
            part.rename(dataset_dir)
        except OSError:
            if not (dataset_dir / MANIFEST_NAME).is_file():
                raise
    except tarfile.TarError as error:
        raise BadDataset.at(tar_path, f"not a readable tar: {error}") from error
    finally:
        shutil.rmtree(part, ignore_errors=True)
    return load_dataset(dataset_dir)


def _last_of_each_step(seen: list[TrainingProgress]) -> tuple[StepLosses, ...]:
    """One entry per step with its finite losses; a step reported twice keeps its later report."""
    by_step: dict[int, Mapping[str, float]] = {}
    for report in seen:
        by_step[report.step] = {k: float(v) for k, v in report.losses.items() if math.isfinite(v)}
    return tuple(StepLosses(step, losses) for step, losses in sorted(by_step.items()))


def _copy_file(source: Path, target: Path) -> None:
    """Copy `source` to `target` through a temporary name, so a reader never sees half of it."""
    part = target.with_name(target.name + ".part")
    try:
        shutil.copyfile(source, part)
        os.replace(part, target)
    finally:
        part.unlink(missing_ok=True)
