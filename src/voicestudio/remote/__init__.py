"""Rented GPUs: training chunks on RunPod serverless or a Modal web endpoint, submitted and polled over HTTP.

Inputs and outputs travel through presigned S3 URLs (`contract`); `handler` is what runs on the GPU.
"""

from voicestudio.remote.contract import (
    ChunkInput,
    ChunkOutput,
    ChunkProgress,
    RemoteState,
    RemoteStatus,
    RemoteUpdate,
)
from voicestudio.remote.errors import (
    RemoteAuthRejected,
    RemoteBadAnswer,
    RemoteGpuError,
    RemoteInputError,
    RemoteRunCancelled,
    RemoteRunFailed,
    RemoteTimedOut,
    RemoteUnreachable,
)
from voicestudio.remote.factory import open_remote_gpu
from voicestudio.remote.gpu import PollTiming, RemoteGpu, RemoteService

__all__ = [
    "ChunkInput",
    "ChunkOutput",
    "ChunkProgress",
    "PollTiming",
    "RemoteAuthRejected",
    "RemoteBadAnswer",
    "RemoteGpu",
    "RemoteGpuError",
    "RemoteInputError",
    "RemoteRunCancelled",
    "RemoteRunFailed",
    "RemoteService",
    "RemoteState",
    "RemoteStatus",
    "RemoteTimedOut",
    "RemoteUnreachable",
    "RemoteUpdate",
    "open_remote_gpu",
]
