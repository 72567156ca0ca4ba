"""A singer's uploads land whole or not at all, once per content, in a local folder and in S3 alike."""

import hashlib
import io
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from services.seaweed import SeaweedServer, s3_client
from voicestudio.errors import VoicestudioError
from voicestudio.storage import (
    BlobNotFound,
    BlobRef,
    BlobStore,
    BlobTooLarge,
    InvalidBlobKey,
    open_blob_store,
)

TAKE = bytes(range(256)) * 4096  # 1 MiB standing in for a recorded take
LIMIT = 8 * len(TAKE)


@dataclass(frozen=True)
class StoreUnderTest:
    """A store and a way to see every object it holds, temporaries included."""

    store: BlobStore
    everything: Callable[[], list[str]]


def in_chunks(data: bytes, size: int = 64 * 1024) -> Iterator[bytes]:
    for start in range(0, len(data), size):
        yield data[start : start + size]


def local_store(tmp_path: Path) -> StoreUnderTest:
    root = tmp_path / "blobs"
    return StoreUnderTest(
        open_blob_store(root),
        lambda: sorted(path.relative_to(root).as_posix() for path in root.rglob("*") if path.is_file()),
    )


def s3_store(seaweed: SeaweedServer, location: str) -> StoreUnderTest:
    bucket, rest = location.removeprefix("s3://").split("/", 1)
    prefix = rest.split("?", 1)[0] + "/"
    client = s3_client(seaweed)

    def everything() -> list[str]:
        listed = client.list_objects_v2(Bucket=bucket, Prefix=prefix).get("Contents", [])
        return sorted(item["Key"].removeprefix(prefix) for item in listed)

    return StoreUnderTest(open_blob_store(location), everything)


@pytest.fixture(params=["local", "s3"])
def under_test(request: pytest.FixtureRequest, tmp_path: Path) -> StoreUnderTest:
    if request.param == "local":
        return local_store(tmp_path)
    return s3_store(request.getfixturevalue("seaweed"), request.getfixturevalue("fresh_s3_location"))


def test_an_upload_is_stored_under_its_sha256_and_reads_back_whole(under_test: StoreUnderTest) -> None:
    store = under_test.store
    ref = store.put_stream(in_chunks(TAKE), max_bytes=LIMIT)
    digest = hashlib.sha256(TAKE).hexdigest()
    assert ref == BlobRef(
        key=f"sha256/{digest[:2]}/{digest[2:4]}/{digest}", size_bytes=1_048_576, sha256=digest
    )
    assert store.exists(ref.key)
    assert store.read(ref.key) == TAKE
    assert under_test.everything() == [ref.key]
    assert list(store.list_keys()) == [ref]


def test_a_file_object_streams_like_chunks(under_test: StoreUnderTest) -> None:
    store = under_test.store
    from_file = store.put_stream(io.BytesIO(TAKE), max_bytes=LIMIT)
    with store.open(from_file.key) as blob:
        assert blob.read(3) == b"\x00\x01\x02"
        assert len(blob.read()) == len(TAKE) - 3
    assert from_file == store.put_stream([TAKE[:10], TAKE[10:]], max_bytes=LIMIT)


def test_identical_content_is_kept_once(under_test: StoreUnderTest) -> None:
    store = under_test.store
    first = store.put_stream(in_chunks(TAKE), max_bytes=LIMIT)
    second = store.put_stream(in_chunks(TAKE, 1000), max_bytes=LIMIT)
    other = store.put_stream([b"another take"], max_bytes=LIMIT)
    assert first == second
    assert under_test.everything() == sorted([first.key, other.key])
    assert sorted(ref.key for ref in store.list_keys()) == sorted([first.key, other.key])


def test_a_blob_says_when_it_was_stored_and_a_missing_one_says_none(under_test: StoreUnderTest) -> None:
    store = under_test.store
    before = datetime.now(UTC) - timedelta(minutes=1)  # S3 keeps whole seconds; clocks may differ a little
    ref = store.put_stream([b"a take"], max_bytes=LIMIT)
    stamp = store.modified_at(ref.key)
    assert stamp is not None and stamp.tzinfo is not None
    assert before <= stamp <= datetime.now(UTC) + timedelta(minutes=1)
    store.delete(ref.key)
    assert store.modified_at(ref.key) is None


def test_an_upload_over_the_limit_leaves_nothing_and_says_the_limit(under_test: StoreUnderTest) -> None:
    store = under_test.store
    with pytest.raises(BlobTooLarge) as refused:
        store.put_stream(in_chunks(TAKE), max_bytes=500_000)
    assert isinstance(refused.value, VoicestudioError)
    assert "500.0 kB" in refused.value.message
    assert under_test.everything() == []
    assert store.put_stream([TAKE[:500_000]], max_bytes=500_000).size_bytes == 500_000  # exactly the limit


def test_an_interrupted_upload_leaves_nothing(under_test: StoreUnderTest) -> None:
    def dropped_connection() -> Iterator[bytes]:
        yield TAKE[:100_000]
        raise ConnectionResetError("client went away")

    with pytest.raises(ConnectionResetError):
        under_test.store.put_stream(dropped_connection(), max_bytes=LIMIT)
    assert under_test.everything() == []


def test_concurrent_uploads_of_the_same_take_agree(under_test: StoreUnderTest) -> None:
    store = under_test.store
    refs = []
    start = threading.Barrier(6)

    def upload() -> None:
        start.wait()
        refs.append(store.put_stream(in_chunks(TAKE, 4096), max_bytes=LIMIT))

    threads = [threading.Thread(target=upload) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(refs) == 6
    assert len(set(refs)) == 1
    assert under_test.everything() == [refs[0].key]
    assert store.read(refs[0].key) == TAKE


def test_keys_that_are_not_content_addresses_are_refused(under_test: StoreUnderTest) -> None:
    store = under_test.store
    for key in ("../secret.txt", "sha256/../../secret.txt", "sha256/aa/bb/" + "0" * 64, "/etc/passwd", ""):
        for use in (store.read, store.open, store.exists, store.delete, store.download_target):
            with pytest.raises(InvalidBlobKey, match="not a blob key"):
                use(key)


def test_a_missing_blob_is_named_and_deleting_it_twice_is_fine(under_test: StoreUnderTest) -> None:
    store = under_test.store
    ref = store.put_stream([b"take"], max_bytes=100)
    store.delete(ref.key)
    store.delete(ref.key)
    assert not store.exists(ref.key)
    with pytest.raises(BlobNotFound, match="Upload it again"):
        store.read(ref.key)
    with pytest.raises(BlobNotFound, match=ref.key):
        store.open(ref.key)
    with pytest.raises(BlobNotFound):
        store.download_target(ref.key)
    assert under_test.everything() == []
    assert list(store.list_keys()) == []
