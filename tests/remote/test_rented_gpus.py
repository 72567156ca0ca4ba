"""An operator trains voices on rented GPUs: each chunk goes to RunPod or Modal (here: local fakes that speak
their HTTP contracts and run the real training chunk), with every file passing through presigned URLs."""

from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any, BinaryIO, cast

import pytest

from remote.conftest import MODAL_TOKEN, RUNPOD_KEY
from remote.fakes import FakeModal, FakeRunPod, FakeService
from voicestudio.domain.language import Language
from voicestudio.jobs import JobCancelled
from voicestudio.neural.checkpoints import read_checkpoint, sha256_of
from voicestudio.neural.values import TrainingProgress, TrainingSettings
from voicestudio.remote import (
    ChunkInput,
    ChunkOutput,
    PollTiming,
    RemoteAuthRejected,
    RemoteBadAnswer,
    RemoteGpu,
    RemoteRunCancelled,
    RemoteRunFailed,
    RemoteState,
    RemoteTimedOut,
    RemoteUnreachable,
)
from voicestudio.remote.chunk_runner import remote_chunk_runner
from voicestudio.remote.modal import ModalEndpoint
from voicestudio.remote.runpod import RunPodEndpoint
from voicestudio.remote.transport import RetryPolicy
from voicestudio.storage.blobs import BlobRef, BlobStore, iter_chunks
from voicestudio.storage.s3 import S3BlobStore
from voicestudio.studio import voice_training
from voicestudio.studio.training_state import MANIFEST_MAX_BYTES, load_training_state
from voicestudio.studio.voice_training import SavedState
from voicestudio.studio.voices import TrainingLog
from voicestudio.training_chunks import ChunkInputs, TrainedChunk, fetch_blob

TINY = TrainingSettings(preset="tiny", steps=4, batch_size=2, device="cpu", checkpoint_every_steps=100)
QUICK_RETRY = RetryPolicy(attempts=4, first_delay_s=0.01, max_delay_s=0.05, request_timeout_s=30.0)
WAIT = PollTiming(poll_interval_s=0.02, timeout_s=600.0, cancel_polls=50)
SERVICES = ("runpod", "modal")


def gpu_of(fake: FakeService, *, secret: str | None = None, timing: PollTiming = WAIT) -> RemoteGpu:
    """The studio's client for the fake, as `open_remote_gpu` builds it from the settings."""
    if isinstance(fake, FakeRunPod):
        return RemoteGpu(RunPodEndpoint(fake.endpoint_url, secret or RUNPOD_KEY, QUICK_RETRY), timing)
    assert isinstance(fake, FakeModal)
    return RemoteGpu(ModalEndpoint(fake.endpoint_url, secret or MODAL_TOKEN, QUICK_RETRY), timing)


@pytest.fixture(params=SERVICES)
def fake(request: pytest.FixtureRequest) -> FakeService:
    """Each story runs against both services."""
    service: FakeService = request.getfixturevalue(request.param)
    return service


def chunk(
    store: BlobStore,
    dataset_key: str,
    work_dir: Path,
    until_step: int,
    checkpoint_key: str | None = None,
    progress: Callable[[TrainingProgress], None] = lambda _: None,
) -> ChunkInputs:
    """One chunk of a tiny four-step run, as the train job hands it to its chunk runner."""
    return ChunkInputs(
        blobs=store,
        dataset_key=dataset_key,
        checkpoint_key=checkpoint_key,
        settings=TINY,
        until_step=until_step,
        work_dir=work_dir,
        progress=progress,
        on_checkpoint=lambda _path, _step: None,
    )


