"""The `train` job's work: a voice trained on a project's sentence takes in resumable chunks, with its state
and its model in the blob store, so any worker can run any chunk and any API server can serve the model.

A run prepares the dataset (first run only) or takes it from the worker's cache, trains one chunk from the
newest saved checkpoint, and saves each checkpoint as it is written; the run that reaches the last step
exports the model. A run of a job whose model is stored returns that model.
"""

import json
import logging
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path, PurePosixPath
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from voicestudio.db.types import utc_now
from voicestudio.domain import Language, Progress
from voicestudio.domain.jobs import JsonObject
from voicestudio.neural.chunk import pack_dataset, train_chunk
from voicestudio.neural.values import CHECKPOINT_NAME, TrainingProgress, Utterance
from voicestudio.storage.blobs import BlobRef, BlobStore
from voicestudio.studio.consent import latest_consent
from voicestudio.studio.rows import project_row
from voicestudio.studio.takes import place_blob
from voicestudio.studio.training_state import (
    DatasetCache,
    TrainingState,
    TrainingStateUnreadable,
    delete_blobs,
    load_training_state,
    save_training_state,
    store_file,
    worker_cache_dir,
)
from voicestudio.studio.voice_models import job_voice_model, store_voice_model
from voicestudio.studio.voices import (
    EXPORT_STAGE,
    SAVED_STAGE,
    DetailedProgress,
    SentenceTake,
    TrainingLog,
    TrainRequest,
    check_training_inputs,
    model_id_for,
    quiet_lightning,
    resolved_device,
    sentence_takes,
)
from voicestudio.training_chunks import ChunkInputs, ChunkRunner, TrainedChunk, fetch_blob

_LOG = logging.getLogger("voicestudio.studio.training")


@dataclass(frozen=True, slots=True)
class TrainingRunResult:
    """What one run of a training job reached: the stored model once the last step is done, else None,
    and the step its saved state holds."""

    model_id: str | None
    step: int


@dataclass(frozen=True, slots=True)
class _ProjectInputs:
    """What a run reads from the database: the project's name and language, its consent sentence, and the
    takes to prepare (none once a dataset is stored)."""

    name: str
    language: Language
    consent_sentence: str | None
    takes: tuple[SentenceTake, ...]


def run_chunk_here(cache: DatasetCache) -> ChunkRunner:
    """A runner that trains in this process, on the dataset from the worker's cache."""

    def run(inputs: ChunkInputs) -> TrainedChunk:
        dataset = cache.dataset(inputs.blobs, inputs.dataset_key)
        out_dir = inputs.work_dir / "run"
        checkpoint = None
        if inputs.checkpoint_key is not None:
            checkpoint = fetch_blob(inputs.blobs, inputs.checkpoint_key, out_dir / CHECKPOINT_NAME)
        outcome = train_chunk(
            dataset.root_dir,
            checkpoint,
            inputs.settings,
            inputs.until_step,
            out_dir,
            inputs.progress,
            inputs.on_checkpoint,
        )
        return TrainedChunk.here(outcome)

    return run


class SavedState:
    """The job's saved state as training moves on: each checkpoint is stored, then a manifest naming it,
    then the manifest is recorded for the job; only after that is what it replaced deleted."""

    def __init__(self, blobs: BlobStore, record: Callable[[str], None], key: str | None) -> None:
        self._blobs = blobs
        self._record = record
        self.key = key
        self.state = load_training_state(blobs, key) if key is not None else None

    def start(self, dataset_key: str) -> TrainingState:
        """The first state of a job: its dataset, no checkpoint yet."""
        return self._advance(TrainingState(dataset_key, None, 0))

    @property
    def current(self) -> TrainingState:
        """The state as saved now; RuntimeError before `start`."""
        if self.state is None:
            raise RuntimeError("the training state was not started")
        return self.state

    def keep(self, checkpoint: Path, step: int) -> None:
        """Store the checkpoint written at `step` and make it the state; a kept one is not stored again."""
        state = self.current
        if state.step == step and state.checkpoint_key is not None:
            return
        self.keep_blob(store_file(self._blobs, checkpoint), step)

    def keep_blob(self, checkpoint: BlobRef, step: int) -> None:
        """Make a checkpoint that is already stored (a rented GPU uploaded it) the state at `step`."""
        state = self.current
        if (state.checkpoint_key, state.step) == (checkpoint.key, step):
            return
        self._advance(replace(state, checkpoint_key=checkpoint.key, step=step))

    def keep_chunk(self, trained: TrainedChunk) -> None:
        """Make the chunk's checkpoint the state: a local file is stored, a stored one only recorded."""
        if isinstance(trained.checkpoint, Path):
            self.keep(trained.checkpoint, trained.step)
        else:
            self.keep_blob(trained.checkpoint, trained.step)

    def finish(self) -> None:
        """Delete the job's training blobs: its model is stored, nothing continues from them."""
        if self.state is not None:
            delete_blobs(self._blobs, [*self.state.keys, self.key])

    def _advance(self, new: TrainingState) -> TrainingState:
        key = save_training_state(self._blobs, new)
        self._record(key)
        old, old_key = self.state, self.key
        self.state, self.key = new, key
        if old is not None:
            delete_blobs(self._blobs, [old.checkpoint_key, old_key], keep=(*new.keys, key))
        return new


