"""The rented-GPU service a studio is configured for (`VOICESTUDIO_GPU_BACKEND`), from its settings."""

from typing import TYPE_CHECKING

from voicestudio.remote.errors import RemoteGpuError
from voicestudio.remote.gpu import PollTiming, RemoteGpu
from voicestudio.remote.modal import ModalEndpoint
from voicestudio.remote.runpod import RunPodEndpoint
from voicestudio.remote.transport import DEFAULT_RETRY, RetryPolicy

if TYPE_CHECKING:
    from voicestudio.settings import StudioSettings


def open_remote_gpu(settings: "StudioSettings", retry: RetryPolicy = DEFAULT_RETRY) -> RemoteGpu:
    """The client of `settings.gpu_backend` (runpod or modal); RemoteGpuError for `worker`, or no key."""
    timing = PollTiming(poll_interval_s=settings.remote_poll_interval_s, timeout_s=settings.remote_timeout_s)
    if settings.gpu_backend == "runpod" and settings.runpod_endpoint_url:
        key = settings.runpod_api_key.get_secret_value() if settings.runpod_api_key else ""
        return RemoteGpu(RunPodEndpoint(settings.runpod_endpoint_url, key, retry), timing)
    if settings.gpu_backend == "modal" and settings.modal_endpoint_url:
        token = settings.modal_token.get_secret_value() if settings.modal_token else ""
        return RemoteGpu(ModalEndpoint(settings.modal_endpoint_url, token, retry), timing)
    raise RemoteGpuError(
        f"gpu_backend is {settings.gpu_backend!r}: training runs on this studio's own workers. Set "
        "VOICESTUDIO_GPU_BACKEND to runpod or modal (with its endpoint URL and key) to rent GPUs."
    )
