"""Neural voices of a project: is it ready, what was asked, how the run is going; and the CLI's runs.

The `train` job (`studio.voice_training`) keeps its state and model in the blob store. The CLI trains in a
run folder that holds `dataset/` and `checkpoints/last.ckpt` (`train_voice_run`, `export_voice`), so
training the same folder again resumes from its last checkpoint.
"""

import json
import logging
import math
import re
import shutil
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from sqlalchemy.orm import Session

from voicestudio.db.models import TakeRow
from voicestudio.db.types import utc_now
from voicestudio.domain import Language, Progress, PromptSetKind
from voicestudio.domain.jobs import JsonObject
from voicestudio.neural.dataset import EDGE_KEEP_MS, MANIFEST_NAME, load_dataset
from voicestudio.neural.engine import VoiceEngine
from voicestudio.neural.errors import BaseCheckpointError
from voicestudio.neural.values import (
    BaseCheckpoint,
    Checkpoint,
    Dataset,
    Device,
    ExportedModel,
    Preset,
    TrainingProgress,
    TrainingSettings,
    Utterance,
)
from voicestudio.studio.catalog import prompt_key
from voicestudio.studio.consent import consent_sentence, latest_consent
from voicestudio.studio.errors import NothingToDo
from voicestudio.studio.models import CARD_FILE
from voicestudio.studio.rows import current_takes, project_row
from voicestudio.text.prompts import list_prompt_sets, load_prompt_set

HISTORY_MAX_STEPS: Final = 500  # steps of loss history a job keeps for the page's chart
PREPARE_STAGE: Final = "dataset"
SAVED_STAGE: Final = "checkpoint saved"  # a chunk ended; the job waits for its next run
EXPORT_STAGE: Final = "export"
_SHA256: Final = re.compile(r"[0-9a-fA-F]{64}")

DetailedProgress = Callable[[Progress, JsonObject | None], None]
"""A progress callback that also takes the training detail (losses, ETA, history): `JobContext.progress`."""


class NotReadyToTrain(NothingToDo):
    """A voice cannot be trained yet: no consent recorded, or too little sentence audio."""


@dataclass(frozen=True, slots=True)
class TrainingReadiness:
    """Whether a project can train a voice, the sentence audio it has and needs (s), and what is missing."""

    ready: bool
    have_s: float
    needed_s: float
    consent: bool
    sentence: str
    message: str


@dataclass(frozen=True, slots=True)
class TrainRequest:
    """What the user asked for: size preset, steps, device, and an optional base checkpoint to fine-tune."""

    preset: Preset = "medium"
    steps: int = 2000
    device: Device = "auto"
    base: BaseCheckpoint | None = None
    checkpoint_every_steps: int = 100
    batch_size: int = 16
    precision: str = "32-true"

    def settings(self, base_cache_dir: Path | None = None) -> TrainingSettings:
        """The engine's settings for this request; downloaded bases are kept in `base_cache_dir`."""
        return TrainingSettings(
            preset=self.preset,
            steps=self.steps,
            batch_size=self.batch_size,
            device=self.device,
            precision=self.precision,
            checkpoint_every_steps=self.checkpoint_every_steps,
            base=self.base,
            cache_dir=base_cache_dir,
        )

    def to_json(self) -> JsonObject:
        base = None if self.base is None else {"location": self.base.location, "sha256": self.base.sha256}
        return {
            "preset": self.preset,
            "steps": self.steps,
            "device": self.device,
            "base": base,
            "checkpoint_every_steps": self.checkpoint_every_steps,
            "batch_size": self.batch_size,
            "precision": self.precision,
        }

    @classmethod
    def from_json(cls, data: JsonObject) -> "TrainRequest":
        base = data.get("base")
        return cls(
            preset=data["preset"],
            steps=int(data["steps"]),
            device=data["device"],
            base=BaseCheckpoint(str(base["location"]), str(base["sha256"])) if base else None,
            checkpoint_every_steps=int(data["checkpoint_every_steps"]),
            batch_size=int(data["batch_size"]),
            precision=str(data["precision"]),
        )


@dataclass(frozen=True, slots=True)
class VoiceRun:
    """A training run's folder: the prepared dataset and the checkpoint a later run resumes from."""

    root_dir: Path

    @property
    def dataset_dir(self) -> Path:
        return self.root_dir / "dataset"

    @property
    def checkpoint_dir(self) -> Path:
        return self.root_dir / "checkpoints"

    @property
    def checkpoint_path(self) -> Path:
        return self.checkpoint_dir / "last.ckpt"


