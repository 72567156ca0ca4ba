"""Rented-GPU tests: a tiny prepared dataset (as a tar, in the blob store), fakes of RunPod and Modal on
loopback, and a real S3 server (SeaweedFS) whose presigned URLs carry every file in and out."""

from collections.abc import Iterator
from pathlib import Path

import pytest

from fixtures.speech import espeak_takes
from remote.fakes import FakeModal, FakeRunPod, serving
from voicestudio.domain.language import Language
from voicestudio.neural.chunk import pack_dataset
from voicestudio.neural.dataset import prepare_dataset
from voicestudio.storage.s3 import S3BlobStore
from voicestudio.studio.training_state import store_file

SENTENCES = (
    "The quick brown fox jumps over the lazy dog.",
    "She sells sea shells by the sea shore.",
    "A stitch in time saves nine.",
    "Every cloud has a silver lining.",
)
RUNPOD_KEY = "rp_test_key_0123456789"
MODAL_TOKEN = "modal-test-token-abcdef"


@pytest.fixture(scope="session")
def dataset_tar(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Four eSpeak sentences prepared as piper's training set (about 8 s), packed as the job packs it."""
    root = tmp_path_factory.mktemp("remote-dataset")
    dataset = prepare_dataset(espeak_takes(SENTENCES), Language.en, root / "dataset", min_duration_s=5.0)
    return pack_dataset(dataset, root / "dataset.tar")


@pytest.fixture
def store(fresh_s3_location: str) -> S3BlobStore:
    """The studio's S3 store on a real SeaweedFS server (a prefix of its own for each test)."""
    return S3BlobStore.from_location(fresh_s3_location)


@pytest.fixture
def dataset_key(store: S3BlobStore, dataset_tar: Path) -> str:
    """The dataset tar stored as the train job stores it."""
    return store_file(store, dataset_tar).key


@pytest.fixture
def runpod(tmp_path: Path) -> Iterator[FakeRunPod]:
    with serving(FakeRunPod(RUNPOD_KEY, tmp_path / "runpod-worker")) as service:
        assert isinstance(service, FakeRunPod)
        yield service


@pytest.fixture
def modal(tmp_path: Path) -> Iterator[FakeModal]:
    with serving(FakeModal(MODAL_TOKEN, tmp_path / "modal-worker")) as service:
        assert isinstance(service, FakeModal)
        yield service