def train_project_voice(
    sessions: sessionmaker[Session],
    blobs: BlobStore,
    project_id: str,
    job_id: str,
    request: TrainRequest,
    needed_s: float,
    on_progress: DetailedProgress,
    *,
    earlier_detail: JsonObject | None = None,
    state_key: str | None = None,
    chunk_steps: int | None = None,
    save_state: Callable[[str], None] = lambda _key: None,
    cache_root: Path | None = None,
    run_chunk: ChunkRunner | None = None,
) -> TrainingRunResult:
    """Run the training job one step further: at most `chunk_steps` steps (None: to the end) from the state
    saved under `state_key`, recording each new state with `save_state`; export the model at the end."""
    quiet_lightning()
    with sessions() as session:
        stored = job_voice_model(session, job_id)
    if stored is not None:  # an earlier run stored it, then stopped
        return TrainingRunResult(stored.id, stored.steps if stored.steps is not None else request.steps)
    saved = _saved_state(blobs, save_state, state_key, job_id)
    project = _project_inputs(sessions, project_id, needed_s, request, fresh=saved.state is None)
    cache = DatasetCache(cache_root or worker_cache_dir())
    cache.prune()
    log = TrainingLog(resolved_device(request.device), earlier_detail)

    def report(progress: Progress) -> None:
        on_progress(progress, log.record(progress) if isinstance(progress, TrainingProgress) else None)

    with tempfile.TemporaryDirectory(prefix="voicestudio-train-") as scratch_name:
        scratch = Path(scratch_name)
        if saved.state is None:
            saved.start(_prepare(blobs, cache, project.takes, project.language, needed_s, scratch, report))
        until = request.steps if chunk_steps is None else min(request.steps, saved.current.step + chunk_steps)
        inputs = ChunkInputs(
            blobs=blobs,
            dataset_key=saved.current.dataset_key,
            checkpoint_key=saved.current.checkpoint_key,
            settings=request.settings(base_cache_dir=cache.root / "base-checkpoints"),
            until_step=until,
            work_dir=scratch,
            progress=report,
            on_checkpoint=saved.keep,
        )
        trained = _train_one_chunk(saved, inputs, run_chunk or run_chunk_here(cache))
        state = saved.current
        if state.step < request.steps:
            # Progress is written at most every so often; the chunk's last step must reach the page.
            on_progress(Progress(SAVED_STAGE, state.step, request.steps, CHECKPOINT_NAME), log.latest)
            return TrainingRunResult(None, state.step)
        model_id = model_id_for(project.name, job_id)
        on_progress(Progress(EXPORT_STAGE, 0, 1, model_id), None)
        card = _model_card(project, project_id, job_id, state.step, log, trained)
        checkpoint = _local_checkpoint(blobs, state, trained, scratch)
        _export(sessions, blobs, model_id, project_id, job_id, checkpoint, scratch / "model", card)
        on_progress(Progress(EXPORT_STAGE, 1, 1, model_id), None)
    saved.finish()
    cache.drop(state.dataset_key)
    return TrainingRunResult(model_id, state.step)


def _saved_state(
    blobs: BlobStore, save_state: Callable[[str], None], state_key: str | None, job_id: str
) -> SavedState:
    """The state saved under `state_key`; a fresh one (the training starts again) when it is unreadable."""
    try:
        return SavedState(blobs, save_state, state_key)
    except TrainingStateUnreadable as error:
        _LOG.warning("job %s starts its training again: %s", job_id, error.message)
        return SavedState(blobs, save_state, None)


