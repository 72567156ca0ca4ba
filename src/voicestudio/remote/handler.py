"""What runs inside a rented-GPU endpoint for one chunk: fetch the dataset and checkpoint by URL, train
with `neural.chunk.train_chunk`, PUT the new checkpoint, and return the ChunkOutput JSON.

RunPod's handler and Modal's GPU function (deploy/) are thin shells over `handle_chunk`; the studio's
tests run the same function behind local fakes of both services.
"""

import json
import logging
import math
import shutil
import tempfile
import time
import traceback
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Final

from pydantic import ValidationError

from voicestudio.errors import VoicestudioError
from voicestudio.files import write_bytes_atomic
from voicestudio.neural.chunk import ChunkOutcome, settings_from_json, train_chunk, unpack_dataset
from voicestudio.neural.dataset import MANIFEST_NAME, load_dataset
from voicestudio.neural.values import Dataset, TrainingProgress, TrainingProgressCallback, TrainingSettings
from voicestudio.remote.contract import ChunkInput, ChunkOutput, ChunkProgress
from voicestudio.remote.errors import RemoteInputError
from voicestudio.remote.transfer import DEFAULT_TRANSFER, download, upload
from voicestudio.remote.transport import RetryPolicy

_LOG = logging.getLogger("voicestudio.remote.handler")
DATASETS_FOLDER: Final = "datasets"
RUNS_FOLDER: Final = "runs"
BASE_CACHE_FOLDER: Final = "base-cache"

ProgressSink = Callable[[ChunkProgress], None]


class ChunkStopped(BaseException):
    """The endpoint was told to stop the chunk (the run was cancelled); training saved and unwound."""


def ignore_chunk_progress(_: ChunkProgress) -> None:
    """A sink for callers that do not report progress."""


def never_stop() -> bool:
    """A `should_stop` for endpoints whose service stops the process itself."""
    return False


def handle_chunk(
    payload: Mapping[str, Any],
    work_root: Path,
    send_progress: ProgressSink = ignore_chunk_progress,
    should_stop: Callable[[], bool] = never_stop,
    *,
    progress_interval_s: float = 2.0,
    transfers: RetryPolicy = DEFAULT_TRANSFER,
) -> dict[str, Any]:
    """The service-facing result of one chunk: ChunkOutput's JSON, or `{"error": message}` for the user.

    A failure the user can act on keeps its message; anything else is logged with its traceback and
    reported as an internal error, so no traceback (nor any URL signature) reaches the studio.
    """
    try:
        return run_chunk_request(
            payload,
            work_root,
            _throttled(send_progress, progress_interval_s),
            should_stop,
            transfers=transfers,
        ).model_dump(mode="json")
    except VoicestudioError as error:
        _LOG.warning("training chunk refused: %s", error.message)
        return {"error": error.message}
    except Exception as error:  # the endpoint must answer, whatever broke
        _LOG.error("training chunk failed:\n%s", traceback.format_exc())
        return {
            "error": f"The endpoint hit an internal error ({type(error).__name__}); its log has the "
            "traceback. Check that the image runs this studio's version, then train again."
        }


def run_chunk_request(
    payload: Mapping[str, Any] | ChunkInput,
    work_root: Path,
    on_progress: ProgressSink = ignore_chunk_progress,
    should_stop: Callable[[], bool] = never_stop,
    *,
    transfers: RetryPolicy = DEFAULT_TRANSFER,
) -> ChunkOutput:
    """Train one chunk described by `payload` (ChunkInput JSON) in `work_root`; returns its output once
    the new checkpoint is stored at the output URL. Raises RemoteInputError, NeuralError, ChunkStopped."""
    started = time.monotonic()
    inputs = _parse(payload)
    work_root = Path(work_root)
    settings = settings_from_json(inputs.settings, cache_dir=work_root / BASE_CACHE_FOLDER)
    dataset = _dataset(inputs, work_root, transfers)
    (work_root / RUNS_FOLDER).mkdir(parents=True, exist_ok=True)
    run_dir = Path(tempfile.mkdtemp(prefix="chunk-", dir=work_root / RUNS_FOLDER))
    try:
        checkpoint = _checkpoint(inputs, run_dir, transfers)
        until_step = min(inputs.until_step, settings.steps)
        report = _reporter(until_step, on_progress, should_stop)
        train_started = time.monotonic()
        outcome = train_chunk(dataset.root_dir, checkpoint, settings, until_step, run_dir / "out", report)
        train_s = time.monotonic() - train_started
        device, gpu_name = _device(settings)
        where = {"device": device, "gpu_name": gpu_name, "train_s": train_s}
        sha256 = _upload_results(inputs, outcome, where, run_dir / "log.json", transfers)
        return ChunkOutput(
            step=outcome.step,
            done=outcome.step >= settings.steps,
            losses=dict(outcome.steps[-1].losses) if outcome.steps else {},
            epoch=outcome.epoch,
            seconds_per_step=outcome.seconds_per_step,
            wall_s=time.monotonic() - started,
            train_s=train_s,
            device=device,
            gpu_name=gpu_name,
            checkpoint_bytes=outcome.checkpoint_bytes,
            checkpoint_sha256=sha256,
        )
    finally:
        shutil.rmtree(run_dir, ignore_errors=True)