@dataclass(frozen=True, slots=True)
class SentenceTake:
    """A current take of a paragraph prompt: the sentence read is its transcript."""

    wav_name: str
    text: str
    take: TakeRow


class TrainingLog:
    """Follows a run for the page: the newest losses and ETA, the last 500 steps, and the time spent.

    A re-run job starts from the detail its earlier attempt stored; steps after its checkpoint are redone.
    """

    def __init__(self, device: str, earlier: JsonObject | None = None) -> None:
        self.device = device
        self._history: list[JsonObject] = list((earlier or {}).get("history") or [])
        self._earlier_time_s = float((earlier or {}).get("training_time_s") or 0.0)
        self._started = time.monotonic()
        self._resumed_from_step: int | None = None
        self.latest: JsonObject | None = None  # the detail after the newest step of this run

    @property
    def training_time_s(self) -> float:
        """Seconds spent training, earlier attempts included."""
        return self._earlier_time_s + time.monotonic() - self._started

    def record(self, progress: TrainingProgress) -> JsonObject:
        """Add one finished step; returns the job's detail JSON after it."""
        losses = {name: value for name, value in progress.losses.items() if math.isfinite(value)}
        if self._resumed_from_step is None:
            self._resumed_from_step = progress.step - 1
        while self._history and int(self._history[-1]["step"]) >= progress.step:
            self._history.pop()
        self._history.append({"step": progress.step, "losses": losses})
        del self._history[:-HISTORY_MAX_STEPS]
        self.latest = {
            "step": progress.step,
            "total_steps": progress.total,
            "epoch": progress.epoch,
            "losses": losses,
            "seconds_per_step": progress.seconds_per_step,
            "eta_s": progress.eta_s,
            "checkpoint_step": progress.checkpoint_step,
            "resumed_from_step": self._resumed_from_step,  # 0 for a fresh run
            "training_time_s": round(self.training_time_s, 3),
            "device": self.device,
            "history": list(self._history),
        }
        return self.latest


def sentence_takes(session: Session, project_id: str) -> list[SentenceTake]:
    """The current takes of the project's paragraph prompts, in prompt order."""
    project = project_row(session, project_id)
    takes = current_takes(session, project_id)
    found = []
    for name in project.prompt_sets:
        prompt_set = load_prompt_set(name)
        if prompt_set.kind is not PromptSetKind.paragraph:
            continue
        for prompt in prompt_set.prompts:
            take = takes.get(prompt_key(name, prompt.id))
            if take is not None:
                found.append(SentenceTake(prompt.wav_name, prompt.text, take))
    return found


def speech_seconds(take: TakeRow) -> float:
    """How much of the take the training set keeps: the take less its silent ends, as `prepare` cuts it."""
    duration_ms = take.duration_ms
    quality = take.quality or {}
    silence_ms = float(quality.get("leading_silence_ms") or 0.0) + float(
        quality.get("trailing_silence_ms") or 0.0
    )
    kept_ms = min(duration_ms, max(0.0, duration_ms - silence_ms) + 2 * EDGE_KEEP_MS)
    return kept_ms / 1000.0


def training_readiness(session: Session, project_id: str, needed_s: float) -> TrainingReadiness:
    """Whether the project has its consent and `needed_s` of sentence speech, in numbers and in words."""
    project = project_row(session, project_id)
    language = Language(project.language)
    sentence = consent_sentence(language)
    have_s = round(sum(speech_seconds(t.take) for t in sentence_takes(session, project_id)), 1)
    consent = latest_consent(session, project_id) is not None
    enough = have_s >= needed_s
    missing = []
    if not consent:
        missing.append(f"Record the consent statement first: read aloud “{sentence}”.")
    if not enough:
        own = [n for n in project.prompt_sets if load_prompt_set(n).kind is PromptSetKind.paragraph]
        if own:
            record = f"Record the paragraph set ({', '.join(own)})."
        else:
            sets = [
                s.name
                for s in list_prompt_sets()
                if s.kind is PromptSetKind.paragraph and s.language is language
            ]
            record = (
                "This project records no sentences; start a project with the paragraph set "
                f"({', '.join(sets) or 'of its language'}) to train a voice."
            )
        need, have = _seconds(needed_s), _seconds(have_s)
        missing.append(f"The voice needs at least {need} of sentences; you have {have}. {record}")
    ready = consent and enough
    message = " ".join(missing) if missing else f"Ready to train on {_seconds(have_s)} of sentences."
    return TrainingReadiness(ready, have_s, needed_s, consent, sentence, message)


