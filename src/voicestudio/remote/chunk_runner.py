"""The train job's chunk runner for a rented GPU: the same `ChunkInputs` → `TrainedChunk` as training here,
with the dataset and checkpoints handed over as presigned URLs of the S3 store.

The new checkpoint arrives in a scratch object and becomes a blob (`adopt_scratch`); the job records that
blob as its state without downloading it, and fetches it only to export the model after the last chunk.
"""

import json
import logging
import math
from collections.abc import Callable
from typing import BinaryIO, Final, Protocol

from voicestudio.neural.chunk import StepLosses, settings_to_json
from voicestudio.neural.values import CHECKPOINT_NAME, TrainingProgress
from voicestudio.remote.contract import ChunkInput, ChunkOutput, RemoteUpdate
from voicestudio.remote.errors import RemoteBadAnswer, RemoteGpuError
from voicestudio.remote.gpu import RemoteGpu
from voicestudio.storage.blobs import BLOB_KEY_PATTERN, BlobRef, BlobStore, StorageError
from voicestudio.training_chunks import ARTIFACT_MAX_BYTES, ChunkInputs, ChunkRunner, TrainedChunk

_LOG = logging.getLogger("voicestudio.remote")
LOG_MAX_BYTES: Final = 10_000_000  # the per-step log of one chunk: a few hundred bytes a step
URL_MARGIN_S: Final = 600.0  # presigned URLs outlive the wait for the chunk by this much
MAX_URL_LIFETIME_S: Final = 7 * 24 * 3600  # the longest an S3 (SigV4) presigned URL may live


class PresigningStore(Protocol):
    """A blob store that hands out presigned URLs (the S3 store): what a rented GPU needs of it."""

    def presign_get(self, key: str, expires_s: int) -> str:
        """A URL anyone may GET the blob from until it expires."""
        ...

    def scratch_put_url(self, name: str, expires_s: int) -> tuple[str, str]:
        """A URL anyone may PUT one object to until it expires, and the scratch key it lands under."""
        ...

    def adopt_scratch(self, scratch_key: str, max_bytes: int) -> BlobRef:
        """Make the object PUT to a scratch key a content-addressed blob; returns its ref."""
        ...

    def open(self, key: str) -> BinaryIO:
        """The blob's content for streaming reads."""
        ...

    def delete(self, key: str) -> None:
        """Remove the blob."""
        ...


def presigning(blobs: BlobStore) -> PresigningStore:
    """`blobs` when it can presign URLs; RemoteGpuError for a local folder, which no rented GPU can reach."""
    if all(
        callable(getattr(blobs, name, None)) for name in ("presign_get", "scratch_put_url", "adopt_scratch")
    ):
        return blobs  # type: ignore[return-value]
    raise RemoteGpuError(
        "Training on a rented GPU needs S3 storage the GPU can download from and upload to; this studio "
        "keeps its files in a local folder. Set VOICESTUDIO_BLOB_LOCATION to an s3:// location, or set "
        "VOICESTUDIO_GPU_BACKEND=worker to train on the studio's own workers."
    )


def remote_chunk_runner(
    gpu: RemoteGpu,
    keep_alive: Callable[[], None] = lambda: None,
    on_output: Callable[[ChunkOutput], None] = lambda _output: None,
    *,
    url_lifetime_s: float | None = None,
) -> ChunkRunner:
    """A ChunkRunner that trains each chunk on `gpu`. `keep_alive` runs at every poll without news (the
    job's heartbeat and cancel check, `JobContext.check_cancelled`) and may raise to stop the chunk;
    `on_output` hears each finished chunk's report (device, GPU name, `wall_s` for the job's GPU time)."""
    wanted_s = url_lifetime_s if url_lifetime_s is not None else gpu.timing.timeout_s + URL_MARGIN_S
    lifetime_s = min(MAX_URL_LIFETIME_S, max(1, math.ceil(wanted_s)))

    def run(inputs: ChunkInputs) -> TrainedChunk:
        store = presigning(inputs.blobs)
        checkpoint_url, checkpoint_key = store.scratch_put_url(CHECKPOINT_NAME, lifetime_s)
        log_url, log_key = store.scratch_put_url("chunk-log.json", lifetime_s)
        request = _chunk_request(store, inputs, checkpoint_url, log_url, lifetime_s)
        output = gpu.run_chunk(request, _relay(inputs, keep_alive))
        stored = _adopt_checkpoint(store, checkpoint_key, output)
        on_output(output)
        device = f"{output.gpu_name or output.device} on {gpu.name}"
        _LOG.info("chunk to step %d trained on %s in %.1f s", output.step, device, output.wall_s)
        return TrainedChunk(
            step=output.step,
            epoch=output.epoch,
            checkpoint=stored,
            steps=_steps_from_log(store, log_key, output),
            device=device,
        )

    return run