def _project_inputs(
    sessions: sessionmaker[Session], project_id: str, needed_s: float, request: TrainRequest, *, fresh: bool
) -> _ProjectInputs:
    """The project's inputs; a `fresh` run (no saved state) checks them and reads its takes."""
    with sessions() as session:
        if fresh:
            check_training_inputs(session, project_id, needed_s, request)
        takes = tuple(sentence_takes(session, project_id)) if fresh else ()
        project = project_row(session, project_id)
        consent = latest_consent(session, project_id)
        return _ProjectInputs(
            name=project.name,
            language=Language(project.language),
            consent_sentence=consent.sentence if consent is not None else None,
            takes=takes,
        )


def _train_one_chunk(saved: SavedState, inputs: ChunkInputs, run_chunk: ChunkRunner) -> TrainedChunk | None:
    """Train from the saved state to `inputs.until_step` and keep the checkpoint reached; None (nothing
    trained) when the saved state is there already."""
    if saved.current.step >= inputs.until_step:
        return None
    trained = run_chunk(inputs)
    saved.keep_chunk(trained)
    return trained


def _local_checkpoint(
    blobs: BlobStore, state: TrainingState, trained: TrainedChunk | None, scratch: Path
) -> Path:
    """The last checkpoint as a local file to export: the one this run trained here, else fetched from the
    store (trained on a rented GPU or by an earlier run), which happens once per job, at its end."""
    if trained is not None and isinstance(trained.checkpoint, Path):
        return trained.checkpoint
    assert state.checkpoint_key is not None  # a run at its last step has saved a checkpoint
    return fetch_blob(blobs, state.checkpoint_key, scratch / CHECKPOINT_NAME)


def _prepare(
    blobs: BlobStore,
    cache: DatasetCache,
    takes: Sequence[SentenceTake],
    language: Language,
    needed_s: float,
    scratch: Path,
    report: Callable[[Progress], None],
) -> str:
    """Prepare the takes as a dataset, store it as a tar and keep the folder in the cache; returns its key."""
    from voicestudio.neural.dataset import prepare_dataset

    utterances = []
    takes_dir = scratch / "takes"
    takes_dir.mkdir()
    for sentence in takes:
        path = takes_dir / PurePosixPath(sentence.wav_name).name
        place_blob(blobs, sentence.take.blob_key, path)
        utterances.append(Utterance(path, sentence.text, name=sentence.wav_name))
    dataset = prepare_dataset(
        utterances, language, scratch / "dataset", min_duration_s=needed_s, on_progress=report
    )
    tar_path = pack_dataset(dataset, scratch / "dataset.tar")
    stored = store_file(blobs, tar_path)
    tar_path.unlink()
    cache.adopt(stored.key, dataset.root_dir)
    return stored.key


def _model_card(
    project: _ProjectInputs,
    project_id: str,
    job_id: str,
    steps: int,
    log: TrainingLog,
    trained: TrainedChunk | None,
) -> dict[str, Any]:
    """The model's card: where and how long it trained, and the consent it was trained under. The device is
    where the last chunk trained (a rented GPU) when that was not this worker."""
    return {
        "name": project.name,
        "steps": steps,
        "training_time_s": round(log.training_time_s, 1),
        "device": trained.device if trained is not None and trained.device else log.device,
        "consent_sentence": project.consent_sentence,
        "project_id": project_id,
        "job_id": job_id,
        "created_at": utc_now().isoformat(),
    }


def _export(
    sessions: sessionmaker[Session],
    blobs: BlobStore,
    model_id: str,
    project_id: str,
    job_id: str,
    checkpoint: Path,
    out_dir: Path,
    card: dict[str, Any],
) -> None:
    """Export the checkpoint to ONNX and store it as the job's model; the card gets the preset as `size`."""
    from voicestudio.neural.export import export_onnx  # torch loads only in the worker that trains

    exported = export_onnx(checkpoint, out_dir)
    config = json.loads(exported.config_path.read_text(encoding="utf-8"))
    card = {"size": config.get("audio", {}).get("quality"), **card}
    store_voice_model(sessions, blobs, model_id, project_id, job_id, exported, card)
    _LOG.info("model %s of job %s stored (%d bytes)", model_id, job_id, exported.size_bytes)
