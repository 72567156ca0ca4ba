"""An operator points the studio at a rented GPU: the settings pick the client, and each misstep gets a
message that names the setting to fix."""

import urllib.error
from email.message import Message
from pathlib import Path

import pytest
from pydantic import SecretStr

from voicestudio.remote import ChunkInput, RemoteGpuError
from voicestudio.remote.chunk_runner import presigning
from voicestudio.remote.errors import RemoteInputError, without_secrets
from voicestudio.remote.factory import open_remote_gpu
from voicestudio.remote.gpu import readable_error
from voicestudio.remote.modal import ModalEndpoint
from voicestudio.remote.runpod import RunPodEndpoint
from voicestudio.remote.transport import RetryPolicy, TryAgain, with_retries
from voicestudio.settings import StudioSettings
from voicestudio.storage.local import LocalBlobStore


def test_the_settings_choose_runpod_with_their_poll_interval_and_timeout(tmp_path: Path) -> None:
    settings = StudioSettings(
        data_dir=tmp_path,
        gpu_backend="runpod",
        runpod_endpoint_url="https://api.runpod.ai/v2/abc123/",
        runpod_api_key=SecretStr("rp_secret"),
        remote_poll_interval_s=2.5,
        remote_timeout_s=900,
    )

    gpu = open_remote_gpu(settings)

    assert isinstance(gpu.service, RunPodEndpoint) and gpu.service.endpoint_id == "abc123"
    assert (gpu.timing.poll_interval_s, gpu.timing.timeout_s) == (2.5, 900)
    assert "rp_secret" not in repr(gpu.service) and "rp_secret" not in repr(gpu.service._http)


def test_the_settings_choose_modal(tmp_path: Path) -> None:
    settings = StudioSettings(
        data_dir=tmp_path,
        gpu_backend="modal",
        modal_endpoint_url="https://team--voicestudio-train-web.modal.run",
        modal_token=SecretStr("tok"),
    )

    assert isinstance(open_remote_gpu(settings).service, ModalEndpoint)


def test_a_missing_key_or_a_worker_backend_is_refused_with_the_setting_to_fix(tmp_path: Path) -> None:
    no_key = StudioSettings(
        data_dir=tmp_path, gpu_backend="runpod", runpod_endpoint_url="https://api.runpod.ai/v2/abc123"
    )
    with pytest.raises(RemoteGpuError, match="VOICESTUDIO_RUNPOD_API_KEY"):
        open_remote_gpu(no_key)
    with pytest.raises(RemoteGpuError, match="VOICESTUDIO_GPU_BACKEND"):
        open_remote_gpu(StudioSettings(data_dir=tmp_path))


def test_a_studio_with_local_files_is_told_rented_gpus_need_s3(tmp_path: Path) -> None:
    with pytest.raises(RemoteGpuError, match="s3://"):
        presigning(LocalBlobStore(tmp_path))


def test_a_chunk_input_keeps_presigned_urls_byte_for_byte_and_refuses_other_schemes() -> None:
    url = "https://bucket.s3.amazonaws.com/a%2Fb?X-Amz-Signature=ab%3D&X-Amz-Expires=600"
    chunk = ChunkInput(dataset_url=url, settings={}, until_step=5, output_checkpoint_url=url)

    assert ChunkInput.model_validate_json(chunk.model_dump_json()).dataset_url == url
    with pytest.raises(ValueError, match="http"):
        ChunkInput(dataset_url="file:///etc/passwd", settings={}, until_step=5, output_checkpoint_url=url)
    assert without_secrets(url) == "https://bucket.s3.amazonaws.com/a%2Fb"


def test_runpods_wrapped_handler_errors_read_as_one_sentence() -> None:
    wrapped = '{"error_type": "OSError", "error_message": "disk full", "error_traceback": "Traceback ..."}'

    assert readable_error(wrapped) == "disk full."
    assert readable_error("The dataset URL expired.\nTraceback (most recent call last)") == (
        "The dataset URL expired."
    )
    assert readable_error(None) == "it gave no reason."


def test_one_retry_loop_tries_transient_failures_again_and_gives_up_at_once_on_a_404() -> None:
    quick = RetryPolicy(attempts=3, first_delay_s=0.0, max_delay_s=0.0)
    tries: list[int] = []

    def flaky() -> str:
        tries.append(len(tries) + 1)
        if len(tries) < 3:
            raise TryAgain(f"it answered 503 (try {len(tries)})")
        return "stored"

    assert with_retries(flaky, quick, "upload of checkpoint", RemoteInputError) == "stored"
    assert tries == [1, 2, 3]

    def missing() -> str:
        tries.append(0)
        raise urllib.error.HTTPError("http://storage/x", 404, "Not Found", Message(), None)

    tries.clear()
    with pytest.raises(RemoteInputError, match="answered 404 Not Found"):
        with_retries(missing, quick, "download of dataset", RemoteInputError)
    assert tries == [0]  # a 404 is not tried again

    def always_busy() -> str:
        raise TryAgain("it answered 503 busy")

    with pytest.raises(RemoteInputError, match="503 busy"):
        with_retries(always_busy, quick, "download of dataset", RemoteInputError)
