"""One training chunk on a rented GPU, as JSON: what the studio sends, what the endpoint reports back.

Files never travel in the JSON: the dataset and checkpoints move through presigned S3 URLs, so the
request stays a few kilobytes and the endpoint needs no storage credentials.
"""

from enum import StrEnum
from typing import Any, Final, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

CONTRACT_VERSION: Final = 1
SHA256_PATTERN: Final = r"^[0-9a-f]{64}$"


def _http_url(value: str) -> str:
    """Keep a presigned URL byte for byte (re-encoding would break its signature); only check its scheme."""
    if not value.startswith(("http://", "https://")):
        raise ValueError("must be an http(s) URL")
    return value


class ChunkInput(BaseModel):
    """A request to train one chunk: resume from `checkpoint_url` (none on the first chunk) up to
    `until_step`, then PUT the new checkpoint to `output_checkpoint_url`."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    contract_version: Literal[1] = CONTRACT_VERSION
    dataset_url: str  # presigned GET of the prepared dataset as a tar (neural.chunk.pack_dataset)
    dataset_sha256: str | None = Field(
        default=None, pattern=SHA256_PATTERN
    )  # checked; a warm worker reuses it
    checkpoint_url: str | None = None  # presigned GET of the checkpoint to resume from
    checkpoint_sha256: str | None = Field(default=None, pattern=SHA256_PATTERN)  # checked when given
    settings: dict[str, Any]  # the training settings JSON (neural.chunk.settings_to_json)
    until_step: int = Field(ge=1)  # stop after this optimizer step (capped at settings' total steps)
    output_checkpoint_url: str  # presigned PUT for the checkpoint after the chunk
    output_log_url: str | None = None  # presigned PUT for the chunk's per-step log (JSON), optional

    _check_urls = field_validator("dataset_url", "output_checkpoint_url")(_http_url)

    @field_validator("checkpoint_url", "output_log_url")
    @classmethod
    def _optional_url(cls, value: str | None) -> str | None:
        return None if value is None else _http_url(value)


class ChunkProgress(BaseModel):
    """One finished step on the remote GPU, as the endpoint reports it while the chunk runs."""

    model_config = ConfigDict(frozen=True)

    step: int = Field(ge=0)
    until_step: int = Field(ge=0)
    total_steps: int = Field(ge=0)
    epoch: int = 0
    losses: dict[str, float] = Field(default_factory=dict)
    seconds_per_step: float = 0.0


class ChunkOutput(BaseModel):
    """What a finished chunk returns: the step its checkpoint holds, whether the run is complete, the last
    losses, the time it took (s) and where it ran; the checkpoint itself is at `output_checkpoint_url`."""

    model_config = ConfigDict(frozen=True)

    contract_version: Literal[1] = CONTRACT_VERSION
    step: int = Field(ge=0)
    done: bool  # True once `step` reached the settings' total steps: no further chunk is needed
    losses: dict[str, float] = Field(default_factory=dict)
    epoch: int = 0
    seconds_per_step: float = 0.0  # the smoothed pace at the chunk's last step
    wall_s: float = Field(ge=0)  # download + training + upload, as the endpoint measured it
    train_s: float = Field(default=0.0, ge=0)  # the training alone
    device: str  # "cuda" or "cpu"
    gpu_name: str | None = None  # e.g. "NVIDIA H100 80GB HBM3"; None on a CPU
    checkpoint_bytes: int = Field(ge=0)
    checkpoint_sha256: str = Field(pattern=SHA256_PATTERN)


class RemoteState(StrEnum):
    """Where a submitted chunk is, in the studio's words; each service's own states map onto these."""

    queued = "queued"
    running = "running"
    completed = "completed"
    failed = "failed"
    cancelled = "cancelled"
    timed_out = "timed_out"

    @property
    def finished(self) -> bool:
        return self not in (RemoteState.queued, RemoteState.running)


class RemoteStatus(BaseModel):
    """One poll of a submitted chunk: its state, the newest progress, and the output or error at the end."""

    model_config = ConfigDict(frozen=True)

    run_id: str
    state: RemoteState
    progress: ChunkProgress | None = None
    output: ChunkOutput | None = None
    error: str | None = None
    queued_s: float | None = None  # time spent waiting for a worker, when the service says
    execution_s: float | None = None  # time spent running, when the service says


class RemoteUpdate(BaseModel):
    """What `run_chunk` tells its progress callback after each poll."""

    model_config = ConfigDict(frozen=True)

    service: str  # "runpod" or "modal"
    run_id: str
    state: RemoteState
    elapsed_s: float  # since submission, on the studio's clock
    progress: ChunkProgress | None = None