def test_a_chunk_trains_on_the_rented_gpu_and_its_checkpoint_arrives_in_the_bucket(
    fake: FakeService, store: S3BlobStore, dataset_key: str, tmp_path: Path
) -> None:
    seen: list[TrainingProgress] = []
    reports: list[ChunkOutput] = []
    run = remote_chunk_runner(gpu_of(fake), on_output=reports.append)

    outcome = run(chunk(store, dataset_key, tmp_path / "job", 2, progress=seen.append))

    assert isinstance(outcome.checkpoint, BlobRef) and store.exists(outcome.checkpoint.key)
    assert list((tmp_path / "job").rglob("*.ckpt*")) == []  # the worker downloaded nothing
    copy = fetch_blob(store, outcome.checkpoint.key, tmp_path / "copy.ckpt")
    assert outcome.step == 2 and read_checkpoint(copy).step == 2
    assert outcome.checkpoint.size_bytes == copy.stat().st_size > 1_000_000
    (report,) = reports
    assert report.checkpoint_sha256 == outcome.checkpoint.sha256 == sha256_of(copy) and report.done is False
    assert report.device == "cpu" and report.gpu_name is None and report.wall_s >= report.train_s > 0
    service = "runpod" if isinstance(fake, FakeRunPod) else "modal"
    assert outcome.device == f"cpu on {service}"  # what the model card names as the device
    assert [s.step for s in outcome.steps] == [1, 2]  # each step's losses, from the chunk's log
    assert {"loss_g", "loss_d"} <= set(outcome.steps[-1].losses)
    assert seen and seen[-1].step == 2 and seen[-1].total == 4  # progress counts towards the whole run
    (remote_run,) = fake.runs.values()
    assert remote_run.state is RemoteState.completed and remote_run.steps_seen == [1, 2]


def test_the_next_chunk_resumes_from_the_stored_checkpoint_on_the_dataset_the_worker_kept(
    runpod: FakeRunPod, store: S3BlobStore, dataset_key: str, tmp_path: Path
) -> None:
    run = remote_chunk_runner(gpu_of(runpod))
    first = run(chunk(store, dataset_key, tmp_path / "first", 2))
    assert isinstance(first.checkpoint, BlobRef)
    store.delete(dataset_key)  # a warm worker must not need it again

    second = run(chunk(store, dataset_key, tmp_path / "second", 3, checkpoint_key=first.checkpoint.key))

    assert isinstance(second.checkpoint, BlobRef)
    assert (
        second.step == 3
        and read_checkpoint(fetch_blob(store, second.checkpoint.key, tmp_path / "c")).step == 3
    )
    assert [s.step for s in second.steps] == [3]
    assert runpod.policies == [{"executionTimeout": 600_000}] * 2  # RunPod's 10-minute default is lifted


class CountingStore:
    """The S3 store, counting the bytes this process puts into it and the blobs it reads back."""

    def __init__(self, inner: S3BlobStore) -> None:
        self.inner = inner
        self.put_bytes = 0
        self.opened: list[str] = []

    def put_stream(self, chunks: Iterable[bytes] | BinaryIO, max_bytes: int) -> BlobRef:
        def counted() -> Iterator[bytes]:
            for piece in iter_chunks(chunks):
                self.put_bytes += len(piece)
                yield piece

        return self.inner.put_stream(counted(), max_bytes)

    def open(self, key: str) -> BinaryIO:
        self.opened.append(key)
        return self.inner.open(key)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


def test_the_job_keeps_the_checkpoint_the_gpu_stored_without_downloading_or_uploading_it(
    runpod: FakeRunPod, store: S3BlobStore, dataset_key: str, tmp_path: Path
) -> None:
    counting = CountingStore(store)
    blobs = cast(BlobStore, counting)
    recorded: list[str] = []
    saved = SavedState(blobs, recorded.append, None)
    saved.start(dataset_key)
    before = counting.put_bytes

    trained = remote_chunk_runner(gpu_of(runpod))(chunk(blobs, dataset_key, tmp_path / "job", 2))
    saved.keep_chunk(trained)

    assert isinstance(trained.checkpoint, BlobRef) and trained.checkpoint.size_bytes > 1_000_000
    assert (saved.current.checkpoint_key, saved.current.step) == (trained.checkpoint.key, 2)
    assert 0 < counting.put_bytes - before < MANIFEST_MAX_BYTES  # only the new manifest went up
    assert trained.checkpoint.key not in counting.opened  # read back: only the chunk's small log
    assert list((tmp_path / "job").rglob("*.ckpt*")) == [] and recorded[-1] == saved.key
    assert load_training_state(store, recorded[-1]).checkpoint_key == trained.checkpoint.key
    saved.keep_chunk(trained)  # kept already: nothing more is stored
    assert len(recorded) == 2


