"""A singer's uploads land whole or not at all, once per content, however many arrive at the same moment."""

import hashlib
import io
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from voicestudio.errors import VoicestudioError
from voicestudio.storage import (
    BlobNotFound,
    BlobTooLarge,
    InvalidBlobKey,
    LocalBlobStore,
    StorageError,
    open_blob_store,
)

TAKE = bytes(range(256)) * 4096  # 1 MiB standing in for a recorded take
LIMIT = 8 * len(TAKE)


def files_under(root: Path) -> list[Path]:
    return sorted(path for path in root.rglob("*") if path.is_file())


def in_chunks(data: bytes, size: int = 64 * 1024) -> Iterator[bytes]:
    for start in range(0, len(data), size):
        yield data[start : start + size]


def test_an_upload_is_stored_under_its_sha256_and_reads_back_whole(tmp_path: Path) -> None:
    store = LocalBlobStore(tmp_path)
    ref = store.put_stream(in_chunks(TAKE), max_bytes=LIMIT)
    digest = hashlib.sha256(TAKE).hexdigest()
    assert ref.sha256 == digest
    assert ref.size_bytes == 1_048_576
    assert ref.key == f"sha256/{digest[:2]}/{digest[2:4]}/{digest}"
    assert store.exists(ref.key)
    assert store.read(ref.key) == TAKE
    assert store.download_target(ref.key) == tmp_path / "sha256" / digest[:2] / digest[2:4] / digest
    assert files_under(tmp_path) == [store.download_target(ref.key)]


def test_a_file_object_streams_like_chunks(tmp_path: Path) -> None:
    store = LocalBlobStore(tmp_path)
    from_file = store.put_stream(io.BytesIO(TAKE), max_bytes=LIMIT)
    with store.open(from_file.key) as blob:
        assert blob.read(3) == b"\x00\x01\x02"
    assert from_file == store.put_stream([TAKE[:10], TAKE[10:]], max_bytes=LIMIT)


def test_identical_content_is_kept_once(tmp_path: Path) -> None:
    store = LocalBlobStore(tmp_path)
    first = store.put_stream(in_chunks(TAKE), max_bytes=LIMIT)
    second = store.put_stream(in_chunks(TAKE, 1000), max_bytes=LIMIT)
    assert first == second
    assert len(files_under(tmp_path)) == 1


def test_an_upload_over_the_limit_leaves_nothing_and_says_the_limit(tmp_path: Path) -> None:
    store = LocalBlobStore(tmp_path)
    with pytest.raises(BlobTooLarge) as refused:
        store.put_stream(in_chunks(TAKE), max_bytes=500_000)
    assert isinstance(refused.value, VoicestudioError)
    assert "500.0 kB" in refused.value.message
    assert files_under(tmp_path) == []
    assert store.put_stream([TAKE[:500_000]], max_bytes=500_000).size_bytes == 500_000  # exactly the limit


def test_an_interrupted_upload_leaves_nothing(tmp_path: Path) -> None:
    def dropped_connection() -> Iterator[bytes]:
        yield TAKE[:100_000]
        raise ConnectionResetError("client went away")

    store = LocalBlobStore(tmp_path)
    with pytest.raises(ConnectionResetError):
        store.put_stream(dropped_connection(), max_bytes=LIMIT)
    assert files_under(tmp_path) == []


def test_concurrent_uploads_of_the_same_take_agree(tmp_path: Path) -> None:
    store = LocalBlobStore(tmp_path)
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
    assert files_under(tmp_path) == [store.download_target(refs[0].key)]
    assert store.read(refs[0].key) == TAKE


def test_keys_that_are_not_content_addresses_are_refused(tmp_path: Path) -> None:
    store = LocalBlobStore(tmp_path / "blobs")
    (tmp_path / "secret.txt").write_text("not yours")
    for key in ("../secret.txt", "sha256/../../secret.txt", "sha256/aa/bb/" + "0" * 64, "/etc/passwd"):
        with pytest.raises(InvalidBlobKey, match="not a blob key"):
            store.read(key)


def test_a_missing_blob_is_named_and_deleting_it_twice_is_fine(tmp_path: Path) -> None:
    store = LocalBlobStore(tmp_path)
    ref = store.put_stream([b"take"], max_bytes=100)
    store.delete(ref.key)
    store.delete(ref.key)
    assert not store.exists(ref.key)
    with pytest.raises(BlobNotFound, match="Upload it again"):
        store.read(ref.key)
    with pytest.raises(BlobNotFound):
        store.download_target(ref.key)


def test_leftovers_of_a_killed_upload_are_swept(tmp_path: Path) -> None:
    store = LocalBlobStore(tmp_path)
    leftover = tmp_path / ".incoming" / "dead.part"
    leftover.parent.mkdir()
    leftover.write_bytes(b"half a take")
    assert store.remove_stale_temporaries(older_than_s=3600) == 0
    assert store.remove_stale_temporaries(older_than_s=-1) == 1
    assert files_under(tmp_path) == []


def test_the_configured_location_picks_the_store(tmp_path: Path) -> None:
    assert isinstance(open_blob_store(str(tmp_path)), LocalBlobStore)
    assert isinstance(open_blob_store(f"file://{tmp_path}"), LocalBlobStore)
    with pytest.raises(StorageError, match="s3:// is not supported yet"):
        open_blob_store("s3://bucket/voices")
