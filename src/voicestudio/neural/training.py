"""Training piper's VITS in-process with Lightning: from scratch, from a base checkpoint, or resumed."""

import json
import logging
import time
import warnings
from pathlib import Path
from typing import Any

import lightning as L
import torch

from voicestudio.neural.checkpoint_writer import BackgroundCheckpointIO
from voicestudio.neural.checkpoints import load_base_checkpoint, read_checkpoint
from voicestudio.neural.dataset import data_module
from voicestudio.neural.errors import BadSettings, BaseCheckpointError
from voicestudio.neural.model import build_model, hyperparameters_of, load_checkpoint_dict, step_of
from voicestudio.neural.presets import PRESETS, preset_hyperparameters
from voicestudio.neural.values import (
    CHECKPOINT_NAME,
    Checkpoint,
    CheckpointSaved,
    Dataset,
    TrainingProgress,
    TrainingProgressCallback,
    TrainingSettings,
    ignore_checkpoints,
    ignore_training_progress,
)

VOICE_KEY = "voicestudio_voice"  # in each checkpoint: the piper config of the voice (phoneme map, rate)
_LOG = logging.getLogger(__name__)
_SMOOTHING = 0.3  # weight of the newest step in the seconds-per-step average


def train_voice(
    dataset: Dataset,
    out_dir: Path,
    settings: TrainingSettings,
    on_progress: TrainingProgressCallback = ignore_training_progress,
    *,
    until_step: int | None = None,
    on_checkpoint: CheckpointSaved = ignore_checkpoints,
) -> Checkpoint:
    """Train until `until_step` (default `settings.steps`, the run's total), writing `out_dir/last.ckpt`
    every N steps and at the end; `on_checkpoint` hears of each one written (from the writing thread).

    When `out_dir` already holds a checkpoint the run continues from its step (optimizer included);
    otherwise it starts from the base checkpoint's weights with a fresh optimizer, or from scratch.
    A progress callback that raises (a cancelled job) leaves a clean checkpoint of the last step.
    """
    _check(settings)
    stop_step = settings.steps if until_step is None else min(until_step, settings.steps)
    if stop_step < 1:
        raise BadSettings(f"until_step is {until_step}; train until step 1 or later.")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    last = out_dir / CHECKPOINT_NAME
    resume_from: Path | None = None
    if last.is_file():
        contents = load_checkpoint_dict(last)
        if step_of(contents) >= stop_step:
            return read_checkpoint(last)
        model = build_model(hyperparameters_of(contents), settings.batch_size)
        resume_from = last
        del contents
    elif settings.base is not None:
        cache_dir = settings.cache_dir or out_dir.parent / "base-cache"
        hyperparameters, weights = load_base_checkpoint(settings.base, cache_dir)
        model = build_model(hyperparameters, settings.batch_size)
        _load_weights(model, weights, settings.base.location)
    else:
        model = build_model(preset_hyperparameters(settings.preset), settings.batch_size)

    voice_config = (
        json.loads(dataset.config_path.read_text(encoding="utf-8")) if dataset.config_path.is_file() else {}
    )
    reporter = _StepReporter(last, settings, stop_step, voice_config, on_progress, on_checkpoint)
    writer = BackgroundCheckpointIO()
    trainer = L.Trainer(
        max_steps=2 * stop_step,  # Lightning counts the generator's and the discriminator's steps
        max_epochs=-1,
        accelerator=_accelerator(settings),
        devices=1,
        precision=settings.precision,  # type: ignore[arg-type]
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        num_sanity_val_steps=0,
        limit_val_batches=0,
        default_root_dir=out_dir,
        callbacks=[reporter],
        plugins=[writer],
    )
    L.seed_everything(settings.seed, verbose=False)
    try:
        with warnings.catch_warnings():
            # piper's loaders ask for pinned memory, which a CPU-only run cannot give; harmless.
            warnings.filterwarnings("ignore", message=".*pin_memory.*", category=UserWarning)
            trainer.fit(model, datamodule=data_module(dataset, settings.batch_size), ckpt_path=resume_from)
    except BaseException:
        writer.close(raise_error=False)  # the checkpoint of a cancelled run is in place before it ends
        raise
    writer.close()
    return read_checkpoint(last)