def test_a_refused_call_names_the_setting_to_check(fake: FakeService) -> None:
    with pytest.raises(RemoteBadAnswer) as raised:
        gpu_of(fake).service.status("fc-nosuchrun" if isinstance(fake, FakeModal) else "nosuchrun")

    message = raised.value.message
    setting = (
        "VOICESTUDIO_RUNPOD_ENDPOINT_URL"
        if isinstance(fake, FakeRunPod)
        else "VOICESTUDIO_MODAL_ENDPOINT_URL"
    )
    assert "could not read the status of" in message and "not found (404: " in message
    assert setting in message and fake.url in message


def test_a_burst_of_5xx_is_retried_and_the_chunk_still_completes(
    fake: FakeService, store: S3BlobStore, dataset_key: str, tmp_path: Path
) -> None:
    fake.fail_next = 3

    outcome = remote_chunk_runner(gpu_of(fake))(chunk(store, dataset_key, tmp_path / "job", 1))

    assert outcome.step == 1
    statuses = [r.status for r in fake.requests]
    assert statuses[:4] == [503, 503, 503, 202 if isinstance(fake, FakeModal) else 200]
    assert len(fake.runs) == 1  # the refused submissions started nothing


def test_a_chunk_no_worker_picks_up_times_out_with_advice_and_is_cancelled(
    fake: FakeService, store: S3BlobStore, dataset_key: str, tmp_path: Path
) -> None:
    fake.stall = True
    impatient = PollTiming(poll_interval_s=0.02, timeout_s=0.2, cancel_polls=5)

    with pytest.raises(RemoteTimedOut) as raised:
        remote_chunk_runner(gpu_of(fake, timing=impatient))(chunk(store, dataset_key, tmp_path / "job", 2))

    assert "did not finish within 0.2 s" in raised.value.message
    assert "waiting for a worker" in raised.value.message and "max workers" in raised.value.message
    (remote_run,) = fake.runs.values()
    assert remote_run.state is RemoteState.cancelled and remote_run.cancel_requested.is_set()
    assert any(r.path.endswith(remote_run.id) and r.method in ("POST", "DELETE") for r in fake.requests)


def test_a_user_cancel_cancels_the_remote_run_and_the_training_stops(
    fake: FakeService, store: S3BlobStore, dataset_key: str, tmp_path: Path
) -> None:
    fake.hold_at_step = 1  # the remote chunk waits after its first step, so the cancel lands mid-run

    def user_cancels(progress: TrainingProgress) -> None:
        raise JobCancelled  # what JobContext.progress raises once the user pressed cancel

    with pytest.raises(JobCancelled):
        remote_chunk_runner(gpu_of(fake))(
            chunk(store, dataset_key, tmp_path / "job", 4, progress=user_cancels)
        )

    (remote_run,) = fake.runs.values()
    assert remote_run.finished.wait(60)
    assert remote_run.state is RemoteState.cancelled
    assert remote_run.stopped_by_cancel and remote_run.steps_seen == [1]  # no step after the cancel
    assert remote_run.output is None


def test_a_chunk_that_fails_on_the_gpu_reports_the_endpoints_own_message(
    fake: FakeService, store: S3BlobStore, dataset_key: str, tmp_path: Path
) -> None:
    store.delete(dataset_key)  # the presigned GET now answers 404

    with pytest.raises(RemoteRunFailed) as raised:
        remote_chunk_runner(gpu_of(fake))(chunk(store, dataset_key, tmp_path / "job", 2))

    message = raised.value.message
    assert "Could not download the dataset" in message and "404" in message
    assert "Signature" not in message  # presigned URLs are credentials: never in a message
    (remote_run,) = fake.runs.values()
    assert remote_run.state is RemoteState.failed