def _reporter(
    until_step: int, on_progress: ProgressSink, should_stop: Callable[[], bool]
) -> TrainingProgressCallback:
    """Each trained step as a ChunkProgress for the service; ChunkStopped once `should_stop()` says so."""

    def report(step: TrainingProgress) -> None:
        if should_stop():
            raise ChunkStopped
        on_progress(
            ChunkProgress(
                step=step.step,
                until_step=until_step,
                total_steps=step.total,
                epoch=step.epoch,
                losses=_finite(step.losses),
                seconds_per_step=step.seconds_per_step,
            )
        )

    return report


def _upload_results(
    inputs: ChunkInput, outcome: ChunkOutcome, where: Mapping[str, Any], log: Path, transfers: RetryPolicy
) -> str:
    """PUT the new checkpoint and, when asked for, the per-step log (with `where` it trained); returns the
    checkpoint's sha256."""
    sha256 = upload(outcome.checkpoint_path, inputs.output_checkpoint_url, "new checkpoint", transfers)
    if inputs.output_log_url is not None:
        write_bytes_atomic(log, json.dumps({**outcome.to_json(), **where}).encode("utf-8"))
        upload(log, inputs.output_log_url, "training log", transfers)
    return sha256


def _parse(payload: Mapping[str, Any] | ChunkInput) -> ChunkInput:
    if isinstance(payload, ChunkInput):
        return payload
    try:
        return ChunkInput.model_validate(payload)
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        raise RemoteInputError(
            f"The training chunk's input is not valid ({error.error_count()} problems; {where}: "
            f"{first['msg']}). Deploy the endpoint from the same studio version as the server."
        ) from None


def _dataset(inputs: ChunkInput, work_root: Path, transfers: RetryPolicy) -> Dataset:
    """The extracted dataset, from this worker's cache when `dataset_sha256` names one it has."""
    datasets = work_root / DATASETS_FOLDER
    if inputs.dataset_sha256 is not None and (datasets / inputs.dataset_sha256 / MANIFEST_NAME).is_file():
        return load_dataset(datasets / inputs.dataset_sha256)
    datasets.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".fetch-", dir=datasets) as scratch:
        tar = Path(scratch) / "dataset.tar"
        sha256 = download(inputs.dataset_url, tar, "dataset", transfers)
        _check_sha256("dataset", inputs.dataset_sha256, sha256)
        return unpack_dataset(tar, datasets / sha256)


def _checkpoint(inputs: ChunkInput, run_dir: Path, transfers: RetryPolicy) -> Path | None:
    if inputs.checkpoint_url is None:
        return None
    path = run_dir / "start.ckpt"
    sha256 = download(inputs.checkpoint_url, path, "checkpoint", transfers)
    _check_sha256("checkpoint", inputs.checkpoint_sha256, sha256)
    return path


def _check_sha256(what: str, expected: str | None, actual: str) -> None:
    if expected is not None and expected != actual:
        raise RemoteInputError(
            f"The {what} that arrived has sha256 {actual[:12]}…, not the {expected[:12]}… the studio sent. "
            "The storage served other content; train again."
        )


def _device(settings: TrainingSettings) -> tuple[str, str | None]:
    """The device the chunk trained on and, on a GPU, its name."""
    import torch

    cuda = settings.device == "cuda" or (settings.device == "auto" and torch.cuda.is_available())
    return ("cuda", str(torch.cuda.get_device_name(0))) if cuda else ("cpu", None)


def _finite(losses: Mapping[str, float]) -> dict[str, float]:
    return {name: float(value) for name, value in losses.items() if math.isfinite(value)}


def _throttled(send: ProgressSink, interval_s: float) -> ProgressSink:
    """`send` at most every `interval_s`, and always at the chunk's last step."""
    last = [float("-inf")]

    def maybe_send(progress: ChunkProgress) -> None:
        now = time.monotonic()
        if progress.step >= progress.until_step or now - last[0] >= interval_s:
            last[0] = now
            send(progress)

    return maybe_send
