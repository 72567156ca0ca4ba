"""What only the one-machine store does: blobs are plain files the server sends as they are."""

import hashlib
import os
from datetime import UTC, datetime
from pathlib import Path

import pytest

from voicestudio.storage import LocalBlobStore, StorageError, open_blob_store
from voicestudio.storage.s3 import S3BlobStore

TAKE = bytes(range(256)) * 4096  # 1 MiB standing in for a recorded take


def files_under(root: Path) -> list[Path]:
    return sorted(path for path in root.rglob("*") if path.is_file())


def test_a_download_is_the_stored_file_itself(tmp_path: Path) -> None:
    store = LocalBlobStore(tmp_path)
    ref = store.put_stream([TAKE], max_bytes=len(TAKE))
    digest = hashlib.sha256(TAKE).hexdigest()
    assert store.download_target(ref.key) == tmp_path / "sha256" / digest[:2] / digest[2:4] / digest
    assert files_under(tmp_path) == [store.download_target(ref.key)]


def test_storing_known_bytes_again_makes_the_blob_young_again(tmp_path: Path) -> None:
    """Garbage collection spares young blobs: a re-upload must not look as old as the first one."""
    store = LocalBlobStore(tmp_path)
    ref = store.put_stream([TAKE], max_bytes=len(TAKE))
    long_ago = datetime(2020, 1, 1, tzinfo=UTC)
    os.utime(store.download_target(ref.key), (long_ago.timestamp(), long_ago.timestamp()))
    assert store.modified_at(ref.key) == long_ago
    assert store.put_stream([TAKE[:1000], TAKE[1000:]], max_bytes=len(TAKE)) == ref
    refreshed = store.modified_at(ref.key)
    assert refreshed is not None and refreshed.year >= 2026
    assert files_under(tmp_path) == [store.download_target(ref.key)]


def test_leftovers_of_a_killed_upload_are_swept(tmp_path: Path) -> None:
    store = LocalBlobStore(tmp_path)
    leftover = tmp_path / ".incoming" / "dead.part"
    leftover.parent.mkdir()
    leftover.write_bytes(b"half a take")
    assert store.remove_stale_temporaries(older_than_s=3600) == 0
    assert store.remove_stale_temporaries(older_than_s=-1) == 1
    assert files_under(tmp_path) == []


def test_a_folder_that_cannot_be_written_is_reported(tmp_path: Path) -> None:
    LocalBlobStore(tmp_path / "new").check()
    assert (tmp_path / "new").is_dir()
    (tmp_path / "taken").write_text("a file where the folder should be")
    with pytest.raises(StorageError, match="Check free disk space"):
        LocalBlobStore(tmp_path / "taken").check()


def test_the_configured_location_picks_the_store(tmp_path: Path) -> None:
    assert isinstance(open_blob_store(str(tmp_path)), LocalBlobStore)
    assert isinstance(open_blob_store(f"file://{tmp_path}"), LocalBlobStore)
    s3 = open_blob_store("s3://voices/studio-a?endpoint_url=http://127.0.0.1:9&region=eu-west-1")
    assert isinstance(s3, S3BlobStore)  # nothing is asked of the endpoint until the first request
    assert (s3.location.bucket, s3.location.prefix, s3.location.region) == (
        "voices",
        "studio-a/",
        "eu-west-1",
    )
    with pytest.raises(StorageError, match="ftp:// is not supported"):
        open_blob_store("ftp://example.org/voices")