def check_training_inputs(session: Session, project_id: str, needed_s: float, request: TrainRequest) -> None:
    """NotReadyToTrain unless the project is ready; a base checkpoint with a bad sha256 or path is refused."""
    readiness = training_readiness(session, project_id, needed_s)
    if not readiness.ready:
        raise NotReadyToTrain(readiness.message)
    check_base(request.base)


def check_base(base: BaseCheckpoint | None) -> None:
    """Refuse at once what training would refuse later: a sha256 that is no sha256, a missing local file."""
    if base is None:
        return
    if not _SHA256.fullmatch(base.sha256.strip()):
        raise BaseCheckpointError.bad_sha256(base.sha256)
    if not base.is_url and not Path(base.location).expanduser().is_file():
        raise BaseCheckpointError.missing(Path(base.location).expanduser())


def train_voice_run(
    engine: VoiceEngine,
    utterances: Sequence[Utterance],
    language: Language,
    run: VoiceRun,
    settings: TrainingSettings,
    on_progress: Callable[[Progress], None],
) -> Checkpoint:
    """Prepare the takes into `run.dataset_dir` and train into `run.checkpoint_dir` up to `settings.steps`.

    When the run already holds a checkpoint, training resumes from it on the dataset it started with.
    """
    if run.checkpoint_path.is_file() and (run.dataset_dir / MANIFEST_NAME).is_file():
        dataset: Dataset = load_dataset(run.dataset_dir)
    else:
        dataset = engine.prepare(utterances, language, run.dataset_dir, on_progress)
    return engine.train(dataset, run.checkpoint_dir, settings, on_progress)


def export_voice(
    engine: VoiceEngine, checkpoint: Checkpoint, model_dir: Path, card: JsonObject
) -> ExportedModel:
    """Export the checkpoint into `model_dir` with its `card.json`; the folder appears only once complete.

    The card gets `size` (the preset the model was built with) and `steps` unless it names them.
    """
    model_dir = model_dir.absolute()
    model_dir.parent.mkdir(parents=True, exist_ok=True)
    part_dir = model_dir.with_name(f".{model_dir.name}.part")
    shutil.rmtree(part_dir, ignore_errors=True)
    try:
        exported = engine.export(checkpoint, part_dir)
        config = json.loads(exported.config_path.read_text(encoding="utf-8"))
        quality = config.get("audio", {}).get("quality")
        full_card = {"size": quality, "steps": checkpoint.step, "created_at": utc_now().isoformat(), **card}
        (part_dir / CARD_FILE).write_text(
            json.dumps(full_card, ensure_ascii=False, indent=2), encoding="utf-8"
        )
        _replace_dir(part_dir, model_dir)
    finally:
        shutil.rmtree(part_dir, ignore_errors=True)
    return ExportedModel(
        model_dir / exported.onnx_path.name,
        model_dir / exported.config_path.name,
        exported.sample_rate_hz,
        exported.language,
        exported.size_bytes,
    )


def model_id_for(project_name: str, job_id: str) -> str:
    """A readable model id that a re-run of the same job finds again: `<project name>-<job id start>`."""
    slug = re.sub(r"[^A-Za-z0-9]+", "-", project_name).strip("-").lower()[:40].strip("-") or "voice"
    return f"{slug}-{job_id.replace('-', '')[:8]}"


def quiet_lightning() -> None:
    """Keep Lightning's and piper's info lines (GPU found, tips) out of logs; progress says it all."""
    for name in ("lightning.pytorch", "lightning.fabric", "piper"):
        logging.getLogger(name).setLevel(logging.WARNING)


def resolved_device(device: Device) -> str:
    """The device a run uses: `auto` is cuda when a CUDA GPU is visible, else cpu."""
    if device != "auto":
        return device
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


def _replace_dir(new_dir: Path, target: Path) -> None:
    """Put the finished `new_dir` at `target`, an older one moved aside first and removed after."""
    old_dir = target.with_name(f".{target.name}.old")
    shutil.rmtree(old_dir, ignore_errors=True)
    if target.exists():
        target.replace(old_dir)
    new_dir.replace(target)
    shutil.rmtree(old_dir, ignore_errors=True)


def _seconds(value_s: float) -> str:
    """Seconds as the training page says them: "60 s", "12.3 s"."""
    return f"{value_s:.1f}".removesuffix(".0") + " s"