def test_a_wrong_key_gets_a_clear_message_that_does_not_repeat_the_key(
    fake: FakeService, store: S3BlobStore, dataset_key: str, tmp_path: Path
) -> None:
    with pytest.raises(RemoteAuthRejected) as raised:
        remote_chunk_runner(gpu_of(fake, secret="not-the-key-42"))(
            chunk(store, dataset_key, tmp_path / "j", 1)
        )

    message = raised.value.message
    setting = "VOICESTUDIO_RUNPOD_API_KEY" if isinstance(fake, FakeRunPod) else "VOICESTUDIO_MODAL_TOKEN"
    assert "(401)" in message and setting in message
    assert "not-the-key-42" not in message
    assert fake.runs == {} and [r.status for r in fake.requests] == [401]


def test_an_endpoint_that_never_answers_is_reported_after_a_bounded_number_of_tries(
    store: S3BlobStore, dataset_key: str, tmp_path: Path
) -> None:
    closed = RunPodEndpoint("http://127.0.0.1:9/v2/nowhere", RUNPOD_KEY, QUICK_RETRY)  # discard port

    with pytest.raises(RemoteUnreachable) as raised:
        remote_chunk_runner(RemoteGpu(closed, WAIT))(chunk(store, dataset_key, tmp_path / "job", 1))

    assert "did not answer after 4 tries" in raised.value.message


def test_a_run_the_service_itself_stopped_or_cancelled_says_so(
    fake: FakeService, store: S3BlobStore, dataset_key: str, tmp_path: Path
) -> None:
    fake.end_as = RemoteState.timed_out
    with pytest.raises(RemoteTimedOut, match="service's own time limit") as raised:
        remote_chunk_runner(gpu_of(fake))(chunk(store, dataset_key, tmp_path / "a", 2))
    assert "VOICESTUDIO_TRAINING_CHUNK_STEPS" in raised.value.message

    fake.end_as = RemoteState.cancelled
    with pytest.raises(RemoteRunCancelled, match="cancelled on the service's side"):
        remote_chunk_runner(gpu_of(fake))(chunk(store, dataset_key, tmp_path / "b", 2))
    assert [r.state for r in fake.runs.values()] == [RemoteState.timed_out, RemoteState.cancelled]


def test_a_caller_that_asks_to_stop_gets_the_remote_run_cancelled(fake: FakeService) -> None:
    fake.stall = True
    polls: list[RemoteState] = []
    request = ChunkInput(
        dataset_url="http://127.0.0.1:9/dataset.tar",
        settings={},
        until_step=2,
        output_checkpoint_url="http://127.0.0.1:9/out.ckpt",
    )

    with pytest.raises(RemoteRunCancelled, match="cancelled as asked"):
        gpu_of(fake).run_chunk(request, lambda update: polls.append(update.state), lambda: len(polls) >= 2)

    assert polls == [RemoteState.queued, RemoteState.queued]
    (remote_run,) = fake.runs.values()
    assert remote_run.state is RemoteState.cancelled


def test_the_model_card_names_the_rented_gpu_rather_than_the_worker_that_waited_for_it(
    tmp_path: Path,
) -> None:
    project = voice_training._ProjectInputs("Robin Reads", Language.en, None, ())
    log = TrainingLog("cpu")  # the worker's own device
    blob = BlobRef("sha256/ab/cd/" + "abcd" * 16, 1_000_000, "abcd" * 16)
    rented = TrainedChunk(4, 1, blob, (), device="NVIDIA H100 80GB HBM3 on runpod")
    here = TrainedChunk(4, 1, tmp_path / "last.ckpt", ())

    def card(trained: TrainedChunk | None) -> object:
        return voice_training._model_card(project, "p1", "j1", 4, log, trained)["device"]

    assert card(rented) == "NVIDIA H100 80GB HBM3 on runpod"
    assert card(here) == "cpu" and card(None) == "cpu"