def _chunk_request(
    store: PresigningStore, inputs: ChunkInputs, checkpoint_url: str, log_url: str, lifetime_s: int
) -> ChunkInput:
    """The chunk as the rented GPU gets it: presigned URLs to fetch its inputs from and PUT its results to."""
    checkpoint_key = inputs.checkpoint_key
    return ChunkInput(
        dataset_url=store.presign_get(inputs.dataset_key, lifetime_s),
        dataset_sha256=_sha256_of_key(inputs.dataset_key),
        checkpoint_url=None if checkpoint_key is None else store.presign_get(checkpoint_key, lifetime_s),
        checkpoint_sha256=None if checkpoint_key is None else _sha256_of_key(checkpoint_key),
        settings=settings_to_json(inputs.settings),
        until_step=inputs.until_step,
        output_checkpoint_url=checkpoint_url,
        output_log_url=log_url,
    )


def _adopt_checkpoint(store: PresigningStore, scratch_key: str, output: ChunkOutput) -> BlobRef:
    """The checkpoint the GPU PUT, as a blob; RemoteBadAnswer when it is not what the GPU reported."""
    stored = store.adopt_scratch(scratch_key, ARTIFACT_MAX_BYTES)
    if stored.sha256 != output.checkpoint_sha256:
        raise RemoteBadAnswer(
            f"The checkpoint stored by the rented GPU has sha256 {stored.sha256[:12]}…, but the GPU "
            f"reported {output.checkpoint_sha256[:12]}…. Train again."
        )
    return stored


def _relay(inputs: ChunkInputs, keep_alive: Callable[[], None]) -> Callable[[RemoteUpdate], None]:
    """Each new remote step becomes the job's TrainingProgress; a poll without one keeps the job alive."""
    last_step = [-1]

    def relay(update: RemoteUpdate) -> None:
        progress = update.progress
        if progress is None or progress.step <= last_step[0]:
            keep_alive()
            return
        last_step[0] = progress.step
        remaining = max(0, progress.total_steps - progress.step)
        inputs.progress(
            TrainingProgress(
                stage="train",
                done=progress.step,
                total=progress.total_steps,
                epoch=progress.epoch,
                losses=progress.losses,
                seconds_per_step=progress.seconds_per_step,
                eta_s=remaining * progress.seconds_per_step,
            )
        )

    return relay


def _steps_from_log(store: PresigningStore, log_key: str, output: ChunkOutput) -> tuple[StepLosses, ...]:
    """Each step's losses from the chunk's log; only the last step's (from the output) if the log is amiss."""
    fallback = (StepLosses(output.step, output.losses),) if output.losses else ()
    try:
        log = store.adopt_scratch(log_key, LOG_MAX_BYTES)
    except StorageError as error:  # a chunk without its log still trained; the chart just has a gap
        _LOG.warning("the chunk's log did not arrive: %s", error.message)
        return fallback
    try:
        with store.open(log.key) as source:
            steps = json.loads(source.read().decode("utf-8"))["steps"]
        return tuple(
            StepLosses(
                int(s["step"]),
                {str(k): float(v) for k, v in s["losses"].items() if math.isfinite(float(v))},
            )
            for s in steps
        )
    except (KeyError, TypeError, ValueError, UnicodeDecodeError) as error:
        _LOG.warning("the chunk's log is unreadable: %s", error)
        return fallback
    finally:
        store.delete(log.key)


def _sha256_of_key(key: str) -> str | None:
    match = BLOB_KEY_PATTERN.fullmatch(key)
    return match.group(3) if match else None