def _check(settings: TrainingSettings) -> None:
    if settings.steps < 1:
        raise BadSettings(f"steps is {settings.steps}; train for at least 1 step.")
    if settings.batch_size < 1:
        raise BadSettings(f"batch size is {settings.batch_size}; use 1 or more.")
    if settings.checkpoint_every_steps < 1:
        raise BadSettings(f"checkpoint_every_steps is {settings.checkpoint_every_steps}; use 1 or more.")
    if settings.preset not in PRESETS:
        raise BadSettings(f"unknown preset {settings.preset!r}; use one of: {', '.join(PRESETS)}.")
    if settings.device not in ("auto", "cpu", "cuda"):
        raise BadSettings(f"unknown device {settings.device!r}; use auto, cpu or cuda.")
    if settings.device == "cuda" and not torch.cuda.is_available():
        raise BadSettings("device cuda was asked for, but no CUDA GPU is visible here; use auto or cpu.")


def _accelerator(settings: TrainingSettings) -> str:
    if settings.device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    return settings.device


def _load_weights(model: Any, weights: dict[str, Any], location: str) -> None:
    """Copy the base's weights in; every generator weight must be there with its shape."""
    own = model.state_dict()
    missing = [key for key in own if key.startswith("model_g.") and key not in weights]
    misshapen = [key for key, value in weights.items() if key in own and own[key].shape != value.shape]
    if missing or misshapen:
        detail = f"{len(missing)} generator weights missing, {len(misshapen)} of another shape"
        raise BaseCheckpointError.unreadable(location, detail)
    model.load_state_dict({key: value for key, value in weights.items() if key in own}, strict=False)


def _read_losses(metrics: dict[str, Any]) -> dict[str, float]:
    """The step's logged losses as numbers, read back from the device in one go (one wait, not one each)."""
    if not metrics:
        return {}
    values = torch.stack([torch.as_tensor(value).detach().float().reshape(()) for value in metrics.values()])
    return dict(zip(metrics, values.tolist(), strict=True))


class _StepReporter(L.Callback):
    """After each step: a checkpoint when due, then a TrainingProgress; a callback that raises leaves one."""

    def __init__(
        self,
        checkpoint_path: Path,
        settings: TrainingSettings,
        stop_step: int,
        voice_config: dict[str, Any],
        on_progress: TrainingProgressCallback,
        on_checkpoint: CheckpointSaved,
    ) -> None:
        self._path = checkpoint_path
        self._settings = settings
        self._stop_step = stop_step
        self._voice_config = voice_config
        self._on_progress = on_progress
        self._on_checkpoint = on_checkpoint
        self._saved_step = 0  # the last step handed to the writer
        self._checkpoint_step = 0  # the last step whose checkpoint is in place
        self._last_time = 0.0
        self._seconds_per_step = 0.0

    def on_train_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self._last_time = time.perf_counter()

    def on_train_batch_end(
        self, trainer: L.Trainer, pl_module: L.LightningModule, outputs: Any, batch: Any, batch_idx: int
    ) -> None:
        step = trainer.global_step // 2
        now = time.perf_counter()
        took_s = now - self._last_time
        self._seconds_per_step = (
            took_s
            if self._seconds_per_step == 0.0
            else _SMOOTHING * took_s + (1 - _SMOOTHING) * self._seconds_per_step
        )
        total = self._settings.steps
        if step % self._settings.checkpoint_every_steps == 0 or step >= self._stop_step:
            self._save(trainer, step)
        progress = TrainingProgress(
            stage="train",
            done=step,
            total=total,
            epoch=trainer.current_epoch,
            losses=_read_losses(trainer.callback_metrics),
            seconds_per_step=self._seconds_per_step,
            eta_s=max(0, total - step) * self._seconds_per_step,
            checkpoint_step=self._checkpoint_step,
        )
        try:
            self._on_progress(progress)
        except BaseException:
            if self._saved_step != step:
                self._save_on_the_way_out(trainer, step)
            raise
        self._last_time = time.perf_counter()

    def on_save_checkpoint(
        self, trainer: L.Trainer, pl_module: L.LightningModule, checkpoint: dict[str, Any]
    ) -> None:
        checkpoint[VOICE_KEY] = self._voice_config

    def _save(self, trainer: L.Trainer, step: int) -> None:
        trainer.save_checkpoint(self._path, storage_options=lambda: self._written(step))
        self._saved_step = step

    def _save_on_the_way_out(self, trainer: L.Trainer, step: int) -> None:
        """Save the last step of a run that is ending (cancelled): a failed earlier write is logged, not
        raised over the reason the run ends."""
        try:
            self._save(trainer, step)
        except Exception:
            _LOG.exception("the checkpoint of step %d was not written as the run ended", step)

    def _written(self, step: int) -> None:
        """On the writer's thread, once the checkpoint of `step` is in place: the caller keeps it, and
        only then do progress reports name it (a job killed after such a report resumes from it)."""
        self._on_checkpoint(self._path, step)
        self._checkpoint_step = step
