"""The nouns of the neural part: takes to learn from, a prepared dataset, settings, checkpoints, models."""

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from voicestudio.audio.io import AudioClip
from voicestudio.domain.alignment import Alignment
from voicestudio.domain.language import Language
from voicestudio.domain.progress import Progress

Preset = Literal["tiny", "medium"]
Device = Literal["auto", "cpu", "cuda"]
CHECKPOINT_NAME = "last.ckpt"  # the checkpoint a training folder holds, and resumes from


@dataclass(frozen=True, slots=True)
class Utterance:
    """One take to learn from: a file or samples in memory, what was said, and optionally its phone times."""

    audio: Path | AudioClip
    text: str
    name: str = ""  # shown in messages; the file name when empty
    alignment: Alignment | None = None  # when given, the take is cut to its first and last phone

    @property
    def label(self) -> str:
        if self.name:
            return self.name
        return self.audio.name if isinstance(self.audio, Path) else "take"


@dataclass(frozen=True, slots=True)
class Dataset:
    """A training set in piper's layout under `root_dir`: metadata.csv, wavs/, cache/, config.json."""

    root_dir: Path
    language: Language
    sample_rate_hz: int
    utterance_count: int
    duration_s: float
    espeak_voice: str
    phoneme_type: str  # piper's PhonemeType value: "espeak", "japanese"

    @property
    def csv_path(self) -> Path:
        return self.root_dir / "metadata.csv"

    @property
    def wav_dir(self) -> Path:
        return self.root_dir / "wavs"

    @property
    def cache_dir(self) -> Path:
        return self.root_dir / "cache"

    @property
    def config_path(self) -> Path:
        return self.root_dir / "config.json"


@dataclass(frozen=True, slots=True)
class BaseCheckpoint:
    """A checkpoint to fine-tune from: a file path or an http(s) URL, and the sha256 it must have."""

    location: str
    sha256: str

    @property
    def is_url(self) -> bool:
        return self.location.startswith(("http://", "https://"))


@dataclass(frozen=True, slots=True)
class TrainingSettings:
    """How to train: size preset (ignored when a base gives the size), steps, batch, device, precision."""

    preset: Preset = "medium"
    steps: int = 2000  # total optimizer steps of the run; a resumed run stops at the same total
    batch_size: int = 16
    device: Device = "auto"
    precision: str = "32-true"  # Lightning's precision names: "32-true", "bf16-mixed", ...
    checkpoint_every_steps: int = 100
    base: BaseCheckpoint | None = None
    cache_dir: Path | None = None  # where downloaded base checkpoints are kept; `out_dir/../base-cache`
    seed: int = 1234


@dataclass(frozen=True, slots=True)
class TrainingProgress(Progress):
    """One finished training step: losses, speed and the step of the newest checkpoint on disk."""

    epoch: int = 0
    losses: Mapping[str, float] = field(default_factory=dict)
    seconds_per_step: float = 0.0
    eta_s: float = 0.0
    checkpoint_step: int = 0  # 0 until the first checkpoint of the run is written

    @property
    def step(self) -> int:
        return self.done


TrainingProgressCallback = Callable[[TrainingProgress], None]


def ignore_training_progress(_: TrainingProgress) -> None:
    """A callback for callers that do not show training progress."""


CheckpointSaved = Callable[[Path, int], None]
"""Called with the checkpoint file and its step each time training writes one (to copy it elsewhere)."""


def ignore_checkpoints(_path: Path, _step: int) -> None:
    """A callback for callers that keep the checkpoint where training writes it."""


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """A training checkpoint on disk (Lightning format, as piper writes it) and the step it holds."""

    path: Path
    step: int
    epoch: int
    size_bytes: int


@dataclass(frozen=True, slots=True)
class ExportedModel:
    """A voice ready to run: `model.onnx` + `model.onnx.json` (piper's config format)."""

    onnx_path: Path
    config_path: Path
    sample_rate_hz: int
    language: Language
    size_bytes: int
